"""Time of the whole-hierarchy forecast (issue 23): ``forecast_flow`` on a public source, and how much the
calibration back-test's yearly refits move the figures. Prints one JSON object.

    .venv/bin/python benchmarks/flows_speed.py --source frontex                  # time the whole hierarchy
    .venv/bin/python benchmarks/flows_speed.py --source frontex --level route --refit-check
    .venv/bin/python benchmarks/flows_speed.py --source frontex --reference old/forecast.csv

``--refit-check`` forecasts a second time with every model refitted at every calibration origin (the method
before issue 23) and compares the two: point forecasts and 80%/95% bounds, relative to the point forecast.
``--reference`` compares with a ``forecast.csv`` written by ``avellino flows forecast`` (e.g. an older
version's). Wall time depends on what else runs on the machine: the JSON also gives CPU seconds (this process
and its worker processes) and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from avellino.flows import forecast as fc  # noqa: E402
from avellino.flows import models  # noqa: E402
from avellino.flows.data import load_source  # noqa: E402
from avellino.settings import shared_data_dir  # noqa: E402

COLUMNS = ["avellino", "avellino-lo-80", "avellino-hi-80", "avellino-lo-95", "avellino-hi-95"]


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(source: str, horizon: int, levels: list[str] | None) -> tuple[pd.DataFrame, dict[str, object]]:
    root = shared_data_dir()
    assert root is not None, "no ../shared/data"
    flow = load_source(source, root)
    load, wall, used = os.getloadavg(), time.time(), cpu()
    result = fc.forecast_flow(flow, horizon, levels)
    figures = {
        "seconds": round(time.time() - wall, 1),
        "cpu_seconds": round(cpu() - used, 1),
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "series": int(result.forecast["unique_id"].nunique()),
        "refit": models.REFIT[flow.freq],
    }
    return result.forecast, figures


def compare(new: pd.DataFrame, old: pd.DataFrame) -> dict[str, object]:
    """Differences relative to the old point forecast (floored at 1), per column."""
    key = ["unique_id", "ds"]
    old = old.assign(ds=pd.to_datetime(old["ds"]))
    both = new.assign(ds=pd.to_datetime(new["ds"])).merge(old, on=key, suffixes=("", "_old"))
    scale = both["avellino_old"].abs().clip(lower=1.0)
    out: dict[str, object] = {"rows": len(both)}
    for column in COLUMNS + (["reconciled"] if "reconciled_old" in both else []):
        rel = ((both[column] - both[f"{column}_old"]).abs() / scale).to_numpy()
        out[column] = {
            "median_rel_diff": round(float(np.median(rel)), 4),
            "max_rel_diff": round(float(rel.max()), 4),
            "share_within_1pct": round(float((rel <= 0.01).mean()), 3),
        }
    total_new = both.loc[both["unique_id"] == "global", "avellino"].sum()
    total_old = both.loc[both["unique_id"] == "global", "avellino_old"].sum()
    if total_old:
        out["global_total_rel_diff"] = round(float(total_new / total_old - 1), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="frontex")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--level", action="append", default=None)
    parser.add_argument("--refit-check", action="store_true")
    parser.add_argument("--reference", type=Path, default=None)
    parser.add_argument("--save", type=Path, default=None, help="write the forecast here (CSV)")
    args = parser.parse_args()
    forecast, figures = timed(args.source, args.horizon, args.level)
    report: dict[str, object] = {"source": args.source, "levels": args.level or "all", "yearly_refits": figures}
    if args.save:
        forecast.to_csv(args.save, index=False)
    if args.reference:
        report["against_reference"] = compare(forecast, pd.read_csv(args.reference))
    if args.refit_check:
        saved = dict(models.REFIT)
        models.REFIT.update({k: True for k in saved})
        try:
            every, figures_every = timed(args.source, args.horizon, args.level)
        finally:
            models.REFIT.update(saved)
        report["refit_every_origin"] = figures_every
        report["yearly_vs_every_origin"] = compare(forecast, every)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
