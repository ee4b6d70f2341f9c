"""Person resolution scored on Spark with the model trained on DuckDB.

Training runs where it always does (DuckDB, on a sample of at most ``TRAIN_SAMPLE_RECORDS`` records: it needs
no more at any scale, see ``resolve/model.py``). The cost that grows with the data is scoring every blocked pair
of every record; that moves to Spark. The Splink settings are the same creator objects
(``TrainedModel.settings``), rendered in Spark's SQL dialect, with the trained parameters (prior, ``m`` and ``u``
of every level) copied over level by level, so both engines score the same pairs with the same weights. Term
frequencies are computed by Spark over all records, as DuckDB computes them over all records.

What can differ: Splink's Spark similarity functions (its jar) and DuckDB's own implement Jaro-Winkler and
Damerau-Levenshtein separately; a pair whose similarity lands on a level's threshold can fall on the other side
(docs/scale.md, "Same answers").
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from avellino.resolve.model import TrainedModel


def spark_settings(trained: TrainedModel) -> dict[str, Any]:
    """The trained model's settings in Spark's dialect, with its parameters."""
    from avellino.errors import AvellinoError

    if trained.settings is None:
        raise AvellinoError("this model keeps no backend-free settings: it cannot be scored on Spark")
    params = trained.linker.misc.save_model_to_json()
    settings = trained.settings.create_settings_dict("spark")
    settings["probability_two_random_records_match"] = params["probability_two_random_records_match"]
    trained_comps = {c["output_column_name"]: c for c in params["comparisons"]}
    # only the comparisons the trained model kept (Splink leaves out those of an EM pass that failed)
    settings["comparisons"] = [c for c in settings["comparisons"] if c["output_column_name"] in trained_comps]
    for comp in settings["comparisons"]:
        source = trained_comps[comp["output_column_name"]]
        levels, trained_levels = comp["comparison_levels"], source["comparison_levels"]
        if len(levels) != len(trained_levels):
            raise AvellinoError(f"comparison {comp['output_column_name']!r} differs between engines")
        for level, trained_level in zip(levels, trained_levels, strict=True):
            for key in ("m_probability", "u_probability", "tf_adjustment_weight"):
                if key in trained_level:
                    level[key] = trained_level[key]
    return settings


def spark_linker(trained: TrainedModel, spark: Any = None) -> Any:
    """A Splink linker on Spark over the whole scored input, with the trained parameters."""
    from splink import Linker
    from splink.backends.spark import SparkAPI

    from avellino.engine import spark as engine

    spark = spark or engine.session()
    frame = trained.scored_input
    if frame is None:
        raise ValueError("the trained model keeps no scored input")
    db = SparkAPI(spark_session=spark, break_lineage_method="persist")
    inputs: Any
    if trained.link_type == "link_only" and "source_dataset" in frame:
        inputs = [
            db.register(_for_spark(spark, g), dataset_display_name=str(s), table_name=f"__avellino_source_{i}")
            for i, (s, g) in enumerate(frame.groupby("source_dataset"))
        ]
    else:
        inputs = db.register(_for_spark(spark, frame))
    return Linker(inputs, spark_settings(trained), log_level=logging.ERROR)


def _for_spark(spark: Any, frame: pd.DataFrame) -> Any:
    """The feature rows as a Parquet-backed Spark DataFrame (nullable integer keys and lists of text kept).

    Written once as Parquet beside the session and read back, rather than handed over as an in-memory local
    relation: Spark then splits the read into partitions and never copies the rows into every query plan that
    reads them (Splink's blocking reads its input once per rule). On a cluster the folder must be one every
    executor sees (``AVELLINO_SPARK_STAGING``, docs/scale.md)."""
    import os
    import tempfile
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq

    staging = os.environ.get("AVELLINO_SPARK_STAGING") or tempfile.gettempdir()
    path = os.path.join(staging, f"avellino-features-{uuid.uuid4().hex}.parquet")
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pq.write_table(table, path, row_group_size=50_000)
    return spark.read.parquet(path).cache()


def predict_edges(trained: TrainedModel, threshold: float = 0.01, spark: Any = None) -> pd.DataFrame:
    """Every blocked pair at or above ``threshold`` as pandas, scored on Spark."""
    linker = spark_linker(trained, spark)
    return linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
