"""``avellino serve``: the node server. Partners POST bundles to it and GET the bundles waiting for them.

Every request must be signed with the calling partner's node key (``http_auth.py``); there are no passwords.
A POSTed bundle is kept in ``inbox/`` and received exactly as ``avellino share receive`` would (every check,
one atomic batch, or refused with 422 and nothing written). ``GET /v1/outbox`` lists, and
``GET /v1/outbox/NAME`` returns, what this node left for the caller in ``outbox/CALLER/`` (bundles sent with
``--outbox`` and forwarded withdrawals). ``POST /v1/hitcheck`` takes a hit/no-hit query or answer addressed to this
node and keeps it in ``hitcheck/`` (``hitcheck/mailbox.py`` checks it). Every read and every hit/no-hit file taken
is appended to the workspace's audit log.

The workspace is opened per request and closed after it, so the CLI can still use a DuckDB workspace between
requests; requests that write are serialised by a lock.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from avellino.errors import AvellinoError
from avellino.share.bundle import BundleRefused
from avellino.share.http_auth import Refused, Verifier
from avellino.share.node import Node, Partner
from avellino.share.receive import ReceiveResult
from avellino.store import open_store

MAX_BUNDLE = 4 << 30
MAX_HITCHECK = 1 << 30
#: what an outbox serves: bundles, and hit/no-hit queries and answers left with ``--outbox``
SERVED = (".avb", ".query", ".answer")


def create_app(node: Node, workspace: Path | None) -> FastAPI:
    app = FastAPI(title=f"Avellino node {node.name}", docs_url=None, redoc_url=None, openapi_url=None)
    verifier = Verifier()
    writing = threading.Lock()

    async def caller(request: Request, body_sha256: str | None = None) -> Partner:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            return verifier.check(headers, request.method, request.url.path, body_sha256, node.partners())
        except Refused as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from exc

    def audited(partner: Partner, action: str, touched: list[str]) -> None:
        from avellino.share.cli import audit

        with writing, open_store(workspace) as store:
            audit(store, f"partner request from {partner.name}", action, touched)

    @app.get("/v1/node")
    async def whoami() -> dict[str, object]:
        """This node's public card (unauthenticated: it is public)."""
        return node.card_json()

    async def spooled(request: Request, folder: Path, limit: int, what: str) -> tuple[Path, Partner]:
        """The body streamed to a file in ``folder`` (a bundle may be gigabytes), hashed on the way for the request
        signature, and the partner that signed it; nothing is left when the request is refused."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"incoming-{uuid.uuid4().hex}.partial"
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("wb") as fh:
                async for block in request.stream():
                    size += len(block)
                    if size > limit:
                        raise HTTPException(status_code=413, detail=f"{what} too large")
                    digest.update(block)
                    fh.write(block)
            return path, await caller(request, digest.hexdigest())
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    @app.post("/v1/bundles")
    async def receive(request: Request) -> dict[str, object]:
        path, partner = await spooled(request, node.dir / "inbox", MAX_BUNDLE, "bundle")
        kept = path.with_name(f"{partner.name}-{uuid.uuid4().hex}.avb")
        path.replace(kept)
        from avellino.share.receive import receive_bundle

        def run() -> ReceiveResult:
            with writing:
                return receive_bundle(lambda: open_store(workspace), node, kept)

        try:
            result = await run_in_threadpool(run)
        except BundleRefused as exc:
            kept.unlink(missing_ok=True)
            raise HTTPException(status_code=422, detail=exc.reason) from exc
        except AvellinoError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        summary = (
            f"{result.kind} bundle {result.bundle_id[:8]}: {result.statements} statements, {result.added} new, "
            f"{result.withdrawn} withdrawn" + (" (already received)" if result.skipped else "")
        )
        return {"result": summary, "bundle_id": result.bundle_id, "added": result.added,
                "withdrawn": result.withdrawn}  # fmt: skip

    @app.post("/v1/hitcheck")
    async def hitcheck(request: Request) -> dict[str, object]:
        """A hit/no-hit query or answer from a partner, kept for ``avellino hitcheck inbox`` (never answered
        here: an analyst answers, under the policy and the audit of ``avellino hitcheck answer``)."""
        from avellino.hitcheck import mailbox
        from avellino.hitcheck.exchange import ExchangeRefused

        path, partner = await spooled(request, mailbox.folder(node.dir), MAX_HITCHECK, "hit/no-hit file")
        try:
            arrived = await run_in_threadpool(
                mailbox.check, node, partner.name, path, f"hit/no-hit file from {partner.name}"
            )
            action = f"api hitcheck {arrived.kind} {arrived.query_id} received ({arrived.count} person(s))"
            await run_in_threadpool(audited, partner, action, [f"{arrived.kind} {arrived.query_id}"])
        except ExchangeRefused as exc:
            path.unlink(missing_ok=True)
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        kept, again = mailbox.keep(node.dir, arrived)
        summary = f"hit/no-hit {arrived.kind} {arrived.query_id[:8]} ({arrived.count} person(s))" + (
            " (already received)" if again else f" kept as {kept.name}"
        )
        return {"result": summary, "kind": arrived.kind, "query_id": arrived.query_id, "name": kept.name}

    @app.get("/v1/outbox")
    async def listing(request: Request) -> dict[str, object]:
        partner = await caller(request)
        box = node.dir / "outbox" / partner.name
        names = sorted(p.name for p in box.iterdir() if p.suffix in SERVED) if box.is_dir() else []
        await run_in_threadpool(audited, partner, "api read outbox list", names)
        return {"bundles": [{"name": n, "bytes": (box / n).stat().st_size} for n in names]}

    @app.get("/v1/outbox/{name}")
    async def download(name: str, request: Request) -> FileResponse:
        partner = await caller(request)
        box = node.dir / "outbox" / partner.name
        path = box / name
        if "/" in name or Path(name).suffix not in SERVED or not path.is_file():
            raise HTTPException(status_code=404, detail="no such bundle for you")
        await run_in_threadpool(audited, partner, "api read bundle", [name])
        return FileResponse(path, media_type="application/octet-stream")

    return app
