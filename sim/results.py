"""Result folders: the tables, the summary and how they are written and read back.

A result folder (``escalation run``) holds::

    timeseries.csv / timeseries.parquet   one row per replicate and day
    events.csv                            one row per event (attack, strike, order, shock, rung change)
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
folder behind.  Tables are written with fixed float
formatting and no wall-clock times, so the same seed gives byte-identical CSV
files.
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
from sim.folders import ResultFolder

__all__ = [
    "FLOAT_FORMAT",
    "ResultFolder",
    "default_folder",
    "safe_name",
    "tidy_timeseries",
    "tidy_events",
    "write_csv",
    "write_tables",
    "write_json",
    "read_summary",
    "read_timeseries",
]

FLOAT_FORMAT = "%.6g"
"""Floats in CSV files: six significant digits, so files are reproducible across platforms."""

DATE_FORMAT = "%Y-%m-%d"

ID_COLUMNS = ("replicate", "day", "date")


# --------------------------------------------------------------------------- tidy tables


def tidy_timeseries(ts: pd.DataFrame, group_ids: Sequence[str] = ()) -> pd.DataFrame:
    """The per-day table in a fixed row and column order, whichever engine made it.

    Rows: replicate, then day.  Columns: ``replicate, day, date``, the model
    columns (:data:`sim.columns.TIMESERIES_COLUMNS`), ``capacity_<group>`` in the
    scenario's group order, then anything else an engine added.
    """
    ts = ts.sort_values(["replicate", "day"], kind="stable", ignore_index=True)
    caps = [c for c in capacity_columns(group_ids) if c in ts.columns]
    caps += sorted(c for c in ts.columns if c.startswith(CAPACITY_PREFIX) and c not in caps)
    first = [c for c in (*ID_COLUMNS, *TIMESERIES_COLUMNS) if c in ts.columns] + caps
    order = first + [c for c in ts.columns if c not in first]
    ts = ts[order].copy()
    ts["date"] = pd.to_datetime(ts["date"]).astype("datetime64[s]")
    return ts


def tidy_events(ev: pd.DataFrame | None) -> pd.DataFrame:
    """The event log sorted by replicate and day (keeping each day's order), with the documented columns."""
    columns = ["replicate", "day", "date", *[c for c in EVENT_COLUMNS if c != "day"]]
    if ev is None or ev.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[s]" if c == "date" else "object") for c in columns})
    ev = ev.sort_values(["replicate", "day"], kind="stable", ignore_index=True)
    ev = ev[columns + [c for c in ev.columns if c not in columns]].copy()
    ev["date"] = pd.to_datetime(ev["date"]).astype("datetime64[s]")
    return ev


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with fixed float and date formatting and Unix line ends (reproducible bytes)."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, date_format=DATE_FORMAT, lineterminator="\n")


def write_tables(folder: Path, ts: pd.DataFrame, ev: pd.DataFrame) -> list[str]:
    """Write ``timeseries.csv``, ``timeseries.parquet`` and ``events.csv``; return the file names."""
    write_csv(ts, folder / "timeseries.csv")
    ts.to_parquet(folder / "timeseries.parquet", index=False)
    write_csv(ev, folder / "events.csv")
    return ["timeseries.csv", "timeseries.parquet", "events.csv"]


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


def read_timeseries(folder: Path | str) -> pd.DataFrame:
    """The per-day table of a run folder: ``timeseries.parquet``, else ``timeseries.csv``."""
    folder = Path(folder)
    parquet, csv = folder / "timeseries.parquet", folder / "timeseries.csv"
    try:
        if parquet.is_file():
            ts = pd.read_parquet(parquet)
        elif csv.is_file():
            ts = pd.read_csv(csv, parse_dates=["date"])
        else:
            raise InputError(f"{str(folder)!r} holds neither timeseries.parquet nor timeseries.csv", path="DIR",
                             allowed="a folder written by 'escalation run'")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the time series in {str(folder)!r}: {exc}", path="DIR") from None
    missing = [c for c in ("replicate", "day", "date", "cumulative_attacks", "max_rung") if c not in ts.columns]
    if missing:
        raise InputError(f"the time series in {str(folder)!r} lacks the columns {', '.join(missing)}", path="DIR")
    return ts
