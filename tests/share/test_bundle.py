"""Bundles between real nodes: what the policy lets go arrives whole with its markings; what it holds back is
counted by reason; any altered, misaddressed or overreaching bundle is refused and nothing is written."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from avellino.share.audit import entries
from avellino.share.bundle import BundleRefused, BundleWriter
from avellino.share.node import Node, init_node
from avellino.share.receive import receive_bundle
from avellino.share.send import FACTS, PAYLOAD_SCHEMA, send_bundle, sent_log
from avellino.store import open_store
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo
from tests.share.nodes import REVIEW, counts, fact, held, make_node, person, register, write

PAST = dt.date(2020, 1, 1)


@pytest.fixture()
def three(tmp_path: Path) -> dict[str, tuple[Path, Node]]:
    nodes = {n: make_node(tmp_path, n, c) for n, c in (("UK-NCA", "GB"), ("FR-OCRIEST", "FR"), ("DE-BPOL", "DE"))}
    for a in nodes.values():
        for b in nodes.values():
            if a[1].name != b[1].name:
                register(a[1], b[1])
    return nodes


def _uk_facts() -> list[dict[str, object]]:
    return [
        *person("uk-nca--p1", "Muhammad Al-Hassan", "UK-NCA"),  # H0 AMBER suspect: goes
        *person("uk-nca--p2", "Dilan Ahmed", "UK-NCA", handling="H2", tlp="RED"),  # its own H2/RED: goes
        *person("uk-nca--p3", "Samira Tesfay", "UK-NCA", category="victim"),  # protected: held back
        *person("uk-nca--p4", "Old Record", "UK-NCA", review=PAST),  # past review: held back
        *person("uk-nca--p5", "Not For France", "UK-NCA", handling="H3", note="not:FR"),  # H3 excludes FR
    ]


def _de_facts() -> list[dict[str, object]]:
    return [
        *person("de-bpol--d1", "Arben Hoxha", "DE-BPOL", tlp="AMBER"),  # DE's AMBER: never onward
        *person("de-bpol--d2", "Ali Green", "DE-BPOL", tlp="GREEN"),  # DE's GREEN H0: may go onward
        *person("de-bpol--d3", "Secret Source", "DE-BPOL", tlp="GREEN", handling="H2"),  # DE's H2: never onward
    ]


def _uk_holds_de_facts(three: dict[str, tuple[Path, Node]]) -> None:
    """DE shares its facts with UK in a bundle (so UK holds DE's proofs and may pass the GREEN ones on)."""
    (uk_ws, uk), (de_ws, de) = three["UK-NCA"], three["DE-BPOL"]
    write(de_ws, _de_facts(), name="de")
    with open_store(de_ws) as store:
        send_bundle(store, de, [de.partner("UK-NCA")], "investigation", de_ws / "to-uk.avb")
    receive_bundle(lambda: open_store(uk_ws), uk, de_ws / "to-uk.avb")


def test_send_and_receive_keep_markings_and_count_what_is_withheld(three: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    write(uk_ws, _uk_facts())
    _uk_holds_de_facts(three)
    with open_store(uk_ws) as store:
        sent = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "to-fr.avb")
    assert sent.withheld == {
        "protected category": 2,
        "retention review passed": 2,
        "H3 recipient excluded": 2,
        "TLP:AMBER onward": 2,
        "H2 not originator": 2,
    }
    assert sent.statements == 6 and sent.entities == 3
    got = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb")
    assert (got.statements, got.added, got.sender) == (6, 6, "UK-NCA")
    assert held(fr_ws) == {
        ("uk-nca--p1", "id", "uk-nca--p1", "UK-NCA", "H0", "AMBER"),
        ("uk-nca--p1", "name", "Muhammad Al-Hassan", "UK-NCA", "H0", "AMBER"),
        ("uk-nca--p2", "id", "uk-nca--p2", "UK-NCA", "H2", "RED"),
        ("uk-nca--p2", "name", "Dilan Ahmed", "UK-NCA", "H2", "RED"),
        ("de-bpol--d2", "id", "de-bpol--d2", "DE-BPOL", "H0", "GREEN"),
        ("de-bpol--d2", "name", "Ali Green", "DE-BPOL", "H0", "GREEN"),
    }
    with open_store(fr_ws, read_only=True) as store:
        row = store.read_statements(entity_ids=["uk-nca--p2"]).to_pylist()[0]
    assert (row["evaluation"], row["subject_category"], row["retention_review"]) == ("B2", "suspect", REVIEW)
    with open_store(fr_ws, read_only=True) as store:
        logged = [e.fields["action"] for e in entries(store)]
    assert logged == [f"share receive facts {sent.bundle_id}"]
    # the same bundle again changes nothing; the sent log names what went to whom
    before = counts(fr_ws)
    assert receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb").skipped
    assert counts(fr_ws) == before
    assert [(x["bundle_id"], x["recipients"], x["statements"]) for x in sent_log(uk)] == [
        (sent.bundle_id, ["FR-OCRIEST"], 6)
    ]
    # DE's fact went on with DE's proof; a fact UK holds of DE without one (ingested from a file) is withheld
    write(uk_ws, person("de-bpol--d9", "From A File", "DE-BPOL", tlp="GREEN"), name="de-file")
    with open_store(uk_ws) as store:
        again = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "again.avb")
    assert again.withheld["no originator proof"] == 2 and again.statements == 6


def test_a_bundle_to_several_partners_holds_only_what_all_may_have(three: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (de_ws, de) = three["UK-NCA"], three["DE-BPOL"]
    write(uk_ws, [*person("uk-nca--a", "Everyone", "UK-NCA"), *person("uk-nca--b", "Not DE", "UK-NCA",
                                                                        handling="H3", note="not:DE")])  # fmt: skip
    partners = [uk.partner("FR-OCRIEST"), uk.partner("DE-BPOL")]
    with open_store(uk_ws) as store:
        sent = send_bundle(store, uk, partners, "investigation", uk_ws / "both.avb")
    assert (sent.statements, sent.withheld) == (2, {"H3 recipient excluded": 2})
    receive_bundle(lambda: open_store(de_ws), de, uk_ws / "both.avb")
    assert {r[0] for r in held(de_ws)} == {"uk-nca--a"}


def test_safeguarding_purpose_lets_a_victim_go_with_its_markings(three: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    write(uk_ws, person("uk-nca--v", "Samira Tesfay", "UK-NCA", category="victim"))
    with open_store(uk_ws) as store:
        sent = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "safeguarding: boat 12", uk_ws / "s.avb")
    assert sent.statements == 2
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "s.avb")
    with open_store(fr_ws, read_only=True) as store:
        assert set(store.read_statements().column("subject_category").to_pylist()) == {"victim"}


def test_1000_single_byte_changes_are_all_refused_and_nothing_is_written(
    three: dict[str, tuple[Path, Node]], tmp_path: Path
) -> None:
    (uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    write(uk_ws, [f for i in range(20) for f in person(f"uk-nca--x{i}", f"Person {i}", "UK-NCA")])
    with open_store(uk_ws) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", tmp_path / "good.avb")
    good = (tmp_path / "good.avb").read_bytes()
    before = counts(fr_ws)
    opened: list[int] = []

    def opener() -> object:
        opened.append(1)
        return open_store(fr_ws)

    rng = random.Random(17)
    bad = tmp_path / "bad.avb"
    reasons: set[str] = set()
    for _ in range(1000):
        data = bytearray(good)
        at = rng.randrange(len(data))
        data[at] = (data[at] + rng.randrange(1, 256)) % 256
        bad.write_bytes(bytes(data))
        with pytest.raises(BundleRefused) as refused:
            receive_bundle(opener, fr, bad)  # type: ignore[arg-type]
        reasons.add(refused.value.reason.split(" (")[0])
    assert not opened, "a changed bundle got as far as opening the store"
    assert counts(fr_ws) == before == {"statements": 0, "batches": 0}
    assert any("signature" in r for r in reasons)
    # the unchanged bundle still imports: the refusals were about the changes
    assert receive_bundle(lambda: open_store(fr_ws), fr, tmp_path / "good.avb").added == 40


def _forged(sender: Node, to: Node, rows: list[dict[str, object]], path: Path, purpose: str = "investigation") -> Path:
    """A bundle signed and encrypted correctly, whose payload the sender's send would never have written."""
    writer = BundleWriter(path, sender, FACTS, [(to.card, {"community": False, "teams": []})], {"purpose": purpose})
    table = pa.Table.from_pylist([{k: r[k] for k in PAYLOAD_SCHEMA.names} for r in rows], schema=PAYLOAD_SCHEMA)
    with ipc.new_stream(writer, PAYLOAD_SCHEMA) as stream:
        stream.write_table(table)
    return writer.finish()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (person("de-bpol--d3", "Secret", "DE-BPOL", handling="H2"), "H2 not originator"),
        (person("de-bpol--d1", "Amber", "DE-BPOL", tlp="AMBER"), "TLP:AMBER onward"),
        (person("de-bpol--d1", "Red", "DE-BPOL", tlp="RED"), "TLP:RED onward"),
        (person("fr-ocriest--f1", "Claimed", "UK-NCA"), "not in the namespace of its originator UK-NCA"),
        (person("uk-nca--v", "Victim", "UK-NCA", category="victim"), "protected category"),
        (person("uk-nca--o", "Old", "UK-NCA", review=PAST), "retention review passed"),
        (person("uk-nca--q", "Purple", "UK-NCA", tlp="PURPLE"), "outside the vocabularies"),
        ([fact("uk-nca--q", "favouriteColour", "red", "UK-NCA")], "unknown schema or property"),
    ],
)
def test_facts_the_sender_may_not_send_are_refused(
    three: dict[str, tuple[Path, Node]], tmp_path: Path, rows: list[dict[str, object]], expected: str
) -> None:
    (_uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    ok = person("uk-nca--fine", "Fine", "UK-NCA")
    bundle = _forged(uk, fr, ok + rows, tmp_path / "forged.avb")
    with pytest.raises(BundleRefused, match=expected):
        receive_bundle(lambda: open_store(fr_ws), fr, bundle)
    assert counts(fr_ws) == {"statements": 0, "batches": 0}


def test_a_bundle_for_another_node_or_from_a_stranger_is_refused(
    three: dict[str, tuple[Path, Node]], tmp_path: Path
) -> None:
    (_uk_ws, uk), (fr_ws, fr), (_de_ws, de) = three["UK-NCA"], three["FR-OCRIEST"], three["DE-BPOL"]
    to_de = _forged(uk, de, person("uk-nca--a", "A", "UK-NCA"), tmp_path / "to-de.avb")
    with pytest.raises(BundleRefused, match="not addressed to FR-OCRIEST"):
        receive_bundle(lambda: open_store(fr_ws), fr, to_de)
    _x_ws, stranger = make_node(tmp_path, "XX-UNKNOWN", "XX")
    register(stranger, fr)
    from_stranger = _forged(stranger, fr, person("xx-unknown--a", "A", "XX-UNKNOWN"), tmp_path / "x.avb")
    with pytest.raises(BundleRefused, match="not a registered partner"):
        receive_bundle(lambda: open_store(fr_ws), fr, from_stranger)
    # an impostor using a partner's name with its own keys
    _i_ws, impostor = make_node(tmp_path / "elsewhere", "UK-NCA", "GB")
    register(impostor, fr)
    forged = _forged(impostor, fr, person("uk-nca--a", "A", "UK-NCA"), tmp_path / "imp.avb")
    with pytest.raises(BundleRefused, match="registered card"):
        receive_bundle(lambda: open_store(fr_ws), fr, forged)
    assert counts(fr_ws) == {"statements": 0, "batches": 0}


def test_facts_outside_their_originators_namespace_are_withheld_at_the_sender(
    three: dict[str, tuple[Path, Node]],
) -> None:
    (uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    write(uk_ws, [*person("uk-nca--ok", "Namespaced", "UK-NCA"), *person("fr-ocriest--x", "Claimed", "UK-NCA")])
    with open_store(uk_ws) as store:
        sent = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "ns.avb")
    assert sent.withheld == {"id outside the originator namespace": 2}
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "ns.avb")
    assert {r[0] for r in held(fr_ws)} == {"uk-nca--ok"}


@pytest.mark.postgres
def test_postgresql_workspaces_send_receive_and_withdraw(tmp_path: Path) -> None:
    """Two nodes whose workspaces are PostgreSQL schemas (keys in --node-dir folders): the same bundle path."""
    from avellino.share.withdraw import WITHDRAWAL, make_notice, write_notices
    from avellino.store.postgres_store import PostgresStore
    from tests.conftest import PG_URL, pg_schema_url
    from tests.share.nodes import statements_of

    if not PG_URL:
        pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
    uk_url, fr_url = pg_schema_url(), pg_schema_url()
    uk, fr = init_node(tmp_path / "uk-node", "UK-NCA", "GB"), init_node(tmp_path / "fr-node", "FR-OCRIEST", "FR")
    register(uk, fr)
    register(fr, uk)
    de_ws, de = make_node(tmp_path, "DE-BPOL", "DE")
    register(fr, de)
    register(de, fr)
    register(de, uk)  # DE checks UK's proofs of the facts FR passes on
    green = person("uk-nca--g", "Onward Green", "UK-NCA", tlp="GREEN")
    with PostgresStore(uk_url) as store:
        store.write_batch(
            BatchInfo("uk", "uk.csv", "uk", "m", 1, 1, dt.datetime.now()),
            pa.Table.from_pylist(_uk_facts() + _de_facts() + green, schema=STATEMENT_SCHEMA),
        )
        sent = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", tmp_path / "pg.avb")
    # DE's facts were ingested at UK, not received from DE: no proof, withheld
    assert (sent.statements, sent.withheld["no originator proof"]) == (6, 2)
    got = receive_bundle(lambda: PostgresStore(fr_url), fr, tmp_path / "pg.avb")
    assert got.added == 6
    with PostgresStore(fr_url) as store:
        names = statements_of(store)
        kept = store.read_proofs(["UK-NCA"])
    assert {n for _e, p, n in names if p == "name"} == {"Muhammad Al-Hassan", "Dilan Ahmed", "Onward Green"}
    assert kept.manifests.num_rows == 1 and kept.pages.num_rows == 1
    # FR (PostgreSQL) passes UK's GREEN fact on to DE with UK's proof
    with PostgresStore(fr_url) as store:
        onward = send_bundle(store, fr, [fr.partner("DE-BPOL")], "investigation", tmp_path / "pg-de.avb")
    assert onward.statements == 2
    receive_bundle(lambda: open_store(de_ws), de, tmp_path / "pg-de.avb")
    assert {r[2] for r in held(de_ws) if r[1] == "name"} == {"Onward Green"}
    notice = make_notice(uk, WITHDRAWAL, entities=["uk-nca--p2"])
    write_notices(uk, [uk.partner("FR-OCRIEST")], [notice], tmp_path / "w.avb", "withdrawal")
    assert receive_bundle(lambda: PostgresStore(fr_url), fr, tmp_path / "w.avb").withdrawn == 2
    with PostgresStore(fr_url) as store:
        assert {e for e, _p, _n in statements_of(store)} == {"uk-nca--p1", "uk-nca--g"}


def test_send_only_the_named_entities(three: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (fr_ws, fr) = three["UK-NCA"], three["FR-OCRIEST"]
    write(uk_ws, _uk_facts())
    _uk_holds_de_facts(three)
    with open_store(uk_ws) as store:
        sent = send_bundle(
            store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "some.avb", ["uk-nca--p1", "uk-nca--p3"]
        )
    assert (sent.statements, sent.withheld) == (2, {"protected category": 2})
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "some.avb")
    assert {r[0] for r in held(fr_ws)} == {"uk-nca--p1"}
