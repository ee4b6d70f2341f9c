"""The briefing's own marking: the strictest TLP and handling code of what it shows, at its top and bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from avellino.model.markings import TLP, HandlingCode
from avellino.report.briefing import render, section_marking
from avellino.report.holdings import holdings_section, read_holdings
from avellino.report.markings import Marking, store_marking, strictest
from avellino.report.sections import Section
from avellino.store.base import Store
from tests.flows.stores import Report, crossings_store

REPORTS = [
    Report("uk-1", "2024-01-01", 40, "XHB1", handling_code="H1", tlp="GREEN"),
    Report("uk-2", "2024-01-02", 41, "XHB2", handling_code="H0", tlp="AMBER+STRICT"),
    Report("fr-1", "2024-01-03", 42, "XHB3", originator="fr", handling_code="H2", tlp="RED"),
]


@pytest.fixture
def store(tmp_path: Path):
    store = crossings_store(tmp_path / "ws", REPORTS)
    yield store
    store.close()


def test_strictest_follows_the_vocabularies_order() -> None:
    assert strictest([("GREEN", "H2"), ("AMBER+STRICT", "H0"), ("AMBER", "H1")]) == Marking(
        TLP.AMBER_STRICT, HandlingCode.H2
    )
    assert strictest([("RED", None), ("CLEAR", "H3")]).label() == "TLP:RED · H3"
    assert strictest([]).label() == "TLP:CLEAR"


def test_store_marking_of_some_entities_or_all(store: Store) -> None:
    assert store_marking(store, ["uk-1", "uk-2"]).label() == "TLP:AMBER+STRICT · H1"
    assert store_marking(store, ["uk-1"]).label() == "TLP:GREEN · H1"
    assert store_marking(store).label() == "TLP:RED · H2"


def _page(sections: list[Section], store: Store) -> str:
    return render(sections, [section_marking(s, store) for s in sections], files=1)


def test_document_carries_the_strictest_marking_top_and_bottom(store: Store) -> None:
    flows = Section("Flows", "<p>crossings</p>", "flows", entity_ids=frozenset({"uk-1", "uk-2"}))
    public = Section("Public", "<p>statistics</p>", "public")
    page = _page([flows, public], store)
    labels = re.findall(r'class="marking"[^>]*>([^<]+)</span>', page)
    # Top, each section (its own), bottom; the document is as strict as its strictest section.
    assert labels == ["TLP:AMBER+STRICT · H1", "TLP:AMBER+STRICT · H1", "TLP:CLEAR", "TLP:AMBER+STRICT · H1"]
    page = _page([holdings_section(read_holdings(store)), flows], store)  # the holdings count every record
    labels = re.findall(r'class="marking"[^>]*>([^<]+)</span>', page)
    assert labels[0] == labels[-1] == "TLP:RED · H2" and "(TLP:RED · H2)</title>" in page


def test_a_section_with_nothing_to_show_is_marked_clear(store: Store) -> None:
    empty = Section("Network", "<p>No network.</p>", "network")
    assert section_marking(empty, store) == Marking()


def test_briefing_is_one_self_contained_file(store: Store) -> None:
    page = _page([holdings_section(read_holdings(store))], store)
    links = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', page)
    assert all(link.startswith(("#", "data:")) for link in links), links
    assert "<script src" not in page and "<link" not in page
    assert not re.search(r"took \d|\d\.\d+ s\b", page)  # no timing noise
