"""Protected persons: victims, witnesses, informants and migrant boat pilots are never shown as offenders.

Who is protected is decided here and nowhere else, from markings, not from any one resolution's clusters:

* everyone any statement marks as victim, witness or informant (the record and the cluster it was merged
  into, so a wrong merge errs on the side of protection);
* boat pilots who are probably migrants made to steer (:func:`migrant_pilots`): a pilot with no other
  evidence of a smuggling role, or recorded anywhere as victim, passenger or traveller.

Every list of people the network area prints or writes leaves through this module:

* target lists end with :meth:`Protection.release`, which refuses to release a list naming a protected person
  (so a new method that forgets the protection fails loudly instead of pointing officers at a victim);
  protected vertices are also marked non-removable before any search, so searches optimise around them;
* other lists of people (route operators, roles, the most central of a community, brokers) are split by
  :meth:`Protection.screen` into people who may be shown and protected people, who are shown only as a
  safeguarding flag with the reason;
* graph files carry ``protected`` and ``safeguarding`` per node, and a protected person's offender categories
  (suspect, potential offender) recorded by a partner are not written (:func:`presented_categories`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from avellino.errors import AvellinoError
from avellino.model.markings import OFFENDER_CATEGORIES, PROTECTED_CATEGORIES

if TYPE_CHECKING:
    import igraph as ig
    import pandas as pd

    from avellino.network.build import StoreGraph

MIGRANT_PILOT = "boat pilot who is a migrant: flag for safeguarding, not a target"
CATEGORY_REASON = "victim, witness or informant (data-subject category)"
FILE_REASON = "protected person (marked in the network file)"
#: Evidence that a pilot is part of the organisation rather than a migrant made to steer.
OFFENDER_EVIDENCE = ("organised", "sold", "adverts", "legs_operated", "money_in", "fees_in")


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

    def merged(self, other: Protection) -> Protection:
        return Protection(MappingProxyType({**self.reasons, **other.reasons}))

    def __contains__(self, node_id: object) -> bool:
        return str(node_id) in self.reasons

    @classmethod
    def from_graph(cls, graph: ig.Graph) -> Protection:
        """The vertices a network file marks ``protected`` (as ``network build --to`` writes them), with the
        ``safeguarding`` reason when the file has one."""
        attrs = graph.vs.attributes()
        if "protected" not in attrs or "name" not in attrs:
            return cls()
        reasons = graph.vs["safeguarding"] if "safeguarding" in attrs else [None] * graph.vcount()
        return cls(
            MappingProxyType(
                {
                    str(v["name"]): str(r) if r else FILE_REASON
                    for v, r in zip(graph.vs, reasons, strict=True)
                    if _truthy(v["protected"])
                }
            )
        )

    def reason(self, node_id: object) -> str:
        """Why ``node_id`` is protected ('' when it is not)."""
        return self.reasons.get(str(node_id), "")

    def screen(self, people: Iterable[str]) -> tuple[list[str], list[str]]:
        """Split a list of people into those who may be shown (order kept) and the protected, who may only be
        shown as a safeguarding flag. Every list of people that is not a target list passes here."""
        shown: list[str] = []
        flagged: list[str] = []
        for p in people:
            (flagged if str(p) in self.reasons else shown).append(p)
        return shown, flagged

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


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, int | float) and value == 1) or str(value).lower() == "true"


def presented_categories(categories: str, protected: bool) -> str:
    """The data-subject categories shown for a person: a protected person's offender categories
    (``markings.OFFENDER_CATEGORIES``) are dropped (a coerced pilot a partner recorded as a suspect is shown as
    protected, never as a suspect)."""
    if not protected:
        return categories
    return ";".join(c for c in str(categories).split(";") if c and c not in OFFENDER_CATEGORIES)


def migrant_pilots(features: pd.DataFrame) -> list[str]:
    """Pilots with no evidence of another smuggling role, or recorded as victim / passenger / traveller."""
    pilots = features[features["piloted"] > 0]
    other = pilots[list(OFFENDER_EVIDENCE)].sum(axis=1) > 0
    migrant_signs = (pilots["victim"] > 0) | (pilots["passenger"] > 0) | (pilots["travelled"] > 0)
    return sorted(pilots.index[~other | migrant_signs])


def network_protection(sg: StoreGraph, marked: Iterable[str]) -> Protection:
    """Everyone who must never be shown as an offender in this store's network, with the reason.

    ``marked``: the record and cluster ids any statement marks victim, witness or informant (taken by
    ``build.build_graph`` from the statements it read, the rule of ``Store.protected_entity_ids``); then every
    node whose merged records carry such a category, and the migrant pilots among the parties (from the direct
    evidence of ``roles.evidence_features``, no network ranks). ``build.build_graph`` calls this once;
    everything downstream reads ``StoreGraph.protection``."""
    from avellino.network.roles import evidence_features

    flagged = sg.nodes[sg.nodes["categories"].map(_has_protected_category)]["id"]
    # Pilot flags win over the generic category text: they tell the analyst why a "suspect" is protected.
    return (
        Protection.of(marked, CATEGORY_REASON)
        .merged(Protection.of(flagged, CATEGORY_REASON))
        .merged(Protection.of(migrant_pilots(evidence_features(sg)), MIGRANT_PILOT))
    )


def _has_protected_category(categories: str) -> bool:
    return any(c in PROTECTED_CATEGORIES for c in str(categories).split(";"))
