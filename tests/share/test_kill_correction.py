"""SIGKILL of `avellino share receive` while it applies an originator's correction: the receiver holds either the
old facts or the corrected ones after every kill, never neither (the delete and the write are one transaction,
``Store.replace_statements``), and receiving the correction again completes it."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from avellino.share.send import PAYLOAD_COLUMNS
from avellino.share.withdraw import CORRECTION, make_notice, write_notices
from avellino.store import open_store
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo
from tests.share.kills import kill_receives, receive_command, timed_receive
from tests.share.nodes import REVIEW, env, make_node, person, register, write

ENTITIES = 30_000
PROPS = {"birthDate": "1980-01-{:02d}", "phone": "+44 7911 {:06d}", "nationality": "sy"}


def _facts(name: str) -> pa.Table:
    """ENTITIES people of UK-NCA with five statements each (their names ``{name} {i}``), built column-wise."""
    n = ENTITIES
    ids = [f"uk-nca--k{i}" for i in range(n)]
    cols: dict[str, list[object]] = {"entity_id": [], "prop": [], "value": []}
    for prop, pattern in [("id", None), ("name", name + " {}"), *PROPS.items()]:
        cols["entity_id"] += ids
        cols["prop"] += [prop] * n
        if pattern is None:
            cols["value"] += ids
        else:
            cols["value"] += [pattern.format(1 + i % 28 if prop == "birthDate" else i) for i in range(n)]
    rows = len(cols["entity_id"])
    const = {"schema": "Person", "originator": "UK-NCA", "dataset": "UK-NCA", "handling_code": "H0",
             "tlp": "AMBER", "evaluation": "B2", "subject_category": "suspect", "source_record": "big.csv:2",
             "batch_id": "big", "retention_review": REVIEW}  # fmt: skip
    data = {}
    for field in STATEMENT_SCHEMA:
        if field.name in cols:
            data[field.name] = pa.array(cols[field.name], field.type)
        elif field.name == "canonical_id":
            data[field.name] = pa.array(cols["entity_id"], field.type)
        elif field.name in const:
            data[field.name] = pa.array([const[field.name]] * rows, field.type)
        else:
            data[field.name] = pa.nulls(rows, field.type)
    return pa.table(data, schema=STATEMENT_SCHEMA)


def _state(ws: Path) -> tuple[int, int, int]:
    """(statements, names as corrected, names as they were) held by a workspace."""
    with open_store(ws, read_only=True) as store:
        table = store.read_statements(columns=["prop", "value"])
    names = table.filter(pc.equal(table.column("prop"), "name")).column("value")
    corrected = pc.sum(pc.starts_with(names, "Corrected ")).as_py() or 0
    old = pc.sum(pc.starts_with(names, "Person ")).as_py() or 0
    return table.num_rows, int(corrected), int(old)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_correction_leaves_the_old_facts_or_the_corrected_ones(tmp_path: Path) -> None:
    (_uk_ws, uk), (fr_ws, fr) = make_node(tmp_path, "UK-NCA", "GB"), make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr)
    register(fr, uk)
    # FR holds UK's facts (as a received bundle leaves them) and one fact of its own
    old = _facts("Person")
    with open_store(fr_ws) as store:
        store.write_batch(BatchInfo("big", "big", "big", "m", old.num_rows, old.num_rows, dt.datetime.now()), old)
    write(fr_ws, person("fr-ocriest--f1", "French Fact", "FR-OCRIEST"), name="own")
    # UK corrects every one of those people's names
    rows = _facts("Corrected").select(PAYLOAD_COLUMNS).to_pylist()
    for row in rows:
        row["retention_review"] = row["retention_review"].isoformat()
    ids = [f"uk-nca--k{i}" for i in range(ENTITIES)]
    notice = make_notice(uk, CORRECTION, entities=ids, facts=rows, reason="names transcribed wrongly")
    bundle = tmp_path / "correction.avb"
    write_notices(uk, [uk.partner("FR-OCRIEST")], [notice], bundle, "investigation")
    before = _state(fr_ws)
    assert before == (5 * ENTITIES + 2, 0, ENTITIES)
    receive = receive_command(bundle, fr_ws)
    duration = timed_receive(bundle, fr_ws, tmp_path / "probe")
    corrected = _state(tmp_path / "probe")
    assert corrected == (5 * ENTITIES + 2, ENTITIES, 0)
    fractions = (0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98, 0.99)
    kill_receives(bundle, fr_ws, duration, fractions, _state, before, corrected, "correction")
    # the receiver still works: the correction completes (or is recognised as applied), once
    for _ in range(2):
        done = subprocess.run(receive, env=env(), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert _state(fr_ws) == corrected
