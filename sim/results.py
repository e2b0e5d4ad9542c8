"""Result folders: the tables, the summary and how they are written and read back.

A result folder (``escalation run``) holds::

    timeseries.csv / timeseries.parquet   one row per replicate and day
    events.csv                            one row per event (attack, strike, order, shock, rung change)
    summary.json                          provenance and the distribution of key outcomes at the horizon
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.columns import CAPACITY_PREFIX, EVENT_COLUMNS, TIMESERIES_COLUMNS, capacity_columns
from sim.folders import ResultFolder
from sim.rules import RUNG_NAMES

__all__ = [
    "FLOAT_FORMAT",
    "QUANTILES",
    "Outcome",
    "OUTCOMES",
    "ResultFolder",
    "default_folder",
    "safe_name",
    "tidy_timeseries",
    "tidy_events",
    "write_csv",
    "write_tables",
    "write_json",
    "horizon_values",
    "first_fatal_days",
    "rung_probabilities",
    "summarize",
    "comparison_table",
    "format_comparison",
    "read_summary",
    "read_timeseries",
]

FLOAT_FORMAT = "%.6g"
"""Floats in CSV files: six significant digits, so files are reproducible across platforms."""

DATE_FORMAT = "%Y-%m-%d"

QUANTILES = (5, 25, 50, 75, 95)
"""Percentiles (over replicates) reported in summary.json and comparison.csv."""

ID_COLUMNS = ("replicate", "day", "date")


# --------------------------------------------------------------------------- key outcomes


@dataclass(frozen=True)
class Outcome:
    """A key outcome at the horizon: one number per replicate, taken from one column."""

    key: str
    label: str
    unit: str
    column: str
    how: str  # "sum" over days (daily counts) or "last" (value on the last day)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("cumulative_attacks", "Militia attacks on US forces", "attacks", "cumulative_attacks", "last"),
    Outcome("us_injured", "US personnel injured", "people", "us_injured", "sum"),
    Outcome("us_killed", "US personnel killed", "people", "us_killed", "sum"),
    Outcome("us_strikes", "Facilities struck by the US", "facility strikes", "us_strikes", "sum"),
    Outcome("targets_struck", "Aimpoints (targets) struck by the US", "targets", "targets_struck", "sum"),
    Outcome("munitions", "Precision munitions used", "munitions", "munitions", "sum"),
    Outcome("militants_killed", "Militants killed by US strikes", "people", "militants_killed", "sum"),
    Outcome("irgc_killed", "IRGC personnel killed by US strikes", "people", "irgc_killed", "sum"),
    Outcome("civilian_harm", "Civilian-harm events from US strikes", "events", "civilian_harm", "sum"),
    Outcome("iran_direct_attacks", "Direct Iranian attacks on US forces", "attacks", "iran_direct_attacks", "sum"),
    Outcome("militia_capacity", "Militia capacity on the last day, mean of groups", "share of full",
            "militia_capacity", "last"),
    Outcome("max_rung", "Highest ladder rung reached", "0-9", "max_rung", "last"),
)
"""The outcomes summarised at the horizon, in display order."""


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


# --------------------------------------------------------------------------- summary


def horizon_values(ts: pd.DataFrame) -> pd.DataFrame:
    """One row per replicate, one column per :data:`OUTCOMES` key: the outcome at the horizon."""
    by_rep = ts.groupby("replicate", sort=True)
    cols = {}
    for o in OUTCOMES:
        if o.column not in ts.columns:
            continue
        cols[o.key] = by_rep[o.column].sum() if o.how == "sum" else by_rep[o.column].last()
    return pd.DataFrame(cols)


def _quantiles(values: Iterable[float]) -> dict[str, float]:
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return {"mean": None, **{f"p{q}": None for q in QUANTILES}}
    qs = np.percentile(arr, QUANTILES)
    return {"mean": float(arr.mean()), **{f"p{q}": float(v) for q, v in zip(QUANTILES, qs)}}


def first_fatal_days(ts: pd.DataFrame) -> pd.Series:
    """Per replicate: the first day (0 = start date) on which US personnel were killed, NaN if none."""
    fatal = ts.loc[ts["us_killed"] > 0, ["replicate", "day"]].groupby("replicate")["day"].min()
    reps = np.sort(ts["replicate"].unique())
    return fatal.reindex(reps).astype(float)


def rung_probabilities(ts: pd.DataFrame) -> dict[str, float]:
    """Share of replicates whose highest rung by the horizon is at least each rung (by name)."""
    top = ts.groupby("replicate")["max_rung"].last().to_numpy()
    return {name: float((top >= k).mean()) for k, name in enumerate(RUNG_NAMES)}


def summarize(ts: pd.DataFrame, start_date: dt.date) -> dict[str, Any]:
    """The outcome part of summary.json: quantiles at the horizon, rung probabilities, first fatal day."""
    values = horizon_values(ts)
    outcomes = {}
    for o in OUTCOMES:
        if o.key in values:
            outcomes[o.key] = {"label": o.label, "unit": o.unit, **_quantiles(values[o.key])}
    firsts = first_fatal_days(ts)
    hit = firsts.dropna()
    ffd: dict[str, Any] = {
        "probability": float(len(hit) / len(firsts)) if len(firsts) else None,
        "replicates_with_fatality": int(len(hit)),
        "day": _quantiles(hit),
    }
    ffd["date"] = {k: (None if v is None else (start_date + dt.timedelta(days=int(round(v)))).isoformat())
                   for k, v in ffd["day"].items() if k != "mean"}
    return {
        "outcomes": outcomes,
        "rung_probability": rung_probabilities(ts),
        "first_fatal_day": ffd,
        "definitions": {
            "outcomes": "value at the horizon per replicate (sums of daily counts, or the last day's value); "
                        "mean and percentiles over replicates",
            "rung_probability": "share of replicates whose highest rung by the horizon is at least this rung",
            "first_fatal_day": "first day (0 = start date) on which US personnel were killed: probability "
                               "that it happens by the horizon, and percentiles over the replicates where it does",
        },
    }


# --------------------------------------------------------------------------- comparison


def comparison_table(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Key outcomes side by side: one row per (outcome, statistic), one column per scenario.

    Statistics are p5, p50 and p95 for each outcome, then ``probability`` rows
    for "at least one US fatality" and for reaching each rung.
    """
    rows: list[dict[str, Any]] = []
    names = [s["scenario"]["name"] for s in summaries]
    for o in OUTCOMES:
        for stat in ("p5", "p50", "p95"):
            row = {"outcome": o.key, "statistic": stat}
            for name, s in zip(names, summaries):
                row[name] = s["outcomes"].get(o.key, {}).get(stat)
            rows.append(row)
    row = {"outcome": "any_us_killed", "statistic": "probability"}
    row.update({name: s["first_fatal_day"]["probability"] for name, s in zip(names, summaries)})
    rows.append(row)
    for rung in RUNG_NAMES[1:]:
        row = {"outcome": f"reached_{rung}", "statistic": "probability"}
        row.update({name: s["rung_probability"].get(rung) for name, s in zip(names, summaries)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "statistic", *names])


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_comparison(summaries: Sequence[dict[str, Any]]) -> str:
    """The comparison as a readable text table: median [5%-95%] per outcome, probabilities in percent."""
    names = [s["scenario"]["name"] for s in summaries]
    header = ["outcome at the horizon", *names]
    body: list[list[str]] = []
    for o in OUTCOMES:
        cells = [f"{o.label} ({o.unit})"]
        for s in summaries:
            q = s["outcomes"].get(o.key)
            cells.append("-" if not q else f"{_num(q['p50'])} [{_num(q['p5'])}-{_num(q['p95'])}]")
        body.append(cells)
    body.append(["P(at least one US fatality)",
                 *[f"{100 * s['first_fatal_day']['probability']:.0f}%" for s in summaries]])
    for k, rung in enumerate(RUNG_NAMES[1:], start=1):
        body.append([f"P(reached rung {k} {rung.replace('_', ' ')})",
                     *[f"{100 * s['rung_probability'][rung]:.0f}%" for s in summaries]])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in body),
                      "", "Cells: median [5th-95th percentile] over replicates."])


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
