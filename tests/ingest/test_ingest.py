"""Ingest against a real DuckDB workspace: mapping, markings, row-precise rejection, idempotence, exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from avellino.errors import ConfigError, InputRejected, UnreadableFile
from avellino.ingest.ids import entity_id
from avellino.ingest.run import ingest_file
from avellino.store.base import Store

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def test_clean_file_maps_values_and_markings(store: Store) -> None:
    result = ingest_file(store, FIX / "persons.csv", FIX / "persons.yml")
    assert result.rows == 4 and not result.skipped
    people = {e.id: e for e in store.entities(schemata=["Person"])}
    p1 = people[entity_id("UK-NCA", "Person", ["P1"])]
    assert p1.get("birthDate") == ["1987-03-14"]
    assert p1.get("phone") == ["+447911123456"]
    assert p1.get("nationality") == ["sy"]
    assert sorted(p1.get("alias")) == ["Abu Omar", "Mohamed Hassan"]
    rows = store.read_statements(entity_ids=[p1.id]).to_pylist()
    assert {r["handling_code"] for r in rows} == {"H2"}
    assert {r["originator"] for r in rows} == {"UK-NCA"}
    assert all(r["source_record"] == "persons.csv:2" for r in rows)
    victim = people[entity_id("UK-NCA", "Person", ["P3"])]
    cats = {r["subject_category"] for r in store.read_statements(entity_ids=[victim.id]).to_pylist()}
    assert cats == {"victim"}
    assert victim.id in store.protected_entity_ids()


def test_bad_rows_listed_and_nothing_written(store: Store) -> None:
    ingest_file(store, FIX / "calls.json", FIX / "calls.yml")
    before = store.counts()
    with pytest.raises(InputRejected) as info:
        ingest_file(store, FIX / "persons_bad.csv", FIX / "persons.yml")
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(2, "dob"), (4, "handling"), (5, "originator")}
    assert all(p.file.endswith("persons_bad.csv") for p in info.value.problems)
    assert "31/02/1987" in str(info.value) and "H7" in str(info.value)
    assert store.counts() == before


def test_reimport_is_idempotent(store: Store, tmp_path: Path) -> None:
    first = ingest_file(store, FIX / "persons.csv", FIX / "persons.yml")
    counts = store.counts()
    again = ingest_file(store, FIX / "persons.csv", FIX / "persons.yml")
    assert again.skipped and again.batch_id == first.batch_id
    assert store.counts() == counts
    # the same rows under another file name add no statements either
    copy = tmp_path / "renamed.csv"
    shutil.copy(FIX / "persons.csv", copy)
    ingest_file(store, copy, FIX / "persons.yml")
    assert store.counts()["statements"] == counts["statements"]


def test_nested_json_and_entity_references(store: Store) -> None:
    ingest_file(store, FIX / "calls.json", FIX / "calls.yml")
    calls = list(store.entities(schemata=["Call"]))
    assert len(calls) == 2
    caller = entity_id("IT-SCO", "Person", ["IT-P9"])
    first = next(c for c in calls if c.get("duration") == ["73"])
    assert first.get("caller") == [caller]
    assert first.get("date") == ["2024-05-02T21:14:00"]


def test_times_with_a_zone_are_kept_in_utc(store: Store, tmp_path: Path) -> None:
    """Platform and telecom exports write ``Z`` or an offset; FtM dates carry no zone, so the time is kept in UTC
    (and a zone on a malformed time is still a row error)."""
    text = (FIX / "calls.json").read_text()
    zoned = tmp_path / "calls_zoned.json"
    zoned.write_text(text.replace("2024-05-02T21:14:00", "2024-05-02T23:14:00+02:00").replace(
        "2024-05-03T08:01:00", "2024-05-03T08:01:00Z"))  # fmt: skip
    ingest_file(store, zoned, FIX / "calls.yml")
    dates = sorted(d for c in store.entities(schemata=["Call"]) for d in c.get("date"))
    assert dates == ["2024-05-02T21:14:00", "2024-05-03T08:01:00"]
    bad = tmp_path / "calls_bad_zone.json"
    bad.write_text(text.replace("2024-05-02T21:14:00", "2024-05-02T25:14:00Z"))
    with pytest.raises(InputRejected) as info:
        ingest_file(store, bad, FIX / "calls.yml")
    assert "2024-05-02T25:14:00Z" in str(info.value)


def test_ftm_jsonl_ids_are_scoped_to_originator(store: Store) -> None:
    ingest_file(store, FIX / "europol.ftm.jsonl", FIX / "europol.yml")
    crossing = next(iter(store.entities(schemata=["Crossing"])))
    assert crossing.id == "europol-emsc--ep-x-1"
    assert crossing.get("vessel") == ["europol-emsc--ep-boat-1"]
    assert crossing.get("peopleOnBoard") == ["61"]


def test_mapping_problems_are_all_reported(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "markings: {handling_code: H9, tlp: AMBER, evaluation: B2, subject_category: suspect}\n"
        "entities:\n  p:\n    schema: Persn\n    keys: [ref]\n  q:\n    schema: Person\n    keys: [ref]\n"
        "    properties:\n      shoeSize: {column: x}\n"
    )
    with pytest.raises(ConfigError) as info:
        ingest_file(store, FIX / "persons.csv", bad)
    text = str(info.value)
    assert "H9" in text and "Persn" in text and "shoeSize" in text and "originator" in text


def test_missing_column_is_reported(tmp_path: Path, store: Store) -> None:
    mapping = tmp_path / "m.yml"
    mapping.write_text((FIX / "persons.yml").read_text().replace("{column: mobile}", "{column: telephone}"))
    with pytest.raises(InputRejected) as info:
        ingest_file(store, FIX / "persons.csv", mapping)
    assert info.value.problems[0].column == "telephone"


def test_parallel_ingest_rejects_only_the_bad_file(tmp_path: Path) -> None:
    from avellino.ingest.run import ingest_files
    from avellino.store import open_store

    jobs = [
        (FIX / "persons.csv", FIX / "persons.yml"),
        (FIX / "persons_bad.csv", FIX / "persons.yml"),
        (FIX / "calls.json", FIX / "calls.yml"),
    ]
    with open_store(tmp_path / "ws", create=True) as store:
        outcomes = dict(ingest_files(store, jobs, workers=2))
        bad = outcomes[FIX / "persons_bad.csv"]
        assert isinstance(bad, InputRejected)
        assert {(p.row, p.column) for p in bad.problems} == {(2, "dob"), (4, "handling"), (5, "originator")}
        assert not isinstance(outcomes[FIX / "persons.csv"], InputRejected)
        assert len(store.batches()) == 2
        again = dict(ingest_files(store, jobs[:1], workers=2))
        assert again[FIX / "persons.csv"].skipped  # type: ignore[union-attr]


def test_parallel_ingest_of_an_empty_file_writes_the_others(tmp_path: Path) -> None:
    from avellino.ingest.run import ingest_files
    from avellino.store import open_store

    empty = tmp_path / "empty.csv"
    empty.write_text((FIX / "persons.csv").read_text().splitlines()[0] + "\n")  # header only
    jobs = [(empty, FIX / "persons.yml"), (FIX / "persons.csv", FIX / "persons.yml")]
    with open_store(tmp_path / "ws", create=True) as store:
        outcomes = dict(ingest_files(store, jobs, workers=2))
        assert outcomes[empty].statements == 0  # type: ignore[union-attr]
        assert outcomes[FIX / "persons.csv"].statements > 0  # type: ignore[union-attr]
        assert len(list(store.entities(schemata=["Person"]))) == 4


def test_blank_constant_markings_keep_each_rows_handling_code(store: Store, tmp_path: Path) -> None:
    # one entity sets a blank handling note, the other none: both mean "no note", and each row keeps its code
    (tmp_path / "m.yml").write_text(
        "originator: UK-NCA\nmarkings: {handling_code: {column: handling}, tlp: AMBER, evaluation: B2, "
        "subject_category: suspect}\nentities:\n"
        "  person: {schema: Person, keys: [ref], markings: {handling_note: ''}, properties: {name: {column: name}}}\n"
        "  boat: {schema: Vessel, keys: [ref], properties: {name: {column: name}}}\n"
    )
    (tmp_path / "rows.csv").write_text("ref,name,handling\nR1,Ann,H1\nR2,Bob,H2\n")
    ingest_file(store, tmp_path / "rows.csv", tmp_path / "m.yml")
    rows = store.read_statements(columns=["schema", "prop", "value", "handling_code", "handling_note"]).to_pylist()
    by_value = {(r["schema"], r["value"]): r["handling_code"] for r in rows if r["prop"] == "name"}
    assert by_value == {("Person", "Ann"): "H1", ("Person", "Bob"): "H2", ("Vessel", "Ann"): "H1",
                        ("Vessel", "Bob"): "H2"}  # fmt: skip
    assert {r["handling_note"] for r in rows} == {None}
    assert len(rows) == 8  # no statement twice


def test_missing_files_are_clear_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="nope.csv: file not found"):
        ingest_file(store, tmp_path / "nope.csv", FIX / "persons.yml")
    with pytest.raises(ConfigError, match="Cannot read mapping"):
        ingest_file(store, FIX / "persons.csv", tmp_path / "nope.yml")


def _ftm_raw(reader: object, path: Path) -> list[tuple[object, ...]]:
    import duckdb

    con = duckdb.connect()
    reader(con, path)  # type: ignore[operator]
    lines = con.execute("SELECT * FROM ftm_lines ORDER BY ALL").fetchall()
    return lines + con.execute("SELECT * FROM ftm_values WHERE raw <> '' ORDER BY ALL").fetchall()


@pytest.mark.parametrize(
    ("phone", "arrow"),
    [("+44 7700 900123", True), (447700900123, False)],  # a number (not FtM's text) is read by DuckDB's reader
)
def test_ftm_fast_reader_matches_the_exact_one(tmp_path: Path, phone: object, arrow: bool) -> None:
    from avellino.ingest import ftm

    path = tmp_path / "multi.jsonl"
    lines = (FIX / "europol.ftm.jsonl").read_text().splitlines()
    lines.append(json.dumps({"id": "europol-emsc-p1", "schema": "Person",
                             "properties": {"name": [" Muhammad  Ali ", "", "Mohamed\tAli\n"], "phone": [phone],
                                            "birthDate": ["1990-01-02"]}}))  # fmt: skip
    lines.append(json.dumps({"id": "europol-emsc-p2", "schema": "Person"}))  # no properties at all
    lines.append(json.dumps({"id": "p3", "schema": "Person", "properties": {"name": ["Sara"]},
                             "avellino:markings": {"originator": "UK-NCA", "tlp": "RED", "subject_category":
                                                   "victim", "retention_review": "2027-01-31"}}))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    assert _ftm_raw(ftm._read_with_duckdb, path) == _ftm_raw(ftm._read_with_python, path)
    # which fast reader took it: Arrow's unless a value is not text (dates stay text either way)
    assert (ftm._lines_with_arrow(duckdb.connect(), path) is not None) is arrow


def test_ftm_file_with_bad_lines_names_each_one(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = (FIX / "europol.ftm.jsonl").read_text().splitlines()
    bad = [good[0], '{"id": "x2", "schema": "Spaceship", "properties": {}}', "{not json",
           '{"id": "x4", "schema": "Person", "properties": {"wingspan": ["3m"]}}']  # fmt: skip
    path.write_text("\n".join(bad) + "\n")
    before = store.counts()
    with pytest.raises(InputRejected) as err:
        ingest_file(store, path, FIX / "europol.yml")
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(2, "schema"), (3, ""), (4, "wingspan")}
    assert store.counts() == before


def test_parallel_ingest_stores_what_a_serial_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files prepared side by side by several threads give the same statements as a one-by-one import."""
    import threading

    from avellino.ingest import run
    from avellino.store import open_store

    threads: set[str] = set()
    prepare_file = run.prepare_file

    def counted(*args: object) -> object:
        threads.add(threading.current_thread().name)
        return prepare_file(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "prepare_file", counted)
    jobs = [(FIX / "persons.csv", FIX / "persons.yml"), (FIX / "calls.json", FIX / "calls.yml")]
    for i in range(4):  # copies (other bytes, so not skipped as re-imports) keep both workers busy
        copy = tmp_path / f"persons_{i}.csv"
        lines = (FIX / "persons.csv").read_text().splitlines(keepends=True)
        copy.write_text(lines[0] + "".join(f"C{i}{line}" for line in lines[1:]))  # other refs: other people
        jobs.append((copy, FIX / "persons.yml"))
    columns = ["entity_id", "prop", "value", "original_value", "source_record", "handling_code", "subject_category"]
    found = []
    for workers in (1, 2):
        with open_store(tmp_path / f"ws{workers}", create=True) as store:
            outcomes = dict(run.ingest_files(store, jobs, workers=workers))
            assert not any(isinstance(o, InputRejected) for o in outcomes.values())
            assert len(outcomes) == len(jobs)
            found.append(sorted(map(str, store.read_statements(columns=columns).to_pylist())))
    assert found[0] == found[1] and len(found[0]) > 40
    workers_used = {name for name in threads if name.startswith("avellino-prepare")}
    assert len(workers_used) == 2, f"files were not prepared by two worker threads: {threads}"


def test_parallel_ingest_stopped_early_prepares_no_more_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that stops reading after the first file (an error, Ctrl-C) leaves the files not yet started
    unprepared, and what was written complete."""
    from avellino.ingest import run
    from avellino.store import open_store

    started: list[Path] = []
    prepare_file = run.prepare_file

    def counted(path: Path, *args: object) -> object:
        started.append(path)
        return prepare_file(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "prepare_file", counted)
    jobs = []
    for i in range(8):
        copy = tmp_path / f"persons_{i}.csv"
        lines = (FIX / "persons.csv").read_text().splitlines(keepends=True)
        copy.write_text(lines[0] + "".join(f"C{i}{line}" for line in lines[1:]))
        jobs.append((copy, FIX / "persons.yml"))
    with open_store(tmp_path / "ws", create=True) as store:
        outcomes = run.ingest_files(store, jobs, workers=2)
        first_path, first = next(outcomes)
        outcomes.close()
        assert not isinstance(first, InputRejected)
        assert len(started) <= 4, f"{len(started)} of 8 files were prepared after the caller stopped"
        assert [b.source for b in store.batches()] == [str(first_path)]


@pytest.mark.parametrize(
    "extra",
    [
        # the same entity on two lines (FtM fragments), with a name it already has
        {"id": "europol-emsc--p1", "schema": "Person", "properties": {"name": ["Ali Hassan"], "country": ["sy"]}},
        # one value twice in a list
        {"id": "europol-emsc--p3", "schema": "Person", "properties": {"name": ["Omar Said", "Omar Said"]}},
    ],
)
def test_ftm_statements_are_kept_once(tmp_path: Path, extra: dict[str, object]) -> None:
    from avellino.ingest import run

    path = tmp_path / "frag.jsonl"
    first = {"id": "europol-emsc--p1", "schema": "Person", "properties": {"name": ["Ali Hassan"]}}
    path.write_text("\n".join(json.dumps(line) for line in (first, extra)) + "\n")
    table = run.prepare_file(path, FIX / "europol.yml").statements.to_pylist()
    keys = [(r["entity_id"], r["prop"], r["value"]) for r in table]
    assert len(keys) == len(set(keys)) and ("europol-emsc--p1", "id", None) in keys


def test_files_prepared_in_one_process_do_not_affect_each_other() -> None:
    """Files share the process's preparing database, each through a connection of its own: a file prepared
    before, or one rejected half-way, changes nothing in the next one's statements."""
    from avellino.ingest import run

    def prepared(name: str, mapping: str) -> tuple[list[str], list[str]]:
        p = run.prepare_file(FIX / name, FIX / mapping)
        return sorted(map(repr, p.statements.to_pylist())), sorted(map(repr, p.markings.to_pylist()))

    first = prepared("persons.csv", "persons.yml")
    with pytest.raises(InputRejected):
        run.prepare_file(FIX / "persons_bad.csv", FIX / "persons.yml")
    other = prepared("calls.json", "calls.yml")
    prepared("europol.ftm.jsonl", "europol.yml")
    assert prepared("persons.csv", "persons.yml") == first
    assert prepared("calls.json", "calls.yml") == other
    assert run._engine(None) is run._engine(None)


def _ftm_mapping(tmp_path: Path) -> Path:
    mapping = tmp_path / "ftm.yml"
    mapping.write_text(
        "originator: UK-NCA\nsource: {format: ftm}\n"
        "markings: {handling_code: H2, tlp: AMBER, evaluation: B2, subject_category: suspect}\n"
    )
    return mapping


def test_ftm_files_the_readers_failed_on_are_named(store: Store, tmp_path: Path) -> None:
    # each found by the fuzz test: Arrow's JSON reader passed Latin-1 bytes to DuckDB, which refused them
    # mid-import; keys and escapes that are not text; a first line `null` crashed the process in pyarrow's JSON
    # reader (segmentation fault); DuckDB's reader raised UnicodeDecodeError on a line of escaped surrogate pairs
    mapping = _ftm_mapping(tmp_path)
    files = {
        "latin": b'{"id": "e0", "schema": "Company", "properties": {}}\n{"id": "caf\xe9", "schema": "Company"}\n',
        "key": b'{"caf\xe9 id": "e0", "schema": "Company", "properties": {}}\n',
        "half": b'{"id": "e0\\ud800", "schema": "Company", "properties": {"name": ["a"]}}\n',
        "null": b"null\n",
        "pairs": b'[{"\\u00c0\\ud88e\\ude9c": false, "\\ud9c4\\udd69": [true]}]\n',
    }
    cases = (("latin", 2, "not UTF-8"), ("key", 1, "not UTF-8"), ("half", 1, "half a character"))
    cases += (("null", 1, ""), ("pairs", 1, ""))
    before = store.counts()
    for name, row, reason in cases:
        path = tmp_path / f"{name}.ftm.jsonl"
        path.write_bytes(files[name])
        with pytest.raises(InputRejected) as info:
            ingest_file(store, path, mapping)
        assert [p.row for p in info.value.problems] == [row] and reason in info.value.problems[0].reason, name
    assert store.counts() == before
