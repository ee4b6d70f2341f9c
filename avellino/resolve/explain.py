"""Why two records were (not) joined: a waterfall of match weights, shared identifiers, judgements applied.

Works from a scored pair row of ``resolve_edges`` (Splink's ``gamma_*`` level, ``mw_*`` match weight and
``mw_tf_adj_*`` term-frequency adjustment per comparison, kept by ``resolve run``), the trained model's JSON (the
level labels and the prior) and both records' features (the values compared). The steps' weights add up to the
pair's total match weight: ``prior + sum(comparison weights)``. Edges scored by an earlier version kept only
``gamma_*``: each level's weight is then ``log2(m/u)`` from the model, and what the stored total holds beyond
them (term-frequency adjustments) is one step of its own. Pure over its inputs, so it is testable without a store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from avellino.resolve.clusters import effective_judgements
from avellino.resolve.model import ID_COLUMNS

# the feature column shown as each comparison's value (a comparison reads several: keys, skeletons, parts)
SHOWN = {"name": "name", "dob": "dob"}


def _levels(model_json: Mapping[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """Per comparison, per gamma value: the level's label and (where trained) m and u."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for comp in model_json["comparisons"]:
        levels: dict[int, dict[str, Any]] = {}
        n = len([lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")])
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                levels[-1] = {"label": "missing on one side"}
                continue
            n -= 1
            levels[n] = {
                "label": lv.get("label_for_charts") or lv.get("sql_condition", ""),
                "m": lv.get("m_probability"),
                "u": lv.get("u_probability"),
            }
        out[comp["output_column_name"]] = levels
    return out


def _number(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _level_weight(level: Mapping[str, Any]) -> float:
    m, u = _number(level.get("m")), _number(level.get("u"))
    return math.log2(m / u) if m and u else 0.0


def prior_weight(model_json: Mapping[str, Any]) -> float:
    prior = float(model_json["probability_two_random_records_match"])
    return math.log2(prior / (1 - prior))


def waterfall(
    pair: Mapping[str, Any],
    model_json: Mapping[str, Any],
    left: Mapping[str, Any] | None = None,
    right: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The prior, then one step per comparison: its level, the values on both sides (``left``/``right``: the
    records' feature rows) and its match weight (log2 Bayes factor, term frequency included)."""
    steps: list[dict[str, Any]] = [
        {"comparison": "prior", "level": "two random records", "match_weight": prior_weight(model_json)}
    ]
    stored = True
    for name, levels in _levels(model_json).items():
        gamma = _number(pair.get(f"gamma_{name}"))
        if gamma is None:
            continue
        level = levels.get(int(gamma), {"label": str(gamma)})
        weight = _number(pair.get(f"mw_{name}"))
        if weight is None:
            stored, weight = False, _level_weight(level) if gamma >= 0 else 0.0
        weight += _number(pair.get(f"mw_tf_adj_{name}")) or 0.0
        column = SHOWN.get(name, name)
        steps.append(
            {
                "comparison": name,
                "level": level["label"],
                "left": _shown((left or {}).get(column)),
                "right": _shown((right or {}).get(column)),
                "match_weight": weight,
            }
        )
    total = _number(pair.get("match_weight"))
    rest = total - sum(s["match_weight"] for s in steps) if total is not None else 0.0
    if not stored and abs(rest) > 5e-4:
        steps.append(
            {
                "comparison": "term frequency",
                "level": "how common the values are (not kept per comparison by the run that scored this pair; "
                "`resolve run --full` keeps it)",
                "match_weight": rest,
            }
        )
    for step in steps:
        step["match_weight"] = round(step["match_weight"], 3)
    return steps


def _shown(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.tolist() if hasattr(value, "tolist") else value


def shared_identifiers(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, list[str]]:
    """Identifiers both records carry (normalised), and those that conflict (both known, none shared)."""
    out: dict[str, list[str]] = {}
    for col in ID_COLUMNS:
        a, b = left.get(col), right.get(col)
        a_set = set(a) if a is not None and len(a) else set()
        b_set = set(b) if b is not None and len(b) else set()
        if a_set and b_set:
            shared = sorted(a_set & b_set)
            out[col] = (
                shared if shared else ["CONFLICT: " + ", ".join(sorted(a_set)) + " vs " + ", ".join(sorted(b_set))]
            )
    return out


def explain_pair(
    a: str,
    b: str,
    pair: Mapping[str, Any] | None,
    model_json: Mapping[str, Any],
    features: pd.DataFrame,
    judgements: pd.DataFrame,
    clusters: pd.DataFrame | None,
) -> dict[str, Any]:
    """Everything an analyst needs to see about records ``a`` and ``b``."""
    feats = features.set_index("unique_id")
    missing = [x for x in (a, b) if x not in feats.index]
    if missing:
        raise KeyError(f"unknown record id(s): {', '.join(missing)}")
    lo, hi = sorted((a, b))
    eff = effective_judgements(judgements)
    applied = eff[(eff["left_id"] == lo) & (eff["right_id"] == hi)].to_dict("records")
    history = (
        judgements[(judgements["left_id"] == lo) & (judgements["right_id"] == hi)].to_dict("records")
        if judgements is not None and not judgements.empty
        else []
    )
    cluster_of = clusters.set_index("entity_id")["cluster_id"].to_dict() if clusters is not None else {}
    result: dict[str, Any] = {
        "left": a,
        "right": b,
        "compared_by_model": pair is not None,
        "steps": waterfall(pair, model_json, feats.loc[a].to_dict(), feats.loc[b].to_dict())
        if pair is not None
        else [],
        "match_weight": round(float(pair["match_weight"]), 3) if pair is not None else None,
        "match_probability": round(float(pair["match_probability"]), 5) if pair is not None else None,
        "identifiers": shared_identifiers(feats.loc[a].to_dict(), feats.loc[b].to_dict()),
        "judgement": applied[0]["verdict"] if applied else None,
        "judgement_history": history,
        "cluster_left": cluster_of.get(a),
        "cluster_right": cluster_of.get(b),
    }
    result["same_cluster"] = result["cluster_left"] is not None and result["cluster_left"] == result["cluster_right"]
    return result
