"""Why two records were (not) joined: a waterfall of match weights, shared identifiers, judgements applied.

Works from a scored pair row (Splink's ``gamma_*``/``bf_*``/``bf_tf_adj_*`` columns, kept because the settings
retain intermediate columns) and the trained model's JSON (for the level labels and the prior). Pure over
its inputs, so it is testable without a store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from avellino.resolve.clusters import effective_judgements
from avellino.resolve.model import ID_COLUMNS


def _labels(model_json: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for comp in model_json["comparisons"]:
        levels = {}
        n = len([lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")])
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                levels[-1] = "missing on one side"
                continue
            n -= 1
            levels[n] = lv.get("label_for_charts") or lv.get("sql_condition", "")
        out[comp["output_column_name"]] = levels
    return out


def _log2(x: Any) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return 0.0
    return math.log2(value) if value > 0 else float("-inf")


def waterfall(pair: Mapping[str, Any], model_json: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One step per comparison: its level and match weight (log2 Bayes factor, term-frequency included)."""
    prior = float(model_json["probability_two_random_records_match"])
    steps: list[dict[str, Any]] = [
        {"comparison": "prior", "level": "two random records", "match_weight": round(math.log2(prior / (1 - prior)), 3)}
    ]
    for name, levels in _labels(model_json).items():
        gamma = pair.get(f"gamma_{name}")
        if gamma is None or (isinstance(gamma, float) and math.isnan(gamma)):
            continue
        weight = _log2(pair.get(f"bf_{name}", 1.0))
        tf = pair.get(f"bf_tf_adj_{name}")
        if tf is not None and not (isinstance(tf, float) and math.isnan(tf)):
            weight += _log2(tf)
        steps.append(
            {
                "comparison": name,
                "level": levels.get(int(gamma), str(gamma)),
                "left": _value(pair, name, "l"),
                "right": _value(pair, name, "r"),
                "match_weight": round(weight, 3),
            }
        )
    return steps


def _value(pair: Mapping[str, Any], name: str, side: str) -> Any:
    for col in (f"{name}_{side}", f"{name}_key_{side}", f"{name}_y_{side}"):
        if col in pair:
            v = pair[col]
            return v.tolist() if hasattr(v, "tolist") else v
    return None


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
        "steps": waterfall(pair, model_json) if pair is not None else [],
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
