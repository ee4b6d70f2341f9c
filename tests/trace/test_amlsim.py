"""The AMLSim export read as a ledger, the labelled fan-in alerts recovered, and bad files rejected whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avellino.errors import ConfigError, InputRejected
from avellino.trace import amlsim, evaluate, patterns


def test_fan_in_alerts_recovered(amlsim_dir: Path) -> None:
    ledger = amlsim.load(amlsim_dir)
    assert len(ledger) == 10333 and ledger.tx["date"].min().year == 2011
    labels = amlsim.labels(amlsim_dir)
    assert set(labels.accounts) == {"fan_in"}
    scored = evaluate.score_amlsim(ledger.tx, patterns.detect(ledger.tx), labels, patterns.PATTERNS)
    assert scored["alerts_recovered"]["recovered"] == scored["alerts_recovered"]["alerts"] == 3
    assert scored["fan_in"]["recall"] == 1.0
    assert scored["cycle"]["recall"] is None  # no labelled cycles: recall is not measurable


def test_bad_amount_names_file_row_and_field(amlsim_dir: Path, tmp_path: Path) -> None:
    for name in ("transactions.csv", "alert_transactions.csv", "alert_accounts.csv"):
        shutil.copy(amlsim_dir / name, tmp_path / name)
    lines = (tmp_path / "transactions.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[4] = "12,5x"
    lines[3] = ",".join(cells[:4] + ["abc"] + cells[5:])
    (tmp_path / "transactions.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputRejected) as err:
        amlsim.load(tmp_path)
    assert err.value.problems[0].row == 4 and err.value.problems[0].column == "base_amt"
    assert "transactions.csv" in str(err.value)


def test_missing_column_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "transactions.csv").write_text("tran_id,orig_acct\n1,2\n")
    with pytest.raises(InputRejected) as err:
        amlsim.load(tmp_path)
    assert {p.column for p in err.value.problems} == {"bene_acct", "base_amt", "tran_timestamp"}
    with pytest.raises(ConfigError):
        amlsim.load(tmp_path / "nowhere")
