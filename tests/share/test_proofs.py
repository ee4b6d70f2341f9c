"""Originator proofs along an onward share: UK shares with FR, FR passes UK's facts on to DE (and DE to NL). Each
receiver checks every passed-on fact against its originator's signed manifest; a forged or altered fact refuses
the whole bundle and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from avellino.share.bundle import BundleRefused, BundleWriter, open_verified
from avellino.share.node import Node
from avellino.share.proofs import OwnManifest, own_leaves, read_proofs, write_proofs
from avellino.share.receive import receive_bundle
from avellino.share.send import FACTS, PAYLOAD_SCHEMA, send_bundle
from avellino.share.withdraw import WITHDRAWAL, make_notice, write_notices
from avellino.store import open_store
from avellino.store.schema import DELETE_SCHEMA, PROOF_MANIFEST_SCHEMA, Proofs
from tests.share.nodes import counts, held, make_node, person, register, write

NAMES = (("UK-NCA", "GB"), ("FR-OCRIEST", "FR"), ("DE-BPOL", "DE"), ("NL-KMAR", "NL"))


@pytest.fixture()
def nodes(tmp_path: Path) -> dict[str, tuple[Path, Node]]:
    """Four nodes that all know each other; UK holds three GREEN people and FR one of its own."""
    made = {n: make_node(tmp_path, n, c) for n, c in NAMES}
    for a in made.values():
        for b in made.values():
            if a[1].name != b[1].name:
                register(a[1], b[1])
    write(made["UK-NCA"][0], [f for i in range(3) for f in person(f"uk-nca--p{i}", f"Person {i}", "UK-NCA",
                                                                     tlp="GREEN")])  # fmt: skip
    write(made["FR-OCRIEST"][0], person("fr-ocriest--f1", "French Fact", "FR-OCRIEST", tlp="GREEN"), name="fr")
    return made


def _send(nodes: dict[str, tuple[Path, Node]], sender: str, to: str) -> Path:
    ws, node = nodes[sender]
    out = ws / f"to-{to}.avb"
    with open_store(ws, read_only=True) as store:
        send_bundle(store, node, [node.partner(to)], "investigation", out)
    return out


def _receive(nodes: dict[str, tuple[Path, Node]], name: str, bundle: Path) -> None:
    ws, node = nodes[name]
    receive_bundle(lambda: open_store(ws), node, bundle)


def _names(ws: Path) -> set[tuple[str, str]]:
    return {(r[2], r[3]) for r in held(ws) if r[1] == "name"}


def _payload(bundle: Path, reader_node: Node) -> tuple[pa.Table, Proofs]:
    """What a bundle carries, decrypted as its recipient would."""
    header, reader = open_verified(bundle, reader_node, lambda n: reader_node.card_of(n))
    try:
        facts = ipc.open_stream(reader).read_all()
        proofs = read_proofs(reader)
    finally:
        reader.close()
    return facts, proofs


def _rewrite(sender: Node, to: Node, facts: pa.Table, proofs: Proofs, path: Path) -> Path:
    """A bundle signed by ``sender`` with these facts and proofs, its own manifest made afresh for its own facts
    (the bundle signature and the sender's manifest are right: only the passed-on facts are in question)."""
    import duckdb

    own = OwnManifest(sender)
    mine = facts.filter(pa.compute.equal(facts.column("originator"), sender.name))
    con = duckdb.connect()
    con.register("_mine", mine.append_column("_row", pa.array(range(mine.num_rows), pa.int64())))
    own.add(own_leaves(con, "_mine", own.key))
    others = proofs.manifests.filter(pa.compute.not_equal(proofs.manifests.column("originator"), sender.name))
    manifests = pa.concat_tables([pa.Table.from_pylist([own.row()], schema=PROOF_MANIFEST_SCHEMA), others])
    writer = BundleWriter(path, sender, FACTS, [(to.card, {"community": False, "teams": []})],
                          {"purpose": "investigation"})  # fmt: skip
    with ipc.new_stream(writer, PAYLOAD_SCHEMA) as stream:
        stream.write_table(facts.cast(PAYLOAD_SCHEMA))
    others_pages = proofs.pages.filter(pa.compute.not_equal(proofs.pages.column("manifest_id"),
                                                            _own_id(proofs, sender.name)))  # fmt: skip
    write_proofs(writer, Proofs(manifests, others_pages, proofs.salts), own.pages())
    return writer.finish()


def _own_id(proofs: Proofs, name: str) -> str:
    own = [m["manifest_id"] for m in proofs.manifests.to_pylist() if m["originator"] == name]
    return own[0] if own else ""


def test_facts_pass_on_along_a_chain_with_their_originators_proofs(nodes: dict[str, tuple[Path, Node]]) -> None:
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))
    _receive(nodes, "DE-BPOL", _send(nodes, "FR-OCRIEST", "DE-BPOL"))
    de_ws = nodes["DE-BPOL"][0]
    assert _names(de_ws) == {("Person 0", "UK-NCA"), ("Person 1", "UK-NCA"), ("Person 2", "UK-NCA"),
                             ("French Fact", "FR-OCRIEST")}  # fmt: skip
    with open_store(de_ws, read_only=True) as store:
        uk = store.read_proofs(["UK-NCA"])
    # DE keeps UK's manifest (without the salt key, which stayed at FR), its page and the salts of UK's facts
    assert uk.manifests.num_rows == 1 and uk.manifests.column("salt_key").null_count == 1
    assert uk.pages.num_rows == 1 and uk.salts.num_rows == 6
    # ... so it can pass them on again: NL checks them against UK's card, two hops from UK
    _receive(nodes, "NL-KMAR", _send(nodes, "DE-BPOL", "NL-KMAR"))
    assert _names(nodes["NL-KMAR"][0]) == _names(de_ws)
    # UK withdraws one person at FR: the originator-signed notice follows to DE, and from DE to NL
    uk_ws, uk_node = nodes["UK-NCA"]
    notice = make_notice(uk_node, WITHDRAWAL, entities=["uk-nca--p0"], reason="source retracted")
    write_notices(uk_node, [uk_node.partner("FR-OCRIEST")], [notice], uk_ws / "w.avb", "withdrawal")
    fr_ws, fr = nodes["FR-OCRIEST"]
    to_de = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "w.avb").forwarded["DE-BPOL"]
    to_nl = receive_bundle(lambda: open_store(de_ws), nodes["DE-BPOL"][1], to_de).forwarded["NL-KMAR"]
    receive_bundle(lambda: open_store(nodes["NL-KMAR"][0]), nodes["NL-KMAR"][1], to_nl)
    for name in ("FR-OCRIEST", "DE-BPOL", "NL-KMAR"):
        assert ("Person 0", "UK-NCA") not in _names(nodes[name][0]), name
        assert ("Person 1", "UK-NCA") in _names(nodes[name][0]), name


def test_a_fact_invented_under_another_originators_name_is_refused(
    nodes: dict[str, tuple[Path, Node]], tmp_path: Path
) -> None:
    (fr_ws, fr), (de_ws, de) = nodes["FR-OCRIEST"], nodes["DE-BPOL"]
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))
    # FR's own send never passes on what UK did not sign: a fact FR wrote as UK's is withheld
    write(fr_ws, person("uk-nca--fake", "Invented Smuggler", "UK-NCA", tlp="GREEN"), name="invented")
    with open_store(fr_ws, read_only=True) as store:
        sent = send_bundle(store, fr, [fr.partner("DE-BPOL")], "investigation", tmp_path / "honest.avb")
    assert sent.withheld == {"no originator proof": 2}
    # a FR that forges the bundle itself: FR's signature is right, UK's proof of the invented fact is missing
    facts, proofs = _payload(tmp_path / "honest.avb", de)
    forged = pa.concat_tables(
        [facts, pa.Table.from_pylist([{k: r[k] for k in PAYLOAD_SCHEMA.names}
                                      for r in person("uk-nca--fake", "Invented Smuggler", "UK-NCA", tlp="GREEN")],
                                     schema=PAYLOAD_SCHEMA)])  # fmt: skip
    bundle = _rewrite(fr, de, forged, proofs, tmp_path / "forged.avb")
    before = counts(de_ws)
    with pytest.raises(BundleRefused, match=r"\(uk-nca--fake (id|name)\) is passed on as UK-NCA's without a valid"):
        _receive(nodes, "DE-BPOL", bundle)
    assert counts(de_ws) == before == {"statements": 0, "batches": 0}
    # and the untouched bundle is taken
    _receive(nodes, "DE-BPOL", tmp_path / "honest.avb")
    assert ("Person 0", "UK-NCA") in _names(de_ws)


def test_a_fact_altered_under_a_valid_manifest_is_refused(nodes: dict[str, tuple[Path, Node]], tmp_path: Path) -> None:
    (_fr_ws, fr), (de_ws, de) = nodes["FR-OCRIEST"], nodes["DE-BPOL"]
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))
    facts, proofs = _payload(_send(nodes, "FR-OCRIEST", "DE-BPOL"), de)
    rows = facts.to_pylist()
    for change in ({"value": "Person Zero"}, {"tlp": "CLEAR"}, {"handling_code": "H1"}, {"evaluation": "A1"}):
        altered = [dict(r) for r in rows]
        at = next(i for i, r in enumerate(altered) if r["originator"] == "UK-NCA" and r["prop"] == "name")
        altered[at].update(change)
        bundle = _rewrite(fr, de, pa.Table.from_pylist(altered, schema=PAYLOAD_SCHEMA), proofs, tmp_path / "alt.avb")
        with pytest.raises(BundleRefused, match="passed on as UK-NCA's without a valid proof signed by UK-NCA"):
            _receive(nodes, "DE-BPOL", bundle)
        assert counts(de_ws) == {"statements": 0, "batches": 0}, change
    # a page or a manifest changed: refused too
    uk_manifest = _own_id(proofs, "UK-NCA")
    page = next(p for p in proofs.pages.to_pylist() if p["manifest_id"] == uk_manifest)
    page["leaves"] = bytes(32) + page["leaves"][32:]
    bad_page = Proofs(proofs.manifests, pa.Table.from_pylist([page], schema=proofs.pages.schema), proofs.salts)
    with pytest.raises(BundleRefused, match="not the page its originator signed"):
        _receive(nodes, "DE-BPOL", _rewrite(fr, de, facts, bad_page, tmp_path / "page.avb"))
    manifest = next(m for m in proofs.manifests.to_pylist() if m["originator"] == "UK-NCA")
    body = json.loads(manifest["body"])
    manifest["body"] = json.dumps({**body, "facts": body["facts"] + 1}, sort_keys=True, separators=(",", ":"))
    bad_manifest = Proofs(pa.Table.from_pylist([manifest], schema=PROOF_MANIFEST_SCHEMA), proofs.pages, proofs.salts)
    with pytest.raises(BundleRefused, match="not signed by its originator UK-NCA"):
        _receive(nodes, "DE-BPOL", _rewrite(fr, de, facts, bad_manifest, tmp_path / "manifest.avb"))
    assert counts(de_ws) == {"statements": 0, "batches": 0}


def test_a_fact_whose_originator_the_receiver_does_not_know_is_refused(tmp_path: Path) -> None:
    made = {n: make_node(tmp_path, n, c) for n, c in NAMES[:3]}
    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = made["UK-NCA"], made["FR-OCRIEST"], made["DE-BPOL"]
    register(uk, fr)
    register(fr, uk)
    register(fr, de)
    register(de, fr)  # DE knows FR, not UK
    write(uk_ws, person("uk-nca--p0", "Person 0", "UK-NCA", tlp="GREEN"))
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", tmp_path / "a.avb")
    receive_bundle(lambda: open_store(fr_ws), fr, tmp_path / "a.avb")
    with open_store(fr_ws, read_only=True) as store:
        send_bundle(store, fr, [fr.partner("DE-BPOL")], "investigation", tmp_path / "b.avb")
    with pytest.raises(BundleRefused, match="entity uk-nca--p0 is passed on as UK-NCA's, which is not a registered"):
        receive_bundle(lambda: open_store(de_ws), de, tmp_path / "b.avb")
    assert counts(de_ws) == {"statements": 0, "batches": 0}


def test_the_senders_own_facts_must_match_its_manifest(nodes: dict[str, tuple[Path, Node]], tmp_path: Path) -> None:
    (_uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    facts, proofs = _payload(_send(nodes, "UK-NCA", "FR-OCRIEST"), fr)
    # UK's manifest of 6 facts, with a seventh of UK's own added after signing
    extra = pa.Table.from_pylist([{k: r[k] for k in PAYLOAD_SCHEMA.names}
                                  for r in person("uk-nca--late", "Late", "UK-NCA", tlp="GREEN")][:1],
                                 schema=PAYLOAD_SCHEMA)  # fmt: skip
    writer = BundleWriter(tmp_path / "late.avb", uk, FACTS, [(fr.card, {"community": False, "teams": []})],
                          {"purpose": "investigation"})  # fmt: skip
    with ipc.new_stream(writer, PAYLOAD_SCHEMA) as stream:
        stream.write_table(pa.concat_tables([facts, extra]))
    write_proofs(writer, proofs)
    writer.finish()
    with pytest.raises(BundleRefused, match="the sender's manifest covers 6 facts, the bundle holds 7"):
        receive_bundle(lambda: open_store(fr_ws), fr, tmp_path / "late.avb")
    assert counts(fr_ws) == {"statements": 2, "batches": 1}


def test_an_onward_share_over_the_node_servers(tmp_path: Path) -> None:
    """UK pushes to FR's server, FR pushes UK's facts on to DE's server: DE checks UK's proofs; a forged one is
    refused over HTTP too, and nothing is written."""
    from avellino.errors import ConfigError
    from avellino.share.client import push
    from tests.share.servers import free_port, serving

    fr_port, de_port = free_port(), free_port()
    urls = {"FR-OCRIEST": f"http://127.0.0.1:{fr_port}", "DE-BPOL": f"http://127.0.0.1:{de_port}"}
    made = {n: make_node(tmp_path, n, c) for n, c in NAMES[:3]}
    for a in made.values():
        for b in made.values():
            if a[1].name != b[1].name:
                register(a[1], b[1], url=urls.get(b[1].name))
    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = made["UK-NCA"], made["FR-OCRIEST"], made["DE-BPOL"]
    write(uk_ws, person("uk-nca--p0", "Person 0", "UK-NCA", tlp="GREEN"))
    with serving(tmp_path, (fr_ws.name, fr_port), (de_ws.name, de_port)):
        assert "2 new" in push(uk, uk.partner("FR-OCRIEST"), _send(made, "UK-NCA", "FR-OCRIEST"))
        onward = _send(made, "FR-OCRIEST", "DE-BPOL")
        facts, proofs = _payload(onward, de)
        invented = pa.Table.from_pylist([{k: r[k] for k in PAYLOAD_SCHEMA.names}
                                         for r in person("uk-nca--fake", "Invented", "UK-NCA", tlp="GREEN")],
                                        schema=PAYLOAD_SCHEMA)  # fmt: skip
        forged = _rewrite(fr, de, pa.concat_tables([facts, invented]), proofs, tmp_path / "forged.avb")
        with pytest.raises(ConfigError, match="answered 422: .*uk-nca--fake .* without a valid proof signed by UK-NCA"):
            push(fr, fr.partner("DE-BPOL"), forged)
        assert counts(de_ws) == {"statements": 0, "batches": 0}
        assert "2 new" in push(fr, fr.partner("DE-BPOL"), onward)
    assert _names(de_ws) == {("Person 0", "UK-NCA")}


def test_corrected_facts_carry_the_originators_proof_onward(nodes: dict[str, tuple[Path, Node]]) -> None:
    """UK corrects a name at FR; the correction follows to DE; DE then passes the corrected fact on to NL with the
    proof the correction carried (signed by UK)."""
    from avellino.share.withdraw import CORRECTION, correction_facts

    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = nodes["UK-NCA"], nodes["FR-OCRIEST"], nodes["DE-BPOL"]
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))
    _receive(nodes, "DE-BPOL", _send(nodes, "FR-OCRIEST", "DE-BPOL"))
    with open_store(uk_ws) as store:
        old = [r for r in store.read_statements(entity_ids=["uk-nca--p1"]).to_pylist() if r["prop"] == "name"]
        target = {"originator": "UK-NCA", "entity_id": None, "statement_id": old[0]["id"]}
        store.delete_statements(pa.Table.from_pylist([target], schema=DELETE_SCHEMA))
    write(uk_ws, person("uk-nca--p1", "Person One (corrected)", "UK-NCA", tlp="GREEN")[1:], name="fix")
    partners = [uk.partner("FR-OCRIEST")]
    with open_store(uk_ws, read_only=True) as store:
        facts = correction_facts(store, uk, partners, "investigation", ["uk-nca--p1"], dt.date.today())
    notice = make_notice(uk, CORRECTION, entities=["uk-nca--p1"], facts=facts)
    write_notices(uk, partners, [notice], uk_ws / "c.avb", "investigation")
    to_de = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "c.avb").forwarded["DE-BPOL"]
    receive_bundle(lambda: open_store(de_ws), de, to_de)
    assert ("Person One (corrected)", "UK-NCA") in _names(de_ws)
    with open_store(de_ws, read_only=True) as store:
        sent = send_bundle(store, de, [de.partner("NL-KMAR")], "investigation", de_ws / "to-nl.avb")
    assert "no originator proof" not in sent.withheld
    _receive(nodes, "NL-KMAR", de_ws / "to-nl.avb")
    assert _names(nodes["NL-KMAR"][0]) == _names(de_ws)
    assert ("Person One (corrected)", "UK-NCA") in _names(nodes["NL-KMAR"][0])


def test_facts_of_several_bundles_from_one_originator_go_on_together(nodes: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, _uk), (de_ws, _de) = nodes["UK-NCA"], nodes["DE-BPOL"]
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))
    write(uk_ws, person("uk-nca--later", "Later Person", "UK-NCA", tlp="CLEAR"), name="later")
    _receive(nodes, "FR-OCRIEST", _send(nodes, "UK-NCA", "FR-OCRIEST"))  # the first six again, and two more
    fr_ws = nodes["FR-OCRIEST"][0]
    with open_store(fr_ws, read_only=True) as store:
        kept = store.read_proofs(["UK-NCA"])
    assert kept.manifests.num_rows == 2 and kept.manifests.column("salt_key").unique().to_pylist() != [None]
    assert len(set(kept.manifests.column("salt_key").to_pylist())) == 1  # one key for UK's bundles to FR
    _receive(nodes, "DE-BPOL", _send(nodes, "FR-OCRIEST", "DE-BPOL"))
    assert ("Later Person", "UK-NCA") in _names(de_ws) and ("Person 2", "UK-NCA") in _names(de_ws)
