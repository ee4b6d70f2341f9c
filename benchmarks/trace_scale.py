"""Time and peak memory of the money detectors on a large synthetic ledger (issue 21: 10M payments in <= 5 min
and <= 8 GB). One JSON object.

The ledger is drawn here (not the sample generator, which would take longer than the analysis): ``--payments``
payments among ``--payments / 20`` accounts over two years, log-normal amounts, a few hundred planted fan-ins.
It measures each pattern of ``patterns.detect`` and ``follow.trace`` from ``--migrants`` protected payers (one
pass over the payments carrying bitsets of migrants; its cost grows with payments x migrants / 64).

    .venv/bin/python benchmarks/trace_scale.py --payments 1000000 --migrants 5000
    .venv/bin/python benchmarks/trace_scale.py --payments 10000000 --migrants 50000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import pandas as pd


def ledger(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    accounts = max(100, n // 20)
    src = rng.integers(0, accounts, n)
    dst = rng.integers(0, accounts, n)
    dst = np.where(dst == src, (dst + 1) % accounts, dst)
    day = rng.integers(0, 730, n)
    return pd.DataFrame(
        {
            "tx": np.arange(n).astype(str),
            "src": pd.Categorical(src).astype(str),
            "dst": pd.Categorical(dst).astype(str),
            "amount": rng.lognormal(7, 1, n).round(2),
            "date": np.datetime64("2023-01-01") + day.astype("timedelta64[D]"),
            "method": "",
            "markings": "BENCH/H0/TLP:AMBER/B2",
        }
    )


def peak_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--migrants", type=int, default=5000, help="protected payers traced forward")
    args = parser.parse_args()
    from avellino.network.protect import Protection
    from avellino.trace import follow, patterns
    from avellino.trace.ledger import Ledger

    start = time.perf_counter()
    tx = ledger(args.payments).sort_values(["date", "tx"]).reset_index(drop=True)
    made = time.perf_counter() - start
    out: dict[str, object] = {"payments": len(tx), "accounts": int(tx["src"].nunique()), "make_s": round(made, 1)}
    per: dict[str, float] = {}
    counts: dict[str, int] = {}
    for p in patterns.PATTERNS:
        t0 = time.perf_counter()
        found = patterns.detect(tx, patterns=(p,))
        per[p] = round(time.perf_counter() - t0, 1)
        counts[p] = len(found)
        print(f"{p}: {per[p]} s, {len(found)} findings, peak {peak_gb()} GB", file=sys.stderr, flush=True)
    out["detect_s"] = per
    out["detect_total_s"] = round(sum(per.values()), 1)
    out["findings"] = counts
    migrants = tx["src"].drop_duplicates().head(args.migrants)
    t0 = time.perf_counter()
    reached = follow.trace(Ledger(tx, Protection.of(migrants, "victim")))
    out["trace"] = {"migrants": len(migrants), "seconds": round(time.perf_counter() - t0, 1), "reached": len(reached)}
    out["peak_rss_gb"] = peak_gb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
