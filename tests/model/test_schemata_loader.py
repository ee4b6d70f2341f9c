"""The smuggling schemata live in FtM's own model, through the one private FtM hook the loader wraps.

These tests fail loudly when a FollowTheMoney release changes that hook or stops resolving the schemata."""

from __future__ import annotations

import inspect

import followthemoney
import pytest
from followthemoney.model import Model
from followthemoney.proxy import EntityProxy

from avellino.model import model
from avellino.model import schemata_loader as loader


def test_ftm_still_has_the_private_hook_we_wrap() -> None:
    assert list(inspect.signature(Model._load).parameters) == ["self", "filepath"]
    loader._check_hooks()  # the same check the loader makes before calling it


def test_the_check_fails_loudly_when_the_hook_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def _load(self: Model, path: str, strict: bool) -> None:  # a future FtM with another signature
        raise AssertionError("never called")

    monkeypatch.setattr(Model, "_load", _load)
    with pytest.raises(loader.FtMChanged, match="Model._load"):
        loader._check_hooks()
    monkeypatch.delattr(Model, "_load")
    with pytest.raises(loader.FtMChanged, match="schemata_loader.py"):
        loader._check_hooks()


def test_extension_lives_in_ftms_own_singleton() -> None:
    assert model is Model.instance() is followthemoney.model
    for name in loader.EXTENSION_SCHEMATA:
        assert Model.instance().get(name) is not None, name


def test_ftm_reads_our_entities_through_its_own_lookups() -> None:
    crossing = model.make_entity("Crossing")
    crossing.id = "uk-nca-c1"
    crossing.add("departurePlace", "Gravelines")
    crossing.add("date", "2024-05-01")
    again = EntityProxy.from_dict(crossing.to_dict())  # FtM resolves the schema by name in Model.instance()
    assert again.schema.name == "Crossing"
    assert again.schema.is_a("Event")  # generate() wired the parent
    assert again.get("departurePlace") == ["Gravelines"]
    assert "date" in again.schema.properties  # inherited from Event


def test_loading_again_changes_nothing() -> None:
    before = {name: id(model.get(name)) for name in loader.EXTENSION_SCHEMATA}
    assert loader._extend(model) is model
    assert {name: id(model.get(name)) for name in loader.EXTENSION_SCHEMATA} == before
