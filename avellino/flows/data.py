"""Load public flow statistics (and any CSV) into one long format with a hierarchy.

Every loader returns a :class:`FlowData`: a *bottom-level* frame with one column per hierarchy level (top to
bottom, e.g. ``global, region, route, nationality``) plus ``ds`` and ``y``. Aggregating it gives the
``unique_id, ds, y`` frame that statsforecast and hierarchicalforecast use, with ids such as
``global/Mediterranean/Central Mediterranean Route``.

Counts from different authorities measure different things (Frontex *detections*, CBP *encounters*, Home
Office *arrivals*); a "global" total is a sum of detections, not of people, and is labelled as such.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from avellino.errors import ConfigError, InputRejected, RowProblem

FLOW_LEVELS = ["global", "region", "route", "nationality"]
FREQ_ALIASES = {"D": "D", "W": "W-SUN", "M": "MS", "Y": "YS"}
# Seasonal period per frequency: one year. Weekly data uses 52 (close enough to 52.18 for a yearly pattern).
SEASON = {"D": 7, "W": 52, "M": 12, "Y": 1}


def horizon_steps(frame: pd.DataFrame) -> pd.Series:
    """Horizon step (1..h) of each row of a forecast frame (``unique_id, ds, cutoff``): the rank of ``ds``
    within its series and origin."""
    return frame.groupby(["unique_id", "cutoff"], observed=True)["ds"].rank(method="first").astype(int)


MIGRATION = Path("migration")
UK_DIR = MIGRATION / "uk_small_boats"
GDI_DIR = MIGRATION / "iom_gdidata"

FRONTEX_REGIONS = {
    "Central Mediterranean Route": "Mediterranean",
    "Eastern Mediterranean Route": "Mediterranean",
    "Western Mediterranean Route": "Mediterranean",
    "Western African Route": "Atlantic",
    "Western Balkan Route": "Eastern Europe and Balkans",
    "Eastern Borders Route": "Eastern Europe and Balkans",
    "Circular Route from Albania to Greece": "Eastern Europe and Balkans",
    "Black Sea Route": "Eastern Europe and Balkans",
}
IOM_REGIONS = {
    "Central Mediterranean Route": "Mediterranean",
    "Eastern Mediterranean Route": "Mediterranean",
    "Western Mediterranean Route": "Mediterranean",
    "Western African Atlantic Route": "Atlantic",
    "Central American Route": "Americas",
    "South American Route": "Americas",
    "Asia Pacific routes": "Asia-Pacific",
    "Intra-African routes": "Africa",
    "EHOA Eastern Route": "Africa",
    "EHOA Southern Route": "Africa",
    "EHOA Horn of Africa Route": "Africa",
    "EHOA Northern Route": "Africa",
    "Intra-European routes": "Europe (other)",
}


@dataclass
class FlowData:
    """Bottom-level counts with their hierarchy; ``freq`` is one of D, W, M, Y."""

    name: str
    frame: pd.DataFrame
    levels: list[str]
    freq: str
    unit: str = "people"
    notes: list[str] = field(default_factory=list)

    @property
    def season_length(self) -> int:
        return SEASON[self.freq]

    def bottom(self) -> pd.DataFrame:
        """``unique_id, ds, y`` at the lowest level (ids join the level values with '/')."""
        ids = self.frame[self.levels].astype(str).agg("/".join, axis=1)
        return pd.DataFrame({"unique_id": ids, "ds": self.frame["ds"], "y": self.frame["y"]})

    def at_level(self, level: str) -> pd.DataFrame:
        """``unique_id, ds, y`` summed up to ``level`` (e.g. route totals)."""
        keep = self.levels[: self.levels.index(level) + 1]
        grouped = self.frame.groupby(keep + ["ds"], as_index=False)["y"].sum()
        ids = grouped[keep].astype(str).agg("/".join, axis=1)
        return pd.DataFrame({"unique_id": ids, "ds": grouped["ds"], "y": grouped["y"]}).reset_index(drop=True)


def complete_periods(frame: pd.DataFrame, keys: Sequence[str], freq: str, fill: float = 0.0) -> pd.DataFrame:
    """Give every series every period from its first to the overall last one.

    Sparse tables (Frontex, Darién) omit months with no detections; forecasting needs regular series, and a
    missing month in a count table means zero. A series that has stopped reporting therefore shows zeros.
    """
    end = frame["ds"].max()
    parts = []
    for key, group in frame.groupby(list(keys), sort=True):
        span = pd.date_range(group["ds"].min(), end, freq=FREQ_ALIASES[freq])
        full = group.set_index("ds")["y"].reindex(span, fill_value=fill).rename_axis("ds").reset_index()
        values = key if isinstance(key, tuple) else (key,)
        for name, value in zip(keys, values, strict=True):
            full[name] = value
        parts.append(full)
    return pd.concat(parts, ignore_index=True)[[*keys, "ds", "y"]]


def _flow(name: str, frame: pd.DataFrame, freq: str, unit: str = "people", notes: Sequence[str] = ()) -> FlowData:
    frame = frame.groupby([*FLOW_LEVELS, "ds"], as_index=False)["y"].sum()
    frame = complete_periods(frame, FLOW_LEVELS, freq)
    return FlowData(name, frame, list(FLOW_LEVELS), freq, unit, list(notes))


def _require(root: Path, relative: Path) -> Path:
    path = root / relative
    if not path.exists():
        raise ConfigError(f"{path} not found: point --data at the folder that holds migration/ (../shared/data).")
    return path


def _counts(series: pd.Series) -> pd.Series:
    """Home Office sheets write '-' for 'not available': that is missing, not zero."""
    return pd.to_numeric(series.replace("-", np.nan), errors="coerce")


def uk_small_boats(root: Path, freq: str = "W", measure: str = "arrived") -> FlowData:
    """UK small-boat crossings, daily (SB_01) or weekly (SB_02).

    ``measure``: ``arrived`` (people detected arriving), ``boats``, or -- weekly only -- ``prevented`` (French
    operational estimates, from 2024-05-05) and ``attempted`` (arrived + prevented, from the same date).
    """
    if freq not in ("D", "W"):
        raise ConfigError(f"UK small-boat data is daily (D) or weekly (W), not {freq!r}.")
    file, date_col = (
        ("homeoffice_SB_01_daily.csv", "Date") if freq == "D" else ("homeoffice_SB_02_weekly.csv", "Week ending")
    )
    raw = pd.read_csv(_require(root, UK_DIR / file), dtype=str)
    arrived, boats = _counts(raw["Migrants arrived"]), _counts(raw["Boats arrived"])
    if measure in ("prevented", "attempted") and freq != "W":
        raise ConfigError("French 'prevented' counts exist only in the weekly sheet: use freq W.")
    values = {"arrived": lambda: arrived, "boats": lambda: boats}
    if freq == "W":
        prevented = _counts(raw["Migrants prevented"])
        values["prevented"] = lambda: prevented
        values["attempted"] = lambda: arrived + prevented
    if measure not in values:
        raise ConfigError(f"measure must be one of {sorted(values)}, not {measure!r}.")
    frame = pd.DataFrame({"ds": pd.to_datetime(raw[date_col]), "y": values[measure]()}).dropna()
    frame = frame.assign(
        **{"global": "global", "region": "North Sea and Channel", "route": "English Channel", "nationality": "all"}
    )
    unit = "boats" if measure == "boats" else "people"
    notes = ["Home Office provisional operational data; arrivals include people intercepted at sea."]
    return _flow(f"uk_small_boats_{freq.lower()}_{measure}", frame, freq, unit, notes)


def frontex(root: Path, top_nationalities: int = 5) -> FlowData:
    """Frontex monthly detections of illegal border crossings, route x nationality.

    Each route keeps its ``top_nationalities`` largest nationalities (by the last 24 months); the rest are summed
    into ``other`` so that the bottom level stays forecastable while the totals stay exact.
    """
    raw = pd.read_csv(_require(root, GDI_DIR / "frontex.csv"))
    raw["ds"] = pd.to_datetime(raw["t"])
    recent = raw[raw["ds"] > raw["ds"].max() - pd.DateOffset(months=24)]
    ranked = recent.groupby(["route", "nat"])["n"].sum().reset_index().sort_values("n", ascending=False)
    top = ranked.groupby("route").head(top_nationalities)
    keep = set(zip(top["route"], top["nat"], strict=True))
    is_top = [(r, n) in keep for r, n in zip(raw["route"], raw["nat"], strict=True)]
    frame = pd.DataFrame(
        {
            "global": "global",
            "region": raw["route"].map(FRONTEX_REGIONS).fillna("Other"),
            "route": raw["route"],
            "nationality": np.where(is_top, raw["nat"], "other"),
            "ds": raw["ds"],
            "y": raw["n"].astype(float),
        }
    )
    notes = ["Frontex counts detections, not people: one person may cross (and be detected) more than once."]
    return _flow("frontex", frame, "M", "detections", notes)


def iom_missing(root: Path) -> FlowData:
    """IOM Missing Migrants: dead and missing per month by route (incidents without a route are 'Undefined')."""
    raw = pd.read_csv(_require(root, GDI_DIR / "iom_mmp.csv"))
    route = raw["route"].fillna("Undefined")
    frame = pd.DataFrame(
        {
            "global": "global",
            "region": route.map(IOM_REGIONS).fillna("Other"),
            "route": route,
            "nationality": "all",
            "ds": pd.to_datetime(raw["m"]),
            "y": raw["dead"].fillna(0).astype(float),
        }
    )
    return _flow("iom_missing", frame, "M", "dead and missing", ["IOM Missing Migrants Project incidents."])


def americas(root: Path, top_nationalities: int = 5) -> FlowData:
    """Darién transits (Panama), irregular migrants in Mexico (INM) and US south-west border encounters (CBP).

    The three are successive checkpoints of one corridor: their sum counts many people two or three times. Darién
    data is yearly before 2020, so only its monthly part (2020 on) is kept. US nationality starts in Oct 2019;
    earlier encounters are nationality ``unknown``.
    """
    darien = pd.read_csv(_require(root, GDI_DIR / "irreg_darien_nat.csv"))
    darien = darien[pd.to_datetime(darien["t"]) >= "2020-01-01"].assign(route="Darien Gap")
    mexico = pd.read_csv(_require(root, GDI_DIR / "irreg_mexico_nat.csv")).assign(route="Mexico (INM)")
    usa = pd.read_csv(_require(root, GDI_DIR / "irreg_usa.csv")).assign(route="US south-west border")
    raw = pd.concat([d[["route", "t", "nat", "n"]] for d in (darien, mexico, usa)], ignore_index=True)
    raw["nat"] = raw["nat"].fillna("unknown")
    ranked = raw.groupby(["route", "nat"])["n"].sum().reset_index().sort_values("n", ascending=False)
    top = ranked.groupby("route").head(top_nationalities)
    keep = set(zip(top["route"], top["nat"], strict=True))
    is_top = [(r, n) in keep for r, n in zip(raw["route"], raw["nat"], strict=True)]
    frame = pd.DataFrame(
        {
            "global": "global",
            "region": "Americas",
            "route": raw["route"],
            "nationality": np.where(is_top, raw["nat"], "other"),
            "ds": pd.to_datetime(raw["t"]),
            "y": raw["n"].astype(float),
        }
    )
    notes = ["Darién, Mexico and US counts are successive checkpoints: their total double-counts people."]
    return _flow("americas", frame, "M", "people", notes)


def unhcr(root: Path, group: str = "refugee return", top_origins: int = 10) -> FlowData:
    """UNHCR year-end stocks for one population ``group`` (e.g. 'refugee return', 'asylum'), by origin."""
    raw = pd.read_csv(_require(root, GDI_DIR / "unhcr.csv.gz"))
    groups = sorted(raw["group"].dropna().unique())
    if group not in groups:
        raise ConfigError(f"UNHCR group must be one of {groups}, not {group!r}.")
    raw = raw[raw["group"] == group]
    top = set(raw.groupby("from")["n"].sum().nlargest(top_origins).index)
    frame = pd.DataFrame(
        {
            "global": "global",
            "group": group,
            "origin": np.where(raw["from"].isin(top), raw["from"], "other"),
            "ds": pd.to_datetime(raw["t"].astype(str) + "-01-01"),
            "y": raw["n"].astype(float),
        }
    )
    levels = ["global", "group", "origin"]
    frame = complete_periods(frame.groupby([*levels, "ds"], as_index=False)["y"].sum(), levels, "Y")
    return FlowData(f"unhcr_{group.replace(' ', '_')}", frame, levels, "Y", "people", ["UNHCR year-end stocks."])


SOURCES: dict[str, Callable[[Path], FlowData]] = {
    "uk-weekly": lambda root: uk_small_boats(root, "W"),
    "uk-daily": lambda root: uk_small_boats(root, "D"),
    "uk-weekly-prevented": lambda root: uk_small_boats(root, "W", "prevented"),
    "frontex": frontex,
    "iom-missing": iom_missing,
    "americas": americas,
    "unhcr-returns": unhcr,
}


def load_source(name: str, root: Path) -> FlowData:
    """One of :data:`SOURCES` from the shared data folder ``root`` (the folder that holds ``migration/``)."""
    if name not in SOURCES:
        raise ConfigError(f"Unknown source {name!r}; choose one of: {', '.join(SOURCES)}.")
    return SOURCES[name](root)


def _parse_dates(values: pd.Series, file: str, column: str) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna()
    problems = [
        RowProblem(file, int(i) + 2, column, f"cannot read {values[i]!r} as a date (use YYYY-MM-DD)")
        for i in values.index[bad]
    ]
    if problems:
        raise InputRejected(file, problems, len(values))
    return parsed


def _parse_numbers(values: pd.Series, file: str, column: str) -> pd.Series:
    """Numbers, with '', '-' and 'NA' read as missing; anything else that is not a number rejects the file."""
    cleaned = values.astype(str).str.strip().str.replace(",", "", regex=False)
    missing = values.isna() | cleaned.isin(["", "-", "NA", "N/A", "nan", "NaN"])
    parsed = pd.to_numeric(cleaned.where(~missing), errors="coerce")
    bad = parsed.isna() & ~missing
    problems = [RowProblem(file, int(i) + 2, column, f"{values[i]!r} is not a number") for i in values.index[bad]]
    if problems:
        raise InputRejected(file, problems, len(values))
    return parsed


NOMINAL_DAYS = {"D": 1, "W": 7, "M": 28, "Y": 365}


def partial_ends(dates: pd.Series, periods: pd.Series, freq: str) -> pd.Series:
    """Rows in a first or last period that the data cover only in part (daily rows summed into weeks).

    A week holding two days of data would look like a collapse in crossings; such ends are dropped. Data
    already at (or coarser than) ``freq`` -- monthly rows dated on the 1st -- are never trimmed.
    """
    unique = np.sort(dates.unique())
    if len(unique) < 2:
        return pd.Series(False, index=dates.index)
    step = pd.Series(np.diff(unique)).median()
    if step >= pd.Timedelta(days=NOMINAL_DAYS[freq]):
        return pd.Series(False, index=dates.index)
    first, last = periods.min(), periods.max()
    drop = pd.Series(False, index=dates.index)
    if dates.min() > first.start_time:
        drop |= periods == first
    if dates.max() < last.end_time.normalize():
        drop |= periods == last
    return drop


def load_csv(
    path: Path,
    date_column: str,
    value_column: str,
    series_columns: Sequence[str] = (),
    freq: str = "M",
) -> FlowData:
    """Any CSV of counts: one date column, one value column, optional columns that name the series.

    Rows are summed into periods of ``freq`` (D, W = weeks ending Sunday, M = calendar months, Y); the series
    columns become the hierarchy levels under ``global`` (first column = highest level). Missing values are
    dropped; periods without rows inside a series' span count as zero.
    """
    if freq not in FREQ_ALIASES:
        raise ConfigError(f"--freq must be one of {', '.join(FREQ_ALIASES)}, not {freq!r}.")
    if not path.exists():
        raise ConfigError(f"{path}: file not found.")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    wanted = [date_column, value_column, *series_columns]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise ConfigError(f"{path}: no column(s) {missing}; the file has {list(raw.columns)}.")
    dates = _parse_dates(raw[date_column], str(path), date_column)
    values = _parse_numbers(raw[value_column], str(path), value_column)
    frame = pd.DataFrame({"ds": dates, "y": values})
    levels = ["global", *series_columns]
    frame["global"] = "global"
    for column in series_columns:
        frame[column] = raw[column].fillna("unknown").astype(str)
    frame = frame.dropna(subset=["ds", "y"])
    if frame.empty:
        raise ConfigError(f"{path}: no rows with both a date and a value.")
    periods = frame["ds"].dt.to_period(FREQ_ALIASES[freq].replace("MS", "M").replace("YS", "Y"))
    frame = frame[~partial_ends(frame["ds"], periods, freq)]
    periods = periods[frame.index]
    frame["ds"] = periods.dt.end_time.dt.normalize() if freq in ("D", "W") else periods.dt.start_time
    frame = frame.groupby([*levels, "ds"], as_index=False)["y"].sum()
    frame = complete_periods(frame, levels, freq)
    return FlowData(path.stem, frame, levels, freq, "count")
