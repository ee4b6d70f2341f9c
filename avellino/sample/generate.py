"""``generate``: build the world, let each partner observe it, write their files, mappings and the truth."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from avellino.ingest.ids import entity_id
from avellino.sample import truth, writers
from avellino.sample.fields import FIELDS, Ctx
from avellino.sample.layouts import LOCALES, Layout, layouts, mapping_for
from avellino.sample.names import build_tables
from avellino.sample.observe import PARTNERS, Seen, observe, subject_category
from avellino.sample.world import World, build_world

Progress = Callable[[str, int, int], None]
CHUNK = 100_000
#: Spreadsheet and JSON exports are split as partners split them (and so that readers need not hold a huge file).
MAX_ROWS_PER_FILE = 200_000


@dataclass
class PartnerFile:
    partner: str
    originator: str
    kind: str
    format: str
    path: Path  # the data file
    mapping: Path  # its mapping file
    rows: int


@dataclass
class SampleManifest:
    """What ``generate`` wrote: every partner file with its mapping, the truth files and the counts."""

    out_dir: Path
    seed: int
    scale: int
    files: list[PartnerFile] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Rows across all partner files."""
        return sum(f.rows for f in self.files)

    total_records = records

    @property
    def truth_dir(self) -> Path:
        return self.out_dir / "truth"

    def to_json(self) -> dict[str, Any]:
        """Paths relative to the folder holding manifest.json, so the file does not depend on where it was written."""
        out = asdict(self)
        del out["out_dir"]
        for f in out["files"]:
            f["path"] = str(Path(f["path"]).relative_to(self.out_dir))
            f["mapping"] = str(Path(f["mapping"]).relative_to(self.out_dir))
        out["records"] = self.records
        return out


def generate(out_dir: Path, scale: int = 2000, seed: int = 7, progress: Progress | None = None) -> SampleManifest:
    """Write a synthetic multi-agency operation of about ``scale`` partner records into ``out_dir``.

    Same ``seed`` and ``scale`` give byte-identical files. ``progress(stage, done, total)`` is called as records
    are written (``total`` is the expected number of records).
    """
    if scale < 100:
        raise ValueError("scale must be at least 100 records")
    out_dir = Path(out_dir)
    for sub in ("partners", "mappings", "truth"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    names = build_tables(seed)
    world = build_world(scale, seed, names)
    manifest = SampleManifest(out_dir, seed, scale)
    seen_all: dict[str, Seen] = {}
    contexts: dict[str, Ctx] = {}
    for partner in PARTNERS:
        seen = observe(world, partner, seed)
        seen_all[partner] = seen
        contexts[partner] = _context(world, seen, names, seed)
    expected = sum(s.count(k) for s in seen_all.values() for k in ("persons", *s.events))
    jobs = [(partner, layout) for partner in PARTNERS for layout in _layouts(contexts[partner])]
    done = 0
    for files in _run_jobs(out_dir, contexts, jobs, workers(scale)):
        manifest.files.extend(files)
        done += sum(f.rows for f in files)
        if progress and files:
            progress(f"{files[0].partner} {files[0].kind}", done, expected)
    manifest.truth = truth.write(out_dir / "truth", world, contexts, names)
    manifest.counts = _counts(world, manifest)
    (out_dir / "manifest.json").write_text(json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n")
    return manifest


def workers(scale: int) -> int:
    """Processes writing files: one below 50k records (start-up would cost more than it saves), else up to
    two (the target machine's cores) unless AVELLINO_SAMPLE_WORKERS says otherwise."""
    env = os.environ.get("AVELLINO_SAMPLE_WORKERS")
    if env:
        return max(1, int(env))
    return 1 if scale < 50_000 else max(1, min(2, os.cpu_count() or 1))


#: Set in the parent before forking, read by the workers (fork shares the world without pickling it).
_JOB_STATE: tuple[Path, dict[str, Ctx], list[tuple[str, Layout]]] | None = None


def _job(i: int) -> tuple[int, list[PartnerFile]]:
    assert _JOB_STATE is not None
    out_dir, contexts, jobs = _JOB_STATE
    partner, layout = jobs[i]
    return i, list(_write(out_dir, contexts[partner], layout))


def _run_jobs(
    out_dir: Path, contexts: dict[str, Ctx], jobs: list[tuple[str, Layout]], n_workers: int
) -> Iterator[list[PartnerFile]]:
    """Write every (partner, layout) job, in parallel processes when asked. Each job draws from its own seeded
    generators, so the files are the same whichever process writes them; results come back in job order."""
    global _JOB_STATE
    _JOB_STATE = (out_dir, contexts, jobs)
    try:
        if n_workers <= 1:
            for i in range(len(jobs)):
                yield _job(i)[1]
            return
        import multiprocessing as mp

        # Biggest jobs first so that the two processes finish together.
        order = sorted(range(len(jobs)), key=lambda i: -contexts[jobs[i][0]].seen.count(jobs[i][1].kind))
        with mp.get_context("fork").Pool(n_workers) as pool:
            results = dict(pool.imap_unordered(_job, order))
        for i in range(len(jobs)):
            yield results[i]
    finally:
        _JOB_STATE = None


def _context(world: World, seen: Seen, names: Any, seed: int) -> Ctx:
    partner = seen.partner
    loc = LOCALES[partner]
    numbers = np.arange(1, len(seen.rec_person) + 1)
    from avellino.sample.render import ids

    person_ids = ids(loc.prefix["persons"], numbers, 7)
    ref_ids = person_ids
    if partner == "EUROPOL-EMSC":
        ref_ids = pa.array([entity_id(partner, "Person", [r]) for r in person_ids.to_pylist()], pa.string())
    cats = subject_category(world, seen, np.random.default_rng([seed, 5, PARTNERS.index(partner)]))
    return Ctx(world, seen, names, loc, partner, person_ids, ref_ids, cats, seed)


def _layouts(ctx: Ctx) -> list[Layout]:
    out = []
    for lay in layouts(ctx.originator):
        if lay.kind != "persons" and not ctx.seen.events.get(lay.kind):
            continue
        if lay.fmt == "ftm" and lay.kind == "persons":
            for cat in sorted(set(ctx.categories.tolist())):
                out.append(Layout(lay.partner, "persons", "ftm", category=cat))
        else:
            out.append(lay)
    return out


def _row_slices(total: int, start: int, stop: int) -> Iterator[tuple[int, slice]]:
    for i, lo in enumerate(range(start, stop, CHUNK)):
        yield i + start // CHUNK, slice(lo, min(lo + CHUNK, stop))


def _write(out_dir: Path, ctx: Ctx, layout: Layout) -> Iterator[PartnerFile]:
    """Write one layout's data file(s) and mapping(s); XLSX and JSON are split every MAX_ROWS_PER_FILE rows."""
    total = ctx.seen.count(layout.kind)
    folder = out_dir / "partners" / layout.slug
    folder.mkdir(parents=True, exist_ok=True)
    split = layout.fmt in ("xlsx", "json") and total > MAX_ROWS_PER_FILE
    bounds = range(0, max(total, 1), MAX_ROWS_PER_FILE) if split else range(0, 1)
    for part, lo in enumerate(bounds, start=1):
        hi = min(lo + MAX_ROWS_PER_FILE, total) if split else total
        suffix = f"_part{part:02d}" if split else ""
        kind = layout.kind + (f"_{layout.category}" if layout.category else "") + suffix
        ext = {"csv": "csv", "xlsx": "xlsx", "json": "json", "ftm": "jsonl"}[layout.fmt]
        data = folder / f"{layout.slug}_{kind}.{ext}"
        rows = _write_file(data, ctx, layout, lo, hi)
        mapping = out_dir / "mappings" / f"{layout.slug}_{kind}.yml"
        header = f"# Mapping for {data.name} ({layout.partner}, {layout.kind}); generated by avellino sample.\n"
        body = yaml.safe_dump(mapping_for(layout), sort_keys=False, allow_unicode=True, width=120)
        mapping.write_text(header + body, encoding="utf-8")
        yield PartnerFile(layout.partner, layout.partner, kind, layout.fmt, data, mapping, rows)


def _chunks(ctx: Ctx, layout: Layout, lo: int, hi: int) -> Iterator[dict[str, pa.Array]]:
    build = FIELDS[layout.kind]
    for chunk_no, sl in _row_slices(hi - lo, lo, hi):
        cols = build(ctx, sl, chunk_no)
        if layout.kind == "persons" and any(f == "phones" for _, f in layout.columns):
            cols["phones"] = _phone_lists(cols["phone1"], cols["phone2"])
        yield {header: cols[fld] for header, fld in layout.columns}


def _phone_lists(a: pa.Array, b: pa.Array) -> pa.Array:
    return pa.array([[x] if y is None else [x, y] for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)])


def _write_file(path: Path, ctx: Ctx, layout: Layout, lo: int, hi: int) -> int:
    if layout.fmt == "csv":
        delimiter = ";" if layout.partner == "FR-OCRIEST" else ","
        return writers.write_csv(path, _chunks(ctx, layout, lo, hi), delimiter)
    if layout.fmt == "xlsx":
        sheet = {
            "persons": "Personen",
            "payments": "Zahlungen",
            "purchases": "Käufe",
            "vehicles": "Fahrzeuge",
            "legs": "Etappen",
        }.get(layout.kind, layout.kind)
        return writers.write_xlsx(path, _chunks(ctx, layout, lo, hi), sheet)
    if layout.fmt == "json":
        head = {"ente": "Servizio Centrale Operativo", "tipo": layout.kind, "formato": "1.2"}
        return writers.write_json(path, _chunks(ctx, layout, lo, hi), head, "dati.elementi")
    from avellino.sample.ftm_export import entities

    return writers.write_ftm(path, entities(ctx, layout, lo, hi))


def _counts(world: World, manifest: SampleManifest) -> dict[str, Any]:
    p = world.people
    from avellino.sample.world import ROLES

    by_kind: dict[str, int] = {}
    by_partner: dict[str, int] = {}
    for f in manifest.files:
        base = f.kind.split("_")[0]
        by_kind[base] = by_kind.get(base, 0) + f.rows
        by_partner[f.partner] = by_partner.get(f.partner, 0) + f.rows
    return {
        "records": manifest.records,
        "by_kind": by_kind,
        "by_partner": by_partner,
        "true_persons": int(p.n),
        "organisations": int(world.orgs),
        "roles": {r: int((p.role == i).sum()) for i, r in enumerate(ROLES)},
        "victims": int(p.victim.sum()),
        "crossings": int(len(world.crossings["day"])),
    }
