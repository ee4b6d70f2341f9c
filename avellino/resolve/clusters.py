"""Judgements, clustering and stable cluster ids: pure functions over tables, testable without a store.

* The judgement log is append-only. A judgement is ``positive`` (same), ``negative`` (different) or ``unsure``
  about a pair; ``retract`` entries point at an earlier judgement and undo it. The state of a pair is its
  latest judgement that was not retracted (``effective_judgements``). Cluster judgements are expanded into
  pair judgements when they are written (``cluster_judgement_rows``), so the log has one shape.
* Clustering (``cluster``) joins records along model edges, strongest first, but never across a negative
  judgement, even through a chain of other records (A~C~B when A!=B was judged): the edge that would close
  such a chain is skipped. Positive judgements are joined first, whatever the model says. ``unsure`` leaves
  the model to decide. Given the records' ``Evidence`` (conflicts.py), an edge joins two clusters only if no
  member of one conflicts with a member of the other (a passport or ID number, or a date of birth no
  recording error explains) unless the model scored that very pair as a match, so a chain of weak links
  cannot gather people who contradict each other; and
  an edge that would put a record marked victim, witness or informant with one marked suspect or potential
  offender must itself carry more than a name (a shared identifier or an agreeing date of birth) and be scored
  near-certain (``PROTECTED_JOIN_PROBABILITY``).
* Stable ids (``stable_ids``): a new cluster inherits the id of the previous cluster it shares most members
  with (ties: the smaller id); a previous id is given to one new cluster only. Every other cluster gets an id
  derived from its smallest member, so re-running on the same input gives the same ids, and adding a
  partner file changes the ids of no cluster it did not touch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from avellino.resolve.conflicts import Evidence

VERDICTS = ("positive", "negative", "unsure")
JUDGEMENT_COLUMNS = ["judgement_id", "left_id", "right_id", "verdict", "user", "reason", "created_at", "retracts"]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def judgement_row(
    left: str, right: str, verdict: str, user: str, reason: str = "", when: datetime | None = None
) -> dict[str, str | None]:
    """One log row about a pair; ids are stored in sorted order so ``A B`` and ``B A`` are the same pair."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
    if left == right:
        raise ValueError("a judgement needs two different records")
    lo, hi = _pair(left, right)
    created = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    jid = hashlib.sha1(f"{lo}\x1f{hi}\x1f{verdict}\x1f{user}\x1f{created}\x1f{reason}".encode()).hexdigest()[:16]
    return {
        "judgement_id": jid,
        "left_id": lo,
        "right_id": hi,
        "verdict": verdict,
        "user": user,
        "reason": reason,
        "created_at": created,
        "retracts": None,
    }


def retraction_row(judgement: Mapping[str, str | None], user: str, reason: str = "") -> dict[str, str | None]:
    """Undo an earlier judgement (the log keeps both: who decided, who reversed, when and why)."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    jid = hashlib.sha1(f"retract\x1f{judgement['judgement_id']}\x1f{user}\x1f{created}".encode()).hexdigest()[:16]
    return {
        "judgement_id": jid,
        "left_id": judgement["left_id"],
        "right_id": judgement["right_id"],
        "verdict": "retract",
        "user": user,
        "reason": reason,
        "created_at": created,
        "retracts": judgement["judgement_id"],
    }


def cluster_judgement_rows(members: Iterable[str], verdict: str, user: str, reason: str = "") -> list[dict]:
    """Confirm (positive) or mark unsure a whole cluster: one judgement per member against the first member."""
    ids = sorted(set(members))
    return [judgement_row(ids[0], other, verdict, user, reason) for other in ids[1:]]


def empty_log() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in JUDGEMENT_COLUMNS})


def effective_judgements(log: pd.DataFrame) -> pd.DataFrame:
    """``left_id, right_id, verdict, judgement_id``: the latest live judgement per pair."""
    if log is None or log.empty:
        return pd.DataFrame(columns=["left_id", "right_id", "verdict", "judgement_id"])
    retracted = set(log.loc[log["verdict"] == "retract", "retracts"].dropna())
    live = log[(log["verdict"] != "retract") & ~log["judgement_id"].isin(retracted)]
    live = live.sort_values(["created_at", "judgement_id"], kind="stable")
    latest = live.groupby(["left_id", "right_id"], as_index=False).tail(1)
    return latest[["left_id", "right_id", "verdict", "judgement_id"]].reset_index(drop=True)


class _Components:
    """Union-find that also remembers, per component, the records it must never be joined with."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in self.parent}
        self.cannot: dict[str, set[str]] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def forbid(self, a: str, b: str) -> None:
        self.cannot.setdefault(self.find(a), set()).add(b)
        self.cannot.setdefault(self.find(b), set()).add(a)

    def union(self, a: str, b: str, allowed: Callable[[list[str], list[str], str, str], bool] | None = None) -> bool:
        """Join the components of ``a`` and ``b`` unless a cannot-link or ``allowed(members_a, members_b, a, b)``
        refuses."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        bad_a, bad_b = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        if any(self.find(x) == rb for x in bad_a) or any(self.find(x) == ra for x in bad_b):
            return False
        if allowed is not None and not allowed(self.members[ra], self.members[rb], a, b):
            return False
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        if bad_b:
            self.cannot.setdefault(ra, set()).update(bad_b)
            self.cannot.pop(rb, None)
        return True


#: The score a pair must reach to put a protected record (victim, witness, informant, migrant pilot) with an
#: offender's, besides corroboration. On the 200k sample a shared date of birth and a shared given name joined
#: 16 victims to different offenders at 0.5-0.95; at 0.95, 2 (cluster recall 0.9967 -> 0.9965).
PROTECTED_JOIN_PROBABILITY = 0.95


def _compatible(
    evidence: Evidence,
    linked: set[tuple[str, str]],
    scores: Mapping[tuple[str, str], float] | None = None,
    threshold: float = 0.5,
) -> Callable[[list[str], list[str], str, str], bool]:
    """May the clusters ``left`` and ``right`` be joined through the edge ``a``-``b``? (module docstring)

    A pair in ``linked`` (scored as a match itself) is no conflict: the model weighed that pair's own
    difference (a date two digits off) against the rest of its evidence."""

    known = evidence.dob.keys() | evidence.ids.keys()  # records that can conflict at all

    def allowed(left: list[str], right: list[str], a: str, b: str) -> bool:
        prot_l, off_l = evidence.kinds(left)
        prot_r, off_r = evidence.kinds(right)
        # merging a victim into an offender is the costliest error there is: it needs more than a name
        # (an identifier or date of birth in common) and a near-certain score of the joining pair itself
        crosses = (prot_l and off_r) or (off_l and prot_r)
        if crosses and (
            not evidence.corroborated(a, b) or (scores or {}).get(_pair(a, b), 1.0) < PROTECTED_JOIN_PROBABILITY
        ):
            return False
        left_known = [x for x in left if x in known]
        right_known = [y for y in right if y in known]
        if any(evidence.conflict(x, y) and _pair(x, y) not in linked for x in left_known for y in right_known):
            return False
        if scores is None or len(left) + len(right) <= 2:
            return True
        # average linkage: the pairs across the two clusters that were scored must, on average, be a match too,
        # so one alias shared by two namesakes does not chain them when their other names disagree
        scored = [v for x in left for y in right if (v := scores.get(_pair(x, y))) is not None]
        return not scored or sum(scored) / len(scored) >= threshold

    return allowed


def cluster(
    record_ids: Iterable[str],
    edges: pd.DataFrame,
    judgements: pd.DataFrame,
    threshold: float,
    evidence: Evidence | None = None,
) -> pd.DataFrame:
    """``entity_id, component`` (component = smallest member id). ``edges``: ``id_l, id_r, match_probability``.

    Without ``evidence`` every edge above ``threshold`` chains (connected components, judgements aside)."""
    ids = sorted(set(record_ids))
    comps = _Components(ids)
    known = set(ids)
    eff = effective_judgements(judgements)
    for row in eff[eff["verdict"] == "negative"].itertuples():
        if row.left_id in known and row.right_id in known:
            comps.forbid(row.left_id, row.right_id)
    for row in eff[eff["verdict"] == "positive"].itertuples():
        if row.left_id in known and row.right_id in known:
            comps.union(row.left_id, row.right_id)
    strong = edges[edges["match_probability"] >= threshold]
    strong = strong.sort_values(["match_probability", "id_l", "id_r"], ascending=[False, True, True])
    linked = {_pair(a, b) for a, b in zip(strong["id_l"], strong["id_r"], strict=True)}
    scores = {
        _pair(a, b): float(p) for a, b, p in zip(edges["id_l"], edges["id_r"], edges["match_probability"], strict=True)
    }
    allowed = _compatible(evidence, linked, scores, threshold) if evidence is not None else None
    for a, b in zip(strong["id_l"], strong["id_r"], strict=True):
        if a in known and b in known:
            comps.union(a, b, allowed)
    roots = {i: comps.find(i) for i in ids}
    smallest: dict[str, str] = {}
    for i in ids:  # ids are sorted, so the first member seen is the smallest
        smallest.setdefault(roots[i], i)
    return pd.DataFrame({"entity_id": ids, "component": [smallest[roots[i]] for i in ids]})


def new_cluster_id(smallest_member: str) -> str:
    return "cl-" + hashlib.sha1(smallest_member.encode()).hexdigest()[:16]


def stable_ids(components: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``entity_id, cluster_id``: previous ids carried over by largest overlap (see the module docstring)."""
    comp = components.copy()
    if previous is None or previous.empty:
        comp["cluster_id"] = comp["component"].map(new_cluster_id)
        return comp[["entity_id", "cluster_id"]]
    merged = comp.merge(previous[["entity_id", "cluster_id"]], on="entity_id", how="left")
    overlap = (
        merged.dropna(subset=["cluster_id"])
        .groupby(["component", "cluster_id"])
        .size()
        .reset_index(name="n")
        .sort_values(["n", "cluster_id", "component"], ascending=[False, True, True], kind="stable")
    )
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    for row in overlap.itertuples():
        if row.component not in assigned and row.cluster_id not in taken:
            assigned[row.component] = row.cluster_id
            taken.add(row.cluster_id)
    used = set(previous["cluster_id"])
    for component in sorted(set(comp["component"]) - set(assigned)):
        cid = new_cluster_id(component)
        suffix = 1
        while cid in used or cid in taken:
            cid = f"{new_cluster_id(component)}-{suffix}"
            suffix += 1
        assigned[component] = cid
        taken.add(cid)
    comp["cluster_id"] = comp["component"].map(assigned)
    return comp[["entity_id", "cluster_id"]]


def resolve_clusters(
    record_ids: Iterable[str],
    edges: pd.DataFrame,
    judgements: pd.DataFrame,
    previous: pd.DataFrame | None,
    threshold: float,
    evidence: Evidence | None = None,
) -> pd.DataFrame:
    """The whole step: judgement- and conflict-aware clustering, then stable ids."""
    return stable_ids(cluster(record_ids, edges, judgements, threshold, evidence), previous)


def merge_edges(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Incremental linking: keep stored edges, add (or rescore) the edges of this run."""
    if old is None or old.empty:
        return new.reset_index(drop=True)
    both = pd.concat([old, new], ignore_index=True)
    return both.drop_duplicates(subset=["id_l", "id_r"], keep="last").reset_index(drop=True)
