"""Read the shell commands a reader would type out of README.md and docs/*.md.

A command is a line of a fenced ``bash``/``sh``/``console`` block, with ``\\`` continuations joined and here-documents
(``python - <<'EOF' … EOF``) kept whole. Comments after the command are dropped. The test that runs them is
``test_doc_commands.py``; this module only parses, so it has tests of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^\s*```\s*(\w*)\s*$")
SHELL_LANGS = {"bash", "sh", "console", "shell"}
HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")


@dataclass(frozen=True)
class DocCommand:
    doc: str  # path relative to the repository, e.g. "docs/resolve.md"
    line: int  # 1-based line of the command's first line in the doc
    text: str  # the command as bash would run it (continuations joined, here-document kept)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text.splitlines()[0]}"


def strip_comment(line: str) -> str:
    """Drop a trailing ``# comment`` that stands outside quotes (``#`` inside a word or quotes is kept)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Each fenced shell block as (line number of its first content line, its lines)."""
    blocks: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang = m.group(1).lower()
        start = i + 1
        j = start
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        if lang in SHELL_LANGS:
            blocks.append((start + 1, lines[start:j]))
        i = j + 1
    return blocks


def commands_of(doc: Path, root: Path) -> list[DocCommand]:
    rel = doc.relative_to(root).as_posix()
    out: list[DocCommand] = []
    for first, block in shell_blocks(doc.read_text(encoding="utf-8")):
        k = 0
        while k < len(block):
            raw = block[k]
            line_no = first + k
            k += 1
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            parts = [raw]
            while parts[-1].rstrip().endswith("\\") and k < len(block):
                parts[-1] = parts[-1].rstrip()[:-1]
                parts.append(block[k])
                k += 1
            text = " ".join(strip_comment(p).strip() for p in parts)
            heredoc = HEREDOC.search(text)
            if heredoc:
                body = []
                while k < len(block) and block[k].strip() != heredoc.group(1):
                    body.append(block[k])
                    k += 1
                k += 1  # the terminator
                text = "\n".join([text, *body, heredoc.group(1)])
            out.append(DocCommand(rel, line_no, text))
    return out


def all_commands(root: Path) -> list[DocCommand]:
    docs = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return [c for d in docs if d.exists() for c in commands_of(d, root)]
