"""The plain Splink baseline that ``evaluate`` reports beside Avellino's model.

What Splink's documentation would have a user set up for the columns given, nothing of Avellino's:

* names: ``NameComparison`` (exact, Jaro-Winkler 0.92 / 0.88 / 0.7) on each name column, lower-cased, with
  term-frequency adjustments;
* date of birth: ``DateOfBirthComparison`` (exact, within a month, a year, ten years) on the date written as
  ISO ``YYYY-MM-DD`` (a user converts their dates to the format Splink reads; partial dates are null);
* every other column given: ``ExactMatch`` on the lower-cased value;
* blocking: each name column's words (lower-cased, exploded: any shared word) and the date of birth;
* ``u`` by random sampling, the prior by the deterministic rule Splink's tutorials use (same names and date,
  recall 0.7 as there), ``m`` by EM blocked on the date and on each name column;
* the decision threshold is Splink's default 0.5 (``evaluate`` also reports the labels' best threshold as
  ``baseline_oracle``, an upper bound that uses the labels).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from avellino.resolve.features import parse_dob
from avellino.resolve.model import DEFAULT_THRESHOLD, register_inputs
from avellino.resolve.pipeline import scored_pairs

BASE_NAME_ROLES = ("given_name", "middle_name", "surname", "full_name")
# the prior rule's recall, as Splink's tutorials set it (an assumption, not fitted)
BASELINE_PRIOR_RECALL = 0.7
SPLINK_DEFAULT_PRIOR = 0.0001  # SettingsCreator's default probability_two_random_records_match


def _iso(value: str) -> str | None:
    parsed = parse_dob(value)
    return f"{parsed[0]:04d}-{parsed[1]:02d}-{parsed[2]:02d}" if parsed and parsed[1] and parsed[2] else None


def baseline_table(
    df: pd.DataFrame, roles: Mapping[str, str], id_column: str, source_column: str | None
) -> pd.DataFrame:
    out = pd.DataFrame({"unique_id": df[id_column].astype("string")})
    if source_column:
        out["source_dataset"] = df[source_column].astype("string").fillna("unknown")
    for role, col in roles.items():
        values = df[col].astype("string").str.strip().str.lower().replace("", pd.NA)
        if role == "dob":
            out["dob"] = values.map({v: _iso(v) for v in values.dropna().unique()})
        else:
            out[role] = values
        if role in BASE_NAME_ROLES:
            out[f"{role}_words"] = values.str.findall(r"\w+").map(lambda w: w if isinstance(w, list) and w else None)
    return out


def score_table(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    id_column: str,
    source_column: str | None = None,
    threshold: float | None = None,
    compared_ids: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, int, float]:
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl

    logging.getLogger("splink").setLevel(logging.ERROR)
    table = baseline_table(df, roles, id_column, source_column)
    present = [r for r in roles if r in table and table[r].notna().any()]
    names = [r for r in BASE_NAME_ROLES if r in present]
    comparisons: list[Any] = [cl.NameComparison(r).configure(term_frequency_adjustments=True) for r in names]
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
    comparisons += [cl.ExactMatch(r) for r in present if r not in names and r != "dob"]
    rules: list[Any] = [block_on(f"{r}_words", arrays_to_explode=[f"{r}_words"]) for r in names]
    if "dob" in present:
        rules.append(block_on("dob"))
    link_only = source_column is not None
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(register_inputs(db, table, link_only), settings, log_level=logging.ERROR)
    prior_rule = block_on(*names, *(["dob"] if "dob" in present else []))
    try:
        linker.training.estimate_probability_two_random_records_match([prior_rule], recall=BASELINE_PRIOR_RECALL)
    except Exception as exc:  # no pair satisfies the rule: Splink's default prior stands
        logging.getLogger(__name__).warning("baseline prior left at its default: %s", exc)
    prior = linker._settings_obj._probability_two_random_records_match
    if not 0 < prior < 1:  # no pair satisfies the rule (aliases rarely repeat a name): Splink's default prior
        linker._settings_obj._probability_two_random_records_match = SPLINK_DEFAULT_PRIOR
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    # a pass blocked on a column cannot train that column's comparison: with names alone, EM cannot train the
    # name comparison and Splink's default m values stand (what a plain Splink user gets on names alone)
    for key in (["dob"] if "dob" in present else []) + names if len(comparisons) > 1 else []:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(key), max_pairs=2e6)
        except Exception as exc:  # EM on a rule with too few pairs or nothing left to train: skip, as a user would
            logging.getLogger(__name__).warning("baseline EM on %s skipped: %s", key, exc)

    pairs, compared = scored_pairs(linker, compared_ids, keep_from=0.0)
    return pairs, compared, threshold if threshold is not None else DEFAULT_THRESHOLD
