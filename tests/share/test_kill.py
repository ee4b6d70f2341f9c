"""SIGKILL of `avellino share receive` mid-import leaves the receiving workspace as it was (or, killed after the
commit, with the whole bundle): the bundle is one batch, written in one transaction."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.share.send import send_bundle
from avellino.store import open_store
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo
from tests.share.kills import kill_receives, receive_command, timed_receive
from tests.share.nodes import counts, env, make_node, person, register, write

ENTITIES = 60_000
PROPS = {"name": "Person {}", "birthDate": "1980-01-{:02d}", "phone": "+44 7911 {:06d}", "nationality": "sy"}


def _big(ws: Path) -> None:
    """ENTITIES people of UK-NCA with five statements each, built column-wise (fast)."""
    n = ENTITIES
    ids = [f"uk-nca--k{i}" for i in range(n)]
    cols: dict[str, list[object]] = {"entity_id": [], "prop": [], "value": []}
    for prop, pattern in [("id", None), *PROPS.items()]:
        cols["entity_id"] += ids
        cols["prop"] += [prop] * n
        if pattern is None:
            cols["value"] += ids
        else:
            cols["value"] += [pattern.format(1 + i % 28 if prop == "birthDate" else i) for i in range(n)]
    rows = len(cols["entity_id"])
    const = {"schema": "Person", "originator": "UK-NCA", "dataset": "UK-NCA", "handling_code": "H0",
             "tlp": "AMBER", "evaluation": "B2", "subject_category": "suspect", "source_record": "big.csv:2",
             "batch_id": "big"}  # fmt: skip
    data = {}
    for field in STATEMENT_SCHEMA:
        if field.name in cols:
            data[field.name] = pa.array(cols[field.name], field.type)
        elif field.name == "canonical_id":
            data[field.name] = pa.array(cols["entity_id"], field.type)
        elif field.name in const:
            data[field.name] = pa.array([const[field.name]] * rows, field.type)
        elif field.name == "retention_review":
            data[field.name] = pa.array([dt.date(2099, 1, 1)] * rows, field.type)
        else:
            data[field.name] = pa.nulls(rows, field.type)
    table = pa.table(data, schema=STATEMENT_SCHEMA)
    with open_store(ws) as store:
        store.write_batch(BatchInfo("big", "big.csv", "big", "m", n, rows, dt.datetime.now()), table)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_receive_leaves_the_receiver_as_it_was(tmp_path: Path) -> None:
    (uk_ws, uk), (fr_ws, fr) = make_node(tmp_path, "UK-NCA", "GB"), make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr)
    register(fr, uk)
    _big(uk_ws)
    bundle = tmp_path / "big.avb"
    with open_store(uk_ws) as store:
        assert send_bundle(store, uk, [uk.partner("FR-OCRIEST")], "investigation", bundle).statements == 5 * ENTITIES
    write(fr_ws, person("fr-ocriest--f1", "Already Here", "FR-OCRIEST"), name="before")
    before = counts(fr_ws)
    receive = receive_command(bundle, fr_ws)
    duration = timed_receive(bundle, fr_ws, tmp_path / "probe")
    complete = counts(tmp_path / "probe")
    assert complete["statements"] == before["statements"] + 5 * ENTITIES
    kill_receives(bundle, fr_ws, duration, (0.5, 0.7, 0.85, 0.95), counts, before, complete, "import")
    # the receiver still works: the bundle imports whole (or is recognised as received)
    done = subprocess.run(receive, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert counts(fr_ws)["statements"] == complete["statements"]
