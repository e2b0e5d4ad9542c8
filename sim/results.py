"""Result folders: the tables, the summary and how they are written and read back.

A result folder (``escalation run``) holds::

    timeseries.parquet (+ .csv)           one row per replicate and day (sim.tables: typed, with metadata)
    events.parquet (+ .csv)               one row per event (attack, strike, order, shock, rung change)
    summary.json                          provenance and the distribution of key outcomes at the horizon
                                          (sim.summary, from the outcome registry sim.outcomes)
    scenario.resolved.yaml                every parameter as used (rerun it to get the same tables)
    figures/                              PNG and SVG figures (see sim.plots)

A comparison folder (``escalation compare``) holds one such folder per
scenario (without figures), ``comparison.csv``, a ``summary.json`` of kind
``comparison`` and the overlaid figures.

Folders are written under a hidden temporary name next to the target and
renamed when complete (:class:`sim.folders.ResultFolder`, which also writes
``escalation-manifest.json``), so a failed or interrupted run leaves no result
folder behind.  The tables are streamed block by block (:mod:`sim.stream`,
:mod:`sim.tables`) with no wall-clock times, so the same seed gives
byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.columns import CAPACITY_PREFIX, EVENT_COLUMNS, TIMESERIES_COLUMNS, capacity_columns

__all__ = [
    "FLOAT_FORMAT",
    "default_folder",
    "safe_name",
    "tidy_timeseries",
    "tidy_events",
    "timeseries_order",
    "events_order",
    "write_csv",
    "write_json",
    "read_summary",
    "read_timeseries",
    "read_day_aggregates",
]

FLOAT_FORMAT = "%.6g"
"""Floats in CSV files: six significant digits, so files are reproducible across platforms."""

DATE_FORMAT = "%Y-%m-%d"

ID_COLUMNS = ("replicate", "day", "date")


# --------------------------------------------------------------------------- tidy tables


def timeseries_order(columns: Sequence[str], group_ids: Sequence[str] = ()) -> list[str]:
    """Column order of the per-day table: ``replicate, day, date``, the model columns
    (:data:`sim.columns.TIMESERIES_COLUMNS`), ``capacity_<group>`` in the scenario's group order, then the rest."""
    caps = [c for c in capacity_columns(group_ids) if c in columns]
    caps += sorted(c for c in columns if c.startswith(CAPACITY_PREFIX) and c not in caps)
    first = [c for c in (*ID_COLUMNS, *TIMESERIES_COLUMNS) if c in columns] + caps
    return first + [c for c in columns if c not in first]


def events_order(columns: Sequence[str]) -> list[str]:
    """Column order of the event log: ``replicate, day, date``, :data:`sim.columns.EVENT_COLUMNS`, then the rest."""
    first = [c for c in dict.fromkeys(("replicate", "day", "date", *EVENT_COLUMNS)) if c in columns]
    return first + [c for c in columns if c not in first]


def tidy_timeseries(ts: pd.DataFrame, group_ids: Sequence[str] = ()) -> pd.DataFrame:
    """The per-day table in a fixed row and column order (:func:`timeseries_order`), whichever engine made it."""
    ts = ts.sort_values(["replicate", "day"], kind="stable", ignore_index=True)
    ts = ts[timeseries_order(ts.columns, group_ids)].copy()
    ts["date"] = pd.to_datetime(ts["date"]).astype("datetime64[s]")
    return ts


def tidy_events(ev: pd.DataFrame | None) -> pd.DataFrame:
    """The event log sorted by replicate and day (keeping each day's order), with the documented columns."""
    columns = ["replicate", "day", "date", *[c for c in EVENT_COLUMNS if c != "day"]]
    if ev is None or ev.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[s]" if c == "date" else "object") for c in columns})
    ev = ev.sort_values(["replicate", "day"], kind="stable", ignore_index=True)
    ev = ev[events_order(ev.columns)].copy()
    ev["date"] = pd.to_datetime(ev["date"]).astype("datetime64[s]")
    return ev


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A small table (comparison, analysis) as CSV with fixed float formatting and Unix line ends."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, date_format=DATE_FORMAT, lineterminator="\n")


def _clean(value: Any) -> Any:
    """JSON-friendly numbers: numpy scalars to Python, floats to 6 significant digits, NaN to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if not np.isfinite(f) else float(f"{f:.6g}")
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(_clean(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- folders


def safe_name(text: str) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", text).strip("._") or "scenario"


def default_folder(name: str, root: Path | str = "results", now: dt.datetime | None = None) -> Path:
    """``results/<name>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``... if taken)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{safe_name(name)}-{stamp}"
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


# --------------------------------------------------------------------------- reading back


def read_summary(folder: Path | str) -> dict[str, Any]:
    """``summary.json`` of a result folder; :class:`InputError` if the folder is not one."""
    folder = Path(folder)
    path = folder / "summary.json"
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is not a folder", path="DIR",
                         allowed="a folder written by 'escalation run' or 'escalation compare'")
    if not path.is_file():
        raise InputError(f"{str(folder)!r} holds no summary.json", path="DIR",
                         allowed="a folder written by 'escalation run' or 'escalation compare'")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}", path="DIR") from None
    if not isinstance(data, dict) or data.get("kind") not in ("run", "comparison"):
        raise InputError(f"{str(path)!r} is not an escalation summary", path="DIR")
    return data


def _timeseries_file(folder: Path) -> Path:
    parquet, csv = folder / "timeseries.parquet", folder / "timeseries.csv"
    if parquet.is_file():
        return parquet
    if csv.is_file():
        return csv
    raise InputError(f"{str(folder)!r} holds neither timeseries.parquet nor timeseries.csv", path="DIR",
                     allowed="a folder written by 'escalation run'")


def read_timeseries(folder: Path | str) -> pd.DataFrame:
    """The whole per-day table of a run folder: ``timeseries.parquet``, else ``timeseries.csv``."""
    folder = Path(folder)
    path = _timeseries_file(folder)
    try:
        ts = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, parse_dates=["date"])
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the time series in {str(folder)!r}: {exc}", path="DIR") from None
    missing = [c for c in ("replicate", "day", "date", "cumulative_attacks", "max_rung") if c not in ts.columns]
    if missing:
        raise InputError(f"the time series in {str(folder)!r} lacks the columns {', '.join(missing)}", path="DIR")
    return ts


def read_day_aggregates(folder: Path | str) -> Any:
    """The per-day distributions the figures draw (:class:`sim.aggregates.DayAggregates`), read from a run
    folder's time series block by block (whole-table memory is never needed for Parquet files)."""
    import pyarrow as pa

    from sim.aggregates import DayAggregates

    folder = Path(folder)
    path = _timeseries_file(folder)
    try:
        days = DayAggregates.from_file(path)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the time series in {str(folder)!r}: {exc}", path="DIR") from None
    missing = [c for c in ("cumulative_attacks", "max_rung") if c not in days.columns]
    if missing or not days.n:
        raise InputError(f"the time series in {str(folder)!r} lacks the columns "
                         f"{', '.join(missing) or 'replicate, day'} (or has no rows)", path="DIR")
    return days
