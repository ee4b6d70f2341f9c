"""Load on the workbench API: N concurrent clients, each logged in as an analyst, doing search + entity reads for
S seconds over real HTTP on loopback against `avellino serve` on a workspace (issue 19: 200 clients, 60 s, the
200k sample, target p95 < 300 ms).

Each client loops: search a name (picked from the workspace's own names, spelled as stored), then read the first
hit's entity; ``--think`` seconds between a client's requests (0: closed loop, every client always waiting on a
request, which makes latency = clients / throughput). Every request is audited by the server, as in production.
The workspace is copied first (the audit log is written), so the original is untouched.

    python benchmarks/api_load.py --workspace ../scratch/ws200k --clients 200 --seconds 60 [--workers 2]
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
from urllib.parse import quote, urlencode, urlsplit

import httptools
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


class Client:
    """One analyst's browser: one keep-alive HTTP/1.1 connection with the session cookie.

    A plain asyncio stream and uvicorn's own parser (``httptools``) rather than httpx: httpx spends about 1.3 ms
    of CPU a request, on the same two cores as the server it measures, which would make the server look slower
    than it is. Requests and answers are the real ones (full JSON bodies read and parsed)."""

    def __init__(self, url: str, cookie: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = f"Host: {parts.netloc}\r\nCookie: {cookie}\r\nAccept: application/json\r\n\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """A GET that reconnects once when the server had closed the idle keep-alive connection (as a browser
        does)."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._get(path)
            except (ConnectionError, asyncio.IncompleteReadError, httptools.HttpParserError):
                self.writer.close()
                self.writer = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _get(self, path: str) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.head)
        body: list[bytes] = []
        done: list[bool] = []

        class Sink:
            def on_body(self, data: bytes) -> None:
                body.append(data)

            def on_message_complete(self) -> None:
                done.append(True)

        parser = httptools.HttpResponseParser(Sink())
        while not done:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        return parser.get_status_code(), b"".join(body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def login(url: str) -> Client:
    """A client with an analyst's session (logging in is not part of the measured load: Argon2id costs about
    0.1 s of CPU by design)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        r = await c.post("/api/login", json={"user": "loadtest", "password": PASSWORD, "purpose": "load benchmark"})
        r.raise_for_status()
        return Client(url, f"avellino_session={r.cookies['avellino_session']}")


async def client(c: Client, names: list[str], until: float, think: float, latencies: list[float],
                 errors: list[str], seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    try:
        while time.monotonic() < until:
            name = rng.choice(names)
            t = time.perf_counter()
            status, body = await c.get("/api/search?" + urlencode({"q": name, "limit": 10}))
            latencies.append(time.perf_counter() - t)
            if status != 200:
                errors.append(f"search {status}")
                continue
            hits = json.loads(body)["hits"]
            if think:
                await asyncio.sleep(think)
            if hits and time.monotonic() < until:
                t = time.perf_counter()
                status, body = await c.get(f"/api/entities/{quote(hits[0]['id'])}")
                json.loads(body)
                latencies.append(time.perf_counter() - t)
                if status != 200:
                    errors.append(f"entity {status}")
            if think:
                await asyncio.sleep(think)
    finally:
        await c.close()


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
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: one a core)")
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
    server = subprocess.Popen(
        [*exe, "serve", "-w", str(ws), "--port", str(args.port), "--workers", str(args.workers)],
        env=env,
        stdout=log,
        stderr=log,
    )
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
                        cookie = c.cookies["avellino_session"]
                        break
            except httpx.HTTPError:
                if server.poll() is not None:
                    raise SystemExit((tmp / "serve.log").read_text()) from None
                time.sleep(0.5)
        warm = time.monotonic() - ready
        # every worker process builds its own read model: wait until fresh connections (spread over the workers by
        # the kernel) all answer quickly
        for _ in range(600):
            slowest = 0.0
            for name in names[1 : 1 + 4 * args.workers]:
                with httpx.Client(base_url=url, timeout=600, cookies={"avellino_session": cookie}) as c:
                    t = time.monotonic()
                    c.get("/api/search", params={"q": name}).raise_for_status()
                    slowest = max(slowest, time.monotonic() - t)
            if slowest < 0.5:
                break
        warm_all = time.monotonic() - ready
        result = asyncio.run(run(url, names, args.clients, args.seconds, args.think))
        result["workers"] = args.workers
        result["load_average_1m"] = round(os.getloadavg()[0], 1)  # other work on the machine skews the figures
        result["statements"] = _statements(ws)
        result["first_read_s"] = round(warm, 1)
        result["all_workers_ready_s"] = round(warm_all, 1)
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
