"""Talking to a partner's node server (``avellino serve``): push a bundle, fetch this node's outbox there."""

from __future__ import annotations

from pathlib import Path

import httpx

from avellino.errors import ConfigError
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


def _call(node: Node, method: str, base: str, path: str, body: bytes = b"") -> httpx.Response:
    headers = sign_request(node, method, path, body)
    try:
        response = httpx.request(method, base + path, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise ConfigError(f"Cannot reach {base}: {exc}") from exc
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ConfigError(f"{base}{path} answered {response.status_code}: {detail}")
    return response


def push(node: Node, partner: Partner, bundle: Path, url: str | None = None) -> str:
    """POST a bundle; return the server's one-line answer."""
    body = bundle.read_bytes()
    answer = _call(node, "POST", _base(partner, url), "/v1/bundles", body).json()
    return str(answer.get("result", answer))


def fetch(node: Node, partner: Partner, inbox: Path, url: str | None = None) -> list[Path]:
    """Download every bundle waiting for this node at ``partner`` into ``inbox``; return the new files."""
    base = _base(partner, url)
    listing = _call(node, "GET", base, "/v1/outbox").json()
    inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    fetched = []
    for item in listing["bundles"]:
        name = str(item["name"])
        if "/" in name or not name.endswith(".avb"):
            raise ConfigError(f"{base} listed a strange bundle name {name!r}")
        target = inbox / f"{partner.name}-{name}"
        if target.exists():
            continue
        data = _call(node, "GET", base, f"/v1/outbox/{name}").content
        tmp = target.with_name(target.name + ".partial")
        tmp.write_bytes(data)
        tmp.replace(target)
        fetched.append(target)
    return fetched
