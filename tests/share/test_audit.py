"""The audit log: appends on both backends, and every edit, deletion or reordering makes verify fail.

Tampering is done the way an insider would, with SQL on the stored tables (inside a transaction that is rolled
back after each case, so each case starts from the intact log), and exhaustively on the chain checker itself.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from avellino.cli import app
from avellino.share import audit
from avellino.share.audit import AUDIT_FILE, AuditBroken, AuditError, Touched, check_chain
from avellino.share.audit_sql import GENESIS
from avellino.store.base import Store
from avellino.store.duckdb_store import DuckDBStore
from tests.conftest import PG_URL, _pg_store, pg_schema_url

ENTRIES = 12


def fill(store: Store, n: int = ENTRIES) -> list[audit.AuditEntry]:
    out = []
    for i in range(n):
        touched: audit.TouchedLike = [f"uk-nca--p{i}", f"fr-ocriest--p{i}"] if i % 3 else {"entities": i, "withheld": 2}
        out.append(audit.record(store, user=f"analyst{i % 3}", purpose="investigation OP-7", action="export ftm",
                                touched=touched))  # fmt: skip
    return out


def test_entries_chain_and_verify(store: Store) -> None:
    assert audit.verify(store) == 0 and audit.head(store) == (0, GENESIS)
    written = fill(store)
    assert audit.verify(store) == ENTRIES
    assert [e.seq for e in audit.entries(store)] == list(range(1, ENTRIES + 1))
    assert audit.entries(store)[-1] == written[-1]
    assert audit.head(store) == (ENTRIES, written[-1].hash)
    first = audit.entries(store)[0].fields
    assert first["prev"] == GENESIS and first["user"] == "analyst0" and first["touched"]["counts"]["withheld"] == 2
    assert audit.entries(store)[1].fields["touched"] == {"count": 2, "ids": ["uk-nca--p1", "fr-ocriest--p1"]}


def test_many_ids_are_counted_and_digested() -> None:
    touched = Touched().update(f"id{i}" for i in range(5000))
    shown = touched.as_json()
    assert shown["count"] == 5000 and "ids" not in shown and len(str(shown["ids_sha256"])) == 64
    assert Touched().update(f"id{i}" for i in range(5000)).as_json() == shown


def test_purpose_and_user_are_required(store: Store) -> None:
    with pytest.raises(AuditError, match="purpose"):
        audit.record(store, user="a", purpose=" ", action="export", touched=1)
    assert audit.verify(store) == 0


# -- tampering with the stored log ------------------------------------------------------------------------------


@pytest.fixture(params=["duckdb", "postgres"])
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Any]]:
    """A store holding an intact log, and a function running SQL on it."""
    if request.param == "duckdb":
        store: Store = DuckDBStore(tmp_path / "ws", create=True)
    else:
        if not PG_URL:
            pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
        store = _pg_store()
    fill(store)
    yield store, request.param
    store.close()


def tampered(store: Store, backend: str, sqls: list[tuple[str, list[object]]]) -> AuditBroken | None:
    """Apply the SQL, run verify, undo everything; the error verify raised (None if it passed)."""
    if backend == "duckdb":
        # one transaction on the audit file, rolled back; checked as verify checks it (the CLI test runs verify
        # itself on a changed file)
        import duckdb

        with duckdb.connect(str(store.workspace / AUDIT_FILE)) as duck:  # type: ignore[attr-defined]
            duck.begin()
            try:
                for sql, params in sqls:
                    duck.execute(sql, params)
                check_chain(*audit.fetch_log(duck))
                return None
            except AuditBroken as exc:
                return exc
            finally:
                duck.rollback()
    con: Any = getattr(store, "con")  # noqa: B009

    class Rollback(Exception):
        pass

    found: AuditBroken | None = None
    try:
        with con.transaction():
            for sql, params in sqls:
                con.execute(sql.replace("?", "%s"), params)
            try:
                audit.verify(store)
            except AuditBroken as exc:
                found = exc
            raise Rollback
    except Rollback:
        pass
    return found


def cases(store: Store) -> list[tuple[str, int, list[tuple[str, list[object]]]]]:
    """(what, first entry that must be named, SQL) for every edit, deletion and reordering tried."""
    rows = audit.entries(store)
    out: list[tuple[str, int, list[tuple[str, list[object]]]]] = []
    for e in rows:
        fields = e.fields
        for key in ("user", "purpose", "action", "time"):
            edited = json.dumps({**fields, key: str(fields[key]) + "x"}, sort_keys=True, separators=(",", ":"))
            out.append(
                (f"edit {key} of {e.seq}", e.seq, [("UPDATE audit_log SET entry = ? WHERE seq = ?", [edited, e.seq])])
            )
        fewer = {**fields, "touched": {"count": 0}}
        out.append(
            (
                f"edit touched of {e.seq}",
                e.seq,
                [("UPDATE audit_log SET entry = ? WHERE seq = ?", [audit.canonical_json(fewer), e.seq])],
            )
        )
        # an edit with its hash recomputed: the next entry (or the head) no longer follows
        forged = audit.canonical_json({**fields, "user": "nobody"})
        out.append(
            (
                f"edit and rehash {e.seq}",
                e.seq + 1 if e.seq < len(rows) else e.seq,
                [("UPDATE audit_log SET entry = ?, hash = ? WHERE seq = ?", [forged, audit.entry_hash(forged), e.seq])],
            )
        )
        out.append((f"hash of {e.seq}", e.seq, [("UPDATE audit_log SET hash = ? WHERE seq = ?", ["0" * 64, e.seq])]))
        out.append(
            (f"whitespace in {e.seq}", e.seq, [("UPDATE audit_log SET entry = ? WHERE seq = ?", [e.text + " ", e.seq])])
        )
        out.append((f"delete {e.seq}", e.seq, [("DELETE FROM audit_log WHERE seq = ?", [e.seq])]))
        out.append(
            (
                f"move {e.seq} to the end",
                e.seq,
                [("UPDATE audit_log SET seq = ? WHERE seq = ?", [len(rows) + 5, e.seq])],
            )
        )
    for a in range(1, len(rows) + 1):
        for b in range(a + 1, len(rows) + 1):
            # reorder: swap the two entries' places (their seq), and swap their contents
            out.append(
                (
                    f"swap places {a} {b}",
                    a,
                    [
                        ("UPDATE audit_log SET seq = -1 WHERE seq = ?", [a]),
                        ("UPDATE audit_log SET seq = ? WHERE seq = ?", [a, b]),
                        ("UPDATE audit_log SET seq = ? WHERE seq = -1", [b]),
                    ],
                )
            )
            ea, eb = rows[a - 1], rows[b - 1]
            out.append(
                (
                    f"swap contents {a} {b}",
                    a,
                    [
                        ("UPDATE audit_log SET entry = ?, hash = ? WHERE seq = ?", [eb.text, eb.hash, a]),
                        ("UPDATE audit_log SET entry = ?, hash = ? WHERE seq = ?", [ea.text, ea.hash, b]),
                    ],
                )
            )
    out.append(("delete the head record", len(rows) + 1, [("DELETE FROM audit_head", [])]))
    out.append(("delete all entries", 1, [("DELETE FROM audit_log", [])]))
    last = rows[-1]
    out.append(("delete the last entry", last.seq, [("DELETE FROM audit_log WHERE seq = ?", [last.seq])]))
    return out  # fmt: skip


def test_every_edit_deletion_and_reordering_is_found(filled: tuple[Store, Any]) -> None:
    store, backend = filled
    tried = cases(store)
    assert len(tried) > 150
    missed = []
    for what, first_bad, sqls in tried:
        found = tampered(store, backend, sqls)
        if found is None:
            missed.append(what)
        elif found.seq != first_bad:
            missed.append(f"{what}: named {found.seq}, not {first_bad}")
    assert missed == []
    assert audit.verify(store) == ENTRIES  # every case was rolled back


def test_a_rewritten_tail_is_found_against_a_head_written_down(filled: tuple[Store, Any]) -> None:
    store, backend = filled
    noted = audit.head(store)
    last = audit.entries(store)[-1]
    drop_and_fix_head = [
        ("DELETE FROM audit_log WHERE seq = ?", [last.seq]),
        ("UPDATE audit_head SET seq = ?, hash = ?", [last.seq - 1, last.fields["prev"]]),
    ]
    assert tampered(store, backend, drop_and_fix_head) is None  # consistent, as far as the log alone can tell
    with pytest.raises(AuditBroken, match=f"audit entry {last.seq}: missing"):
        check_chain(
            [(e.seq, e.text, e.hash) for e in audit.entries(store)[:-1]], (last.seq - 1, last.fields["prev"]), noted
        )


def test_random_byte_changes_to_the_chain_are_all_found() -> None:
    """The checker alone, on 3,000 random single-byte changes of entries, hashes and seqs of a 40-entry log."""
    rows, prev = [], GENESIS
    for seq in range(1, 41):
        text = audit.canonical_json({"seq": seq, "time": "2026-12-03T10:00:00.000000Z", "user": "ü", "purpose": "p",
                                     "action": "a", "touched": {"count": seq}, "prev": prev})  # fmt: skip
        prev = audit.entry_hash(text)
        rows.append((seq, text, prev))
    head = (40, prev)
    assert check_chain(rows, head) == 40
    rng = random.Random(17)
    for _ in range(3000):
        i = rng.randrange(len(rows))
        seq, text, digest = rows[i]
        column = rng.choice(["entry", "hash", "seq"])
        if column == "seq":
            bad = (seq + rng.choice([-2, -1, 1, 2, 100]), text, digest)
        else:
            raw = bytearray((text if column == "entry" else digest).encode())
            pos = rng.randrange(len(raw))
            raw[pos] = (raw[pos] + rng.randrange(1, 256)) % 256
            changed = raw.decode("utf-8", errors="replace")
            if changed == (text if column == "entry" else digest):
                continue
            bad = (seq, changed, digest) if column == "entry" else (seq, text, changed)
        broken = [*rows[:i], bad, *rows[i + 1 :]]
        with pytest.raises(AuditBroken):
            check_chain(broken, head)


# -- read-only workspaces and the CLI ---------------------------------------------------------------------------


def test_a_read_only_workspace_gets_its_entry_and_stays_read_only(tmp_path: Path) -> None:
    """The entry goes to the audit file beside the workspace's: the workspace file is not touched, and a reader
    of it elsewhere does not stop the entry."""
    import duckdb

    DuckDBStore(tmp_path / "ws", create=True).close()
    db = tmp_path / "ws" / "avellino.duckdb"
    before = db.read_bytes()
    other_reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print('reading', flush=True); time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other_reader.stdout is not None and other_reader.stdout.readline().strip() == "reading"
        with DuckDBStore(tmp_path / "ws", read_only=True) as reader:
            entry = audit.record(reader, user="a", purpose="investigation", action="network targets", touched=["x"])
            assert reader.read_statements().num_rows == 0  # still open, still usable
            assert audit.entries(reader) == [entry] and audit.verify(reader) == 1
    finally:
        other_reader.kill()
        other_reader.wait()
    assert db.read_bytes() == before
    with duckdb.connect(str(tmp_path / "ws" / AUDIT_FILE), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)


def test_an_entry_that_cannot_be_written_stops_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holds the audit file the whole time: record raises (the command prints nothing), and no
    entry is half-written."""
    with DuckDBStore(tmp_path / "ws", create=True) as store:
        audit.record(store, user="a", purpose="investigation", action="export", touched=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('holding', flush=True); time.sleep(60)", str(tmp_path / "ws" / AUDIT_FILE)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        monkeypatch.setenv("AVELLINO_LOCK_WAIT", "0.3")
        with (
            DuckDBStore(tmp_path / "ws", read_only=True) as reader,
            pytest.raises(AuditError, match="could not be written, so nothing was released"),
        ):
            audit.record(reader, user="a", purpose="investigation", action="export", touched=2)
    finally:
        holder.kill()
        holder.wait()
    with DuckDBStore(tmp_path / "ws", read_only=True) as store:
        assert len(audit.entries(store)) == 1 and audit.verify(store) == 1


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    import duckdb

    ws = tmp_path / "ws"
    with DuckDBStore(ws, create=True) as store:
        fill(store, 5)
    run = [sys.executable, "-m", "avellino.cli"]
    ok = subprocess.run([*run, "audit", "verify", "-w", str(ws)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 5 entries" in ok.stderr
    shown = CliRunner().invoke(app, ["audit", "show", "-w", str(ws), "--json", "--limit", "2"])
    assert [json.loads(line)["seq"] for line in shown.stdout.splitlines()] == [4, 5]
    with duckdb.connect(str(ws / AUDIT_FILE)) as con:
        con.execute("UPDATE audit_log SET entry = replace(entry, 'analyst0', 'analyst9') WHERE seq = 4")
    bad = subprocess.run([*run, "audit", "verify", "-w", str(ws)], capture_output=True, text=True)
    assert bad.returncode == 4
    assert "audit entry 4" in bad.stderr and "edited" in bad.stderr


@pytest.mark.postgres
def test_concurrent_appends_keep_one_chain() -> None:
    if not PG_URL:
        pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
    from avellino.store.postgres_store import PostgresStore

    url = pg_schema_url()
    first = PostgresStore(url)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with PostgresStore(url) as s:
                for i in range(15):
                    audit.record(s, user=f"w{n}", purpose="p", action="read", touched=[f"e{i}"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert audit.verify(first) == 60
    first.close()


CHANGES = (
    "UPDATE audit_log SET entry = 'x'",
    "DELETE FROM audit_log",
    "INSERT INTO audit_log VALUES (99, 'x', 'y')",
    "UPDATE audit_head SET seq = 0",
)


@pytest.mark.postgres
def test_no_role_but_the_owner_can_change_the_postgres_log() -> None:
    """Analysts and writers append through audit_append only: UPDATE, DELETE and INSERT are refused, and the
    function refuses an entry that does not continue the chain."""
    if not PG_URL:
        pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
    import uuid
    from urllib.parse import quote, urlsplit, urlunsplit

    import psycopg

    from avellino.store.postgres_schema import init_workspace
    from avellino.store.postgres_store import PostgresStore

    url = pg_schema_url()
    roles = {kind: (f"avellino_test_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex) for kind in ("analyst", "writer")}
    with psycopg.connect(str(PG_URL), autocommit=True) as admin:
        for role, password in roles.values():
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")  # type: ignore[arg-type]
    try:
        init_workspace(url, analysts=[roles["analyst"][0]], writers=[roles["writer"][0]])
        parts = urlsplit(url)
        for kind, (role, password) in roles.items():
            as_role = urlunsplit(
                parts._replace(netloc=f"{quote(role)}:{quote(password)}@{parts.hostname}:{parts.port}")
            )
            with PostgresStore(as_role) as store:
                entry = audit.record(store, user=kind, purpose="p", action="read", touched=["e1"])
                con: Any = getattr(store, "con")  # noqa: B009
                for sql in CHANGES:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        con.execute(sql)
                forged = audit.canonical_json({**entry.fields, "seq": entry.seq + 1})  # prev is not the head's hash
                assert con.execute("SELECT audit_append(%s)", (forged,)).fetchone() == (None,)
        with PostgresStore(url) as owner:
            assert audit.verify(owner) == 2
            assert [e.fields["user"] for e in audit.entries(owner)] == ["analyst", "writer"]
    finally:
        with psycopg.connect(str(PG_URL), autocommit=True) as admin:
            for role, _ in roles.values():
                admin.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
                admin.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]
