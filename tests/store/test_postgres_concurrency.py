"""Many analysts on one PostgreSQL workspace, as they would run Avellino: real `avellino` processes, each with its
own connection, against the server of AVELLINO_TEST_PG_URL.

- 8 writers importing overlapping files at once leave exactly the statements of one serial import.
- A role granted with `avellino init --grant-analyst`, which may not create or change any table, runs every read
  command; a write command tells it that it may only read.
- A role granted with `avellino init --grant-writer` runs the write commands without any DDL right.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from tests.conftest import FIXTURES, PG_URL, pg_schema_url
from tests.store.test_postgres_schema import avellino, query

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)"),
]

WRITERS = 8
MAPPING = FIXTURES / "ingest" / "persons.yml"
COLUMNS = ["ref", "originator", "full_name", "forename", "surname", "dob", "mobile", "nationality", "handling",
           "category", "aliases"]  # fmt: skip


def _person(i: int) -> list[str]:
    """One person, always written the same way, whichever file holds them."""
    rng = random.Random(i)
    first, last = rng.choice(["Ali", "Dilan", "Samira", "Arben", "Karwan"]), f"Name{i}"
    return [
        f"P{i}", rng.choice(["UK-NCA", "FR-OCRIEST"]), f"{first} {last}", first, last,
        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1960, 2004)}",
        f"+44 7911 {100000 + i}", rng.choice(["Syria", "Iraq", "Eritrea", "Albania"]), rng.choice(["H0", "H1", "H2"]),
        rng.choice(["suspect", "suspect", "victim"]), f"Abu {i};Alias {i}" if i % 3 == 0 else "",
    ]  # fmt: skip


def overlapping_files(folder: Path, files: int = 8, per_file: int = 80, step: int = 20) -> list[Path]:
    """``files`` CSV files whose people overlap (file k holds people k*step ... k*step+per_file, shuffled), and
    two byte-for-byte copies under other names (the same file sent twice)."""
    folder.mkdir(parents=True)
    paths = []
    for k in range(files):
        people = [_person(i) for i in range(k * step, k * step + per_file)]
        random.Random(k).shuffle(people)
        path = folder / f"persons_{k:02d}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows(people)
        paths.append(path)
    for k in (0, 5):
        paths.append(folder / f"persons_{k:02d}_again.csv")
        shutil.copyfile(paths[k], paths[-1])
    return paths


def _ingest(url: str, files: list[Path]) -> list[str]:
    return [_cli(), "ingest", "--workspace", url, "--mapping", str(MAPPING), "--jobs", "1", *map(str, files)]


def _cli() -> str:
    exe = Path(sys.executable).parent / "avellino"
    return str(exe) if exe.exists() else "avellino"


#: What a statement is, whichever writer stored it (its file, row and batch depend on who came first).
STATEMENT = (
    "SELECT id, entity_id, prop, value, original_value, originator, handling_code, tlp, evaluation, "
    "subject_category, retention_review FROM statements ORDER BY id"
)


def test_eight_writers_of_overlapping_files_leave_the_statements_of_a_serial_import(tmp_path: Path) -> None:
    files = overlapping_files(tmp_path / "files")
    serial = pg_schema_url()
    done = subprocess.run(_ingest(serial, files), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    shared = pg_schema_url()
    started = time.monotonic()
    # each writer imports every file, starting at a different one, so that they meet on the same statements
    env = {**os.environ, "COLUMNS": "200"}
    procs = [
        subprocess.Popen(_ingest(shared, files[2 * w :] + files[: 2 * w]), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
        for w in range(WRITERS)
    ]  # fmt: skip
    outcomes = [(p.wait(), p.communicate()[1]) for p in procs]
    elapsed = time.monotonic() - started
    for code, stderr in outcomes:
        assert code == 0, stderr
    imported = sum(line.startswith("imported ") for _code, stderr in outcomes for line in stderr.splitlines())
    print(f"\n{WRITERS} writers x {len(files)} files: {elapsed:.1f} s, {imported} batches written")

    expected = query(serial, STATEMENT)
    assert len(expected) > 1000
    assert query(shared, STATEMENT) == expected  # same statements, none twice
    assert query(shared, "SELECT count(*) FROM stmt") == query(serial, "SELECT count(*) FROM stmt")
    batches = "SELECT file_sha256, statements > 0 FROM batches ORDER BY 1"
    assert len(query(shared, batches)) == len(files) - 2  # each distinct file once, the copies recognised
    assert imported == len(files) - 2  # every other attempt was told the file was already there


# -- a least-privilege analyst ---------------------------------------------------------------------------------


def _as(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(role)}:{quote(password)}@{host}"))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A workspace (its own schema) with a sample operation imported, resolved and its network built (~15 s)."""
    root = tmp_path_factory.mktemp("pg-analyst")
    url = pg_schema_url()
    for args in (
        ["sample", "--out", str(root / "op"), "--scale", "1000"],
        ["ingest", "--workspace", url, "--manifest", str(root / "op" / "manifest.json")],
        ["resolve", "run", "--workspace", url],
        ["network", "build", "--workspace", url],
    ):
        done = avellino(*args)
        assert done.returncode == 0, f"{args}: {done.stderr}"
    yield url, root
    schema = query(url, "SELECT current_schema()")[0][0]
    query(str(PG_URL), f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def granted(url: str, *kinds: str) -> Iterator[list[str]]:
    """A login role of its own per kind (``analyst``, ``writer``), granted by `avellino init --grant-KIND`; the
    URLs to connect as each. The roles are dropped afterwards, with what they own and were granted."""
    roles = [(f"avellino_test_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex) for _ in kinds]
    try:
        args = []
        for kind, (role, password) in zip(kinds, roles, strict=True):
            query(str(PG_URL), f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
            args += [f"--grant-{kind}", role]
        done = avellino("init", "--workspace", url, *args)
        assert done.returncode == 0, done.stderr
        yield [_as(url, role, password) for role, password in roles]
    finally:
        for role, _password in roles:
            if query(str(PG_URL), "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
                query(str(PG_URL), f"DROP OWNED BY {role}")
                query(str(PG_URL), f"DROP ROLE {role}")


@pytest.fixture()
def analyst(analysed: tuple[str, Path]) -> Iterator[str]:
    with granted(analysed[0], "analyst") as (url,):
        yield url


def test_an_analyst_role_without_ddl_rights_runs_every_read_command(analyst: str, analysed: tuple[str, Path]) -> None:
    _url, root = analysed
    with psycopg.connect(analyst, autocommit=True) as con:  # the role really may not change the schema
        for ddl in ("CREATE TABLE x_mine (a TEXT)", "DROP TABLE prop_types", "ALTER TABLE stmt ADD COLUMN b TEXT",
                    "DELETE FROM stmt", "INSERT INTO canon VALUES ('a', 'b')"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(ddl)  # type: ignore[arg-type]

    pairs = avellino("resolve", "clusters", "--workspace", analyst, "--limit", "1", "--pairs")
    assert pairs.returncode == 0, pairs.stderr
    left, right = pairs.stdout.split()[:2]
    reads = [
        ["stats"],
        ["stats", "--by", "tlp"],
        ["export", "--format", "ftm", "-o", str(root / "entities.ftm.json"), "--purpose", "analyst test"],
        ["resolve", "clusters", "--limit", "3"],
        ["resolve", "explain", left, right],
        ["network", "targets", "--k", "3", "--effort", "1"],
        ["network", "roles"],
        ["network", "routes"],
        ["flows", "alerts", "--source", "workspace"],
        ["brief", "-o", str(root / "briefing.html")],
    ]
    for args in reads:
        done = avellino(*args, "--workspace", analyst)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        assert "permission denied" not in done.stderr

    refused = avellino("resolve", "run", "--workspace", analyst)
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 1 and "this database role may only read it" in message, refused.stderr
    assert "--grant-writer" in message


def test_a_writer_role_imports_resolves_and_builds_but_never_changes_a_table(analysed: tuple[str, Path]) -> None:
    url, _root = analysed
    with granted(url, "writer", "analyst") as (writer, analyst):
        with psycopg.connect(writer, autocommit=True) as con:
            for ddl in ("DROP TABLE stmt", "ALTER TABLE stmt ADD COLUMN b TEXT", "TRUNCATE batches",
                        "DROP VIEW statements", "DELETE FROM schema_version"):  # fmt: skip
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(ddl)  # type: ignore[arg-type]
        pairs = avellino("resolve", "clusters", "--workspace", writer, "--limit", "1", "--pairs")
        left, right = pairs.stdout.split()[:2]
        writes = [
            ["ingest", str(FIXTURES / "ingest" / "persons.csv"), "--mapping", str(MAPPING)],
            ["resolve", "judge", left, right, "--verdict", "different", "--user", "w.riter", "--reason", "test"],
            ["resolve", "run"],  # replaces the rows of derived tables the administrator's run made
            ["network", "build"],
        ]
        for args in writes:
            done = avellino(*args, "--workspace", writer)
            assert done.returncode == 0, f"{args}: {done.stderr}"
        # what the writer kept, the analyst reads (a derived table the writer made was granted when made)
        explained = avellino("resolve", "explain", left, right, "--workspace", analyst)
        assert explained.returncode == 0, explained.stderr
        assert "judgement: negative" in explained.stdout
        assert query(analyst, "SELECT count(*) FROM x_network_nodes")[0][0] > 0
