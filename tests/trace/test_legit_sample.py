"""The legitimate-buyer stage of the sample: seed-stable, additive, and its truth joins the store's ids."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from avellino.sample import generate
from avellino.sample.legit import add_legitimate


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.*"))}


def test_same_seed_same_files_and_the_sample_files_untouched(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=300, seed=5)
    before = _digest(tmp_path / "a" / "partners")
    counts = add_legitimate(tmp_path / "a", 5, 300)
    after = _digest(tmp_path / "a" / "partners")
    assert {k: v for k, v in after.items() if k in before} == before  # the generator's files are unchanged
    assert counts["buyers"] == 20 and counts["sales"] >= counts["buyers"]
    generate(tmp_path / "b", scale=300, seed=5)
    add_legitimate(tmp_path / "b", 5, 300)
    assert _digest(tmp_path / "b" / "partners") == after
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    kinds = [f["kind"] for f in manifest["files"]]
    assert kinds.count("dealer_sales") == 1 and kinds.count("dealer_payments") == 1
    add_legitimate(tmp_path / "a", 5, 300)  # running it again adds nothing twice
    again = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert len(again["files"]) == len(manifest["files"])
    assert "buyers.csv" in (tmp_path / "a" / "truth" / "README.md").read_text()
