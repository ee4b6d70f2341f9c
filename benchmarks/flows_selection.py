"""How Avellino chooses between its best single candidate and the trimmed combination, on back-tests whose
targets all fall before 2024 (issue 23). Prints one JSON object.

The data are cut at 2023-12-31 before anything is fitted, so no 2024 value can reach a fit or a choice:

- UK small-boat arrivals, weekly, horizon 4, origins from 2021-06-30 (about 130 origins);
- Frontex detections, monthly per route, horizon 3, origins from 2020-09-30 (about 37 origins x 9 routes).

For each, the candidates are fitted once (cached in ``--cache``, several minutes on 2 cores the first time),
then Avellino's rule is evaluated with the significance threshold ``select.T_STAT`` at several values
(``inf``: always the best single candidate; ``-inf``: always the trimmed combination) and the old rule (the
trimmed combination with in-sample intervals), beside the five reported baselines.

    .venv/bin/python benchmarks/flows_selection.py [--only uk|frontex] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from avellino.flows import backtest as bt  # noqa: E402
from avellino.flows import combine as cb  # noqa: E402
from avellino.flows import select  # noqa: E402
from avellino.flows.data import load_csv  # noqa: E402
from avellino.settings import shared_data_dir  # noqa: E402

END = pd.Timestamp("2023-12-31")
DESIGNS = {
    "uk": ("uk_small_boats/homeoffice_SB_02_weekly.csv", "Week ending", "Migrants arrived", [], "W", 4, "2021-06-30"),
    "frontex": ("iom_gdidata/frontex.csv", "t", "n", ["route"], "M", 3, "2020-09-30"),
}
SINGLE = ["Naive", "SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta"]


def prepared(name: str, folder: Path) -> bt.Candidates:
    path = folder / f"selection-{name}.pickle"
    if path.exists():
        with path.open("rb") as handle:
            found: bt.Candidates = pickle.load(handle)  # noqa: S301 - written by this script
            return found
    file, date, value, series, freq, horizon, cutoff = DESIGNS[name]
    root = shared_data_dir()
    assert root is not None
    df = load_csv(root / "migration" / file, date, value, series, freq).bottom()
    df = df[df["ds"] <= END]  # nothing from 2024 on
    found = bt.candidates(df, freq, horizon, pd.Timestamp(cutoff))
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(found, handle)
    return found


def old_rule(found: bt.Candidates) -> dict[str, float | None]:
    """The trimmed combination with in-sample conformal intervals (the method before issue 23)."""
    current = found.cv[found.cv["cutoff"] >= found.first]
    intermittent = bt.intermittent_ids(found.df, found.setup.season)
    parts = []
    by_series = dict(tuple(found.cv.groupby("unique_id")))
    names = cb.candidate_columns(current)
    for (uid, origin), now in current.groupby(["unique_id", "cutoff"], sort=True):
        cands = [c for c in names if uid in intermittent or c not in cb.INTERMITTENT]
        h = int(now.shape[0])
        calib = cb.calibration_rows(by_series[uid], pd.Timestamp(origin), found.windows + h - 1)
        frame, _ = cb.combine_one(now.sort_values("ds"), calib.sort_values(["cutoff", "ds"]), cands, True)
        parts.append(frame)
    combined = pd.concat(parts, ignore_index=True)
    frame = current.merge(combined, on=["unique_id", "ds", "cutoff"])
    scales = bt._scales(found.df, found.setup.season, frame["cutoff"].unique())
    return bt.model_metrics(frame.merge(scales, on=["unique_id", "cutoff"]), cb.NAME)


def report(name: str, folder: Path) -> dict[str, object]:
    start = time.time()
    found = prepared(name, folder)
    out: dict[str, object] = {"origins": found.origins, "first_origin": str(found.first.date()), "end": str(END.date())}
    rules: dict[str, object] = {}
    default, t_stat = select.DEFAULT, select.T_STAT
    variants = [(select.BEST, math.inf), (select.TRIMMED, math.inf)]
    variants += [(d, t) for d in (select.BEST, select.TRIMMED) for t in (2.0, 1.0, 0.0)]
    for d, t in variants:
        select.DEFAULT, select.T_STAT = d, t
        result = bt.evaluate(found)
        metrics = result.metrics()
        used = pd.Series([c.strategy for c in result.choices]).value_counts(normalize=True).round(3).to_dict()
        rules[f"default={d},t_stat={t}"] = {**metrics[cb.NAME], "strategies": used}
        out["baselines"] = {m: metrics[m] for m in SINGLE}
    select.DEFAULT, select.T_STAT = default, t_stat
    rules["old (trimmed, in-sample intervals)"] = old_rule(found)
    out["rules"] = rules
    best = min(SINGLE, key=lambda m: metrics[m]["mase"] or math.inf)
    out["best_baseline"] = {"model": best, "mase": metrics[best]["mase"]}
    out["seconds"] = round(time.time() - start, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(DESIGNS), default=None)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "avellino" / "bench")
    args = parser.parse_args()
    names = [args.only] if args.only else list(DESIGNS)
    print(json.dumps({name: report(name, args.cache) for name in names}, indent=1))


if __name__ == "__main__":
    main()
