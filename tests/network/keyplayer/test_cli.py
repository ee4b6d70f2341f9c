import json

from typer.testing import CliRunner

from avellino.network.cli import app

runner = CliRunner()


def test_disrupt_json_schema(fixtures):
    path = fixtures / "network" / "cells.txt"
    result = runner.invoke(app, ["disrupt", "--edges", str(path), "--k", "3", "--json", "--effort", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"nodes", "edges", "lcc0", "methods"} <= set(data)
    assert set(data["methods"]) == {"avellino", "degree", "betweenness", "collective_influence"}
    for steps in data["methods"].values():
        assert [s["k"] for s in steps] == [1, 2, 3]
        assert all(0 <= s["lcc_fraction"] <= 1 and len(s["removed"]) == s["k"] for s in steps)


def test_disrupt_matrix_with_protected(fixtures):
    path = fixtures / "network" / "matrix.csv"
    args = ["disrupt", "--edges", str(path), "--format", "matrix", "--k", "2", "--json", "--protected", "b"]
    data = json.loads(runner.invoke(app, args).stdout)
    assert all("b" not in s["removed"] for steps in data["methods"].values() for s in steps)
    assert data["protected"][0]["id"] == "b"


def test_simulate_and_describe(fixtures):
    path = str(fixtures / "network" / "cells.txt")
    sim = json.loads(runner.invoke(app, ["simulate", "--edges", path, "--remove", "p00,p12", "--json"]).stdout)
    assert sim["lcc"] < 39
    desc = json.loads(runner.invoke(app, ["describe", "--edges", path, "--json"]).stdout)
    assert desc["communities"] >= 2 and desc["brokers"]
