"""One test per network output: no protected person (victim, witness, informant, coerced migrant boat pilot)
appears as operator, target, role holder, central member or suspect. Each test first shows that the output,
unscreened, would have named protected people, so it can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from avellino.model.markings import OFFENDER_CATEGORIES
from avellino.network.build import build_graph, read_statements
from avellino.network.cli import app
from avellino.network.evaluate import read_truth
from avellino.network.keyplayer.io import read_network
from avellino.network.protect import MIGRANT_PILOT
from avellino.network.roles import infer_roles

runner = CliRunner()


def _invoke(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def network(sample_op):
    from avellino.store.duckdb_store import DuckDBStore

    with DuckDBStore(sample_op.workspace) as store:
        statements = read_statements(store)
        sg = build_graph(store, statements)
    return sg, statements


def test_protection_marks_coerced_pilots_recorded_as_suspects(network, sample_op):
    sg, _ = network
    truth = read_truth(sample_op.truth_dir)
    coerced = truth[(truth["role"] == "boat_pilot") & (truth["is_victim"] == "true")]
    as_suspect = coerced[coerced["subject_category"] == "suspect"]["entity_id"]
    piloted = set(sg.participation[sg.participation["prop"] == "pilot"]["node"])
    seen = [e for e in as_suspect if e in piloted]
    assert seen, "the sample should hold coerced pilots a partner recorded as suspects"
    assert all(sg.protection.reason(e) == MIGRANT_PILOT for e in seen)
    assert sg.nodes.set_index("id").loc[seen, "protected"].all()


def test_routes_never_list_a_protected_operator(network):
    from avellino.network.routes import route_stages, routes_of

    sg, statements = network
    canonical = dict(zip(statements["entity_id"], statements["canonical_id"], strict=True))
    raw = {canonical.get(x, x) for ops in route_stages(statements)["operators"] for x in str(ops).split(";") if x}
    assert raw & set(sg.protection.reasons), "unscreened, the operators would include protected people"
    table = routes_of(sg, statements)
    listed = {i for ids in table["operator_ids"] for i in str(ids).split(";") if i}
    assert listed and not listed & set(sg.protection.reasons)
    assert table["protected"].sum() > 0
    labels = sg.nodes.set_index("id")["label"]
    for ids, names in zip(table["operator_ids"], table["operators"], strict=True):
        assert [labels.get(i, i) for i in str(ids).split(";") if i] == [
            n.rsplit(" (", 1)[0] for n in names.split(", ") if n
        ]


def test_routes_cli_json_and_self_contained_page(sample_op, tmp_path):
    from avellino.store.duckdb_store import DuckDBStore

    with DuckDBStore(sample_op.workspace) as store:
        protected = set(build_graph(store).protection.reasons)
    page = tmp_path / "routes.html"
    args = ["routes", "--workspace", str(sample_op.workspace), "--json", "--top", "1000", "--html", str(page)]
    rows = json.loads(_invoke(args))
    listed = {i for r in rows for i in r["operator_ids"].split(";") if i}
    assert listed and not listed & protected
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "<script" not in text and "src=" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routes.html"]


def test_roles_cli_lists_no_protected_person_with_a_role(network, sample_op):
    sg, _ = network
    inference = infer_roles(sg)
    offender = inference.role[inference.role != "none"]
    assert set(offender.index) & set(sg.protection.reasons), "unscreened, protected people would hold roles"
    data = json.loads(_invoke(["roles", "--workspace", str(sample_op.workspace), "--json", "--top", "100000"]))
    listed = {p["id"] for p in data["people"]}
    assert listed and not listed & set(sg.protection.reasons)
    assert data["safeguarding"] and all(p["id"] in sg.protection and p["reason"] for p in data["safeguarding"])
    assert "role" not in data["safeguarding"][0]


def test_targets_cli_names_no_protected_person(network, sample_op):
    sg, _ = network
    args = ["targets", "--workspace", str(sample_op.workspace), "--k", "20", "--effort", "0.5", "--json"]
    data = json.loads(_invoke(args))
    assert len(data["targets"]) == 20
    assert not {t["id"] for t in data["targets"]} & set(sg.protection.reasons)
    assert data["protected"] and all(p["id"] in sg.protection for p in data["protected"])


@pytest.mark.parametrize("suffix", [".graphml", ".gexf"])
def test_graph_files_flag_protected_people_and_never_as_suspects(network, sample_op, tmp_path, suffix):
    sg, _ = network
    raw = sg.nodes[sg.nodes["protected"]]
    assert raw["categories"].str.contains("suspect").any(), "unscreened, some protected people read 'suspect'"
    path = tmp_path / f"net{suffix}"
    _invoke(["build", "--workspace", str(sample_op.workspace), "--to", str(path)])
    graph = read_network(path)
    flagged = {v["name"]: v for v in graph.vs if v["protected"]}
    assert set(flagged) == set(raw["id"])
    for v in flagged.values():
        assert v["safeguarding"] and not set(str(v["categories"] or "").split(";")) & OFFENDER_CATEGORIES


def test_store_node_table_never_shows_a_protected_person_as_suspect(network, sample_op):
    from avellino.store.duckdb_store import DuckDBStore

    sg, _ = network
    raw = sg.nodes[sg.nodes["protected"]]
    assert raw["categories"].str.contains("suspect").any(), "unscreened, some protected people read 'suspect'"
    _invoke(["build", "--workspace", str(sample_op.workspace)])
    with DuckDBStore(sample_op.workspace) as store:
        table = store.read_table("network_nodes")
    assert table is not None
    nodes = table.to_pandas()
    written = nodes[nodes["protected"]]
    assert set(written["id"]) == set(raw["id"])
    assert all(not set(str(c).split(";")) & OFFENDER_CATEGORIES for c in written["categories"])
    unprotected = nodes[~nodes["protected"]].set_index("id")["categories"]
    assert unprotected.equals(sg.nodes[~sg.nodes["protected"]].set_index("id")["categories"])


def test_describe_on_a_graph_file_lists_no_protected_person(sample_op, tmp_path):
    path = tmp_path / "net.graphml"
    _invoke(["build", "--workspace", str(sample_op.workspace), "--to", str(path)])
    data = json.loads(_invoke(["describe", "--edges", str(path), "--top", "200", "--json"]))
    protected = {p["id"] for p in data["protected"]}
    assert protected
    assert data["central"] and not {c["id"] for c in data["central"]} & protected
    assert data["brokers"] and not {b["id"] for b in data["brokers"]} & protected


def test_briefing_shows_no_protected_person_and_names_its_entities(network, sample_op, tmp_path):
    from avellino.network.briefing import network_section
    from avellino.network.findings import network_findings
    from avellino.store.duckdb_store import DuckDBStore

    sg, _ = network
    with DuckDBStore(sample_op.workspace, read_only=True) as store:
        section = network_section(network_findings(store, sample_op.truth_dir))
    people = set(sg.nodes["id"])
    shown_people = section.entity_ids & people
    assert len(shown_people) > 10 and not shown_people & set(sg.protection.reasons)
    assert all(p in section.html for p in shown_people), "every person shown is shown with their entity id"
    party_ids = set(sg.nodes[sg.nodes["kind"] == "party"]["id"])
    assert not [p for p in set(sg.protection.reasons) & party_ids if p in section.html]
    assert "took" not in section.html and "<script" not in section.html and "<svg" in section.html
    assert list(Path(tmp_path).iterdir()) == []
