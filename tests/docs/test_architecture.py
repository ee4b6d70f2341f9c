"""ARCHITECTURE.md names every module of the package, each in the entry of its top-level folder."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _entries(text: str) -> dict[str, str]:
    """Top-level folder -> the text of its entry in the tree (lines up to the next folder's entry)."""
    tree = text[text.index("```\navellino/") : text.index("```\n", text.index("```\navellino/") + 4)]
    entries: dict[str, str] = {}
    current = "."
    for line in tree.splitlines():
        m = re.match(r"^  ([a-z_]+)/ ", line)
        if m:
            current = m.group(1)
        elif re.match(r"^[a-z]", line):
            current = "."
        entries[current] = entries.get(current, "") + line + "\n"
    return entries


def test_architecture_names_every_module() -> None:
    entries = _entries((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    missing = []
    for path in sorted((ROOT / "avellino").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        parts = path.relative_to(ROOT / "avellino").parts
        top = parts[0] if len(parts) > 1 else "."
        if path.name not in entries.get(top, ""):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"ARCHITECTURE.md does not name: {missing}"
