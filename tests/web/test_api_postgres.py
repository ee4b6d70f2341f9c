"""The workbench on a PostgreSQL workspace (an agency's shared server): the same reads, rights, policy and audit as
on DuckDB, against the real server of AVELLINO_TEST_PG_URL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.share import audit
from avellino.store import open_store
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo
from avellino.web.users import Users
from tests.conftest import PG_URL, pg_schema_url
from tests.share.nodes import make_node, register
from tests.web.bench import PASSWORD, SUSPECT, VICTIM, case_facts, serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)"),
]


def test_the_workbench_reads_a_postgresql_workspace_under_the_same_rules(tmp_path: Path) -> None:
    url = pg_schema_url()
    _, uk = make_node(tmp_path, "UK-NCA", "GB")
    _, fr = make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr)
    rows = case_facts()
    with open_store(url=url) as store:
        store.write_batch(BatchInfo("facts", "facts.csv", "facts", "m", len(rows), len(rows), dt.datetime.now()),
                          pa.Table.from_pylist(rows, schema=STATEMENT_SCHEMA))  # fmt: skip
    users = Users(uk.dir)
    users.add("analyst", "analyst", PASSWORD)
    users.add("fr.liaison", "analyst", PASSWORD, agency="FR-OCRIEST")
    with serving(Path(url), uk.dir) as bench:
        staff = bench.client("analyst", purpose="OP-PG test")
        assert staff.get("/api/search", params={"q": "Muhammad Alhasan"}).json()["hits"][0]["id"] == SUSPECT
        assert staff.get(f"/api/entities/{VICTIM}").json()["protected"]
        partner = bench.client("fr.liaison")
        assert partner.get(f"/api/entities/{VICTIM}").status_code == 404
        assert partner.get(f"/api/entities/{SUSPECT}").status_code == 200
    with open_store(url=url) as store:
        actions = [e.fields["action"] for e in audit.entries(store)]
        purposes = {e.fields["purpose"] for e in audit.entries(store)}
    assert "api search 'Muhammad Alhasan'" in actions and "OP-PG test" in purposes
