"""FtM JSON lines out: the statements as they are stored, one line per record and marking set.

Record level, not resolved: a line's ``id`` is the record's own id (in its originator's namespace) and its
entity references are the record ids it names, so every reference points at a line of the same file and the
statements come back exactly when the file is ingested again. Each line carries the markings of its statements
in the top-level ``avellino:markings`` object (originator, handling code and note, TLP, evaluation, data-subject
category, retention review), which stock FollowTheMoney keeps but ignores and Avellino's ingest reads back
(``avellino/ingest/ftm.py``). A record whose statements carry several marking sets has several lines with the
same id: FtM merges lines with the same id, so stock tools see one entity. A record merged by ``resolve run``
says so in ``avellino:canonical`` (the resolved id it belongs to).

Avellino's smuggling schemata (Crossing, Advert, Purchase, Leg...) are not in stock FtM, so an export written
to a file ships the model beside it (:func:`write_model`): FtM's own schema files plus Avellino's extension, in a
folder that ``FTM_MODEL_PATH`` names (``FTM_MODEL_PATH=out.ftm-model ftm validate -i out.ftm.json``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from avellino.ingest.ftm import MARKINGS_KEY
from avellino.model.schemata_loader import SCHEMA_DIR
from avellino.share.entities import Row, rows
from avellino.store.schema import MARKING_FIELDS

CANONICAL_KEY = "avellino:canonical"
#: What makes one line: a record, its schema and one marking set.
LINE_KEY = ("entity_id", "schema", *MARKING_FIELDS)


@dataclass
class Written:
    """What a writer wrote: entities (records for FtM, resolved entities otherwise), lines or objects, links."""

    entities: int = 0
    items: int = 0
    links: int = 0
    statements: int = 0


def _markings(row: Row) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in MARKING_FIELDS:
        value = row.get(field)
        if value is not None:
            out[field] = value.isoformat() if field == "retention_review" else str(value)
    return out


def write_ftm(batches: Iterable[pa.RecordBatch], out: IO[str]) -> Written:
    """One JSON line per row of the record-level export query (``export.LINE_SCHEMA``: a record, schema and
    marking set with its properties and values), rows ordered by record."""
    done = Written()
    last_record: str | None = None
    for row in rows(batches):
        properties: dict[str, list[str]] = {}
        for prop, value in zip(row["props"] or [], row["vals"] or [], strict=True):
            if value is not None:
                properties.setdefault(prop, []).append(value)
        line: dict[str, object] = {"id": row["entity_id"], "schema": row["schema"], "properties": properties}
        line[MARKINGS_KEY] = _markings(row)
        if row["canonical_id"] and row["canonical_id"] != row["entity_id"]:
            line[CANONICAL_KEY] = row["canonical_id"]
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        done.items += 1
        done.statements += int(row["n"])
        done.links += int(row["refs"])
        if row["entity_id"] != last_record:
            done.entities += 1
            last_record = row["entity_id"]
    return done


def model_folder(out: Path) -> Path:
    """Where the model of an export at ``out`` goes: ``out.ftm-model`` beside it."""
    return out.with_name(out.name + ".ftm-model")


def write_model(folder: Path) -> Path:
    """FtM's schema files and Avellino's extension in one folder, so that ``FTM_MODEL_PATH=FOLDER`` lets stock
    FollowTheMoney read every line. Why the whole model: FtM reads its model from one folder and a folder named
    there replaces FtM's own. A receiver on another FtM release can instead copy ``avellino-*.yaml`` into a copy
    of its own FtM's schema folder."""
    import followthemoney

    stock = Path(followthemoney.__file__).parent / "schema"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in sorted(stock.glob("*.y*ml")):
        shutil.copyfile(path, folder / path.name)
    for path in sorted(SCHEMA_DIR.glob("*.yaml")):
        shutil.copyfile(path, folder / f"avellino-{path.name}")
    return folder
