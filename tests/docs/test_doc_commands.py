"""Every command of README.md and docs/*.md runs as written, in the order a reader types it.

Each document gets a fresh folder laid out like a clone (``tests/`` and ``benchmarks/`` linked in, and
``../shared`` beside it where the public data is), and its commands run there one after another in bash with the
project's ``avellino`` first on PATH; a command that fails stops that document's test with the command, its line
and the end of its output. A command is only ever left out through ``RULES`` below, each with its reason, and a test
checks that every rule still matches a command in the docs (so a stale exception cannot hide a new command).
Commands that read ``../shared`` skip where it is absent, like every shared-data test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from avellino.settings import shared_data_dir
from tests.docs.doc_commands import DocCommand, all_commands

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Each command of a document adds this much to the time its document may take before the test fails.
COMMAND_TIMEOUT_S = 600


@dataclass(frozen=True)
class Rule:
    pattern: str  # a regular expression searched in the command's text
    action: str  # "skip" (not run, reason given), "slow" (run only with AVELLINO_DOCS_SLOW=1), or "replace"
    reason: str
    replacement: str = ""


RULES: tuple[Rule, ...] = (
    Rule(r"^make test\b", "skip", "make test is what CI runs; this test is part of it"),
    Rule(
        r"^make demo\b",
        "replace",
        "the Makefile's demo target, less the virtual environment this test already runs in",
        "avellino demo --out demo-out",
    ),
    Rule(r"^source \.venv/bin/activate", "skip", "the test puts the project's avellino first on PATH"),
    Rule(
        r"^avellino flows (forecast|alerts|charts) --source frontex",
        "slow",
        "the Frontex hierarchy takes about 20 minutes on 2 cores, its routes alone about 2.5",
    ),
    Rule(
        r"^avellino flows backtest --input \S*(frontex|homeoffice)", "slow", "the must-show back-tests take 1-5 minutes"
    ),
    Rule(r"^avellino resolve evaluate --input \S*(sdn_|febrl)", "slow", "real benchmark sets: 40 s to minutes each"),
    Rule(
        r"(^|&& )(\.venv/bin/)?python benchmarks/\w+\.py",
        "slow",
        "a benchmark (seconds to an hour each); `make bench` runs every one with quick arguments",
    ),
)


def rule_for(command: DocCommand) -> Rule | None:
    for rule in RULES:
        if re.search(rule.pattern, command.text):
            return rule
    return None


COMMANDS = all_commands(ROOT)
DOCS = sorted({c.doc for c in COMMANDS})


def test_every_rule_matches_a_documented_command() -> None:
    unused = [r.pattern for r in RULES if not any(re.search(r.pattern, c.text) for c in COMMANDS)]
    assert not unused, f"rules that match no command in the docs any more: {unused}"


def _sandbox(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("tests", "benchmarks"):
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))  # docs say `.venv/bin/python benchmarks/…`
    shared = shared_data_dir()
    if shared is not None:
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data").symlink_to(shared.resolve())
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("AVELLINO_WORKSPACE", None)
    env.pop("AVELLINO_STORE_URL", None)
    env.pop("AVELLINO_SHARED_DATA", None)
    return env


MARK = "@@avellino-doc-command"


def needs_shared(text: str) -> bool:
    """Reads ../shared/data: by path, or through a named public source (`flows … --source uk-weekly`)."""
    return "../shared" in text or re.search(r"--source (?!workspace\b)\S", text) is not None


def plan(doc: str, slow_ok: bool, has_shared: bool) -> tuple[list[tuple[DocCommand, str]], list[str]]:
    """The commands of ``doc`` to run (with their text after any replacement) and those left out, with why."""
    run: list[tuple[DocCommand, str]] = []
    left_out: list[str] = []
    for command in (c for c in COMMANDS if c.doc == doc):
        rule = rule_for(command)
        text = command.text
        if rule is not None and rule.action == "skip":
            continue
        if rule is not None and rule.action == "slow" and not slow_ok:
            left_out.append(f"{command} (slow: {rule.reason}; AVELLINO_DOCS_SLOW=1 runs it)")
            continue
        if rule is not None and rule.action == "replace":
            text = re.sub(rule.pattern, rule.replacement, text)
        if needs_shared(text) and not has_shared:
            left_out.append(f"{command} (needs ../shared/data)")
            continue
        run.append((command, text))
    return run, left_out


@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_run(doc: str, tmp_path: Path) -> None:
    # One shell per document, as a reader's terminal: a variable set by one command is there for the next.
    work = _sandbox(tmp_path)
    commands, left_out = plan(doc, os.environ.get("AVELLINO_DOCS_SLOW") == "1", shared_data_dir() is not None)
    if not commands:
        pytest.skip("; ".join(left_out))
    script = "\n".join(f'echo "{MARK} {i} $(date +%s.%N)" >&2\n{text}' for i, (_, text) in enumerate(commands))
    script += f'\necho "{MARK} {len(commands)} $(date +%s.%N)" >&2'
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S * len(commands),
        check=False,
    )
    if proc.returncode != 0:
        marks = re.findall(rf"^{MARK} (\d+) ", proc.stderr, flags=re.M)
        failed = commands[int(marks[-1])][0] if marks else doc
        tail = (proc.stdout + proc.stderr.split(f"{MARK} {marks[-1]} ")[-1] if marks else proc.stderr)[-3000:]
        pytest.fail(f"{failed}\nexit {proc.returncode}\n{tail}")
    times = [float(t) for t in re.findall(rf"^{MARK} \d+ ([\d.]+)$", proc.stderr, flags=re.M)]
    print(*(f"{b - a:7.1f} s  {c}" for (c, _), a, b in zip(commands, times, times[1:], strict=False)), sep="\n")
    if left_out:
        print("not run:", *left_out, sep="\n  ")


def test_commands_that_read_public_data_are_known() -> None:
    # a user's clone has no ../shared: these must skip there, not fail
    assert needs_shared("avellino flows alerts --source uk-weekly --horizon 4 --json")
    assert needs_shared("avellino network disrupt --edges ../shared/data/networks/x.csv")
    assert not needs_shared("avellino flows forecast --source workspace -w ws")
    assert not needs_shared("avellino flows forecast --workspace ws --horizon 4")


def test_python_on_path_is_this_one() -> None:
    # The commands run `python` and `avellino` from this environment, never another one on PATH.
    assert shutil.which("avellino", path=str(BIN)) is not None
