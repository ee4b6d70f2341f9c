"""The SQL shortcut for values FtM would leave unchanged must never skip a value FtM changes."""

from __future__ import annotations

import duckdb
import pytest

from avellino.ingest.cleaning import UNCHANGED_SQL, clean_value

URLS = [
    "https://facebook.com/ciwan_travel83/2646744461",
    "https://instagram.com/cường_travel886/5150118143",
    "http://t.me/joinchat/AbC-123",
    "https://www.example.co.uk/a/b/",
    "https://example.com/",
    "HTTPS://example.com/x",
    "https://Example.COM/x",
    "https://example.com",
    "https://example.com/a b",
    "https://example.com/a?b=1",
    "https://example.com/a#frag",
    "https://example.com/a;p",
    "https://example.com/%41",
    "https://exa_mple.com/x",
    "https://-.com/x",
    "https://example.c/x",
    "https://example.123/x",
    "https://user@example.com/x",
    "https://example.com:8080/x",
    "ftp://example.com/x",
    "www.example.com/x",
    "example.com",
    "https://example.com/cu\u0301ong",  # decomposed: NFC changes it
    "https://example.com/x\u200b",  # invisible formatting character
    "https://example.com/x\u00a0y",  # space-like character
    "https://example.com/x\t",
    " https://example.com/x",
    "mailto:someone@example.com",
    "not a url",
]
IDENTIFIERS = ["AB123456", "GB 1234 XY", "P-998/2", " X1", "X1 ", "X\t1", "ÄB123", "X\u200b1", "a  b", "~!"]


def _unchanged(kind: str, values: list[str]) -> dict[str, bool]:
    con = duckdb.connect()
    rows = con.execute(f"SELECT value, {UNCHANGED_SQL[kind]} FROM unnest(?) t(value)", [values]).fetchall()
    return {v: bool(flag) for v, flag in rows}


@pytest.mark.parametrize(("kind", "values"), [("url", URLS), ("identifier", IDENTIFIERS)])
def test_shortcut_only_skips_values_ftm_leaves_as_they_are(kind: str, values: list[str]) -> None:
    flags = _unchanged(kind, values)
    for value, skipped in flags.items():
        if skipped:
            assert clean_value(kind, value, None) == value, value


def test_shortcut_covers_ordinary_values() -> None:
    urls = _unchanged("url", URLS)
    assert urls["https://facebook.com/ciwan_travel83/2646744461"]
    assert urls["https://instagram.com/cường_travel886/5150118143"]
    assert not urls["https://example.com/a?b=1"]
    assert not urls["HTTPS://example.com/x"]
    ids = _unchanged("identifier", IDENTIFIERS)
    assert ids["GB 1234 XY"] and not ids["X\t1"]


def test_trimmed_cells_equal_trim_and_nullif() -> None:
    """The frame's cheap trim (compile.trimmed) gives exactly what NULLIF(TRIM(x), '') gives."""
    import duckdb
    import pyarrow as pa

    from avellino.ingest.compile import col, trimmed

    cells = ["", " ", "  ", "a", " a", "a ", " a b ", "\u00a0Ali", "Ali\u00a0", "\u3000x", "\tx\t", "x\n", "~", "!x!",
             "é", "éa", "aé", "Mohammed Al-Hassan", " Muhammad ", "\u200bx", None]  # fmt: skip
    con = duckdb.connect()
    con.register("src", pa.table({"c": pa.array(cells, pa.string())}))
    got = con.execute(f"SELECT c, {col('c')} IS NOT DISTINCT FROM {trimmed('c')} FROM src").fetchall()
    assert [c for c, same in got if not same] == []


def test_marking_vocabularies_read_usual_values_before_trimming() -> None:
    """vocab_expr's shortcut for values written in canonical form gives what the full lookup gives."""
    import duckdb
    import pyarrow as pa

    from avellino.ingest.compile import col, vocab_expr
    from avellino.model.markings import VOCABULARIES

    for field, vocab in VOCABULARIES.items():
        cells = [*vocab, *vocab.values(), *(f" {v} " for v in vocab.values()), "", " ", "nonsense", None]
        con = duckdb.connect()
        con.register("src", pa.table({"c": pa.array(cells, pa.string())}))
        full, fast = vocab_expr(field, col("c")), vocab_expr(field, col("c"), '"c"')
        got = con.execute(f"SELECT c, {full}, {fast} FROM src").fetchall()
        assert [(c, a, b) for c, a, b in got if a != b and not (a is None and b is None)] == []
        assert sum(a is not None for _, a, _ in got) >= 2 * len(vocab)
