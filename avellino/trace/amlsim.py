"""Read an IBM AMLSim export (``accounts.csv``, ``transactions.csv``, ``alert_*.csv``) as a ledger and labels.

AMLSim is synthetic and labelled by its own generator: every alert has a typology (``fan_in``, ``fan_out``,
``cycle``, ...), its accounts and its transactions. The detectors read the ledger exactly as they read a
workspace's payments, so the labels measure them without a workspace. Nobody in AMLSim is protected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from avellino.errors import ConfigError, InputRejected, RowProblem
from avellino.trace.ledger import Ledger

TX_NEEDED = ("tran_id", "orig_acct", "bene_acct", "base_amt", "tran_timestamp")
ALERT_TX_NEEDED = ("alert_id", "alert_type", "tran_id")
ALERT_ACCT_NEEDED = ("alert_id", "alert_type", "acct_id")


@dataclass
class Labels:
    """The generator's alerts: per typology, the accounts and the transactions it labelled."""

    accounts: dict[str, set[str]]
    transactions: dict[str, set[str]]
    alerts: pd.DataFrame  # alert_id, alert_type, acct_id


def _read(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise ConfigError(f"{path}: not found (an AMLSim export folder holds transactions.csv and alert_*.csv)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        problems = [RowProblem(str(path), 1, c, "missing column") for c in missing]
        raise InputRejected(str(path), problems, len(frame))
    return frame


def load(folder: Path) -> Ledger:
    """The ledger of an AMLSim export folder (accounts are the entities; ``tx_type`` is the method)."""
    folder = Path(folder)
    path = folder / "transactions.csv"
    raw = _read(path, TX_NEEDED)
    amount = pd.to_numeric(raw["base_amt"], errors="coerce")
    date = pd.to_datetime(raw["tran_timestamp"], errors="coerce", utc=True).dt.tz_localize(None)
    bad = amount.isna() | date.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        fld = "base_amt" if pd.isna(amount.iloc[row]) else "tran_timestamp"
        value = raw[fld].iloc[row]
        problem = RowProblem(str(path), row + 2, fld, f"not a number or date: {value!r}")
        raise InputRejected(str(path), [problem], len(raw))
    tx = pd.DataFrame(
        {
            "tx": raw["tran_id"],
            "src": "acct:" + raw["orig_acct"],
            "dst": "acct:" + raw["bene_acct"],
            "amount": amount.astype(float),
            "date": date,
            "method": raw.get("tx_type", ""),
            "markings": "AMLSim (synthetic)",
        }
    )
    tx = tx[tx["src"] != tx["dst"]].sort_values(["date", "tx"]).reset_index(drop=True)
    return Ledger(tx, countries=_countries(folder / "accounts.csv"))


def _countries(path: Path) -> dict[str, frozenset[str]]:
    """Each account's country from ``accounts.csv`` when the export has one (nothing otherwise)."""
    if not path.exists():
        return {}
    acc = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "acct_id" not in acc.columns or "country" not in acc.columns:
        return {}
    acc = acc[acc["country"].str.strip() != ""]
    return {f"acct:{a}": frozenset([c.strip().upper()]) for a, c in zip(acc["acct_id"], acc["country"], strict=True)}


def labels(folder: Path) -> Labels:
    """The alerts of an AMLSim export, per typology (accounts as ``acct:<id>`` like the ledger's nodes)."""
    folder = Path(folder)
    at = _read(folder / "alert_transactions.csv", ALERT_TX_NEEDED)
    aa = _read(folder / "alert_accounts.csv", ALERT_ACCT_NEEDED)
    aa = aa.assign(acct_id="acct:" + aa["acct_id"])
    accounts = {str(k): set(g["acct_id"]) for k, g in aa.groupby("alert_type")}
    transactions = {str(k): set(g["tran_id"]) for k, g in at.groupby("alert_type")}
    return Labels(accounts, transactions, aa[["alert_id", "alert_type", "acct_id"]])
