"""The case network of a JIT between two real nodes (a DuckDB workspace and keys each): both contribute, a person
both hold is resolved at France, and France's view holds the links of both members meeting at that person, leaves
out what the policy withholds, flags the victim and never ranks her, and shows nothing once the JIT has ended."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from avellino.share import jit
from avellino.share.jit_case import case, case_view, write_graph_file
from avellino.share.policy import Reason
from avellino.share.receive import receive_bundle
from avellino.share.send import send_bundle
from avellino.store import open_store
from tests.share.nodes import fact, make_node, person, register, write

TODAY = dt.date.today()
UNTIL = TODAY + dt.timedelta(days=90)
SOON = TODAY + dt.timedelta(days=5)  #: review date of one UK fact: shared today, past review at LATER
LATER = TODAY + dt.timedelta(days=10)
GREEN: dict[str, Any] = {"tlp": "GREEN"}


def _uk_facts() -> list[dict[str, object]]:
    """Karim calls Omar, and calls Dilan (a victim); Omar's nationality is due for review soon."""
    rows = person("uk-nca--s1", "Karim Haddad", "UK-NCA", **GREEN)
    rows += person("uk-nca--p2", "Omar Said", "UK-NCA", **GREEN)
    rows += person("uk-nca--v1", "Dilan Ahmed", "UK-NCA", category="victim", **GREEN)
    rows.append(fact("uk-nca--p2", "nationality", "sy", "UK-NCA", review=SOON, **GREEN))
    for call, receiver in (("uk-nca--c1", "uk-nca--p2"), ("uk-nca--c2", "uk-nca--v1")):
        rows += [
            fact(call, "id", call, "UK-NCA", schema="Call", **GREEN),
            fact(call, "caller", "uk-nca--s1", "UK-NCA", schema="Call", **GREEN),
            fact(call, "receiver", receiver, "UK-NCA", schema="Call", **GREEN),
            fact(call, "date", "2026-03-01", "UK-NCA", schema="Call", **GREEN),
        ]
    return rows


def _fr_facts() -> list[dict[str, object]]:
    """France's own record of Karim pays Marc."""
    rows = person("fr-ocriest--k1", "HADDAD Karim", "FR-OCRIEST", **GREEN)
    rows += person("fr-ocriest--m1", "Marc Blanc", "FR-OCRIEST", **GREEN)
    rows += [
        fact("fr-ocriest--pay1", "id", "fr-ocriest--pay1", "FR-OCRIEST", schema="Payment", **GREEN),
        fact("fr-ocriest--pay1", "payer", "fr-ocriest--k1", "FR-OCRIEST", schema="Payment", **GREEN),
        fact("fr-ocriest--pay1", "beneficiary", "fr-ocriest--m1", "FR-OCRIEST", schema="Payment", **GREEN),
        fact("fr-ocriest--pay1", "amount", "2500", "FR-OCRIEST", schema="Payment", **GREEN),
    ]
    return rows


def _exchange(src: jit.Node, dst: jit.Node) -> jit.Agreement:
    path = src.dir.parent / f"jit-from-{src.name}.json"
    path.write_text(json.dumps(jit.load(src, "JIT-CHANNEL").to_json()))
    return jit.merge(dst, jit.read_file(path), str(path))


@pytest.fixture()
def jit_nodes(tmp_path: Path) -> dict[str, tuple[Path, jit.Node]]:
    """UK and France in a signed JIT (contributions kept at the end), each having sent its facts inside it, and
    France's record of Karim resolved with the UK's."""
    made = {n: make_node(tmp_path, n, c) for n, c in (("UK-NCA", "GB"), ("FR-OCRIEST", "FR"))}
    (uk_ws, uk), (fr_ws, fr) = made["UK-NCA"], made["FR-OCRIEST"]
    register(uk, fr)
    register(fr, uk)
    write(uk_ws, _uk_facts())
    write(fr_ws, _fr_facts(), name="fr-own")
    jit.create(uk, "JIT-CHANNEL", ["UK-NCA", "FR-OCRIEST"], UNTIL, ["investigation"], on_end="keep")
    jit.sign(fr, _exchange(uk, fr))
    _exchange(fr, uk)
    with open_store(uk_ws, read_only=True) as store:
        send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", uk_ws / "to-fr.avb", jit="JIT-CHANNEL")
    with open_store(fr_ws, read_only=True) as store:
        send_bundle(store, fr, [fr.partner("UK-NCA")], "investigation", fr_ws / "to-uk.avb", jit="JIT-CHANNEL")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "to-fr.avb")
    receive_bundle(lambda: open_store(uk_ws), uk, fr_ws / "to-uk.avb")
    with open_store(fr_ws) as store:  # as `resolve run` would record the match
        store.set_canonical(pa.table({"entity_id": ["uk-nca--s1", "fr-ocriest--k1"], "canonical_id": ["c-karim"] * 2}))
    return made


def test_the_case_network_holds_both_members_links(jit_nodes: dict[str, tuple[Path, jit.Node]]) -> None:
    fr_ws, fr = jit_nodes["FR-OCRIEST"]
    with open_store(fr_ws, read_only=True) as store:
        view = case_view(store, fr, jit.load(fr, "JIT-CHANNEL"))
    net = view.network
    assert view.resolved_persons == ["c-karim"]
    karim = net.node("c-karim")
    assert karim is not None and karim.records == 2 and karim.originators == ["FR-OCRIEST", "UK-NCA"]
    links = {(link.source, link.target, link.kind): link for link in net.links}
    call = links[("c-karim", "uk-nca--p2", "call")]
    pay = links[("c-karim", "fr-ocriest--m1", "payment")]
    assert call.originators == ["UK-NCA"] and pay.originators == ["FR-OCRIEST"]
    assert call.cross_member and pay.cross_member  # each member's link meets the other's record of Karim
    assert net.components == 1 and not net.withheld
    # the victim: in the case (a JIT in force lets her go), flagged, never ranked
    victim = net.node("uk-nca--v1")
    assert victim is not None and victim.protected and "victim" in victim.safeguarding
    assert "suspect" not in victim.categories
    top = net.top_links()
    assert [(x.source, x.target) for x in top["UK-NCA"]] == [("c-karim", "uk-nca--p2")]
    assert [(x.source, x.target) for x in top["FR-OCRIEST"]] == [("c-karim", "fr-ocriest--m1")]
    assert [f["id"] for f in net.safeguarding()] == ["uk-nca--v1"]
    # plain data for the web UI
    data = json.loads(json.dumps(view.as_dict()))
    assert data["network"]["cross_member_links"] == 3 and len(data["network"]["nodes"]) == 4
    # the UK sees the same case from its side, its own record of Karim unresolved there
    uk_ws, uk = jit_nodes["UK-NCA"]
    with open_store(uk_ws, read_only=True) as store:
        uk_net = case_view(store, uk, jit.load(uk, "JIT-CHANNEL")).network
    assert {(x.source, x.target, x.kind) for x in uk_net.links} == {
        ("uk-nca--s1", "uk-nca--p2", "call"), ("uk-nca--s1", "uk-nca--v1", "call"),
        ("fr-ocriest--k1", "fr-ocriest--m1", "payment"),
    }  # fmt: skip


def test_the_policy_withholds_from_the_case_and_the_end_empties_it(
    jit_nodes: dict[str, tuple[Path, jit.Node]], tmp_path: Path
) -> None:
    (fr_ws, fr), (_, uk) = jit_nodes["FR-OCRIEST"], jit_nodes["UK-NCA"]
    # past the review date of Omar's nationality: it is no longer in France's view of the case
    with open_store(fr_ws, read_only=True) as store:
        now = case(store, fr, jit.load(fr, "JIT-CHANNEL"))
        later = case(store, fr, jit.load(fr, "JIT-CHANNEL"), today=LATER)
    assert "sy" in now.seen.column("value").to_pylist()
    assert "sy" not in later.seen.column("value").to_pylist()
    assert later.view.network.withheld == {Reason.RETENTION.value: 1}
    # the graph file: the same case, markings on every node, the victim marked protected
    path = write_graph_file(now, tmp_path / "case.graphml") and tmp_path / "case.graphml"
    root = ET.parse(path).getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    nodes = {
        n.get("id"): {keys[d.get("key")]: d.text for d in n.findall("g:data", ns)}
        for n in root.iter("{http://graphml.graphdrawing.org/xmlns}node")
    }
    assert nodes["c-karim"]["originators"] == "FR-OCRIEST;UK-NCA" and nodes["c-karim"]["tlp"] == "GREEN"
    assert nodes["uk-nca--v1"]["protected"] == "true"
    edges = {(e.get("source"), e.get("target")) for e in root.iter("{http://graphml.graphdrawing.org/xmlns}edge")}
    assert ("uk-nca--c1", "c-karim") in edges or ("c-karim", "uk-nca--c1") in edges
    # a purpose the agreement does not allow is refused
    with open_store(fr_ws, read_only=True) as store, pytest.raises(Exception, match="allows only investigation"):
        case(store, fr, jit.load(fr, "JIT-CHANNEL"), purpose="analysis")
    # the UK ends the JIT; France keeps the contributions (on_end keep) but its view of the case is empty
    jit.add_event(uk, jit.load(uk, "JIT-CHANNEL"), jit.END, TODAY)
    ended = _exchange(uk, fr)
    with open_store(fr_ws) as store:
        assert jit.follow_agreement(store, fr, ended) == 0
        assert "Dilan Ahmed" in store.read_statements(columns=["value"]).column("value").to_pylist()
    with open_store(fr_ws, read_only=True) as store:
        after = case_view(store, fr, jit.load(fr, "JIT-CHANNEL")).network
    assert after.nodes == [] and after.links == []
    # the victim's facts are refused first by the protected-category rule (no JIT in force lets them go)
    assert set(after.withheld) == {Reason.JIT_NOT_IN_FORCE.value, Reason.PROTECTED.value}
    assert sum(after.withheld.values()) > 20


def test_jit_show_cli(jit_nodes: dict[str, tuple[Path, jit.Node]], tmp_path: Path) -> None:
    from avellino.cli import app
    from avellino.share.audit import entries

    fr_ws, _ = jit_nodes["FR-OCRIEST"]
    runner = CliRunner()
    graph = tmp_path / "case.gexf"
    got = runner.invoke(app, ["jit", "show", "JIT-CHANNEL", "-w", str(fr_ws), "--json", "--to", str(graph)])
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout[got.stdout.index("{") :])
    assert {(x["source"], x["target"]) for x in data["network"]["links"]} >= {("c-karim", "uk-nca--p2")}
    assert graph.read_text().startswith("<?xml") and "c-karim" in graph.read_text()
    shown = runner.invoke(app, ["jit", "show", "JIT-CHANNEL", "-w", str(fr_ws)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Top links by originator" in shown.stdout and "Safeguarding" in shown.stdout
    top = shown.stdout[shown.stdout.index("Top links") : shown.stdout.index("Safeguarding")]
    assert "Dilan Ahmed" not in top  # the victim is flagged below, never ranked
    with open_store(fr_ws, read_only=True) as store:
        assert [e.fields["action"] for e in entries(store)][-2:] == [
            f"jit show JIT-CHANNEL --to {graph}",
            "jit show JIT-CHANNEL",
        ]
