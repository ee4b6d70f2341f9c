"""Hit/no-hit files that arrive over the node server: checked, kept in ``NODE_DIR/hitcheck/``, listed.

A query or an answer travels like a bundle: ``avellino share push FILE --to PARTNER`` POSTs it, signed with the
sender's node key, to the partner's ``avellino serve`` (``POST /v1/hitcheck``). The server keeps it only when it is
whole and for this node: a hit/no-hit file, sent by the partner whose key signed the request (the file's ``from``),
addressed to this node, signed inside by that partner's registered key, made with the pair's key and decrypting
under it. Anything else is refused with the reason and nothing is kept. Nothing is answered automatically: an
analyst lists what came in (``avellino hitcheck inbox``) and answers with ``avellino hitcheck answer``, where the
sharing policy and the audit apply as for a file handed over any other way.

A kept file is named ``FROM-QUERYID.query`` or ``FROM-QUERYID.answer``, so a query and its answer share the id and
the same file pushed twice is kept once. The other way round, ``--outbox`` on ``hitcheck ask`` and ``hitcheck
answer`` leaves the file in ``NODE_DIR/outbox/PARTNER/QUERYID.KIND``; the partner's ``avellino share fetch``
downloads it from this node's server and keeps it after the same checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avellino.hitcheck.exchange import FORMAT, ExchangeRefused, open_sealed

FOLDER = "hitcheck"
KINDS = ("query", "answer")
_QUERY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: the readable header fields ``hitcheck inbox`` shows (never the payload: it holds no value anyway, but is opaque)
HEADER_FIELDS = ("kind", "query_id", "from", "to", "created", "purpose", "count", "hits")


@dataclass(frozen=True)
class Arrived:
    """A checked file from a partner: its header and where it is kept."""

    kind: str
    query_id: str
    sender: str
    count: int
    path: Path


def folder(node_dir: Path) -> Path:
    return node_dir / FOLDER


def is_hitcheck_file(path: Path) -> bool:
    """A query or answer file (JSON) rather than a bundle (which starts with its magic bytes)."""
    try:
        with path.open("rb") as fh:
            return fh.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


def header_of(path: Path, source: str | None = None) -> dict[str, Any]:
    """The readable header of a hit/no-hit file; ExchangeRefused naming ``source`` when it is not one."""
    where = source or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExchangeRefused(where, f"cannot be read ({exc.strerror})") from exc
    except ValueError as exc:
        raise ExchangeRefused(where, f"not a hit/no-hit file (not JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExchangeRefused(where, "not a hit/no-hit file (written by `avellino hitcheck`)")
    return {k: data[k] for k in HEADER_FIELDS if k in data}


def check(node: Any, sender: str, path: Path, source: str) -> Arrived:
    """Check a file that ``sender`` (the partner who signed the request) delivered to ``node`` (share.node.Node);
    ``path`` is where it was spooled. ExchangeRefused, naming ``source``, when it may not be kept."""
    from avellino.hitcheck.keys import pair_keys

    head = header_of(path, source)
    kind, query_id = str(head.get("kind")), str(head.get("query_id"))
    if kind not in KINDS:
        raise ExchangeRefused(source, f"a {kind!r} file: only hit/no-hit queries and answers are taken")
    if head.get("from") != sender:
        raise ExchangeRefused(source, f"delivered by {sender} but says it is from {head.get('from')}")
    if head.get("to") != node.name:
        raise ExchangeRefused(source, f"addressed to {head.get('to')}, not to {node.name}")
    if not _QUERY_ID.match(query_id):
        raise ExchangeRefused(source, f"malformed query id {query_id!r}")
    try:
        open_sealed(path, pair_keys(node, sender), kind, node.partner(sender).card)
    except ExchangeRefused as exc:
        raise ExchangeRefused(source, str(exc).split(": refused: ", 1)[-1]) from exc
    count = head.get("count")
    return Arrived(kind, query_id, sender, count if isinstance(count, int) else 0, path)


def keep(node_dir: Path, arrived: Arrived) -> tuple[Path, bool]:
    """Move a checked file into the node's hit/no-hit folder; (where it is, whether it was already there)."""
    target = folder(node_dir) / f"{arrived.sender}-{arrived.query_id}.{arrived.kind}"
    again = target.exists()
    if again:
        arrived.path.unlink(missing_ok=True)
    else:
        arrived.path.replace(target)
    return target, again


def leave(node_dir: Path, partner: str, path: Path) -> Path:
    """Leave a copy of a query or answer for ``partner`` in this node's outbox, where its ``avellino share fetch``
    reads it from this node's server (for a partner whose own server this node cannot reach)."""
    import shutil

    head = header_of(path)
    if head.get("to") != partner:
        raise ExchangeRefused(str(path), f"addressed to {head.get('to')}, not to {partner}")
    box = node_dir / "outbox" / partner
    box.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = box / f"{head.get('query_id')}.{head.get('kind')}"
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return target


def listing(node_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Every kept file (oldest first), as its header and path; a damaged file is listed with its error."""
    box = folder(node_dir)
    if not box.is_dir():
        return []
    files = [p for p in box.iterdir() if p.suffix[1:] in KINDS and (kind is None or p.suffix[1:] == kind)]
    rows = []
    for path in sorted(files, key=lambda p: (p.stat().st_mtime, p.name)):
        try:
            rows.append({**header_of(path), "path": str(path)})
        except ExchangeRefused as exc:
            rows.append({"kind": path.suffix[1:], "error": str(exc), "path": str(path)})
    return rows
