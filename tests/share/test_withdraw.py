"""Withdrawals and corrections: only the originator's signed notice removes its facts, at every node that got
them, including the ones they reached through an allowed onward share."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.errors import ConfigError
from avellino.share.bundle import BundleRefused
from avellino.share.node import Node, canonical_json
from avellino.share.receive import receive_bundle
from avellino.share.send import send_bundle
from avellino.share.withdraw import (
    CORRECTION,
    WITHDRAWAL,
    Notice,
    correction_facts,
    make_notice,
    write_notices,
)
from avellino.store import open_store
from avellino.store.schema import DELETE_SCHEMA
from tests.share.nodes import counts, fact, held, make_node, person, register, write


@pytest.fixture()
def chain(tmp_path: Path) -> dict[str, tuple[Path, Node]]:
    """UK sends to FR, FR passes UK's GREEN facts on to DE (every node knows every card)."""
    nodes = {n: make_node(tmp_path, n, c) for n, c in (("UK-NCA", "GB"), ("FR-OCRIEST", "FR"), ("DE-BPOL", "DE"))}
    for a in nodes.values():
        for b in nodes.values():
            if a[1].name != b[1].name:
                register(a[1], b[1])
    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = nodes["UK-NCA"], nodes["FR-OCRIEST"], nodes["DE-BPOL"]
    write(uk_ws, [f for i in range(3) for f in person(f"uk-nca--p{i}", f"Person {i}", "UK-NCA", tlp="GREEN")])
    with open_store(uk_ws) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "to-fr.avb")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb")
    write(fr_ws, person("fr-ocriest--f1", "French Fact", "FR-OCRIEST", tlp="GREEN"), name="fr-own")
    with open_store(fr_ws) as store:
        onward = send_bundle(store, fr, [fr.partner("DE-BPOL")], "investigation", fr_ws / "to-de.avb")
    assert onward.statements == 8  # UK's six statements went on with FR's own two
    receive_bundle(lambda: open_store(de_ws), de, fr_ws / "to-de.avb")
    return nodes


def _names(ws: Path) -> set[str]:
    return {r[2] for r in held(ws) if r[1] == "name"}


def test_a_withdrawal_reaches_the_receiver_and_the_onward_share(chain: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = chain["UK-NCA"], chain["FR-OCRIEST"], chain["DE-BPOL"]
    with open_store(uk_ws, read_only=True) as store:
        dropped = [r["id"] for r in store.read_statements(entity_ids=["uk-nca--p2"]).to_pylist() if r["prop"] == "name"]
    notice = make_notice(uk, WITHDRAWAL, entities=["uk-nca--p0"], statements=dropped, reason="source retracted")
    write_notices(uk, [uk.partner("FR-OCRIEST")], [notice], uk_ws / "w.avb", "withdrawal")
    got = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "w.avb")
    assert got.withdrawn == 3
    assert _names(fr_ws) == {"Person 1", "French Fact"}
    # FR passed UK's facts on to DE, so it forwarded the originator's notice there, unchanged
    assert set(got.forwarded) == {"DE-BPOL"}
    forwarded = got.forwarded["DE-BPOL"]
    assert forwarded.parent == fr.dir / "outbox" / "DE-BPOL"
    assert receive_bundle(lambda: open_store(de_ws), de, forwarded).withdrawn == 3
    assert _names(de_ws) == {"Person 1", "French Fact"}
    assert {r[0] for r in held(de_ws)} == {"uk-nca--p1", "uk-nca--p2", "fr-ocriest--f1"}
    # applied once: the same notice again changes nothing
    assert receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "w.avb").skipped


def test_a_correction_replaces_the_facts_everywhere(chain: dict[str, tuple[Path, Node]]) -> None:
    (uk_ws, uk), (fr_ws, fr), (de_ws, de) = chain["UK-NCA"], chain["FR-OCRIEST"], chain["DE-BPOL"]
    with open_store(uk_ws) as store:  # the originator fixes its record first
        old = [r for r in store.read_statements(entity_ids=["uk-nca--p1"]).to_pylist() if r["prop"] == "name"]
        store.delete_statements(
            pa.Table.from_pylist(
                [{"originator": "UK-NCA", "entity_id": None, "statement_id": old[0]["id"]}], schema=DELETE_SCHEMA
            )
        )
    write(uk_ws, [fact("uk-nca--p1", "name", "Person One (corrected)", "UK-NCA", tlp="GREEN")], name="fix")
    partners = [uk.partner("FR-OCRIEST")]
    with open_store(uk_ws, read_only=True) as store:
        facts = correction_facts(store, uk, partners, "investigation", ["uk-nca--p1"], dt.date.today())
    assert {f["value"] for f in facts} == {"uk-nca--p1", "Person One (corrected)"}
    write_notices(uk, partners, [make_notice(uk, CORRECTION, entities=["uk-nca--p1"], facts=facts)], uk_ws / "c.avb",
                  "investigation")  # fmt: skip
    got = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "c.avb")
    assert (got.withdrawn, got.added) == (2, 2)
    assert _names(fr_ws) == {"Person 0", "Person One (corrected)", "Person 2", "French Fact"}
    receive_bundle(lambda: open_store(de_ws), de, got.forwarded["DE-BPOL"])
    assert _names(de_ws) == _names(fr_ws)
    # killed after writing, before noting the notice applied: applying it again gives the same holdings
    before = held(fr_ws)
    (fr.dir / "notices" / "applied.jsonl").unlink()
    again = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "c.avb")
    assert (again.withdrawn, again.added) == (0, 0)
    assert held(fr_ws) == before


def test_only_the_originator_can_withdraw(chain: dict[str, tuple[Path, Node]], tmp_path: Path) -> None:
    (_uk_ws, uk), (_fr_ws, fr), (de_ws, de) = chain["UK-NCA"], chain["FR-OCRIEST"], chain["DE-BPOL"]
    with pytest.raises(ConfigError, match="only the originator"):
        make_notice(fr, WITHDRAWAL, entities=["uk-nca--p0"])
    before = held(de_ws)
    # FR signs a notice naming UK's entity as its own: it can only ever touch FR's facts, so nothing goes
    sneaky = Notice({**make_notice(fr, WITHDRAWAL, entities=["fr-ocriest--f1"]).body, "entities": ["uk-nca--p0"]}, b"")
    sneaky = Notice(
        sneaky.body,
        fr.sign(b"avellino-notice-v1" + canonical_json(sneaky.body)),
    )
    write_notices(fr, [fr.partner("DE-BPOL")], [sneaky], tmp_path / "sneaky.avb", "withdrawal")
    assert receive_bundle(lambda: open_store(de_ws), de, tmp_path / "sneaky.avb").withdrawn == 0
    assert held(de_ws) == before
    # FR claims to be UK in the notice: the originator's signature does not verify
    forged_body = {**make_notice(fr, WITHDRAWAL, entities=["fr-ocriest--f1"]).body, "originator": "UK-NCA",
                   "originator_fingerprint": uk.card.fingerprint, "entities": ["uk-nca--p0"]}  # fmt: skip
    forged = Notice(forged_body, fr.sign(json.dumps(forged_body).encode()))
    write_notices(fr, [fr.partner("DE-BPOL")], [forged], tmp_path / "forged.avb", "withdrawal")
    with pytest.raises(BundleRefused, match="not signed by its originator UK-NCA"):
        receive_bundle(lambda: open_store(de_ws), de, tmp_path / "forged.avb")
    assert held(de_ws) == before


def test_a_node_that_does_not_know_the_originator_refuses_its_withdrawal(tmp_path: Path) -> None:
    (uk_ws, uk), (fr_ws, fr) = make_node(tmp_path, "UK-NCA", "GB"), make_node(tmp_path, "FR-OCRIEST", "FR")
    _nl_ws, nl = make_node(tmp_path, "NL-KMAR", "NL")
    register(uk, fr)
    register(fr, nl)
    register(nl, fr)  # NL knows FR but not UK
    notice = make_notice(uk, WITHDRAWAL, entities=["uk-nca--p0"])
    write_notices(fr, [fr.partner("NL-KMAR")], [notice], tmp_path / "fwd.avb", "forwarded withdrawal")
    before = counts(_nl_ws)
    with pytest.raises(BundleRefused, match="whose card this node does not know"):
        receive_bundle(lambda: open_store(_nl_ws), nl, tmp_path / "fwd.avb")
    assert counts(_nl_ws) == before
    assert uk_ws.exists() and fr_ws.exists()


def test_a_retention_purge_is_withdrawn_from_the_partners_that_received_the_facts(
    chain: dict[str, tuple[Path, Node]],
) -> None:
    from avellino.share.withdraw import withdraw_purged

    (uk_ws, uk), (fr_ws, fr) = chain["UK-NCA"], chain["FR-OCRIEST"]
    with open_store(uk_ws, read_only=True) as store:
        rows = store.read_statements(entity_ids=["uk-nca--p0"]).to_pylist()
    purged = pa.Table.from_pylist(
        [{"originator": r["originator"], "entity_id": r["entity_id"], "statement_id": r["id"]} for r in rows]
        + [{"originator": "DE-BPOL", "entity_id": "de-bpol--z", "statement_id": "not-ours"}],
        schema=DELETE_SCHEMA,
    )
    written = withdraw_purged(uk, purged)
    assert set(written) == {"FR-OCRIEST"}
    got = receive_bundle(lambda: open_store(fr_ws), fr, written["FR-OCRIEST"])
    assert got.withdrawn == 2 and "Person 0" not in _names(fr_ws)


def test_retention_purge_on_the_command_line_leaves_withdrawals_for_the_partners(tmp_path: Path) -> None:
    # UK shared a fact while it was still in review (a year ago); purging it now leaves a withdrawal for France
    from typer.testing import CliRunner

    from avellino.cli import app

    (uk_ws, uk), (fr_ws, fr) = (make_node(tmp_path, n, c) for n, c in (("UK-NCA", "GB"), ("FR-OCRIEST", "FR")))
    register(uk, fr)
    register(fr, uk)
    today = dt.date.today()
    due = today - dt.timedelta(days=30)
    write(uk_ws, person("uk-nca--old", "Old Fact", "UK-NCA", tlp="GREEN", review=due))
    then = today - dt.timedelta(days=365)
    with open_store(uk_ws) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "to-fr.avb", today=then)
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb", today=then)
    assert "Old Fact" in _names(fr_ws)
    done = CliRunner().invoke(
        app, ["retention", "purge", "--before", str(today), "--user", "j.smith", "--reason", "review", "-w", str(uk_ws)]
    )
    assert done.exit_code == 0, done.output
    assert "withdrawal for FR-OCRIEST" in done.output
    notice = next((uk_ws / "node" / "outbox" / "FR-OCRIEST").glob("withdrawal-*.avb"))
    got = receive_bundle(lambda: open_store(fr_ws), fr, notice)
    assert got.withdrawn == 2 and "Old Fact" not in _names(fr_ws)
