"""Node keys and cards: private keys readable by the owner only, cards checked, partners' keys pinned."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from avellino.cli import app
from avellino.errors import ConfigError
from avellino.share.node import Partner, init_node, load_node, node_dir, read_card
from tests.share.nodes import make_node, register


def test_init_makes_owner_only_keys_and_refuses_to_replace_them(tmp_path: Path) -> None:
    node = init_node(tmp_path / "node", "UK-NCA", "GB")
    assert stat.S_IMODE((tmp_path / "node").stat().st_mode) == 0o700
    for key in ("signing.pem", "encryption.pem"):
        assert stat.S_IMODE((tmp_path / "node" / key).stat().st_mode) == 0o600
    assert load_node(tmp_path / "node").card == node.card
    with pytest.raises(ConfigError, match="already holds node UK-NCA"):
        init_node(tmp_path / "node", "UK-NCA", "GB")
    (tmp_path / "node" / "signing.pem").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_node(tmp_path / "node")


def test_a_card_altered_after_it_was_written_is_refused(tmp_path: Path) -> None:
    node = init_node(tmp_path / "node", "UK-NCA", "GB")
    card = node.card_json()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(card))
    assert read_card(good) == node.card
    for field, value in (("law_enforcement", False), ("country", "FR"), ("name", "UK-NCB")):
        bad = tmp_path / f"bad-{field}.json"
        bad.write_text(json.dumps({**card, field: value}))
        with pytest.raises(ConfigError, match="signature is not valid"):
            read_card(bad)
    other = init_node(tmp_path / "other", "XX", "GB").card_json()
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps({**card, "signing_key": other["signing_key"]}))
    with pytest.raises(ConfigError, match="fingerprint does not match"):
        read_card(swapped)


def test_a_known_partner_name_with_new_keys_is_refused(tmp_path: Path) -> None:
    _ws, uk = make_node(tmp_path, "UK-NCA", "GB")
    _ws2, fr = make_node(tmp_path, "FR-OCRIEST", "FR")
    register(uk, fr, teams=frozenset({"JIT-CHANNEL"}))
    assert uk.partner("FR-OCRIEST").recipient().teams == {"JIT-CHANNEL"}
    assert load_node(uk.dir).teams == {"JIT-CHANNEL"}  # a team shared with a partner is this node's too
    impostor = init_node(tmp_path / "impostor", "FR-OCRIEST", "FR")
    path = tmp_path / "impostor.json"
    path.write_text(json.dumps(impostor.card_json()))
    with pytest.raises(ConfigError, match="already registered with other keys"):
        uk.add_partner(Partner(read_card(path)))
    assert uk.partner("FR-OCRIEST").card == fr.card


def test_a_postgresql_workspace_names_its_node_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AVELLINO_NODE_DIR", raising=False)
    assert node_dir(tmp_path / "ws") == tmp_path / "ws" / "node"
    with pytest.raises(ConfigError, match="--node-dir"):
        node_dir(url="postgresql://u@h/db")
    monkeypatch.setenv("AVELLINO_NODE_DIR", str(tmp_path / "keys"))
    assert node_dir(url="postgresql://u@h/db") == tmp_path / "keys"


def test_node_and_partner_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AVELLINO_NODE_DIR", raising=False)
    monkeypatch.delenv("AVELLINO_STORE_URL", raising=False)
    run = CliRunner().invoke
    assert (
        run(
            app, ["node", "init", "--name", "NGO-SEA", "--country", "DE", "--not-law-enforcement", "-w", "ngo"]
        ).exit_code
        == 0
    )
    assert run(app, ["node", "card", "-o", "ngo.json", "-w", "ngo"]).exit_code == 0
    assert json.loads(Path("ngo.json").read_text())["law_enforcement"] is False
    assert run(app, ["node", "init", "--name", "UK-NCA", "--country", "GB", "-w", "uk"]).exit_code == 0
    added = run(app, ["partner", "add", "ngo.json", "--community", "-w", "uk"])
    assert added.exit_code == 0, added.output
    listed = run(app, ["partner", "list", "-w", "uk"], env={"COLUMNS": "200"})
    assert "NGO-SEA" in listed.output and "no" in listed.output
    bad = run(app, ["node", "init", "--name", "UK NCA", "--country", "gb", "-w", "x"])
    assert bad.exit_code != 0
