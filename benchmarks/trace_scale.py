"""Time and peak memory of the money detectors on a large synthetic ledger (issue 21: 10M payments in <= 5 min
and <= 8 GB). One JSON object.

The ledger is drawn here (not the sample generator, which would take longer than the analysis): ``--payments``
payments among ``--payments / 20`` accounts over two years, log-normal amounts, a fifth of them in cash. The
``flows`` figure is what ``avellino money flows`` runs on a ledger: ``patterns.detect`` with every pattern (one
DuckDB connection over the coded ledger) and ``follow.fee_collectors`` (``--migrants`` protected payers); the
per-pattern seconds time each detector on the one coded ledger. ``follow.trace`` from ``--migrants`` protected
payers is timed apart (one pass over the payments in Python, carrying bitsets of migrants: its cost grows with
payments x migrants / 64); ``--no-trace`` skips it. Load averages are quoted because the machine is shared.

    .venv/bin/python benchmarks/trace_scale.py --payments 1000000 --migrants 5000
    .venv/bin/python benchmarks/trace_scale.py --payments 10000000 --migrants 5000 --no-trace
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd


def ledger(n: int, seed: int = 1) -> pd.DataFrame:
    """The ledger in date order, its ids as Arrow strings (as a Parquet or DuckDB read gives them: 10M Python
    strings per column would cost more memory than the analysis)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    accounts = max(100, n // 20)
    src = rng.integers(0, accounts, n)
    dst = rng.integers(0, accounts, n)
    dst = np.where(dst == src, (dst + 1) % accounts, dst)
    day = np.sort(rng.integers(0, 730, n))
    names = pa.array(np.arange(accounts)).cast(pa.string())

    def strings(values: pa.Array) -> pd.Series:
        return pd.Series(pd.arrays.ArrowExtensionArray(values))

    return pd.DataFrame(
        {
            "tx": strings(pa.array(np.arange(n)).cast(pa.string())),
            "src": strings(names.take(pa.array(src))),
            "dst": strings(names.take(pa.array(dst))),
            "amount": rng.lognormal(7, 1, n).round(2),
            "date": np.datetime64("2023-01-01") + day.astype("timedelta64[D]"),
            "method": pd.Categorical.from_codes((rng.random(n) < 0.2).astype(np.int8), ["mto", "cash"]),
            "markings": "BENCH/H0/TLP:AMBER/B2",
        }
    )


def peak_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--migrants", type=int, default=5000, help="protected payers (fee collection, trace)")
    parser.add_argument("--no-trace", action="store_true", help="skip follow.trace")
    args = parser.parse_args()
    from avellino.network.protect import Protection
    from avellino.trace import follow, patterns
    from avellino.trace.ledger import Ledger

    out: dict[str, object] = {"load_avg_start": load(), "cpus": os.cpu_count()}
    start = time.perf_counter()
    tx = ledger(args.payments)
    out.update(payments=len(tx), accounts=int(tx["src"].nunique()), make_s=round(time.perf_counter() - start, 1))
    print(f"ledger made: {out['make_s']} s, peak {peak_gb()} GB", file=sys.stderr, flush=True)
    migrants = tx["src"].drop_duplicates().head(args.migrants)
    led = Ledger(tx, Protection.of(migrants, "victim"))

    t0 = time.perf_counter()
    found = patterns.detect(tx)
    collectors = follow.fee_collectors(led)
    flows_s = round(time.perf_counter() - t0, 1)
    out["flows"] = {"seconds": flows_s, "findings": len(found) + len(collectors), "peak_rss_gb": peak_gb()}
    print(f"flows: {flows_s} s, {len(found)} findings, peak {peak_gb()} GB", file=sys.stderr, flush=True)

    per: dict[str, float] = {}
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    coded = patterns.Coded(tx)
    per["code_ledger"] = round(time.perf_counter() - t0, 1)
    detectors = {
        "fan_in": lambda: patterns.fan(coded, "d", "s", patterns.FAN_MIN, patterns.FAN_WINDOW, "fan_in", "c"),
        "fan_out": lambda: patterns.fan(coded, "s", "d", patterns.FAN_MIN, patterns.FAN_WINDOW, "fan_out", "d"),
        "pass_through": lambda: patterns.pass_through(coded),
        "layering_and_cycle": lambda: [f for fs in patterns.chains_and_cycles(coded) for f in fs],
        "structuring": lambda: patterns.structuring(coded),
        "hawala_settlement": lambda: patterns.settlements(coded),
        "cash_courier": lambda: patterns.cash_couriers(coded),
    }
    for name, run in detectors.items():
        t0 = time.perf_counter()
        counts[name] = len(run())
        per[name] = round(time.perf_counter() - t0, 1)
        print(f"{name}: {per[name]} s, {counts[name]} findings, peak {peak_gb()} GB", file=sys.stderr, flush=True)
    coded.close()
    out["detect_s"] = per
    out["findings"] = counts
    if not args.no_trace:
        t0 = time.perf_counter()
        reached = follow.trace(led)
        out["trace"] = {"migrants": len(migrants), "seconds": round(time.perf_counter() - t0, 1),
                        "reached": len(reached)}  # fmt: skip
    out["peak_rss_gb"] = peak_gb()
    out["load_avg_end"] = load()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
