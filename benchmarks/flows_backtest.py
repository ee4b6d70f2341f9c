"""Must-show back-tests for ``avellino flows`` (issue 5), run through the real CLI; prints one JSON object.

1. UK small-boat arrivals, weekly, cutoff 2023-12-31, horizon 4.
2. Frontex detections, monthly totals per route, cutoff 2023-12-31, horizon 3.

For each: Avellino's MASE against the best single statsforecast model (target <= 0.9 x), against SeasonalNaive,
and the 80% interval coverage (target 75-85%). Takes several minutes on 2 cores.

    .venv/bin/python benchmarks/flows_backtest.py [--only uk|frontex] [--cutoff 2023-12-31]

A later ``--cutoff`` means fewer origins: quicker, and figures that are not the documented ones
(``run_all.py --quick`` runs ``--only uk --cutoff 2024-09-30``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from avellino.settings import shared_data_dir  # noqa: E402

CUTOFF = "2023-12-31"  # the must-show cutoff
SINGLE = ["AutoETS", "AutoARIMA", "AutoTheta", "Naive", "SeasonalNaive"]


def run(args: list[str]) -> tuple[dict, float, str]:
    cmd = [str(REPO / ".venv" / "bin" / "avellino"), "flows", "backtest", *args, "--json"]
    start = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout), round(time.time() - start, 1), " ".join(cmd[1:])


def verdict(models: dict) -> dict:
    ours = models["avellino"]["mase"]
    best_name = min(SINGLE, key=lambda m: models[m]["mase"] if models[m]["mase"] is not None else 1e9)
    best = models[best_name]["mase"]
    cov = models["avellino"]["coverage_80"]
    return {
        "avellino_mase": ours,
        "best_single": best_name,
        "best_single_mase": best,
        "ratio_to_best_single": round(ours / best, 4) if ours is not None and best else None,
        "meets_0.9x_best_single": ours is not None and best is not None and ours <= 0.9 * best,
        "below_seasonal_naive": ours is not None and ours < models["SeasonalNaive"]["mase"],
        "coverage_80": cov,
        "coverage_80_in_75_85": cov is not None and 0.75 <= cov <= 0.85,
    }


def foresight_floor(
    path: Path, date: str, value: str, series: list[str], freq: str, horizon: int, cutoff: str = CUTOFF
) -> float:
    """MASE of a forecast that knows the future: at each origin, the median of the next ``horizon`` actual
    values (the best flat forecast for MAE). Same origins and scaling as the back-test. No method that sees
    only the past can be expected to come near it; it shows how much of the error is unforecastable noise."""
    import numpy as np
    import pandas as pd

    from avellino.flows.data import SEASON, load_csv
    from avellino.flows.models import seasonal_scale

    df = load_csv(path, date, value, series, freq).bottom()
    windows = []
    for _, g in df.sort_values("ds").groupby("unique_id"):
        ds, y = g["ds"].to_numpy(), g["y"].to_numpy(dtype=float)
        first = int(np.searchsorted(ds, np.datetime64(pd.Timestamp(cutoff)), side="right")) - 1
        for i in range(first, len(y) - horizon):
            future = y[i + 1 : i + 1 + horizon]
            scale = seasonal_scale(y[: i + 1], SEASON[freq])
            err = float(np.mean(np.abs(future - np.median(future)))) / scale
            if np.isfinite(err):
                windows.append(err)
    return round(float(np.mean(windows)), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["uk", "frontex"], default=None, help="one back-test (default: both)")
    parser.add_argument("--cutoff", default=CUTOFF, help=f"last date of the first training set (default {CUTOFF})")
    args = parser.parse_args()
    cutoff = args.cutoff
    root = shared_data_dir()
    if root is None:
        print(json.dumps({"skipped": "no ../shared/data"}))
        return
    uk = root / "migration" / "uk_small_boats" / "homeoffice_SB_02_weekly.csv"
    frontex = root / "migration" / "iom_gdidata" / "frontex.csv"
    result: dict = {"cutoff": cutoff}
    if args.only in (None, "uk"):
        result["uk_weekly"] = uk_weekly(uk, cutoff)
    if args.only in (None, "frontex"):
        result["frontex_routes"] = frontex_routes(frontex, cutoff)
    print(json.dumps(result, indent=1))


def uk_weekly(uk: Path, cutoff: str) -> dict:
    uk_json, secs, cmd = run(
        [
            "--input",
            str(uk),
            "--date-column",
            "Week ending",
            "--value-column",
            "Migrants arrived",
            "--freq",
            "W",
            "--horizon",
            "4",
            "--cutoff",
            cutoff,
        ]
    )
    return {
        "command": cmd,
        "seconds": secs,
        "result": uk_json,
        "verdict": verdict(uk_json["models"]),
        "perfect_foresight_mase": foresight_floor(uk, "Week ending", "Migrants arrived", [], "W", 4, cutoff),
    }


def frontex_routes(frontex: Path, cutoff: str) -> dict:
    fx_json, secs, cmd = run(
        [
            "--input",
            str(frontex),
            "--date-column",
            "t",
            "--value-column",
            "n",
            "--series-column",
            "route",
            "--freq",
            "M",
            "--horizon",
            "3",
            "--cutoff",
            cutoff,
            "--per-series",
        ]
    )
    per_route = {uid: verdict(models) for uid, models in fx_json["series"].items()}
    return {
        "command": cmd,
        "seconds": secs,
        "result": fx_json,
        "verdict_all_routes": verdict(fx_json["models"]),
        "verdict_per_route": per_route,
        "perfect_foresight_mase": foresight_floor(frontex, "t", "n", ["route"], "M", 3, cutoff),
    }


if __name__ == "__main__":
    main()
