"""Accuracy of ``avellino.trace`` (issue 21): one JSON object.

* ``amlsim``: every money detector on the AMLSim export in ``../shared/data/aml/amlsim_exports_v2`` (synthetic,
  labelled by its own generator: 3 ``fan_in`` alerts), precision and recall on accounts (top level) and on
  transactions, and which labelled alerts' hubs a fan-in finding names. The thresholds are the fixed rules of
  ``trace/patterns.py``; nothing was tuned on AMLSim.
* ``sample``: sample operations (generated, ingested, the legitimate-buyer stage added, resolved with
  ``avellino.resolve``): the suspicious-buyer ranking (precision at 20, average precision, R-precision) against
  ``truth/persons.csv`` (network buyers) and ``truth/buyers.csv`` (legitimate buyers), the share of true
  organisers reached by a time-respecting path from migrants' payments, and how many true victims appear in
  any finding, trace, asset or buyer list (must be 0). ``sample`` is the mean over the runs, ``sample_runs``
  each run. The buyer ``linked`` rule was corrected on seed 7 / scale 2000 (ties to one's own sellers no
  longer count), so the default runs use other seeds.

    .venv/bin/python benchmarks/trace_accuracy.py
    .venv/bin/python benchmarks/trace_accuracy.py --runs 41:2000 --amlsim ../shared/data/aml/amlsim_exports_v2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AMLSIM = ROOT.parent / "shared" / "data" / "aml" / "amlsim_exports_v2"
RUNS = "41:2000,43:2000,47:5000"
MISSING = [
    "organisers traced: 3 of the 21 true organisers in the default runs receive no recorded payment at all (every "
    "organiser a payment reaches is traced: organisers_traced_of_paid = 1.0), so 0.814 is the ceiling of any "
    "money path on these samples",
    "buyers: precision at 20 is capped by the number of suspicious buyers (seed 43 has 16: ceiling 0.8); "
    "precision_at_20_ceiling gives the mean ceiling",
    "cash couriers: found from cash payments; recorded legs or trips in the period are noted, not required",
    "hawala settlement across countries: the sample's parties carry no country, so its notes say 'countries not "
    "recorded'; AMLSim's accounts are all US, so no settlement across countries is found there",
    "AMLSim labels hold only fan_in alerts: recall of the other detectors cannot be measured (null)",
]


def amlsim(folder: Path) -> dict[str, Any]:
    from avellino.trace import amlsim as loader
    from avellino.trace import evaluate, patterns

    ledger = loader.load(folder)
    start = time.perf_counter()
    findings = patterns.detect(ledger.tx, countries=ledger.countries)
    seconds = time.perf_counter() - start
    scored = evaluate.score_amlsim(ledger.tx, findings, loader.labels(folder), patterns.PATTERNS)
    scored["detect_s"] = round(seconds, 2)
    scored["transactions"] = len(ledger)
    return scored


def sample_run(seed: int, scale: int) -> dict[str, Any]:
    from avellino.ingest.run import ingest_file
    from avellino.resolve import store_io
    from avellino.sample import generate
    from avellino.sample.legit import add_legitimate
    from avellino.store.duckdb_store import DuckDBStore
    from avellino.trace import evaluate, ledger

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "op", scale=scale, seed=seed)
        added = add_legitimate(root / "op", seed, scale)
        manifest = json.loads((root / "op" / "manifest.json").read_text())
        store = DuckDBStore(root / "ws", create=True)
        for f in manifest["files"]:
            ingest_file(store, root / "op" / f["path"], root / "op" / f["mapping"])
        store_io.run(store)
        start = time.perf_counter()
        scored = evaluate.score_sample(ledger.from_store(store), root / "op" / "truth")
        scored["analysis_s"] = round(time.perf_counter() - start, 2)
        store.close()
    return {"seed": seed, "scale": scale, "legitimate": added, **scored}


def mean(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def avg(values: list[Any]) -> float | None:
        vals = [v for v in values if v is not None]
        return round(sum(vals) / len(vals), 3) if vals else None

    return {
        "runs": len(runs),
        "buyers": {
            k: avg([r["buyers"][k] for r in runs])
            for k in ("precision_at_20", "average_precision", "r_precision", "precision_at_20_ceiling")
        },
        "organisers_traced": avg([r["organisers_traced"] for r in runs]),
        "organisers_traced_of_paid": avg([r["organisers_traced_of_paid"] for r in runs]),
        "victims_listed": sum(r["victims_listed"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=RUNS, help="seed:scale,... sample operations to score")
    parser.add_argument("--amlsim", type=Path, default=AMLSIM, help="AMLSim export folder")
    args = parser.parse_args()
    out: dict[str, Any] = {"amlsim": amlsim(args.amlsim) if args.amlsim.exists() else {"skipped": "not found"}}
    runs = [sample_run(int(s), int(n)) for s, n in (r.split(":") for r in args.runs.split(",") if r)]
    out["sample"] = mean(runs)
    out["sample_runs"] = runs
    out["missing"] = MISSING
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
