"""Real nodes for the share tests: a DuckDB workspace each, keys made by `node init`, cards exchanged."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from avellino.share.node import Node, Partner, init_node, read_card
from avellino.store import open_store
from avellino.store.base import Store
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo

REVIEW = dt.date(2099, 1, 1)


def make_node(root: Path, name: str, country: str, law_enforcement: bool = True) -> tuple[Path, Node]:
    ws = root / name.lower()
    with open_store(ws, create=True):
        pass
    return ws, init_node(ws / "node", name, country, law_enforcement)


def register(node: Node, other: Node, *, community: bool = False, teams: frozenset[str] = frozenset(),
             url: str | None = None) -> None:  # fmt: skip
    """``node`` registers ``other``'s card, read back from the file its `node card` would write."""
    import json

    path = node.dir.parent / f"card-{other.name}.json"
    path.write_text(json.dumps(other.card_json()))
    node.add_partner(Partner(read_card(path), community, teams, url))


def fact(entity_id: str, prop: str, value: str, originator: str, *, schema: str = "Person", handling: str = "H0",
         tlp: str = "AMBER", category: str = "suspect", note: str | None = None,
         review: dt.date | None = REVIEW) -> dict[str, object]:  # fmt: skip
    return {
        "id": None, "entity_id": entity_id, "canonical_id": entity_id, "schema": schema, "prop": prop,
        "prop_type": None, "value": value, "original_value": None, "lang": None, "dataset": originator,
        "origin": "test", "first_seen": None, "last_seen": None, "originator": originator,
        "source_record": "persons.csv:2", "handling_code": handling, "handling_note": note, "tlp": tlp,
        "evaluation": "B2", "subject_category": category, "retention_review": review, "batch_id": "b",
    }  # fmt: skip


def person(entity_id: str, name: str, originator: str, **markings: Any) -> list[dict[str, object]]:
    return [
        fact(entity_id, "id", entity_id, originator, **markings),
        fact(entity_id, "name", name, originator, **markings),
    ]


def write(ws: Path, rows: list[dict[str, object]], name: str = "facts") -> None:
    table = pa.Table.from_pylist(rows, schema=STATEMENT_SCHEMA)
    with open_store(ws) as store:
        store.write_batch(BatchInfo(name, f"{name}.csv", name, "m", len(rows), len(rows), dt.datetime.now()), table)


def held(ws: Path) -> set[tuple[str, str, str, str, str, str]]:
    """What a workspace holds: (entity, prop, value, originator, handling code, TLP) of every statement."""
    with open_store(ws, read_only=True) as store:
        rows = store.read_statements().to_pylist()
    return {(r["entity_id"], r["prop"], r["value"], r["originator"], r["handling_code"], r["tlp"]) for r in rows}


def statements_of(store: Store) -> set[tuple[str, str, str]]:
    """(entity, prop, value) of every statement of an open store."""
    return {(r["entity_id"], r["prop"], r["value"]) for r in store.read_statements().to_pylist()}


def counts(ws: Path) -> dict[str, int]:
    with open_store(ws, read_only=True) as store:
        return store.counts()


def avellino() -> list[str]:
    exe = Path(sys.executable).parent / "avellino"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]


def env() -> dict[str, str]:
    out = {**os.environ, "COLUMNS": "400"}  # one line per message on stderr
    for key in ("AVELLINO_STORE_URL", "AVELLINO_WORKSPACE", "AVELLINO_NODE_DIR"):
        out.pop(key, None)
    return out
