"""What ``network build --to`` and ``network export`` write, every file-mode command reads back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from avellino.errors import ConfigError, InputRejected
from avellino.network.build import build_graph
from avellino.network.cli import app
from avellino.network.keyplayer.io import read_network

runner = CliRunner()


def _invoke(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _pairs(graph) -> dict[tuple[str, str], float]:
    names = graph.vs["name"]
    return {
        tuple(sorted((names[e.source], names[e.target]))): e["weight"]  # type: ignore[misc]
        for e in graph.es
    }


@pytest.fixture(scope="module")
def built(sample_op, tmp_path_factory):
    from avellino.store.duckdb_store import DuckDBStore

    folder = tmp_path_factory.mktemp("graphfiles")
    for suffix in ("graphml", "gexf"):
        _invoke(["build", "--workspace", str(sample_op.workspace), "--to", str(folder / f"net.{suffix}")])
    with DuckDBStore(sample_op.workspace) as store:
        sg = build_graph(store)
    return folder, sg


@pytest.mark.parametrize("suffix", ["graphml", "gexf"])
def test_build_output_reads_back_as_the_same_network(built, suffix):
    folder, sg = built
    graph = read_network(folder / f"net.{suffix}")
    assert not graph.is_directed() and graph.is_simple()
    assert sorted(graph.vs["name"]) == sorted(sg.nodes["id"])
    ties = sg.edges[sg.edges["source"] != sg.edges["target"]]
    expected: dict[tuple[str, str], float] = {}
    for a, b, n in zip(ties["source"], ties["target"], ties["events"], strict=True):
        key = (min(a, b), max(a, b))
        expected[key] = expected.get(key, 0.0) + float(n)
    assert _pairs(graph) == expected
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"], strict=True))
    assert all(v["label"] == labels[v["name"]] for v in graph.vs)


@pytest.mark.parametrize("suffix", ["graphml", "gexf"])
def test_file_mode_commands_run_on_build_output(built, suffix, tmp_path):
    folder, sg = built
    path = str(folder / f"net.{suffix}")
    plan = json.loads(_invoke(["disrupt", "--edges", path, "--k", "3", "--effort", "0.5", "--json"]))
    assert plan["nodes"] == len(sg.nodes) and len(plan["methods"]["avellino"]) == 3
    protected = {p["id"] for p in plan["protected"]}
    assert protected == set(sg.nodes[sg.nodes["protected"]]["id"])
    assert not protected & {v for steps in plan["methods"].values() for s in steps for v in s["removed"]}
    target = plan["methods"]["avellino"][0]["removed"]
    sim = json.loads(_invoke(["simulate", "--edges", path, "--remove", ",".join(target), "--json"]))
    assert sim["lcc"] < plan["lcc0"]
    desc = json.loads(_invoke(["describe", "--edges", path, "--json"]))
    assert desc["nodes"] == len(sg.nodes) and desc["communities"] > 1
    # export -> the other format -> read back: the same network
    other = tmp_path / ("again.gexf" if suffix == "graphml" else "again.graphml")
    _invoke(["export", "--edges", path, "--to", str(other)])
    assert _pairs(read_network(other)) == _pairs(read_network(folder / f"net.{suffix}"))


def test_build_rejects_a_wrong_extension_before_any_work(tmp_path):
    # The workspace does not exist: a ConfigError about --to (not a StoreError) shows nothing was opened.
    result = runner.invoke(app, ["build", "--workspace", str(tmp_path / "nowhere"), "--to", str(tmp_path / "n.csv")])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError) and ".graphml or .gexf" in str(result.exception)
    assert not (tmp_path / "nowhere").exists()


def test_export_and_routes_reject_bad_outputs_before_reading(fixtures, tmp_path):
    edges = str(fixtures / "network" / "cells.txt")
    result = runner.invoke(app, ["export", "--edges", edges, "--to", str(tmp_path / "cells.csv")])
    assert isinstance(result.exception, ConfigError) and "cells.csv" in str(result.exception)
    missing = tmp_path / "no" / "routes.html"
    result = runner.invoke(app, ["routes", "--workspace", str(tmp_path / "nowhere"), "--html", str(missing)])
    assert isinstance(result.exception, ConfigError) and "does not exist" in str(result.exception)


def test_gexf_with_a_bad_weight_names_the_edge(tmp_path):
    path = tmp_path / "bad.gexf"
    path.write_text(
        '<?xml version="1.0"?><gexf xmlns="http://gexf.net/1.3" version="1.3"><graph defaultedgetype="undirected">'
        '<nodes><node id="0" label="a"/><node id="1" label="b"/></nodes>'
        '<edges><edge id="0" source="0" target="1" weight="heavy"/></edges></graph></gexf>',
        encoding="utf-8",
    )
    with pytest.raises(InputRejected, match="'heavy' is not a number"):
        read_network(path)
