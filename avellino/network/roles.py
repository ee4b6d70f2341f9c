"""Role inference: organiser, recruiter, broker, driver, boat pilot, financier or supplier, with the evidence.

A transparent score, not a trained model: there is no labelled real network to train on, and an analyst must
be able to read why someone was called a financier. Each role's score is a weighted sum of evidence features
(``WEIGHTS``), every feature a plain count from the store or a rank in the network:

* **direct evidence**, the strongest: piloted a crossing (``Crossing.pilot``), sold boat equipment
  (``Purchase.seller``), posted adverts (author, or holder of the advert's account or contact phone),
  operated route legs, organised crossings;
* **money**: trip fees received from people recorded as victims (recruiters and financiers take them), other
  payments received and made, and the money volume (financiers move the large sums);
* **contacts**: how many victims call or are called by the person (recruiters and drivers handle migrants);
* **structure**: the PageRank percentile in the network (organisers sit in the middle; betweenness was
  computed too but no weight used it, and on the 200k sample it was most of the time roles took) and
  Gould-Fernandez brokerage across Leiden communities and across nationality groups (the pairs of one's
  contacts, in different groups and not tied to each other, that only one links: brokers tie organisations
  and nationalities together). It replaced the participation coefficient for brokers, which cannot tell a
  middleman linking many people across groups from a driver whose two ties touch two groups: broker F1
  0.44 -> 0.59 on held-out sample seeds (3, 13 at scale 2000; 29 at 3000; 17 at 5000), driver 0.76 -> 0.80.

Counts enter as ``log1p`` so a tenth crossing adds less than the first. People recorded as victims with no
direct evidence of a role, and people with too little evidence (score below ``MIN_SCORE``), get ``none``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from avellino.model.markings import SubjectCategory

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.build import StoreGraph

#: The smuggling roles inferred here, and ``NONE`` for everyone else (migrants, witnesses, informants, and
#: people with too little evidence). ``evaluate.py`` scores against a truth with the same vocabulary.
ROLES = ("organiser", "recruiter", "broker", "driver", "boat_pilot", "financier", "supplier")
NONE = "none"
#: (schema, properties) -> feature: who appears where in which events.
PARTICIPATION = {
    "piloted": ("Crossing", ("pilot",)),
    "organised": ("Crossing", ("organiser", "organizer")),
    "passenger": ("Crossing", ("passenger",)),
    "sold": ("Purchase", ("seller",)),
    "bought": ("Purchase", ("buyer",)),
    "adverts": ("Advert", ("author", "authorAccount", "phone")),
    "legs_operated": ("Leg", ("operator",)),
    "travelled": ("Leg", ("traveller",)),
    "vehicles": ("Vehicle", ("owner",)),
}
#: Role -> feature -> weight. Features are log1p counts, except volume_pct, the participations and hub (0..1)
#: and victim (0/1).
WEIGHTS: dict[str, dict[str, float]] = {
    "boat_pilot": {"piloted": 3.0},
    "supplier": {"sold": 3.0, "bought": 0.3},
    "recruiter": {"adverts": 3.0, "fees_in": 1.0, "victim_contacts": 0.8},
    "financier": {"fees_in": 0.9, "money_in": 0.5, "money_out": 0.4, "volume_pct": 1.2},
    "organiser": {"organised": 1.5, "money_in": 0.9, "money_out": 0.4, "hub": 1.0},
    "broker": {
        "community_brokerage": 0.2,
        "nationality_brokerage": 0.2,
        "organised": 0.8,
        "bought": 0.8,
        "legs_operated": 0.6,
    },
    "driver": {"legs_operated": 2.0, "vehicles": 1.2, "victim_contacts": 0.6},
    NONE: {"victim": 2.5, "passenger": 1.0, "travelled": 1.0},
}
#: Direct evidence of a smuggling role overrides a victim record only for boat pilots (who are often both).
MIN_SCORE = 0.6


@dataclass(frozen=True)
class RoleInference:
    """Features, per-role scores and the inferred role (with its evidence text) per party."""

    features: pd.DataFrame
    scores: pd.DataFrame
    role: pd.Series
    evidence: pd.Series


def evidence_features(sg: StoreGraph) -> pd.DataFrame:
    """Direct evidence per party node (index: node id): participations, victim record, money, contacts.

    Plain counts from the store, no network ranks: cheap enough for the protection (``protect.py``) to read
    on every command."""
    nodes = sg.nodes.set_index("id")
    parties = nodes.index[nodes["kind"] == "party"]
    feats = pd.DataFrame(index=parties)
    part = sg.participation
    for name, (schema, props) in PARTICIPATION.items():
        on = part[(part["schema"] == schema) & part["prop"].isin(props)]
        feats[name] = on.groupby("node")["event"].nunique().reindex(parties).fillna(0)
    victim = nodes["categories"].str.contains(SubjectCategory.VICTIM.value, regex=False)
    feats["victim"] = victim.reindex(parties).astype(float)
    feats = feats.join(_money(sg, victim)).join(_contacts(sg, victim))
    return feats.fillna(0.0)


def role_features(sg: StoreGraph, graph: ig.Graph | None = None) -> pd.DataFrame:
    """Evidence counts and network ranks per party node (index: node id)."""
    feats = evidence_features(sg)
    feats = feats.join(_structure(sg, graph if graph is not None else sg.analysis_graph()))
    return feats.fillna(0.0)


def _money(sg: StoreGraph, victim: pd.Series) -> pd.DataFrame:
    pay = sg.edges[sg.edges["kind"] == "payment"]
    from_victim = pay["source"].map(victim).fillna(False).astype(bool)
    to_victim = pay["target"].map(victim).fillna(False).astype(bool)
    out = pd.DataFrame(
        {
            "fees_in": pay[from_victim].groupby("target")["events"].sum(),
            "money_in": pay[~from_victim].groupby("target")["events"].sum(),
            "money_out": pay[~to_victim & ~pay["source"].map(victim).fillna(False).astype(bool)]
            .groupby("source")["events"]
            .sum(),
        }
    )
    volume = pd.concat(
        [pay[~from_victim].groupby("target")["amount"].sum(), pay[~from_victim].groupby("source")["amount"].sum()]
    )
    out["volume"] = volume.groupby(level=0).sum()
    return out


def _contacts(sg: StoreGraph, victim: pd.Series) -> pd.DataFrame:
    ties = sg.edges[sg.edges["kind"].isin(["call", "leg", "crossing"])]
    both = pd.concat(
        [ties[["source", "target"]], ties[["target", "source"]].set_axis(["source", "target"], axis=1)]
    ).drop_duplicates()
    both = both[both["target"].map(victim).fillna(False).astype(bool)]
    return pd.DataFrame({"victim_contacts": both.groupby("source")["target"].nunique()})


def _structure(sg: StoreGraph, graph: ig.Graph) -> pd.DataFrame:
    """PageRank percentile among parties, and groups (communities, nationalities) reached beyond one's own."""
    names = graph.vs["name"]
    from avellino.network.structure import brokerage_across, leiden_communities

    nat = [str(n).split(";")[0] if n else None for n in graph.vs["nationality"]]
    community = leiden_communities(graph)
    frame = pd.DataFrame(
        {
            "pagerank": graph.pagerank(directed=False, weights="weight"),
            "nationalities_reached": _reached(graph, nat),
            "nationality_participation": _participation(graph, nat),
            "communities_reached": _reached(graph, community),
            "community_participation": _participation(graph, community),
            "community_brokerage": brokerage_across(graph, community),
            "nationality_brokerage": brokerage_across(graph, nat),
        },
        index=names,
    )
    frame = frame[np.array(graph.vs["kind"]) == "party"]
    frame["pagerank_pct"] = frame["pagerank"].rank(pct=True)
    return frame


def _reached(graph: ig.Graph, group: Sequence[object]) -> list[int]:
    """Number of groups other than one's own among one's neighbours (0 when one's own group is unknown)."""
    out = []
    for v, nbrs in enumerate(graph.get_adjlist()):
        own = group[v]
        out.append(len({group[w] for w in nbrs if group[w] is not None and group[w] != own}) if own is not None else 0)
    return out


def _participation(graph: ig.Graph, group: Sequence[object]) -> list[float]:
    """Participation coefficient 1 - sum_g (ties into g / ties)^2 (Guimera & Amaral 2005), 0 with no ties."""
    out = []
    for nbrs in graph.get_adjlist():
        counts = Counter(group[w] for w in nbrs if group[w] is not None)
        total = sum(counts.values())
        out.append(1.0 - sum((c / total) ** 2 for c in counts.values()) if total else 0.0)
    return out


def infer_roles(sg: StoreGraph, graph: ig.Graph | None = None) -> RoleInference:
    """Score every party for every role and keep the best (``none`` below ``MIN_SCORE``)."""
    feats = role_features(sg, graph)
    volume_pct = feats["volume"].rank(pct=True) * (feats["volume"] > 0)
    x = np.log1p(feats).assign(victim=feats["victim"], volume_pct=volume_pct)
    for col in ("nationality_participation", "community_participation"):
        x[col] = feats[col]
    # The top fifth by PageRank, scaled 0..1 within it: a bonus for the most central, not a floor for everyone.
    x["hub"] = ((feats["pagerank_pct"] - 0.8) / 0.2).clip(lower=0.0)
    scores = pd.DataFrame({role: sum(w * x[f] for f, w in ws.items()) for role, ws in WEIGHTS.items()})
    offender = scores[list(ROLES)]
    best = offender.idxmax(axis=1)
    top = offender.max(axis=1)
    direct_pilot = feats["piloted"] > 0
    role = best.where((top >= MIN_SCORE) & ((top > scores[NONE]) | direct_pilot), NONE)
    return RoleInference(feats, scores.round(3), role.rename("role"), _evidence(feats, role))


EVIDENCE_TEXT = {
    "piloted": "piloted {n} crossing(s)",
    "organised": "organised {n} crossing(s)",
    "sold": "sold boat equipment {n} time(s)",
    "bought": "bought boat equipment {n} time(s)",
    "adverts": "{n} smuggling advert(s)",
    "legs_operated": "operated {n} route leg(s)",
    "vehicles": "{n} vehicle(s)",
    "fees_in": "received {n} payment(s) from migrants",
    "money_in": "received {n} other payment(s)",
    "money_out": "made {n} payment(s) to non-migrants",
    "victim_contacts": "in contact with {n} migrant(s)",
    "nationalities_reached": "ties to {n} other nationality group(s)",
    "community_brokerage": "links {n} pair(s) of contacts in different communities",
    "nationality_brokerage": "links {n} pair(s) of contacts of different nationalities",
}


def _evidence(feats: pd.DataFrame, role: pd.Series) -> pd.Series:
    """A short text of the non-zero evidence behind each inferred role, strongest features of that role first."""
    texts = {}
    for node, r in role.items():
        order = sorted(WEIGHTS.get(str(r), {}), key=lambda f: -WEIGHTS[str(r)][f]) + list(EVIDENCE_TEXT)
        seen: list[str] = []
        for f in dict.fromkeys(order):
            n = feats.at[node, f] if f in EVIDENCE_TEXT else 0
            if n:
                seen.append(EVIDENCE_TEXT[f].format(n=int(n)))
        texts[node] = "; ".join(seen[:5])
    return pd.Series(texts, name="evidence")
