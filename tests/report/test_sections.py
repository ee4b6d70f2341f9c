"""Each area's section is a pure renderer: small result objects in, a ``Section`` out, no store anywhere."""

from __future__ import annotations

import pandas as pd
import pytest

from avellino.flows.briefing import flows_section
from avellino.flows.findings import FlowsFindings
from avellino.network.briefing import network_section
from avellino.network.findings import Community, NetworkFindings, RoleHolder
from avellino.network.protect import ProtectedTargetError, Protection
from avellino.network.targets import Target, TargetReport
from avellino.report.holdings import Count, Holdings, holdings_section
from avellino.resolve.briefing import resolution_section
from avellino.resolve.summary import ResolutionSummary, ThingsSummary

VICTIM = "cl-victim"


def _findings(**changes: object) -> NetworkFindings:
    target = Target(1, "cl-boss", "Bo <b>Ss</b>", "party", "organiser", "organised 3 crossings", 12, 5)
    routes = pd.DataFrame(
        [
            {"from": "Kabul", "to": "Calais", "stage": "origin -> departure", "transport": "car (2)", "count": 2,
             "people": 9, "first": "2024-01-01", "last": "2024-02-01", "operators": "Dri Ver (2)",
             "operator_ids": "cl-driver", "protected": 1}
        ]
    )  # fmt: skip
    values: dict[str, object] = {
        "node_kinds": {"party": 3, "phone": 1},
        "tie_events": {"call": 4},
        "vertices": 4,
        "component_sizes": [3, 1],
        "targets": TargetReport(1, 4, 3, 3, 1, [target], [{"id": VICTIM, "reason": "victim"}], {"degree": 0.5}),
        "communities": [Community(0, 3, {"AF": 2}, {"organiser": 1}, [("Bo <b>Ss</b>", "cl-boss")], 1)],
        "community_count": 2,
        "roles": [RoleHolder("driver", 1, "Dri Ver", "cl-driver", "operated 2 legs")],
        "roles_withheld": 1,
        "routes": routes,
        "route_events": frozenset({"uk-leg-1", "uk-leg-2"}),
        "protected_by_reason": {"victim, witness or informant (data-subject category)": 1},
        "protection": Protection.of([VICTIM], "victim"),
    }
    values.update(changes)
    return NetworkFindings(**values)  # type: ignore[arg-type]


def test_network_section_lists_people_with_their_ids_escaped() -> None:
    section = network_section(_findings())
    assert section.anchor == "network" and section.all_records
    assert "Bo &lt;b&gt;Ss&lt;/b&gt;" in section.html and "<b>Ss</b>" not in section.html
    assert section.entity_ids == {"cl-boss", "cl-driver", "uk-leg-1", "uk-leg-2"}
    assert "<svg" in section.html and "Top 1 targets" in section.html
    assert VICTIM not in section.html and "1 protected people with evidence of a role" in section.html


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": [RoleHolder("boat_pilot", 1, "Mi Grant", VICTIM, "piloted 1 crossing")]},
        {"communities": [Community(0, 3, {}, {}, [("Mi Grant", VICTIM)], 0)]},
        {"targets": TargetReport(1, 4, 3, 3, 1, [Target(1, VICTIM, "Mi Grant", "party", "none", "", 1, 1)], [])},
    ],
    ids=["role holder", "most central", "target"],
)
def test_network_section_refuses_findings_that_list_a_protected_person(changes: dict[str, object]) -> None:
    with pytest.raises(ProtectedTargetError):
        network_section(_findings(**changes))


def test_network_section_refuses_a_route_table_naming_a_protected_operator() -> None:
    routes = _findings().routes.assign(operator_ids=VICTIM)
    with pytest.raises(ProtectedTargetError):
        network_section(_findings(routes=routes))


def test_resolution_section_shows_ids_only_and_scores() -> None:
    summary = ResolutionSummary(
        records=5,
        clusters=3,
        sizes={1: 2, 3: 1},
        judgements_applied=1,
        examples=[["cl-a", 3, 3, "de-bpol-1 fr-ocriest-2", "safeguarding"]],
        things=ThingsSummary(4, {"vessel": 4}, 3, 1, {"registration": 1}, 2),
        truth={"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "true_pairs": 4},
    )
    section = resolution_section(summary)
    assert "5 person records from all partners resolved into 3 people; 1 people" in section.html
    assert "recall 0.500" in section.html and "4 vessel" in section.html and "safeguarding" in section.html
    assert section.entity_ids == {"cl-a", "de-bpol-1", "fr-ocriest-2"} and section.all_records


def test_sections_with_nothing_to_show_say_so() -> None:
    assert "Not resolved" in resolution_section(None).html
    assert "No network" in network_section(None).html and not network_section(None).entity_ids
    assert "No forecast" in flows_section(FlowsFindings(None)).html
    assert "Nothing imported yet" in holdings_section(Holdings({}, 0)).html


def test_holdings_count_protected_records_from_the_categories() -> None:
    cats = [Count("victim", 3, 30), Count("witness", 1, 9), Count("suspect", 7, 70)]
    section = holdings_section(Holdings({"subject_category": cats, "originator": [Count("uk-nca", 11, 109)]}, 2))
    assert "<b>Safeguarding:</b> 4 records" in section.html and "uk-nca" in section.html and section.all_records
