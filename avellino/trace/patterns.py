"""Money-laundering and fee-collection patterns in a ledger, each with the transactions that show it.

The thresholds are fixed rules written here, not fitted to any labelled data (AMLSim is only used to measure
them, ``evaluate``):

* **fan-in / fan-out**: one account receiving from (paying to) at least ``FAN_MIN`` = 5 distinct counterparties
  within ``FAN_WINDOW`` = 30 days. Five payers in a month is the smallest group that looks like a boat's
  passengers paying one collector (a crossing carries 40-70 people; a collector handles a share of them), and
  FATF's fan-in typology speaks of "multiple" senders to one beneficiary without a number.
* **rapid pass-through**: money received and at least ``KEEP`` = 80 % of it (and no more than 105 %) sent on
  within ``PASS_DAYS`` = 3 days, at least ``PASS_MIN`` = 3 times: an account used as a conduit.
* **layering chain / cycle**: successive pass-through steps (each within ``STEP_DAYS`` = 7 days, keeping 80-105 %
  of the amount) over at least ``CHAIN_HOPS`` = 3 transfers through distinct accounts; a cycle is such a chain
  that returns to where it started.
* **structuring**: at least ``STRUCT_MIN`` = 3 transactions in ``STRUCT_WINDOW`` = 30 days from one sender (or
  into one beneficiary) each between ``STRUCT_BAND`` = 90 % of the reporting threshold and the threshold
  (``THRESHOLD`` = 10,000: the EU cash-payment and cash-declaration limit, in the ledger's currency units).
* **hawala settlement**: two accounts paying each other in opposite directions within ``SETTLE_DAYS`` = 90 days
  with matched amounts (the smaller at least ``SETTLE_MATCH`` = 80 % of the larger): how hawala brokers square
  their books across borders. When the ledger knows both brokers' countries (``Ledger.countries``: the
  parties' ``country``/``jurisdiction``), a pair in the same country is not a settlement across countries and is
  left out; a pair in different countries says so in its note; a pair whose countries are not recorded is kept
  and says that too.
* **cash courier**: cash received and at least 80 % of it (no more than 105 %) paid on *in cash* to someone
  else within ``COURIER_DAYS`` = 14 days, at least ``COURIER_MIN`` = 2 times: money moved by hand, with no bank
  trail between the two payments. Fourteen days rather than pass-through's three because cash is carried
  (often across a border) before it is handed over; twice because a courier is hired for repeated runs.

**How they run.** Every detector is one DuckDB query over the ledger reduced to integers (row, payer, payee,
day, amount, cash flag; account ids coded in sorted order so that comparisons keep the ids' order): windows
are SQL window aggregates (``count(DISTINCT ...) OVER (... RANGE ...)``), pass-through steps an equi-join on
(account, period) with the next period, settlements a join of each pair of accounts with its opposite. Only
the depth-first walk of layering chains stays in Python, over the (few) steps. 10M payments run in minutes
within a few GB (``benchmarks/trace_scale.py``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from avellino.trace.findings import Finding, make, make_many

FAN_MIN, FAN_WINDOW = 5, 30
PASS_DAYS, PASS_MIN, KEEP, KEEP_MAX = 3, 3, 0.8, 1.05
STEP_DAYS, CHAIN_HOPS, MAX_HOPS, MAX_PATHS = 7, 3, 6, 10_000
THRESHOLD, STRUCT_BAND, STRUCT_MIN, STRUCT_WINDOW = 10_000.0, 0.9, 3, 30
SETTLE_DAYS, SETTLE_MATCH = 90, 0.8
COURIER_DAYS, COURIER_MIN = 14, 2
PATTERNS = ("fan_in", "fan_out", "pass_through", "layering", "cycle", "structuring", "hawala_settlement",
            "cash_courier")  # fmt: skip
CASH = ("cash", "cash deposit", "cash withdrawal")


@dataclass(frozen=True)
class Rules:
    """The thresholds of one run (defaults: the documented rules above)."""

    fan_min: int = FAN_MIN
    fan_window: int = FAN_WINDOW
    threshold: float = THRESHOLD


class Coded:
    """The ledger as DuckDB sees it: ``t(i, s, d, amount, day, cash)`` with integer account codes, on one
    in-memory connection (``AVELLINO_TRACE_MEMORY`` caps it, default 4GB, spilling to a temporary folder)."""

    def __init__(self, tx: pd.DataFrame):
        self.tx = tx
        n = len(tx)
        method = pd.Categorical(tx["method"] if "method" in tx else pd.Series("", index=tx.index))
        is_cash = pd.Index(method.categories.astype(str)).str.strip().str.lower().isin(CASH)
        frame = pd.DataFrame(
            {
                "i": np.arange(n, dtype=np.int64),
                "src": tx["src"].reset_index(drop=True),  # Arrow strings stay Arrow: DuckDB scans them as is
                "dst": tx["dst"].reset_index(drop=True),
                "amount": tx["amount"].to_numpy(dtype=float),
                "day": tx["date"].to_numpy().astype("datetime64[D]").astype(np.int64).astype(np.int32),
                "cash": np.append(is_cash, False)[method.codes],  # code -1 (missing): not cash
            }
        )
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {max(1, min(4, os.cpu_count() or 1))}")
        self.con.execute(f"SET memory_limit = '{os.environ.get('AVELLINO_TRACE_MEMORY', '4GB')}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.register("frame", frame)
        # account codes in the ids' (UTF-8 byte = code point) order, so that comparing codes compares ids
        self.con.execute("""
            CREATE TABLE names AS SELECT name, (row_number() OVER (ORDER BY name) - 1)::INTEGER AS code
            FROM (SELECT src::VARCHAR AS name FROM frame UNION SELECT dst::VARCHAR FROM frame)""")
        self.con.execute("""
            CREATE TABLE t AS SELECT f.i, a.code AS s, b.code AS d, f.amount, f.day, f.cash
            FROM frame f JOIN names a ON a.name = f.src::VARCHAR JOIN names b ON b.name = f.dst::VARCHAR""")
        self.con.unregister("frame")
        del frame
        self.names = np.asarray(self.con.sql("SELECT name FROM names ORDER BY code").fetchnumpy()["name"], dtype=object)

    def q(self, sql: str) -> pd.DataFrame:
        return self.con.sql(sql).df()

    def rows(self, idx: Any) -> pd.DataFrame:
        """The ledger's rows at positions ``idx`` (sorted, distinct)."""
        return self.tx.iloc[np.unique(np.asarray(idx, dtype=np.int64))]

    def evidence(self, hits: pd.DataFrame) -> pd.DataFrame:
        """The ledger's rows of ``hits`` (i, h: row position and subject code, distinct pairs) with a ``subject``
        column (the subject's id), in subject then ledger order."""
        hits = hits.drop_duplicates(["h", "i"]).sort_values(["h", "i"])
        rows = self.tx.iloc[hits["i"].to_numpy()].reset_index(drop=True)
        return rows.assign(subject=self.names[hits["h"].to_numpy()].astype(str))

    def name(self, code: Any) -> str:
        return str(self.names[int(code)])

    def close(self) -> None:
        self.con.close()


def detect(
    tx: pd.DataFrame,
    rules: Rules | None = None,
    patterns: tuple[str, ...] = PATTERNS,
    countries: Mapping[str, frozenset[str]] | None = None,
    travels: Mapping[str, list[str]] | None = None,
) -> list[Finding]:
    """Every finding of the asked patterns, in pattern order (``countries``: see ``settlements``; ``travels``:
    see ``cash_couriers``)."""
    r = rules or Rules()
    out: list[Finding] = []
    if tx.empty:
        return out
    c = Coded(tx)
    try:
        if "fan_in" in patterns:
            out += fan(c, "d", "s", r.fan_min, r.fan_window, "fan_in", "collector")
        if "fan_out" in patterns:
            out += fan(c, "s", "d", r.fan_min, r.fan_window, "fan_out", "distributor")
        if "pass_through" in patterns:
            out += pass_through(c)
        if "layering" in patterns or "cycle" in patterns:
            chains, cycles = chains_and_cycles(c)
            out += [x for x in chains if "layering" in patterns] + [x for x in cycles if "cycle" in patterns]
        if "structuring" in patterns:
            out += structuring(c, r.threshold)
        if "hawala_settlement" in patterns:
            out += settlements(c, countries)
        if "cash_courier" in patterns:
            out += cash_couriers(c, travels)
    finally:
        c.close()
    return out


def _window_rows(c: Coded, where: str, hub: str, counted: str, window: int, minimum: int) -> pd.DataFrame:
    """(i, hub) of the rows (of ``where``) inside some window of ``window`` days at one ``hub`` holding at least
    ``minimum`` values of ``counted`` (``DISTINCT x`` or ``*``): a row is in such a window when some qualifying
    window end lies within ``window`` days after it."""
    # A window with ``minimum`` distinct values holds at least ``minimum`` rows: a plain count per window (cheap)
    # first keeps only the hubs that can qualify, before the distinct count (a costlier window aggregate).
    return c.q(f"""
        WITH rows_in AS (
            SELECT {hub} AS h, count(*) OVER (
                PARTITION BY {hub} ORDER BY day RANGE BETWEEN {window} PRECEDING AND CURRENT ROW) AS n
            FROM t WHERE {where}
        ), hubs AS (SELECT h FROM rows_in GROUP BY h HAVING max(n) >= {minimum}),
        w AS (
            SELECT i, {hub} AS h, day, count({counted}) OVER (
                PARTITION BY {hub} ORDER BY day RANGE BETWEEN {window} PRECEDING AND CURRENT ROW) AS n
            FROM t WHERE {where} AND {hub} IN (SELECT h FROM hubs)
        ), e AS (
            SELECT i, h, min(CASE WHEN n >= {minimum} THEN day END) OVER (
                PARTITION BY h ORDER BY day RANGE BETWEEN CURRENT ROW AND {window} FOLLOWING) AS ends
            FROM w
        )
        SELECT i, h FROM e WHERE ends IS NOT NULL ORDER BY h, i""")


def fan(c: Coded, hub: str, other: str, minimum: int, window: int, pattern: str, role: str) -> list[Finding]:
    """Hubs with ``minimum`` distinct counterparties within ``window`` days; evidence: those windows' rows."""
    side = "src" if other == "s" else "dst"
    ev = c.evidence(_window_rows(c, "TRUE", hub, f"DISTINCT {other}", window, minimum))
    counts = ev.groupby("subject")[side].nunique()
    return make_many(pattern, role, ev, {str(k): f"{v} counterparties" for k, v in counts.items()})


def _steps(c: Coded, days: int, cash_only: bool = False) -> pd.DataFrame:
    """Pairs (incoming ia, outgoing ib) at the same account, ib within ``days`` after ia, keeping 80-105 %.

    Joined on (account, period of ``days``) and on the next period, so that only payments close in time meet:
    a plain join on the account would pair every payment in with every payment out of a busy account."""
    width = max(days, 1)
    cash = "AND cash" if cash_only else ""
    return c.q(f"""
        WITH a AS (SELECT i, s, d, amount, day, day // {width} AS p FROM t WHERE amount > 0 {cash}),
        b AS (SELECT i, s, d, amount, day, day // {width} AS p FROM t WHERE TRUE {cash}),
        pairs AS (
            SELECT a.i AS ia, b.i AS ib, a.s AS src_a, a.d AS node, b.d AS dst_b, a.day AS day_a, b.day AS day_b,
                   a.amount AS amount_a, b.amount AS amount_b
            FROM a JOIN b ON a.d = b.s AND a.p = b.p
            UNION ALL
            SELECT a.i, b.i, a.s, a.d, b.d, a.day, b.day, a.amount, b.amount
            FROM a JOIN b ON a.d = b.s AND a.p + 1 = b.p
        )
        SELECT DISTINCT ia, ib, src_a, node, dst_b FROM pairs
        WHERE day_b >= day_a AND day_b - day_a <= {days} AND ia <> ib
          AND amount_b >= {KEEP} * amount_a AND amount_b <= {KEEP_MAX} * amount_a
        ORDER BY ia, ib""")


def _passed_on(c: Coded, steps: pd.DataFrame, minimum: int, pattern: str, role: str, note: str) -> list[Finding]:
    times = steps.groupby("node")["ia"].nunique()
    steps = steps[steps["node"].isin(times.index[times >= minimum])]
    hits = pd.concat([steps[["node", "ia"]].set_axis(["h", "i"], axis=1),
                      steps[["node", "ib"]].set_axis(["h", "i"], axis=1)])  # fmt: skip
    notes = {c.name(k): note.format(times=v) for k, v in times[times >= minimum].items()}
    return make_many(pattern, role, c.evidence(hits), notes)


def pass_through(c: Coded) -> list[Finding]:
    """Accounts that passed money on quickly at least ``PASS_MIN`` times."""
    return _passed_on(c, _steps(c, PASS_DAYS), PASS_MIN, "pass_through", "pass-through",
                      f"{{times}} amounts passed on within {PASS_DAYS} days")  # fmt: skip


def cash_couriers(c: Coded, travels: Mapping[str, list[str]] | None = None) -> list[Finding]:
    """People who received cash and paid most of it on in cash within ``COURIER_DAYS``, ``COURIER_MIN`` times.
    With ``travels`` (a party's days on a recorded leg or trip), the note says how often the courier travelled
    between the first and last of those payments: the journey the cash was carried on."""
    steps = _steps(c, COURIER_DAYS, cash_only=True)
    steps = steps[steps["dst_b"] != steps["src_a"]]  # handing the cash back is not carrying it on
    found = _passed_on(c, steps, COURIER_MIN, "cash_courier", "courier",
                       f"{{times}} cash amounts paid on in cash within {COURIER_DAYS} days")  # fmt: skip
    for f in found:
        days = [d for d in (travels or {}).get(f.subject, []) if f.first <= d <= f.last]
        if days:
            f.note += f"; travelled {len(days)} time(s) in that period (recorded legs or trips)"
    return found


def chains_and_cycles(c: Coded) -> tuple[list[Finding], list[Finding]]:
    """Layering chains (>= CHAIN_HOPS transfers through distinct accounts) and cycles, from the step graph
    (a depth-first walk from every transaction, at most ``MAX_PATHS`` paths, longest kept per start)."""
    steps = _steps(c, STEP_DAYS)
    nxt: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b, dst_b in zip(steps["ia"].tolist(), steps["ib"].tolist(), steps["dst_b"].tolist(), strict=True):
        nxt[a].append((b, dst_b))
    src_of: dict[int, int] = {}
    dst_of: dict[int, int] = {}
    if not steps.empty:
        ids = np.unique(np.concatenate([steps["ia"].to_numpy(), steps["ib"].to_numpy()]))
        c.con.register("wanted", pd.DataFrame({"i": ids}))
        sd = c.q("SELECT t.i, t.s, t.d FROM t JOIN wanted USING (i)")
        c.con.unregister("wanted")
        src_of = dict(zip(sd["i"].tolist(), sd["s"].tolist(), strict=True))
        dst_of = dict(zip(sd["i"].tolist(), sd["d"].tolist(), strict=True))
    chains: dict[frozenset[int], list[int]] = {}
    cycles: dict[frozenset[int], list[int]] = {}
    budget = MAX_PATHS
    for start in list(nxt):
        if budget <= 0:
            break
        stack = [[start]]
        while stack and budget > 0:
            path = stack.pop()
            visited = [src_of[path[0]], *(dst_of[t] for t in path)]
            extended = False
            if len(path) < MAX_HOPS:
                for b, dst_b in nxt.get(path[-1], []):
                    if dst_b == visited[0] and len(path) + 1 >= CHAIN_HOPS:
                        cycles.setdefault(frozenset(visited), [*path, b])
                    elif dst_b not in visited:
                        stack.append([*path, b])
                        extended = True
            if not extended and len(path) >= CHAIN_HOPS:
                budget -= 1
                chains.setdefault(frozenset(path), path)
    # a chain inside a longer one is the same evidence: keep the maximal ones
    maximal = [p for k, p in chains.items() if not any(k < other for other in chains)]
    return _path_findings(c, maximal, "layering"), _path_findings(c, list(cycles.values()), "cycle")


def _path_findings(c: Coded, paths: list[list[int]], pattern: str) -> list[Finding]:
    out = []
    for path in paths:
        rows = c.tx.iloc[path]
        nodes = [str(rows["src"].iloc[0]), *(str(d) for d in rows["dst"])]
        accused = tuple(dict.fromkeys(nodes[1:] if pattern == "layering" else nodes))
        out.append(make(pattern, nodes[0], "origin", rows, accused, " -> ".join(dict.fromkeys(nodes))))
    return out


def structuring(c: Coded, threshold: float = THRESHOLD) -> list[Finding]:
    """Senders (and beneficiaries) of repeated amounts just under the reporting threshold."""
    near = f"amount >= {STRUCT_BAND * threshold} AND amount < {threshold}"
    out = []
    for hub, role in (("s", "sender"), ("d", "beneficiary")):
        ev = c.evidence(_window_rows(c, near, hub, "*", STRUCT_WINDOW, STRUCT_MIN))
        counts = ev.groupby("subject").size()
        out += make_many("structuring", role, ev,
                         {str(k): f"{v} amounts under {threshold:,.0f}" for k, v in counts.items()})  # fmt: skip
    return out


def settlements(c: Coded, countries: Mapping[str, frozenset[str]] | None = None) -> list[Finding]:
    """Pairs of accounts with matched opposite flows within ``SETTLE_DAYS`` (one finding per pair); with
    ``countries``, pairs known to sit in one country are left out."""
    pairs = c.q(f"""
        SELECT x.i AS ix, y.i AS iy, x.s AS a, x.d AS b FROM t x JOIN t y ON x.s = y.d AND x.d = y.s
        WHERE x.s < x.d AND abs(y.day - x.day) <= {SETTLE_DAYS}
          AND greatest(x.amount, y.amount) > 0
          AND least(x.amount, y.amount) >= {SETTLE_MATCH} * greatest(x.amount, y.amount)
        ORDER BY a, b""")
    known = countries or {}
    out = []
    for (a, b), g in pairs.groupby(["a", "b"], sort=True):
        x, y = c.name(a), c.name(b)
        cx, cy = known.get(x, frozenset()), known.get(y, frozenset())
        if cx and cy and cx == cy:
            continue  # both in the same country (or countries): domestic netting, not settlement across borders
        where = f"{'/'.join(sorted(cx))} <-> {'/'.join(sorted(cy))}" if cx and cy else "countries not recorded"
        note = (f"{g['ix'].nunique()} payments matched by {g['iy'].nunique()} back within {SETTLE_DAYS} days; "
                f"{where}")  # fmt: skip
        ev = c.rows(np.concatenate([g["ix"].to_numpy(), g["iy"].to_numpy()]))
        out.append(make("hawala_settlement", x, "broker", ev, (x, y), note))
    return out
