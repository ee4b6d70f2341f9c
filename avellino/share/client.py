"""Talking to a partner's node server (``avellino serve``): push a bundle (or a hit/no-hit file), fetch this node's
outbox there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from avellino.errors import ConfigError
from avellino.share.bundle import file_sha256
from avellino.share.http_auth import sign_request
from avellino.share.node import Node, Partner

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def _base(partner: Partner, url: str | None) -> str:
    base = url or partner.url
    if not base:
        raise ConfigError(
            f"No server known for {partner.name}: give --url, or register it with avellino partner add CARD --url URL"
        )
    return base.rstrip("/")


def _call(node: Node, method: str, base: str, path: str, upload: Path | None = None) -> httpx.Response:
    digest = file_sha256(upload) if upload is not None else None
    headers = sign_request(node, method, path, digest=digest)
    try:
        if upload is None:
            response = httpx.request(method, base + path, headers=headers, timeout=TIMEOUT)
        else:
            with upload.open("rb") as body:  # streamed, never read whole into memory
                response = httpx.request(method, base + path, content=_chunks(body), headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise ConfigError(f"Cannot reach {base}: {exc}") from exc
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ConfigError(f"{base}{path} answered {response.status_code}: {detail}")
    return response


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while block := fh.read(1 << 20):
        yield block


def push(node: Node, partner: Partner, bundle: Path, url: str | None = None) -> str:
    """POST a bundle, or a hit/no-hit query or answer file (``hitcheck/mailbox.py``); return the server's one-line
    answer."""
    from avellino.hitcheck.mailbox import header_of, is_hitcheck_file

    endpoint = "/v1/bundles"
    if is_hitcheck_file(bundle):
        to = header_of(bundle).get("to")
        if to != partner.name:
            raise ConfigError(f"{bundle}: this hit/no-hit file is addressed to {to}, not to {partner.name}")
        endpoint = "/v1/hitcheck"
    answer = _call(node, "POST", _base(partner, url), endpoint, bundle).json()
    return str(answer.get("result", answer))


def fetch(node: Node, partner: Partner, inbox: Path, url: str | None = None) -> list[Path]:
    """Download every bundle waiting for this node at ``partner`` into ``inbox``, and every hit/no-hit query or
    answer into ``NODE_DIR/hitcheck/`` (checked as the server checks a pushed one); return the new files."""
    from avellino.hitcheck import mailbox

    base = _base(partner, url)
    listing = _call(node, "GET", base, "/v1/outbox").json()
    inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    fetched = []
    for item in listing["bundles"]:
        name = str(item["name"])
        suffix = Path(name).suffix
        if "/" in name or name.startswith(".") or suffix not in (".avb", ".query", ".answer"):
            raise ConfigError(f"{base} listed a strange bundle name {name!r}")
        folder = inbox if suffix == ".avb" else mailbox.folder(node.dir)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / f"{partner.name}-{name}"
        if target.exists():
            continue
        path = f"/v1/outbox/{name}"
        tmp = target.with_name(target.name + ".partial")
        try:
            with httpx.stream("GET", base + path, headers=sign_request(node, "GET", path), timeout=TIMEOUT) as got:
                if got.status_code >= 400:
                    got.read()
                    raise ConfigError(f"{base}{path} answered {got.status_code}: {got.text}")
                with tmp.open("wb") as fh:
                    for block in got.iter_bytes(1 << 20):
                        fh.write(block)
        except httpx.HTTPError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigError(f"Cannot fetch {base}{path}: {exc}") from exc
        if suffix != ".avb":
            try:
                arrived = mailbox.check(node, partner.name, tmp, f"{base}{path}")
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            target = folder / f"{partner.name}-{arrived.query_id}.{arrived.kind}"
        tmp.replace(target)
        fetched.append(target)
    return fetched
