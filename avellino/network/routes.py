"""Routes: origin -> transit -> departure -> arrival, from route legs, crossings and trips in the store.

* **Legs** (``Leg``: origin, destination, transport, operator, people, startDate) are the land and sea stages;
* **crossings** (``Crossing``: departurePlace, arrivalPlace, peopleOnBoard, date, organiser, pilot) the last
  stage; **trips** (FtM ``Trip``: startLocation, endLocation, organizer, date) count as legs.

Each place gets a stage: *departure* where crossings leave, *arrival* where they land, *origin* where legs
start but never end, *transit* otherwise. The table aggregates per (from, to): means of transport, number of
legs or crossings, people moved, first and last date, and who operates them (resolved names, most frequent first).
The Sankey shows people moved between places (plotly, no CDN: the page loads ``plotly.min.js`` from beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

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


def route_table(stages: pd.DataFrame, canonical: dict[str, str], labels: dict[str, str], top: int = 3) -> pd.DataFrame:
    """Per (from, to): means of transport, legs, people, first and last date, main operators by name."""
    if stages.empty:
        return pd.DataFrame(
            columns=["from", "to", "stage", "transport", "count", "people", "first", "last", "operators"]
        )
    stage = place_stages(stages)

    def names(values: pd.Series) -> str:
        ids = [canonical.get(x, x) for v in values for x in str(v).split(";") if x]
        counts = pd.Series(ids, dtype=object).value_counts()
        return ", ".join(f"{labels.get(i, i)} ({n})" for i, n in counts.head(top).items())

    def modes(values: pd.Series) -> str:
        return ", ".join(f"{m} ({n})" for m, n in values.value_counts().items())

    table = stages.groupby(["from", "to"], as_index=False).agg(
        transport=("transport", modes),
        count=("event", "nunique"),
        people=("people", "sum"),
        first=("date", "min"),
        last=("date", "max"),
        operators=("operators", names),
    )
    table["stage"] = table["from"].map(stage) + " -> " + table["to"].map(stage)
    table["people"] = table["people"].fillna(0).astype(int)
    order = table["from"].map(lambda p: STAGE_ORDER.get(stage.get(p, "transit"), 1))
    table = table.assign(_o=order).sort_values(["_o", "people"], ascending=[True, False]).drop(columns="_o")
    return table[["from", "to", "stage", "transport", "count", "people", "first", "last", "operators"]].reset_index(
        drop=True
    )


def sankey_figure(table: pd.DataFrame, max_links: int = 60) -> object:
    """A plotly Sankey of people moved between places (the ``max_links`` largest flows)."""
    import plotly.graph_objects as go

    flows = table.groupby(["from", "to"], as_index=False)["people"].sum().nlargest(max_links, "people")
    places = list(dict.fromkeys([*flows["from"], *flows["to"]]))
    index = {p: i for i, p in enumerate(places)}
    fig = go.Figure(
        go.Sankey(
            node={"label": places, "pad": 12, "thickness": 14},
            link={
                "source": flows["from"].map(index).tolist(),
                "target": flows["to"].map(index).tolist(),
                "value": flows["people"].clip(lower=1).tolist(),
            },
        )
    )
    fig.update_layout(title="People moved between places (legs and crossings)", height=560, template="plotly_white")
    return fig


def write_plotly_js(folder: Path) -> Path:
    """plotly.min.js beside the page, once: installations are often offline, so never a CDN."""
    from plotly.offline import get_plotlyjs

    path = folder / "plotly.min.js"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(get_plotlyjs(), encoding="utf-8")
    return path


def sankey_html(table: pd.DataFrame, full_html: bool = False) -> str:
    """The Sankey as HTML that loads plotly.min.js from the same folder (see ``write_plotly_js``)."""
    fig = sankey_figure(table)
    return str(fig.to_html(full_html=full_html, include_plotlyjs="directory"))  # type: ignore[attr-defined]


def routes_of(sg: StoreGraph, statements: pd.DataFrame) -> pd.DataFrame:
    """The route table of a store's statements, operators named after the network's node labels."""
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"], strict=True))
    canonical = dict(zip(statements["entity_id"], statements["canonical_id"], strict=True))
    return route_table(route_stages(statements), canonical, labels)
