"""The sharing policy against a reference model of the table in docs/sharing.md: 10,000 random cases, 0 leaks.

The reference model below is a transcription of that table, row by row, written without calling the policy's
internals (it has its own H3 note reader and its own purpose kind). Each case draws a fact (originator, handling
code and note, TLP, category, review date), a sender, one to three recipients (country, law enforcement or not,
community, joint team labels), a purpose and a day, two joint investigation team agreements (members, term,
allowed purposes, signed by every member or not, ended or not), the JIT the fact was contributed to, then a
re-share chain: the fact goes from node to node for as long as the policy lets it, each hop made inside a JIT or
not (a fact received inside a JIT is contributed to it at the receiver). Every hop must agree with the reference (a
leak is the policy allowing what the table refuses; refusing what the table allows is a failure too); no fact that
only its originator may send (H2, RED, AMBER+STRICT, AMBER, unreadable H3) ever reaches a node two hops from its
originator; and a fact contributed to a JIT is passed on by a member only inside that JIT, in force, to members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from avellino.model.markings import TLP, HandlingCode, Markings, SubjectCategory
from avellino.share.policy import Jit, Recipient, Request, decide, decide_for

TODAY = date(2026, 7, 1)
NODES = {  # name -> (country, law enforcement)
    "UK-NCA": ("UK", True),
    "FR-OCRIEST": ("FR", True),
    "DE-BKA": ("DE", True),
    "DE-LKA": ("DE", True),
    "IT-SCO": ("IT", True),
    "RU-MVD": ("RU", True),
    "META": ("IE", False),
    "NGO-SEA": ("DE", False),
}
TEAMS = ["JIT-CHANNEL", "JIT-BALKAN"]
PURPOSES = [
    "investigation",
    "Investigation of boat 12",
    "safeguarding",
    "Safeguarding: victims",
    "analysis",
    "SAFEGUARDING",
]
ITEMS = [*NODES, "uk", "FR", "de", "RU", "IE", "investigation", "safeguarding", "analysis"]
FREE_TEXT = ["not for the Italians", "ask first", "only: two words", "never:RU", "not:", "", " ; ", "not:RU,"]

# -- the reference model: docs/sharing.md, row by row -----------------------------------------------------------


def ref_kind(purpose: str) -> str:
    """'the first word of the purpose, case-folded'"""
    word = ""
    for ch in purpose.strip():
        if ch.isspace() or ch in ":;,":
            break
        word += ch
    return word.lower()


def ref_note(note: str | None) -> list[tuple[str, set[str]]] | None:
    """H3 notes: clauses separated by ';', each not:/only:/purpose: with comma-separated single words."""
    if note is None:
        return None
    clauses = []
    for part in note.split(";"):
        if part.strip() == "":
            continue
        if ":" not in part:
            return None
        key, _, rest = part.partition(":")
        key = key.strip().lower()
        words = [w.strip() for w in rest.split(",")]
        if key not in ("not", "only", "purpose"):
            return None
        for w in words:
            if w == "" or any(not (c.isalnum() or c in "_.+-") for c in w) or w[0] in ".+-":
                return None
        clauses.append((key, {w.lower() for w in words}))
    return clauses or None


def ref_in_force(j: Jit, today: date) -> bool:
    """'every member signed, not ended, today within its term'"""
    return j.signed and j.ended is None and j.start <= today and today <= j.until


def ref_admits(j: Jit, sender: str, recipient: str, purpose: str, today: date) -> bool:
    return ref_in_force(j, today) and sender in j.members and recipient in j.members and ref_kind(purpose) in j.purposes


def reference(
    m: Markings,
    sender: str,
    r: Recipient,
    purpose: str,
    today: date,
    jits: tuple[Jit, ...] = (),
    inside: str | None = None,
    within: str | None = None,
) -> str | None:
    """The reason of the first row that refuses, or None when the fact may go."""
    onward = m.originator != sender
    jit = next((j for j in jits if j.name == inside), None)
    h3 = m.handling_code == HandlingCode.H3
    clauses = ref_note(m.handling_note) if h3 else []
    me = {r.name.lower(), r.country.lower()}
    rows: list[tuple[bool, str]] = [
        (m.retention_review is not None and m.retention_review < today, "retention review passed"),
        (m.handling_code == HandlingCode.H2 and onward, "H2 not originator"),
        (h3 and clauses is None and onward, "H3 note not structured, not originator"),
        (h3 and any(k == "not" and me & items for k, items in clauses or []), "H3 recipient excluded"),
        (h3 and any(k == "only" and not me & items for k, items in clauses or []), "H3 recipient not listed"),
        (
            h3 and any(k == "purpose" and ref_kind(purpose) not in items for k, items in clauses or []),
            "H3 purpose not allowed",
        ),
        (not r.law_enforcement and m.tlp in ("AMBER", "AMBER+STRICT", "RED"), "TLP outside law enforcement"),
        (not r.law_enforcement and not r.community and m.tlp == "GREEN", "TLP:GREEN outside community"),
        (r.law_enforcement and m.tlp == "RED" and onward, "TLP:RED onward"),
        (r.law_enforcement and m.tlp == "AMBER+STRICT" and onward, "TLP:AMBER+STRICT onward"),
        (r.law_enforcement and m.tlp == "AMBER" and onward, "TLP:AMBER onward"),
        (
            m.subject_category in ("victim", "witness", "informant")
            and ref_kind(purpose) != "safeguarding"
            and not any(ref_admits(j, sender, r.name, purpose, today) for j in jits),
            "protected category",
        ),
        (inside is not None and (jit is None or not ref_in_force(jit, today)), "JIT not in force"),
        (inside is not None and jit is not None and not {sender, r.name} <= jit.members, "JIT recipient not a member"),
        (inside is not None and jit is not None and ref_kind(purpose) not in jit.purposes, "JIT purpose not allowed"),
        (within is not None and onward and inside != within, "JIT contribution outside its JIT"),
    ]
    for refuses, why in rows:
        if refuses:
            return why
    return None


# -- random cases ------------------------------------------------------------------------------------------------

# Cheap strategies: each fact and each recipient is one drawn integer, decoded below (hypothesis spends most of
# its time per draw, and 10,000 cases must run in seconds inside `make test`).
CODES, TLPS, CATEGORIES, ORIGINATORS = list(HandlingCode), list(TLP), list(SubjectCategory), list(NODES)
REVIEWS = [None, None, None, *(TODAY + timedelta(days=d) for d in range(-3, 4))]
FACT_SPACE = len(CODES) * len(TLPS) * len(CATEGORIES) * len(ORIGINATORS) * len(REVIEWS)
TEAM_SETS = [frozenset(), frozenset(TEAMS[:1]), frozenset(TEAMS[1:]), frozenset(TEAMS)]
RECIPIENT_SPACE = len(NODES) * 2 * len(TEAM_SETS)


def decode_fact(n: int, note: str) -> Markings:
    n, code = divmod(n, len(CODES))
    n, tlp = divmod(n, len(TLPS))
    n, category = divmod(n, len(CATEGORIES))
    n, originator = divmod(n, len(ORIGINATORS))
    review = REVIEWS[n % len(REVIEWS)]
    return Markings(
        originator=ORIGINATORS[originator],
        handling_code=CODES[code],
        tlp=TLPS[tlp],
        evaluation="B2",
        subject_category=CATEGORIES[category],
        retention_review=review,
        handling_note=note if CODES[code] == HandlingCode.H3 else None,
    )


def decode_recipient(n: int) -> Recipient:
    n, name = divmod(n, len(ORIGINATORS))
    n, community = divmod(n, 2)
    country, le = NODES[ORIGINATORS[name]]
    return Recipient(ORIGINATORS[name], country, le, bool(community), TEAM_SETS[n % len(TEAM_SETS)])


KEYS = ["not", "only", "purpose", "NOT", " Only "]


def decode_note(n: int) -> str:
    """Free text, or one to three clauses of one to three items each."""
    n, kind = divmod(n, 3)
    if kind == 0:
        return FREE_TEXT[n % len(FREE_TEXT)]
    n, count = divmod(n, 3)
    clauses = []
    for _ in range(count + 1):
        n, key = divmod(n, len(KEYS))
        n, size = divmod(n, 3)
        items = []
        for _ in range(size + 1):
            n, item = divmod(n, len(ITEMS))
            items.append(ITEMS[item])
        clauses.append(f"{KEYS[key]}:{','.join(items)}")
    return "; ".join(clauses)


def decode_hop(n: int) -> list[Recipient]:
    """One to three recipients of one request."""
    n, count = divmod(n, 3)
    hop = []
    for _ in range(count + 1):
        n, r = divmod(n, RECIPIENT_SPACE)
        hop.append(decode_recipient(r))
    return hop


facts = st.tuples(st.integers(0, FACT_SPACE - 1), st.integers(0, 2**48)).map(
    lambda t: decode_fact(t[0], decode_note(t[1]))
)
HOP_SPACE = 3 * RECIPIENT_SPACE**3


def decode_chain(n: int) -> list[list[Recipient]]:
    """One to four requests, each to the first recipient of the one before."""
    n, count = divmod(n, 4)
    chain = []
    for _ in range(count + 1):
        n, hop = divmod(n, HOP_SPACE)
        chain.append(decode_hop(hop))
    return chain


JIT_PURPOSES = ["investigation", "safeguarding", "analysis"]
JIT_SPACE = 2 ** len(NODES) * 2 ** len(JIT_PURPOSES) * 3 * 4 * 2 * 3


def decode_jit(name: str, n: int) -> Jit:
    """Members (any subset of the nodes), purposes, start, end of term, signed by all or not, ended or not. Half
    the agreements are wide (every node but at most one, every purpose, signed, in force on most days) so that
    chains run inside JITs often enough; the other half vary every field."""
    n, wide = divmod(n, 2)
    n, mask = divmod(n, 2 ** len(NODES))
    n, kinds = divmod(n, 2 ** len(JIT_PURPOSES))
    n, start = divmod(n, 3)
    n, until = divmod(n, 4)
    n, signed = divmod(n, 2)
    ended = [None, TODAY - timedelta(days=1), TODAY][n % 3]
    if wide:
        out = list(NODES)[mask % (len(NODES) + 1) :][:1]  # one node left out, or none
        members = frozenset(NODES) - frozenset(out)
        return Jit(
            name, members, frozenset(JIT_PURPOSES), TODAY - timedelta(days=2), TODAY + timedelta(days=until - 1), True
        )
    return Jit(
        name,
        frozenset(node for i, node in enumerate(NODES) if mask >> i & 1),
        frozenset(k for i, k in enumerate(JIT_PURPOSES) if kinds >> i & 1),
        TODAY + timedelta(days=start - 2),
        TODAY + timedelta(days=until - 1),
        signed=bool(signed) or n % 5 < 3,  # mostly signed: the other rows then decide
        ended=ended if n % 4 == 0 else None,
    )


jit_pairs = st.tuples(st.integers(0, JIT_SPACE - 1), st.integers(0, JIT_SPACE - 1)).map(
    lambda t: (decode_jit(TEAMS[0], t[0]), decode_jit(TEAMS[1], t[1]))
)
INSIDE = [None, *TEAMS]  # a hop made inside a JIT, or not
insides = st.lists(st.sampled_from(INSIDE), min_size=4, max_size=4)
withins = st.sampled_from([None, None, *TEAMS])  # the JIT the fact was contributed to at the first sender

SENDERS = [None, *NODES]
DAYS = [TODAY + timedelta(days=d) for d in range(-2, 3)]


@dataclass(frozen=True)
class Context:
    first_sender: str | None  # None: the originator sends first
    purpose: str
    sender_teams: tuple[frozenset[str], ...]  # of each hop's sender
    day: date


def decode_context(n: int) -> Context:
    n, sender = divmod(n, len(SENDERS))
    n, purpose = divmod(n, len(PURPOSES))
    n, day = divmod(n, len(DAYS))
    teams = []
    for _ in range(4):
        n, t = divmod(n, len(TEAM_SETS))
        teams.append(TEAM_SETS[t])
    return Context(SENDERS[sender], PURPOSES[purpose], tuple(teams), DAYS[day])


chains = st.integers(0, 4 * HOP_SPACE**4 - 1).map(decode_chain)
contexts = st.integers(0, len(SENDERS) * len(PURPOSES) * len(DAYS) * len(TEAM_SETS) ** 4 - 1).map(decode_context)


@dataclass
class Leaks:
    hops: int = 0
    leaks: int = 0
    over_withheld: int = 0
    jit_hops: int = 0  #: hops allowed inside a JIT
    kept_inside: int = 0  #: hops of a JIT's contribution by a member, checked to stay inside


TALLY = Leaks()


@settings(max_examples=10_000, deadline=None)
@given(fact=facts, chain=chains, ctx=contexts, jits=jit_pairs, inside=insides, within=withins)
def test_policy_matches_the_table_along_reshare_chains(
    fact: Markings,
    chain: list[list[Recipient]],
    ctx: Context,
    jits: tuple[Jit, Jit],
    inside: list[str | None],
    within: str | None,
) -> None:
    sender = ctx.first_sender or fact.originator
    purpose, day, sender_teams = ctx.purpose, ctx.day, ctx.sender_teams
    hops_from_originator = 0 if sender == fact.originator else 1
    if sender == fact.originator:
        within = None  # an originator's own fact is its own, not a contribution it received
    for i, hop in enumerate(chain):
        nxt = hop[0]
        # team labels (sender_teams, Recipient.teams) are drawn too: they must never open anything
        req = Request(sender, tuple(hop), purpose, day, sender_teams[i], jits=jits, jit=inside[i])
        expected = [reference(fact, sender, r, purpose, day, jits, inside[i], within) for r in hop]
        for r, want in zip(hop, expected, strict=True):
            got = decide_for(fact, req, r, within)
            TALLY.hops += 1
            TALLY.leaks += got.allowed and want is not None
            TALLY.over_withheld += (not got.allowed) and want is None
            assert got.allowed == (want is None), (fact, sender, r, purpose, want, got)
            assert got.reason is None or got.reason.value == want
        together = decide(fact, req, within)
        assert together.allowed == all(w is None for w in expected)
        if not together.allowed:
            return  # the fact stops here; the chain goes no further
        TALLY.jit_hops += inside[i] is not None
        if within is not None and sender != fact.originator:  # a JIT's contribution never leaves it
            jit = next(j for j in jits if j.name == within)
            assert inside[i] == within and ref_in_force(jit, day)
            assert all({sender, r.name} <= jit.members for r in hop)
            TALLY.kept_inside += 1
        within = inside[i]  # received inside a JIT: contributed to it at the receiver
        hops_from_originator += 1
        if hops_from_originator >= 2:
            assert fact.handling_code != HandlingCode.H2
            assert fact.tlp not in (TLP.RED, TLP.AMBER_STRICT, TLP.AMBER)
            if fact.handling_code == HandlingCode.H3:
                assert ref_note(fact.handling_note) is not None
        sender = nxt.name
        if sender == fact.originator:
            hops_from_originator = 0


def test_the_property_run_found_no_leak() -> None:
    """Runs after the property test in the same module (pytest keeps file order): the tally it kept."""
    if TALLY.hops == 0:  # run on its own (-k): nothing to report
        return
    assert TALLY.hops >= 10_000
    assert TALLY.leaks == 0 and TALLY.over_withheld == 0
    assert TALLY.jit_hops > 0 and TALLY.kept_inside > 0  # the JIT rows were exercised, not only refused
