"""Arabic-script -> Latin name ranking on the eval split of google/transliteration ar2en.

For every distinct Arabic name in the eval split, all distinct eval Latin names are ranked; we report how
often a right Latin name is first (top-1) and in the first five (top-5). Methods measured:

* ``icu_jw``: ICU ``Arabic-Latin; Latin-ASCII`` then Jaro-Winkler against each candidate;
* ``icu_skeleton_jw``: the same after both sides go through Avellino's romanisation skeleton;
* ``learned_letter``: the shipped model with its context table switched off (P(chunk | letter) only);
* ``learned``: the shipped model (context-interpolated), trained on the train split only;
* ``learned_decode_jw``: the shipped model's single best spelling, then Jaro-Winkler (what the Splink
  features use for Arabic-script names).

Usage: ``python benchmarks/resolve_translit.py [--data DIR] [--rebuild]`` (``--rebuild`` retrains the shipped
model from ``DIR/ar2en-train.txt`` first). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rigour.text import jaro_winkler

from avellino.resolve.names import icu_latin, skeleton
from avellino.resolve.translit import (
    MODEL_PATH,
    TranslitModel,
    build_shipped_model,
    load_model,
    normalise_arabic,
    normalise_latin,
    prepare_candidates,
    read_pairs,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/entity_resolution/google_ar2en_transliteration"


def rank_metrics(scores: np.ndarray, gold: list[set[int]]) -> dict[str, float]:
    order = np.argsort(-scores, axis=1, kind="stable")
    top1 = np.mean([order[i, 0] in g for i, g in enumerate(gold)])
    top5 = np.mean([bool(set(order[i, :5]) & g) for i, g in enumerate(gold)])
    return {"top1": round(float(top1), 4), "top5": round(float(top5), 4)}


def jw_matrix(queries: list[str], cands: list[str]) -> np.ndarray:
    return np.array([[jaro_winkler(q, c) for c in cands] for q in queries])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    if args.rebuild:
        build_shipped_model(args.data / "ar2en-train.txt")
        load_model.cache_clear()
    pairs = read_pairs(args.data / "ar2en-eval.txt")
    cands = sorted({normalise_latin(b) for _, b in pairs})
    index = {c: i for i, c in enumerate(cands)}
    gold_by_ar: dict[str, set[int]] = {}
    for a, b in pairs:
        gold_by_ar.setdefault(normalise_arabic(a), set()).add(index[normalise_latin(b)])
    queries = list(gold_by_ar)
    gold = [gold_by_ar[q] for q in queries]
    results: dict[str, object] = {"arabic_names": len(queries), "latin_candidates": len(cands)}
    model = load_model()

    t = time.perf_counter()
    icu = [normalise_latin(icu_latin(q)) for q in queries]
    results["icu_jw"] = rank_metrics(jw_matrix(icu, cands), gold) | {"s": round(time.perf_counter() - t, 1)}

    t = time.perf_counter()
    skel_c = [skeleton(c) for c in cands]
    sk = jw_matrix([skeleton(q) for q in icu], skel_c)
    results["icu_skeleton_jw"] = rank_metrics(sk, gold) | {"s": round(time.perf_counter() - t, 1)}

    for name, m in (
        ("learned_letter", TranslitModel(model.by_letter, {}, {})),
        ("learned", model),
    ):
        t = time.perf_counter()
        prepared = prepare_candidates(m, cands)
        scores = np.vstack([m.score_prepared(q, prepared) for q in queries])
        results[name] = rank_metrics(scores, gold) | {"s": round(time.perf_counter() - t, 1)}

    t = time.perf_counter()
    decoded = [model.decode(q) for q in queries]
    results["learned_decode_jw"] = rank_metrics(jw_matrix(decoded, cands), gold) | {
        "s": round(time.perf_counter() - t, 1)
    }
    results["model_file_bytes"] = MODEL_PATH.stat().st_size
    print(json.dumps(results))


if __name__ == "__main__":
    main()
