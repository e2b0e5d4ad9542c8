"""The outcome part of ``summary.json`` and the side-by-side comparison of ``escalation compare``.

Both read the outcome registry (:mod:`sim.outcomes`) and nothing else: each
registry outcome appears by its kind --

* ``value`` outcomes (counts, the highest rung, final capacity): mean and the
  :data:`~sim.outcomes.QUANTILES` over replicates, under ``outcomes``;
* ``probability`` outcomes (``reached_<rung>``): the share of replicates where it
  is true, under ``rung_probability`` by rung name (``calm`` is always 1);
* other ``probability`` outcomes (e.g. ``no_death_by_first_figure``): the share of
  replicates where it is true, under ``probabilities`` by outcome name;
* ``event`` outcomes (``first_fatal_day``): the share of replicates where the
  event happened by the horizon, and the percentiles of its day and date over
  those replicates, under the outcome's name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.outcomes import OUTCOMES, horizon_table, percentiles
from sim.rules import RUNG_NAMES

__all__ = ["COMPARED_STATISTICS", "comparison_table", "format_comparison", "rung_probabilities", "summarize",
           "summarize_horizon"]

VALUES = tuple(o for o in OUTCOMES if o.kind == "value")
EVENTS = tuple(o for o in OUTCOMES if o.kind == "event")
REACHED = tuple(o for o in OUTCOMES if o.kind == "probability" and o.name.startswith("reached_"))
PROBABILITIES = tuple(o for o in OUTCOMES if o.kind == "probability" and o not in REACHED)
assert [o.reduce.threshold for o in REACHED] == list(range(1, len(RUNG_NAMES)))  # type: ignore[attr-defined]

COMPARED_STATISTICS = ("p5", "p50", "p95")
"""The percentiles ``comparison.csv`` shows for each value outcome."""


def rung_probabilities(values: pd.DataFrame) -> dict[str, float]:
    """Share of replicates whose highest rung by the horizon is at least each rung (by name), from a horizon table."""
    out = {RUNG_NAMES[0]: 1.0}
    out.update({RUNG_NAMES[o.reduce.threshold]: float(values[o.name].mean()) for o in REACHED})  # type: ignore[attr-defined]
    return out


def _event_summary(day: pd.Series, start_date: dt.date) -> dict[str, Any]:
    hit = day.dropna().astype(float)
    out: dict[str, Any] = {
        "probability": float(len(hit) / len(day)) if len(day) else None,
        "replicates_with_event": int(len(hit)),
        "day": percentiles(hit),
    }
    out["date"] = {k: (None if v is None else (start_date + dt.timedelta(days=int(round(v)))).isoformat())
                   for k, v in out["day"].items() if k != "mean"}
    return out


def summarize(ts: pd.DataFrame, start_date: dt.date) -> dict[str, Any]:
    """The outcome part of summary.json (see the module doc), from a per-day table of either engine."""
    return summarize_horizon(horizon_table(ts), start_date)


def summarize_horizon(values: pd.DataFrame, start_date: dt.date) -> dict[str, Any]:
    """The outcome part of summary.json from a horizon table (:func:`sim.outcomes.horizon_table`: one row per
    replicate), e.g. gathered block by block while a run is streamed to its files (:mod:`sim.stream`)."""
    summary: dict[str, Any] = {
        "outcomes": {o.name: {"label": o.label, "unit": o.unit, **percentiles(values[o.name])} for o in VALUES},
        "rung_probability": rung_probabilities(values),
        "probabilities": {o.name: {"label": o.label, "probability": float(values[o.name].mean())}
                          for o in PROBABILITIES},
    }
    for o in EVENTS:
        summary[o.name] = {"label": o.label, **_event_summary(values[o.name], start_date)}
    summary["definitions"] = {
        "outcomes": "value at the horizon per replicate (see the outcome list in the README); "
                    "mean and percentiles over replicates",
        "rung_probability": "share of replicates whose highest rung by the horizon is at least this rung",
        "probabilities": "share of replicates where the outcome is true (see the outcome list in the README)",
        **{o.name: f"{o.description}: probability that it happens by the horizon, and percentiles over the "
                   "replicates where it does" for o in EVENTS},
    }
    return summary


# --------------------------------------------------------------------------- comparison


def comparison_table(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Key outcomes side by side: one row per (outcome, statistic), one column per scenario.

    Statistics are :data:`COMPARED_STATISTICS` for each value outcome, then a
    ``probability`` row for each event outcome (that it happens by the horizon)
    and one for reaching each rung.
    """
    rows: list[dict[str, Any]] = []
    names = [s["scenario"]["name"] for s in summaries]
    for o in VALUES:
        for stat in COMPARED_STATISTICS:
            row = {"outcome": o.name, "statistic": stat}
            for name, s in zip(names, summaries):
                row[name] = s["outcomes"].get(o.name, {}).get(stat)
            rows.append(row)
    for o in EVENTS:
        row = {"outcome": o.name, "statistic": "probability"}
        row.update({name: s.get(o.name, {}).get("probability") for name, s in zip(names, summaries)})
        rows.append(row)
    for o in PROBABILITIES:
        row = {"outcome": o.name, "statistic": "probability"}
        row.update({name: s.get("probabilities", {}).get(o.name, {}).get("probability")
                    for name, s in zip(names, summaries)})
        rows.append(row)
    for o in REACHED:
        row = {"outcome": o.name, "statistic": "probability"}
        rung = RUNG_NAMES[o.reduce.threshold]  # type: ignore[attr-defined]
        row.update({name: s["rung_probability"].get(rung) for name, s in zip(names, summaries)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "statistic", *names])


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _percent(p: Any) -> str:
    return "-" if p is None else f"{100 * p:.0f}%"


def format_comparison(summaries: Sequence[dict[str, Any]]) -> str:
    """The comparison as a readable text table: median [5%-95%] per outcome, probabilities in percent."""
    names = [s["scenario"]["name"] for s in summaries]
    header = ["outcome at the horizon", *names]
    body: list[list[str]] = []
    for o in VALUES:
        cells = [f"{o.label} ({o.unit})"]
        for s in summaries:
            q = s["outcomes"].get(o.name)
            cells.append("-" if not q else f"{_num(q['p50'])} [{_num(q['p5'])}-{_num(q['p95'])}]")
        body.append(cells)
    for o in EVENTS:
        body.append([f"P({o.label} by the horizon)", *[_percent(s.get(o.name, {}).get("probability")) for s in summaries]])
    for o in REACHED:
        rung = RUNG_NAMES[o.reduce.threshold]  # type: ignore[attr-defined]
        body.append([f"P({o.label.lower()})", *[_percent(s["rung_probability"].get(rung)) for s in summaries]])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in body),
                      "", "Cells: median [5th-95th percentile] over replicates."])
