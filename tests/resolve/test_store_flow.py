"""`resolve run` over a real DuckDB store: incremental add keeps ids, judgements survive re-runs, explain."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from avellino.resolve import clusters as cl
from avellino.resolve import store_io
from avellino.store import open_store
from tests.statements import batch, statement_row, statement_table

PROPS = {"full_name": "name", "dob": "birthDate", "nationality": "nationality", "phone": "phone"}


def statements(people: pd.DataFrame) -> pa.Table:
    rows = []
    for rec in people.itertuples():
        originator = {"GB": "uk-nca", "FR": "fr-ocriest", "DE": "de-bpol", "IT": "it-sco", "NL": "nl-europol"}[
            rec.country
        ]
        for col, prop in PROPS.items():
            value = getattr(rec, col)
            if isinstance(value, str) and value:
                rows.append(
                    statement_row(
                        rec.record_id, prop, value, originator=originator, source_record=f"fixture.csv:{rec.Index + 2}"
                    )
                )
    return statement_table(rows)


@pytest.fixture()
def people(fixtures) -> pd.DataFrame:
    return pd.read_csv(fixtures / "resolve" / "people.csv", dtype=str).head(300)


def test_incremental_add_keeps_ids_and_honours_judgements(tmp_path, people):
    first, later = people[people["source"] != "europol"], people[people["source"] == "europol"]
    with open_store(tmp_path / "ws", create=True) as store:
        store.write_batch(batch("first"), statements(first))
        summary = store_io.run(store)
        assert summary["records"] == len(first)
        before = store.read_table(store_io.CLUSTERS).to_pandas()

        # an analyst splits the first multi-record cluster and confirms a pair the model left apart
        sizes = before.groupby("cluster_id")["entity_id"].apply(sorted)
        multi = sizes[sizes.map(len) >= 2].iloc[0]
        singles = sizes[sizes.map(len) == 1].iloc[:2].map(lambda m: m[0]).tolist()
        store_io.add_judgements(
            store,
            [
                cl.judgement_row(multi[0], multi[1], "negative", "ana", "different fathers"),
                cl.judgement_row(singles[0], singles[1], "positive", "ana", "same passport scan"),
            ],
        )
        store_io.run(store)
        rerun = store.read_table(store_io.CLUSTERS).to_pandas().set_index("entity_id")["cluster_id"]
        assert rerun[multi[0]] != rerun[multi[1]]
        assert rerun[singles[0]] == rerun[singles[1]]

        store.write_batch(batch("later"), statements(later))
        added = store_io.run(store)
        assert added["new_records"] == len(later)
        after = store.read_table(store_io.CLUSTERS).to_pandas().set_index("entity_id")["cluster_id"]
        assert after[multi[0]] != after[multi[1]]  # judgements survive the incremental add
        assert after[singles[0]] == after[singles[1]]
        old = rerun.index
        changed = old[after[old] != rerun[old]]
        for entity in changed:  # an id may only change where clusters merged or split, never otherwise
            new_members = after[after == after[entity]].index.intersection(old)
            old_members = rerun[rerun == rerun[entity]].index
            assert rerun[new_members].nunique() > 1 or after[old_members].nunique() > 1
        assert len(changed) <= 0.02 * len(old)
        canonical = store.read_statements(entity_ids=[singles[0]], columns=["canonical_id"]).to_pandas()
        assert set(canonical["canonical_id"]) == {after[singles[0]]}

        explanation = store_io.explain(store, multi[0], multi[1])
        assert explanation["judgement"] == "negative"
        assert not explanation["same_cluster"]
        if explanation["compared_by_model"]:
            assert explanation["steps"][0]["comparison"] == "prior"
            assert {s["comparison"] for s in explanation["steps"]} >= {"name"}
