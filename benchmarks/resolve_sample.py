"""Resolution on the sample operation (all partners' person files, with their romanisation noise).

Generates the operation, ingests every person file into a fresh workspace, reads the Person entities back from
the store (as ``resolve run`` does) and scores Avellino's model and the plain Splink baseline on the same records
against ``truth/persons.csv`` (``entity_id`` -> ``person_id``). Prints one JSON object.

Usage: ``python benchmarks/resolve_sample.py [--scale 2000] [--seed 7] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from avellino.ingest.run import ingest_file
from avellino.resolve.evaluate import evaluate
from avellino.resolve.store_io import person_records
from avellino.sample import generate
from avellino.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="avellino-sample-"))
    t = time.perf_counter()
    manifest = generate(out / "sample-op", scale=args.scale, seed=args.seed)
    with open_store(out / "ws", create=True) as store:
        for f in manifest.files:
            if f.kind == "persons":
                ingest_file(store, f.path, f.mapping)
        records = person_records(store)
    prep_s = time.perf_counter() - t
    truth = pd.read_csv(Path(manifest.truth_dir) / "persons.csv", dtype=str)[["entity_id", "person_id"]]
    df = records.merge(truth.drop_duplicates("entity_id"), on="entity_id", how="inner")
    roles = {
        r: r
        for r in (
            "full_name",
            "given_name",
            "middle_name",
            "surname",
            "dob",
            "nationality",
            "place_of_birth",
            "sex",
            "phone",
            "passport",
            "id_number",
            "email",
            "country",
        )
        if r in df.columns and df[r].notna().any()
    }
    result = evaluate(df, "entity_id", "person_id", roles)
    result["records"] = len(df)
    result["people"] = int(df["person_id"].nunique())
    result["roles"] = sorted(roles)
    result["prepare_s"] = round(prep_s, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
