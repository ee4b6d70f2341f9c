"""The workbench's answers as plain data, built from a read model (``readmodel.py``) and the store's derived tables.

Each function returns what one API endpoint sends, and the ids it touched (for the audit entry). Nothing here
checks rights or writes the audit: ``api.py`` does both around every call.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd

from avellino.errors import AvellinoError
from avellino.share.policy import caveat, markings_of_row
from avellino.web.readmodel import MARKING_COLUMNS, ReadModel

if TYPE_CHECKING:
    from avellino.share.node import Node
    from avellino.store.base import Store

TARGETS_TABLE = "web_target_confirmations"


class NotFound(AvellinoError):
    """What was asked for is not in the reader's view (absent, or withheld from them: the answer is the same)."""


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def entity(model: ReadModel, any_id: str) -> dict[str, Any]:
    """Every fact of a person or thing (all records merged into it), grouped by originator, each with its markings,
    provenance and the caveat the originator's conditions require; the safeguarding flag; links."""
    cid = model.resolve_id(any_id)
    if cid is None:
        raise NotFound(f"no entity {any_id!r} in your view")
    rows = model.statements(cid)
    by_originator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    strictest_tlp = ""
    from avellino.model.markings import TLP_ORDER

    for row in rows:
        if row["prop"] == "id":
            continue
        m = markings_of_row(row)
        fact = {
            "prop": row["prop"],
            "value": row["value"],
            "record": row["entity_id"],
            "statement": row["id"],
            **{k: _jsonable(row[k]) for k in MARKING_COLUMNS},
            "caveat": caveat(m) if m is not None else "markings outside the vocabularies: not to be used",
        }
        by_originator[str(row["originator"])].append(fact)
        if m is not None and (not strictest_tlp or TLP_ORDER.index(m.tlp) > TLP_ORDER.index(strictest_tlp)):
            strictest_tlp = m.tlp.value
    return {
        "id": cid,
        "schema": model.schema_of[cid],
        "caption": model.caption[cid],
        "records": sorted(model.members.get(cid, [cid])),
        "protected": cid in model.protected,
        "safeguarding": (
            f"Protected person ({model.protected[cid]}): never a target; share only for safeguarding"
            if cid in model.protected
            else ""
        ),
        "tlp": strictest_tlp,
        "originators": {o: facts for o, facts in sorted(by_originator.items())},
        "links": model.links(cid),
    }


def neighbourhood(model: ReadModel, any_id: str, depth: int, community: bool) -> dict[str, Any]:
    cid = model.resolve_id(any_id)
    if cid is None:
        raise NotFound(f"no entity {any_id!r} in your view")
    sg = model.graph
    node = sg.canonical.get(cid, cid)
    if node not in set(sg.nodes["id"]):
        return {"center": cid, "nodes": [], "edges": [], "truncated": False}
    return model.community(node) if community else model.neighbourhood(node, depth=depth)


_targets_cache: dict[int, dict[str, Any]] = {}
_targets_lock = threading.Lock()


def targets(model: ReadModel, k: int = 10) -> dict[str, Any]:
    """Key players of the view's network (``network/targets.py``: protected people are never among them, and are
    listed apart for safeguarding). Computed once per view."""
    with _targets_lock:
        cached = _targets_cache.get(id(model))
        if cached is not None and cached["k"] == k:
            return cached
        from avellino.network.roles import infer_roles
        from avellino.network.targets import key_players

        sg = model.graph
        if sg.nodes.empty:
            report: dict[str, Any] = {"k": k, "targets": [], "protected": [], "nodes": 0, "edges": 0}
        else:
            report = key_players(None, sg, infer_roles(sg), k=k, effort_seconds=3.0).as_json()  # type: ignore[arg-type]
        report["k"] = k
        _targets_cache.clear()
        _targets_cache[id(model)] = report
        return report


def confirmations(store: Store) -> list[dict[str, Any]]:
    table = store.read_table(TARGETS_TABLE)
    return [] if table is None else table.to_pylist()


def confirm_target(store: Store, model: ReadModel, any_id: str, user: str, reason: str) -> dict[str, Any]:
    """A supervisor confirms a key player as a target. A protected person is refused, whatever the request says."""
    import pyarrow as pa

    cid = model.resolve_id(any_id)
    if cid is None:
        raise NotFound(f"no entity {any_id!r} in your view")
    node = model.graph.canonical.get(cid, cid)
    if cid in model.protected or node in model.graph.protection:
        raise Refused(
            f"{model.caption[cid]} is a protected person (victim, witness, informant or migrant pilot): never a "
            "target; nothing was recorded"
        )
    if not reason.strip():
        raise Refused("give the reason for confirming this target (it is kept with the decision)")
    row = {
        "canonical_id": cid,
        "caption": model.caption[cid],
        "confirmed_by": user,
        "reason": reason.strip(),
        "confirmed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    store.write_table(TARGETS_TABLE, pa.Table.from_pylist([row]), mode="append")
    return row


class Refused(AvellinoError):
    """The request is understood and not allowed (a protected person as a target, a judgement on itself...)."""


# -- resolution -------------------------------------------------------------------------------------------------
def review_queue(store: Store, model: ReadModel, limit: int = 50) -> list[dict[str, Any]]:
    """Scored pairs not yet judged, the most uncertain first (match probability nearest 0.5), both records in the
    reader's view."""
    from avellino.resolve import clusters as cl
    from avellino.resolve import store_io

    edges = store.read_table(store_io.EDGES)
    if edges is None:
        return []
    frame = edges.select(["id_l", "id_r", "match_probability"]).to_pandas()
    log = cl.effective_judgements(store_io.judgements(store))
    judged = set(zip(log["left_id"], log["right_id"], strict=True)) | set(
        zip(log["right_id"], log["left_id"], strict=True)
    )
    frame = frame[(frame["match_probability"] > 0.05) & (frame["match_probability"] < 0.995)]
    frame = frame.assign(uncertainty=(frame["match_probability"] - 0.5).abs()).sort_values(["uncertainty", "id_l"])
    out: list[dict[str, Any]] = []
    for a, b, p in zip(frame["id_l"], frame["id_r"], frame["match_probability"], strict=True):
        if (a, b) in judged or a not in model.canonical or b not in model.canonical:
            continue
        out.append(
            {
                "left": a,
                "right": b,
                "match_probability": round(float(p), 4),
                "left_caption": model.caption.get(model.canonical[a], a),
                "right_caption": model.caption.get(model.canonical[b], b),
                "protected": bool({model.canonical[a], model.canonical[b]} & set(model.protected)),
            }
        )
        if len(out) >= limit:
            break
    return out


def explain(store: Store, model: ReadModel, a: str, b: str) -> dict[str, Any]:
    from avellino.resolve import store_io

    for x in (a, b):
        if x not in model.canonical:
            raise NotFound(f"no record {x!r} in your view")
    try:
        result = store_io.explain(store, a, b)
    except AvellinoError as exc:  # nothing resolved yet, or a record the resolution never saw
        raise Refused(str(exc)) from exc
    return json.loads(json.dumps(result, default=str))


def judge(store: Store, model: ReadModel, a: str, b: str, verdict: str, user: str, reason: str) -> dict[str, Any]:
    from avellino.resolve import clusters as cl
    from avellino.resolve import store_io

    mapped = {"same": "positive", "different": "negative", "unsure": "unsure"}.get(verdict)
    if mapped is None:
        raise Refused(f"verdict must be same, different or unsure (not {verdict!r})")
    if a == b:
        raise Refused("a judgement needs two different records")
    for x in (a, b):
        if x not in model.canonical:
            raise NotFound(f"no record {x!r} in your view")
    row = cl.judgement_row(a, b, mapped, user, reason)
    store_io.add_judgements(store, [row])
    return {k: _jsonable(v) for k, v in row.items()}


def cluster(model: ReadModel, any_id: str) -> dict[str, Any]:
    cid = model.resolve_id(any_id)
    if cid is None:
        raise NotFound(f"no entity {any_id!r} in your view")
    members = sorted(model.members.get(cid, [cid]))
    return {"id": cid, "caption": model.caption[cid], "members": members, "protected": cid in model.protected}


# -- routes and flows -------------------------------------------------------------------------------------------
def routes(model: ReadModel) -> dict[str, Any]:
    from avellino.web.places import places

    table = model.routes
    known = places()
    used = {p for row in table for p in (row.get("from"), row.get("to")) if p}
    return {
        "routes": table,
        "places": {p: known[p] for p in sorted(used) if p in known},
        "unplaced": sorted(p for p in used if p not in known),
    }


def flows(store: Store) -> dict[str, Any]:
    from avellino.flows.alerts import all_alerts
    from avellino.flows.findings import workspace_forecast

    block = workspace_forecast(store)
    if block is None:
        return {"title": "", "series": [], "alerts": [], "note": "too few periods of crossings to forecast"}
    result = block.result
    series = []
    for uid in block.series:
        hist = result.history[result.history["unique_id"] == uid]
        fc = result.forecast[result.forecast["unique_id"] == uid]
        cols = [c for c in fc.columns if c not in ("unique_id", "ds")]
        series.append(
            {
                "id": uid,
                "history": [
                    {"ds": str(pd.Timestamp(d).date()), "y": float(y)}
                    for d, y in zip(hist["ds"], hist["y"], strict=True)
                ],
                "forecast": [
                    {"ds": str(pd.Timestamp(r["ds"]).date()), **{c: _num(r[c]) for c in cols}}
                    for r in fc.to_dict(orient="records")
                ],
                "point": result.point,
            }
        )
    return {"title": block.title, "series": series, "alerts": [a.to_dict() for a in all_alerts(result)]}


def _num(value: object) -> float | None:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, 2)


# -- joint investigation teams ----------------------------------------------------------------------------------
def jits(node: Node | None) -> list[dict[str, Any]]:
    """The JIT agreements this node holds: members, term, purposes and state today."""
    if node is None:
        return []
    from avellino.share.jit import load_all

    today = dt.date.today()
    return [
        {
            "name": a.name,
            "members": sorted(a.members),
            "until": str(a.until),
            "purposes": list(a.purposes),
            "state": a.state(node, today),
        }  # fmt: skip
        for a in load_all(node)
    ]


def jit_case(store: Store, node: Node | None, name: str, purpose: str) -> dict[str, Any]:
    """A JIT's case as this node's staff may see it (``share/jit_case.py``: members, contributions by
    originator, resolved persons, the case network; restricted by the policy as each originator sharing with this
    node inside the JIT, so an ended JIT shows nothing)."""
    from avellino.share.jit import load
    from avellino.share.jit_case import case_view

    if node is None:
        raise NotFound("this workspace has no node keys, so no joint investigation team")
    try:
        agreement = load(node, name)
    except AvellinoError as exc:
        raise NotFound(f"no JIT {name!r} held by {node.name}") from exc
    allowed = list(agreement.purposes)
    chosen = purpose if purpose in allowed else (allowed[0] if allowed else None)
    return json.loads(json.dumps(case_view(store, node, agreement, chosen).as_dict(), default=str))
