"""The one screening path (share/screen.py): a tie to a protected person is a fact about them, so a bundle that may
not carry the victim carries no statement naming her either; for safeguarding it carries both."""

from __future__ import annotations

from pathlib import Path

from avellino.share.receive import receive_bundle
from avellino.share.send import send_bundle
from avellino.store import open_store
from tests.share.nodes import fact, held, make_node, person, register, write

GREEN = {"tlp": "GREEN"}


def _facts() -> list[dict[str, object]]:
    rows = person("uk-nca--s1", "Karim Haddad", "UK-NCA", **GREEN)
    rows += person("uk-nca--p2", "Omar Said", "UK-NCA", **GREEN)
    rows += person("uk-nca--v1", "Dilan Ahmed", "UK-NCA", category="victim", **GREEN)
    for call, receiver in (("uk-nca--c1", "uk-nca--p2"), ("uk-nca--c2", "uk-nca--v1")):
        rows += [
            fact(call, "id", call, "UK-NCA", schema="Call", **GREEN),
            fact(call, "caller", "uk-nca--s1", "UK-NCA", schema="Call", **GREEN),
            fact(call, "receiver", receiver, "UK-NCA", schema="Call", **GREEN),
        ]
    for r in rows:
        r["prop_type"] = "entity" if r["prop"] in ("caller", "receiver") else None
    return rows


def _send(tmp_path: Path, purpose: str) -> set[tuple[str, str, str]]:
    uk_ws, uk = make_node(tmp_path / purpose, "UK-NCA", "GB")
    fr_ws, fr = make_node(tmp_path / purpose, "FR-OCRIEST", "FR")
    register(uk, fr)
    register(fr, uk)
    write(uk_ws, _facts())
    with open_store(uk_ws, read_only=True) as store:
        result = send_bundle(store, uk, [uk.partner("FR-OCRIEST")], purpose, uk_ws / "b.avb")
    receive_bundle(lambda: open_store(fr_ws), fr, uk_ws / "b.avb")
    assert result.statements > 0
    return {(e, p, v) for e, p, v, *_ in held(fr_ws)}


def test_no_statement_naming_a_victim_leaves_without_a_safeguarding_purpose(tmp_path: Path) -> None:
    got = _send(tmp_path, "investigation")
    assert ("uk-nca--c1", "receiver", "uk-nca--p2") in got
    assert not any(e == "uk-nca--v1" or v == "uk-nca--v1" for e, _, v in got)
    assert ("uk-nca--c2", "caller", "uk-nca--s1") in got  # the rest of the call may go


def test_for_safeguarding_the_victim_and_the_ties_to_her_go(tmp_path: Path) -> None:
    got = _send(tmp_path, "safeguarding")
    assert ("uk-nca--v1", "name", "Dilan Ahmed") in got
    assert ("uk-nca--c2", "receiver", "uk-nca--v1") in got
