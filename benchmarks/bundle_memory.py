"""Peak memory and throughput of sending and receiving a bundle of a sample operation's workspace.

    .venv/bin/python benchmarks/bundle_memory.py --sample /work/scratch/s200k [--sender UK-NCA] [--keep DIR]
    .venv/bin/python benchmarks/bundle_memory.py --workspace /work/scratch/ws200k   # a copy is used, never it

With ``--sample`` the operation is first ingested into a fresh workspace (plain ingest: the speed a receive is
compared with). Each step (ingest, send, receive) runs in its own child process, which reports its own peak
RSS, so one step's memory never counts against another. Prints one JSON object. Targets (issue 17): bundles
stream (a 1M-record sample within 2 GB) and receive runs at >= 50% of plain ingest speed. ``onward``: the receiver
passes on what the policy lets go onward to a third node, which checks every passed-on fact against the sender's
signed manifest (``share/proofs.py``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RECEIVER = "BENCH-RECEIVER"
ONWARD = "BENCH-ONWARD"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(name: str, work: Path, extra: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, "--work", str(work), *extra], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def step_ingest(work: Path, sample: Path) -> dict[str, Any]:
    from avellino.ingest.cli import _manifest_jobs
    from avellino.ingest.run import ingest_files
    from avellino.store import open_store

    jobs = _manifest_jobs(sample / "manifest.json")
    start = time.perf_counter()
    with open_store(work / "sender", create=True) as store:
        outcomes = list(ingest_files(store, jobs, workers=2))
        statements = store.count_statements()
    seconds = time.perf_counter() - start
    failed = [str(p) for p, o in outcomes if not hasattr(o, "added")]
    return {"files": len(jobs), "failed": failed, "statements": statements, "seconds": round(seconds, 2),
            "statements_per_s": round(statements / seconds), "peak_rss_mb": round(_peak_mb())}  # fmt: skip


def step_nodes(work: Path, sender: str) -> dict[str, Any]:
    from avellino.share.node import Partner, init_node, read_card

    a = init_node(work / "sender-node", sender, "GB")
    b = init_node(work / "receiver-node", RECEIVER, "FR")
    c = init_node(work / "onward-node", ONWARD, "DE")
    for me, other in ((a, b), (b, a), (b, c), (c, b), (c, a)):
        card = work / f"{other.name}.json"
        card.write_text(json.dumps(other.card_json()))
        me.add_partner(Partner(read_card(card)))
    return {}


def step_send(work: Path) -> dict[str, Any]:
    from avellino.share.node import load_node
    from avellino.share.send import send_bundle
    from avellino.store import open_store

    node = load_node(work / "sender-node")
    start = time.perf_counter()
    with open_store(work / "sender", read_only=True) as store:
        sent = send_bundle(store, node, [node.partner(RECEIVER)], "benchmark", work / "bundle.avb")
    seconds = time.perf_counter() - start
    total = sent.statements + sum(sent.withheld.values())
    return {"workspace_statements": total, "statements": sent.statements, "entities": sent.entities,
            "withheld": sent.withheld, "bytes": (work / "bundle.avb").stat().st_size, "seconds": round(seconds, 2),
            "statements_per_s": round(total / seconds), "peak_rss_mb": round(_peak_mb())}  # fmt: skip


def step_receive(work: Path) -> dict[str, Any]:
    from avellino.share.node import load_node
    from avellino.share.receive import receive_bundle
    from avellino.store import open_store

    node = load_node(work / "receiver-node")
    with open_store(work / "receiver", create=True):
        pass
    start = time.perf_counter()
    got = receive_bundle(lambda: open_store(work / "receiver"), node, work / "bundle.avb")
    seconds = time.perf_counter() - start
    return {"statements": got.statements, "added": got.added, "seconds": round(seconds, 2),
            "statements_per_s": round(got.statements / seconds), "peak_rss_mb": round(_peak_mb())}  # fmt: skip


def step_onward(work: Path) -> dict[str, Any]:
    """The receiver passes on what the policy lets go onward (the sender's GREEN and CLEAR facts), with the
    sender's proofs; a third node receives it, checking every fact against the sender's manifest."""
    from avellino.share.node import load_node
    from avellino.share.receive import receive_bundle
    from avellino.share.send import send_bundle
    from avellino.store import open_store

    node = load_node(work / "receiver-node")
    start = time.perf_counter()
    with open_store(work / "receiver", read_only=True) as store:
        sent = send_bundle(store, node, [node.partner(ONWARD)], "benchmark", work / "onward.avb")
    send_seconds = time.perf_counter() - start
    with open_store(work / "onward", create=True):
        pass
    start = time.perf_counter()
    got = receive_bundle(lambda: open_store(work / "onward"), load_node(work / "onward-node"), work / "onward.avb")
    seconds = time.perf_counter() - start
    return {"statements": got.statements, "withheld": sent.withheld, "send_seconds": round(send_seconds, 2),
            "bytes": (work / "onward.avb").stat().st_size, "seconds": round(seconds, 2),
            "statements_per_s": round(got.statements / seconds), "peak_rss_mb": round(_peak_mb())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=Path, help="A sample operation folder (with manifest.json) to ingest first")
    parser.add_argument("--workspace", type=Path, help="A workspace to copy and send from (left unchanged)")
    parser.add_argument("--sender", default="UK-NCA", help="The sending node: its own facts go, others' by policy")
    parser.add_argument("--keep", type=Path, help="Work folder to keep (default: a temporary one)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        steps = {
            "ingest": lambda: step_ingest(args.work, args.sample),
            "nodes": lambda: step_nodes(args.work, args.sender),
            "send": lambda: step_send(args.work),
            "receive": lambda: step_receive(args.work),
            "onward": lambda: step_onward(args.work),
        }
        print(json.dumps(steps[args.step]()))
        return
    if bool(args.sample) == bool(args.workspace):
        raise SystemExit("give --sample DIR or --workspace DIR")
    work = args.keep or Path(tempfile.mkdtemp(prefix="avellino-bundle-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"source": str(args.sample or args.workspace), "sender": args.sender}
    try:
        if args.sample:
            out["ingest"] = _step("ingest", work, ["--sample", str(args.sample)])
        else:
            shutil.copytree(args.workspace, work / "sender")
        _step("nodes", work, ["--sender", args.sender])
        out["send"] = _step("send", work, [])
        out["receive"] = _step("receive", work, [])
        out["onward"] = _step("onward", work, [])
        if "ingest" in out:
            out["receive_vs_ingest"] = round(out["receive"]["statements_per_s"] / out["ingest"]["statements_per_s"], 2)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
