"""A post's selectors, linked to the workspace entities that carry them, after resolution.

A phone number in a post leads to every entity with that ``phone`` statement (a person, a user account, an earlier
advert) and through the canonical id to the resolved person; a Telegram handle leads to user accounts with that
``username``. Read-only. A protected person (victim, witness, informant: ``model/markings.py``) is never named:
the link says only that a protected record holds the selector, so an analyst knows to ask, not who it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pyarrow as pa

from avellino.content.selectors import Selector
from avellino.store.base import Store

LINK_SCHEMA = pa.schema(
    [("entity_id", pa.string()), ("canonical_id", pa.string()), ("schema", pa.string()), ("prop", pa.string()),
     ("value", pa.string())]
)  # fmt: skip
NAME_PROPS = ("name", "username")


def _phone_key(value: str) -> str | None:
    try:
        num = phonenumbers.parse(value, None if value.startswith("+") else "GB")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class SelectorIndex:
    """Which entities carry each phone (E.164) and each handle (lower case, no @), with their canonical ids."""

    phones: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)
    handles: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)

    def links(self, sel: Selector) -> list[dict[str, Any]]:
        if sel.kind in {"phone", "whatsapp", "signal"}:
            hits = self.phones.get(sel.value, set())
        elif sel.kind == "telegram":
            hits = self.handles.get(sel.value.lstrip("@").lower(), set())
        else:
            return []
        out = []
        for entity_id, canonical_id, schema in sorted(hits):
            if entity_id in self.protected or canonical_id in self.protected:
                out.append({"protected": True, "schema": schema})
                continue
            name = self.names.get(canonical_id) or self.names.get(entity_id)
            out.append({"entity_id": entity_id, "canonical_id": canonical_id, "schema": schema, "name": name})
        return out


def build_index(store: Store) -> SelectorIndex:
    sql = (
        "SELECT entity_id, canonical_id, schema, prop, value FROM statements "
        "WHERE prop IN ('phone', 'username') AND value IS NOT NULL"
    )
    index = SelectorIndex(protected=store.protected_entity_ids())
    ids: set[str] = set()
    for batch in store.stream_query(sql, LINK_SCHEMA):
        for row in batch.to_pylist():
            hit = (row["entity_id"], row["canonical_id"] or row["entity_id"], row["schema"])
            if row["prop"] == "phone":
                key = _phone_key(row["value"])
                if key:
                    index.phones.setdefault(key, set()).add(hit)
            else:
                index.handles.setdefault(row["value"].lstrip("@").lower(), set()).add(hit)
            ids.update(hit[:2])
    if ids:
        table = store.read_statements(entity_ids=sorted(ids), columns=["entity_id", "canonical_id", "prop", "value"])
        for row in table.to_pylist():
            if row["prop"] in NAME_PROPS and row["value"]:
                index.names.setdefault(row["canonical_id"] or row["entity_id"], row["value"])
                index.names.setdefault(row["entity_id"], row["value"])
    return index
