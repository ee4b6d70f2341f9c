"""Readers turn every partner format into text columns plus the row number a person would see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

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
