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


def test_explain_weights_add_up_to_the_total_and_show_both_values(tmp_path, people):
    with open_store(tmp_path / "ws", create=True) as store:
        store.write_batch(batch("all"), statements(people))
        store_io.run(store)
        edges = store.read_table(store_io.EDGES).to_pandas().sort_values("match_weight")
        for pair in (edges.iloc[0], edges.iloc[len(edges) // 2], edges.iloc[-1]):  # weakest, middle, strongest
            out = store_io.explain(store, pair["id_l"], pair["id_r"])
            steps = {s["comparison"]: s for s in out["steps"]}
            assert sum(s["match_weight"] for s in out["steps"]) == pytest.approx(out["match_weight"], abs=0.01)
            assert set(steps) >= {"prior", "name", "dob"}
            assert steps["name"]["left"] and steps["name"]["right"]
            nonzero = [s for s in out["steps"] if s["comparison"] != "prior" and s["match_weight"] != 0]
            assert nonzero


def test_explain_on_edges_without_stored_weights():
    """Edges scored by an earlier version kept only levels: weights come from m/u, the rest is one step."""
    from avellino.resolve.explain import prior_weight, waterfall

    model = {
        "probability_two_random_records_match": 0.001,
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {"is_null_level": True},
                    {"label_for_charts": "same", "m_probability": 0.8, "u_probability": 0.01},
                    {"label_for_charts": "else", "m_probability": 0.2, "u_probability": 0.99},
                ],
            }
        ],
    }
    total = prior_weight(model) + 6.322 + 1.5  # log2(0.8 / 0.01) and a term-frequency adjustment
    steps = waterfall({"gamma_name": 1, "match_weight": total}, model, {"name": "Ali"}, {"name": "ALI"})
    assert [s["comparison"] for s in steps] == ["prior", "name", "term frequency"]
    assert (steps[1]["level"], steps[1]["left"], steps[1]["right"]) == ("same", "Ali", "ALI")
    assert steps[1]["match_weight"] == pytest.approx(6.322, abs=1e-3)
    assert sum(s["match_weight"] for s in steps) == pytest.approx(total, abs=1e-3)


def test_a_handful_of_unrelated_people_resolves_to_one_cluster_each(tmp_path, people):
    # EM on a few records holding no match drove the prior to 0, and scoring crashed on log(0)
    few = people.drop_duplicates("person").head(5)
    with open_store(tmp_path / "ws", create=True) as store:
        store.write_batch(batch("few"), statements(few))
        summary = store_io.run(store)
        assert summary["records"] == 5
        assert summary["clusters"] == 5
