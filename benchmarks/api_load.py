"""Load on the workbench API: N concurrent clients, each logged in as an analyst, doing search + entity reads for
S seconds over real HTTP on loopback against `avellino serve` on a workspace (issue 19: 200 clients, 60 s, the
200k sample, target p95 < 300 ms).

Each client loops: search a name (picked from the workspace's own names, spelled as stored), then read the first
hit's entity; ``--think`` seconds between a client's requests (0: closed loop, every client always waiting on a
request, which makes latency = clients / throughput). Every request is audited by the server, as in production.
The workspace is copied first (the audit log is written), so the original is untouched.

    python benchmarks/api_load.py --workspace ../scratch/ws200k --clients 200 --seconds 60
Prints one JSON object: {"clients", "seconds", "requests", "errors", "p50_ms", "p95_ms", "p99_ms", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "benchmark password 1"


def names_of(workspace: Path, n: int = 2000) -> list[str]:
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        table = store.read_statements(schemata=["Person"], columns=["prop", "value"])
    values = [v for p, v in zip(table.column("prop").to_pylist(), table.column("value").to_pylist(), strict=True)
              if p == "name" and v]  # fmt: skip
    random.Random(1).shuffle(values)
    return values[:n]


async def login(url: str) -> httpx.AsyncClient:
    """A client with an analyst's session (logging in is not part of the measured load: Argon2id costs about
    0.1 s of CPU by design)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    c = httpx.AsyncClient(base_url=url, timeout=30, limits=limits)
    r = await c.post("/api/login", json={"user": "loadtest", "password": PASSWORD, "purpose": "load benchmark"})
    r.raise_for_status()
    return c


async def _get(c: httpx.AsyncClient, url: str, **kw: object) -> httpx.Response:
    """A GET that reconnects once when the server had closed the idle keep-alive connection (as a browser does)."""
    try:
        return await c.get(url, **kw)  # type: ignore[arg-type]
    except httpx.RemoteProtocolError:
        return await c.get(url, **kw)  # type: ignore[arg-type]


async def client(c: httpx.AsyncClient, names: list[str], until: float, think: float, latencies: list[float],
                 errors: list[str], seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    try:
        while time.monotonic() < until:
            name = rng.choice(names)
            t = time.perf_counter()
            r = await _get(c, "/api/search", params={"q": name, "limit": 10})
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(f"search {r.status_code}")
                continue
            hits = r.json()["hits"]
            if think:
                await asyncio.sleep(think)
            if hits and time.monotonic() < until:
                t = time.perf_counter()
                r = await _get(c, f"/api/entities/{hits[0]['id']}")
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors.append(f"entity {r.status_code}")
            if think:
                await asyncio.sleep(think)
    finally:
        await c.aclose()


async def run(url: str, names: list[str], clients: int, seconds: float, think: float) -> dict[str, object]:
    latencies: list[float] = []
    errors: list[str] = []
    sessions = [await login(url) for _ in range(clients)]
    until = time.monotonic() + seconds
    start = time.monotonic()
    await asyncio.gather(*(client(c, names, until, think, latencies, errors, i) for i, c in enumerate(sessions)))
    wall = time.monotonic() - start
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else 0.0

    return {
        "clients": clients,
        "seconds": seconds,
        "think_s": think,
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=0.0)
    ap.add_argument("--port", type=int, default=18473)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="api-load-"))
    ws = tmp / "ws"
    shutil.copytree(args.workspace, ws, ignore=shutil.ignore_patterns("node", "audit.duckdb*"))
    exe = [str(Path(sys.executable).parent / "avellino")]
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("AVELLINO_STORE_URL", None)
    subprocess.run([*exe, "user", "add", "loadtest", "--role", "analyst", "--password-stdin", "-w", str(ws)],
                   input=PASSWORD + "\n", text=True, check=True, env=env, capture_output=True)  # fmt: skip
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen([*exe, "serve", "-w", str(ws), "--port", str(args.port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{args.port}"
    try:
        names = names_of(ws)
        ready = time.monotonic()
        while True:  # the first request builds the read model
            try:
                with httpx.Client(base_url=url, timeout=600) as c:
                    if (
                        c.post(
                            "/api/login", json={"user": "loadtest", "password": PASSWORD, "purpose": "warm-up"}
                        ).status_code
                        == 200
                    ):
                        c.get("/api/search", params={"q": names[0]})
                        break
            except httpx.HTTPError:
                if server.poll() is not None:
                    raise SystemExit((tmp / "serve.log").read_text()) from None
                time.sleep(0.5)
        warm = time.monotonic() - ready
        result = asyncio.run(run(url, names, args.clients, args.seconds, args.think))
        result["statements"] = _statements(ws)
        result["first_read_s"] = round(warm, 1)
        print(json.dumps(result))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def _statements(ws: Path) -> int:
    from avellino.store import open_store

    with open_store(ws, read_only=True) as store:
        return store.count_statements()


if __name__ == "__main__":
    main()
