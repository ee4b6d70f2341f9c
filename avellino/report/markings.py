"""The marking a summary carries: the strictest TLP and handling code of the facts it shows.

Strictness follows the order the vocabularies are declared in (``avellino.model.markings``: TLP CLEAR < GREEN <
AMBER < AMBER+STRICT < RED, handling codes H0 < H1 < H2 < H3). A count of records is marked as strictly as the
strictest record counted.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from avellino.model.markings import HANDLING_MEANING, HANDLING_ORDER, TLP, TLP_ORDER, HandlingCode
from avellino.store.base import Store

#: Entity ids per query when reading a section's markings (keeps the query's parameter list small).
CHUNK = 5_000
#: TLP 2.0 colours: the label in this colour on black.
TLP_COLOURS = {
    TLP.CLEAR: "#ffffff",
    TLP.GREEN: "#33ff00",
    TLP.AMBER: "#ffc000",
    TLP.AMBER_STRICT: "#ffc000",
    TLP.RED: "#ff2b2b",
}


@dataclass(frozen=True)
class Marking:
    """A TLP and a handling code (None: nothing marked with one, e.g. public statistics only)."""

    tlp: TLP = TLP.CLEAR
    handling_code: HandlingCode | None = None

    def stricter(self, other: Marking) -> Marking:
        tlp = max(self.tlp, other.tlp, key=TLP_ORDER.index)
        codes = [c for c in (self.handling_code, other.handling_code) if c is not None]
        return Marking(tlp, max(codes, key=HANDLING_ORDER.index) if codes else None)

    def label(self) -> str:
        """E.g. ``TLP:AMBER · H2``."""
        return f"TLP:{self.tlp.value}" + (f" · {self.handling_code.value}" if self.handling_code else "")

    def html(self) -> str:
        colour = TLP_COLOURS[self.tlp]
        meaning = HANDLING_MEANING[self.handling_code] if self.handling_code else "no handling code"
        return (
            f'<span class="marking" style="background:#000;color:{colour}" title="{html.escape(meaning)}">'
            f"{html.escape(self.label())}</span>"
        )


def strictest(pairs: Iterable[tuple[object, object]]) -> Marking:
    """The strictest of ``(tlp, handling_code)`` values; unknown or missing values are ignored."""
    tlps = {t.value: t for t in TLP}
    codes = {c.value: c for c in HandlingCode}
    found = Marking()
    for tlp, code in pairs:
        found = found.stricter(Marking(tlps.get(str(tlp), TLP.CLEAR), codes.get(str(code))))
    return found


def store_marking(store: Store, entity_ids: Iterable[str] | None = None) -> Marking:
    """The strictest marking of every statement in the store (``entity_ids`` None), or of the statements of
    these entities (record or resolved cluster ids)."""
    if entity_ids is None:
        table = store.aggregate(["tlp", "handling_code"])
        return strictest(zip(table.column("tlp").to_pylist(), table.column("handling_code").to_pylist(), strict=True))
    ids = sorted(set(entity_ids))
    found = Marking()
    for start in range(0, len(ids), CHUNK):
        table = store.read_statements(entity_ids=ids[start : start + CHUNK], columns=["tlp", "handling_code"])
        pairs = zip(table.column("tlp").to_pylist(), table.column("handling_code").to_pylist(), strict=True)
        found = found.stricter(strictest(set(pairs)))
    return found
