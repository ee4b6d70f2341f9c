"""File writers: CSV (pyarrow), XLSX (openpyxl write-only), nested JSON and FollowTheMoney JSON lines.

Each writer takes chunks of text columns (header -> pyarrow array) and streams them to disk, so memory stays
bounded by one chunk whatever the scale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv

Chunk = dict[str, pa.Array]


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
    """openpyxl in write-only mode streams rows to the zip instead of holding a workbook in memory."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    rows = 0
    header_done = False
    for chunk in chunks:
        if not header_done:
            ws.append(list(chunk))
            header_done = True
        columns = [arr.to_pylist() for arr in chunk.values()]
        for row in zip(*columns, strict=True):
            ws.append(row)
        rows += len(columns[0]) if columns else 0
    wb.save(path)
    _freeze_zip(path)
    return rows


FIXED_TIME = (2025, 1, 1, 0, 0, 0)


def _freeze_zip(path: Path) -> None:
    """Make an XLSX byte-identical across runs: openpyxl stamps the save time into the zip entries and into
    docProps/core.xml; both are replaced by a fixed instant."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            dst.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(path)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted headers to nested objects: {"a.b": 1} -> {"a": {"b": 1}}; missing values are left out."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or value == []:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
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
        parts.append(json.dumps(_nest(dict(zip(names, values, strict=True))), ensure_ascii=False))
    if parts:
        fh.write((",\n" if rows else "") + ",\n".join(parts))
    return rows + len(parts)


def write_ftm(path: Path, entities: Iterator[list[dict[str, Any]]]) -> int:
    """FollowTheMoney JSON lines: one {"id", "schema", "properties"} object per line."""
    rows = 0
    with path.open("w", encoding="utf-8") as fh:
        for batch in entities:
            if batch:
                fh.write("\n".join(json.dumps(e, ensure_ascii=False) for e in batch) + "\n")
                rows += len(batch)
    return rows
