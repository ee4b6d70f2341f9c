"""Europol's export: FollowTheMoney entities (JSON lines) built from the same generic fields as other partners.

Ids are signed with the originator slug already (``avellino.ingest.ids.entity_id``), so the ingest keeps them
as they are and references between entities resolve without a mapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from avellino.ingest.ids import entity_id
from avellino.sample.fields import FIELDS, Ctx
from avellino.sample.layouts import Layout

Entity = dict[str, Any]


def _entity(ctx: Ctx, schema: str, key: str, props: dict[str, list[Any]], eid: str | None = None) -> Entity:
    clean = {k: [str(v) for v in vals if v is not None and v != ""] for k, vals in props.items()}
    return {
        "id": eid or entity_id(ctx.originator, schema, [key]),
        "schema": schema,
        "properties": {k: v for k, v in clean.items() if v},
    }


def entities(ctx: Ctx, layout: Layout, lo: int, hi: int) -> Iterator[list[Entity]]:
    """Batches of entities for rows ``lo:hi`` of one kind (persons: only those of ``layout.category``)."""
    build = FIELDS[layout.kind]
    step = 100_000
    for chunk_no, start in enumerate(range(lo, hi, step)):
        sl = slice(start, min(start + step, hi))
        cols = {k: v.to_pylist() for k, v in build(ctx, sl, chunk_no).items()}
        rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
        if layout.kind == "persons":
            refs = ctx.ref_ids.slice(sl.start, sl.stop - sl.start).to_pylist()
            keep = np.asarray(ctx.categories[sl] == layout.category)
            yield [_person(ctx, r, ref) for r, ref, k in zip(rows, refs, keep, strict=True) if k]
        else:
            yield [e for r in rows for e in _EVENT[layout.kind](ctx, r)]


def _person(ctx: Ctx, r: dict[str, Any], ref: str) -> Entity:
    return _entity(
        ctx,
        "Person",
        r["id"],
        {
            "name": [r["full"]],
            "alias": [r["alias"]],
            "birthDate": [r["dob_iso"]],
            "birthPlace": [r["birthplace"]],
            "nationality": [r["nation_iso"]],
            "gender": [r["gender"]],
            "phone": [r["phone1"], r["phone2"]],
            "passportNumber": [r["passport"]],
        },
        eid=ref,
    )


def _call(ctx: Ctx, r: dict[str, Any]) -> list[Entity]:
    return [
        _entity(
            ctx,
            "Call",
            r["id"],
            {
                "caller": [r["caller_ref"]],
                "receiver": [r["receiver_ref"]],
                "callerNumber": [r["caller_phone"]],
                "receiverNumber": [r["receiver_phone"]],
                "date": [r["at"]],
                "duration": [r["duration"]],
                "recordId": [r["id"]],
            },
        )
    ]


def _payment(ctx: Ctx, r: dict[str, Any]) -> list[Entity]:
    return [
        _entity(
            ctx,
            "Payment",
            r["id"],
            {
                "payer": [r["payer_ref"]],
                "beneficiary": [r["payee_ref"]],
                "amount": [r["amount"]],
                "currency": [r["currency"]],
                "date": [r["date"]],
                "purpose": [r["method"]],
                "programme": [r["provider"]],
                "recordId": [r["id"]],
            },
        )
    ]


def _advert(ctx: Ctx, r: dict[str, Any]) -> list[Entity]:
    account = _entity(
        ctx,
        "UserAccount",
        f"{r['platform']}:{r['account']}",
        {
            "username": [r["account"]],
            "service": [r["platform"]],
            "owner": [r["author_ref"]],
        },
    )
    advert = _entity(
        ctx,
        "Advert",
        r["id"],
        {
            "platform": [r["platform"]],
            "url": [r["url"]],
            "author": [r["author_ref"]],
            "authorAccount": [account["id"]],
            "bodyText": [r["text"]],
            "language": [r["language"]],
            "postedAt": [r["posted_at"]],
            "phone": [r["phone"]],
            "price": [r["price"]],
            "currency": [r["currency"]],
            "kind": [r["kind"]],
        },
    )
    return [account, advert]


_EVENT = {"calls": _call, "payments": _payment, "adverts": _advert}
__all__ = ["entities"]
