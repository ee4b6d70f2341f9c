"""Markings: who supplied a fact and under which conditions it may be used (see DOMAIN.md).

Every statement carries one ``Markings``. Vocabularies are defined once here and used both by Python validation
and by the SQL checks in ingest (``VOCABULARIES``), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from avellino.errors import MarkingError


class HandlingCode(StrEnum):
    H0 = "H0"  # law-enforcement purposes only
    H1 = "H1"  # not to be used as evidence without the originator's permission
    H2 = "H2"  # not to be passed on without the originator's permission
    H3 = "H3"  # other restrictions stated in free text


class TLP(StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class SubjectCategory(StrEnum):
    SUSPECT = "suspect"
    POTENTIAL_OFFENDER = "potential_offender"
    CONTACT = "contact"
    VICTIM = "victim"
    WITNESS = "witness"
    INFORMANT = "informant"
    OTHER = "other"


#: Categories that are never disruption targets and carry safeguarding flags.
PROTECTED_CATEGORIES = frozenset({SubjectCategory.VICTIM, SubjectCategory.WITNESS, SubjectCategory.INFORMANT})
#: The same, as the plain strings statements carry (for SQL, Arrow and pandas filters), in a stable order.
PROTECTED_VALUES: tuple[str, ...] = tuple(sorted(c.value for c in PROTECTED_CATEGORIES))
#: Categories an originator uses for people it suspects.
OFFENDER_CATEGORIES = frozenset({SubjectCategory.SUSPECT, SubjectCategory.POTENTIAL_OFFENDER})

#: Strictness: each list runs from the least to the most restrictive (a summary of facts is marked with the
#: strictest of them; markings are never weakened on the way out).
TLP_ORDER: tuple[TLP, ...] = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)
HANDLING_ORDER: tuple[HandlingCode, ...] = (HandlingCode.H0, HandlingCode.H1, HandlingCode.H2, HandlingCode.H3)


def protected_sql(column: str) -> str:
    """SQL that is true when ``column`` holds a protected category (the same in DuckDB and PostgreSQL)."""
    return f"{column} IN ({', '.join(repr(v) for v in PROTECTED_VALUES)})"


HANDLING_MEANING = {
    HandlingCode.H0: "For law-enforcement purposes only (prevention and combating of crime)",
    HandlingCode.H1: "Not to be used as evidence in judicial proceedings without the originator's permission",
    HandlingCode.H2: "Not to be passed on to anyone else without the originator's permission",
    HandlingCode.H3: "Other restrictions stated by the originator",
}
RELIABILITY = {"A": "no doubt", "B": "mostly reliable", "C": "mostly unreliable", "X": "cannot be assessed"}
CREDIBILITY = {
    "1": "known true without reservation",
    "2": "known personally to the source",
    "3": "not known personally, corroborated",
    "4": "cannot be judged",
}
EVALUATION_RE = re.compile(r"^[ABCX][1-4]$")

#: Accepted spellings -> canonical value, per marking field (used by ingest in SQL and by Markings.parse).
VOCABULARIES: dict[str, dict[str, str]] = {
    "handling_code": {c.value.lower(): c.value for c in HandlingCode},
    "tlp": {
        **{t.value.lower(): t.value for t in TLP},
        "tlp:clear": "CLEAR",
        "tlp:green": "GREEN",
        "tlp:amber": "AMBER",
        "tlp:amber+strict": "AMBER+STRICT",
        "tlp:red": "RED",
        "white": "CLEAR",
    },
    "subject_category": {
        **{c.value: c.value for c in SubjectCategory},
        "potential offender": "potential_offender",
        "contact or associate": "contact",
        "associate": "contact",
        "convicted": "suspect",
    },
    "evaluation": {f"{r.lower()}{c}": f"{r}{c}" for r in RELIABILITY for c in CREDIBILITY},
}


def canonical(field: str, value: str | None) -> str | None:
    """The canonical form of a marking value, or None when it is not in the field's vocabulary."""
    if value is None:
        return None
    key = value.strip().lower().replace(" ", "") if field == "evaluation" else value.strip().lower()
    return VOCABULARIES[field].get(key)


@dataclass(frozen=True)
class Markings:
    """The markings on one statement. Construct with :meth:`parse` to validate."""

    originator: str
    handling_code: HandlingCode
    tlp: TLP
    evaluation: str
    subject_category: SubjectCategory
    retention_review: date | None = None
    handling_note: str | None = None
    source_record: str | None = None

    @classmethod
    def parse(
        cls,
        originator: str | None,
        handling_code: str | None,
        tlp: str | None,
        evaluation: str | None,
        subject_category: str | None,
        retention_review: str | date | None = None,
        handling_note: str | None = None,
        source_record: str | None = None,
    ) -> Markings:
        """Validate every field and raise one MarkingError listing all problems."""
        problems: list[str] = []
        if not originator or not originator.strip():
            problems.append("originator is missing (every fact must say which agency supplied it)")
        values: dict[str, str | None] = {}
        for field, raw in (
            ("handling_code", handling_code),
            ("tlp", tlp),
            ("evaluation", evaluation),
            ("subject_category", subject_category),
        ):
            values[field] = canonical(field, raw)
            if values[field] is None:
                allowed = ", ".join(sorted(set(VOCABULARIES[field].values())))
                problems.append(f"{field} {raw!r} is not one of: {allowed}")
        if values["handling_code"] == "H3" and not (handling_note and handling_note.strip()):
            problems.append("handling code H3 needs a handling_note stating the restriction")
        review: date | None = None
        if isinstance(retention_review, date):
            review = retention_review
        elif retention_review:
            try:
                review = date.fromisoformat(retention_review.strip())
            except ValueError:
                problems.append(f"retention_review {retention_review!r} is not a date (YYYY-MM-DD)")
        if problems:
            raise MarkingError("; ".join(problems))
        return cls(
            originator=str(originator).strip(),
            handling_code=HandlingCode(str(values["handling_code"])),
            tlp=TLP(str(values["tlp"])),
            evaluation=str(values["evaluation"]),
            subject_category=SubjectCategory(str(values["subject_category"])),
            retention_review=review,
            handling_note=handling_note.strip() if handling_note else None,
            source_record=source_record,
        )

    @property
    def protected(self) -> bool:
        """True for victims, witnesses and informants: safeguarding applies."""
        return self.subject_category in PROTECTED_CATEGORIES
