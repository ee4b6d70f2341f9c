"""``avellino brief`` on real workspaces, and the demo's safety rules: its own embedded workspace always, and
nothing deleted that a demo did not make."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from avellino import demo_folder, settings
from avellino.cli import app
from avellino.errors import ConfigError
from avellino.report.markings import store_marking
from avellino.store.duckdb_store import DuckDBStore

runner = CliRunner()
#: A server nothing listens on: a demo that opened AVELLINO_STORE_URL would fail.
NOWHERE = "postgresql://nobody@127.0.0.1:9/never"
SECTIONS = ("holdings", "resolve", "network", "flows")


@pytest.fixture(autouse=True)
def no_public_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public forecasts are tested in tests/flows; here they would only add minutes."""
    monkeypatch.setattr(settings, "shared_data_dir", lambda: None)


def _invoke(args: list[str]) -> Result:
    return runner.invoke(app, args, catch_exceptions=True)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("demo") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "shared_data_dir", lambda: None)
        mp.setenv("AVELLINO_STORE_URL", NOWHERE)
        result = _invoke(["demo", "--out", str(out), "--scale", "500"])
    assert result.exit_code == 0, result.output
    yield out


def _files(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'<section id="{anchor}">.*?</section>', page, re.S)
    assert found, f"no {anchor} section"
    return found.group(0)


def test_the_demo_uses_its_own_workspace_whatever_the_store_url(demo_out: Path) -> None:
    assert (demo_out / "workspace" / "avellino.duckdb").is_file()
    assert (demo_out / "workspace" / demo_folder.MARKER).is_file()
    assert (demo_out / "sample-op" / demo_folder.MARKER).is_file()
    page = (demo_out / "briefing.html").read_text(encoding="utf-8")
    assert "every person in it is invented" in page and all(f'<section id="{a}">' in page for a in SECTIONS)


def test_brief_writes_the_briefing_and_nothing_to_the_workspace(demo_out: Path, tmp_path: Path) -> None:
    workspace = demo_out / "workspace"
    before = _files(workspace)
    target = tmp_path / "out" / "brief.html"
    truth = demo_out / "sample-op" / "truth"
    with DuckDBStore(workspace, read_only=True) as reader:  # another reader holds it: brief reads beside it
        result = _invoke(["brief", "-w", str(workspace), "-o", str(target), "--truth", str(truth)])
        assert result.exit_code == 0, result.output
        marking = store_marking(reader).label()
    assert _files(workspace) == before, "brief wrote to the workspace"
    assert [p.name for p in target.parent.iterdir()] == ["brief.html"]  # no temporary file left beside it
    page = target.read_text(encoding="utf-8")
    labels = re.findall(r'class="marking"[^>]*>([^<]+)</span>', page)
    assert labels[0] == labels[-1] == marking and f"({marking})</title>" in page
    demo_page = (demo_out / "briefing.html").read_text(encoding="utf-8")
    # brief shows the resolution the demo ran (read back from the store), scores against the truth included
    assert _section(page, "resolve") == _section(demo_page, "resolve") and "precision" in _section(page, "resolve")
    assert "Top 10 targets" in _section(page, "network") and "Against the sample's truth" in page


def test_brief_on_a_fresh_workspace_says_each_section_has_nothing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert _invoke(["init", "-w", str(workspace)]).exit_code == 0
    result = _invoke(["brief", "-w", str(workspace), "-o", str(tmp_path / "b.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "b.html").read_text(encoding="utf-8")
    for anchor, says in zip(SECTIONS, ("Nothing imported", "Not resolved", "No network", "No forecast"), strict=True):
        assert says in _section(page, anchor)
    assert "invented" not in page  # not a sample operation


def test_brief_names_a_missing_workspace(tmp_path: Path) -> None:
    result = _invoke(["brief", "-w", str(tmp_path / "nowhere"), "-o", str(tmp_path / "b.html")])
    assert result.exit_code != 0 and "nowhere" in str(result.exception)
    assert not (tmp_path / "b.html").exists() and not (tmp_path / "nowhere").exists()


def test_brief_names_a_truth_folder_without_its_file(demo_out: Path, tmp_path: Path) -> None:
    args = ["brief", "-w", str(demo_out / "workspace"), "-o", str(tmp_path / "b.html"), "--truth", str(tmp_path)]
    result = _invoke(args)
    assert isinstance(result.exception, ConfigError) and "persons.csv" in str(result.exception)
    assert not (tmp_path / "b.html").exists()


def test_the_demo_runs_again_on_its_own_output(demo_out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(demo_out, again)
    (again / "workspace" / "stale").write_text("left by the earlier run")
    result = _invoke(["demo", "--out", str(again), "--scale", "500"])
    assert result.exit_code == 0, result.output
    assert not (again / "workspace" / "stale").exists() and (again / "workspace" / demo_folder.MARKER).is_file()
    assert "Top 10 targets" in (again / "briefing.html").read_text(encoding="utf-8")


def _refused(out: Path) -> str:
    result = _invoke(["demo", "--out", str(out), "--scale", "500"])
    assert isinstance(result.exception, ConfigError), result.output
    return str(result.exception)


def test_the_demo_refuses_a_workspace_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _invoke(["init", "-w", str(out / "workspace")]).exit_code == 0
    before = _files(out)
    assert "workspace/" in _refused(out)
    assert _files(out) == before and sorted(p.name for p in out.iterdir()) == ["workspace"]


def test_the_demo_refuses_a_folder_with_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "workspace").mkdir(parents=True)
    (project / "workspace" / "avellino.duckdb").write_bytes(b"an analyst's workspace")
    (project / "notes.txt").write_text("mine")
    before = _files(project)
    monkeypatch.chdir(project)
    message = _refused(Path("."))  # `demo --out .` once removed ./workspace
    assert "notes.txt" in message and "workspace/" in message and _files(project) == before


def test_the_demo_refuses_foreign_files_beside_its_own_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sample, workspace = demo_folder.prepare(out)
    (out / "report.docx").write_text("an analyst's")
    before = _files(out)
    assert "report.docx" in _refused(out) and _files(out) == before and workspace.is_dir() and sample.is_dir()


@pytest.mark.parametrize("case", ["briefing alone", "marked symlink", "a file"])
def test_what_only_looks_like_demo_output_is_refused(tmp_path: Path, case: str) -> None:
    out = tmp_path / "out"
    if case == "a file":
        out.write_text("not a folder")
    else:
        out.mkdir()
        if case == "briefing alone":
            (out / "briefing.html").write_text("someone's page")
        else:
            real = tmp_path / "real-ws"
            real.mkdir()
            (real / demo_folder.MARKER).write_text("")
            (real / "avellino.duckdb").write_text("keep")
            (out / "workspace").symlink_to(real)
    with pytest.raises(ConfigError):
        demo_folder.prepare(out)
    assert (tmp_path / "real-ws" / "avellino.duckdb").exists() or case != "marked symlink"


def test_an_empty_or_missing_folder_is_the_demos(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "out"):
        sample, workspace = demo_folder.prepare(out)
        assert sorted(p.name for p in out.iterdir()) == ["sample-op", "workspace"]
        assert (sample / demo_folder.MARKER).is_file() and (workspace / demo_folder.MARKER).is_file()
