"""Originator proofs: what lets a node check that a fact passed on to it by a partner really is its originator's.

A bundle's signature proves who *sent* it. When node B passes on facts that A shared with it (an allowed onward
share), node C must not take B's word that A is their originator: B could otherwise invent facts under A's name
(and A's markings). So every node signs, besides the bundle, a *manifest* of the facts it originated in that
bundle, and keeps the manifests it receives, so that it can pass them on with the facts they cover.

Per fact (in SQL, vectorised, never a Python call per statement):

* ``fact_hash`` = SHA-256 of the JSON array of the fact's entity id, schema, property, value, every marking
  (originator, handling code and note, TLP, evaluation, data-subject category, retention review) and its statement
  id as both stores compute it (``md5(entity|prop|value|marking_id)``); JSON quotes every string and writes NULL
  as null, so no two different facts encode alike.
* ``salt`` = the first 128 bits of SHA-256(manifest's salt key, fact_hash); ``leaf`` = the first 128 bits of
  SHA-256(salt, fact_hash).

Leaves are cut, in bundle order, into pages of :data:`PAGE` leaves; a page's hash is SHA-256 of its leaves. The
manifest body names the originator and its card's fingerprint, the number of facts and pages and the SHA-256 of
the page hashes, and is signed ONCE with the originator's Ed25519 key (one signature per bundle, however many
facts: one per fact would cost more than the import of a million statements).

What travels (after the facts, in the same encrypted payload, as three Arrow IPC streams):

* ``manifests``: body, signature and page hashes of every manifest involved; for the sender's own manifest also
  its salt key (kept by the receiver, never passed on).
* ``pages``: every page of the sender's own manifest, and for facts it passes on, the pages that hold them.
* ``salts``: for the facts passed on only, (manifest, fact_hash, salt).

The first receiver checks each page against the signed page hashes (one hash per page) and that the manifest
counts the sender's facts, but does not recompute its sender's leaves: the bundle's signature already proves those
facts are the sender's, and hashing every fact would cost as much as the import itself. A node that passes a fact
on computes its leaf then and withholds it (``no originator proof``) unless it is in a signed page; the onward
receiver recomputes every passed-on fact's leaf from the fact and its salt and refuses the bundle on any miss.

Why salts: a page holds the leaves of up to 255 other facts, which the onward receiver may not have been allowed
to see (an H2 or RED fact of the same person). An unsalted hash would let it confirm a guess ("is this person an
informant?") by hashing the guess; a salted leaf is worthless without its salt, and only the salts of the facts
passed on travel onward (the salt key stays with the first receiver).

Bounded: what one onward bundle carries per originator manifest is at most its page-hash list (32 bytes per
:data:`PAGE` facts) plus one page (4 KiB) per page touched, never more than 16 bytes per fact of the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from avellino.share.node import Card, Node, b64, canonical_json, unb64
from avellino.store.schema import (
    PROOF_MANIFEST_SCHEMA,
    PROOF_PAGE_SCHEMA,
    PROOF_SALT_SCHEMA,
    Proofs,
    marking_id_sql,
)

#: Leaves per page: 4 KiB of leaves, the most an onward bundle carries to prove one fact.
PAGE = 256
#: A leaf is SHA-256 cut to 128 bits: forging a fact to match one of N signed leaves still takes ~2^128/N hashes,
#: and every fact sent costs 16 bytes of bundle instead of 32 (leaves are random, so they do not compress).
LEAF_BYTES = 16
HASH_BYTES = 32
MANIFEST_VERSION = 1
MANIFEST_CONTEXT = b"avellino-manifest-v1"
PAGE_CONTEXT = b"avellino-page-v1"
#: Withheld at a send: a fact of another originator this node holds no manifest for (it was not received from
#: that originator with a proof, e.g. ingested from a file), which every receiver would refuse.
NO_PROOF = "no originator proof"

#: The fields a fact hash covers, in order (``statement_id`` is computed, see :func:`fact_hash_sql`).
FACT_FIELDS = (
    "entity_id",
    "schema",
    "prop",
    "value",
    "originator",
    "handling_code",
    "handling_note",
    "tlp",
    "evaluation",
    "subject_category",
    "retention_review",
)


def statement_id_sql(alias: str = "") -> str:
    """The statement id as both stores' ``statements`` view computes it, from a payload row."""
    p = f"{alias}." if alias else ""
    mid = marking_id_sql({f: f"{p}{f}" for f in FACT_FIELDS[4:]})
    return f"md5(concat_ws('|', {p}entity_id, {p}prop, {p}value, {mid}))"


def fact_hash_sql(alias: str = "") -> str:
    """DuckDB SQL for a payload row's fact hash (64 hex characters): SHA-256 of the JSON array of its fields (JSON
    quotes and escapes every string, and writes NULL as null, so no two different facts encode alike)."""
    p = f"{alias}." if alias else ""
    parts = [f"CAST({p}{f} AS VARCHAR)" for f in FACT_FIELDS] + [statement_id_sql(alias)]
    return f"sha256('avellino-fact-v1|' || to_json([{', '.join(parts)}]))"


def salt_sql(key: str, fact_hash: str) -> str:
    return f"left(sha256('avellino-salt-v1|' || {key} || '|' || {fact_hash}), 32)"


def leaf_sql(salt: str, fact_hash: str) -> str:
    """A fact's leaf as a BLOB of LEAF_BYTES."""
    return f"unhex(left(sha256('avellino-leaf-v1|' || {salt} || '|' || {fact_hash}), {2 * LEAF_BYTES}))"


def contiguous(leaves: pa.Array | pa.ChunkedArray) -> bytes:
    """Leaves (binary values of LEAF_BYTES) as one byte string, in order."""
    if isinstance(leaves, pa.ChunkedArray):
        leaves = pa.concat_arrays(leaves.chunks) if leaves.num_chunks else pa.array([], pa.binary())
    if not len(leaves):
        return b""
    fixed = leaves.cast(pa.binary(LEAF_BYTES))
    data = fixed.buffers()[1]
    assert data is not None
    return data.to_pybytes()[fixed.offset * LEAF_BYTES : (fixed.offset + len(fixed)) * LEAF_BYTES]


def page_hash(leaves: bytes) -> bytes:
    return hashlib.sha256(PAGE_CONTEXT + leaves).digest()


def pages_of(leaves: bytes) -> list[bytes]:
    step = PAGE * LEAF_BYTES
    return [leaves[i : i + step] for i in range(0, len(leaves), step)]


def page_count(facts: int) -> int:
    return (facts + PAGE - 1) // PAGE


class ProofRefused(ValueError):
    """A proof that does not hold; receive.py turns it into BundleRefused naming the bundle."""


# -- the sender's own manifest -----------------------------------------------------------------------------


def salt_key(node: Node, recipients: Sequence[str]) -> str:
    """The salt key of this node's bundles to one set of recipients (by card fingerprint): the same for every
    bundle to them, so that a node that received many bundles computes a passed-on fact's salt once per key, not
    once per bundle. Derived from this node's deterministic Ed25519 signature (RFC 8032), so it needs no storage
    and nobody without the signing key can compute it."""
    message = b"avellino-salt-key-v1|" + ",".join(sorted(recipients)).encode("ascii")
    return hashlib.sha256(b"avellino-salt-key-v1" + node.sign(message)).hexdigest()


class OwnManifest:
    """The manifest of the facts this node originated in one bundle, built page by page as they stream out. Its
    leaves go to a temporary file (32 bytes a fact), from which :meth:`pages` writes them after the facts."""

    def __init__(self, node: Node, recipients: Sequence[str] = ()):
        self.node = node
        self.manifest_id = uuid.uuid4().hex
        self.key = salt_key(node, recipients) if recipients else os.urandom(32).hex()
        self.facts = 0
        self._pending = bytearray()
        self._hashes = bytearray()
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the send; closed by close())

    def add(self, leaves: pa.Array | pa.ChunkedArray) -> None:
        data = contiguous(leaves)
        self._spool.write(data)
        self._pending += data
        self.facts += len(leaves)
        step = PAGE * LEAF_BYTES
        full = len(self._pending) // step * step
        for page in pages_of(bytes(self._pending[:full])):
            self._hashes += page_hash(page)
        del self._pending[:full]

    def row(self) -> dict[str, Any]:
        """The signed manifest, as a row of PROOF_MANIFEST_SCHEMA (with its salt key: for the receiver only)."""
        if self._pending:
            self._hashes += page_hash(bytes(self._pending))
            self._pending = bytearray()
        hashes = bytes(self._hashes)
        body = manifest_body(self.node.name, self.node.card.fingerprint, self.manifest_id, self.facts, hashes)
        signature = self.node.sign(MANIFEST_CONTEXT + canonical_json(body))
        return {"manifest_id": self.manifest_id, "originator": self.node.name, "body": canonical_json(body).decode(),
                "signature": signature, "page_hashes": hashes, "salt_key": self.key}  # fmt: skip

    def pages(self, rows: int = 1024) -> Iterator[pa.Table]:
        """Every page of leaves, in tables of ``rows`` pages (PROOF_PAGE_SCHEMA)."""
        self._spool.seek(0)
        number = 0
        while block := self._spool.read(rows * PAGE * LEAF_BYTES):
            pages = pages_of(block)
            yield pa.table({"manifest_id": pa.array([self.manifest_id] * len(pages), pa.string()),
                            "page_no": pa.array(range(number, number + len(pages)), pa.int32()),
                            "leaves": pa.array(pages, pa.binary())})  # fmt: skip
            number += len(pages)

    def close(self) -> None:
        self._spool.close()


def manifest_body(originator: str, fingerprint: str, manifest_id: str, facts: int, hashes: bytes) -> dict[str, Any]:
    return {
        "avellino_manifest": MANIFEST_VERSION,
        "manifest_id": manifest_id,
        "originator": originator,
        "fingerprint": fingerprint,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "facts": facts,
        "page_size": PAGE,
        "pages": page_count(facts),
        "pages_sha256": hashlib.sha256(hashes).hexdigest(),
    }


def own_leaves(con: duckdb.DuckDBPyConnection, table: str, key: str) -> pa.Array:
    """The leaves of the registered ``table`` (payload rows numbered by ``_row``, in that order) under the salt
    key ``key``."""
    sql = (
        f"SELECT {leaf_sql(salt_sql('$key', 'h'), 'h')} AS leaf FROM "
        f"(SELECT {fact_hash_sql()} AS h, _row FROM {table}) ORDER BY _row"
    )
    return con.sql(sql, params={"key": key}).to_arrow_table().column("leaf").combine_chunks()


def manifest_json(node: Node, facts: pa.Table) -> dict[str, Any]:
    """A manifest of ``facts`` (payload rows, all this node's), JSON-ready, for a correction notice: its facts can
    then be passed on later with this node's proof like those of a bundle. The salt key travels in the notice, which
    holds every fact the manifest covers anyway."""
    own = OwnManifest(node)
    con = duckdb.connect()
    try:
        con.register("_facts", facts.append_column("_row", pa.array(range(facts.num_rows), pa.int64())))
        own.add(own_leaves(con, "_facts", own.key))
        row = own.row()
        pages = [bytes(p) for t in own.pages() for p in t.column("leaves").to_pylist()]
    finally:
        con.close()
        own.close()
    return {"body": row["body"], "signature": b64(row["signature"]), "page_hashes": b64(row["page_hashes"]),
            "salt_key": row["salt_key"], "pages": [b64(p) for p in pages]}  # fmt: skip


def manifest_of_notice(data: object, facts: pa.Table, originator: str, card_of: Callable[[str], Card | None]) -> Proofs:
    """The proofs a correction notice carries for its facts, checked: signed by ``originator``, and every page
    recomputed from the facts (a correction is small). ProofRefused otherwise."""
    try:
        assert isinstance(data, dict)
        body = json.loads(str(data["body"]))
        key = str(data["salt_key"])
        row: dict[str, Any] = {
            "manifest_id": str(body["manifest_id"]), "originator": str(body["originator"]), "body": str(data["body"]),
            "signature": unb64(data["signature"], "signature"), "page_hashes": unb64(data["page_hashes"], "pages"),
            "salt_key": key,
        }  # fmt: skip
        pages = [unb64(p, "page") for p in data["pages"]]
    except (AssertionError, ValueError, KeyError, TypeError) as exc:
        raise ProofRefused(f"a correction's manifest is not readable ({exc})") from exc
    if row["originator"] != originator:
        raise ProofRefused(f"a correction by {originator} carries a manifest of {row['originator']}")
    manifest = check_manifest(row, card_of)
    if int(manifest.body["facts"]) != facts.num_rows:
        raise ProofRefused(f"a correction's manifest covers {manifest.body['facts']} facts, it holds {facts.num_rows}")
    con = duckdb.connect()
    try:
        con.register("_facts", facts.append_column("_row", pa.array(range(facts.num_rows), pa.int64())))
        leaves = contiguous(own_leaves(con, "_facts", key))
    finally:
        con.close()
    if pages_of(leaves) != pages or any(
        page_hash(p) != manifest.hashes[i * HASH_BYTES : (i + 1) * HASH_BYTES] for i, p in enumerate(pages)
    ):
        raise ProofRefused(f"a correction's facts are not the ones its manifest, signed by {originator}, covers")
    table = pa.table(
        {
            "manifest_id": pa.array([row["manifest_id"]] * len(pages), pa.string()),
            "page_no": pa.array(range(len(pages)), pa.int32()),
            "leaves": pa.array(pages, pa.binary()),
        }
    )
    return Proofs(pa.Table.from_pylist([row], schema=PROOF_MANIFEST_SCHEMA), table.cast(PROOF_PAGE_SCHEMA),
                  PROOF_SALT_SCHEMA.empty_table())  # fmt: skip


# -- passing other originators' facts on -------------------------------------------------------------------


def explode(pages: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Every leaf of ``pages`` (PROOF_PAGE_SCHEMA) as (page, leaf), ``page`` numbering the pages, and the pages as
    (page, manifest_id, page_no): 20 bytes a leaf, however long the manifest ids."""
    data = bytearray()
    counts = np.zeros(pages.num_rows, dtype=np.int64)
    for i, leaves in enumerate(pages.column("leaves").to_pylist()):
        n = len(leaves or b"") // LEAF_BYTES
        data += (leaves or b"")[: n * LEAF_BYTES]
        counts[i] = n
    index = pa.array(np.arange(pages.num_rows, dtype=np.int32))
    leaf = pa.Array.from_buffers(pa.binary(LEAF_BYTES), int(counts.sum()), [None, pa.py_buffer(bytes(data))])
    leaves = pa.table({"page": pa.array(np.repeat(np.arange(pages.num_rows, dtype=np.int32), counts)),
                       "leaf": leaf.cast(pa.binary())})  # fmt: skip
    return leaves, pa.table({"page": index, "manifest_id": pages.column("manifest_id"),
                             "page_no": pages.column("page_no")})  # fmt: skip


class Onward:
    """Finds, batch by batch, the proofs of other originators' facts this node sends on, and collects what the
    bundle must carry for them. Loaded once per send from the store's proofs (of every originator but this node)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, proofs: Proofs, me: str):
        self.con = con
        manifests = proofs.manifests.filter(pc.not_equal(proofs.manifests.column("originator"), me))
        self.manifests = {r["manifest_id"]: r for r in manifests.to_pylist()}
        ids = pa.array(list(self.manifests), pa.string())
        keyed = manifests.filter(pc.is_valid(manifests.column("salt_key"))).select(["manifest_id", "originator",
                                                                                    "salt_key"])  # fmt: skip
        salts = proofs.salts.join(manifests.select(["manifest_id", "originator"]), "manifest_id", join_type="inner")
        self._pages = proofs.pages.filter(pc.is_in(proofs.pages.column("manifest_id"), value_set=ids))
        leaves, index = explode(self._pages)
        con.register("_keyed", keyed)
        con.register("_salts", salts)
        con.register("_leaves", leaves)
        con.register("_page_index", index)
        self.used_pages: set[tuple[str, int]] = set()
        self.used_salts: list[pa.Table] = []

    def find(self, table: str) -> pa.Table:
        """For each row of the registered ``table`` (payload rows with a ``_row`` number; other originators'
        facts only): (_row, manifest_id, page_no, fact_hash, salt) of one proof, or none when there is none. A
        salt is computed once per distinct salt key of the fact's originator (an originator derives one key per
        set of recipients, so a node that received a hundred bundles from it has a few keys, not a hundred)."""
        sql = (
            f"WITH f AS (SELECT _row, originator, {fact_hash_sql()} AS h FROM {table}), "
            "k AS (SELECT DISTINCT originator, salt_key FROM _keyed), "
            f"c AS (SELECT f._row, f.h, f.originator, k.salt_key, {salt_sql('k.salt_key', 'f.h')} AS salt "
            "FROM f JOIN k ON k.originator = f.originator), "
            "keyed AS (SELECT c._row, c.h, c.salt, m.manifest_id FROM c JOIN _keyed m "
            "ON m.salt_key = c.salt_key AND m.originator = c.originator), "
            "cand AS (SELECT * FROM keyed UNION ALL SELECT f._row, f.h, s.salt, s.manifest_id FROM f "
            "JOIN _salts s ON s.originator = f.originator AND s.fact_hash = f.h) "
            "SELECT cand._row, arg_min(p.manifest_id, p.page) AS manifest_id, arg_min(p.page_no, p.page) AS page_no, "
            "arg_min(cand.h, p.page) AS fact_hash, arg_min(cand.salt, p.page) AS salt "
            f"FROM cand JOIN _leaves l ON l.leaf = {leaf_sql('cand.salt', 'cand.h')} "
            "JOIN _page_index p ON p.page = l.page AND p.manifest_id = cand.manifest_id GROUP BY cand._row"
        )
        return self.con.sql(sql).to_arrow_table()

    def use(self, found: pa.Table) -> None:
        """Note the proofs of facts that go into the bundle."""
        pairs = found.select(["manifest_id", "page_no"]).group_by(["manifest_id", "page_no"]).aggregate([])
        for pair in pairs.to_pylist():
            self.used_pages.add((str(pair["manifest_id"]), int(pair["page_no"])))
        self.used_salts.append(found.select(["manifest_id", "fact_hash", "salt"]))

    def proofs(self) -> Proofs:
        """What the bundle carries for the facts passed on: their manifests (without salt keys), pages, salts."""
        ids = sorted({m for m, _ in self.used_pages})
        manifests = [{**self.manifests[m], "salt_key": None} for m in ids]
        keep = pa.array([f"{m}/{p}" for m, p in sorted(self.used_pages)], pa.string())
        tag = pc.binary_join_element_wise(
            self._pages.column("manifest_id"), pc.cast(self._pages.column("page_no"), pa.string()), "/"
        )
        pages = self._pages.filter(pc.is_in(tag, value_set=keep))
        salts = pa.concat_tables([t.cast(PROOF_SALT_SCHEMA) for t in self.used_salts]) if self.used_salts else None
        if salts is not None:
            salts = salts.group_by(PROOF_SALT_SCHEMA.names).aggregate([])
        return Proofs(
            pa.Table.from_pylist(manifests, schema=PROOF_MANIFEST_SCHEMA),
            pages.cast(PROOF_PAGE_SCHEMA),
            (salts or PROOF_SALT_SCHEMA.empty_table()).cast(PROOF_SALT_SCHEMA),
        )


def write_proofs(sink: Any, proofs: Proofs, own_pages: Iterable[pa.Table] = ()) -> None:
    """The three proof streams, after the facts stream, into a bundle writer (``own_pages``: the sender's own
    pages, streamed before those of the facts it passes on)."""
    options = ipc.IpcWriteOptions(compression="zstd")  # ids and hex repeat; leaves are random and stay as they are
    with ipc.new_stream(sink, PROOF_MANIFEST_SCHEMA, options=options) as stream:
        stream.write_table(proofs.manifests.select(PROOF_MANIFEST_SCHEMA.names).cast(PROOF_MANIFEST_SCHEMA))
    with ipc.new_stream(sink, PROOF_PAGE_SCHEMA, options=options) as stream:
        for table in own_pages:
            stream.write_table(table.cast(PROOF_PAGE_SCHEMA))
        stream.write_table(proofs.pages.select(PROOF_PAGE_SCHEMA.names).cast(PROOF_PAGE_SCHEMA))
    with ipc.new_stream(sink, PROOF_SALT_SCHEMA, options=options) as stream:
        stream.write_table(proofs.salts.select(PROOF_SALT_SCHEMA.names).cast(PROOF_SALT_SCHEMA))


def read_proofs(source: Any) -> Proofs:
    """The three proof streams that follow the facts in a bundle's payload."""
    tables = []
    for schema in (PROOF_MANIFEST_SCHEMA, PROOF_PAGE_SCHEMA, PROOF_SALT_SCHEMA):
        table = ipc.open_stream(source).read_all()
        if table.schema.names != schema.names:
            raise ProofRefused(f"the proofs are not a bundle's (columns {', '.join(table.schema.names)})")
        tables.append(table.cast(schema))
    return Proofs(*tables)


# -- receiving ---------------------------------------------------------------------------------------------


@dataclass
class Received:
    """A checked manifest: its body, and its originator's card."""

    body: dict[str, Any]
    hashes: bytes
    row: dict[str, Any]


def check_manifest(row: dict[str, Any], card_of: Callable[[str], Card | None]) -> Received:
    """A manifest whose signature is its originator's registered card's, and whose page hashes are the ones it
    signed (ProofRefused otherwise)."""
    try:
        body = json.loads(str(row["body"]))
        originator = str(body["originator"])
        facts, pages = int(body["facts"]), int(body["pages"])
        if body.get("avellino_manifest") != MANIFEST_VERSION or body.get("page_size") != PAGE:
            raise ValueError("unknown manifest version or page size")
        if body["manifest_id"] != row["manifest_id"] or originator != row["originator"]:
            raise ValueError("the manifest's row and body disagree")
    except (ValueError, KeyError, TypeError) as exc:
        raise ProofRefused(f"a manifest is not readable ({exc})") from exc
    card = card_of(originator)
    if card is None:
        raise ProofRefused(f"a manifest is signed as {originator}, which is not a registered partner")
    signature = bytes(row["signature"] or b"")
    if body.get("fingerprint") != card.fingerprint or not card.verify(
        MANIFEST_CONTEXT + canonical_json(body), signature
    ):
        raise ProofRefused(f"manifest {row['manifest_id']} is not signed by its originator {originator}")
    hashes = bytes(row["page_hashes"] or b"")
    if pages != page_count(facts) or len(hashes) != pages * HASH_BYTES:
        raise ProofRefused(f"manifest {row['manifest_id']} of {originator} has the wrong number of pages")
    if hashlib.sha256(hashes).hexdigest() != body.get("pages_sha256"):
        raise ProofRefused(f"the page hashes of manifest {row['manifest_id']} of {originator} are not the signed ones")
    return Received(body, hashes, row)


@dataclass
class Check:
    """What a receiver collects while it reads a bundle's facts: how many are the sender's own, and the hashes of
    the others (to be checked against their originators' proofs at the end)."""

    sender: str
    own: int = 0
    others: list[pa.Table] = field(default_factory=list)

    def add(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        """Count the sender's own facts of a payload batch; hash the others'."""
        mine = pc.equal(table.column("originator"), self.sender)
        self.own += int(pc.sum(mine.cast(pa.int64())).as_py() or 0)
        if self.own == table.num_rows and not self.others and pc.all(mine).as_py():
            return
        con.register("_others", table.filter(pc.invert(mine)))
        try:
            rows = con.sql(
                f"SELECT originator, entity_id, prop, {statement_id_sql()} AS statement_id, {fact_hash_sql()} AS h "
                "FROM _others"
            ).to_arrow_table()
        finally:
            con.unregister("_others")
        if rows.num_rows:
            self.others.append(rows)

    def verify(self, proofs: Proofs, card_of: Callable[[str], Card | None]) -> Proofs:
        """Check every proof; returns what the receiver keeps (ProofRefused naming the first fact that fails)."""
        received = {}
        for row in proofs.manifests.to_pylist():
            if row["manifest_id"] in received:
                raise ProofRefused(f"manifest {row['manifest_id']} appears twice")
            received[str(row["manifest_id"])] = check_manifest(row, card_of)
        self._own([m for m in received.values() if m.row["originator"] == self.sender], proofs.pages)
        self._pages(proofs.pages, received)
        con = duckdb.connect()
        try:
            self._others(con, proofs, received)
        finally:
            con.close()
        manifests = [m.row if m.row["originator"] == self.sender else {**m.row, "salt_key": None}
                     for m in received.values()]  # fmt: skip
        return Proofs(pa.Table.from_pylist(manifests, schema=PROOF_MANIFEST_SCHEMA), proofs.pages, proofs.salts)

    def _own(self, own: list[Received], pages: pa.Table) -> None:
        """The sender's manifest: it covers as many facts as the sender sent of its own, and comes with all its
        pages. Its leaves are not recomputed here: the bundle's signature already proves these facts are the
        sender's, and a node that passes them on computes each one's leaf then (a fact whose leaf is not in a
        signed page is withheld there, and refused by every onward receiver)."""
        if not own:
            if self.own:
                raise ProofRefused(f"the sender's own {self.own} fact(s) come without the sender's signed manifest")
            return
        if len(own) > 1:
            raise ProofRefused("the sender signed more than one manifest of its own facts")
        manifest = own[0]
        key = manifest.row.get("salt_key")
        if not isinstance(key, str) or len(key) != 64:
            raise ProofRefused("the sender's manifest comes without its salt key")
        if int(manifest.body["facts"]) != self.own:
            raise ProofRefused(
                f"the sender's manifest covers {manifest.body['facts']} facts, the bundle holds {self.own}"
            )
        mid = manifest.row["manifest_id"]
        got = pc.sum(pc.equal(pages.column("manifest_id"), mid).cast(pa.int64())).as_py() or 0
        if got != int(manifest.body["pages"]):
            raise ProofRefused(f"the sender's manifest has {manifest.body['pages']} pages, the bundle carries {got}")

    def _pages(self, pages: pa.Table, received: dict[str, Received]) -> None:
        """Every page: the page its manifest signed (hashed once per page, never per fact)."""
        ids, numbers, leaves = (pages.column(c).combine_chunks() for c in ("manifest_id", "page_no", "leaves"))
        for i in range(pages.num_rows):
            mid = str(ids[i].as_py())
            manifest = received.get(mid)
            if manifest is None:
                raise ProofRefused(f"a page belongs to no manifest of the bundle ({mid})")
            n, data = int(numbers[i].as_py()), leaves[i].as_py() or b""
            facts = int(manifest.body["facts"])
            expect = min(PAGE, facts - n * PAGE) * LEAF_BYTES
            if not 0 <= n < int(manifest.body["pages"]) or len(data) != expect or (
                page_hash(data) != manifest.hashes[n * HASH_BYTES : (n + 1) * HASH_BYTES]
            ):  # fmt: skip
                raise ProofRefused(f"page {n} of manifest {mid} is not the page its originator signed")

    def _others(self, con: duckdb.DuckDBPyConnection, proofs: Proofs, received: dict[str, Received]) -> None:
        """Every fact of another originator: a salt, and a leaf in a signed page of that originator's manifest."""
        if not self.others:
            return
        con.register("_facts", pa.concat_tables(self.others))
        manifests = pa.table(
            {
                "manifest_id": pa.array(list(received), pa.string()),
                "originator": pa.array([m.row["originator"] for m in received.values()], pa.string()),
            }
        )
        con.register("_manifests", manifests)  # fmt: skip
        con.register("_salts", proofs.salts)
        others = [m for m, r in received.items() if r.row["originator"] != self.sender]
        pages = proofs.pages.filter(pc.is_in(proofs.pages.column("manifest_id"), pa.array(others, pa.string())))
        leaves, index = explode(pages)
        con.register("_leaves", leaves)
        con.register("_page_index", index)
        unproven = (
            "FROM _facts f WHERE NOT EXISTS (SELECT 1 FROM _salts s JOIN _manifests m "
            f"ON m.manifest_id = s.manifest_id JOIN _leaves l ON l.leaf = {leaf_sql('s.salt', 's.fact_hash')} "
            "JOIN _page_index p ON p.page = l.page AND p.manifest_id = s.manifest_id "
            "WHERE s.fact_hash = f.h AND m.originator = f.originator)"
        )
        bad = con.sql(f"SELECT f.originator, f.entity_id, f.prop, f.statement_id, count(*) OVER () {unproven} LIMIT 1")
        first = bad.fetchall()
        if first:
            originator, entity, prop, statement, left = first[0]
            raise ProofRefused(
                f"fact {statement} ({entity} {prop}) is passed on as {originator}'s without a valid proof signed by "
                f"{originator} (missing, or the fact differs from what {originator} signed); {left} such fact(s)"
            )


def unknown_originators(facts: pa.Table, sender: str, card_of: Callable[[str], Card | None]) -> tuple[str, str] | None:
    """(originator, entity id) of a fact of another originator whose card this node does not know."""
    for originator in pc.unique(facts.column("originator")).to_pylist():
        if originator != sender and card_of(str(originator)) is None:
            of = facts.filter(pc.equal(facts.column("originator"), originator))
            return str(originator), str(of.column("entity_id")[0].as_py())
    return None


def empty() -> Proofs:
    return Proofs(PROOF_MANIFEST_SCHEMA.empty_table(), PROOF_PAGE_SCHEMA.empty_table(),
                  PROOF_SALT_SCHEMA.empty_table())  # fmt: skip


def merge(parts: Sequence[Proofs]) -> Proofs:
    return Proofs(*(pa.concat_tables([getattr(p, f) for p in parts]) for f in ("manifests", "pages", "salts")))
