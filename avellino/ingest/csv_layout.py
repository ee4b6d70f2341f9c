"""Where and why a CSV file's layout is broken: the row of an unclosed quote, a ragged row, undecodable bytes.

Arrow's reader (readers.py) is fast but says neither file nor row when it refuses a file, and it reads an
unclosed quote in the last column as a value running to the end of the file. The functions here re-read the file
with Python, only when Arrow refused it or when its quote characters do not pair up, and name the first bad row.
Rows are numbered as ``readers.py`` numbers them: the header is row 1, blank lines are not counted.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from pathlib import Path

from avellino.errors import UnreadableFile

# Undecodable bytes kept as lone surrogates (errors="surrogateescape"), so the scan can say on which row they are.
_ESCAPED = re.compile("[\udc80-\udcff]")

# Python's csv module refuses values over 128 KiB; Arrow reads them, so every reader here does too. The limit is
# the process's: raising it only lets other readers accept what they would have refused.
csv.field_size_limit(sys.maxsize)


def _text(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as fh:
        return fh.read()


def quotes_unpaired(path: Path, encoding: str) -> bool:
    """True when the file holds an odd number of quote characters: then a quote may be unclosed (a quote inside
    an unquoted value, ``5" tall``, also makes the count odd; :func:`unclosed_quote_row` tells them apart).
    Counts bytes for encodings that write the quote as one byte (reading 1 MiB at a time), else decoded text."""
    try:
        one_byte = '"'.encode(encoding) == b'"'
    except (LookupError, UnicodeError):
        one_byte = False
    if not one_byte:
        return _text(path, encoding).count('"') % 2 == 1
    count = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            count += chunk.count(b'"')
    return count % 2 == 1


def unclosed_quote_row(path: Path, delimiter: str, encoding: str) -> int | None:
    """The row whose quoted value is still open at the end of the file, or None. Follows the quoting rules of
    Arrow's and Python's readers: a quote opens a quoted value only at the start of a value, ``""`` inside one is
    a quote, and after the closing quote the value goes on unquoted up to the next delimiter."""
    text = _text(path, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    special = re.compile('["\r\n' + re.escape(delimiter) + "]")
    row = 1  # the header
    record_start = field_start = 0
    in_quotes = False
    opened = 0
    skip = -1  # position of the second quote of a doubled quote
    for match in special.finditer(text):
        pos = match.start()
        char = text[pos]
        if pos == skip:
            continue
        if in_quotes:
            if char == '"':
                if text.startswith('"', pos + 1):
                    skip = pos + 1
                else:
                    in_quotes = False
            continue
        if char == '"':
            if pos == field_start:
                in_quotes, opened = True, row
        elif char == delimiter:
            field_start = pos + 1
        else:  # end of line: a record ends unless the line was empty
            if pos > record_start:
                row += 1
            record_start = field_start = pos + 1
    return opened if in_quotes else None


def first_bad_row(path: Path, header_size: int, delimiter: str, encoding: str) -> UnreadableFile | None:
    """The first row Python's reader finds wrong (undecodable bytes, a field count unlike the header's), with the
    number of other such rows; None when it finds none."""
    number = 0
    try:
        with path.open(encoding=encoding, errors="surrogateescape", newline="") as fh:
            rows = csv.reader(fh, delimiter=delimiter)
            first: UnreadableFile | None = None
            more = 0
            for record in rows:
                if not record:
                    continue  # a blank line: Arrow skips it too
                number += 1
                if number == 1:
                    continue  # the header, checked before
                reason = None
                if undecoded(record):
                    reason = f"holds bytes that are not {encoding}; set source.encoding"
                elif len(record) != header_size:
                    reason = f"has {len(record)} value(s) where the header has {header_size}"
                if reason is None:
                    continue
                if first is None:
                    first = UnreadableFile(str(path), reason, number)
                else:
                    more += 1
    except csv.Error as exc:
        return UnreadableFile(str(path), f"cannot be read as CSV ({exc})", number + 1)
    if first is not None and more:
        first = UnreadableFile(first.file, f"{first.reason} (and {more:,} more bad row(s))", first.row)
    return first


def undecoded(values: list[str]) -> bool:
    """Whether values read with errors="surrogateescape" hold bytes the encoding could not decode."""
    return any(_ESCAPED.search(value) for value in values)


def known_encoding(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True
