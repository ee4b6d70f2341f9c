"""A money finding, its evidence, and the one exit every finding list leaves by.

A finding names a *subject* (the collector of a fan-in, the sender who splits amounts, the account money passes
through) and the other people it accuses (the intermediaries of a chain or cycle); the *payers* of a fan-in are
not accused. ``release`` is the single exit: a finding that would accuse a protected person (victim, witness,
informant, migrant pilot: ``network.protect.Protection``) is withheld and shown only as a safeguarding flag;
protected payers stay in the finding as flagged payers (a migrant paying a collector is evidence, not a suspect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from avellino.network.protect import Protection


@dataclass
class Finding:
    """One detected pattern with the transactions it rests on and the markings of their statements."""

    pattern: str
    subject: str
    role: str  # what the subject is in the pattern: collector, distributor, pass-through, ...
    accused: tuple[str, ...]  # every node the finding points at (subject first)
    payers: tuple[str, ...]  # counterparties named as evidence only
    transactions: tuple[str, ...]
    amount: float
    first: str
    last: str
    markings: tuple[str, ...] = ()
    flagged_payers: tuple[str, ...] = ()
    note: str = ""

    def to_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        lab = labels or {}
        return {
            "pattern": self.pattern,
            "subject": self.subject,
            "subject_label": lab.get(self.subject, self.subject),
            "role": self.role,
            "accused": list(self.accused),
            "payers": len(self.payers),
            "flagged_payers": list(self.flagged_payers),
            "transactions": list(self.transactions),
            "amount": round(self.amount, 2),
            "first": self.first,
            "last": self.last,
            "markings": list(self.markings),
            "note": self.note,
        }


@dataclass
class Released:
    """The findings that may be shown, and the withheld ones as safeguarding flags (node, reason, pattern)."""

    shown: list[Finding] = field(default_factory=list)
    withheld: list[dict[str, str]] = field(default_factory=list)


def make(
    pattern: str, subject: str, role: str, rows: pd.DataFrame, accused: tuple[str, ...] = (), note: str = ""
) -> Finding:
    """A finding from its evidence rows (ledger rows): payers are the sources that are not accused."""
    accused = (subject, *[a for a in accused if a != subject])
    payers = tuple(sorted(set(rows["src"]) - set(accused)))
    marks = sorted({m for text in rows["markings"] for m in str(text).split(";") if m})
    dates = rows["date"]
    return Finding(
        pattern=pattern,
        subject=subject,
        role=role,
        accused=accused,
        payers=payers,
        transactions=tuple(str(t) for t in rows["tx"]),
        amount=float(rows["amount"].sum()),
        first=str(dates.min().date()) if len(rows) else "",
        last=str(dates.max().date()) if len(rows) else "",
        markings=tuple(marks),
        note=note,
    )


def make_many(
    pattern: str,
    role: str,
    rows: pd.DataFrame,
    notes: dict[str, str],
    accused: dict[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """``make`` for many subjects at once (ledger rows with a ``subject`` column, in ledger order): grouped
    aggregates instead of one slice per subject, since a big ledger gives tens of thousands of findings."""
    if rows.empty:
        return []
    rows = rows.sort_values("subject", kind="stable")  # ledger order kept within each subject
    names, starts = np.unique(rows["subject"].astype(str).to_numpy(), return_index=True)
    cuts = starts[1:]
    dates = rows["date"].to_numpy().astype("datetime64[D]")
    amounts = rows["amount"].to_numpy(dtype=float)
    columns = (
        names.tolist(),
        np.split(rows["tx"].astype(object).to_numpy(), cuts),
        np.add.reduceat(amounts, starts).tolist(),
        [str(d) for d in np.minimum.reduceat(dates, starts)],
        [str(d) for d in np.maximum.reduceat(dates, starts)],
        np.split(rows["src"].astype(object).to_numpy(), cuts),
        np.split(rows["markings"].astype(object).to_numpy(), cuts),
    )
    out = []
    for subject, tx_ids, total, since, until, sources, texts in zip(*columns, strict=True):
        subj = str(subject)
        acc = (subj, *[a for a in (accused or {}).get(subj, ()) if a != subj])
        out.append(
            Finding(
                pattern=pattern,
                subject=subj,
                role=role,
                accused=acc,
                payers=tuple(sorted({str(x) for x in sources} - set(acc))),
                transactions=tuple(str(t) for t in tx_ids),
                amount=float(total),
                first=str(since),
                last=str(until),
                markings=tuple(sorted({m for text in set(texts) for m in str(text).split(";") if m})),
                note=notes.get(subj, ""),
            )
        )
    return out


def release(findings: list[Finding], protection: Protection) -> Released:
    """Withhold every finding that accuses a protected person; flag protected payers in the rest."""
    out = Released()
    for f in findings:
        hit = [a for a in f.accused if a in protection]
        if hit:
            out.withheld.extend({"node": a, "reason": protection.reason(a), "pattern": f.pattern} for a in hit)
            continue
        f.flagged_payers = tuple(p for p in f.payers if p in protection)
        out.shown.append(f)
    return out
