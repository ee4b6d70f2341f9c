"""Joint investigation teams between real nodes (a DuckDB workspace and keys each): the agreement is created,
signed by every member (exchanged as files), used (a bundle sent inside it and received) and ended; after the end
the former member holds nothing of the JIT and the policy refuses every further share inside it or of its facts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.errors import ConfigError
from avellino.share import jit
from avellino.share.bundle import BundleRefused
from avellino.share.node import Node
from avellino.share.policy import Reason
from avellino.share.receive import receive_bundle
from avellino.share.send import send_bundle
from avellino.share.withdraw import CORRECTION, correction_facts, make_notice, write_notices
from avellino.store import open_store
from tests.share.nodes import fact, held, make_node, person, register, write

TODAY = dt.date.today()
UNTIL = TODAY + dt.timedelta(days=90)

Nodes = dict[str, tuple[Path, Node]]


@pytest.fixture()
def nodes(tmp_path: Path) -> Nodes:
    """UK and FR (members to be), DE (a partner of both, never a member); every node knows every card. UK holds
    a suspect (GREEN) and a victim; FR a suspect of its own."""
    made = {n: make_node(tmp_path, n, c) for n, c in (("UK-NCA", "GB"), ("FR-OCRIEST", "FR"), ("DE-BKA", "DE"))}
    for a in made.values():
        for b in made.values():
            if a[1].name != b[1].name:
                register(a[1], b[1])
    uk_ws, fr_ws = made["UK-NCA"][0], made["FR-OCRIEST"][0]
    rows = person("uk-nca--s1", "Karim Haddad", "UK-NCA", tlp="GREEN")
    rows += person("uk-nca--v1", "Dilan Ahmed", "UK-NCA", tlp="GREEN", category="victim")
    write(uk_ws, rows)
    write(fr_ws, person("fr-ocriest--s9", "Jean Morel", "FR-OCRIEST", tlp="GREEN"), name="fr-own")
    return made


def _exchange(src: Node, dst: Node, name: str) -> jit.Agreement:
    """``src`` gives its copy of the agreement to ``dst`` as a file (`jit import`)."""
    path = src.dir.parent / f"{name}-from-{src.name}.json"
    path.write_text(json.dumps(jit.load(src, name).to_json()))
    return jit.merge(dst, jit.read_file(path), str(path))


def _signed_jit(uk: Node, fr: Node, on_end: str = "delete") -> jit.Agreement:
    agreement = jit.create(uk, "JIT-CHANNEL", ["UK-NCA", "FR-OCRIEST"], UNTIL, ["investigation"], on_end=on_end)
    assert agreement.state(uk, TODAY).startswith("draft: waiting for the signature of FR-OCRIEST")
    jit.sign(fr, _exchange(uk, fr, "JIT-CHANNEL"))
    return _exchange(fr, uk, "JIT-CHANNEL")


def _names(ws: Path) -> set[str]:
    return {r[2] for r in held(ws) if r[1] == "name"}


def test_a_jit_created_signed_used_and_ended(nodes: Nodes) -> None:
    (uk_ws, uk), (fr_ws, fr), (_, de) = nodes["UK-NCA"], nodes["FR-OCRIEST"], nodes["DE-BKA"]
    to_fr = [uk.partner("FR-OCRIEST")]
    jit.create(uk, "JIT-CHANNEL", ["UK-NCA", "FR-OCRIEST"], UNTIL, ["investigation"])
    with open_store(uk_ws, read_only=True) as store:
        with pytest.raises(ConfigError, match="draft: waiting"):  # not signed by FR yet
            send_bundle(store, uk, to_fr, "investigation", uk_ws / "early.avb", jit="JIT-CHANNEL")
        # and not a joint team yet: the victim is withheld from FR
        plain = send_bundle(store, uk, to_fr, "investigation", uk_ws / "plain.avb")
    assert plain.withheld == {Reason.PROTECTED.value: 2} and plain.statements == 2
    jit.sign(fr, _exchange(uk, fr, "JIT-CHANNEL"))
    agreement = _exchange(fr, uk, "JIT-CHANNEL")
    assert agreement.state(uk, TODAY) == "active" and jit.load(fr, "JIT-CHANNEL").state(fr, TODAY) == "active"

    # used: inside the JIT the victim goes to FR, with her markings
    with open_store(uk_ws, read_only=True) as store:
        inside = send_bundle(store, uk, to_fr, "investigation: boat 12", uk_ws / "in.avb", jit="JIT-CHANNEL")
        with pytest.raises(ConfigError, match="does not let UK-NCA share with DE-BKA"):
            send_bundle(store, uk, [uk.partner("DE-BKA")], "investigation", uk_ws / "de.avb", jit="JIT-CHANNEL")
        with pytest.raises(ConfigError, match="does not let"):  # a purpose the agreement does not allow
            send_bundle(store, uk, to_fr, "analysis", uk_ws / "an.avb", jit="JIT-CHANNEL")
    assert inside.withheld == {} and inside.statements == 4
    got = receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")
    assert got.added == 4
    assert _names(fr_ws) == {"Karim Haddad", "Dilan Ahmed", "Jean Morel"}
    assert ("uk-nca--v1", "name", "Dilan Ahmed", "UK-NCA", "H0", "GREEN") in held(fr_ws)

    # the view: contributions by originator at both ends, and a person both members hold, once resolved
    with open_store(fr_ws, read_only=True) as store:
        contributions, resolved = jit.contributions(store, fr, jit.load(fr, "JIT-CHANNEL"))
    assert [(c.originator, c.entities, c.statements) for c in contributions] == [("UK-NCA", 2, 4)]
    assert resolved == []  # nothing resolved yet
    write(fr_ws, person("fr-ocriest--k1", "HADDAD Karim", "FR-OCRIEST", tlp="GREEN"), name="fr-karim")
    with open_store(fr_ws) as store:  # as `resolve run` would record the match
        store.set_canonical(pa.table({"entity_id": ["uk-nca--s1", "fr-ocriest--k1"], "canonical_id": ["c-karim"] * 2}))
        contributions, resolved = jit.contributions(store, fr, jit.load(fr, "JIT-CHANNEL"))
    assert resolved == ["c-karim"]
    with open_store(uk_ws, read_only=True) as store:
        sent, _ = jit.contributions(store, uk, jit.load(uk, "JIT-CHANNEL"))
    assert [(c.originator, c.statements) for c in sent] == [("UK-NCA (sent)", 4)]

    # nothing leaves the JIT: FR may not pass UK's (GREEN!) contribution to DE, only its own fact goes
    with open_store(fr_ws, read_only=True) as store:
        onward = send_bundle(store, fr, [fr.partner("DE-BKA")], "investigation", fr_ws / "to-de.avb")
    assert onward.withheld == {Reason.JIT_OUTSIDE.value: 2, Reason.PROTECTED.value: 2}
    assert onward.statements == 4  # FR's own: Jean Morel and its own record of Karim Haddad
    # nor in an export for DE: `avellino export --for DE-BKA` is never made inside the JIT
    import io

    from avellino.share.export import export
    from avellino.share.jit import batch_jits
    from avellino.share.send import request_for

    out = io.StringIO()
    with open_store(fr_ws, read_only=True) as store:
        req = request_for(fr, [fr.partner("DE-BKA")], "investigation", TODAY)
        done = export(store, out, "ftm", request=req, jit_batches=batch_jits(fr))
    assert done.withheld[Reason.JIT_OUTSIDE.value] == 2
    assert "uk-nca--" not in out.getvalue() and "Jean Morel" in out.getvalue()

    # ended by the UK; FR takes the ended agreement and its JIT facts are deleted (on_end: delete)
    jit.add_event(uk, jit.load(uk, "JIT-CHANNEL"), jit.END, TODAY)
    ended = _exchange(uk, fr, "JIT-CHANNEL")
    assert ended.state(fr, TODAY) == f"ended on {TODAY}"
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, ended) == 4
    assert _names(fr_ws) == {"Jean Morel", "HADDAD Karim"}  # the former member can no longer read the JIT's facts
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, ended) == 0  # applying it again changes nothing

    # and the policy refuses: no send inside the ended JIT, no bundle of it received (the one sent before)
    with open_store(uk_ws, read_only=True) as store, pytest.raises(ConfigError, match="ended on"):
        send_bundle(store, uk, to_fr, "investigation", uk_ws / "late.avb", jit="JIT-CHANNEL")
    with pytest.raises(BundleRefused, match="does not let UK-NCA share with FR-OCRIEST"):
        receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")  # re-delivered after the end
    assert _names(fr_ws) == {"Jean Morel", "HADDAD Karim"}
    assert de.name not in ended.members


def test_keep_seals_the_contributions_and_leave_ends_access(nodes: Nodes) -> None:
    """on_end keep: after FR leaves it still holds UK's facts, but cannot pass them to anyone, not even inside
    the JIT; DE never was a member."""
    (uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    _signed_jit(uk, fr, on_end="keep")
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "in.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")
    agreement = jit.load(fr, "JIT-CHANNEL")
    jit.add_event(fr, agreement, jit.LEAVE, TODAY)
    assert agreement.state(fr, TODAY) == "left (this node)"
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, agreement) == 0  # kept
    assert "Dilan Ahmed" in _names(fr_ws)
    with open_store(fr_ws, read_only=True) as store:
        with pytest.raises(ConfigError, match="left"):
            send_bundle(store, fr, [fr.partner("UK-NCA")], "investigation", fr_ws / "x.avb", jit="JIT-CHANNEL")
        back = send_bundle(store, fr, [fr.partner("UK-NCA")], "investigation", fr_ws / "y.avb")
    assert back.withheld.get(Reason.JIT_OUTSIDE.value) == 2  # Karim Haddad's two statements stay sealed
    # the UK learns FR left: FR is no longer a member there, so nothing more goes to it inside the JIT
    left = _exchange(fr, uk, "JIT-CHANNEL")
    assert left.policy_view(uk).members == {"UK-NCA"}


def test_leave_with_delete_purges_at_the_leaver(nodes: Nodes) -> None:
    (uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    _signed_jit(uk, fr, on_end="delete")
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "in.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")
    agreement = jit.load(fr, "JIT-CHANNEL")
    jit.add_event(fr, agreement, jit.LEAVE, TODAY)
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, agreement) == 4
    assert _names(fr_ws) == {"Jean Morel"}


def test_an_altered_or_foreign_agreement_is_refused(nodes: Nodes, tmp_path: Path) -> None:
    (_, uk), (_, fr), (_, de) = nodes["UK-NCA"], nodes["FR-OCRIEST"], nodes["DE-BKA"]
    _signed_jit(uk, fr)
    data = jit.load(uk, "JIT-CHANNEL").to_json()
    forged = json.loads(json.dumps(data))
    forged["agreement"]["until"] = "2099-12-31"  # a longer term than was signed
    del forged["agreement_id"]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(ConfigError, match="differs from the agreement"):
        jit.merge(fr, jit.read_file(path), str(path))
    # the same forged text at a node that has no copy: the signatures do not verify, nothing is saved
    forged["agreement"]["members"] = ["DE-BKA", "FR-OCRIEST", "UK-NCA"]
    path.write_text(json.dumps(forged))
    with pytest.raises(ConfigError, match="does not verify"):
        jit.merge(de, jit.read_file(path), str(path))
    assert jit.load_all(de) == []
    # an event signed by someone else than the member it names is refused
    data["events"] = [{"event": {"agreement": data["agreement_id"], "kind": "end", "member": "FR-OCRIEST",
                                 "on": TODAY.isoformat()}, "signature": data["signatures"]["UK-NCA"]}]  # fmt: skip
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="not signed by the member it names"):
        jit.merge(fr, jit.read_file(path), str(path))
    assert jit.load(fr, "JIT-CHANNEL").state(fr, TODAY) == "active"


def test_a_correction_of_a_contribution_stays_inside_the_jit(nodes: Nodes) -> None:
    (uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    _signed_jit(uk, fr)
    to_fr = [uk.partner("FR-OCRIEST")]
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, to_fr, "investigation", uk_ws / "in.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")
    write(uk_ws, [fact("uk-nca--s1", "nationality", "sy", "UK-NCA", tlp="GREEN")], name="fix")
    with open_store(uk_ws, read_only=True) as store:
        rows = correction_facts(store, uk, to_fr, "investigation", ["uk-nca--s1"], TODAY)
    notice = make_notice(uk, CORRECTION, entities=["uk-nca--s1"], facts=rows, reason="nationality added")
    write_notices(uk, to_fr, [notice], uk_ws / "fix.avb", "correction")
    assert receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "fix.avb").added == 3
    with open_store(fr_ws, read_only=True) as store:
        onward = send_bundle(store, fr, [fr.partner("DE-BKA")], "investigation", fr_ws / "to-de.avb")
    assert onward.withheld.get(Reason.JIT_OUTSIDE.value) == 3  # the corrected Karim Haddad is still the JIT's
    jit.add_event(fr, jit.load(fr, "JIT-CHANNEL"), jit.LEAVE, TODAY)
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, jit.load(fr, "JIT-CHANNEL")) == 5  # 3 corrected + the victim's 2
    assert _names(fr_ws) == {"Jean Morel"}


def test_the_end_of_the_term_ends_access(nodes: Nodes) -> None:
    (uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    _signed_jit(uk, fr)
    to_fr = [uk.partner("FR-OCRIEST")]
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, to_fr, "investigation", uk_ws / "in.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "in.avb")
    after = UNTIL + dt.timedelta(days=1)
    assert jit.load(fr, "JIT-CHANNEL").state(fr, after) == f"expired on {UNTIL}"
    with open_store(uk_ws, read_only=True) as store, pytest.raises(ConfigError, match="expired"):
        send_bundle(store, uk, to_fr, "investigation", uk_ws / "late.avb", today=after, jit="JIT-CHANNEL")
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, jit.load(fr, "JIT-CHANNEL"), today=UNTIL) == 0  # last day: in force
        assert jit.follow_agreement(store, fr, jit.load(fr, "JIT-CHANNEL"), today=after) == 4
    assert _names(fr_ws) == {"Jean Morel"}


def test_a_jit_between_postgresql_workspaces(tmp_path: Path) -> None:
    """The same JIT path where FR's workspace is a PostgreSQL schema: received inside the JIT, sealed from a
    non-member, deleted at the end through the store's deletion."""
    from avellino.share.node import init_node
    from avellino.store.postgres_store import PostgresStore
    from tests.conftest import PG_URL, pg_schema_url

    if not PG_URL:
        pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
    uk_ws, uk = make_node(tmp_path, "UK-NCA", "GB")
    fr_url = pg_schema_url()
    fr, de = init_node(tmp_path / "fr-node", "FR-OCRIEST", "FR"), init_node(tmp_path / "de-node", "DE-BKA", "DE")
    for a, b in ((uk, fr), (fr, uk), (fr, de), (uk, de)):
        register(a, b)
    write(uk_ws, person("uk-nca--s1", "Karim Haddad", "UK-NCA", tlp="GREEN"))
    _signed_jit(uk, fr)
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "in.avb", jit="JIT-CHANNEL")
    assert receive_bundle(lambda: PostgresStore(fr_url), fr, uk_ws / "in.avb").added == 2
    with PostgresStore(fr_url) as store:
        onward = send_bundle(store, fr, [fr.partner("DE-BKA")], "investigation", tmp_path / "de.avb")
        assert onward.withheld == {Reason.JIT_OUTSIDE.value: 2}
        jit.add_event(fr, jit.load(fr, "JIT-CHANNEL"), jit.LEAVE, TODAY)
        assert jit.follow_agreement(store, fr, jit.load(fr, "JIT-CHANNEL")) == 2
        assert store.read_statements().num_rows == 0


def test_return_gives_a_leaving_members_contributions_back(nodes: Nodes) -> None:
    """on_end return: when FR leaves, the UK deletes what FR contributed inside the JIT (FR still holds it),
    and FR deletes what it received there."""
    (uk_ws, uk), (fr_ws, fr) = nodes["UK-NCA"], nodes["FR-OCRIEST"]
    _signed_jit(uk, fr, on_end="return")
    with open_store(fr_ws, read_only=True) as store:
        send_bundle(store, fr, [fr.partner("UK-NCA")], "investigation", fr_ws / "to-uk.avb", jit="JIT-CHANNEL")
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "to-fr.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(uk_ws), uk, fr_ws / "to-uk.avb")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb")
    assert "Jean Morel" in _names(uk_ws) and "Karim Haddad" in _names(fr_ws)
    jit.add_event(fr, jit.load(fr, "JIT-CHANNEL"), jit.LEAVE, TODAY)
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, jit.load(fr, "JIT-CHANNEL")) == 4
    back = _exchange(fr, uk, "JIT-CHANNEL")
    assert back.state(uk, TODAY) == "active"  # the UK is still in it (alone, until others join a new one)
    with open_store(uk_ws) as store:
        assert jit.follow_agreement(store, uk, back) == 2
    assert _names(uk_ws) == {"Karim Haddad", "Dilan Ahmed"} and _names(fr_ws) == {"Jean Morel"}
