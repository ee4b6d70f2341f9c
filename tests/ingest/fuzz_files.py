"""Hypothesis strategies for partner files and their mappings, valid and corrupted, for the ingest fuzz test.

A case is (file name, file bytes, mapping YAML text, what was done to it). Files are written as bytes, XLSX by
hand as a minimal Office Open XML package (openpyxl takes ~10 ms a workbook; this ~0.2 ms).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from avellino.sample.writers import _col_letter  # the column letters the sample's XLSX writer uses

FORMATS = ("csv", "xlsx", "json", "jsonl", "ftm")
COLUMNS = ["ref", "name", "dob", "phone", "handling", "category", "nat"]


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    mapping: str
    fmt: str
    corruption: str


# --- cell values: mostly plausible, sometimes hostile -----------------------------------------------------------

_plain = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_values = {
    "ref": st.from_regex(r"P[0-9]{1,3}", fullmatch=True) | _plain,
    "name": st.sampled_from(["Mohamed Ali", "Samira Tesfay", "محمد علي", "  Arben  Hoxha ", ""]) | _plain,
    "dob": st.sampled_from(["1987-03-14", "2001-11-22", "31/02/1987", "", "yesterday"]) | _plain,
    "phone": st.sampled_from(["+447911123456", "07911 654321", "", "call me"]) | _plain,
    "handling": st.sampled_from(["H0", "H1", "H2", "H7", "", "h2"]),
    "category": st.sampled_from(["suspect", "victim", "contact", "", "boss"]),
    "nat": st.sampled_from(["Syria", "sy", "Eritrea", "", "Atlantis"]) | _plain,
}


@st.composite
def _rows(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=len(COLUMNS), unique=True))
    if "ref" not in columns and draw(st.integers(0, 9)):
        columns = ["ref", *columns]
    rows = draw(st.lists(st.tuples(*(_values[c] for c in columns)).map(list), max_size=6))
    return columns, rows


# --- writers ---------------------------------------------------------------------------------------------------


def _csv(columns: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    def cell(value: str) -> str:
        if any(ch in value for ch in f'"{delimiter}\r\n') or value != value.strip():
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(cell(v) for v in row) for row in [columns, *rows]]
    return ("\n".join(lines) + "\n").encode()


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Persons" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _xml_text(value: str) -> str:
    # XML 1.0 cannot hold most control characters: a real export would not have them either
    return escape("".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32))


def _xlsx(columns: list[str], rows: list[list[str]], numbers: bool = False) -> bytes:
    body = []
    for r, row in enumerate([columns, *rows], start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_col_letter(c)}{r}"
            if numbers and r > 1 and value.replace(".", "", 1).isdigit():
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value:
                text = _xml_text(value)
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        f'2006/main"><sheetData>{"".join(body)}</sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in {**_XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            zf.writestr(name, text)
    return out.getvalue()


def _records(columns: list[str], rows: list[list[str]], typed: bool) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for row in rows:
        record: dict[str, object] = {}
        for column, value in zip(columns, row, strict=True):
            if typed and value.isascii() and value.isdigit():
                record[column] = int(value)
            elif typed and value == "":
                record[column] = None
            else:
                record[column] = value
        out.append(record)
    return out


_SCHEMATA = {"Person": ["name", "birthDate", "phone", "nationality"], "Vessel": ["name", "flag"], "Company": ["name"]}


@st.composite
def _ftm_lines(draw: st.DrawFn) -> list[dict[str, object]]:
    lines = []
    for i in range(draw(st.integers(0, 5))):
        schema = draw(st.sampled_from(sorted(_SCHEMATA)))
        props = draw(st.dictionaries(st.sampled_from(_SCHEMATA[schema]), st.lists(_values["name"], max_size=2)))
        lines.append({"id": f"e{i}-{draw(_values['ref'])}", "schema": schema, "properties": props})
    return lines


# --- mappings --------------------------------------------------------------------------------------------------

_PROPERTIES = {"name": "name", "dob": "birthDate", "phone": "phone", "nat": "nationality"}


def _mapping(columns: list[str], fmt: str, originator_column: bool, extra: str = "") -> str:
    # FtM files take constant markings; other files sometimes read them from a column
    by_row = fmt != "ftm"
    originator = "{column: nat}" if originator_column and by_row and "nat" in columns else "UK-NCA"
    head = f"originator: {originator}\ncountry: GB\n"
    source = f"source: {{format: {fmt}}}\n"
    handling = "{column: handling}" if by_row and "handling" in columns else "H2"
    category = "{column: category}" if by_row and "category" in columns else "suspect"
    marks = f"markings: {{handling_code: {handling}, tlp: AMBER, evaluation: B2, subject_category: {category}}}\n"
    if fmt == "ftm":
        return head + source + marks + extra
    date = ', format: "%Y-%m-%d"'
    props = "".join(
        f"      {prop}: {{column: {col}{date if prop == 'birthDate' else ''}}}\n"
        for col, prop in _PROPERTIES.items()
        if col in columns
    )
    keys = "ref" if "ref" in columns else columns[0]
    entity = f"entities:\n  person:\n    schema: Person\n    keys: [{keys}]\n    properties:\n{props or '      {}'}\n"
    if not props:
        entity = f"entities:\n  person:\n    schema: Person\n    keys: [{keys}]\n"
    return head + source + marks + entity + extra


_MAPPING_BREAKS = {
    "typo-section": ("properties:", "propertes:"),
    "typo-marking": ("tlp:", "tpl:"),
    "bad-vocabulary": ("tlp: AMBER", "tlp: AMBR"),
    "typo-top": ("markings:", "marking:"),
    "unknown-schema": ("schema: Person", "schema: Persn"),
    "unknown-property": ("{column: name}", "{column: name, splt: ';'}"),
    "no-originator": ("originator: UK-NCA\n", ""),
    "list-markings": ("markings: {", "markings: [{"),
    "bad-yaml": ("entities:", "entities: ["),
    "bad-date-format": ('"%Y-%m-%d"', '"%Y-%"'),
}


# --- corruptions -----------------------------------------------------------------------------------------------


@st.composite
def _corrupt(draw: st.DrawFn, data: bytes, fmt: str) -> tuple[bytes, str]:
    kinds = ["none", "none", "none", "truncate", "flip", "empty", "bom", "latin1", "garbage", "huge-field"]
    if fmt == "csv":
        kinds += ["ragged", "unclosed-quote", "stray-quote"]
    if fmt == "xlsx":
        kinds += ["zip-garbage", "drop-part", "bad-xml", "csv-as-xlsx"]
    if fmt in {"json", "jsonl", "ftm"}:
        kinds += ["bad-json", "wrong-types"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return data, kind
    if kind == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))], kind
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            if out:
                at = draw(st.integers(0, len(out) - 1))
                out[at] = draw(st.integers(0, 255))
        return bytes(out), kind
    if kind == "empty":
        return b"", kind
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, kind
    if kind == "latin1":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"caf\xe9 \xff\xfe" + data[at:], kind
    if kind == "garbage":
        return draw(st.binary(max_size=200)), kind
    if kind == "huge-field":
        at = data.rfind(b"\n", 0, max(0, len(data) - 1)) + 1 if fmt != "xlsx" else len(data)
        return data[:at] + b"x" * draw(st.sampled_from([140_000, 300_000])) + data[at:], kind
    if kind == "ragged":
        return data.rstrip(b"\n") + b"\n" + b",".join([b"a"] * draw(st.integers(1, 12))) + b"\n", kind
    if kind == "unclosed-quote":
        return data.rstrip(b"\n") + b'\n"P1,' + draw(st.sampled_from([b"", b"x\ny", b'a""b'])) + b"\n", kind
    if kind == "stray-quote":
        return data.replace(b",", b',5" ', 1), kind
    if kind == "zip-garbage":
        return b"PK\x03\x04" + draw(st.binary(min_size=1, max_size=300)), kind
    if kind in {"drop-part", "bad-xml"}:
        parts = {}
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                parts[name] = zf.read(name)
        victim = draw(st.sampled_from(sorted(parts)))
        if kind == "drop-part":
            del parts[victim]
        else:
            parts[victim] = parts[victim][: draw(st.integers(0, len(parts[victim])))] + b"<<&"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for name, body in parts.items():
                zf.writestr(name, body)
        return out.getvalue(), kind
    if kind == "csv-as-xlsx":
        return b"ref,name\nP1,a\n", kind
    if kind == "bad-json":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"{", b"]", b'"', b"\n{\n", b"nul", b"\n[1]\n"])) + data[at:], kind
    # wrong-types: JSON that parses but is not what the format needs
    value = draw(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=8,
        )
    )
    if fmt == "json":
        return json.dumps(value).encode(), kind
    return data + json.dumps(value).encode() + b"\n", kind


@st.composite
def cases(draw: st.DrawFn, fmt: str) -> Case:
    columns, rows = draw(_rows())
    if fmt == "csv":
        delimiter = draw(st.sampled_from([",", ",", ";"]))
        data = _csv(columns, rows, delimiter)
        extra = f"  delimiter: '{delimiter}'\n" if delimiter != "," else ""
    elif fmt == "xlsx":
        data, extra = _xlsx(columns, rows, numbers=draw(st.booleans())), ""
    elif fmt == "json":
        records = _records(columns, rows, typed=draw(st.booleans()))
        nested = draw(st.booleans())
        data = json.dumps({"data": {"items": records}} if nested else records, ensure_ascii=draw(st.booleans()))
        data, extra = data.encode(), ("  records: data.items\n" if nested else "")
    elif fmt == "jsonl":
        records = _records(columns, rows, typed=draw(st.booleans()))
        data, extra = b"".join(json.dumps(r).encode() + b"\n" for r in records), ""
    else:
        data, extra = b"".join(json.dumps(r).encode() + b"\n" for r in draw(_ftm_lines())), ""
    data, corruption = draw(_corrupt(data, fmt))
    # (Hypothesis draws the bounds of a range often: 7 of 0-9 is a one-in-ten-or-so choice, 0 would be more)
    mapping = _mapping(columns, fmt, originator_column=draw(st.integers(0, 9)) == 7)
    if extra:
        mapping = mapping.replace(f"source: {{format: {fmt}}}\n", f"source:\n  format: {fmt}\n{extra}")
    if draw(st.integers(0, 9)) == 7:
        name, (old, new) = draw(st.sampled_from(sorted(_MAPPING_BREAKS.items())))
        if old in mapping:
            mapping = mapping.replace(old, new, 1)
            corruption += f"+mapping-{name}"
    suffix = {"ftm": ".ftm.jsonl"}.get(fmt, f".{fmt}")
    return Case(f"f{suffix}", data, mapping, fmt, corruption)
