"""File writers: CSV (pyarrow), XLSX (sheet XML straight into the zip), nested JSON and FollowTheMoney JSON lines.

Each writer takes chunks of text columns (header -> pyarrow array) and streams them to disk, so memory stays
bounded by one chunk whatever the scale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.csv as pacsv

Chunk = dict[str, pa.Array]
#: One encoder for all records: json.dumps(..., ensure_ascii=False) would build a new encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def write_csv(path: Path, chunks: Iterator[Chunk], delimiter: str = ",") -> int:
    """pyarrow's C++ CSV writer: quotes where needed, empty cells for missing values."""
    writer: pacsv.CSVWriter | None = None
    rows = 0
    try:
        for chunk in chunks:
            table = pa.table(chunk)
            if writer is None:
                opts = pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed")
                writer = pacsv.CSVWriter(str(path), table.schema, write_options=opts)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def write_xlsx(path: Path, chunks: Iterator[Chunk], sheet: str) -> int:
    """A minimal streaming XLSX writer: one sheet, text cells as inline strings, zip entries at a fixed time.

    Written here rather than with openpyxl because openpyxl's write-only mode runs at ~10-40k cells/s in this
    environment (no lxml), i.e. tens of minutes for the German files at 10M records; this writer streams each
    chunk's XML straight into the zip. openpyxl and the ingest read the result (tests). Fixed zip timestamps
    keep the file byte-identical across runs.
    """
    import zipfile

    rows = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in _XLSX_PARTS.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), text.replace("{sheet}", escape(sheet)))
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as fh:
            fh.write(_SHEET_HEAD)
            first = True
            for chunk in chunks:
                if first:
                    fh.write(_xml_rows([[str(h) for h in chunk]], 1))
                    first = False
                columns = [arr.to_pylist() for arr in chunk.values()]
                block = [list(r) for r in zip(*columns, strict=True)]
                fh.write(_xml_rows(block, rows + 2))
                rows += len(block)
            fh.write(b"</sheetData></worksheet>")
    return rows


FIXED_TIME = (2025, 1, 1, 0, 0, 0)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{_XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{_DOC}">'
        '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _xml_rows(block: list[list[Any]], first_row: int) -> bytes:
    """Rows as SpreadsheetML; empty cells are left out (cell references keep the columns in place)."""
    letters = [_col_letter(i) for i in range(max((len(r) for r in block), default=0))]
    out = []
    for n, row in enumerate(block, start=first_row):
        cells = "".join(
            f'<c r="{letters[i]}{n}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'
            for i, v in enumerate(row)
            if v is not None and v != ""
        )
        out.append(f'<row r="{n}">{cells}</row>')
    return "".join(out).encode("utf-8")


def _col_letter(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return name


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted headers to nested objects: {"a.b": 1} -> {"a": {"b": 1}}. A missing top-level value is left out;
    a missing field of a sub-object that has other fields is written as null, as a fixed-schema export writes it
    (otherwise a field that is empty in every record, e.g. the handling note of a small file without H3 rows,
    would be absent from the file and its mapping refused)."""
    out: dict[str, Any] = {}
    empty: list[tuple[list[str], str]] = []
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        if value is None or value == []:
            if parents:
                empty.append((parents, leaf))
            continue
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    for parents, leaf in empty:
        held: Any = out
        for part in parents:
            held = held.get(part) if isinstance(held, dict) else None
        if isinstance(held, dict):
            held.setdefault(leaf, None)
    return out


def write_json(path: Path, chunks: Iterator[Chunk], header: dict[str, Any], records_path: str) -> int:
    """A JSON document with the records under ``records_path`` (e.g. dati.elementi), written record by record."""
    rows = 0
    outer, inner = records_path.split(".")
    with path.open("w", encoding="utf-8") as fh:
        fh.write("{" + json.dumps("esportazione") + ": " + json.dumps(header, ensure_ascii=False) + ", ")
        fh.write(json.dumps(outer) + ": {" + json.dumps(inner) + ": [\n")
        for chunk in chunks:
            rows = _json_rows(fh, chunk, rows)
        fh.write("\n]}}\n")
    return rows


def _json_rows(fh: IO[str], chunk: Chunk, rows: int) -> int:
    names = list(chunk)
    columns = [arr.to_pylist() for arr in chunk.values()]
    parts = []
    for values in zip(*columns, strict=True):
        parts.append(_JSON.encode(_nest(dict(zip(names, values, strict=True)))))
    if parts:
        fh.write((",\n" if rows else "") + ",\n".join(parts))
    return rows + len(parts)


def write_ftm(path: Path, entities: Iterator[list[dict[str, Any]]]) -> int:
    """FollowTheMoney JSON lines: one {"id", "schema", "properties"} object per line."""
    rows = 0
    with path.open("w", encoding="utf-8") as fh:
        for batch in entities:
            if batch:
                fh.write("\n".join(_JSON.encode(e) for e in batch) + "\n")
                rows += len(batch)
    return rows
