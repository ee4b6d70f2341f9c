from pathlib import Path

import pytest

from avellino.errors import ConfigError, InputRejected
from avellino.network.keyplayer.io import read_network


def _edges(graph):
    names = graph.vs["name"]
    return {tuple(sorted((names[e.source], names[e.target]))): e["weight"] for e in graph.es}


def test_whitespace_edgelist_merges_duplicates(fixtures):
    path = fixtures / "network" / "cells.txt"
    rows = [ln.split() for ln in path.read_text().splitlines() if not ln.startswith("#")]
    pairs = {tuple(sorted(r[:2])) for r in rows}
    g = read_network(path)
    assert not g.is_directed()
    assert g.ecount() == len(pairs) < len(rows)
    assert g.vcount() == len({n for p in pairs for n in p}) == 39
    assert _edges(g)[("p05", "p34")] > 2  # summed weights


def test_csv_edgelist_with_header_and_reversed_pairs(tmp_path: Path):
    path = tmp_path / "e.csv"
    path.write_text("source,target,weight\nA,B,2\nB,A,3\nB,C\nC,C,1\n")
    g = read_network(path)
    assert _edges(g) == {("A", "B"): 5.0, ("B", "C"): 1.0}  # self tie dropped


def test_headerless_numeric_csv_is_an_edgelist_not_a_matrix(tmp_path: Path):
    path = tmp_path / "e.csv"
    path.write_text("1,2,1\n2,3,1\n3,4,2\n")
    g = read_network(path)
    assert g.vcount() == 4 and g.ecount() == 3


def test_matrix_is_symmetrised(fixtures):
    g = read_network(fixtures / "network" / "matrix.csv", "matrix")
    assert _edges(g) == {("a", "b"): 3.0, ("b", "c"): 3.0, ("c", "d"): 1.0}
    assert g.vcount() == 5  # e is isolated but kept
    assert read_network(fixtures / "network" / "matrix.csv").ecount() == 3  # auto-detected


def test_two_mode_matrix_is_projected(fixtures):
    g = read_network(fixtures / "network" / "two_mode.csv")
    assert set(_edges(g)) == {("ann", "bob"), ("bob", "cid"), ("ann", "dan")}


def test_jjatt_relation_table(fixtures):
    g = read_network(fixtures / "network" / "jjatt_relations.csv")
    assert set(_edges(g)) == {("100", "101"), ("100", "102"), ("102", "103")}


def test_bad_rows_are_reported_with_row_numbers(tmp_path: Path):
    path = tmp_path / "bad.txt"
    path.write_text("a b 1\nc d heavy\n")
    with pytest.raises(InputRejected, match="row 2"):
        read_network(path)


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError):
        read_network(tmp_path / "nope.txt")
