"""Readers turn every partner format into text columns plus the row number a person would see."""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import Workbook

from avellino.errors import ConfigError, InputRejected, UnreadableFile
from avellino.ingest import readers
from avellino.ingest.readers import ROW, read_table


def test_xlsx_cells_become_text_and_blank_rows_keep_sheet_numbers(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["ref", "born", "seen", "count", "ratio", "name"])
    ws.append(["P1", dt.date(1987, 3, 14), dt.datetime(2024, 6, 11, 5, 30), 61, 2.5, "Mohamed  Ali"])
    ws.append([None, None, None, None, None, None])
    ws.append(["P2", None, None, 3.0, None, ""])
    wb.save(tmp_path / "people.xlsx")
    table = read_table(tmp_path / "people.xlsx", "xlsx", {})
    assert table.to_pylist() == [
        {"ref": "P1", "born": "1987-03-14", "seen": "2024-06-11T05:30:00", "count": "61", "ratio": "2.5",
         "name": "Mohamed  Ali", ROW: 2},
        {"ref": "P2", "born": None, "seen": None, "count": "3", "ratio": None, "name": None, ROW: 4},
    ]  # fmt: skip


# --- XLSX: the fastexcel path must give the calamine path's very output, or step aside -------------------------


def _outcome(read: Callable[[], pa.Table | None]) -> object:
    """A reader's table as plain rows (with the column types), or the problems it raised."""
    try:
        table = read()
    except (InputRejected, ConfigError) as exc:
        return (type(exc).__name__, str(exc), getattr(exc, "problems", None))
    assert table is not None
    return ([str(t) for t in table.schema.types], table.column_names, table.to_pylist())


def _save(tmp_path: Path, rows: list[list[object]], name: str = "book.xlsx") -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(tmp_path / name)
    return tmp_path / name


def _spell_out_empty_text(path: Path) -> None:
    """openpyxl writes "" as a cell with no value, which readers see as empty; other tools write an empty string
    (``<is><t></t></is>``), which fastexcel reads as "" (to be turned into None like every blank)."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b't="inlineStr" />' in parts[sheet]
    parts[sheet] = parts[sheet].replace(b't="inlineStr" />', b't="inlineStr"><is><t></t></is></c>')
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_xlsx_fast_path_matches_calamine_path_cell_for_cell(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows: list[list[object]] = [["ref", "born", "seen", "count", "ratio", "flag", "name", "code", "", ""]]
    for i in range(300):
        seen = dt.datetime(1990, 1, 1) + dt.timedelta(seconds=rng.randrange(10**9), microseconds=rng.randrange(10**6))
        rows.append(
            [
                f"P{i}",
                dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(25000)) if i % 7 else None,
                seen if i % 5 else dt.datetime(2024, 6, 11),  # midnight datetimes read as dates
                rng.choice([61, 3.0, 0, -12, 10**15, None]),
                rng.choice([2.5, 0.1, 1 / 3, 1e-3, None, 7.0]),
                rng.choice([True, False, None]),
                rng.choice(["Mohamed  Ali", " Ahmad ", "", "Ğül", None]),
                rng.choice(["#N/A", "H1", None]),  # an error cell reads as empty
            ][: rng.choice([8, 7, 5, 2])]
        )  # fmt: skip  (short rows: missing trailing cells)
        if i % 41 == 0:
            rows.append([])  # wholly empty rows are skipped; the rows after keep their sheet numbers
    rows.append([None] * 9 + ["beyond the header"])  # a cell past the header: ignored, and the row has no value
    rows.append(["", None, None, None, None, None, ""])  # only empty strings: no value either
    path = _save(tmp_path, rows)
    _spell_out_empty_text(path)
    fast = readers._read_xlsx_fast(path, {})
    assert fast is not None, "this workbook must go through fastexcel, or the test compares the old path to itself"
    slow = readers._read_xlsx_calamine(path, {})
    assert _outcome(lambda: fast) == _outcome(lambda: slow)
    assert fast.column_names == ["ref", "born", "seen", "count", "ratio", "flag", "name", "code", ROW]
    assert fast[ROW].to_pylist()[:3] == [2, 4, 5] and fast.num_rows == 300  # sheet row 3 is empty


def _mixed_column(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "phone"], ["P1", 447911123456], ["P2", "+44 7911 123456"]])


def _time_of_day(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "at"], ["P1", dt.time(5, 30)], ["P2", dt.time(0, 0)]])


def _duration(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "took"], ["P1", dt.timedelta(hours=30)]])


def _number_header(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", 2024], ["P1", "x"]])


def _date_header(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", dt.date(2024, 1, 1), True], ["P1", "x", "y"]])


def _repeated_header(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "name", "ref", "ref_1"], ["P1", "a", "b", "c"]])


def _blank_header(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", None, "name", " "], ["P1", "a", "b", "c"]])


def _empty_first_rows(tmp_path: Path) -> Path:
    return _save(tmp_path, [[], [], ["ref", "name"], ["P1", "a"]])


def _empty_sheet(tmp_path: Path) -> Path:
    return _save(tmp_path, [])


def _text_header_like_number(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "2024", "1.5"], ["P1", "x", "y"]])


def _unnamed_trailing_data(tmp_path: Path) -> Path:
    return _save(tmp_path, [["ref", "name"], ["P1", "a", "notes", 4], [None, None, "only notes"]])


def _empty_first_column(tmp_path: Path) -> Path:
    return _save(tmp_path, [[None, "ref", "name"], [None, "P1", "a"]])


@pytest.mark.parametrize(
    ("build", "fast_path"),
    [
        (_mixed_column, False),  # text and numbers in one column: fastexcel would render the numbers its own way
        (_time_of_day, False),  # python-calamine reads times of day as times, fastexcel as 1899 datetimes
        (_duration, False),
        (_number_header, False),  # python-calamine names it "2024.0", fastexcel "2024"
        (_date_header, False),
        (_repeated_header, True),  # fastexcel renames the repeat ("ref_1"); the real text is read again
        (_empty_first_rows, False),
        (_empty_sheet, False),
        (_blank_header, True),  # rejected by the fast path itself, in the same words
        (_text_header_like_number, True),
        (_unnamed_trailing_data, True),
        (_empty_first_column, True),
    ],
)
def test_xlsx_odd_workbooks_read_the_same_either_way(
    tmp_path: Path, build: Callable[[Path], Path], fast_path: bool
) -> None:
    path = build(tmp_path)
    expected = _outcome(lambda: readers._read_xlsx_calamine(path, {}))
    assert _outcome(lambda: read_table(path, "xlsx", {})) == expected
    fast = _outcome(lambda: readers._read_xlsx_fast(path, {})) if fast_path else None
    if fast_path:
        assert fast == expected
    else:
        assert readers._read_xlsx_fast(path, {}) is None


def test_xlsx_sheet_option_picks_the_sheet_or_names_the_ones_there(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["other"])
    ws = wb.create_sheet("Personen")
    ws.append(["ref", "name"])
    ws.append(["P1", "a"])
    wb.save(tmp_path / "two.xlsx")
    table = read_table(tmp_path / "two.xlsx", "xlsx", {"sheet": "Personen"})
    assert table.to_pylist() == [{"ref": "P1", "name": "a", ROW: 2}]
    with pytest.raises(UnreadableFile, match="no sheet .Leute.*Personen"):
        read_table(tmp_path / "two.xlsx", "xlsx", {"sheet": "Leute"})


def test_xlsx_fast_path_says_nothing_on_the_terminal_for_empty_columns(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = _save(tmp_path, [["ref", "note", "name"], ["P1", None, "a"]])
    assert readers._read_xlsx_fast(path, {}) is not None
    assert capfd.readouterr().err == ""


# --- JSON: the column-wise flattening must give what flattening record by record gave ----------------------------


def _reference_flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """The plain per-record flattening the readers used before (the specification of ``_flat_columns``)."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_reference_flatten(value, f"{name}."))
        else:
            out[name] = readers._cell(value)
    return out


def _reference_table(records: list[tuple[int, dict[str, Any]]]) -> pa.Table:
    flat = [_reference_flatten(r) for _, r in records]
    names: dict[str, None] = {}
    for rec in flat:
        names.update(dict.fromkeys(rec))
    arrays = {n: pa.array([r.get(n) for r in flat], type=pa.string()) for n in names}
    arrays[ROW] = pa.array([n for n, _ in records], type=pa.int64())
    return pa.table(arrays)


NESTED = [
    {"id": "SCO-1", "tratta": {"origine": "Milan", "destinazione": None}, "persone": 4, "quota": 1500.0,
     "telefoni": ["+39 347 1", None, "0033 7"], "attivo": True, "nato": "20/11/1989", "vuoto": {}},
    {"id": "SCO-2", "persone": "39", "quota": 2.5, "telefoni": [], "attivo": False,
     "tratta": {"origine": "Tirana", "rotta": {"nome": "Balkan", "tappe": [1, 2.0, {"x": "é"}, [3, None]]}}},
    {"id": "SCO-3", "tratta.origine": "literal dotted key", "tratta": {"origine": "nested wins: it comes later"},
     "nuovo": 10**20, "piccolo": 1.5e-07, "grande": 1e20, "nota": ""},
    {"tratta": None, "id": None, "passeur": {"id": "SCO-S-9", "alias": ["Abu Ali"]}},
]  # fmt: skip


def test_json_columns_match_record_by_record_flattening(tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    path.write_text(json.dumps({"meta": {"ente": "SCO"}, "dati": {"elementi": NESTED}}, ensure_ascii=False))
    table = read_table(path, "json", {"records": "dati.elementi"})
    expected = _reference_table(list(enumerate(NESTED, start=1)))
    assert table.column_names == expected.column_names
    assert table.to_pylist() == expected.to_pylist()
    assert table.column_names[:3] == ["id", "tratta.origine", "tratta.destinazione"]  # first-seen order
    assert table.column("telefoni").to_pylist()[0] == "+39 347 1\x1e0033 7"
    assert table.column("tratta.origine").to_pylist()[2] == "nested wins: it comes later"


def test_jsonl_rows_are_line_numbers_and_columns_match(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    lines = [json.dumps(NESTED[0]), "", json.dumps(NESTED[1]), "  ", json.dumps(NESTED[2]), json.dumps(NESTED[3])]
    path.write_text("\n".join(lines) + "\n")
    table = read_table(path, "jsonl", {})
    expected = _reference_table([(1, NESTED[0]), (3, NESTED[1]), (5, NESTED[2]), (6, NESTED[3])])
    assert table.column_names == expected.column_names
    assert table.to_pylist() == expected.to_pylist()


def test_json_bad_input_is_rejected_with_its_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1},\n {"id": 2},\n {"id": }]')
    with pytest.raises(UnreadableFile) as unreadable:
        read_table(bad, "json", {})
    # a JSON document has one record per list item, not per line: the line is in the reason, the row is unknown
    assert unreadable.value.row is None
    assert str(unreadable.value) == f"{bad}: invalid JSON at line 3, column 9: Expecting value; nothing was imported"

    scalar = tmp_path / "scalar.json"
    scalar.write_text('{"d": {"r": [{"id": 1}, "oops", {"id": 3}]}}')
    with pytest.raises(InputRejected) as rejected:
        read_table(scalar, "json", {"records": "d.r"})
    assert [(p.row, p.reason) for p in rejected.value.problems] == [(2, "record is not a JSON object")]
    with pytest.raises(UnreadableFile, match="no 'd.x'"):
        read_table(scalar, "json", {"records": "d.x"})

    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"id": 1}\n[1]\n{"id": \n')
    with pytest.raises(InputRejected) as rejected:
        read_table(lines, "jsonl", {})
    assert [(p.row, p.reason) for p in rejected.value.problems] == [(2, "record is not a JSON object")]
    assert gc.isenabled()


# --- broken files: one line naming file, row where there is one, and reason; never a library's traceback -------


@pytest.mark.parametrize(
    ("text", "row", "reason"),
    [
        ("ref,name\nP1,a\nP2,b,extra\nP3,c\nP4\n", 3, "has 3 value(s) where the header has 2 (and 1 more bad row(s))"),
        ('ref,name\nP1,a\n\nP2,"b\nP3,c\n', 3, "a quoted value is never closed (a quote is missing)"),
        ('ref,name\nP1,"a\nP2,b\n', 2, "a quoted value is never closed (a quote is missing)"),
        ("ref,name\nP1,a\nP2,\xff\xfe\n", 3, "holds bytes that are not utf-8-sig; set source.encoding"),
        ("", 1, "the file is empty (no header row)"),
    ],
)
def test_broken_csv_names_file_row_and_reason(tmp_path: Path, text: str, row: int, reason: str) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(UnreadableFile) as info:
        read_table(path, "csv", {})
    assert (info.value.row, info.value.reason) == (row, reason)
    assert str(info.value) == f"{path}: row {row}: {reason}; nothing was imported"
    assert "\n" not in str(info.value)


def test_quotes_inside_values_are_not_unclosed_quotes(tmp_path: Path) -> None:
    path = tmp_path / "inches.csv"
    path.write_text('ref,height,note\nP1,5" 9,"said ""hi"""\nP2,6",\n')
    table = read_table(path, "csv", {})
    assert table.to_pylist() == [
        {"ref": "P1", "height": '5" 9', "note": 'said "hi"', ROW: 2},
        {"ref": "P2", "height": '6"', "note": "", ROW: 3},
    ]


def test_broken_xlsx_and_json_name_the_file(tmp_path: Path) -> None:
    good = _save(tmp_path, [["ref"], ["P1"]])
    data = good.read_bytes()
    cases = {
        "truncated.xlsx": (data[: len(data) // 2], "xlsx", "not an XLSX workbook, or a truncated one"),
        "fake.xlsx": (b"ref,name\nP1,a\n", "xlsx", "not an XLSX workbook, or a truncated one"),
        "latin.json": (b'[{"ref": "\xe9"}]', "json", "holds bytes that are not UTF-8"),
        "latin.jsonl": (b'{"ref": "a"}\n{"ref": "\xe9"}\n', "jsonl", "holds bytes that are not UTF-8"),
        "deep.json": (b"[" * 100_000, "json", "nested too deeply"),
        "row.jsonl": (b'{"_row": "a"}\n', "jsonl", "_row is reserved"),
    }
    for name, (content, fmt, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputRejected) as info:
            read_table(path, fmt, {})
        assert str(info.value).startswith(str(path)) or str(path) in str(info.value)
        assert reason in str(info.value), name
        assert readers.UNEXPECTED not in str(info.value)


def test_half_a_surrogate_pair_is_named_not_a_crash(tmp_path: Path) -> None:
    # found by the fuzz test: "\ud800" parses as JSON but is no text; Arrow then raised UnicodeEncodeError
    (tmp_path / "a.jsonl").write_text('{"a": "x"}\n{"a": "\\ud800"}\n')
    (tmp_path / "a.json").write_text('[{"a": "x"}, {"a": "\\uD800 \\ud83d\\ude00"}]')
    for name, fmt in (("a.jsonl", "jsonl"), ("a.json", "json")):
        with pytest.raises(UnreadableFile) as info:
            read_table(tmp_path / name, fmt, {})
        assert info.value.row == 2 and "half a character" in info.value.reason
    (tmp_path / "pair.jsonl").write_text('{"a": "\\ud83d\\ude00"}\n')  # a whole pair is a character
    assert read_table(tmp_path / "pair.jsonl", "jsonl", {}).column("a").to_pylist() == ["\U0001f600"]
