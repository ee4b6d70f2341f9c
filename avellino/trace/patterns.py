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
  their books. The countries of the brokers are not checked yet (the ledger carries none).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avellino.trace.findings import Finding, make

FAN_MIN, FAN_WINDOW = 5, 30
PASS_DAYS, PASS_MIN, KEEP, KEEP_MAX = 3, 3, 0.8, 1.05
STEP_DAYS, CHAIN_HOPS, MAX_HOPS, MAX_PATHS = 7, 3, 6, 10_000
THRESHOLD, STRUCT_BAND, STRUCT_MIN, STRUCT_WINDOW = 10_000.0, 0.9, 3, 30
SETTLE_DAYS, SETTLE_MATCH = 90, 0.8
PATTERNS = ("fan_in", "fan_out", "pass_through", "layering", "cycle", "structuring", "hawala_settlement")


@dataclass(frozen=True)
class Rules:
    """The thresholds of one run (defaults: the documented rules above)."""

    fan_min: int = FAN_MIN
    fan_window: int = FAN_WINDOW
    threshold: float = THRESHOLD


def detect(tx: pd.DataFrame, rules: Rules | None = None, patterns: tuple[str, ...] = PATTERNS) -> list[Finding]:
    """Every finding of the asked patterns, in pattern order."""
    r = rules or Rules()
    out: list[Finding] = []
    if "fan_in" in patterns:
        out += fan(tx, "dst", "src", r.fan_min, r.fan_window, "fan_in", "collector")
    if "fan_out" in patterns:
        out += fan(tx, "src", "dst", r.fan_min, r.fan_window, "fan_out", "distributor")
    if "pass_through" in patterns:
        out += pass_through(tx)
    if "layering" in patterns or "cycle" in patterns:
        chains, cycles = chains_and_cycles(tx)
        out += [c for c in chains if "layering" in patterns] + [c for c in cycles if "cycle" in patterns]
    if "structuring" in patterns:
        out += structuring(tx, r.threshold)
    if "hawala_settlement" in patterns:
        out += settlements(tx)
    return out


def _windows(dates: np.ndarray, keys: np.ndarray, window_days: int, minimum: int, distinct: bool) -> np.ndarray:
    """Mask of the rows (sorted by date) inside some window of ``window_days`` holding at least ``minimum``
    (distinct) keys: a two-pointer sweep with a counter of keys in the window."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    mark = np.zeros(len(days) + 1, dtype=np.int64)
    seen: Counter[object] = Counter()
    lo = 0
    for hi in range(len(days)):
        seen[keys[hi] if distinct else hi] += 1
        while days[hi] - days[lo] > window_days:
            k = keys[lo] if distinct else lo
            seen[k] -= 1
            if not seen[k]:
                del seen[k]
            lo += 1
        if len(seen) >= minimum:
            mark[lo] += 1
            mark[hi + 1] -= 1
    return np.cumsum(mark)[:-1] > 0


def fan(tx: pd.DataFrame, hub: str, other: str, minimum: int, window: int, pattern: str, role: str) -> list[Finding]:
    """Hubs with ``minimum`` distinct counterparties within ``window`` days; evidence: those windows' rows."""
    counts = tx.groupby(hub)[other].nunique()
    hubs = counts.index[counts >= minimum]
    cand = tx[tx[hub].isin(hubs)].sort_values([hub, "date"], kind="stable")
    out = []
    for node, rows in cand.groupby(hub, sort=True):
        mask = _windows(rows["date"].to_numpy(), rows[other].to_numpy(), window, minimum, distinct=True)
        if mask.any():
            ev = rows[mask]
            out.append(make(pattern, str(node), role, ev, note=f"{ev[other].nunique()} counterparties"))
    return out


def _steps(tx: pd.DataFrame, days: int) -> pd.DataFrame:
    """Pairs (incoming a, outgoing b) at the same account, b within ``days`` after a, keeping 80-105 %.

    Joined on (account, period of ``days``) and the next period, so that only payments close in time meet:
    a plain join on the account would pair every payment in with every payment out of a busy account."""
    a = tx[["tx", "src", "dst", "amount", "date"]].assign(
        period=tx["date"].to_numpy().astype("datetime64[D]").astype("int64") // max(days, 1)
    )
    parts = []
    for shift in (0, 1):
        b = a.assign(period=a["period"] - shift)
        parts.append(a.merge(b, left_on=["dst", "period"], right_on=["src", "period"], suffixes=("_a", "_b")))
    pairs = pd.concat(parts, ignore_index=True)
    gap = (pairs["date_b"] - pairs["date_a"]).dt.days
    ratio = pairs["amount_b"] / pairs["amount_a"].where(pairs["amount_a"] > 0)
    keep = (gap >= 0) & (gap <= days) & (ratio >= KEEP) & (ratio <= KEEP_MAX) & (pairs["tx_a"] != pairs["tx_b"])
    return pairs[keep].drop_duplicates(["tx_a", "tx_b"])


def pass_through(tx: pd.DataFrame) -> list[Finding]:
    """Accounts that passed money on quickly at least ``PASS_MIN`` times."""
    steps = _steps(tx, PASS_DAYS)
    out = []
    for node, g in steps.groupby("dst_a"):
        if g["tx_a"].nunique() >= PASS_MIN:
            ids = set(g["tx_a"]) | set(g["tx_b"])
            out.append(make("pass_through", str(node), "pass-through", tx[tx["tx"].isin(ids)],
                            note=f"{g['tx_a'].nunique()} amounts passed on within {PASS_DAYS} days"))  # fmt: skip
    return out


def chains_and_cycles(tx: pd.DataFrame) -> tuple[list[Finding], list[Finding]]:
    """Layering chains (>= CHAIN_HOPS transfers through distinct accounts) and cycles, from the step graph
    (a depth-first walk from every transaction, at most ``MAX_PATHS`` paths, longest kept per start)."""
    steps = _steps(tx, STEP_DAYS)
    nxt: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, b, dst_b in zip(steps["tx_a"], steps["tx_b"], steps["dst_b"], strict=True):
        nxt[str(a)].append((str(b), str(dst_b)))
    src_of = dict(zip(tx["tx"].astype(str), tx["src"].astype(str), strict=True))
    dst_of = dict(zip(tx["tx"].astype(str), tx["dst"].astype(str), strict=True))
    chains: dict[frozenset[str], list[str]] = {}
    cycles: dict[frozenset[str], list[str]] = {}
    budget = MAX_PATHS
    for start in list(nxt):
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
    return _path_findings(tx, maximal, "layering"), _path_findings(tx, list(cycles.values()), "cycle")


def _path_findings(tx: pd.DataFrame, paths: list[list[str]], pattern: str) -> list[Finding]:
    by_id = tx.assign(tx=tx["tx"].astype(str)).set_index("tx", drop=False)
    out = []
    for path in paths:
        rows = by_id.loc[path]
        nodes = [str(rows["src"].iloc[0]), *(str(d) for d in rows["dst"])]
        accused = tuple(dict.fromkeys(nodes[1:] if pattern == "layering" else nodes))
        out.append(make(pattern, nodes[0], "origin", rows, accused, " -> ".join(dict.fromkeys(nodes))))
    return out


def structuring(tx: pd.DataFrame, threshold: float = THRESHOLD) -> list[Finding]:
    """Senders (and beneficiaries) of repeated amounts just under the reporting threshold."""
    near = tx[(tx["amount"] >= STRUCT_BAND * threshold) & (tx["amount"] < threshold)]
    out = []
    for side, role in (("src", "sender"), ("dst", "beneficiary")):
        for node, rows in near.groupby(side):
            if len(rows) < STRUCT_MIN:
                continue
            mask = _windows(rows["date"].to_numpy(), rows["tx"].to_numpy(), STRUCT_WINDOW, STRUCT_MIN, False)
            if mask.any():
                ev = rows[mask]
                out.append(make("structuring", str(node), role, ev, note=f"{len(ev)} amounts under {threshold:,.0f}"))
    return out


def settlements(tx: pd.DataFrame) -> list[Finding]:
    """Pairs of accounts with matched opposite flows within ``SETTLE_DAYS`` (one finding per pair)."""
    a = tx[["tx", "src", "dst", "amount", "date"]]
    pairs = a.merge(a, left_on=["src", "dst"], right_on=["dst", "src"], suffixes=("_x", "_y"))
    pairs = pairs[pairs["src_x"] < pairs["dst_x"]]
    gap = (pairs["date_y"] - pairs["date_x"]).dt.days.abs()
    lo = pairs[["amount_x", "amount_y"]].min(axis=1)
    hi = pairs[["amount_x", "amount_y"]].max(axis=1)
    pairs = pairs[(gap <= SETTLE_DAYS) & (hi > 0) & (lo >= SETTLE_MATCH * hi)]
    out = []
    for (x, y), g in pairs.groupby(["src_x", "dst_x"]):
        ids = set(g["tx_x"]) | set(g["tx_y"])
        note = f"{g['tx_x'].nunique()} payments matched by {g['tx_y'].nunique()} back within {SETTLE_DAYS} days"
        out.append(make("hawala_settlement", str(x), "broker", tx[tx["tx"].isin(ids)], (str(x), str(y)), note))
    return out
