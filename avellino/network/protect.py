"""Protected persons: victims, witnesses and informants are never targets; migrant boat pilots are flagged.

Every function in Avellino that produces a target list takes a :class:`Protection` and ends with
:meth:`Protection.release`, the one place a list of targets leaves the analysis. It refuses to release a list
that names a protected person (so a new method that forgets to respect the protection fails loudly instead of
pointing officers at a victim). Protection also works earlier: protected vertices are marked non-removable
before any search, so the searches optimise around them rather than having them filtered out afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from avellino.errors import AvellinoError

if TYPE_CHECKING:
    import igraph as ig

    from avellino.store.base import Store

PROTECTED_CATEGORIES = frozenset({"victim", "witness", "informant"})
MIGRANT_PILOT = "boat pilot who is a migrant: flag for safeguarding, not a target"


class ProtectedTargetError(AvellinoError):
    """A target list named a protected person. This is a bug in the method, never a user error."""


@dataclass(frozen=True)
class Protection:
    """Which node ids must never be targeted, and why (shown to the analyst as a safeguarding flag)."""

    reasons: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, ids: Iterable[str] = (), reason: str = "protected person") -> Protection:
        return cls(MappingProxyType({str(i): reason for i in ids}))

    @classmethod
    def from_people(cls, categories: Mapping[str, str], migrant_pilots: Iterable[str] = ()) -> Protection:
        """From data-subject categories (victim/witness/informant protected) and migrant boat pilots."""
        reasons = {str(i): c for i, c in categories.items() if c.lower() in PROTECTED_CATEGORIES}
        reasons.update({str(i): MIGRANT_PILOT for i in migrant_pilots})
        return cls(MappingProxyType(reasons))

    @classmethod
    def from_store(cls, store: Store, migrant_pilots: Iterable[str] = ()) -> Protection:
        """Everyone any statement in the store marks as victim, witness or informant, plus migrant pilots."""
        reasons = {i: "victim, witness or informant (data-subject category)" for i in store.protected_entity_ids()}
        reasons.update({str(i): MIGRANT_PILOT for i in migrant_pilots})
        return cls(MappingProxyType(reasons))

    def merged(self, other: Protection) -> Protection:
        return Protection(MappingProxyType({**self.reasons, **other.reasons}))

    def __contains__(self, node_id: object) -> bool:
        return str(node_id) in self.reasons

    def removable_mask(self, graph: ig.Graph) -> list[bool]:
        """True for vertices a search may remove; protected vertices stay in the graph as bystanders."""
        names = graph.vs["name"] if "name" in graph.vs.attributes() else [str(i) for i in range(graph.vcount())]
        return [str(n) not in self.reasons for n in names]

    def flags(self, graph: ig.Graph) -> list[dict[str, str]]:
        """The protected persons present in ``graph``, with the reason, for the analyst's safeguarding list."""
        names = graph.vs["name"] if "name" in graph.vs.attributes() else []
        return [{"id": str(n), "reason": self.reasons[str(n)]} for n in names if str(n) in self.reasons]

    def release(self, targets: list[str]) -> list[str]:
        """The single exit for target lists: returns them unchanged, or raises if one is protected."""
        leaked = [t for t in targets if str(t) in self.reasons]
        if leaked:
            raise ProtectedTargetError(
                f"Refusing to release a target list naming protected person(s) {leaked}: "
                "victims, witnesses, informants and migrant boat pilots are never targets."
            )
        return targets
