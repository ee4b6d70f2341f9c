"""One test per row of the policy table in docs/sharing.md (the examples of each row), plus the helpers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pyarrow as pa
import pytest

from avellino.model.markings import Markings
from avellino.share.policy import (
    Decision,
    Jit,
    Reason,
    Recipient,
    Request,
    allowed_marking_ids,
    caveat,
    decide,
    decide_for,
    parse_note,
    purpose_kind,
    weakened,
)
from avellino.store.schema import MARKING_SCHEMA

TODAY = date(2026, 7, 1)
UK = "UK-NCA"
FR = Recipient("FR-OCRIEST", "FR", True)
DE = Recipient("DE-BKA", "DE", True)
DE_LKA = Recipient("DE-LKA", "DE", True)
BE = Recipient("BE-FPP", "BE", True)
NL = Recipient("NL-KMAR", "NL", True)
RU = Recipient("RU-MVD", "RU", True)
PLATFORM = Recipient("META", "IE", False)
NGO = Recipient("NGO-SEA", "DE", False, community=True)
FR_JIT = Recipient("FR-OCRIEST", "FR", True, teams=frozenset({"JIT-CHANNEL"}))


def fact(
    tlp: str = "GREEN",
    code: str = "H0",
    category: str = "suspect",
    originator: str = UK,
    review: str | None = None,
    note: str | None = None,
) -> Markings:
    return Markings.parse(originator, code, tlp, "B2", category, review, note)


def req(
    sender: str = UK, *to: Recipient, purpose: str = "investigation", teams: frozenset[str] = frozenset()
) -> Request:
    return Request(sender, to or (FR,), purpose, TODAY, teams)


def reason(m: Markings, r: Request) -> Reason | None:
    return decide(m, r).reason


def test_row1_retention_review_passed() -> None:
    assert decide(fact(review="2026-07-01"), req()).allowed  # the review day itself: still shared
    assert reason(fact(review="2026-06-30"), req()) == Reason.RETENTION
    assert decide(fact(review=None), req()).allowed


def test_row2_h2_only_the_originator_passes_it_on() -> None:
    assert decide(fact(code="H2"), req(UK, FR)).allowed
    assert reason(fact(code="H2"), req("FR-OCRIEST", DE)) == Reason.H2_ONWARD


def test_row3_h3_free_text_only_the_originator() -> None:
    m = fact(code="H3", note="not for the Italians")
    assert decide(m, req(UK, FR)).allowed
    assert reason(m, req("FR-OCRIEST", DE)) == Reason.H3_UNPARSED


def test_row4_h3_not_matches_country_or_name() -> None:
    assert reason(fact(code="H3", note="not:RU"), req(UK, RU)) == Reason.H3_EXCLUDED
    assert decide(fact(code="H3", note="not:RU"), req(UK, FR)).allowed
    m = fact(code="H3", note="not:DE-BKA")
    assert reason(m, req(UK, DE)) == Reason.H3_EXCLUDED
    assert decide(m, req(UK, DE_LKA)).allowed
    # a parsed restriction travels onward and binds every later sender too
    assert reason(fact(code="H3", note="not:de"), req("FR-OCRIEST", DE_LKA)) == Reason.H3_EXCLUDED


def test_row5_h3_only() -> None:
    m = fact(code="H3", note="only:FR-OCRIEST,BE")
    assert decide(m, req(UK, FR, BE)).allowed
    assert reason(m, req(UK, NL)) == Reason.H3_NOT_LISTED
    both = fact(code="H3", note="only:FR,DE; only:DE-BKA")  # clauses narrow
    assert decide(both, req(UK, DE)).allowed
    assert reason(both, req(UK, FR)) == Reason.H3_NOT_LISTED


def test_row6_h3_purpose() -> None:
    m = fact(code="H3", note="purpose:safeguarding")
    assert decide(m, req(UK, FR, purpose="safeguarding: boat 12")).allowed
    assert reason(m, req(UK, FR, purpose="investigation")) == Reason.H3_PURPOSE


@pytest.mark.parametrize("tlp", ["AMBER", "AMBER+STRICT", "RED"])
def test_row7_outside_law_enforcement(tlp: str) -> None:
    assert reason(fact(tlp=tlp), req(UK, PLATFORM)) == Reason.OUTSIDE_LE
    assert reason(fact(tlp=tlp), req(UK, NGO)) == Reason.OUTSIDE_LE


def test_row8_green_outside_community() -> None:
    assert reason(fact(tlp="GREEN"), req(UK, PLATFORM)) == Reason.GREEN_OUTSIDE_COMMUNITY
    assert decide(fact(tlp="GREEN"), req(UK, NGO)).allowed
    assert decide(fact(tlp="CLEAR"), req(UK, PLATFORM, NGO)).allowed


@pytest.mark.parametrize(
    ("tlp", "why"),
    [("RED", Reason.RED_ONWARD), ("AMBER+STRICT", Reason.AMBER_STRICT_ONWARD), ("AMBER", Reason.AMBER_ONWARD)],
)
def test_rows9_to_11_red_and_amber_never_onward(tlp: str, why: Reason) -> None:
    assert decide(fact(tlp=tlp), req(UK, FR, DE)).allowed
    assert reason(fact(tlp=tlp), req("FR-OCRIEST", DE)) == why


def test_green_travels_onward_within_law_enforcement() -> None:
    assert decide(fact(tlp="GREEN"), req("FR-OCRIEST", DE)).allowed


@pytest.mark.parametrize("category", ["victim", "witness", "informant"])
def test_row12_protected_people(category: str) -> None:
    m = fact(category=category)
    assert reason(m, req(UK, FR)) == Reason.PROTECTED
    assert decide(m, req(UK, FR, purpose="Safeguarding: boat 12")).allowed
    # a team label alone (partner add --team) is not a joint team: only a signed JIT agreement in force is
    assert reason(m, req(UK, FR_JIT, teams=frozenset({"JIT-CHANNEL"}))) == Reason.PROTECTED
    members = frozenset({UK, "FR-OCRIEST"})
    jit = Jit("JIT-CHANNEL", members, frozenset({"investigation"}), TODAY, TODAY, signed=True)
    assert decide(m, Request(UK, (FR,), "investigation", TODAY, jits=(jit,))).allowed
    for other in (
        replace(jit, signed=False),  # not signed by every member
        replace(jit, until=TODAY - timedelta(days=1)),  # term over
        replace(jit, start=TODAY + timedelta(days=1)),  # not begun
        replace(jit, ended=TODAY),  # ended by a member
        replace(jit, members=frozenset({UK, "DE-BKA"})),  # FR not a member (or left)
        replace(jit, purposes=frozenset({"safeguarding2"})),  # purpose not allowed by it
    ):
        assert reason(m, Request(UK, (FR,), "investigation", TODAY, jits=(other,))) == Reason.PROTECTED


def test_h1_caveat_inside_a_jit_that_permits_evidence() -> None:
    m = fact(code="H1")
    jit = Jit("JIT-CHANNEL", frozenset({UK, "FR-OCRIEST"}), frozenset({"investigation"}), TODAY, TODAY, True)
    assert caveat(m, jit) == caveat(m)  # the agreement says nothing: H1's condition stands
    assert "permission for use inside JIT-CHANNEL" in str(caveat(m, replace(jit, h1_evidence=True)))
    assert caveat(fact(code="H1", originator="DE-BKA"), replace(jit, h1_evidence=True)) == caveat(m)  # not a member


def test_jit_rules() -> None:
    """Shares made inside a JIT, and facts contributed to one (rows 13-16)."""
    members = frozenset({UK, "FR-OCRIEST", "DE-BKA"})
    jit = Jit("JIT-CHANNEL", members, frozenset({"investigation"}), TODAY, TODAY, signed=True)
    inside = Request("FR-OCRIEST", (DE,), "investigation", TODAY, jits=(jit,), jit="JIT-CHANNEL")
    green = fact(tlp="GREEN")
    assert decide(green, inside, within="JIT-CHANNEL").allowed
    assert reason(green, replace(inside, jits=(replace(jit, signed=False),))) == Reason.JIT_NOT_IN_FORCE
    assert reason(green, replace(inside, jits=())) == Reason.JIT_NOT_IN_FORCE
    assert reason(green, replace(inside, recipients=(NL,))) == Reason.JIT_NOT_MEMBER
    assert reason(green, replace(inside, purpose="analysis")) == Reason.JIT_PURPOSE
    outside = Request("FR-OCRIEST", (DE,), "investigation", TODAY, jits=(jit,))
    assert decide(green, outside).allowed  # not a JIT contribution: the other rows decide
    assert decide(green, outside, within="JIT-CHANNEL").reason == Reason.JIT_OUTSIDE
    assert decide(fact(tlp="GREEN", originator="FR-OCRIEST"), outside, within="JIT-CHANNEL").allowed  # its own


def test_first_refusing_row_gives_the_reason_and_every_recipient_must_pass() -> None:
    m = fact(tlp="RED", code="H2", category="victim", review="2020-01-01")
    assert reason(m, req("FR-OCRIEST", DE)) == Reason.RETENTION
    both = decide(fact(tlp="AMBER"), req(UK, FR, PLATFORM))
    assert both == Decision(False, Reason.OUTSIDE_LE, "META")
    assert decide_for(fact(tlp="AMBER"), req(UK, FR, PLATFORM), FR).allowed


def test_h0_and_h1_never_withhold_and_h1_is_shown() -> None:
    assert decide(fact(code="H1"), req("FR-OCRIEST", DE)).allowed
    assert caveat(fact(code="H1")) is not None and "evidence" in str(caveat(fact(code="H1")))
    assert caveat(fact(code="H0")) is None
    assert caveat(fact(code="H3", note="not:RU")) == "H3: not:RU"


def test_note_grammar() -> None:
    r = parse_note(" NOT: RU , by ; Only:FR-OCRIEST;purpose:investigation,safeguarding ")
    assert r is not None
    assert r.excluded == {"ru", "by"} and r.only == (frozenset({"fr-ocriest"}),)
    for bad in ["not for the Italians", "", " ; ", "never:RU", "not:", "not:RU,", "only:two words", "not:R;U x"]:
        assert parse_note(bad) is None, bad
    assert purpose_kind("  Safeguarding: boat 12") == "safeguarding"
    assert purpose_kind("investigation") == "investigation"


def test_weakened_names_what_a_copy_loses() -> None:
    m = fact(tlp="AMBER", code="H2", category="victim", review="2027-01-01")
    assert weakened(m, m) == []
    assert weakened(m, fact(tlp="RED", code="H2", category="victim", review="2026-12-01")) == []
    lost = weakened(m, fact(tlp="GREEN", code="H0", category="suspect", originator="FR-OCRIEST"))
    assert len(lost) == 5


def test_request_needs_recipients_and_purpose() -> None:
    with pytest.raises(ValueError):
        Request(UK, (), "investigation", TODAY)
    with pytest.raises(ValueError):
        Request(UK, (FR,), " ", TODAY)


def test_allowed_marking_ids_decides_once_per_marking_set() -> None:
    rows = [
        {"marking_id": "a", "originator": UK, "handling_code": "H0", "handling_note": None, "tlp": "GREEN",
         "evaluation": "B2", "subject_category": "suspect", "retention_review": None},
        {"marking_id": "b", "originator": UK, "handling_code": "H0", "handling_note": None, "tlp": "RED",
         "evaluation": "B2", "subject_category": "suspect", "retention_review": None},
        {"marking_id": "c", "originator": UK, "handling_code": "H0", "handling_note": None, "tlp": "GREEN",
         "evaluation": "B2", "subject_category": "victim", "retention_review": None},
        {"marking_id": "d", "originator": UK, "handling_code": "H9", "handling_note": None, "tlp": "GREEN",
         "evaluation": "B2", "subject_category": "suspect", "retention_review": None},
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=MARKING_SCHEMA)
    allowed, withheld = allowed_marking_ids(table, req(UK, PLATFORM, NGO))
    assert allowed == set()
    allowed, withheld = allowed_marking_ids(table, req(UK, FR), weights={"a": 5, "b": 7, "c": 3, "d": 2})
    assert allowed == {"a", "b"}
    assert withheld == {"protected category": 3, "markings not readable": 2}
