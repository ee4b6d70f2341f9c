"""Routes: origin -> transit -> departure -> arrival, from route legs, crossings and trips in the store.

* **Legs** (``Leg``: origin, destination, transport, operator, people, startDate) are the land and sea stages;
* **crossings** (``Crossing``: departurePlace, arrivalPlace, peopleOnBoard, date, organiser, pilot) the last
  stage; **trips** (FtM ``Trip``: startLocation, endLocation, organizer, date) count as legs.

Each place gets a stage: *departure* where crossings leave, *arrival* where they land, *origin* where legs
start but never end, *transit* otherwise. The table aggregates per (from, to): means of transport, number of
legs or crossings, people moved, first and last date, and who operates them (resolved names with their ids, most
frequent first). Operators pass through the protection (``protect.py``): a victim, witness, informant or migrant
boat pilot is never listed as an operator, only counted in the ``protected`` column for safeguarding.
The Sankey is an inline SVG (``sankey.py``): the page is one self-contained file.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from avellino.network.protect import Protection
from avellino.network.sankey import sankey_svg

if TYPE_CHECKING:
    from avellino.network.build import StoreGraph

ROUTE_SCHEMATA = ("Leg", "Crossing", "Trip")
#: schema -> (from, to, transport, operator props, people, date props)
FIELDS = {
    "Leg": ("origin", "destination", "transport", ("operator",), "people", ("startDate", "date")),
    "Crossing": (
        "departurePlace",
        "arrivalPlace",
        None,
        ("organiser", "organizer", "pilot"),
        "peopleOnBoard",
        ("date",),
    ),
    "Trip": ("startLocation", "endLocation", None, ("organizer",), None, ("startDate", "date")),
}
STAGE_ORDER = {"origin": 0, "transit": 1, "departure": 2, "arrival": 3}


def route_stages(statements: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per leg / crossing / trip: schema, from, to, transport, people, date, operators."""
    st = statements[statements["schema"].isin(ROUTE_SCHEMATA)]
    if st.empty:
        return pd.DataFrame(columns=["event", "schema", "from", "to", "transport", "people", "date", "operators"])
    wide = st.groupby(["canonical_id", "prop"])["value"].first().unstack()
    schema = st.groupby("canonical_id")["schema"].first()
    rows = []
    for schema_name, (src, dst, transport, _ops, people, dates) in FIELDS.items():
        ids = schema.index[schema == schema_name]
        if not len(ids) or src not in wide or dst not in wide:
            continue
        part = wide.loc[ids]
        date = pd.Series(pd.NA, index=ids, dtype=object)
        for d in reversed(dates):
            if d in part:
                date = part[d].str.slice(0, 10).where(part[d].notna(), date)
        rows.append(
            pd.DataFrame(
                {
                    "event": ids,
                    "schema": schema_name,
                    "from": part[src].values,
                    "to": part[dst].values,
                    "transport": part[transport].values if transport and transport in part else "boat",
                    "people": pd.to_numeric(part[people], errors="coerce").values if people in part else float("nan"),
                    "date": date.values,
                }
            )
        )
    stages = pd.concat(rows, ignore_index=True).dropna(subset=["from", "to"])
    ops = _operators(st, labels or {})
    stages["operators"] = stages["event"].map(ops).fillna("")
    stages["transport"] = stages["transport"].fillna("unknown")
    return stages


def _operators(st: pd.DataFrame, labels: dict[str, str]) -> dict[str, str]:
    props = {p for f in FIELDS.values() for p in f[3]}
    on = st[st["prop"].isin(props) & (st["prop_type"] == "entity")]
    return on.groupby("canonical_id")["value"].agg(lambda v: ";".join(dict.fromkeys(v))).to_dict()


def place_stages(stages: pd.DataFrame) -> dict[str, str]:
    """origin / transit / departure / arrival per place (a place crossings leave from is a departure...)."""
    crossing = stages[stages["schema"] == "Crossing"]
    legs = stages[stages["schema"] != "Crossing"]
    out: dict[str, str] = {}
    ends = set(legs["to"])
    for place in set(legs["from"]) | ends:
        out[place] = "transit" if place in ends else "origin"
    out.update({p: "departure" for p in crossing["from"]})
    out.update({p: "arrival" for p in crossing["to"] if p not in set(crossing["from"])})
    return out


COLUMNS = [
    "from",
    "to",
    "stage",
    "transport",
    "count",
    "people",
    "first",
    "last",
    "operators",
    "operator_ids",
    "protected",
]


def route_table(
    stages: pd.DataFrame,
    canonical: dict[str, str],
    labels: dict[str, str],
    protection: Protection,
    top: int = 3,
) -> pd.DataFrame:
    """Per (from, to): means of transport, legs, people, first and last date, the main operators by name and id
    (never a protected person: those are only counted, in ``protected``, for safeguarding)."""
    if stages.empty:
        return pd.DataFrame(columns=COLUMNS)
    stage = place_stages(stages)

    def people(values: pd.Series) -> list[str]:
        return [canonical.get(x, x) for v in values for x in str(v).split(";") if x]

    def shown(values: pd.Series) -> pd.Series:
        ids, _ = protection.screen(people(values))
        return pd.Series(ids, dtype=object).value_counts().head(top)

    def names(values: pd.Series) -> str:
        return ", ".join(f"{labels.get(i, i)} ({n})" for i, n in shown(values).items())

    def ids(values: pd.Series) -> str:
        return ";".join(shown(values).index)

    def protected(values: pd.Series) -> int:
        return len(set(protection.screen(people(values))[1]))

    def modes(values: pd.Series) -> str:
        return ", ".join(f"{m} ({n})" for m, n in values.value_counts().items())

    table = stages.groupby(["from", "to"], as_index=False).agg(
        transport=("transport", modes),
        count=("event", "nunique"),
        people=("people", "sum"),
        first=("date", "min"),
        last=("date", "max"),
        operators=("operators", names),
        operator_ids=("operators", ids),
        protected=("operators", protected),
    )
    table["stage"] = table["from"].map(stage) + " -> " + table["to"].map(stage)
    table["people"] = table["people"].fillna(0).astype(int)
    order = table["from"].map(lambda p: STAGE_ORDER.get(stage.get(p, "transit"), 1))
    table = table.assign(_o=order).sort_values(["_o", "people"], ascending=[True, False]).drop(columns="_o")
    return table[COLUMNS].reset_index(drop=True)


def sankey_html(table: pd.DataFrame) -> str:
    """The Sankey of people moved as an inline SVG fragment (no script, nothing beside the page)."""
    return sankey_svg(table, title="People moved between places (legs and crossings)")


def routes_page(table: pd.DataFrame, top: int = 40) -> str:
    """A whole HTML page: the Sankey and the first ``top`` route stages, one self-contained file."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.head(top).itertuples(index=False)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Routes</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body><h1>Routes</h1>"
        f"{sankey_html(table)}<p>Operators are listed with their entity ids (<code>avellino resolve explain</code>); "
        "<i>protected</i> counts victims, witnesses, informants and migrant boat pilots among the operators, who "
        f"are never listed as operators (flag for safeguarding).</p><table><tr>{head}</tr>{body}</table>"
        "</body></html>"
    )


def routes_of(sg: StoreGraph, statements: pd.DataFrame, stages: pd.DataFrame | None = None) -> pd.DataFrame:
    """The route table of a store's statements (or of their ``route_stages`` when already read), operators named
    after the network's node labels and screened by the network's protection."""
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"], strict=True))
    canonical = dict(zip(statements["entity_id"], statements["canonical_id"], strict=True))
    stages = route_stages(statements) if stages is None else stages
    return route_table(stages, canonical, labels, sg.protection)
