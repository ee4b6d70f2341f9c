"""Round trips of the resolved exports (issue 17): three partners' files, `resolve run` (with an analyst's
judgement, so a call's caller is a record merged into a cluster), export as STIX 2.1, GraphML or GEXF, import the
file into a fresh workspace with `avellino ingest`, and get back exactly the statements the file carries (entity
id, schema, property, value and every marking), with every link between them; bad files are refused whole."""

from __future__ import annotations

import io
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from avellino.errors import InputRejected, UnreadableFile
from avellino.ingest.exchange import STATEMENTS_ATTRIBUTE
from avellino.ingest.run import ingest_file
from avellino.resolve import clusters as cl
from avellino.resolve import store_io
from avellino.share.export import export
from avellino.share.stix import STATEMENTS_EXTENSION
from avellino.store import open_store
from avellino.store.base import Store
from tests.share.nodes import avellino, env

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
#: A statement, for a round trip: everything but provenance (which file and row it came from).
KEPT = ("entity_id", "schema", "prop", "value", "originator", "handling_code", "handling_note", "tlp", "evaluation",
        "subject_category", "retention_review")  # fmt: skip
SUFFIX = {"stix": ".stix.json", "graphml": ".graphml", "gexf": ".gexf"}
FORMATS = list(SUFFIX)

Statement = tuple[object, ...]


def resolved(store: Store) -> dict[str, str]:
    """The fixtures of three partners, resolved by `resolve run` after an analyst judged the UK's P1 and Italy's
    caller IT-P9 to be one person: record ids by name."""
    for name, mapping in (("persons.csv", "persons.yml"), ("calls.json", "calls.yml"),
                          ("europol.ftm.jsonl", "europol.yml")):  # fmt: skip
        ingest_file(store, FIX / name, FIX / mapping)
    ids = {r["value"]: r["entity_id"] for r in store.read_statements(schemata=["Person"]).to_pylist()
           if r["prop"] == "name"}  # fmt: skip
    p1, p9 = ids["Muhammad Al-Hassan"], ids["Mohamed Alhasan"]
    store_io.add_judgements(store, [cl.judgement_row(p1, p9, "positive", "test", "same phone")])
    store_io.run(store)
    canon = {r["entity_id"]: r["canonical_id"] for r in store.read_statements().to_pylist()}
    assert canon[p1] == canon[p9] != p9  # resolution merged them under a cluster id
    return ids


def rows(store: Store) -> list[dict[str, object]]:
    return store.read_statements().to_pylist()


def kept(rows_: list[dict[str, object]]) -> set[Statement]:
    return {tuple(r[k] for k in KEPT) for r in rows_}


def write_export(store: Store, fmt: str, folder: Path) -> Path:
    out = io.StringIO()
    export(store, out, fmt)
    path = folder / f"ops{SUFFIX[fmt]}"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def carried_lines(path: Path, fmt: str) -> list[dict[str, object]]:
    """The statement lines the file carries, read here independently of the importer."""
    if fmt == "stix":
        bundle = json.loads(path.read_text(encoding="utf-8"))
        return [line for o in bundle["objects"] for line in
                o.get("extensions", {}).get(STATEMENTS_EXTENSION, {}).get("statements", [])]  # fmt: skip
    root = ET.parse(path).getroot()
    if fmt == "graphml":
        key_ids = {k.get("id") for k in root.iter() if k.tag.endswith("}key") and k.get("attr.name") == "statements"}
        texts = [d.text or "[]" for d in root.iter() if d.tag.endswith("}data") and d.get("key") in key_ids]
    else:
        attr = {(b.get("class"), a.get("id")) for b in root.iter() if b.tag.endswith("}attributes")
                for a in b if a.get("title") == STATEMENTS_ATTRIBUTE}  # fmt: skip
        texts = []
        for el in root.iter():
            kind = el.tag.rpartition("}")[2]
            if kind in {"node", "edge"}:
                texts += [v.get("value") or "[]" for v in el.iter() if v.tag.endswith("}attvalue")
                          and (kind, v.get("for")) in attr]  # fmt: skip
    return [line for text in texts for line in json.loads(text)]


def links_in(path: Path, fmt: str) -> list[tuple[str, str]]:
    """The file's relationships or edges, as (source, target)."""
    if fmt == "stix":
        objs = json.loads(path.read_text(encoding="utf-8"))["objects"]
        ids = {o["id"] for o in objs}
        rels = [(o["source_ref"], o["target_ref"]) for o in objs if o["type"] == "relationship"]
        assert all(s in ids and t in ids for s, t in rels)
        return rels
    root = ET.parse(path).getroot()
    nodes = {str(n.get("id")) for n in root.iter() if n.tag.endswith("}node")}
    edges = [(str(e.get("source")), str(e.get("target"))) for e in root.iter() if e.tag.endswith("}edge")]
    assert all(s in nodes and t in nodes for s, t in edges)
    return edges


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_imports_back_with_the_same_statements_and_markings(store: Store, tmp_path: Path, fmt: str) -> None:
    ids = resolved(store)
    original = rows(store)
    path = write_export(store, fmt, tmp_path)
    lines = carried_lines(path, fmt)
    records = {str(line["id"]) for line in lines}
    # what the file holds: every statement of the records it carries, references only to carried records
    expected = kept([r for r in original if r["entity_id"] in records
                     and (r["prop_type"] != "entity" or r["value"] in records)])  # fmt: skip
    assert all(line["markings"]["originator"] for line in lines)  # type: ignore[index]
    with open_store(tmp_path / "fresh", create=True) as fresh:
        result = ingest_file(fresh, path, None)
        back = rows(fresh)
        assert kept(back) == expected
        assert result.added == len(expected)
        again = ingest_file(fresh, path, None)  # importing it twice adds nothing
        assert again.skipped or again.added == 0
    # the file is not a trivial subset: three originators, victims with their markings, the calls and their links
    # (STIX has no object for Europol's crossing and vessel: the crossing names one person only, no relationship)
    assert {s[4] for s in expected} == ({"UK-NCA", "IT-SCO"} if fmt == "stix" else {"UK-NCA", "IT-SCO", "EUROPOL-EMSC"})
    assert any(s[9] == "victim" for s in expected)
    refs = {(s[0], s[2], s[3]) for s in expected if s[2] in {"caller", "receiver"}}
    assert (ids["Muhammad Al-Hassan"] in {r[2] for r in refs}) or (ids["Mohamed Alhasan"] in {r[2] for r in refs})
    assert refs and {(r["entity_id"], r["prop"], r["value"]) for r in back if r["prop_type"] == "entity"} >= refs
    # links survive resolution in the file: relationships or edges, every end in the file
    assert links_in(path, fmt)
    if fmt != "stix":  # graph files hold every entity (none is protected-out in an internal copy)
        assert expected == kept(original)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_command_line_imports_an_export_without_a_mapping(tmp_path: Path, fmt: str) -> None:
    with open_store(tmp_path / "ops", create=True) as store:
        resolved(store)
        path = write_export(store, fmt, tmp_path)
        original = kept(rows(store))
    with open_store(tmp_path / "copy", create=True):
        pass
    done = subprocess.run([*avellino(), "ingest", str(path), "-w", str(tmp_path / "copy")], env=env(),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stderr
    with open_store(tmp_path / "copy") as copy:
        first = kept(rows(copy))
    assert first <= original and first
    if fmt == "stix":  # a bundle named plain .json is recognised by its start
        plain = tmp_path / "ops-bundle.json"
        plain.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        with open_store(tmp_path / "copy2", create=True):
            pass
        done = subprocess.run([*avellino(), "ingest", str(plain), "-w", str(tmp_path / "copy2")], env=env(),
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        with open_store(tmp_path / "copy2") as copy:
            assert kept(rows(copy)) == first


def _drop_a_marking(path: Path, fmt: str) -> str:
    """Remove the TLP of the first carried line; returns the name of the object or node that carried it."""
    text = path.read_text(encoding="utf-8")
    if fmt == "stix":
        bundle = json.loads(text)
        obj = next(o for o in bundle["objects"] if STATEMENTS_EXTENSION in o.get("extensions", {}))
        del obj["extensions"][STATEMENTS_EXTENSION]["statements"][0]["markings"]["tlp"]
        path.write_text(json.dumps(bundle), encoding="utf-8")
        return str(obj["id"])
    pattern = re.compile(r'(&quot;|")tlp(&quot;|")\s*:\s*(&quot;|")[A-Z+]+(&quot;|")\s*,?')
    match = pattern.search(text)
    assert match is not None
    path.write_text(text[: match.start()] + text[match.end() :], encoding="utf-8")
    node = re.findall(r'<node id="([^"]+)"', text[: match.start()])
    return node[-1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_statement_without_its_markings_is_named_and_nothing_is_imported(tmp_path: Path, fmt: str) -> None:
    with open_store(tmp_path / "ops", create=True) as store:
        resolved(store)
        path = write_export(store, fmt, tmp_path)
    where = _drop_a_marking(path, fmt)
    with open_store(tmp_path / "fresh", create=True) as fresh:
        with pytest.raises(InputRejected) as info:
            ingest_file(fresh, path, None)
        assert fresh.counts()["statements"] == 0
    problem = info.value.problems[0]
    assert where in problem.column and problem.column.endswith("markings.tlp"), problem
    assert "missing" in problem.reason and problem.file == str(path)


@pytest.mark.parametrize(("where", "value", "field", "said"), [
    ("markings", {"tlp": "PURPLE"}, ".markings", "PURPLE"),
    ("properties", {"shoeSize": ["44"]}, ".properties.shoeSize", "no property 'shoeSize'"),
])  # fmt: skip
def test_bad_markings_and_properties_inside_carried_lines_are_named_by_object(
    store: Store, tmp_path: Path, where: str, value: dict[str, object], field: str, said: str
) -> None:
    """Problems the FtM reader finds (a marking out of its vocabulary, an unknown property) name the STIX object
    and field, not a line of a temporary file."""
    resolved(store)
    path = write_export(store, "stix", tmp_path)
    bundle = json.loads(path.read_text(encoding="utf-8"))
    carriers = [o for o in bundle["objects"] if STATEMENTS_EXTENSION in o.get("extensions", {})]
    carriers[1]["extensions"][STATEMENTS_EXTENSION]["statements"][0][where].update(value)
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with open_store(tmp_path / "fresh", create=True) as fresh:
        with pytest.raises(InputRejected) as info:
            ingest_file(fresh, path, None)
        assert fresh.counts()["statements"] == 0
    named = [(p.column, p.reason) for p in info.value.problems]
    assert len(named) == 1
    column, reason = named[0]
    assert carriers[1]["id"] in column and column.endswith(f"statements[0]{field}") and said in reason, named


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_that_cannot_be_read_are_refused(tmp_path: Path, fmt: str) -> None:
    with open_store(tmp_path / "ops", create=True) as store:
        resolved(store)
        path = write_export(store, fmt, tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut short
    with open_store(tmp_path / "fresh", create=True) as fresh:
        with pytest.raises(UnreadableFile) as info:
            ingest_file(fresh, path, None)
        assert fresh.counts()["statements"] == 0
    assert str(path) in str(info.value)


def test_a_stix_bundle_not_written_by_avellino_is_refused_clearly(tmp_path: Path) -> None:
    with open_store(tmp_path / "ws", create=True):
        pass
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--6b9c1e0a-4f0b-4c3e-9d1a-2b3c4d5e6f70", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": "identity--0f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "A. Person",
         "identity_class": "individual"}]}), encoding="utf-8")  # fmt: skip
    done = subprocess.run([*avellino(), "ingest", str(path), "-w", str(tmp_path / "ws")], env=env(),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0
    assert "holds no statements" in done.stderr and "feed.json" in done.stderr
    plain = tmp_path / "records.json"
    plain.write_text(json.dumps([{"name": "A"}]), encoding="utf-8")
    done = subprocess.run([*avellino(), "ingest", str(plain), "-w", str(tmp_path / "ws")], env=env(),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0 and "--mapping" in done.stderr


@pytest.mark.parametrize("fmt", ["graphml", "stix"])
def test_an_export_for_a_partner_imports_back_as_the_policy_let_it_go(tmp_path: Path, fmt: str) -> None:
    """UK-NCA exports for FR-OCRIEST: what the file carries comes back exactly, with no protected person (graph
    files sent out never hold one) and none of Italy's H2 facts, and no reference to anyone left out."""
    from tests.share.nodes import make_node, register

    uk_ws, uk = make_node(tmp_path, "UK-NCA", "GB")
    _fr_ws, fr = make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr)
    with open_store(uk_ws) as store:
        resolved(store)
    path = tmp_path / f"for-fr{SUFFIX[fmt]}"
    done = subprocess.run([*avellino(), "export", "-w", str(uk_ws), "--purpose", "investigation JIT-CHANNEL",
                           "--format", fmt, "--for", "FR-OCRIEST", "-o", str(path)], env=env(), capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with open_store(uk_ws, read_only=True) as store:
        original = rows(store)
    lines = carried_lines(path, fmt)
    records = {str(line["id"]) for line in lines}
    expected = {s for s in kept([r for r in original if r["entity_id"] in records
                                 and (r["prop_type"] != "entity" or r["value"] in records)])
                if s[4] != "IT-SCO" or s[5] != "H2"}  # fmt: skip
    with open_store(tmp_path / "fr-copy", create=True) as fresh:
        ingest_file(fresh, path, None)
        back = rows(fresh)
    assert kept(back) == expected and expected
    assert not any(r["subject_category"] in {"victim", "witness", "informant"} for r in back)
    assert all(r["value"] in records for r in back if r["prop_type"] == "entity")  # (Italy's calls stay home)
