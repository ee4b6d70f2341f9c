"""Key players in the store's network, with the evidence for each, never naming a protected person.

The workspace side of the key-player solver: ``key_players`` hands the store's analysis graph to
``keyplayer.disrupt.plan_disruption`` and describes each target (inferred role and its evidence, ties by
kind, the largest group lost when that one is stopped alone). Who is never targeted (victims, witnesses,
informants, and boat pilots who are probably migrants made to steer) was decided once when the network was
built (``StoreGraph.protection``, by ``protect.network_protection``); protected vertices stay in the graph,
are never removed, and are listed for safeguarding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from avellino.network.protect import Protection

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.build import StoreGraph
    from avellino.network.keyplayer.disrupt import DisruptionPlan
    from avellino.network.keyplayer.fragment import Adjacency
    from avellino.network.roles import RoleInference
    from avellino.store.base import Store


@dataclass
class Target:
    """One key player: who, what role the evidence suggests, and what removing them does."""

    rank: int
    id: str
    label: str
    kind: str
    role: str
    evidence: str
    lcc_drop: int
    degree: int


@dataclass
class TargetReport:
    k: int
    nodes: int
    edges: int
    lcc0: int
    lcc_after: int
    targets: list[Target]
    protected: list[dict[str, str]]
    baselines: dict[str, float] = field(default_factory=dict)
    unprotected_would_hit: list[str] = field(default_factory=list)
    effort_seconds: float = 0.0
    #: Wall time of the whole key-player search (the part ``effort_seconds`` bounds), and what the budget cut.
    search_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "k": self.k,
            "nodes": self.nodes,
            "edges": self.edges,
            "lcc0": self.lcc0,
            "lcc_after": self.lcc_after,
            "lcc_fraction": round(self.lcc_after / self.lcc0, 4) if self.lcc0 else 0.0,
            "baselines_lcc_fraction": self.baselines,
            "targets": [t.__dict__ for t in self.targets],
            "protected": self.protected,
            "effort_seconds": self.effort_seconds,
            "search_seconds": round(self.search_seconds, 2),
            "budget_notes": self.notes,
        }


def key_players(
    store: Store,
    sg: StoreGraph,
    roles: RoleInference,
    k: int = 10,
    effort_seconds: float = 10.0,
    graph: ig.Graph | None = None,
) -> TargetReport:
    """The k vertices (people, phones, accounts) whose removal fragments the network most, with evidence.

    ``effort_seconds`` bounds the search from here on (baselines, seeds, local and exact search); building the
    network and inferring roles come before and are not in it. ``search_seconds`` says what it took."""
    import time

    from avellino.network.keyplayer.disrupt import plan_disruption

    start = time.monotonic()
    graph = graph if graph is not None else sg.analysis_graph()
    protection = sg.protection
    # Pairs and isolated vertices can never hold the largest group together: searching without them is the
    # same answer, several times faster on stores where most records are loose ends.
    sizes = graph.connected_components()
    size_of = sizes.sizes()  # once: ``sizes.size(c)`` lists the component's members on every call
    core = graph.induced_subgraph([v for v, c in enumerate(sizes.membership) if size_of[c] >= 3])
    k = max(1, min(k, sum(protection.removable_mask(core))))
    left = max(effort_seconds - (time.monotonic() - start), 0.0)
    plan = plan_disruption(core, k, protection, effort_seconds=left)
    chosen = plan.methods["avellino"][k - 1]
    report = TargetReport(
        k=k,
        nodes=graph.vcount(),
        edges=graph.ecount(),
        lcc0=plan.lcc0,
        lcc_after=chosen.lcc,
        targets=_describe(core, chosen.removed, sg, roles),
        protected=protection.flags(graph),
        baselines={name: steps[k - 1].lcc_fraction for name, steps in plan.methods.items() if name != "avellino"},
        effort_seconds=effort_seconds,
        notes=plan.notes,
    )
    report.search_seconds = time.monotonic() - start
    return report


def _describe(graph: ig.Graph, removed: list[str], sg: StoreGraph, roles: RoleInference) -> list[Target]:
    """Evidence per target: inferred role and its evidence, ties by kind, and the LCC lost when removed alone."""
    from avellino.network.keyplayer.fragment import Adjacency

    index = {n: i for i, n in enumerate(graph.vs["name"])}
    adj = Adjacency.from_graph(graph)
    drops = _alone_drops(adj)
    ties = _tie_summary(sg, removed)
    out = []
    for rank, node in enumerate(removed, start=1):
        v = graph.vs[index[node]]
        role = str(roles.role.get(node, "")) if node in roles.role.index else v["kind"]
        text = [str(roles.evidence.get(node, ""))] if node in roles.evidence.index else []
        text.append(ties.get(node, ""))
        out.append(
            Target(
                rank=rank,
                id=node,
                label=str(v["label"]),
                kind=str(v["kind"]),
                role=role,
                evidence="; ".join(t for t in text if t),
                lcc_drop=drops.get(index[node], 0),
                degree=int(graph.degree(index[node])),
            )
        )
    return out


def _alone_drops(adj: Adjacency) -> dict[int, int]:
    """How much the largest component loses when each of its vertices is removed alone (one articulation
    pass; a vertex outside it costs nothing). With two largest components of equal size, nothing drops."""
    from avellino.network.keyplayer.fragment import components, cut_pieces

    label, sizes = components(adj, bytearray(adj.n))
    if not sizes:
        return {}
    big = max(range(len(sizes)), key=sizes.__getitem__)
    rest = max((sz for c, sz in enumerate(sizes) if c != big), default=0)
    members, pieces = cut_pieces(adj, bytearray(adj.n), label.index(big))
    lcc0 = sizes[big]
    return {v: lcc0 - max(max(pieces.get(v) or [lcc0 - 1]), rest) for v in members}


def _tie_summary(sg: StoreGraph, nodes: list[str]) -> dict[str, str]:
    """'12 calls, 3 payments (9,000), 2023-02-01 to 2024-11-30' for each of ``nodes`` (one grouping for all)."""
    e = sg.edges[sg.edges["source"].isin(nodes) | sg.edges["target"].isin(nodes)]
    both = pd.concat([e.rename(columns={"source": "node"}), e.rename(columns={"target": "node"})], ignore_index=True)
    both = both[both["node"].isin(nodes)]
    if both.empty:
        return {}
    kinds = both.groupby(["node", "kind"]).agg(n=("events", "sum"), amount=("amount", "sum")).reset_index()
    kinds = kinds.sort_values(["node", "n"], ascending=[True, False], kind="stable")
    first = both.groupby("node")["first"].min()
    last = both.groupby("node")["last"].max()
    out: dict[str, str] = {}
    for node, rows in kinds.groupby("node", sort=False):
        parts = []
        for kind, n, amount in zip(rows["kind"], rows["n"], rows["amount"], strict=True):
            text = f"{int(n)} {kind}{'s' if n != 1 else ''}"
            if kind in ("payment", "purchase") and amount > 0:
                text += f" ({amount:,.0f})"
            parts.append(text)
        a, b = first.get(node), last.get(node)
        span = f", {a} to {b}" if isinstance(a, str) and isinstance(b, str) else ""
        out[str(node)] = ", ".join(parts) + span
    return out


def unprotected_selection(graph: ig.Graph, k: int, protection: Protection, effort_seconds: float = 2.0) -> list[str]:
    """Who the search would pick with protection switched off, that protection forbids (for tests and the
    safeguarding note: shows the protection is doing work)."""
    from avellino.network.keyplayer.disrupt import plan_disruption

    plan: DisruptionPlan = plan_disruption(graph, k, Protection(), effort_seconds=effort_seconds)
    picked = {n for steps in plan.methods.values() for s in steps for n in s.removed}
    return sorted(n for n in picked if n in protection)


__all__ = ["Target", "TargetReport", "key_players", "unprotected_selection"]
