"""The workbench's read model: one view of a workspace's statements held in memory, indexed for the reads an analyst
makes (search, an entity's facts, its links, its network neighbourhood).

Why in memory and not a query per request: on the 200k-record sample a point read through the ``statements`` view
takes about 340 ms on this class of machine (the lean layout joins four keyed tables), while the workbench must
answer 200 analysts at once in well under that. One scan (about 5 s and 0.7 GB per 1.7 million statements) builds
the view; the server rebuilds it when the workspace changes (``web/service.py``).

A view holds only statements its reader may see: the whole workspace for the agency's own staff, or what the
sharing policy lets a partner have (``share/screen.py``) for a partner's liaison officer. Everything below is
computed from the view's statements alone, so a withheld fact cannot show through a link, a search hit or a
network tie.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from avellino.model.markings import PROTECTED_VALUES
from avellino.store.schema import MARKING_FIELDS

if TYPE_CHECKING:
    from avellino.network.build import StoreGraph

#: the markings shown beside each fact: the marking set and where the fact came from
MARKING_COLUMNS = ["source_record", *MARKING_FIELDS]
#: what the read model keeps of each statement
COLUMNS = ["id", "entity_id", "canonical_id", "schema", "prop", "prop_type", "value", *MARKING_COLUMNS, "batch_id"]
NAME_PROPS = frozenset({"name", "alias", "weakAlias", "previousName"})
#: identifier-like property types searched by their normalised value (a phone, a passport number, an e-mail)
IDENTIFIER_TYPES = frozenset({"phone", "identifier", "email", "iban"})
_NON_ALNUM = re.compile(r"[^0-9a-z@.+]+")
SEARCH_LIMIT = 50
#: ranked first among equally good name matches: the people and organisations an analyst looks for
PARTIES = frozenset({"Person", "LegalEntity", "Organization", "Company", "PublicBody"})


@lru_cache(maxsize=200_000)
def _folded(name: str) -> str:
    from avellino.resolve.names import fold_ascii

    return fold_ascii(name).lower()


def normalise_identifier(value: str) -> str:
    return _NON_ALNUM.sub("", value.lower())


@dataclass
class SearchHit:
    id: str
    schema: str
    caption: str
    score: float
    matched: str  #: the name or identifier that matched
    protected: bool
    originators: list[str] = field(default_factory=list)


class ReadModel:
    """One view's statements (ordered by ``canonical_id``) and their indexes."""

    def __init__(self, table: pa.Table, label: str = "workspace"):
        self.label = label
        table = table.select(COLUMNS)
        order = pc.sort_indices(table, sort_keys=[("canonical_id", "ascending"), ("entity_id", "ascending")])
        self.table = table.take(order)
        self.rows = self.table.num_rows
        cids = self.table.column("canonical_id").to_numpy(zero_copy_only=False)
        bounds = np.flatnonzero(cids[1:] != cids[:-1]) + 1 if self.rows else np.array([], dtype=np.int64)
        starts = np.concatenate([[0], bounds]).astype(np.int64) if self.rows else np.array([], dtype=np.int64)
        ends = np.concatenate([bounds, [self.rows]]).astype(np.int64) if self.rows else np.array([], dtype=np.int64)
        self.span: dict[str, tuple[int, int]] = {
            str(cids[s]): (int(s), int(e)) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        }
        eids = self.table.column("entity_id").to_numpy(zero_copy_only=False)
        self.canonical: dict[str, str] = dict(zip(eids.tolist(), cids.tolist(), strict=True))
        schemata = self.table.column("schema").to_numpy(zero_copy_only=False)
        self.schema_of = {cid: str(schemata[s]) for cid, (s, _) in self.span.items()}
        self.protected: dict[str, str] = {}
        marked = pc.is_in(self.table.column("subject_category"), pa.array(sorted(PROTECTED_VALUES)))
        for cid, category in zip(*self._rows(marked, "canonical_id", "subject_category"), strict=True):
            self.protected.setdefault(cid, category)
        self.caption: dict[str, str] = {}
        self.incoming: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._names: dict[str, set[str]] = defaultdict(set)  # skeleton -> canonical ids
        self._name_text: dict[str, list[str]] = defaultdict(list)  # canonical id -> its names
        self._exact: dict[str, set[str]] = defaultdict(set)  # a name folded to lower-case ASCII -> canonical ids
        self._identifiers: dict[str, set[str]] = defaultdict(set)
        # filled as entities are read (a dict write is atomic: concurrent requests at worst compute one twice)
        self._folded_of: dict[str, list[tuple[str, str]]] = {}
        self._originators: dict[str, list[str]] = {}
        self._index()

    def _rows(self, mask: pa.ChunkedArray | pa.Array, *columns: str) -> list[list[Any]]:
        """The values of ``columns`` of the statements ``mask`` selects (indexes are built from a few such lists
        rather than by walking every statement in Python: 1.7 million statements took 14 s that way)."""
        part = self.table.filter(pc.fill_null(mask, False))
        return [part.column(c).to_pylist() for c in columns]

    def _index(self) -> None:
        from avellino.model import model
        from avellino.resolve.names import fold_ascii, name_features

        t = self.table
        cids, values = self._rows(pc.is_in(t.column("prop"), pa.array(sorted(NAME_PROPS))), "canonical_id", "value")
        for cid, value in zip(cids, values, strict=True):
            if value:
                self._name_text[cid].append(value)
                self._exact[fold_ascii(value).lower()].add(cid)
                for skel in name_features(value).skeletons:
                    self._names[skel].add(cid)
        types = t.column("prop_type")
        cids, values = self._rows(pc.is_in(types, pa.array(sorted(IDENTIFIER_TYPES))), "canonical_id", "value")
        for cid, value in zip(cids, values, strict=True):
            key = normalise_identifier(value or "")
            if len(key) >= 4:
                self._identifiers[key].add(cid)
        cids, props, values = self._rows(pc.equal(types, "entity"), "canonical_id", "prop", "value")
        for cid, prop, value in zip(cids, props, values, strict=True):
            if value:
                self.incoming[value].append((cid, prop))
        # caption: the schema's first caption property present (FtM's order), else a name, else kind and id
        rank = {(s.name, p): i for s in model.schemata.values() for i, p in enumerate(s.caption)}
        pairs = pa.array([f"{s}\x1f{p}" for s, p in rank], pa.string())
        key = pc.binary_join_element_wise(t.column("schema"), t.column("prop"), "\x1f")
        cids, schemata, props, values = self._rows(pc.is_in(key, pairs), "canonical_id", "schema", "prop", "value")
        best: dict[str, tuple[int, str]] = {}
        for cid, schema, prop, value in zip(cids, schemata, props, values, strict=True):
            r = rank[(schema, prop)]
            if value and (cid not in best or r < best[cid][0]):
                best[cid] = (r, value)
        for cid in self.span:
            if cid in best:
                self.caption[cid] = best[cid][1]
            else:
                names = self._name_text.get(cid)
                self.caption[cid] = names[0] if names else f"{self.schema_of[cid]} {cid.rpartition('--')[2][:12]}"

    # -- reads ------------------------------------------------------------------------------------------------
    def resolve_id(self, entity_or_cluster: str) -> str | None:
        """The canonical id of a record or cluster this view holds (None when it holds nothing of it)."""
        if entity_or_cluster in self.span:
            return entity_or_cluster
        return self.canonical.get(entity_or_cluster)

    def statements(self, cid: str) -> list[dict[str, Any]]:
        start, end = self.span[cid]
        return self.table.slice(start, end - start).to_pylist()

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """People and things whose names match however they are spelled (romanisation-insensitive skeletons of
        each name part, ranked by how many parts match and then by string similarity), and exact identifiers
        (phone numbers, document numbers, e-mails, written any way)."""
        from rigour.text.distance import jaro_winkler

        from avellino.resolve.names import fold_ascii, name_features

        query = query.strip()
        if not query:
            return []
        found: dict[str, tuple[float, str]] = {}
        key = normalise_identifier(query)
        for cid in self._identifiers.get(key, set()) if len(key) >= 4 else set():
            found[cid] = (2.0, query)
        skeletons = name_features(query).skeletons
        if skeletons:  # the candidates: entities sharing a name part's skeleton, the best tiers compared closely
            hits: Counter[str] = Counter()
            for skel in skeletons:  # Counter.update counts in C: common name parts have thousands of postings
                hits.update(self._names.get(skel, ()))
            folded = fold_ascii(query).lower()
            # only the best tiers (most name parts matched) are compared string by string: whole tiers until
            # there are enough candidates, at most SEARCH_LIMIT * 8 (most_common sorts stably, in C)
            common = hits.most_common()
            enough = max(limit * 4, 40)
            cut = min(len(common), max(limit * 8, 80))
            if cut > enough:
                tier = common[enough - 1][1]
                cut = next((i for i in range(enough, cut) if common[i][1] != tier), cut)
            # names written exactly as asked are always compared, however many share the query's name parts
            candidates = [(cid, hits[cid]) for cid in self._exact.get(folded, ()) if cid in hits] + common[:cut]
            for cid, n in candidates:
                sim, name = max((jaro_winkler(folded, f), nm) for f, nm in self._folded_names(cid))
                score = n / len(skeletons) + 0.5 * sim + (0.05 if self.schema_of[cid] in PARTIES else 0.0)
                if score > found.get(cid, (0.0, ""))[0]:
                    found[cid] = (score, name)
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [
            SearchHit(
                cid,
                self.schema_of[cid],
                self.caption[cid],
                round(score, 3),
                matched,
                cid in self.protected,
                self.originators(cid),
            )  # fmt: skip
            for cid, (score, matched) in ranked
        ]

    def _folded_names(self, cid: str) -> list[tuple[str, str]]:
        """(folded, as written) for each name of an entity, folded once per view."""
        held = self._folded_of.get(cid)
        if held is None:
            held = [(_folded(nm), nm) for nm in (self._name_text.get(cid) or [self.caption[cid]])]
            self._folded_of[cid] = held
        return held

    def originators(self, cid: str) -> list[str]:
        held = self._originators.get(cid)
        if held is None:
            start, end = self.span[cid]
            held = sorted(set(self.table.column("originator").slice(start, end - start).to_pylist()))
            self._originators[cid] = held
        return list(held)

    def links(self, cid: str) -> list[dict[str, str]]:
        """Entities this one names (outgoing, by an entity-valued property) and those naming it (incoming)."""
        out: list[dict[str, str]] = []
        seen: set[tuple[str, str, str]] = set()
        for row in self.statements(cid):
            if row["prop_type"] == "entity" and row["value"]:
                other = self.canonical.get(row["value"])
                if other and ("out", row["prop"], other) not in seen:
                    seen.add(("out", row["prop"], other))
                    out.append(self._link("out", row["prop"], other))
        for eid in {*self.members.get(cid, ()), cid}:
            for source, prop in self.incoming.get(eid, ()):
                if ("in", prop, source) not in seen:
                    seen.add(("in", prop, source))
                    out.append(self._link("in", prop, source))
        return out

    def _link(self, direction: str, prop: str, other: str) -> dict[str, str]:
        return {
            "direction": direction,
            "prop": prop,
            "id": other,
            "schema": self.schema_of.get(other, ""),
            "caption": self.caption.get(other, other),
            "protected": "yes" if other in self.protected else "",
        }

    @cached_property
    def members(self) -> dict[str, list[str]]:
        """Canonical id -> the record ids merged into it."""
        out: dict[str, list[str]] = defaultdict(list)
        for eid, cid in self.canonical.items():
            out[cid].append(eid)
        return out

    # -- network ----------------------------------------------------------------------------------------------
    @cached_property
    def graph(self) -> StoreGraph:
        """The network of this view's statements (``network/build.py``: the same rules, the same protection)."""
        from avellino.network.build import STATEMENT_COLUMNS, build_graph

        frame = self.table.select(STATEMENT_COLUMNS).to_pandas()
        return build_graph(None, frame)  # type: ignore[arg-type]  # statements given: the store is not read

    @cached_property
    def _adjacency(self) -> dict[str, list[int]]:
        edges = self.graph.edges
        adj: dict[str, list[int]] = defaultdict(list)
        for i, (s, t) in enumerate(zip(edges["source"].tolist(), edges["target"].tolist(), strict=True)):
            adj[s].append(i)
            adj[t].append(i)
        return adj

    @cached_property
    def _presented(self) -> Any:
        return self.graph.presented_nodes().set_index("id")

    def neighbourhood(self, cid: str, depth: int = 1, limit: int = 150) -> dict[str, Any]:
        """Nodes within ``depth`` ties of ``cid`` (at most ``limit``, nearest first) and the ties among them.
        Protected people are shown with their safeguarding reason and never carry an offender category."""
        sg = self.graph
        edges = sg.edges
        keep: dict[str, int] = {cid: 0}
        frontier = [cid]
        for level in range(1, depth + 1):
            nxt: list[str] = []
            for node in frontier:
                for i in self._adjacency.get(node, ()):
                    for other in (edges["source"].iat[i], edges["target"].iat[i]):
                        if other not in keep and len(keep) < limit:
                            keep[other] = level
                            nxt.append(other)
            frontier = nxt
        nodes = self._presented
        out_nodes = []
        for node, level in keep.items():
            if node not in nodes.index:
                continue
            row = nodes.loc[node]
            out_nodes.append(
                {
                    "id": node,
                    "label": str(row["label"]),
                    "kind": str(row["kind"]),
                    "schema": str(row["schema"]),
                    "categories": str(row["categories"] or ""),
                    "protected": bool(row["protected"]),
                    "safeguarding": str(row["safeguarding"] or ""),
                    "distance": level,
                }
            )
        present = {str(n["id"]) for n in out_nodes}
        index = sorted({i for n in present for i in self._adjacency.get(n, ())})
        out_edges = [
            {
                "source": str(edges["source"].iat[i]),
                "target": str(edges["target"].iat[i]),
                "kind": str(edges["kind"].iat[i]),
                "events": int(edges["events"].iat[i]),
            }
            for i in index
            if edges["source"].iat[i] in present and edges["target"].iat[i] in present
        ]
        return {"center": cid, "nodes": out_nodes, "edges": out_edges, "truncated": len(keep) >= limit}

    def community(self, cid: str, limit: int = 300) -> dict[str, Any]:
        """The Leiden community of ``cid`` in the analysis graph (``network/structure.py``), as a neighbourhood."""
        members = self._communities.get(cid)
        if not members:
            return self.neighbourhood(cid)
        keep = set(members[:limit]) | {cid}
        view = self.neighbourhood(cid, depth=6, limit=max(limit * 4, 600))
        nodes = [n for n in view["nodes"] if n["id"] in keep]
        ids = {n["id"] for n in nodes}
        edges = [e for e in view["edges"] if e["source"] in ids and e["target"] in ids]
        return {"center": cid, "nodes": nodes, "edges": edges, "truncated": len(members) > limit}

    @cached_property
    def _communities(self) -> dict[str, list[str]]:
        import leidenalg

        g = self.graph.analysis_graph()
        if g.vcount() == 0:
            return {}
        part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights="weight", seed=1)
        names = g.vs["name"]
        groups: dict[int, list[str]] = defaultdict(list)
        for v, c in enumerate(part.membership):
            groups[c].append(str(names[v]))
        return {n: groups[c] for v, (n, c) in enumerate(zip(names, part.membership, strict=True))}

    @cached_property
    def routes(self) -> list[dict[str, Any]]:
        """The route table (``network/routes.py``), operators screened by the network's protection."""
        from avellino.network.routes import routes_of

        frame = self.table.select(["entity_id", "canonical_id", "schema", "prop", "prop_type", "value"]).to_pandas()
        table = routes_of(self.graph, frame)
        return [{k: _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
