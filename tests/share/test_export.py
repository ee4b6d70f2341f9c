"""Exports of a resolved workspace: links kept in every format, FtM round trip with markings, STIX that the
official validator accepts, graph files with real markings, and exports for a partner under the policy."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.ingest.run import ingest_file
from avellino.share.export import export
from avellino.share.stix import HANDLING_EXTENSION, TLP2_STIX
from avellino.store import open_store
from avellino.store.base import Store
from tests.share.nodes import avellino, env, make_node, register

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
#: The merge ``resolve run`` would make: the Italian caller is the UK's P1 (same phone), named as a cluster.
CLUSTER = "cl-0000000000000001"
#: What a statement is, for a round trip: everything but provenance (which file and row it came from).
KEPT = ("entity_id", "schema", "prop", "value", "originator", "handling_code", "handling_note", "tlp", "evaluation",
        "subject_category", "retention_review")  # fmt: skip
#: The mapping docs/exports.md gives for importing an export: lines keep their own markings.
EXPORT_MAPPING = Path(__file__).resolve().parent.parent / "fixtures" / "share" / "avellino-export.yml"


def resolved(store: Store) -> dict[str, str]:
    """Three partners' files, then the canonical map resolution writes: UK's P1 and IT's IT-P9 are one person."""
    for name, mapping in (("persons.csv", "persons.yml"), ("calls.json", "calls.yml"),
                          ("europol.ftm.jsonl", "europol.yml")):  # fmt: skip
        ingest_file(store, FIX / name, FIX / mapping)
    ids = {r["value"]: r["entity_id"] for r in store.read_statements(schemata=["Person"]).to_pylist()
           if r["prop"] == "name"}  # fmt: skip
    p1, p9 = ids["Muhammad Al-Hassan"], ids["Mohamed Alhasan"]
    store.set_canonical(pa.table({"entity_id": [p1, p9], "canonical_id": [CLUSTER, CLUSTER]}))
    return ids


def statements(store: Store) -> set[tuple[object, ...]]:
    return {tuple(r[k] for k in KEPT) for r in store.read_statements().to_pylist()}


def run_export(store: Store, fmt: str, path: Path | None = None) -> str:
    out = io.StringIO()
    export(store, out, fmt, model_beside=path)
    if path is not None:
        path.write_text(out.getvalue(), encoding="utf-8")
    return out.getvalue()


def test_ftm_round_trip_gives_back_the_same_statements_and_markings(store: Store, tmp_path: Path) -> None:
    resolved(store)
    text = run_export(store, "ftm")
    lines = [json.loads(line) for line in text.splitlines()]
    ids = {line["id"] for line in lines}
    refs = [v for line in lines for p, vs in line["properties"].items() if p in {"caller", "receiver", "vessel"}
            for v in vs]  # fmt: skip
    assert refs and all(r in ids for r in refs)  # record level: every reference is a line of the file
    assert {line.get("avellino:canonical") for line in lines} >= {CLUSTER}
    victim = next(line for line in lines if line["properties"].get("name") == ["Samira Tesfay"])
    assert victim["avellino:markings"]["subject_category"] == "victim"
    assert victim["avellino:markings"]["originator"] == "UK-NCA"

    path = tmp_path / "export.ftm.json"
    path.write_text(text, encoding="utf-8")
    mapping = EXPORT_MAPPING
    with open_store(tmp_path / "fresh", create=True) as fresh:
        ingest_file(fresh, path, mapping)
        assert statements(fresh) == statements(store)
        again = ingest_file(fresh, path, mapping)  # importing it twice adds nothing
        assert again.skipped or again.added == 0


def test_ftm_round_trip_keeps_each_statements_own_markings(tmp_path: Path) -> None:
    """One record, two marking sets (a victim's name under RED by one partner's rule, its phone under GREEN):
    two lines with one id, and both sets back after import."""
    src = tmp_path / "src.ftm.json"
    src.write_text(
        json.dumps({"id": "p1", "schema": "Person", "properties": {"name": ["Amina Yusuf"]},
                    "avellino:markings": {"originator": "UK-NCA", "handling_code": "H3",
                                          "handling_note": "not:RU; purpose:safeguarding", "tlp": "RED",
                                          "evaluation": "A1", "subject_category": "victim",
                                          "retention_review": "2027-06-30"}}) + "\n"
        + json.dumps({"id": "p1", "schema": "Person", "properties": {"phone": ["+447700900123"]},
                      "avellino:markings": {"originator": "UK-NCA", "handling_code": "H0", "tlp": "GREEN",
                                            "evaluation": "B2", "subject_category": "victim",
                                            "retention_review": "2027-06-30"}}) + "\n"
    )  # fmt: skip
    mapping = EXPORT_MAPPING
    with open_store(tmp_path / "a", create=True) as first:
        ingest_file(first, src, mapping)
        kept = statements(first)
        assert {(s[0], s[4], s[5], s[7]) for s in kept} == {("uk-nca--p1", "UK-NCA", "H3", "RED"),
                                                          ("uk-nca--p1", "UK-NCA", "H0", "GREEN")}  # fmt: skip
        out = tmp_path / "out.ftm.json"
        out.write_text(run_export(first, "ftm"))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and {line["id"] for line in lines} == {"uk-nca--p1"}
    with open_store(tmp_path / "b", create=True) as second:
        ingest_file(second, out, mapping)
        assert statements(second) == kept


def test_bad_markings_in_a_line_are_named(store: Store, tmp_path: Path) -> None:
    from avellino.errors import InputRejected

    src = tmp_path / "bad.ftm.json"
    good = {"id": "p1", "schema": "Person", "properties": {"name": ["A"]}}
    bad = {**good, "id": "p2", "avellino:markings": {"originator": "UK-NCA", "tlp": "PURPLE"}}
    src.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    mapping = EXPORT_MAPPING
    before = store.counts()
    with pytest.raises(InputRejected) as info:
        ingest_file(store, src, mapping)
    problem = info.value.problems[0]
    assert (problem.row, problem.column) == (2, "avellino:markings") and "PURPLE" in problem.reason
    assert store.counts() == before


def test_stock_ftm_reads_every_line_with_the_model_shipped_beside(store: Store, tmp_path: Path) -> None:
    resolved(store)
    path = tmp_path / "out.ftm.json"
    run_export(store, "ftm", path)
    ftm = [sys.executable, "-m", "followthemoney.cli.cli"] if not _ftm_exe() else [_ftm_exe()]
    plain = {k: v for k, v in os.environ.items() if k != "FTM_MODEL_PATH"}
    stock = subprocess.run([*ftm, "validate", "-i", str(path), "-o", os.devnull], env=plain, capture_output=True)
    assert stock.returncode != 0  # Crossing is Avellino's: stock FtM alone cannot read the file
    model = tmp_path / "out.ftm.json.ftm-model"
    assert (model / "avellino-smuggling.yaml").exists()
    shipped = subprocess.run([*ftm, "validate", "-i", str(path), "-o", str(tmp_path / "valid.json")],
                             env={**plain, "FTM_MODEL_PATH": str(model)}, capture_output=True, text=True)  # fmt: skip
    assert shipped.returncode == 0, shipped.stderr[-2000:]
    assert len((tmp_path / "valid.json").read_text().splitlines()) == len(path.read_text().splitlines())


def _ftm_exe() -> str | None:
    exe = Path(sys.executable).parent / "ftm"
    return str(exe) if exe.exists() else None


def test_stix_keeps_links_after_resolution_and_passes_the_official_validator(store: Store) -> None:
    from stix2validator import ValidationOptions, validate_string

    ids = resolved(store)
    text = run_export(store, "stix")
    result = validate_string(text, ValidationOptions(version="2.1"))
    errors = [e for obj in result.object_results for e in obj.errors] if hasattr(result, "object_results") else []
    assert result.is_valid, [str(e) for e in errors][:5]
    bundle = json.loads(text)
    objects = {o["id"]: o for o in bundle["objects"]}
    people = {o["extensions"][next(iter(o["extensions"]))]["ftm_id"]: o for o in objects.values()
              if o["type"] == "identity" and o.get("identity_class") == "individual"}  # fmt: skip
    assert CLUSTER in people and ids["Mohamed Alhasan"] not in people  # one identity for the merged person
    ahmad = people[ids["Ahmad Karimi"]]
    rels = [o for o in objects.values() if o["type"] == "relationship"]
    assert rels and all(r["source_ref"] in objects and r["target_ref"] in objects for r in rels)
    assert {(r["source_ref"], r["target_ref"]) for r in rels} >= {(people[CLUSTER]["id"], ahmad["id"])}
    # markings: official TLP 2.0 definitions, handling codes through a declared extension
    merged = people[CLUSTER]
    assert TLP2_STIX["AMBER+STRICT"] in merged["object_marking_refs"]  # the strictest of UK's AMBER and IT's
    handling = [objects[m] for m in merged["object_marking_refs"] if m not in TLP2_STIX.values()]
    assert {m["extensions"][HANDLING_EXTENSION]["handling_code"] for m in handling} == {"H2"}
    assert any(o["type"] == "extension-definition" and o["id"] == HANDLING_EXTENSION for o in objects.values())
    assert all(objects[t]["name"] == f"TLP:{k}" for k, t in TLP2_STIX.items() if t in objects)
    # every originator credited; each object created by the agency that reported it first
    agencies = {o["name"]: o["id"] for o in objects.values() if o.get("identity_class") == "organization"
                and o.get("sectors")}  # fmt: skip
    assert set(agencies) == {"UK-NCA", "IT-SCO", "EUROPOL-EMSC"}
    assert merged["created_by_ref"] in agencies.values()
    assert ahmad["created_by_ref"] == agencies["IT-SCO"]
    ext = merged["extensions"][next(iter(merged["extensions"]))]
    assert set(ext["originators"]) == {"UK-NCA", "IT-SCO"} and len(ext["records"]) == 2
    # real times (the import's), and a fresh bundle each time
    imported = max(b.imported_at for b in store.batches())
    assert merged["modified"].startswith(imported.date().isoformat())
    assert json.loads(run_export(store, "stix"))["id"] != bundle["id"]


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_files_keep_links_and_carry_markings(store: Store, fmt: str) -> None:
    ids = resolved(store)
    root = ET.fromstring(run_export(store, fmt))
    nodes, edges = _graph(root, fmt)
    assert CLUSTER in nodes and ids["Mohamed Alhasan"] not in nodes
    assert edges and all(s in nodes and t in nodes for s, t, _d in edges)
    calls = [n for n, d in nodes.items() if d["schema"] == "Call"]
    assert len(calls) == 2
    assert {(c, CLUSTER) for c in calls} <= {(s, t) for s, t, _d in edges}  # caller links through the cluster
    merged = nodes[CLUSTER]
    assert (merged["tlp"], merged["handling_code"], merged["protected"]) == ("AMBER+STRICT", "H2", "false")
    assert merged["originators"] == "IT-SCO;UK-NCA"
    victim = nodes[ids["Samira Tesfay"]]
    assert victim["protected"] == "true" and victim["safeguarding"] and victim["tlp"] == "AMBER"


def _tag(namespace: str, name: str) -> str:
    return "{" + namespace + "}" + name


def _graph(root: ET.Element, fmt: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    if fmt == "graphml":
        ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
        keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}

        def data(el: ET.Element) -> dict[str, str]:
            return {str(keys[d.get("key")]): d.text or "" for d in el.findall("g:data", ns)}

        nodes = {str(n.get("id")): data(n) for n in root.iter(_tag(ns["g"], "node"))}
        edges = [(str(e.get("source")), str(e.get("target")), data(e)) for e in root.iter(_tag(ns["g"], "edge"))]
        return nodes, edges
    ns = {"x": "http://gexf.net/1.3"}
    titles = {
        (block.get("class"), a.get("id")): a.get("title")
        for block in root.iter(_tag(ns["x"], "attributes"))
        for a in block.findall("x:attribute", ns)
    }

    def values(el: ET.Element, cls: str) -> dict[str, str]:
        return {str(titles[(cls, v.get("for"))]): str(v.get("value")) for v in el.iter(_tag(ns["x"], "attvalue"))}

    nodes = {str(n.get("id")): values(n, "node") for n in root.iter(_tag(ns["x"], "node"))}
    edges = [(str(e.get("source")), str(e.get("target")), values(e, "edge")) for e in root.iter(_tag(ns["x"], "edge"))]
    return nodes, edges


def test_schema_filter_leaves_no_dangling_reference(store: Store) -> None:
    resolved(store)
    out = io.StringIO()
    export(store, out, "ftm", ["Call"])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["schema"] for line in lines} == {"Call"}
    assert all("caller" not in line["properties"] for line in lines)  # the people are not in the file


def test_export_for_a_partner_goes_through_the_policy(tmp_path: Path) -> None:
    """UK-NCA exports for FR-OCRIEST: Italy's H2 facts and the victim are withheld (counted by reason), the
    graph file holds no protected person, and the internal copy still holds everything."""
    uk_ws, uk = make_node(tmp_path, "UK-NCA", "GB")
    _fr_ws, fr = make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr)
    with open_store(uk_ws) as store:
        ids = resolved(store)
    cli = [*avellino(), "export", "-w", str(uk_ws), "--purpose", "investigation JIT-CHANNEL"]
    graph = tmp_path / "for-fr.graphml"
    done = subprocess.run([*cli, "--format", "graphml", "--for", "FR-OCRIEST", "-o", str(graph)],
                          env=env(), capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "H2 not originator" in done.stderr and "protected category" in done.stderr
    nodes, edges = _graph(ET.parse(graph).getroot(), "graphml")
    assert ids["Samira Tesfay"] not in nodes and all(d["protected"] == "false" for d in nodes.values())
    assert all(d["originators"] in {"UK-NCA", "EUROPOL-EMSC"} for d in nodes.values())  # no IT-SCO H2 fact
    assert all(s in nodes and t in nodes for s, t, _d in edges)
    ftm = tmp_path / "for-fr.ftm.json"
    done = subprocess.run([*cli, "--for", "FR-OCRIEST", "-o", str(ftm)], env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in ftm.read_text().splitlines()]
    assert lines and {line["avellino:markings"]["originator"] for line in lines} <= {"UK-NCA", "EUROPOL-EMSC"}
    assert all(line["avellino:markings"]["subject_category"] != "victim" for line in lines)
    internal = tmp_path / "internal.ftm.json"
    done = subprocess.run([*cli, "-o", str(internal)], env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    originators = {json.loads(line)["avellino:markings"]["originator"] for line in internal.read_text().splitlines()}
    assert originators == {"UK-NCA", "IT-SCO", "EUROPOL-EMSC"}


def test_there_is_no_option_to_drop_markings(tmp_path: Path) -> None:
    done = subprocess.run([*avellino(), "export", "--no-markings", "--purpose", "x", "-w", str(tmp_path / "ws")],
                          env=env(), capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0 and "no-markings" in done.stderr
