"""Read partner files into one Arrow table of text columns plus ``_row``, the row number a person would see.

Row numbers: for CSV and XLSX the header is row 1 and the first record row 2 (as in a spreadsheet); for JSON the
1-based index of the record in its list; for JSONL the line number. Every cell is kept as text: typing and
cleaning happen later, in one place, so that every bad value can be reported with its row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from avellino.errors import ConfigError, InputRejected, RowProblem

ROW = "_row"
MULTI = "\x1e"  # joins the items of a JSON list in one cell; mappings split on it


def read_table(path: Path, fmt: str, options: dict[str, Any]) -> pa.Table:
    if not path.exists():
        raise ConfigError(f"File not found: {path}")
    if fmt == "csv":
        return _read_csv(path, options)
    if fmt == "xlsx":
        return _read_xlsx(path, options)
    if fmt == "json":
        return _records_table(path, _json_records(path, options))
    if fmt == "jsonl":
        return _records_table(path, _jsonl_records(path))
    raise ConfigError(f"{path}: format {fmt!r} cannot be read as a table")


def _read_csv(path: Path, options: dict[str, Any]) -> pa.Table:
    delimiter = str(options.get("delimiter", "\t" if path.suffix.lower() == ".tsv" else ","))
    encoding = str(options.get("encoding", "utf-8-sig"))
    try:
        with path.open(encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), None)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not readable as {encoding} ({exc.reason}); set source.encoding") from exc
    if not header:
        raise InputRejected(str(path), [RowProblem(str(path), 1, "", "the file is empty (no header row)")])
    header = [h.strip() for h in header]
    _check_header(path, header)
    # pyarrow's reader is multi-threaded C++; every column is read as text so nothing is coerced silently.
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            encoding="utf8" if encoding.lower().replace("-", "") in {"utf8", "utf8sig"} else encoding,
            column_names=header,
            skip_rows=1,
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    rows = pa.array(range(2, table.num_rows + 2), type=pa.int64())
    return table.append_column(ROW, rows)


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    problems = []
    for idx, name in enumerate(header, start=1):
        if not name:
            problems.append(RowProblem(str(path), 1, f"#{idx}", "header cell is empty"))
        elif name in seen:
            problems.append(RowProblem(str(path), 1, name, "column name appears twice in the header"))
        seen.add(name)
    if problems:
        raise InputRejected(str(path), problems)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return MULTI.join(str(_cell(v)) for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_xlsx(path: Path, options: dict[str, Any]) -> pa.Table:
    # calamine (Rust) reads a sheet ~20x faster than openpyxl's read-only mode; rows keep their sheet numbers
    # because empty leading rows are not skipped.
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    sheet_name = options.get("sheet")
    if sheet_name is not None and sheet_name not in wb.sheet_names:
        raise ConfigError(f"{path}: no sheet {sheet_name!r} (sheets: {', '.join(wb.sheet_names)})")
    sheet = wb.get_sheet_by_name(sheet_name) if sheet_name else wb.get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=False)
    if not rows:
        raise InputRejected(str(path), [RowProblem(str(path), 1, "", "the sheet is empty (no header row)")])
    header = [str(h).strip() if h not in (None, "") else "" for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    _check_header(path, header)
    body = rows[1:]
    # Column by column: text cells (most of them) go to Arrow as they are; only other cells pass through _cell.
    columns: dict[str, pa.Array] = {}
    for i, name in enumerate(header):
        raw = [r[i] if i < len(r) else None for r in body]
        if not all(type(v) is str for v in raw):
            raw = [None if v == "" else _cell(v) for v in raw]
        arr = pa.array(raw, type=pa.string())
        columns[name] = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    numbers = pa.array(range(2, len(body) + 2), type=pa.int64())
    table = pa.table({**columns, ROW: numbers})
    if header:  # rows with no value at all are skipped (they keep no number); the others keep their sheet row
        filled = pc.is_valid(table[header[0]])
        for h in header[1:]:
            filled = pc.or_(filled, pc.is_valid(table[h]))
        table = table.filter(filled)
    return table


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = _cell(value)
    return out


def _json_records(path: Path, options: dict[str, Any]) -> Iterator[tuple[int, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputRejected(str(path), [RowProblem(str(path), exc.lineno, "", f"invalid JSON: {exc.msg}")]) from exc
    where = options.get("records")
    if where:
        for part in str(where).split("."):
            if not isinstance(data, dict) or part not in data:
                raise ConfigError(f"{path}: no {where!r} in the JSON (source.records)")
            data = data[part]
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of records (set source.records to its path)")
    yield from enumerate(data, start=1)


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputRejected(str(path), [RowProblem(str(path), number, "", f"invalid JSON: {exc.msg}")]) from exc


def _records_table(path: Path, records: Iterator[tuple[int, Any]]) -> pa.Table:
    flat: list[dict[str, str | None]] = []
    numbers: list[int] = []
    for number, record in records:
        if not isinstance(record, dict):
            raise InputRejected(str(path), [RowProblem(str(path), number, "", "record is not a JSON object")])
        flat.append(_flatten(record))
        numbers.append(number)
    names: dict[str, None] = {}
    for rec in flat:
        names.update(dict.fromkeys(rec))
    arrays = {n: pa.array([r.get(n) for r in flat], type=pa.string()) for n in names}
    arrays[ROW] = pa.array(numbers, type=pa.int64())
    return pa.table(arrays)
