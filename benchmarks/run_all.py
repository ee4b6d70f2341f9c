"""Run every benchmark script in this folder and print one JSON object: each one's output, time and exit code.

    .venv/bin/python benchmarks/run_all.py                 # --quick (default): small arguments, a few minutes
    .venv/bin/python benchmarks/run_all.py --full          # each script's own defaults (hours, up to 1M records)
    .venv/bin/python benchmarks/run_all.py flows_backtest resolve_sample   # only these
    .venv/bin/python benchmarks/run_all.py --list          # the scripts and the arguments each mode gives them

Every ``*.py`` here except this one is a benchmark that prints one JSON object on stdout (its progress goes to
stderr, passed through). Scripts that need a workspace of the sample operation (``{workspace}``, ``{truth}``
in their arguments) get one made once by ``avellino sample`` and ``avellino ingest`` in a temporary folder
(scale 2,000 with --quick, 20,000 with --full). A new script runs with no arguments until it is listed below.
Figures are printed, never asserted: the exit code is 1 only when a script failed or timed out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
AVELLINO = str(Path(PYTHON).with_name("avellino"))

#: Arguments with --quick: each script's smallest meaningful run (a minute or so each on 2 cores).
QUICK: dict[str, list[str]] = {
    "engine_scale": ["--records", "10000"],  # one JSON line per engine; Spark's is a skip note without Java
    "flows_backtest": ["--only", "uk", "--cutoff", "2024-09-30"],
    "ingest_throughput": ["--scale", "20000"],
    "network_build": ["--workspace", "{workspace}", "--repeat", "2"],
    "network_disruption": ["--only", "phase1.csv", "--effort", "2", "--exact-seconds", "5"],
    "network_roles": ["--runs", "41:2000"],
    "network_scale": ["--nodes", "20000", "--edges", "200000", "--k", "5"],
    "network_targets": ["--workspace", "{workspace}", "--k", "10", "--effort", "2"],
    "resolve_clusters": ["--workspace", "{workspace}", "--truth", "{truth}", "--run"],
    "resolve_sample": ["--scale", "2000"],
    "resolve_scale": ["--records", "20000"],
    "resolve_translit": [],
    "sample_generate": ["--scale", "20000"],
}
#: Arguments with --full: the scripts' own defaults, plus what they require.
FULL: dict[str, list[str]] = {
    "network_build": ["--workspace", "{workspace}"],
    "network_targets": ["--workspace", "{workspace}"],
    "resolve_clusters": ["--workspace", "{workspace}", "--truth", "{truth}", "--run"],
}
SAMPLE_SCALE = {"quick": 2_000, "full": 20_000}


def scripts() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem != "run_all" and not p.stem.startswith("_"))


def arguments(name: str, mode: str) -> list[str]:
    return (QUICK if mode == "quick" else FULL).get(name, [])


def sample_workspace(folder: Path, scale: int) -> dict[str, str]:
    """Generate the sample operation and ingest it into a workspace; ``{workspace}`` and ``{truth}``."""
    sample, workspace = folder / "sample-op", folder / "workspace"
    for command in (
        [AVELLINO, "sample", "--out", str(sample), "--scale", str(scale)],
        [AVELLINO, "init", "--workspace", str(workspace)],
        [AVELLINO, "ingest", "--manifest", str(sample / "manifest.json"), "--workspace", str(workspace)],
    ):
        subprocess.run(command, check=True, stdout=sys.stderr)
    return {"workspace": str(workspace), "truth": str(sample / "truth")}


def run_one(name: str, args: list[str], timeout: float) -> dict[str, object]:
    command = [PYTHON, str(HERE / f"{name}.py"), *args]
    print(f"== {name} {' '.join(args)}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"args": args, "seconds": round(time.perf_counter() - start, 1), "status": "timeout"}
    seconds = round(time.perf_counter() - start, 1)
    try:
        output: object = json.loads(done.stdout)
    except json.JSONDecodeError:
        output = done.stdout[-2000:]  # not one JSON object: keep the tail as text
    status = "ok" if done.returncode == 0 else "failed"
    return {"args": args, "seconds": seconds, "status": status, "returncode": done.returncode, "output": output}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="small arguments (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="each script's own defaults")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per benchmark (default 900 quick)")
    parser.add_argument("--list", action="store_true", help="print the scripts and their arguments, run nothing")
    opts = parser.parse_args()
    mode_name = opts.mode or "quick"
    available = scripts()
    unknown = sorted(set(opts.names) - set(available))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are: {', '.join(available)}")
    names = opts.names or available
    if opts.list:
        print(json.dumps({name: arguments(name, mode_name) for name in names}, indent=1))
        return
    timeout = opts.timeout or (900.0 if mode_name == "quick" else 6 * 3600.0)
    results: dict[str, object] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="avellino-bench-") as tmp:
        fill: dict[str, str] | None = None
        for name in names:
            args = arguments(name, mode_name)
            if any("{" in a for a in args):
                try:
                    fill = fill or sample_workspace(Path(tmp), SAMPLE_SCALE[mode_name])
                except subprocess.CalledProcessError as exc:
                    results[name] = {"args": args, "status": "failed", "output": f"sample workspace: {exc}"}
                    continue
            results[name] = run_one(name, [a.format(**(fill or {})) for a in args], timeout)
    report = {"mode": mode_name, "seconds": round(time.perf_counter() - start, 1), "benchmarks": results}
    print(json.dumps(report, indent=1))
    failed = [n for n, r in results.items() if isinstance(r, dict) and r["status"] != "ok"]
    if failed:
        print(f"failed or timed out: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
