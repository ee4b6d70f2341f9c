"""Posts collected from platforms, imported as ``Advert`` entities through the ordinary ingest machinery.

A post file is a partner file like any other: ``data/posts.yml`` is the mapping, filled in with the collecting
agency (originator) and its markings, and the file goes through ``ingest/run.py`` (row checks, one atomic batch,
re-import does nothing). Nothing here writes statements itself. Columns the file lacks are left out of the mapping
so a collection without captions or languages still imports; ``text`` and ``url`` are required.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from avellino.errors import ConfigError, UnreadableFile

POST_COLUMNS = ("text", "platform", "url", "account", "time", "language", "caption")
REQUIRED_COLUMNS = ("text", "url")
# the properties each optional column feeds (data/posts.yml); the account entity needs the account column
OPTIONAL_PROPERTIES = {
    "platform": ("platform",),
    "time": ("postedAt",),
    "language": ("language",),
    "caption": ("description",),
    "account": ("authorAccount",),
}


@dataclass(frozen=True)
class PostMarkings:
    """The collecting agency and how its collected posts are marked (docs/mappings.md has the vocabularies)."""

    originator: str
    handling_code: str = "H1"
    tlp: str = "AMBER"
    evaluation: str = "C3"
    subject_category: str = "potential_offender"


def template() -> str:
    """The shipped mapping, as text (``avellino content mapping`` prints it)."""
    return resources.files("avellino.content").joinpath("data/posts.yml").read_text(encoding="utf-8")


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise ConfigError(f"{path}: post files are JSON lines (.jsonl, .ndjson) or CSV (.csv); not {suffix or 'no suffix'}")


def file_columns(path: Path) -> set[str]:
    """The columns a post file has: a CSV's header, or every key of any JSON line (a bad line is left for the
    ingest checks, which name it)."""
    fmt = file_format(path)
    if not path.is_file():
        raise UnreadableFile(str(path), "file not found")
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])
        return {h.strip() for h in header}
    keys: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                keys.update(record)
    return keys


def posts_mapping(path: Path, marks: PostMarkings) -> str:
    """The mapping text for one post file: the template with the agency's markings, for the columns it has."""
    columns = file_columns(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        have = ", ".join(sorted(columns)) or "none"
        raise ConfigError(
            f"{path}: a post file needs the column(s) {', '.join(missing)} (it has: {have}); "
            f"columns read: {', '.join(POST_COLUMNS)}"
        )
    spec = yaml.safe_load(template())
    spec["originator"] = marks.originator
    spec["source"]["format"] = file_format(path)
    if path.suffix.lower() == ".tsv":
        spec["source"]["delimiter"] = "\t"
    spec["markings"] = {
        "handling_code": marks.handling_code,
        "tlp": marks.tlp,
        "evaluation": marks.evaluation,
        "subject_category": marks.subject_category,
    }
    props = spec["entities"]["advert"]["properties"]
    for column, names in OPTIONAL_PROPERTIES.items():
        if column not in columns:
            for name in names:
                props.pop(name, None)
    if "account" not in columns:
        del spec["entities"]["account"]
    elif "platform" not in columns:
        spec["entities"]["account"]["keys"] = ["account"]
        del spec["entities"]["account"]["properties"]["service"]
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def write_mapping(path: Path, marks: PostMarkings, folder: Path) -> Path:
    """Write the file's mapping into ``folder`` and return its path (its name carries the originator)."""
    slug = re.sub(r"[^a-z0-9]+", "-", marks.originator.lower()).strip("-") or "agency"
    out = folder / f"posts-{slug}.yml"
    out.write_text(posts_mapping(path, marks), encoding="utf-8")
    return out


def phone_rows(path: Path, region: str = "GB") -> list[dict[str, str]]:
    """Per post with a phone number in its text or caption: its url and the numbers as E.164 (``selectors.py``),
    for the companion batch that gives each Advert its ``phone`` statements."""
    from avellino.content.classify import read_records
    from avellino.content.selectors import extract

    rows = []
    for rec in read_records(path, "text"):
        url = rec.fields.get("url")
        if not url:
            continue
        text = " ".join(str(rec.fields.get(c) or "") for c in ("text", "caption"))
        phones = sorted({s.value for s in extract(text, region) if s.kind == "phone"})
        if phones:
            rows.append({"url": str(url), "phones": ";".join(phones)})
    return rows


def phones_mapping(marks: PostMarkings) -> str:
    """The mapping of the companion file: the same Advert ids (originator, ``Advert``, url) with their phones."""
    spec = {
        "originator": marks.originator,
        "source": {"format": "jsonl"},
        "markings": {
            "handling_code": marks.handling_code,
            "tlp": marks.tlp,
            "evaluation": marks.evaluation,
            "subject_category": marks.subject_category,
        },
        "entities": {
            "advert": {
                "schema": "Advert",
                "keys": ["url"],
                "key_literal": "Advert",
                "properties": {"url": {"column": "url"}, "phone": {"column": "phones", "split": ";"}},
            }
        },
    }
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def write_phones(path: Path, marks: PostMarkings, folder: Path, region: str = "GB") -> tuple[Path, Path] | None:
    """The companion file (``NAME.phones.jsonl``) and its mapping, or None when no post carries a phone."""
    rows = phone_rows(path, region)
    if not rows:
        return None
    data = folder / f"{path.stem}.phones.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    mapping = folder / "phones.yml"
    mapping.write_text(phones_mapping(marks), encoding="utf-8")
    return data, mapping
