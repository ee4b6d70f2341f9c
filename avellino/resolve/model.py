"""The Splink model for persons: comparisons, blocking, unsupervised training and scoring.

Settings are built with Splink's *creator* objects (``cll.*``/``cl.*``/``block_on``), never raw dialect SQL,
so the same model runs on DuckDB (default) or Spark: ``SettingsCreator`` is bound to a backend only when a
``Linker`` is made. The comparisons read the feature table of :mod:`avellino.resolve.features`; a role that
the input does not have is simply not compared.

Training uses no labels: ``u`` from random pairs, ``m`` by expectation-maximisation over two blocked samples
(once blocked on names, once on everything else, so every comparison gets trained). Where analysts have
labelled pairs, their ``m`` estimates replace EM's for the comparisons they cover. The match threshold is the
Bayes decision point of the trained model (posterior 0.5), not a value tuned on any labelled set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

DEFAULT_THRESHOLD = 0.5
# a blocking rule may generate at most this many pairs per input record before it is dropped as too coarse
PAIRS_PER_RECORD_BUDGET = 10
# all blocking rules together may generate at most this many pairs per input record (the most specific first)
TOTAL_PAIRS_PER_RECORD_BUDGET = 30
# a block key value shared by more records than this does not block (it would make most pairs and say little)
MAX_BLOCK_SIZE = 30
# above this many records the parameters are trained on a random sample of this many (see ``train``)
TRAIN_SAMPLE_RECORDS = 200_000
# above this many (training) records the prior is estimated on a random sample of this many (see ``_fit``)
PRIOR_SAMPLE_RECORDS = 50_000


def _has(df: pd.DataFrame, col: str) -> bool:
    """The role is present and has at least one value (empty lists are stored as nulls)."""
    return col in df.columns and bool(df[col].notna().any())


# m-probabilities of the name levels (most to least specific) used when names are the only evidence, so EM
# cannot separate matches from namesakes (one comparison is not identifiable). They are the mean of what EM
# learned for this comparison where other evidence was present, on two reference sets no names-alone figure is
# reported on: FEBRL 4 (typos) and a held-out draw of benchmarks/resolve_scale.py's generator (3,000 records,
# seed 101; romanisation noise), rounded; `python benchmarks/resolve_name_prior.py` prints them.
NAME_M_PRIOR = (0.403, 0.184, 0.129, 0.096, 0.056, 0.11, 0.009, 0.013)


def name_comparison(m_prior: bool = False) -> Any:
    """Names in any order, spelling or script (see names.py for the features), most to least specific.

    ``m_prior``: fix the levels' m-probabilities to ``NAME_M_PRIOR`` (names alone: nothing to train them on).
    """
    import splink.comparison_library as cl

    levels = _name_levels()
    if m_prior:
        levels = [levels[0]] + [lv.configure(m_probability=m) for lv, m in zip(levels[1:], NAME_M_PRIOR, strict=True)]
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="full name, any order, spelling or script",
        comparison_levels=levels,
    )


def _name_levels() -> list[Any]:
    import splink.comparison_level_library as cll

    return [
        cll.NullLevel("name_key"),
        cll.ExactMatchLevel("name_key").configure(
            tf_adjustment_column="name_key", label_for_charts="same name (any order)"
        ),
        cll.ExactMatchLevel("name_skel").configure(label_for_charts="same name, other romanisation"),
        cll.JaroWinklerLevel("name_key", 0.94).configure(label_for_charts="name typo (jaro-winkler >= 0.94)"),
        # every part of the shorter name is in the longer one (a father's name added or dropped); merely
        # sharing two parts is weaker (Vietnamese "Minh Hai DANG" vs "Minh Hai PHAN" share the given names)
        cll.And(cll.ArrayIntersectLevel("name_skels", 2), cll.ArraySubsetLevel("name_skels")).configure(
            label_for_charts="all parts of the shorter name in the longer"
        ),
        cll.Or(cll.ArrayIntersectLevel("name_skels", 2), cll.JaroWinklerLevel("name_key", 0.88)).configure(
            label_for_charts="2+ parts shared or name similar (jw >= 0.88)"
        ),
        cll.ArrayIntersectLevel("name_skels", 1).configure(label_for_charts="one part shared"),
        cll.JaroWinklerLevel("name_key", 0.75).configure(label_for_charts="name loosely similar"),
        cll.ElseLevel(),
    ]


def dob_comparison() -> Any:
    """Dates of birth with the errors partners make: typo, day/month swap, 01/01 for 'unknown day'."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    placeholder = (
        "((dob_m_l = '01' AND dob_d_l = '01') OR (dob_m_r = '01' AND dob_d_r = '01') "
        "OR dob_m_l IS NULL OR dob_m_r IS NULL)"
    )
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="date of birth",
        comparison_levels=[
            cll.NullLevel("dob_y"),
            cll.And(cll.ExactMatchLevel("dob_y"), cll.ExactMatchLevel("dob_m"), cll.ExactMatchLevel("dob_d")).configure(
                label_for_charts="same date"
            ),
            cll.And(cll.ExactMatchLevel("dob_y"), cll.CustomLevel("dob_m_l = dob_d_r AND dob_d_l = dob_m_r")).configure(
                label_for_charts="day and month swapped"
            ),
            cll.And(cll.ExactMatchLevel("dob_y"), cll.CustomLevel(placeholder)).configure(
                label_for_charts="same year, one side 01/01 or year only"
            ),
            cll.DamerauLevenshteinLevel("dob", 1).configure(label_for_charts="one digit wrong"),
            cll.ExactMatchLevel("dob_y").configure(label_for_charts="same year"),
            cll.DamerauLevenshteinLevel("dob", 2).configure(label_for_charts="two digits wrong"),
            cll.ElseLevel(),
        ],
    )


def identifier_comparison(column: str, label: str) -> Any:
    """Shared normalised identifier: decisive; both known and none shared: strong evidence against."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ArrayIntersectLevel(column, 1).configure(label_for_charts=f"{label} shared"),
            cll.ElseLevel().configure(label_for_charts=f"{label} conflict"),
        ],
    )


def text_comparison(column: str) -> Any:
    import splink.comparison_library as cl

    return cl.JaroWinklerAtThresholds(column, [0.94, 0.85]).configure(term_frequency_adjustments=True)


def code_comparison(column: str) -> Any:
    import splink.comparison_library as cl

    return cl.ExactMatch(column)


ID_COLUMNS = {
    "phones": "phone",
    "passports": "passport",
    "id_numbers": "ID number",
    "ibans": "IBAN",
    "imos": "IMO",
    "mmsis": "MMSI",
    "plates": "plate",
    "emails": "e-mail",
}


def names_only(df: pd.DataFrame) -> bool:
    """The name is the only comparison the input allows (EM needs two independent pieces of evidence)."""
    others = ["dob_y", "nationality", "sex", "place_of_birth", "address", "city", "postcode", *ID_COLUMNS]
    return _has(df, "name_key") and not any(_has(df, col) for col in others)


def comparisons_for(df: pd.DataFrame) -> list[Any]:
    comps: list[Any] = []
    if _has(df, "name_key"):
        comps.append(name_comparison(m_prior=names_only(df)))
    if _has(df, "dob_y"):
        comps.append(dob_comparison())
    for col in ("nationality", "sex"):
        if _has(df, col):
            comps.append(code_comparison(col))
    for col in ("place_of_birth", "address", "city", "postcode"):
        if _has(df, col):
            comps.append(text_comparison(col))
    for col, label in ID_COLUMNS.items():
        if _has(df, col):
            comps.append(identifier_comparison(col, label))
    return comps


def candidate_blocks(df: pd.DataFrame) -> list[list[str]]:
    """Blocking keys from most to least specific; ``choose_blocks`` keeps the ones the data can afford."""
    blocks: list[list[str]] = [["name_skel"]]
    dob = _has(df, "dob_y")
    if dob:
        blocks += [["skel_min", "dob_y"], ["skel_max", "dob_y"], ["dob"]]
    for col in ("postcode", "city", "address", "place_of_birth", "nationality"):
        if _has(df, col):
            blocks += [["skel_min", col], ["skel_max", col]]
            if dob:
                blocks.append([col, "dob_y"])
    return blocks


# the array column of name-token block keys (see ``token_keys``), exploded by Splink when blocking
TOKEN_BLOCK = "blk_name_tokens"


def _token_key_strings(tokens: Any, skels: Any, phones: Any) -> list[str]:
    """Every name-token key of one record: each part's romanisation skeleton, each pair of skeletons (a common
    given name with a common surname is a rare pair) and each part's metaphone code (``Sergei``/``Serhiy``)."""
    sk = sorted({s for s in (skels if skels is not None else []) if len(s) > 1})
    keys = ["s" + s for s in sk]
    keys += ["p" + a + "|" + b for i, a in enumerate(sk) for b in sk[i + 1 :]]
    keys += ["m" + m for m in (phones if phones is not None else []) if len(m) > 1]
    return keys


def token_keys(df: pd.DataFrame, budget: float, link_only: bool = False) -> tuple[pd.Series | None, float]:
    """Name-token block keys, rarest first, while the pairs they make stay within ``budget``.

    Each record gets every key of ``_token_key_strings``; key values are taken from the rarest (fewest records)
    up, and stop when the next would take the pairs they make over ``budget``. So name parts in any order,
    any romanisation, reach each other, and a common part blocks only together with another part. The budget
    is a cost bound (pairs per record), so blocking grows with the data instead of dropping common values at a
    fixed block size. Returns (a list of key numbers per record, null where none; the pairs counted).
    """
    import numpy as np

    if "name_skels" not in df.columns or not df["name_skels"].notna().any():
        return None, 0.0
    phon = df["name_phon"] if "name_phon" in df.columns else pd.Series([None] * len(df), index=df.index)
    # a name's keys depend on the name only: computed once per distinct name, spread back by one numpy take
    names = df["name"] if "name" in df.columns else df["name_key"]
    codes, uniques = pd.factorize(names.astype("object"))
    first = pd.Series(np.arange(len(df)))[codes >= 0].groupby(codes[codes >= 0]).first().to_numpy()
    skels, phones = df["name_skels"].to_numpy(), phon.to_numpy()
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = [_token_key_strings(None, skels[i], phones[i]) for i in first]
    table[len(uniques)] = []  # code -1: no name
    keys = pd.Series(table[codes], index=df.index, dtype="object")
    long = keys.explode().dropna()
    if long.empty:
        return None, 0.0
    codes = pd.Series(pd.factorize(long)[0], index=long.index)
    if link_only and "source_dataset" in df.columns:
        sizes = pd.crosstab(codes.to_numpy(), df.loc[codes.index, "source_dataset"].to_numpy())
        cost = (sizes.sum(axis=1) ** 2 - (sizes**2).sum(axis=1)) / 2
        size = sizes.sum(axis=1)
    else:
        size = codes.value_counts()
        cost = size * (size - 1) / 2
    order = pd.DataFrame({"size": size, "cost": cost.reindex(size.index)}).sort_values(["size", "cost"])
    order = order[order["size"] > 1]
    within = order["cost"].cumsum() <= budget
    kept = order.index[within.to_numpy()]
    used = float(order["cost"][within].sum())
    chosen = codes[codes.isin(kept)]
    if chosen.empty:
        return None, 0.0
    rows, values = chosen.index.to_numpy(), chosen.to_numpy()
    order = np.lexsort((values, rows))  # by record, then key number
    rows, values = rows[order], values[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    pieces = np.split(values, starts[1:])
    lists = pd.Series([p.tolist() for p in pieces], index=rows[starts], dtype="object")
    return lists.reindex(df.index), used


def choose_blocks(df: pd.DataFrame, link_only: bool, keys: dict[str, pd.Series] | None = None) -> list[list[str]]:
    """Blocking keys the data can afford, each as one capped key column (see ``add_block_keys``).

    A key value shared by more than ``MAX_BLOCK_SIZE`` records (a very common name in a popular birth year, the
    01/01 placeholder) says little and would make most of the pairs, so such values do not block; other rules
    still reach those records. A rule whose capped key still makes too many pairs is dropped, and once the
    rules chosen so far make ``TOTAL_PAIRS_PER_RECORD_BUDGET`` pairs per record the coarser ones are left out:
    at scale they cost millions of pairs for the few true pairs the specific rules miss. ``keys``, when given,
    receives the chosen keys by column name, so ``add_block_keys`` need not compute them again.
    """
    budget = max(200_000, PAIRS_PER_RECORD_BUDGET * len(df))
    total_budget = max(1_000_000, TOTAL_PAIRS_PER_RECORD_BUDGET * len(df))
    chosen: list[list[str]] = []
    total = 0.0
    for cols in candidate_blocks(df):
        key = _capped_key(df, cols)
        if key is None:
            continue
        if link_only and "source_dataset" in df.columns:
            sizes = pd.crosstab(key, df.loc[key.index, "source_dataset"])
            pairs = float(((sizes.sum(axis=1) ** 2 - (sizes**2).sum(axis=1)) / 2).sum())
        else:
            counts = key.value_counts()
            pairs = float((counts * (counts - 1) / 2).sum())
        if pairs <= budget and total + pairs <= total_budget:
            chosen.append(cols)
            total += pairs
            if keys is not None:
                keys[block_column(cols)] = key
    if keys is not None:
        token, used = token_keys(df, total_budget - total, link_only)
        if token is not None:
            keys[TOKEN_BLOCK] = token
    return chosen or [["name_skel"]]


def block_column(cols: Sequence[str]) -> str:
    return "blk_" + "__".join(cols)


# columns that split a block key value too common to block on (a common name: by birth year, then nationality...)
REFINE_COLUMNS = ("dob_y", "nationality", "dob", "sex", "place_of_birth", "city", "postcode")


def _capped_key(df: pd.DataFrame, cols: Sequence[str], cap: int | None = None) -> pd.Series | None:
    """The block key: a group number per distinct value of ``cols``, for records sharing it with at most ``cap``
    (default MAX_BLOCK_SIZE) others. A value shared by more is split by the next of ``REFINE_COLUMNS`` the input
    has (a common name by birth year, then nationality...), and dropped only when no column splits it finely
    enough, so records with common names keep a block instead of losing it. Group numbers rather than joined
    strings: vectorised (a million rows in about a second) and cheap to join on; they only need to agree
    within one run."""
    cap = MAX_BLOCK_SIZE if cap is None else cap
    if not all(c in df.columns for c in cols):
        return None
    refine = [c for c in REFINE_COLUMNS if c in df.columns and c not in cols and df[c].notna().any()]
    keys: list[pd.Series] = []
    offset = 0
    pending = df.index
    for extra in [None, *refine]:
        cols = list(cols) if extra is None else [*cols, extra]
        group = df.loc[pending, cols].groupby(cols, sort=False, dropna=True).ngroup()
        group = group[group >= 0]  # rows with a missing key part
        if group.empty:
            break
        sizes = group.map(group.value_counts())
        small = sizes <= cap
        keys.append(group[small] + offset)
        offset += int(group.max()) + 1
        pending = group.index[~small.to_numpy()]
        if not len(pending):
            break
    key = pd.concat(keys).astype("int64") if keys else pd.Series(dtype="int64")
    return key if len(key) else None


def add_block_keys(
    df: pd.DataFrame, blocks: Sequence[Sequence[str]], keys: dict[str, pd.Series] | None = None
) -> pd.DataFrame:
    """One capped key column per chosen block (null where the value is too common to block on)."""
    out = df.copy()
    if keys is not None and TOKEN_BLOCK in keys:
        out[TOKEN_BLOCK] = keys[TOKEN_BLOCK].reindex(df.index)
    for cols in blocks:
        name = block_column(cols)
        key = keys[name] if keys is not None and name in keys else _capped_key(df, cols)
        out[name] = key.reindex(df.index).astype("Int64") if key is not None else pd.NA
    return out


def identifier_blocks(df: pd.DataFrame) -> list[Any]:
    from splink import block_on

    return [block_on(col, arrays_to_explode=[col]) for col in ID_COLUMNS if _has(df, col)]


@dataclass
class TrainedModel:
    linker: Any
    link_type: str
    blocks: list[list[str]]
    names_only: bool = False
    # the backend-free settings and the scored input (features with block keys): another engine scores with
    # them (avellino/engine/spark_resolve.py), with the parameters trained here
    settings: Any = None
    scored_input: pd.DataFrame | None = None


def train(
    features: pd.DataFrame,
    link_only: bool = False,
    labels: pd.DataFrame | None = None,
    connection: Any = None,
    max_em_pairs: float = 2e6,
    only_new: bool = False,
    explainable: bool = True,
) -> TrainedModel:
    """Build, train (EM, no labels needed) and return a linker over ``features``.

    ``only_new``: predictions only for pairs that touch a record with ``is_new = 1`` (incremental linking; the
    condition is plain SQL, so it stays backend-free). ``explainable``: keep Splink's per-comparison columns in
    the predictions (needed by ``explain``; evaluation and benchmarks turn it off to save memory).
    """
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    link_type = "link_only" if link_only else ("link_and_dedupe" if "source_dataset" in features else "dedupe_only")
    keys: dict[str, pd.Series] = {}
    blocks = choose_blocks(features, link_only, keys)
    features = add_block_keys(features, blocks, keys)
    ids = [col for col in ID_COLUMNS if _has(features, col)]
    if ids:  # a scalar identifier key for an EM pass (Splink's EM cannot explode arrays); read by no comparison
        features["em_id_key"] = features[ids[0]].str[0]
    rules: list[Any] = [block_on(block_column(cols)) for cols in blocks]
    if only_new:
        rules = [f"l.{block_column(c)} = r.{block_column(c)} AND (l.is_new = 1 OR r.is_new = 1)" for c in blocks]
    rules += identifier_blocks(features)
    if TOKEN_BLOCK in features.columns and features[TOKEN_BLOCK].notna().any():
        if only_new:
            from splink.blocking_rule_library import CustomRule

            rule = f"l.{TOKEN_BLOCK} = r.{TOKEN_BLOCK} AND (l.is_new = 1 OR r.is_new = 1)"
            rules.append(CustomRule(rule, arrays_to_explode=[TOKEN_BLOCK]))
        else:
            rules.append(block_on(TOKEN_BLOCK, arrays_to_explode=[TOKEN_BLOCK]))
    settings = SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        comparisons=comparisons_for(features),
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=explainable,
        retain_matching_columns=explainable,
        max_iterations=20,
    )
    db = DuckDBAPI(connection if connection is not None else _connection())
    sample = features
    if len(features) > TRAIN_SAMPLE_RECORDS:
        # Trained on a random sample of records, scored on all: the prior (share of random pairs that match) is
        # the same in a uniform record sample, since matching pairs and all pairs both shrink with its square,
        # and m/u need far fewer than a million records to settle. Term frequencies come from all records.
        sample = features.sample(n=TRAIN_SAMPLE_RECORDS, random_state=1).reset_index(drop=True)
    linker = Linker(register_inputs(db, sample, link_only), settings, log_level=logging.ERROR)
    _fit(linker, sample, max_em_pairs, only_new, db, link_only)
    if labels is not None and len(labels):
        _train_from_labels(linker, db, labels)
    if sample is not features:
        model = linker.misc.save_model_to_json()
        linker = Linker(register_inputs(db, features, link_only), model, log_level=logging.ERROR)
    return TrainedModel(linker, link_type, blocks, names_only(features), settings, features)


def _fit(
    linker: Any,
    features: pd.DataFrame,
    max_em_pairs: float,
    only_new: bool = False,
    db: Any = None,
    link_only: bool = False,
) -> None:
    """Prior, ``u`` by random sampling, ``m`` by EM passes (see ``_em_blocks``); no labels needed."""
    _estimate_lambda(linker, features)
    _fit_parameters(linker, features, link_only, db, max_em_pairs, only_new)
    _bounded_prior(linker)


def _bounded_prior(linker: Any) -> None:
    """Keep the prior inside (0, 0.5]: EM on a handful of records that hold no match drives it to 0, a weight
    Splink cannot score with (log of 0)."""
    settings = linker._settings_obj
    settings._probability_two_random_records_match = min(max(settings._probability_two_random_records_match, 1e-9), 0.5)


def _fit_parameters(
    linker: Any, features: pd.DataFrame, link_only: bool, db: Any, max_em_pairs: float, only_new: bool
) -> None:
    linker.training.estimate_u_using_random_sampling(max_pairs=max(1e6, min(5e6, len(features) * 5)), seed=1)
    if not names_only(features):  # one comparison: EM cannot be identified, the m prior stands (NAME_M_PRIOR)
        for rule in _em_blocks(features):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True, max_pairs=max_em_pairs
                )
            except Exception as exc:  # a training block with too few pairs must not stop the run
                logging.getLogger(__name__).warning("EM on %s skipped: %s", rule, exc)
    if db is not None and not only_new and len(features) > PRIOR_SAMPLE_RECORDS:
        # the prior is unchanged in a uniform record sample (see ``train``): estimate it on a smaller one, whose
        # blocked pairs (fewer by the square of the ratio) are scored in seconds instead of a full pass
        sub = features.sample(n=PRIOR_SAMPLE_RECORDS, random_state=2).reset_index(drop=True)
        scorer = _linker(db, sub, link_only, linker.misc.save_model_to_json())
        _refine_prior(scorer, sub)
        prior = scorer._settings_obj._probability_two_random_records_match
        linker._settings_obj._probability_two_random_records_match = prior
        return
    _refine_prior(linker, features, only_new)


def _linker(db: Any, features: pd.DataFrame, link_only: bool, settings: Any) -> Any:
    from splink import Linker

    return Linker(register_inputs(db, features, link_only), settings, log_level=logging.ERROR)


def _refine_prior(linker: Any, features: pd.DataFrame, only_new: bool = False) -> None:
    """The prior (share of all pairs that match) as the model's own maximum-likelihood estimate, no labels.

    With ``m`` and ``u`` fixed, the prior is the one free parameter of the two-class mixture, and EM for it is
    a one-line fixed point: the expected number of matches, ``sum(posterior)`` over every pair, divided by all
    pairs. Pairs that no blocking rule reaches are taken as non-matches (posterior 0). The deterministic
    estimate (``_estimate_lambda``) assumes same name + same date find 60% of matches, which holds for typo
    noise but not for alias lists, where a person's names are rarely written identically; this replaces it.
    Scores are summarised as a histogram of match weights (0.05 wide) so a million pairs cost one query.
    """
    _bounded_prior(linker)
    import numpy as np

    link_type = "link_only" if getattr(linker._settings_obj, "_link_type", "") == "link_only" else "dedupe_only"
    try:
        result = linker.inference.predict()
        rel = result.as_duckdbpyrelation()
        hist = rel.aggregate("round(match_weight * 20) AS w, count(*) AS n", "round(match_weight * 20)").df()
    except Exception as exc:  # a backend without DuckDB relations: keep the deterministic prior
        logging.getLogger(__name__).warning("prior not refined: %s", exc)
        return
    lam0 = float(linker._settings_obj._probability_two_random_records_match)
    total = total_pairs(features, link_type)
    if only_new and "is_new" in features.columns:  # the rules reach only pairs touching a new record
        k, n = float(features["is_new"].sum()), float(len(features))
        total = k * (n - 1) - k * (k - 1) / 2
    if hist.empty or total <= 0:
        return
    odds0 = lam0 / (1 - lam0)
    bf = np.exp2(hist["w"].to_numpy(dtype=float) / 20) / odds0
    counts = hist["n"].to_numpy(dtype=float)
    unreached = total - float(counts.sum())
    if unreached > 0:  # pairs no rule reaches share no name part: scored at every comparison's last level
        bf = np.append(bf, _else_bayes_factor(linker))
        counts = np.append(counts, unreached)
    if names_only(features):
        linker._settings_obj._probability_two_random_records_match = _moment_prior(linker, bf, counts, total)
        return
    lam = lam0
    for _ in range(200):
        post = lam * bf / (lam * bf + 1 - lam)
        new = float((counts * post).sum() / total)
        if abs(new - lam) <= 1e-4 * lam:
            lam = new
            break
        lam = new
    linker._settings_obj._probability_two_random_records_match = min(max(lam, 1e-9), 0.5)


def _connection() -> Any:
    """An in-memory DuckDB that spills to disk instead of growing past a few GB (large runs stay bounded)."""
    import tempfile

    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/avellino-duckdb'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")  # it prints to stdout, which may carry --json output
    return con


def register_inputs(db: Any, features: pd.DataFrame, link_only: bool) -> Any:
    """Splink's input: one table per source when linking across sources only, else one table. A source's name
    is shown as Splink's dataset name but never used as a SQL table name (``de-bpol`` is not one)."""
    if link_only and "source_dataset" in features:
        return [
            db.register(g.reset_index(drop=True), dataset_display_name=str(s), table_name=f"__avellino_source_{i}")
            for i, (s, g) in enumerate(features.groupby("source_dataset"))
        ]
    return db.register(features)


# a name level is "strong" where a non-match reaches it at most once in this many matches' worth (m/u)
STRONG_BAYES_FACTOR = 100.0


def _moment_prior(linker: Any, bf: Any, counts: Any, total: float) -> float:
    """Names alone: the prior by the method of moments over the strong name levels (m/u >= 100).

    A mixture of one comparison is not identifiable by EM (the likelihood is flattest where the model is least
    exact, and its maximum runs to 0), but the strong levels hold mostly matches: taking the blocked pairs
    there as matches, and ``sum(m)`` over those levels (``NAME_M_PRIOR``, learned on the training sets) as the
    share of all matches they hold, ``prior = pairs / sum(m) / total``. It generalises the deterministic rule's
    "same name finds 60% of matches" with the share the training sets measured. (Subtracting the non-matches
    ``u`` predicts there is unstable: ``u`` of a Jaro-Winkler level on whole names, measured on random pairs,
    is of the order of the match share itself.)
    """
    import numpy as np

    m_sum = u_sum = 0.0
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level or level.m_probability is None or not level.u_probability:
                continue
            if float(level.m_probability) / float(level.u_probability) >= STRONG_BAYES_FACTOR:
                m_sum += float(level.m_probability)
                u_sum += float(level.u_probability)
    strong = float(np.asarray(counts)[np.asarray(bf) >= STRONG_BAYES_FACTOR].sum())
    if m_sum <= 0 or strong <= 0:
        return float(linker._settings_obj._probability_two_random_records_match)
    return float(min(max(strong / total / m_sum, 1e-9), 0.5))


def _else_bayes_factor(linker: Any) -> float:
    """The Bayes factor of a pair at every comparison's last ('else') level, where m and u are known."""
    bf = 1.0
    for comparison in linker._settings_obj.comparisons:
        last = [lv for lv in comparison.comparison_levels if not lv.is_null_level][-1]
        m, u = last.m_probability, last.u_probability
        if m is not None and u:
            bf *= float(m) / float(u)
    return bf


def _estimate_lambda(linker: Any, features: pd.DataFrame) -> None:
    """Prior match probability from near-certain rules (same name + same date), assuming they find 60%."""
    from splink import block_on

    rules = [block_on("name_key", "dob")] if _has(features, "dob") else [block_on("name_key")]
    try:
        linker.training.estimate_probability_two_random_records_match(rules, recall=0.6)
    except Exception:  # no pair satisfies the rule: keep Splink's default prior
        logging.getLogger(__name__).warning("prior match probability left at its default")


def _em_blocks(features: pd.DataFrame) -> Sequence[Any]:
    """EM passes such that every comparison is trained in at least one, and no pass leaves none to train.

    Splink trains, in a pass, only the comparisons that do not read the blocking columns. ``skel_min`` and
    ``skel_max`` are read by no comparison, so blocking on them trains even the name comparison (names alone
    must work); blocking on the date trains names against everything else.
    """
    from splink import block_on

    passes: list[Any] = []
    if _has(features, "dob"):
        passes.append(block_on("dob"))
    # pairs sharing a strong identifier are mostly true matches, so EM separates matches from namesakes there
    # (blocked on names alone, EM can take "same name" for "same person" where namesakes are common)
    if "em_id_key" in features.columns and features["em_id_key"].notna().sum() > 1 and passes:
        passes.append(block_on("em_id_key"))
    else:
        passes.append(block_on("skel_min", "skel_max"))
    return passes


def _train_from_labels(linker: Any, db: Any, labels: pd.DataFrame) -> None:
    """Analyst-confirmed pairs (``unique_id_l``, ``unique_id_r``[, ``source_dataset_*``]) re-estimate ``m``."""
    table = db.register(labels.reset_index(drop=True))
    linker.training.estimate_m_from_pairwise_labels(table)


def predict(model: TrainedModel, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Scored pairs at or above ``threshold`` match probability, as pandas."""
    result = model.linker.inference.predict(threshold_match_probability=threshold)
    return result.as_pandas_dataframe()


def expected_f1_threshold(probabilities: pd.Series, expected_true_pairs: float) -> float:
    """The threshold that maximises the F1 the model itself expects, from its own scores (no labels).

    Taking the pairs down to threshold ``t``, the model expects ``sum(p)`` of them to be true (precision
    ``sum(p) / n``) out of ``expected_true_pairs`` (the prior times all pairs). With strong evidence scores are
    near 0 or 1 and this lands near the Bayes point; with names alone, where no pair is near-certain, the 0.5
    Bayes point (which maximises accuracy, not F1) would link nothing, while for F1 the best threshold is half
    the best F1 reachable (Lipton et al. 2014), so it is lower. Used only when names are the only evidence.
    """
    p = probabilities.sort_values(ascending=False).to_numpy()
    if not len(p) or expected_true_pairs <= 0:
        return DEFAULT_THRESHOLD
    tp = p.cumsum()
    f1 = 2 * tp / (pd.RangeIndex(1, len(p) + 1).to_numpy() + expected_true_pairs)
    return float(p[int(f1.argmax())])


def total_pairs(features: pd.DataFrame, link_type: str) -> float:
    """All pairs the link type could compare (across sources only for ``link_only``)."""
    n = float(len(features))
    if link_type == "link_only" and "source_dataset" in features.columns:
        sizes = features["source_dataset"].value_counts().astype(float)
        return float((n**2 - (sizes**2).sum()) / 2)
    return n * (n - 1) / 2


def decision_threshold(model: TrainedModel, features: pd.DataFrame, pairs: pd.DataFrame) -> float:
    """The Bayes point (0.5), except with names alone: the expected-F1 threshold (``expected_f1_threshold``)."""
    if not model.names_only:
        return DEFAULT_THRESHOLD
    prior = float(model.linker.misc.save_model_to_json()["probability_two_random_records_match"])
    return expected_f1_threshold(pairs["match_probability"], prior * total_pairs(features, model.link_type))
