"""Resolution over the workspace store, through the ``Store`` interface only (``write_table``/``read_table``/
``set_canonical``), so it runs the same on DuckDB and PostgreSQL.

Derived tables kept in the store:

* ``resolve_judgements``: the append-only judgement log (see clusters.py);
* ``resolve_features``: the feature rows of every person resolved so far (``unique_id`` = entity id);
* ``resolve_edges``: scored pairs (match probability >= 1%) with each comparison's level and match weight
  (``gamma_*``, ``mw_*``, ``mw_tf_adj_*``), kept across
  runs: an incremental run scores only pairs that touch a new record and adds them;
* ``resolve_clusters``: ``entity_id, cluster_id`` (stable ids), also written as the store's canonical ids;
* ``resolve_model``: the trained Splink model as JSON (one row), for ``explain``;
* ``resolve_thing_edges``/``resolve_thing_clusters``: the same for organisations, vehicles, vessels and
  accounts, resolved by rules (``things.py``), with the rule and evidence per pair.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from avellino.resolve import clusters as cl
from avellino.resolve.conflicts import REFERENCE_SCHEMATA, evidence_from_features, migrant_pilots
from avellino.resolve.features import build_features
from avellino.resolve.model import DEFAULT_THRESHOLD, train
from avellino.store.base import Store

JUDGEMENTS, FEATURES, EDGES, CLUSTERS, MODEL = (
    "resolve_judgements",
    "resolve_features",
    "resolve_edges",
    "resolve_clusters",
    "resolve_model",
)
# FtM Person properties -> resolution roles
PERSON_ROLES = {
    "name": "full_name",
    "firstName": "given_name",
    "middleName": "middle_name",
    "fatherName": "middle_name",
    "lastName": "surname",
    "birthDate": "dob",
    "nationality": "nationality",
    "birthPlace": "place_of_birth",
    "gender": "sex",
    "phone": "phone",
    "passportNumber": "passport",
    "idNumber": "id_number",
    "email": "email",
    "country": "country",
}
MULTI_VALUED = {"phone", "passport", "id_number", "email"}


def _read(store: Store, name: str) -> pd.DataFrame | None:
    table = store.read_table(name)
    return table.to_pandas() if table is not None and table.num_rows else None


def person_records(store: Store) -> pd.DataFrame:
    """One row per Person entity: first value of each single-valued role, ``;``-joined multi-valued ones."""
    table = store.read_statements(schemata=["Person"], columns=["entity_id", "prop", "value", "originator"])
    st = table.to_pandas()
    if st.empty:
        return pd.DataFrame(columns=["entity_id", "originator"])
    st = st[st["prop"].isin(PERSON_ROLES.keys()) | (st["prop"] == "id")]
    st["role"] = st["prop"].map(PERSON_ROLES)
    originators = st.groupby("entity_id")["originator"].first()
    roles = st.dropna(subset=["role", "value"])
    joined = roles.groupby(["entity_id", "role"])["value"].agg(lambda v: "; ".join(dict.fromkeys(v)))
    wide = joined.unstack("role")
    for role in wide.columns:
        if role not in MULTI_VALUED and role != "middle_name":
            wide[role] = wide[role].str.split("; ").str[0]
    wide = wide.reindex(originators.index)
    wide["originator"] = originators
    return wide.reset_index()


def person_categories(store: Store) -> pd.DataFrame:
    """``entity_id, subject_category``: every category an originator gave a Person record."""
    table = store.read_statements(schemata=["Person"], columns=["entity_id", "subject_category"])
    return table.to_pandas().dropna().drop_duplicates().reset_index(drop=True)


def pilot_only_records(store: Store) -> set[str]:
    """The records whose only part in the operation is piloting a boat (``conflicts.migrant_pilots``)."""
    refs = store.read_statements(schemata=REFERENCE_SCHEMATA, columns=["schema", "prop", "value"]).to_pandas()
    return migrant_pilots(refs.dropna())


def _originator_country(originator: Any) -> str | None:
    """``uk-nca`` -> ``GB``: a leading ISO code in the originator slug, used for phones without +CC."""
    from avellino.resolve.identifiers import region_code

    if not isinstance(originator, str) or len(originator) < 3 or originator[2] != "-":
        return None
    return region_code(originator[:2])


def judgements(store: Store) -> pd.DataFrame:
    log = _read(store, JUDGEMENTS)
    return log if log is not None else cl.empty_log()


JUDGEMENT_SCHEMA = pa.schema([(c, pa.string()) for c in cl.JUDGEMENT_COLUMNS])


def add_judgements(store: Store, rows: list[dict[str, Any]]) -> None:
    """Append to the log (never rewrite it); every column is text, ``retracts`` included (null but in a
    retraction)."""
    if rows:
        store.write_table(JUDGEMENTS, pa.Table.from_pylist(rows, schema=JUDGEMENT_SCHEMA), mode="append")


def unknown_entities(store: Store, ids: list[str]) -> list[str]:
    """The ids among ``ids`` that no statement in the store belongs to."""
    found = store.read_statements(entity_ids=ids, columns=["entity_id"]).column("entity_id").to_pylist()
    return [i for i in ids if i not in set(found)]


def run(
    store: Store, threshold: float = DEFAULT_THRESHOLD, full: bool = False, engine: str = "duckdb"
) -> dict[str, Any]:
    """Resolve every Person (Splink model, incremental unless ``full``), then every organisation, vehicle,
    vessel and account (rules, ``things.py``); both mappings become the store's canonical ids in one call,
    since ``set_canonical`` replaces the whole mapping. ``engine="spark"`` scores the person pairs on Spark
    (``avellino/engine/spark_resolve.py``); everything else, and what is written, is the same."""
    from avellino.resolve import things

    summary, persons = _run_persons(store, threshold, full, engine)
    thing_summary, thing_clusters = things.run(store, judgements(store))
    if persons is None:  # no person resolved this run: keep the person ids of the last run
        persons = _read(store, CLUSTERS)
    mappings = [m[["entity_id", "cluster_id"]] for m in (persons, thing_clusters) if m is not None]
    if mappings:
        both = pd.concat(mappings, ignore_index=True)
        store.set_canonical(
            pa.table({"entity_id": both["entity_id"].tolist(), "canonical_id": both["cluster_id"].tolist()})
        )
    summary["things"] = thing_summary
    return summary


def _run_persons(
    store: Store, threshold: float, full: bool, engine: str = "duckdb"
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The person model; returns the summary and ``entity_id, cluster_id`` (None when nothing was resolved)."""
    records = person_records(store)
    if records.empty:
        return {"records": 0, "new_records": 0, "clusters": 0}, None
    records["country"] = records.get("country", pd.Series(index=records.index, dtype=object))
    records["country"] = records["country"].fillna(records["originator"].map(_originator_country))
    roles = {r: r for r in set(PERSON_ROLES.values()) if r in records.columns}
    if not any(r in roles for r in ("full_name", "given_name", "surname")):
        return {"records": len(records), "new_records": 0, "clusters": 0}, None
    features = build_features(records, roles, "entity_id")
    previous_features = _read(store, FEATURES)
    old_ids = set(previous_features["unique_id"]) if previous_features is not None and not full else set()
    features["is_new"] = (~features["unique_id"].isin(old_ids)).astype(int)
    log = judgements(store)
    labels = _positive_labels(log, set(features["unique_id"]))
    trained = train(features, labels=labels, only_new=bool(old_ids))
    if engine == "spark":
        from avellino.engine.spark_resolve import spark_linker

        new_edges = _edges(spark_linker(trained))
    else:
        new_edges = _edges(trained.linker)
    old_edges = _read(store, EDGES) if old_ids else None
    edges = cl.merge_edges(old_edges, new_edges)
    previous_clusters = _read(store, CLUSTERS)
    evidence = evidence_from_features(features, person_categories(store), pilot_only_records(store))
    result = cl.resolve_clusters(features["unique_id"], edges, log, previous_clusters, threshold, evidence)
    store.write_table(FEATURES, pa.Table.from_pandas(features.drop(columns=["is_new"]), preserve_index=False))
    store.write_table(EDGES, pa.Table.from_pandas(edges, preserve_index=False))
    store.write_table(CLUSTERS, pa.Table.from_pandas(result, preserve_index=False))
    model_json = trained.linker.misc.save_model_to_json()
    store.write_table(MODEL, pa.table({"model_json": [json.dumps(model_json)]}))
    kept = (
        0 if previous_clusters is None else int(result["cluster_id"].isin(set(previous_clusters["cluster_id"])).sum())
    )
    summary = {
        "records": len(features),
        "new_records": int(features["is_new"].sum()),
        "pairs_scored": len(new_edges),
        "clusters": int(result["cluster_id"].nunique()),
        "records_keeping_cluster_id": kept,
        "judgements_applied": len(cl.effective_judgements(log)),
        "engine": engine,
    }
    return summary, result


def _edges(linker: Any) -> pd.DataFrame:
    frame = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    frame = frame.rename(columns={"unique_id_l": "id_l", "unique_id_r": "id_r"})
    swap = frame["id_l"] > frame["id_r"]
    frame.loc[swap, ["id_l", "id_r"]] = frame.loc[swap, ["id_r", "id_l"]].to_numpy()
    # per comparison: the level (gamma_), its match weight (mw_) and term-frequency adjustment (mw_tf_adj_), which
    # with the prior add up to match_weight (explain.py); Splink 4 names them so
    keep = [c for c in frame.columns if c.startswith(("gamma_", "mw_")) or c in ("match_weight", "match_probability")]
    return frame[["id_l", "id_r"] + [c for c in keep]].reset_index(drop=True)


def _positive_labels(log: pd.DataFrame, ids: set[str]) -> pd.DataFrame | None:
    """Confirmed pairs as Splink labels; used only when there are enough to estimate m (>= 20)."""
    eff = cl.effective_judgements(log)
    pos = eff[(eff["verdict"] == "positive") & eff["left_id"].isin(ids) & eff["right_id"].isin(ids)]
    if len(pos) < 20:
        return None
    return pd.DataFrame({"unique_id_l": pos["left_id"], "unique_id_r": pos["right_id"]})


def explain(store: Store, a: str, b: str) -> dict[str, Any]:
    from avellino.resolve import things
    from avellino.resolve.explain import explain_pair

    by_rule = things.explain(store, a, b, judgements(store))
    if by_rule is not None:
        return by_rule
    model_rows = _read(store, MODEL)
    features = _read(store, FEATURES)
    if model_rows is None or features is None:
        from avellino.errors import AvellinoError

        raise AvellinoError("nothing resolved yet: run `avellino resolve run` first")
    edges = _read(store, EDGES)
    lo, hi = sorted((a, b))
    pair: Mapping[str, Any] | None = None
    if edges is not None:
        hit = edges[(edges["id_l"] == lo) & (edges["id_r"] == hi)]
        if len(hit):
            pair = hit.iloc[0].to_dict()
    try:
        return explain_pair(
            a, b, pair, json.loads(model_rows["model_json"][0]), features, judgements(store), _read(store, CLUSTERS)
        )
    except KeyError as exc:
        from avellino.errors import AvellinoError

        raise AvellinoError(str(exc.args[0])) from exc


def cluster_members(store: Store, cluster_id: str) -> list[str]:
    from avellino.resolve.things import THING_CLUSTERS

    found = [t for t in (_read(store, CLUSTERS), _read(store, THING_CLUSTERS)) if t is not None]
    if not found:
        return []
    clusters = pd.concat([t[["entity_id", "cluster_id"]] for t in found], ignore_index=True)
    return sorted(clusters.loc[clusters["cluster_id"] == cluster_id, "entity_id"])
