"""Ground truth: which partner records are the same person, who holds which role, who owns which phone.

``persons.csv`` carries the store entity id each person record will get (``avellino.ingest.ids.entity_id`` with
the mapping's key_literal ``Person`` and the record id as key), so evaluations join on it directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from avellino.ingest.ids import entity_id
from avellino.sample.fields import Ctx
from avellino.sample.names import NameTables
from avellino.sample.render import e164
from avellino.sample.world import NATIONS, ROLES, World

README = """# Ground truth of this sample operation

Synthetic data: every person, phone and event here was drawn at random by `avellino sample` (seed {seed},
scale {scale}). No real person is described.

- `persons.csv`: one row per person record in a partner file. `entity_id` is the id the store gives the record
  (`avellino.ingest.ids.entity_id(partner, "Person", [record_id])`); `person_id` is the true identity, so two
  rows with the same `person_id` are the same person; `role` is the true role; `subject_category` is the
  category the partner recorded (coerced boat pilots are often recorded as suspects: `is_victim` says what they
  are); `nationality` is the true ISO 3166 code.
- `roles.csv`: one row per true person: role, victim flag, organisation, nationality, birth date and the
  canonical (un-romanised) name tokens.
- `phones.csv`: every phone number (E.164) and its true owner.

Counts: {persons} true persons in {orgs} organisation(s); {records} person records across partners.
"""


def person_key(i: int) -> str:
    return f"T{i:07d}"


def write(folder: Path, world: World, contexts: dict[str, Ctx], names: NameTables) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    p = world.people
    role_names = np.array(ROLES, dtype=object)
    nations = np.array(NATIONS, dtype=object)
    parts = []
    for partner, ctx in contexts.items():
        recs = ctx.seen.rec_person
        record_ids = ctx.person_ids.to_pylist()
        parts.append(
            pa.table(
                {
                    "entity_id": [entity_id(partner, "Person", [r]) for r in record_ids],
                    "partner": [partner] * len(recs),
                    "record_id": record_ids,
                    "person_id": [person_key(i) for i in recs.tolist()],
                    "role": role_names[p.role[recs]].tolist(),
                    "subject_category": ctx.categories.tolist(),
                    "is_victim": np.where(p.victim[recs], "true", "false").tolist(),
                    "nationality": nations[p.nation[recs]].tolist(),
                }
            )
        )
    persons = pa.concat_tables(parts)
    pacsv.write_csv(persons, folder / "persons.csv")
    tokens = np.array(names.tokens + [""], dtype=object)
    family = np.where(p.family >= 0, p.family, len(names.tokens))
    dob = p.dob.astype("datetime64[D]").astype(str)
    roles = pa.table(
        {
            "person_id": [person_key(i) for i in range(p.n)],
            "role": role_names[p.role].tolist(),
            "is_victim": np.where(p.victim, "true", "false").tolist(),
            "organisation": p.org.tolist(),
            "nationality": nations[p.nation].tolist(),
            "birth_date": dob.tolist(),
            "given": tokens[p.given].tolist(),
            "father": tokens[p.father].tolist(),
            "family": tokens[family].tolist(),
        }
    )
    pacsv.write_csv(roles, folder / "roles.csv")
    phones = pa.table(
        {
            "phone": e164(world.phone_plan, world.phone_local),
            "person_id": [person_key(i) for i in world.phone_owner.tolist()],
        }
    )
    pacsv.write_csv(phones, folder / "phones.csv")
    (folder / "README.md").write_text(
        README.format(seed=world.seed, scale=world.scale, persons=p.n, orgs=world.orgs, records=persons.num_rows)
    )
    return {name: f"truth/{name}" for name in ("persons.csv", "roles.csv", "phones.csv", "README.md")}
