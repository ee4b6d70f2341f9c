"""Read partner files into one Arrow table of text columns plus ``_row``, the row number a person would see.

Row numbers: for CSV and XLSX the header is row 1 and the first record row 2 (as in a spreadsheet); for JSON the
1-based index of the record in its list; for JSONL the line number. Every cell is kept as text: typing and
cleaning happen later, in one place, so that every bad value can be reported with its row and column.

XLSX goes through fastexcel (Arrow from Rust) where it provably gives python-calamine's output, and through
python-calamine's Python rows otherwise; JSON is flattened column by column. Tests compare both against the
plain implementations they replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from avellino.errors import AvellinoError, ConfigError, InputRejected, RowProblem, UnreadableFile
from avellino.ingest import csv_layout

log = logging.getLogger(__name__)

ROW = "_row"
MULTI = "\x1e"  # joins the items of a JSON list in one cell; mappings split on it

# fastexcel logs a warning for every wholly empty column ("falling back to string"), which is what we want anyway;
# without this filter Python's last-resort handler would print it on the analyst's terminal.
logging.getLogger("fastexcel.types.dtype").addFilter(
    lambda record: "Could not determine dtype" not in record.getMessage()
)


def read_table(path: Path, fmt: str, options: dict[str, Any]) -> pa.Table:
    """The file as text columns plus ``_row``; UnreadableFile (one line: file, row where there is one, reason)
    when it cannot be read, InputRejected for a bad header."""
    if not path.is_file():
        raise UnreadableFile(str(path), "file not found")
    if fmt not in {"csv", "xlsx", "json", "jsonl"}:
        raise ConfigError(f"{path}: format {fmt!r} cannot be read as a table")
    with unreadable_as(path, fmt):
        if fmt == "csv":
            return _read_csv(path, options)
        if fmt == "xlsx":
            return _read_xlsx(path, options)
        if fmt == "json":
            return _records_table(path, _json_records(path, options))
        return _records_table(path, _jsonl_records(path))


@contextmanager
def unreadable_as(path: Path, fmt: str) -> Iterator[None]:
    """Reading ``path`` as ``fmt``: an error of the file system, or one a parser library raised on a file nobody
    foresaw, becomes an UnreadableFile (still one line naming the file, no traceback); Avellino's own errors
    pass through."""
    try:
        yield
    except AvellinoError:
        raise
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    except Exception as exc:
        log.debug("reading %s failed", path, exc_info=True)
        raise UnreadableFile(str(path), f"{UNEXPECTED} {fmt} ({type(exc).__name__}: {_short(exc)})") from exc


#: Words of the reason given for a reader error no check above foresaw (the fuzz test asserts it never appears).
UNEXPECTED = "the file could not be read as"


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_csv(path: Path, options: dict[str, Any]) -> pa.Table:
    delimiter = str(options.get("delimiter", "\t" if path.suffix.lower() == ".tsv" else ","))
    encoding = str(options.get("encoding", "utf-8-sig"))
    try:
        # undecodable bytes are kept (as lone surrogates) so that those of later rows are reported with their row
        with path.open(encoding=encoding, errors="surrogateescape", newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), None)
    except csv.Error as exc:
        raise UnreadableFile(str(path), f"cannot be read as CSV ({exc})", 1) from exc
    if not header:
        raise UnreadableFile(str(path), "the file is empty (no header row)", 1)
    if csv_layout.undecoded(header):
        raise UnreadableFile(str(path), f"holds bytes that are not {encoding}; set source.encoding", 1)
    header = [h.strip() for h in header]
    _check_header(path, header)
    if csv_layout.quotes_unpaired(path, encoding):
        row = csv_layout.unclosed_quote_row(path, delimiter, encoding)
        if row is not None:
            raise UnreadableFile(str(path), "a quoted value is never closed (a quote is missing)", row)
    # pyarrow's reader is multi-threaded C++; every column is read as text so nothing is coerced silently.
    try:
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
    except (pa.ArrowException, UnicodeError) as exc:
        # Arrow names neither file nor row: Python's reader finds the row
        bad = csv_layout.first_bad_row(path, len(header), delimiter, encoding)
        raise bad or UnreadableFile(str(path), f"cannot be read as CSV ({_short(exc)})") from exc
    rows = pa.array(range(2, table.num_rows + 2), type=pa.int64())
    return table.append_column(ROW, rows)


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    problems = []
    for idx, name in enumerate(header, start=1):
        if not name:
            problems.append(RowProblem(str(path), 1, f"#{idx}", "header cell is empty"))
        elif name == ROW:
            problems.append(RowProblem(str(path), 1, name, f"{ROW} is reserved for row numbers; rename the column"))
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
    table = _read_xlsx_fast(path, options)
    return table if table is not None else _read_xlsx_calamine(path, options)


# How fastexcel names a column after a number cell (Rust's f64 display: "2024", "2.5", "-0.00015", "inf", "NaN"),
# where python-calamine gives "2024.0"; a text cell that reads the same is told apart by reading it alone.
_NUMBER_LIKE = re.compile(r"-?\d+(\.\d+)?|-?inf|NaN")
# Cell kinds whose Python values are python-calamine's too, so ``_cell`` renders them alike (durations are not).
_TYPED = {"float", "int", "boolean", "date", "datetime"}


def _read_xlsx_fast(path: Path, options: dict[str, Any]) -> pa.Table | None:
    """The sheet through fastexcel (calamine in Rust straight to Arrow: 2-3x less CPU than Python rows),
    with the very output of ``_read_xlsx_calamine``; None where that cannot be guaranteed, and the caller falls
    back to the calamine path. Fallbacks: a column mixing kinds of cell (text and numbers, say: fastexcel would
    render its numbers and dates its own way), an unusual cell kind (durations, times of day), or a header that is
    not plain text (blank cells are fine)."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet_name = options.get("sheet")
        if sheet_name is not None and sheet_name not in reader.sheet_names:
            raise UnreadableFile(str(path), f"no sheet {sheet_name!r} (sheets: {', '.join(reader.sheet_names)})")
        which = sheet_name if sheet_name else 0
        # skip_rows=0 makes the range start at sheet row 1 (the default skips leading empty rows), so the header
        # is sheet row 1 and data row k is sheet row k + 2, as in the calamine path. dtypes are guessed from every
        # row; "strict" refuses a column holding two kinds of cell instead of silently rendering it as text.
        sheet = reader.load_sheet(which, header_row=0, skip_rows=0, schema_sample_rows=None, dtype_coercion="strict")
        columns = sheet.selected_columns
        header = _fast_header(reader, which, columns)
    except fastexcel.FastExcelError:
        return None  # a mixed column, or a file calamine cannot read: the calamine path handles or words it
    if not header:
        return None  # empty sheet or blank header row: the calamine path words these cases
    _check_header(path, header)  # blank or repeated names, as in the calamine path
    first = columns[0].absolute_index  # the range starts at the first column holding a value
    batch = sheet.to_arrow()
    blank = pa.scalar(None, pa.string())
    out: dict[str, pa.Array] = {}
    for pos, name in enumerate(header):
        info = columns[pos - first]
        raw = batch.column(pos - first)
        if info.dtype == "string":
            arr = raw.cast(pa.string())
            out[name] = pc.if_else(pc.equal(arr, ""), blank, arr)
        elif info.dtype in _TYPED:
            values = raw.to_pylist()
            if info.dtype in {"date", "datetime"} and any(v is not None and v.year < 1900 for v in values):
                return None  # Excel times of day: python-calamine gives a time, fastexcel a 1899-12-31 datetime
            out[name] = pa.array([_cell(v) for v in values], type=pa.string())
        else:
            return None  # durations and anything newer: python-calamine's rendering is the reference
    table = pa.table({**out, ROW: pa.array(range(2, batch.num_rows + 2), type=pa.int64())})
    return _drop_empty_rows(table, header)


def _fast_header(reader: Any, which: str | int, columns: list[Any]) -> list[str] | None:
    """The header as ``_read_xlsx_calamine`` builds it (stripped, trailing blanks dropped, leading empty columns as
    blanks), or None where it holds a cell that is not text (python-calamine's ``str()`` of it is the reference).

    fastexcel's column names are the header texts except where it made one up: for a blank or non-text cell
    ("__UNNAMED__3"), a repeated name ("ref_1"), or a number cell ("2024", which python-calamine gives as
    "2024.0"). Those few header cells are read again, alone and untyped, to learn what they hold."""
    if not columns:
        return None
    names = [c.name for c in columns]
    unsure = [
        c.index
        for c in columns
        if c.column_name_from == "generated"
        or _NUMBER_LIKE.fullmatch(c.name)
        or (c.name.rpartition("_")[2].isdigit() and c.name.rpartition("_")[0] in names[: c.index])
    ]
    if unsure:
        cells = reader.load_sheet(
            which, header_row=None, skip_rows=0, n_rows=1, use_columns=unsure, schema_sample_rows=1
        ).to_arrow()
        for idx, cell in zip(unsure, cells.columns, strict=True):
            text = cell[0].as_py() if len(cell) else None
            if text is not None and not isinstance(text, str):
                return None
            names[idx] = text or ""
    header = [""] * columns[0].absolute_index + [n.strip() for n in names]
    while header and not header[-1]:
        header.pop()
    return header


def _drop_empty_rows(table: pa.Table, header: list[str]) -> pa.Table:
    """Rows with no value at all are skipped (they keep no number); the others keep their sheet row."""
    if not header:
        return table
    filled = pc.is_valid(table[header[0]])
    for h in header[1:]:
        filled = pc.or_(filled, pc.is_valid(table[h]))
    return table.filter(filled)


def _read_xlsx_calamine(path: Path, options: dict[str, Any]) -> pa.Table:
    # calamine (Rust) reads a sheet ~20x faster than openpyxl's read-only mode; rows keep their sheet numbers
    # because empty leading rows are not skipped.
    import python_calamine
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet_name = options.get("sheet")
        if sheet_name is not None and sheet_name not in wb.sheet_names:
            raise UnreadableFile(str(path), f"no sheet {sheet_name!r} (sheets: {', '.join(wb.sheet_names)})")
        if not wb.sheet_names:
            raise UnreadableFile(str(path), "the workbook has no sheet")
        sheet = wb.get_sheet_by_name(sheet_name) if sheet_name else wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except python_calamine.PasswordError as exc:
        raise UnreadableFile(str(path), "the workbook is password-protected; save it without a password") from exc
    except python_calamine.ZipError as exc:
        raise UnreadableFile(str(path), f"not an XLSX workbook, or a truncated one ({_short(exc)})") from exc
    except python_calamine.CalamineError as exc:
        raise UnreadableFile(str(path), f"a damaged XLSX workbook ({_short(exc)})") from exc
    if not rows:
        raise UnreadableFile(str(path), "the sheet is empty (no header row)", 1)
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
    return _drop_empty_rows(pa.table({**columns, ROW: numbers}), header)


def _json_records(path: Path, options: dict[str, Any]) -> Iterator[tuple[int, Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnreadableFile(str(path), f"holds bytes that are not UTF-8 at line {line} (JSON must be UTF-8)") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFile(str(path), f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise UnreadableFile(str(path), "the JSON is nested too deeply to be a partner export") from exc
    suspect = _SURROGATE_ESCAPE.search(text) is not None  # a "\ud800" escape may be half a character
    where = options.get("records")
    if where:
        for part in str(where).split("."):
            if not isinstance(data, dict) or part not in data:
                raise UnreadableFile(str(path), f"no {where!r} in the JSON (source.records)")
            data = data[part]
    if not isinstance(data, list):
        raise UnreadableFile(str(path), "expected a list of records (set source.records to its path)")
    for number, record in enumerate(data, start=1):
        if suspect and lone_surrogates(record):
            raise UnreadableFile(str(path), LONE_SURROGATE, number)
        yield number, record


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableFile(str(path), "holds bytes that are not UTF-8 (JSON must be UTF-8)", number) from exc
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UnreadableFile(str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", number) from exc
            except RecursionError as exc:
                raise UnreadableFile(str(path), "the JSON is nested too deeply", number) from exc
            if _SURROGATE_ESCAPE.search(line) and lone_surrogates(record):
                raise UnreadableFile(str(path), LONE_SURROGATE, number)
            yield number, record


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = "holds a \\ud800-\\udfff escape that is half a character, not text"


def lone_surrogates(value: Any) -> bool:
    """Whether parsed JSON holds a string with half a UTF-16 surrogate pair (from an escape such as "\\ud800"),
    which no UTF-8 text can hold. Only asked of lines with such an escape: a few microseconds each."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing and flattening a JSON export makes millions of small dicts, lists and strings, none of them in a
    reference cycle; the cyclic collector would walk them all again at every generation-2 pass (measured on a
    128k-record export: json.loads alone 0.31 -> 0.16 CPU-s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _records_table(path: Path, records: Iterator[tuple[int, Any]]) -> pa.Table:
    with _gc_paused():
        objects: list[dict[str, Any]] = []
        numbers: list[int] = []
        for number, record in records:
            if not isinstance(record, dict):
                raise UnreadableFile(str(path), "record is not a JSON object", number)
            objects.append(record)
            numbers.append(number)
        arrays = {name: pa.array(cells, type=pa.string()) for name, cells in _flat_columns(objects).items()}
    if ROW in arrays:
        raise InputRejected(str(path), [RowProblem(str(path), 0, ROW, f"{ROW} is reserved for row numbers")])
    arrays[ROW] = pa.array(numbers, type=pa.int64())
    return pa.table(arrays)


def _flat_columns(records: list[dict[str, Any]]) -> dict[str, list[str | None]]:
    """Nested objects flattened to dotted column names (``tratta.origine``), one list of cells per column, columns
    in first-seen order, a later duplicate name in one record winning, as a per-record ``dict.update`` would.

    Written by hand because it is the hot loop of JSON ingest (DuckDB's read_json + unnest took 1.8 CPU-s on a
    37k-record export, this 0.3): cells go straight into preallocated columns, text and null cells (nearly all)
    skip ``_cell``, and each nesting level caches key -> column so dotted names are built once per column, not
    once per cell. A literal key "a.b" and a nested a -> b still share one column, through ``columns``."""
    size = len(records)
    columns: dict[str, list[str | None]] = {}
    Level = tuple[dict[str, list[str | None]], dict[str, Any]]  # (leaf key -> cells, object key -> Level)

    def put(obj: dict[str, Any], prefix: str, level: Level, row: int) -> None:
        leaves, children = level
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                child = children.get(key)
                if child is None:
                    child = children[key] = ({}, {})
                put(value, f"{prefix}{key}.", child, row)
                continue
            cells = leaves.get(key)
            if cells is None:
                name = f"{prefix}{key}"
                cells = columns.get(name)
                if cells is None:
                    cells = columns[name] = [None] * size
                leaves[key] = cells
            cells[row] = value if kind is str or value is None else _cell(value)

    top: Level = ({}, {})
    for row, record in enumerate(records):
        put(record, "", top, row)
    return columns
