"""The plain Splink baseline that ``evaluate`` reports beside Avellino's model.

Deliberately what a competent first Splink user would write: Jaro-Winkler levels on each name column as given
(lower-cased), Levenshtein levels on the date of birth as written, EM-trained, blocked on each of those
columns. Nothing of Avellino's name handling, identifiers or other roles.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from avellino.resolve.model import DEFAULT_THRESHOLD, PAIRS_PER_RECORD_BUDGET
from avellino.resolve.pipeline import scored_pairs

BASE_NAME_ROLES = ("given_name", "surname", "full_name")


def baseline_table(
    df: pd.DataFrame, roles: Mapping[str, str], id_column: str, source_column: str | None
) -> pd.DataFrame:
    out = pd.DataFrame({"unique_id": df[id_column].astype("string")})
    if source_column:
        out["source_dataset"] = df[source_column].astype("string").fillna("unknown")
    for role in BASE_NAME_ROLES + ("dob",):
        if role in roles:
            out[role] = df[roles[role]].astype("string").str.strip().str.lower().replace("", pd.NA)
    return out


def score_table(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    id_column: str,
    source_column: str | None = None,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, int, float]:
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl

    logging.getLogger("splink").setLevel(logging.ERROR)
    table = baseline_table(df, roles, id_column, source_column)
    names = [r for r in BASE_NAME_ROLES if r in table and table[r].notna().any()]
    has_dob = "dob" in table and table["dob"].notna().any()
    comparisons: list[Any] = [cl.JaroWinklerAtThresholds(r, [0.9, 0.7]) for r in names]
    if has_dob:
        comparisons.append(cl.LevenshteinAtThresholds("dob", [1, 2]))
    keys = names + (["dob"] if has_dob else [])
    budget = max(200_000, PAIRS_PER_RECORD_BUDGET * len(table))
    blocks = [k for k in keys if _pairs(table, k) <= budget] or keys[:1]
    link_only = source_column is not None
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(k) for k in blocks],
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    if link_only:
        inputs = [
            db.register(g.reset_index(drop=True), dataset_display_name=str(s))
            for s, g in table.groupby("source_dataset")
        ]
        linker = Linker(inputs, settings, log_level=logging.ERROR)
    else:
        linker = Linker(db.register(table), settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    # a pass blocked on a column cannot train that column's comparison: with one comparison, EM cannot run at
    # all and Splink's default m values stand (what a plain Splink user would get on names alone)
    for key in keys if len(keys) > 1 else []:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(key), max_pairs=2e6)
        except Exception as exc:  # EM on a rule with too few pairs: skip, as a user would
            logging.getLogger(__name__).warning("baseline EM on %s skipped: %s", key, exc)

    pairs, compared = scored_pairs(linker)
    return pairs, compared, threshold if threshold is not None else DEFAULT_THRESHOLD


def _pairs(table: pd.DataFrame, key: str) -> float:
    sizes = table[key].dropna().value_counts()
    return float((sizes * (sizes - 1) / 2).sum())
