"""The network from the store: resolved parties, identifiers that help, and typed, dated, weighted ties.

Everything is keyed on ``canonical_id``, so the same code serves an unresolved workspace (every partner record
its own entity) and a resolved one (records merged by ``avellino resolve``).

* **Nodes**: parties (FtM ``LegalEntity`` and below: persons, organisations, companies) and identifiers
  (phones, user and bank accounts, vehicles, vessels, addresses). An identifier that exactly one party holds
  is *contracted* into that party (a phone called is the person who holds it); an identifier held by several
  parties, or by nobody known, stays a node of its own (a shared phone, an unknown number called by many),
  because those are the ties and targets an analyst wants to see.
* **Ties**: one rule per event schema (``EVENT_LINKS``): calls caller -> receiver (or their numbers), payments
  payer -> beneficiary, purchases buyer -> seller, legs operator -> traveller, crossings organiser -> pilot ->
  passengers and the boat, adverts author / account / contact phone, associates, family, ownership. Unknown
  event schemata tie all the entities they name. Ties are aggregated per (source, target, kind) with the
  number of events, the amount paid and the first and last date.
* **Participation**: who appears in which property of which event (``Crossing.pilot``, ``Purchase.seller``),
  after contraction: the evidence role inference reads.

The statements are read once (``read_statements``): the ties, the canonical map (``StoreGraph.canonical``,
for scoring against a truth) and the ids any statement marks as victim, witness or informant all come from
that one read. A command that needs the statements too (``routes``) reads them and hands them over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from avellino.model.markings import PROTECTED_VALUES
from avellino.network.protect import Protection, network_protection, presented_categories

if TYPE_CHECKING:
    import igraph as ig

    from avellino.store.base import Store


@dataclass(frozen=True)
class Link:
    """A tie an event makes: the first present ``source`` property to the first present ``target`` one."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    kind: str
    directed: bool = True


EVENT_LINKS: dict[str, tuple[Link, ...]] = {
    "Call": (Link(("caller", "callerNumber"), ("receiver", "receiverNumber"), "call"),),
    "Payment": (Link(("payer", "payerAccount"), ("beneficiary", "beneficiaryAccount"), "payment"),),
    "Purchase": (Link(("buyer",), ("seller",), "purchase"),),
    "Leg": (Link(("operator",), ("traveller",), "leg"),),
    "Crossing": (
        Link(("organiser", "organizer"), ("pilot",), "crossing"),
        Link(("pilot", "organiser", "organizer"), ("passenger",), "crossing"),
        Link(("pilot", "organiser", "organizer"), ("vessel",), "crossing", directed=False),
    ),
    "Advert": (Link(("authorAccount",), ("phone",), "advert", directed=False),),
    "Trip": (Link(("organizer",), ("involved",), "trip"), Link(("organizer",), ("vehicle",), "trip", False)),
    "Associate": (Link(("person",), ("associate",), "associate", directed=False),),
    "Family": (Link(("person",), ("relative",), "family", directed=False),),
    "Ownership": (Link(("owner",), ("asset",), "holds"),),
}
#: Event schema -> (party property, identifier property) pairs: the event says the party holds the identifier.
HOLDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Call": (("caller", "callerNumber"), ("receiver", "receiverNumber")),
    "Payment": (("payer", "payerAccount"), ("beneficiary", "beneficiaryAccount")),
    "Advert": (("author", "authorAccount"), ("author", "phone")),
    "Ownership": (("owner", "asset"),),
}
#: Identifier schema -> the property naming its holder (a Vehicle's owner holds the vehicle). A party holds
#: its own phones too (``_contraction``).
HELD_BY = {
    "UserAccount": "owner",
    "Vehicle": "owner",
    "Vessel": "owner",
    "BankAccount": "holder",
    "CryptoWallet": "holder",
}
IDENTIFIER_KINDS = {
    "UserAccount": "account",
    "BankAccount": "account",
    "CryptoWallet": "account",
    "Vehicle": "vehicle",
    "Vessel": "vehicle",
    "Airplane": "vehicle",
    "Address": "address",
}
DATE_PROPS = ("date", "startDate", "postedAt")
STATEMENT_COLUMNS = ["entity_id", "canonical_id", "schema", "prop", "prop_type", "value", "subject_category"]


@dataclass
class StoreGraph:
    """The network read from a store: node and tie tables, participation, and igraph views of them."""

    nodes: pd.DataFrame  # id, kind, schema, label, nationality, categories, protected, safeguarding, records
    edges: pd.DataFrame  # source, target, kind, directed, events, amount, first, last
    participation: pd.DataFrame  # node, schema, prop, event, date, amount
    events: pd.DataFrame  # event, schema, date, amount (one row per event entity)
    #: Who is never shown as an offender (``protect.network_protection``), with the reason.
    protection: Protection = field(default_factory=Protection)
    #: entity_id -> canonical_id of every entity in the store (those whose only statement is ``id`` too).
    canonical: dict[str, str] = field(default_factory=dict)

    def presented_nodes(self) -> pd.DataFrame:
        """The node table as the network area writes it (graph files, the store's ``network_nodes``): a
        protected person's offender categories are left out (``protect.presented_categories``)."""
        categories = [
            presented_categories(c, bool(p))
            for c, p in zip(self.nodes["categories"], self.nodes["protected"], strict=True)
        ]
        return self.nodes.assign(categories=categories)

    def graph(self) -> ig.Graph:
        """Directed multigraph for graph files: one edge per (source, target, kind), every node and edge
        attribute kept; protected people carry ``protected`` and the ``safeguarding`` reason, and none is
        written with an offender category (``protect.presented_categories``)."""
        import igraph as ig

        index = {n: i for i, n in enumerate(self.nodes["id"])}
        g = ig.Graph(
            n=len(index),
            edges=list(zip(self.edges["source"].map(index), self.edges["target"].map(index), strict=True)),
            directed=True,
        )
        g.vs["name"] = list(index)
        nodes = self.presented_nodes()
        for col in ("kind", "schema", "label", "nationality", "categories", "protected", "safeguarding", "records"):
            g.vs[col] = nodes[col].tolist()
        for col in ("kind", "directed", "events", "amount", "first", "last"):
            g.es[col] = self.edges[col].tolist()
        g.es["weight"] = [float(x) for x in self.edges["events"]]
        return g

    def analysis_graph(self) -> ig.Graph:
        """Undirected simple graph for structure and key players: ties of all kinds merged (weight = events),
        identifiers that tie fewer than two others dropped (they add size, not structure)."""
        import igraph as ig

        pairs = self.edges.assign(
            a=self.edges[["source", "target"]].min(axis=1), b=self.edges[["source", "target"]].max(axis=1)
        )
        merged = pairs.groupby(["a", "b"], as_index=False)["events"].sum()
        degree = pd.concat([merged["a"], merged["b"]]).value_counts()
        nodes = self.nodes.set_index("id")
        keep = nodes.index[(nodes["kind"] == "party") | (degree.reindex(nodes.index).fillna(0) >= 2)]
        merged = merged[merged["a"].isin(keep) & merged["b"].isin(keep)]
        kept = nodes.loc[keep].reset_index()
        index = {n: i for i, n in enumerate(kept["id"])}
        g = ig.Graph(n=len(index), edges=list(zip(merged["a"].map(index), merged["b"].map(index), strict=True)))
        g.vs["name"] = list(index)
        for col in ("kind", "schema", "label", "nationality", "protected"):
            g.vs[col] = kept[col].tolist()
        g.es["weight"] = [float(x) for x in merged["events"]]
        return g


def read_statements(store: Store) -> pd.DataFrame:
    """Every statement, ``id`` statements included, with the columns the network reads."""
    return store.read_statements(columns=STATEMENT_COLUMNS).to_pandas()


def build_graph(store: Store, statements: pd.DataFrame | None = None) -> StoreGraph:
    """Build the network from one read of the statements (``statements`` when the caller has read them with
    ``read_statements``; see the module docstring for the rules)."""
    st = read_statements(store) if statements is None else statements
    canon = _canonical_map(st)
    marked = _marked_protected(st)
    st = st[st["prop"] != "id"].copy() if len(st) else st
    schema_of = _schemata(st)
    refs = _references(st, canon, schema_of)
    owner = _contraction(refs, schema_of)
    refs["node"] = refs["target"].map(owner).fillna(refs["target"])
    events = _events(st)
    edges = _edges(refs, events)
    nodes = _nodes(st, schema_of, refs, edges, marked)
    part = refs.merge(events[["event", "date", "amount"]], on="event", how="left")
    part = part[["node", "schema", "prop", "event", "date", "amount"]]
    part = part[part["node"].isin(set(nodes["id"]))].reset_index(drop=True)
    sg = StoreGraph(nodes, edges, part, events, canonical=canon)
    sg.protection = network_protection(sg, marked)
    sg.nodes["protected"] = sg.nodes["id"].map(lambda i: i in sg.protection)
    sg.nodes["safeguarding"] = sg.nodes["id"].map(sg.protection.reason)
    return sg


def _canonical_map(st: pd.DataFrame) -> dict[str, str]:
    """entity_id -> canonical_id for every entity (also those whose only statement is ``id``)."""
    pairs = st[["entity_id", "canonical_id"]].drop_duplicates("entity_id")
    return dict(zip(pairs["entity_id"], pairs["canonical_id"], strict=True))


def _marked_protected(st: pd.DataFrame) -> set[str]:
    """The records, and the clusters they are merged into, that any statement marks victim, witness or
    informant (the rule of ``Store.protected_entity_ids``, on the statements already read)."""
    marked = st[st["subject_category"].isin(PROTECTED_VALUES)]
    return set(marked["entity_id"]) | set(marked["canonical_id"])


def _schemata(st: pd.DataFrame) -> dict[str, str]:
    """Schema per canonical id; when records of one entity disagree, FtM's common schema (Person+LegalEntity
    -> Person)."""
    from avellino.model import model

    pairs = st[["canonical_id", "schema"]].drop_duplicates()
    out = dict(zip(pairs["canonical_id"].astype(str), pairs["schema"].astype(str), strict=True))
    mixed = pairs[pairs["canonical_id"].duplicated(keep=False)]
    for cid, names in mixed.groupby("canonical_id")["schema"]:
        try:
            out[str(cid)] = model.common_schema(*names).name
        except Exception:  # incompatible schemata merged by an analyst: keep the first, do not fail
            out[str(cid)] = str(names.iloc[0])
    return out


@lru_cache(maxsize=512)
def is_party(schema: str | None) -> bool:
    """Persons, organisations, companies: the FtM LegalEntity family."""
    from avellino.model import model

    found = model.get(schema) if schema else None
    return bool(found and found.is_a("LegalEntity"))


def _references(st: pd.DataFrame, canon: dict[str, str], schema_of: dict[str, str]) -> pd.DataFrame:
    """One row per (event, property, target node): entity references (by canonical id) and phone values
    (as ``phone:<E.164>`` nodes). Party phones become rows of the pseudo-event ``@`` (the party itself)."""
    ent = st[st["prop_type"] == "entity"]
    ent = pd.DataFrame(
        {
            "event": ent["canonical_id"],
            "schema": ent["schema"],
            "prop": ent["prop"],
            "target": ent["value"].map(lambda v: canon.get(v, v)),
        }
    )
    ph = st[st["prop_type"] == "phone"]
    phones = pd.DataFrame(
        {
            "event": ph["canonical_id"],
            "schema": ph["schema"],
            "prop": ph["prop"],
            "target": "phone:" + ph["value"].str.replace(r"[^\d+]", "", regex=True),
        }
    )
    refs = pd.concat([ent, phones], ignore_index=True).drop_duplicates(["event", "prop", "target"])
    refs["schema"] = refs["event"].map(schema_of).fillna(refs["schema"])
    return refs.reset_index(drop=True)


def _contraction(refs: pd.DataFrame, schema_of: dict[str, str]) -> dict[str, str]:
    """identifier -> the one party that holds it (identifiers with no or several holders are left out)."""
    rows = []
    for schema, pairs in HOLDS.items():
        on = refs[refs["schema"] == schema]
        for party_prop, ident_prop in pairs:
            a = on[on["prop"] == party_prop][["event", "target"]].rename(columns={"target": "party"})
            b = on[on["prop"] == ident_prop][["event", "target"]].rename(columns={"target": "ident"})
            rows.append(a.merge(b, on="event")[["party", "ident"]])
    for schema, party_prop in HELD_BY.items():
        held = refs[(refs["schema"] == schema) & (refs["prop"] == party_prop)]
        rows.append(pd.DataFrame({"party": held["target"], "ident": held["event"]}))
    party_phones = refs[refs["target"].str.startswith("phone:") & refs["schema"].map(is_party)]
    rows.append(pd.DataFrame({"party": party_phones["event"], "ident": party_phones["target"]}))
    holds = pd.concat(rows, ignore_index=True).drop_duplicates()
    # astype(bool): an empty map is an object Series, which pandas would read as a list of columns
    holds = holds[holds["party"].map(lambda p: is_party(schema_of.get(p))).astype(bool)]
    holders = holds.groupby("ident")["party"].nunique()
    single = holders[holders == 1].index
    one = holds[holds["ident"].isin(single)]
    return dict(zip(one["ident"], one["party"], strict=True))


def _events(st: pd.DataFrame) -> pd.DataFrame:
    """Date (first of date/startDate/postedAt, as YYYY-MM-DD) and numeric amount per event entity."""
    dated = st[st["prop"].isin(DATE_PROPS)].copy()
    dated["rank"] = dated["prop"].map({p: i for i, p in enumerate(DATE_PROPS)})
    dated = dated.sort_values("rank").drop_duplicates("canonical_id")
    dates = pd.Series(dated["value"].str.slice(0, 10).values, index=dated["canonical_id"].values, name="date")
    amt = st[st["prop"] == "amount"]
    amounts = pd.to_numeric(amt["value"], errors="coerce").groupby(amt["canonical_id"].values).max()
    ids = pd.Index(st["canonical_id"].unique(), name="event")
    out = pd.DataFrame(index=ids)
    out["schema"] = st.drop_duplicates("canonical_id").set_index("canonical_id")["schema"]
    out["date"] = dates.reindex(ids)
    out["amount"] = amounts.reindex(ids)
    return out.reset_index()


def _edges(refs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Ties per EVENT_LINKS (unknown event schemata: all pairs), aggregated per (source, target, kind)."""
    rows = []
    by_schema = dict(tuple(refs.groupby("schema")))
    for schema, part in by_schema.items():
        if is_party(schema) or schema in IDENTIFIER_KINDS:
            continue
        for link in EVENT_LINKS.get(schema) or (Link(tuple(part["prop"].unique()), (), schema.lower(), False),):
            rows.append(_link_rows(part, link))
    ties = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["event", "source", "target", "kind", "directed"])
    )
    ties = ties[ties["source"] != ties["target"]]
    ties = ties.merge(events[["event", "date", "amount"]], on="event", how="left")
    undirected = ~ties["directed"].astype(bool)
    lo, hi = ties[["source", "target"]].min(axis=1), ties[["source", "target"]].max(axis=1)
    ties.loc[undirected, "source"], ties.loc[undirected, "target"] = lo[undirected], hi[undirected]
    agg = ties.groupby(["source", "target", "kind", "directed"], as_index=False).agg(
        events=("event", "nunique"), amount=("amount", "sum"), first=("date", "min"), last=("date", "max")
    )
    return agg.sort_values(["source", "target", "kind"]).reset_index(drop=True)


def _link_rows(part: pd.DataFrame, link: Link) -> pd.DataFrame:
    """Endpoints per event: the first present property of each side, contracted to holders (``node``)."""

    def side(props: tuple[str, ...]) -> pd.DataFrame:
        rank = {p: i for i, p in enumerate(props)}
        on = part[part["prop"].isin(rank)].copy()
        on["rank"] = on["prop"].map(rank)
        best = on.groupby("event")["rank"].transform("min")
        return on[on["rank"] == best][["event", "node"]]

    if not link.target:  # all pairs among the named entities
        nodes = part[part["prop"].isin(link.source)][["event", "node"]].drop_duplicates()
        pairs = nodes.merge(nodes, on="event", suffixes=("_a", "_b"))
        pairs = pairs[pairs["node_a"] < pairs["node_b"]]
    else:
        pairs = side(link.source).merge(side(link.target), on="event", suffixes=("_a", "_b"))
    return pd.DataFrame(
        {
            "event": pairs["event"],
            "source": pairs["node_a"],
            "target": pairs["node_b"],
            "kind": link.kind,
            "directed": link.directed,
        }
    )


def _nodes(
    st: pd.DataFrame, schema_of: dict[str, str], refs: pd.DataFrame, edges: pd.DataFrame, protected: set[str]
) -> pd.DataFrame:
    """Every party, and every identifier some tie still names after contraction, with its attributes."""
    ids = pd.Index(sorted(set(edges["source"]) | set(edges["target"]) | _parties(schema_of)), name="id")
    out = pd.DataFrame(index=ids)
    out["schema"] = [schema_of.get(i, "Phone" if i.startswith("phone:") else "Thing") for i in ids]
    party = out["schema"].map(is_party)
    out["kind"] = [
        "party" if p else ("phone" if i.startswith("phone:") else IDENTIFIER_KINDS.get(s, "object"))
        for i, s, p in zip(ids, out["schema"], party, strict=True)
    ]
    labels = _first_value(st, ("name", "username", "registrationNumber", "number", "full", "accountNumber"))
    out["label"] = [labels.get(i) or (i[6:] if i.startswith("phone:") else i) for i in ids]
    nat = st[st["prop"] == "nationality"][["canonical_id", "value"]].drop_duplicates()
    out["nationality"] = _joined(nat, "value").reindex(ids).fillna("")
    cats = st[st["schema"].map(is_party)][["canonical_id", "subject_category"]].dropna().drop_duplicates()
    out["categories"] = _joined(cats, "subject_category").reindex(ids).fillna("")
    out["protected"] = [i in protected for i in ids]
    records = st.groupby("canonical_id")["entity_id"].nunique()
    out["records"] = records.reindex(ids).fillna(0).astype(int)
    return out.reset_index()


def _joined(frame: pd.DataFrame, column: str) -> pd.Series:
    """Distinct values per canonical id, sorted and joined with ';' (the frame is already de-duplicated)."""
    ordered = frame.sort_values(["canonical_id", column])
    return ordered.groupby("canonical_id")[column].agg(";".join)


def _parties(schema_of: dict[str, str]) -> set[str]:
    return {cid for cid, s in schema_of.items() if is_party(s)}


def _first_value(st: pd.DataFrame, props: tuple[str, ...]) -> dict[str, str]:
    """A display label per entity: the most frequent value of the first property in ``props`` it has."""
    on = st[st["prop"].isin(props)].copy()
    on["rank"] = on["prop"].map({p: i for i, p in enumerate(props)})
    counts = on.groupby(["canonical_id", "rank", "value"]).size().rename("n").reset_index()
    counts = counts.sort_values(["canonical_id", "rank", "n"], ascending=[True, True, False])
    best = counts.drop_duplicates("canonical_id")
    return dict(zip(best["canonical_id"], best["value"], strict=True))


__all__ = ["EVENT_LINKS", "HELD_BY", "HOLDS", "Link", "StoreGraph", "build_graph", "is_party", "read_statements"]
