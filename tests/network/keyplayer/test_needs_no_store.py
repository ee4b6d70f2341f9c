"""The key-player solver needs no store: nothing in ``avellino/network/keyplayer`` imports the store, the
workspace analyses or any other area, only its own modules and the three shared with the workspace side."""

from __future__ import annotations

import ast
from pathlib import Path

import avellino.network.keyplayer as keyplayer

SHARED = {"avellino.errors", "avellino.network.protect", "avellino.network.structure", "avellino.network.export"}


def _imports(path: Path) -> set[str]:
    """Every avellino module the file imports, at the top, in functions or for type checking."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("avellino")}


def test_keyplayer_imports_only_itself_and_the_shared_modules():
    files = sorted(Path(keyplayer.__file__).parent.glob("*.py"))
    assert {f.stem for f in files} >= {"disrupt", "search", "exact", "fragment", "baselines", "scale", "io", "cli"}
    outside = {
        f"{f.name}: {m}"
        for f in files
        for m in _imports(f)
        if not m.startswith("avellino.network.keyplayer") and m not in SHARED
    }
    assert not outside, f"the solver reaches outside itself: {sorted(outside)}"


def test_the_shared_modules_need_no_store_either():
    network = Path(keyplayer.__file__).parent.parent
    for name in ("protect", "structure", "export"):
        top_level = {
            n.module
            for n in ast.parse((network / f"{name}.py").read_text(encoding="utf-8")).body
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not {m for m in top_level if m.startswith(("avellino.store", "avellino.network.build"))}, name
