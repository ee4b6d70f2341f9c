"""The network as the briefing describes it: one read of the store, then the graph, roles, key players,
communities and routes, every list of people already passed through ``protect.py``.

``network_findings`` reads the store (nothing is written) and returns a :class:`NetworkFindings` that the
briefing's renderer (``network/briefing.py``) turns into HTML without touching the store. Protection is applied
here, where the lists are made: targets leave ``key_players`` through ``Protection.release``; the most central
people of each community, the strongest holders of each role and the route operators through
``Protection.screen``. The findings keep the ``Protection`` itself so the renderer screens each list once more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from avellino.network.protect import Protection

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.build import StoreGraph
    from avellino.network.roles import RoleInference
    from avellino.network.targets import TargetReport
    from avellino.store.base import Store

#: Seconds the key-player search may spend for the briefing (the whole network part must stay well under 30 s).
BRIEFING_EFFORT = 4.0
K = 10
TOP_COMMUNITIES = 8
PER_ROLE = 4


@dataclass(frozen=True)
class Community:
    """One Leiden community: size, main nationalities and inferred roles, its most central unprotected people
    as ``(label, entity id)``, and how many protected people it holds."""

    id: int
    members: int
    nationalities: dict[str, int]
    roles: dict[str, int]
    central: list[tuple[str, str]]
    protected: int


@dataclass(frozen=True)
class RoleHolder:
    """One of the strongest holders of a role (``holders``: unprotected people with that role)."""

    role: str
    holders: int
    label: str
    id: str
    evidence: str


@dataclass
class NetworkFindings:
    """What the briefing shows of a store's network; every person listed is unprotected."""

    node_kinds: dict[str, int]
    tie_events: dict[str, int]
    vertices: int
    component_sizes: list[int]
    targets: TargetReport
    communities: list[Community]
    community_count: int
    roles: list[RoleHolder]
    #: protected people with evidence of a role (not listed, counted in the safeguarding note)
    roles_withheld: int
    #: route table (``routes.route_table``: operators screened, protected operators counted)
    routes: pd.DataFrame
    #: the legs and crossings the route table aggregates
    route_events: frozenset[str]
    #: protected people in the network, by reason
    protected_by_reason: dict[str, int]
    protection: Protection = field(default_factory=Protection)
    #: role inference scored against the sample's truth (``evaluate.score_roles``), when a truth folder is known
    role_scores: dict[str, object] | None = None


def network_findings(
    store: Store, truth_dir: Path | None = None, k: int = K, effort_seconds: float = BRIEFING_EFFORT
) -> NetworkFindings | None:
    """Build the network from the store and analyse it (None when the store holds no parties)."""
    from avellino.network.build import build_graph, is_party, read_statements
    from avellino.network.roles import infer_roles
    from avellino.network.routes import route_stages, routes_of
    from avellino.network.targets import key_players

    statements = read_statements(store)
    if not any(is_party(str(s)) for s in statements["schema"].unique()):
        return None
    sg = build_graph(store, statements)
    if not (sg.nodes["kind"] == "party").any():
        return None
    graph = sg.analysis_graph()
    inference = infer_roles(sg, graph)
    report = key_players(store, sg, inference, k=k, effort_seconds=effort_seconds, graph=graph)
    stages = route_stages(statements)
    roles, withheld = _role_holders(sg, inference)
    scores = None
    if truth_dir is not None and (truth_dir / "persons.csv").is_file():
        from avellino.network.evaluate import read_truth, score_roles, truth_labels

        scores = score_roles(inference.role, truth_labels(read_truth(truth_dir), sg.canonical))
    communities, count = _communities(graph, inference, sg.protection)
    protected = sg.nodes[sg.nodes["protected"].astype(bool)]["safeguarding"].value_counts()
    return NetworkFindings(
        node_kinds={str(k): int(n) for k, n in sg.nodes["kind"].value_counts().items()},
        tie_events={str(k): int(n) for k, n in sg.edges.groupby("kind")["events"].sum().items()},
        vertices=graph.vcount(),
        component_sizes=sorted(graph.connected_components().sizes(), reverse=True),
        targets=report,
        communities=communities,
        community_count=count,
        roles=roles,
        roles_withheld=withheld,
        routes=routes_of(sg, statements, stages),
        route_events=frozenset(str(e) for e in stages["event"]),
        protected_by_reason={str(r): int(n) for r, n in protected.items()},
        protection=sg.protection,
        role_scores=scores,
    )


def _communities(
    graph: ig.Graph, inference: RoleInference, protection: Protection, top: int = TOP_COMMUNITIES
) -> tuple[list[Community], int]:
    """The ``top`` largest Leiden communities and how many there are."""
    from avellino.network.structure import leiden_communities

    membership = leiden_communities(graph)
    frame = pd.DataFrame(
        {
            "community": membership,
            "name": graph.vs["name"],
            "label": graph.vs["label"],
            "nationality": [str(n).split(";")[0] for n in graph.vs["nationality"]],
            "pagerank": graph.pagerank(weights="weight"),
        }
    )
    frame["protected"] = frame["name"].map(lambda n: n in protection)
    frame["role"] = frame["name"].map(inference.role).fillna("identifier")
    out: list[Community] = []
    for _, members in sorted(frame.groupby("community"), key=lambda kv: -len(kv[1]))[:top]:
        nats = members["nationality"][members["nationality"] != ""].value_counts().head(3)
        by_rank = members.sort_values("pagerank", ascending=False, kind="stable")
        shown, _ = protection.screen(by_rank["name"].astype(str))
        offenders = members[members["name"].isin(shown)]
        roles = offenders["role"][~offenders["role"].isin(["none", "identifier"])].value_counts()
        labels = dict(zip(members["name"], members["label"], strict=True))
        out.append(
            Community(
                id=int(members["community"].iloc[0]),
                members=len(members),
                nationalities={str(k): int(v) for k, v in nats.items()},
                roles={str(k): int(v) for k, v in roles.items()},
                central=[(str(labels[n]), str(n)) for n in shown[:3]],
                protected=int(members["protected"].sum()),
            )
        )
    return out, len(set(membership))


def _role_holders(sg: StoreGraph, inference: RoleInference, per_role: int = PER_ROLE) -> tuple[list[RoleHolder], int]:
    """The strongest ``per_role`` unprotected holders of each role, and how many protected people were held
    back (``Protection.screen``)."""
    labels = sg.nodes.set_index("id")["label"]
    strength = inference.scores.max(axis=1)
    rows: list[RoleHolder] = []
    withheld = 0
    for role, members in inference.role.groupby(inference.role):
        if role == "none":
            continue
        listed, flagged = sg.protection.screen(strength[members.index].sort_values(ascending=False).index)
        withheld += len(flagged)
        for node in listed[:per_role]:
            rows.append(RoleHolder(str(role), len(listed), str(labels[node]), str(node), str(inference.evidence[node])))
    return rows, withheld
