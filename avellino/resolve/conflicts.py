"""Which records can never be one person, and which pairs rest on more than a name: pure, per record.

Used by clustering (``clusters.cluster``) so that chains of weak links cannot put together records that
contradict each other:

* **conflict** (``Evidence.conflict``): a strong identifier type (passport, ID number) known on both records
  with no value in common, or dates of birth that no recording error explains: not the same date, day and
  month swapped, a 01/01 or year-only placeholder in the same year, or one digit wrong (a wrong or
  transposed digit). A shared passport or ID number outweighs a date conflict (a keying error in a date).
  Phones and e-mail addresses are not used for conflicts: people have several.
* **corroborated** (``Evidence.corroborated``): the pair shares an identifier of any kind (phone included) or
  the same date of birth (day and month may be swapped; one digit off is not enough, and a 01/01 placeholder
  agrees with nothing).
  Needed for a join that would put a record an originator marked as a victim, witness or informant with one
  marked as a suspect or potential offender: a victim and an offender are never merged on name evidence alone.
  A record whose only part in the operation is piloting a boat counts as protected here (``migrant_pilots``):
  coerced migrant pilots are usually recorded as suspects, and the network area already never targets them
  (``network/protect.py``); merging one into a namesake recruiter on name evidence would make the recruiter's
  record name a victim and the victim's record a recruiter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from avellino.model.markings import OFFENDER_CATEGORIES as OFFENDERS
from avellino.model.markings import PROTECTED_VALUES
from avellino.resolve.model import ID_COLUMNS

STRONG_ID_COLUMNS = ("passports", "id_numbers")
OFFENDER_CATEGORIES = frozenset(c.value for c in OFFENDERS)
PROTECTED = frozenset(PROTECTED_VALUES)


def one_edit(a: str, b: str) -> bool:
    """Same length and one character wrong, or two adjacent characters swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


# (year, month or None, day or None)
Dob = tuple[str, str | None, str | None]


def dob_relation(a: Dob | None, b: Dob | None) -> str:
    """``unknown`` (either missing), ``agree`` (same, swapped, one digit), ``compatible`` (same year, one side a
    01/01 or year-only placeholder) or ``conflict``."""
    if a is None or b is None:
        return "unknown"
    (ya, ma, da), (yb, mb, db) = a, b
    if ma is None or mb is None or da is None or db is None:
        return "compatible" if ya == yb else "conflict"
    if (ya, ma, da) == (yb, mb, db) or (ya == yb and ma == db and da == mb):
        return "agree"
    if one_edit(f"{ya}{ma}{da}", f"{yb}{mb}{db}"):
        return "agree"
    if ya == yb and ((ma, da) == ("01", "01") or (mb, db) == ("01", "01")):
        return "compatible"
    return "conflict"


def _placeholder(dob: Dob | None) -> bool:
    return dob is not None and (dob[1], dob[2]) == ("01", "01")


@dataclass
class Evidence:
    """Per record: date of birth, identifiers by type, and whether an originator marked it protected/offender."""

    dob: dict[str, Dob] = field(default_factory=dict)
    ids: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    offender: set[str] = field(default_factory=set)

    def conflict(self, a: str, b: str) -> bool:
        ids_a, ids_b = self.ids.get(a, {}), self.ids.get(b, {})
        strong_shared = False
        for col in STRONG_ID_COLUMNS:
            va, vb = ids_a.get(col), ids_b.get(col)
            if va and vb:
                if va.isdisjoint(vb):
                    return True
                strong_shared = True
        return not strong_shared and dob_relation(self.dob.get(a), self.dob.get(b)) == "conflict"

    def corroborated(self, a: str, b: str) -> bool:
        ids_a, ids_b = self.ids.get(a, {}), self.ids.get(b, {})
        if any(ids_a[col] & ids_b[col] for col in ids_a.keys() & ids_b.keys()):
            return True
        da, db = self.dob.get(a), self.dob.get(b)
        if da is None or db is None or _placeholder(da) or _placeholder(db):  # 01/01: "day and month unknown"
            return False
        # the same date, or day and month swapped; a date one digit away is near, not the same person's
        # (Van Nam NGUYEN 2001-01-19, a victim, and Van Hung NGUYEN 2001-04-19, a recruiter, on the 20k sample)
        (ya, ma, dd), (yb, mb, de) = da, db
        return ya == yb and ((ma, dd) == (mb, de) or (ma, dd) == (de, mb))

    def kinds(self, members: Iterable[str]) -> tuple[bool, bool]:
        """(any member marked protected, any marked offender)."""
        members = list(members)
        return any(m in self.protected for m in members), any(m in self.offender for m in members)


#: (schema, property) pairs that reference a record taking part in smuggling in a role other than piloting.
OFFENDER_REFERENCES = frozenset(
    {
        ("Crossing", "organiser"),
        ("Crossing", "organizer"),
        ("Purchase", "seller"),
        ("Purchase", "buyer"),
        ("Advert", "author"),
        ("Leg", "operator"),
        ("Payment", "beneficiary"),
    }
)
#: The schemata those references (and ``Crossing.pilot``) live in, for readers.
REFERENCE_SCHEMATA = sorted({"Crossing"} | {s for s, _ in OFFENDER_REFERENCES})


def migrant_pilots(references: pd.DataFrame) -> set[str]:
    """The records referenced as a crossing's pilot and in no other smuggling role (``schema, prop, value``
    rows of the statements that reference records)."""
    pairs = list(zip(references["schema"], references["prop"], strict=True))
    pilots = {v for (s, p), v in zip(pairs, references["value"], strict=True) if (s, p) == ("Crossing", "pilot")}
    other = {v for (s, p), v in zip(pairs, references["value"], strict=True) if (s, p) in OFFENDER_REFERENCES}
    return pilots - other


def evidence_from_features(
    features: pd.DataFrame, categories: pd.DataFrame | None = None, pilots: set[str] | None = None
) -> Evidence:
    """From the feature table (``unique_id``, ``dob_y/m/d``, identifier arrays) and optionally
    ``entity_id, subject_category`` rows (every category any statement gives the record) and the records that
    only piloted a boat (``migrant_pilots``), which count as protected."""
    ev = Evidence()
    uid = features["unique_id"].astype(str).to_numpy()
    if "dob_y" in features.columns:
        y, m, d = (features[c] if c in features.columns else pd.Series(None, index=features.index) for c in
                   ("dob_y", "dob_m", "dob_d"))  # fmt: skip
        for i, yy, mm, dd in zip(uid, y, m, d, strict=True):
            if isinstance(yy, str) and yy:
                ev.dob[i] = (yy, mm if isinstance(mm, str) else None, dd if isinstance(dd, str) else None)
    for col in ID_COLUMNS:
        if col not in features.columns:
            continue
        for i, values in zip(uid, features[col], strict=True):
            if values is not None and len(values):
                ev.ids.setdefault(i, {})[col] = frozenset(str(v) for v in values)
    if categories is not None and not categories.empty:
        ev.protected = set(categories.loc[categories["subject_category"].isin(PROTECTED), "entity_id"])
        ev.offender = set(categories.loc[categories["subject_category"].isin(OFFENDER_CATEGORIES), "entity_id"])
    ev.protected |= pilots or set()
    return ev
