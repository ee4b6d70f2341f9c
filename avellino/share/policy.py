"""The one sharing policy: may this fact (one statement's markings) leave this node for these recipients?

Every way out of a workspace (exports for a partner, bundles, graph files, briefings, API answers) asks this module,
so the conditions an originator attached to a fact are enforced in one place. The rules are the table of
``docs/sharing.md``, checked in this order (the first rule that refuses gives the reason):

1. retention: past its retention review date a fact is not shared (it is listed for review instead);
2. H2: only the originator may pass it on;
3. H3: the structured restrictions of ``handling_note`` (``not:``, ``only:``, ``purpose:``); a note that does not
   parse means only the originator may share the fact;
4. TLP 2.0: recipients outside law enforcement get CLEAR, or GREEN when registered as community; RED, AMBER+STRICT
   and AMBER never travel onward (only the originator sends them, to the recipients it names);
5. victims, witnesses and informants only for a safeguarding purpose or to a partner that shares a joint
   investigation team in force with the sender (a signed JIT agreement, ``share/jit.py``: every member signed,
   today within its term, the purpose kind allowed by it);
6. joint investigation teams: a share made inside a JIT (``Request.jit``) needs that JIT in force, the sender and
   the recipient among its members and the purpose allowed by it; a fact contributed to a JIT (received in one of
   its bundles: ``within``) leaves a node other than its originator only inside that JIT.

H0 and H1 never withhold: they travel with the fact (``caveat`` gives the text every output shows). Markings are
never changed on the way out; ``weakened`` names what a changed copy would lose, for writers and receivers to check.

A bundle to several recipients holds a fact only if every recipient may have it (``decide`` is the conjunction of
``decide_for``). The markings table has few distinct rows, so callers decide once per marking set
(``decide_table`` / ``allowed_marking_ids``), never per statement.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import pyarrow as pa

from avellino.model.markings import (
    HANDLING_MEANING,
    PROTECTED_CATEGORIES,
    TLP,
    TLP_ORDER,
    HandlingCode,
    Markings,
    SubjectCategory,
)

#: The purpose that lets victims, witnesses and informants be shared (see ``purpose_kind``).
SAFEGUARDING = "safeguarding"


class Reason(StrEnum):
    """Why a fact was withheld: short, stable codes that bundles, exports and the briefing count by."""

    RETENTION = "retention review passed"
    H2_ONWARD = "H2 not originator"
    H3_UNPARSED = "H3 note not structured, not originator"
    H3_EXCLUDED = "H3 recipient excluded"
    H3_NOT_LISTED = "H3 recipient not listed"
    H3_PURPOSE = "H3 purpose not allowed"
    OUTSIDE_LE = "TLP outside law enforcement"
    GREEN_OUTSIDE_COMMUNITY = "TLP:GREEN outside community"
    RED_ONWARD = "TLP:RED onward"
    AMBER_STRICT_ONWARD = "TLP:AMBER+STRICT onward"
    AMBER_ONWARD = "TLP:AMBER onward"
    PROTECTED = "protected category"
    JIT_NOT_IN_FORCE = "JIT not in force"
    JIT_NOT_MEMBER = "JIT recipient not a member"
    JIT_PURPOSE = "JIT purpose not allowed"
    JIT_OUTSIDE = "JIT contribution outside its JIT"
    INVALID = "markings not readable"


@dataclass(frozen=True)
class Recipient:
    """A partner node a fact would go to."""

    name: str  #: node name, e.g. "FR-OCRIEST"
    country: str  #: ISO 3166 alpha-2, e.g. "FR"
    law_enforcement: bool  #: False for platforms, NGOs...
    community: bool = False  #: registered as part of the sender's TLP:GREEN community
    #: joint team labels (``partner add --team``), shown only: the policy reads signed agreements (``Request.jits``)
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Jit:
    """A joint investigation team's agreement as the policy reads it (``share/jit.py`` builds it, having checked
    every member's signature against the cards this node holds)."""

    name: str
    members: frozenset[str]  #: current members (those who left are not)
    purposes: frozenset[str]  #: purpose kinds allowed inside it
    start: date
    until: date  #: last day of the term
    signed: bool  #: every member's signature verified
    ended: date | None = None  #: the day a member ended it
    h1_evidence: bool = False  #: members agreed that H1 facts may serve as evidence inside it

    def in_force(self, today: date) -> bool:
        return self.signed and self.ended is None and self.start <= today <= self.until

    def admits(self, sender: str, recipient: str, purpose: str, today: date) -> bool:
        """Whether ``sender`` may share with ``recipient`` inside this JIT today for ``purpose``."""
        return (
            self.in_force(today)
            and sender in self.members
            and recipient in self.members
            and purpose_kind(purpose) in self.purposes
        )


@dataclass(frozen=True)
class Request:
    """One act of sharing: who sends, to whom, why and when."""

    sender: str  #: this node's name (the agency sending)
    recipients: tuple[Recipient, ...]
    purpose: str
    today: date
    sender_teams: frozenset[str] = field(default=frozenset())  #: labels, shown only (see ``Recipient.teams``)
    jits: tuple[Jit, ...] = ()  #: the JIT agreements the sender holds
    jit: str | None = None  #: the JIT this share is made inside (``share send --jit``), if any

    def find_jit(self, name: str) -> Jit | None:
        return next((j for j in self.jits if j.name == name), None)

    def shares_jit(self, recipient: str) -> bool:
        """Whether the sender and ``recipient`` are members of a JIT in force that allows this purpose."""
        return any(j.admits(self.sender, recipient, self.purpose, self.today) for j in self.jits)

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("a share request needs at least one recipient (internal exports do not ask the policy)")
        if not self.purpose or not self.purpose.strip():
            raise ValueError("a share request needs a purpose")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason | None = None  #: set when withheld
    recipient: str | None = None  #: the (first) recipient that may not have it, when withheld


ALLOWED = Decision(True)


# -- H3 notes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restrictions:
    """The structured restrictions of an H3 note. Items are case-folded; each ``only``/``purpose`` clause must
    hold on its own (several clauses of one kind narrow, never widen)."""

    excluded: frozenset[str] = frozenset()  #: ``not:`` recipient names or country codes
    only: tuple[frozenset[str], ...] = ()  #: ``only:`` recipient names or country codes
    purposes: tuple[frozenset[str], ...] = ()  #: ``purpose:`` purpose kinds


_CLAUSE = re.compile(r"^\s*(not|only|purpose)\s*:\s*(.+?)\s*$", re.IGNORECASE)
_ITEM = re.compile(r"^[\w][\w.+-]*$")


def parse_note(note: str | None) -> Restrictions | None:
    """The restrictions an H3 note states, or None when it is free text (or empty) that does not parse.

    Grammar: clauses separated by ``;``, each ``not:ITEMS``, ``only:ITEMS`` or ``purpose:ITEMS`` with ITEMS a comma
    separated list of single words (a partner name such as ``FR-OCRIEST``, a country code such as ``FR``, or a
    purpose such as ``safeguarding``). Example: ``not:RU; only:FR-OCRIEST,BE-FPP; purpose:investigation``.
    """
    if note is None or not note.strip():
        return None
    excluded: set[str] = set()
    only: list[frozenset[str]] = []
    purposes: list[frozenset[str]] = []
    for clause in note.split(";"):
        if not clause.strip():
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        items = [i.strip() for i in match.group(2).split(",")]
        if not items or any(not _ITEM.match(i) for i in items):
            return None
        folded = frozenset(i.casefold() for i in items)
        key = match.group(1).casefold()
        if key == "not":
            excluded |= folded
        elif key == "only":
            only.append(folded)
        else:
            purposes.append(folded)
    if not (excluded or only or purposes):
        return None
    return Restrictions(frozenset(excluded), tuple(only), tuple(purposes))


def purpose_kind(purpose: str) -> str:
    """The kind of a free-text purpose: its first word, case-folded ("Safeguarding: boat 12" -> "safeguarding").
    H3 ``purpose:`` clauses and the safeguarding exception compare kinds."""
    words = re.split(r"[\s:;,]+", purpose.strip(), maxsplit=1)
    return words[0].casefold() if words else ""


# -- the rules -------------------------------------------------------------------------------------------


def _h3(m: Markings, req: Request, r: Recipient, onward: bool) -> Reason | None:
    restrictions = parse_note(m.handling_note)
    if restrictions is None:
        return Reason.H3_UNPARSED if onward else None
    names = {r.name.casefold(), r.country.casefold()}
    if names & restrictions.excluded:
        return Reason.H3_EXCLUDED
    if any(not (names & allowed) for allowed in restrictions.only):
        return Reason.H3_NOT_LISTED
    kind = purpose_kind(req.purpose)
    if any(kind not in allowed for allowed in restrictions.purposes):
        return Reason.H3_PURPOSE
    return None


def _tlp(m: Markings, r: Recipient, onward: bool) -> Reason | None:
    if not r.law_enforcement:
        if m.tlp == TLP.CLEAR or (m.tlp == TLP.GREEN and r.community):
            return None
        return Reason.GREEN_OUTSIDE_COMMUNITY if m.tlp == TLP.GREEN else Reason.OUTSIDE_LE
    if onward:
        if m.tlp == TLP.RED:
            return Reason.RED_ONWARD
        if m.tlp == TLP.AMBER_STRICT:
            return Reason.AMBER_STRICT_ONWARD
        if m.tlp == TLP.AMBER:
            return Reason.AMBER_ONWARD
    return None


def _jit(m: Markings, req: Request, r: Recipient, within: str | None) -> Reason | None:
    if req.jit is not None:
        jit = req.find_jit(req.jit)
        if jit is None or not jit.in_force(req.today):
            return Reason.JIT_NOT_IN_FORCE
        if req.sender not in jit.members or r.name not in jit.members:
            return Reason.JIT_NOT_MEMBER
        if purpose_kind(req.purpose) not in jit.purposes:
            return Reason.JIT_PURPOSE
    if within is not None and m.originator != req.sender and req.jit != within:
        return Reason.JIT_OUTSIDE
    return None


def _rules(m: Markings, req: Request, r: Recipient, within: str | None = None) -> Reason | None:
    """The first rule of the table that refuses, or None."""
    onward = m.originator != req.sender
    if m.retention_review is not None and m.retention_review < req.today:
        return Reason.RETENTION
    if m.handling_code == HandlingCode.H2 and onward:
        return Reason.H2_ONWARD
    if m.handling_code == HandlingCode.H3 and (found := _h3(m, req, r, onward)) is not None:
        return found
    if (found := _tlp(m, r, onward)) is not None:
        return found
    if (
        m.subject_category in PROTECTED_CATEGORIES
        and purpose_kind(req.purpose) != SAFEGUARDING
        and not req.shares_jit(r.name)
    ):
        return Reason.PROTECTED
    return _jit(m, req, r, within)


def decide_for(m: Markings, req: Request, r: Recipient, within: str | None = None) -> Decision:
    """May recipient ``r`` have a fact with markings ``m``, sent by ``req.sender`` for ``req.purpose``?
    ``within``: the JIT the fact was contributed to (received in one of its bundles), if any."""
    reason = _rules(m, req, r, within)
    return ALLOWED if reason is None else Decision(False, reason, r.name)


def decide(m: Markings, req: Request, within: str | None = None) -> Decision:
    """May a fact go to ALL the request's recipients (one bundle)? The first refusal is the answer."""
    for r in req.recipients:
        decision = decide_for(m, req, r, within)
        if not decision.allowed:
            return decision
    return ALLOWED


def caveat(m: Markings, jit: Jit | None = None) -> str | None:
    """What must be shown wherever the fact is shown: H1's condition (and an H3 note), or None. The policy never
    strips a handling code; writers print this beside the fact. ``jit``: the JIT the fact is shown inside, whose
    agreement may give the originator's permission to use H1 facts as evidence among its members."""
    if m.handling_code == HandlingCode.H1:
        if jit is not None and jit.h1_evidence and m.originator in jit.members:
            return (
                f"H1: {HANDLING_MEANING[HandlingCode.H1]}; the originator gave that permission for use inside "
                f"{jit.name} (JIT agreement)"
            )
        return f"H1: {HANDLING_MEANING[HandlingCode.H1]}"
    if m.handling_code == HandlingCode.H3 and m.handling_note:
        return f"H3: {m.handling_note}"
    return None


def weakened(before: Markings, after: Markings) -> list[str]:
    """What ``after`` loses against ``before`` (empty when nothing was weakened). A stricter TLP or an earlier
    review date is not weakening; any other change to the markings is."""
    lost: list[str] = []
    if after.originator != before.originator:
        lost.append(f"originator {before.originator!r} -> {after.originator!r}")
    if after.handling_code != before.handling_code:
        lost.append(f"handling code {before.handling_code} -> {after.handling_code}")
    if (after.handling_note or None) != (before.handling_note or None):
        lost.append("handling note changed")
    if TLP_ORDER.index(after.tlp) < TLP_ORDER.index(before.tlp):
        lost.append(f"TLP {before.tlp} -> {after.tlp}")
    if after.subject_category != before.subject_category:
        lost.append(f"subject category {before.subject_category} -> {after.subject_category}")
    if before.retention_review is not None and (
        after.retention_review is None or after.retention_review > before.retention_review
    ):
        lost.append(f"retention review {before.retention_review} -> {after.retention_review}")
    return lost


# -- many facts at once ----------------------------------------------------------------------------------


def markings_of_row(row: Mapping[str, object]) -> Markings | None:
    """A stored marking set (a row of the markings table or a statement) as Markings, or None when a value is
    outside the vocabularies (such a fact is withheld, never guessed)."""
    try:
        review = row.get("retention_review")
        return Markings(
            originator=str(row["originator"]),
            handling_code=HandlingCode(str(row["handling_code"])),
            tlp=TLP(str(row["tlp"])),
            evaluation=str(row.get("evaluation") or ""),
            subject_category=SubjectCategory(str(row["subject_category"])),
            retention_review=review if isinstance(review, date) else None,
            handling_note=str(row["handling_note"]) if row.get("handling_note") is not None else None,
        )
    except (KeyError, ValueError):
        return None


def decide_table(markings: pa.Table, req: Request, within: str | None = None) -> dict[str, Decision]:
    """One decision per marking set of a markings table (``marking_id`` plus MARKING_SCHEMA's fields), for facts
    contributed to JIT ``within`` (None: facts outside any JIT)."""
    decisions: dict[str, Decision] = {}
    for row in markings.to_pylist():
        m = markings_of_row(row)
        decisions[str(row["marking_id"])] = Decision(False, Reason.INVALID) if m is None else decide(m, req, within)
    return decisions


def allowed_marking_ids(
    markings: pa.Table, req: Request, weights: Mapping[str, int] | None = None
) -> tuple[set[str], Counter[str]]:
    """The marking ids whose facts may go to every recipient, and what is withheld counted by reason: marking
    sets by default, or statements when ``weights`` gives the statements per marking id."""
    allowed: set[str] = set()
    withheld: Counter[str] = Counter()
    for marking_id, decision in decide_table(markings, req).items():
        if decision.allowed:
            allowed.add(marking_id)
        elif decision.reason is not None:
            withheld[decision.reason.value] += weights.get(marking_id, 0) if weights is not None else 1
    return allowed, withheld
