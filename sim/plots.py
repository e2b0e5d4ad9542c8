"""Figures of a run (or of several runs overlaid) for papers and slides.

Four figures, each saved as PNG and SVG:

``escalation_fan``    cumulative militia attacks on US forces: median with the bands holding the
                      middle 50% and 90% of runs, and the seed figures as marked points
``ladder``            probability of having reached at least each rung of the escalation ladder, by date
``us_strikes``        cumulative facilities struck, aimpoints struck and munitions used (median and bands),
                      with the seed figures of single strikes marked on their dates
``militia_capacity``  capacity of each militia group (median and middle 50%)

With one run the bands are drawn in full; with several (``escalation compare``)
each scenario gets one colour and the ladder and capacity figures become small
multiples (one panel per rung or group).  Every figure carries a caption line
naming the scenario(s), seed and replicates.

Matplotlib is used through its object interface and the Agg canvas only (no
pyplot, no global state), so drawing is safe in worker processes and tests.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from sim.aggregates import DayAggregates
from sim.rules import RUNG_NAMES

__all__ = ["RunData", "FIGURES", "FORMATS", "draw_figures", "fan_chart", "ladder_chart", "strikes_chart",
           "capacity_chart"]

log = logging.getLogger(__name__)

FORMATS = ("png", "svg")
DPI = 150
STYLE = {
    "svg.hashsalt": "escalation-sim",  # stable element ids in SVG files
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "axes.axisbelow": True,  # grid lines under the bands
    "svg.fonttype": "none",  # text stays text in SVG files (editable, searchable)
}
BOUND_WORDS = {"more_than": "more than", "at_least": "at least", "at_most": "at most", "exact": ""}
BOUND_MARKERS = {"more_than": "^", "at_least": "^", "at_most": "v", "exact": "o"}
STRIKE_PANELS = (
    ("us_strikes", "Facilities struck\n(cumulative)"),
    ("targets_struck", "Aimpoints struck\n(cumulative targets)"),
    ("munitions", "Precision munitions\n(cumulative)"),
)
SEED_STRIKES = {
    # calibration statistic -> (panel column, what the figure counts)
    "facilities_first_proportionate_strike": ("us_strikes", "facilities struck"),
    "campaign_first_wave_targets": ("targets_struck", "targets struck in one wave"),
    "campaign_first_wave_munitions": ("munitions", "munitions in one wave"),
}


@dataclass
class RunData:
    """One run to draw: its name, per-day distributions (or a whole per-day table) and summary.

    The figures draw from ``days`` (:class:`sim.aggregates.DayAggregates`, built
    block by block while a run is written); given only ``ts``, it is computed from it.
    """

    name: str
    ts: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    days: DayAggregates | None = None

    def __post_init__(self) -> None:
        if self.days is None:
            if self.ts is None:
                raise ValueError("RunData needs a per-day table (ts) or its aggregates (days)")
            self.days = DayAggregates.from_table(self.ts)


# --------------------------------------------------------------------------- helpers


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _color(i: int) -> Any:
    return matplotlib.colormaps["tab10"](i % 10)


def _dates(run: RunData) -> np.ndarray:
    return run.days.dates


def _bands(run: RunData, column: str, cumulative: bool = False) -> np.ndarray:
    """Percentiles 5, 25, 50, 75, 95 over replicates, by day (5 x days)."""
    return run.days.bands(column, cumulative)


def _draw_bands(ax: Any, dates: np.ndarray, q: np.ndarray, color: Any, label: str, full: bool) -> None:
    """Median line with 50% and 90% bands; ``full`` labels the bands (single-run figures)."""
    ax.fill_between(dates, q[0], q[4], color=color, alpha=0.15 if full else 0.08, lw=0,
                    label="middle 90% of runs" if full else None)
    ax.fill_between(dates, q[1], q[3], color=color, alpha=0.35 if full else 0.2, lw=0,
                    label="middle 50% of runs" if full else None)
    ax.plot(dates, q[2], color=color, lw=2, label=label)


def _band_note() -> Patch:
    return Patch(facecolor="0.5", alpha=0.3, label="shading: middle 50% and 90% of runs")


def _date_axis(ax: Any) -> None:
    loc = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, axis="y", color="0.9", lw=0.8)


def caption(runs: Sequence[RunData]) -> str:
    """One line naming the scenario(s), seed, replicates, dates, engine and version."""
    s = runs[0].summary
    sc = s.get("scenario", {})
    if len(runs) == 1:
        text = f"Scenario {runs[0].name}" + (f" (hash {sc['hash']})" if sc.get("hash") else "")
    else:
        text = "Scenarios " + ", ".join(r.name for r in runs)
    parts = [text]
    if "seed" in s:
        parts.append(f"seed {s['seed']}")
    if "replicates" in s:
        parts.append(f"{s['replicates']} replicates" + (" each" if len(runs) > 1 else ""))
    if s.get("start_date") and s.get("end_date"):
        parts.append(f"{s['start_date']} to {s['end_date']}")
    overrides = sc.get("overrides") or []
    if overrides:
        parts.append("--set " + " ".join(overrides))
    if s.get("engine"):
        parts.append(f"{s['engine']} engine")
    if s.get("version"):
        parts.append(f"escalation-sim {s['version']}")
    return " | ".join(parts)


def _finish(fig: Figure, runs: Sequence[RunData]) -> Figure:
    fig.supxlabel(caption(runs), fontsize=7.5, color="0.35", x=0.01, ha="left")
    return fig


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _date_range(runs: Sequence[RunData]) -> tuple[pd.Timestamp, pd.Timestamp]:
    dates = np.concatenate([_dates(r) for r in runs])
    return pd.Timestamp(dates.min()), pd.Timestamp(dates.max())


def _seed_records() -> tuple[list[Any], dict[str, str]]:
    """Calibration targets and a map event id -> seed tag ('seed 002'); empty if the seed file is unreadable."""
    try:
        from sim.seeds import load_events, load_targets

        events = load_events()
        targets = load_targets()
    except Exception as exc:  # the figures do not depend on the seed file
        log.warning("seed figures left out of the plots: %s", exc)
        return [], {}
    tags = {row.id: "seed " + str(row.source).split("_")[0] for row in events.itertuples()}
    return targets, tags


def _seed_label(target: Any, tags: dict[str, str], what: str) -> str:
    seeds = sorted({tags[s] for s in target.sources if s in tags})
    words = BOUND_WORDS.get(target.bound, "")
    tag = f" ({', '.join(seeds)})" if seeds else ""
    return f"{words} {target.value:g} {what}".strip() + tag


# --------------------------------------------------------------------------- figures


def fan_chart(runs: Sequence[RunData]) -> Figure:
    """Cumulative attacks against date: median and 50%/90% bands; seed figures as marked points."""
    fig = _new_figure(9, 5.4)
    ax = fig.add_subplot()
    full = len(runs) == 1
    for i, run in enumerate(runs):
        q = _bands(run, "cumulative_attacks")
        _draw_bands(ax, _dates(run), q, _color(i), "median" if full else run.name, full)
    lo, hi = _date_range(runs)
    _seed_attack_points(ax, lo, hi)
    handles, labels = ax.get_legend_handles_labels()
    if not full:
        handles.append(_band_note())
    ax.legend(handles=handles, loc="upper left", fontsize=8.5)
    ax.set_ylabel("Militia attacks on US forces, cumulative (attacks)")
    ax.set_ylim(bottom=0)
    ax.set_title("Cumulative militia attacks on US forces in Iraq, Syria and Jordan")
    _date_axis(ax)
    return _finish(fig, runs)


def _seed_attack_points(ax: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    """The seed's cumulative-attack figures (sim.seeds.plot_points) as labelled markers."""
    targets, tags = _seed_records()
    if not targets:
        return
    from sim.seeds import plot_points

    by_point = {(pd.Timestamp(t.ref_date), float(t.value)): t for t in targets
                if t.statistic == "cumulative_attacks" and t.value is not None}
    for row in plot_points().itertuples():
        date = pd.Timestamp(row.date)
        if not lo <= date <= hi:
            continue
        target = by_point.get((date, float(row.cumulative_attacks)))
        label = _seed_label(target, tags, "attacks") if target is not None else row.label
        ax.plot([date], [row.cumulative_attacks], ls="none", marker=BOUND_MARKERS.get(row.bound, "o"),
                ms=8, color="black", zorder=5, label=f"source figure: {label}")
        ax.annotate(label, (date, row.cumulative_attacks), xytext=(8, -4), textcoords="offset points",
                    fontsize=8, va="top")


def ladder_chart(runs: Sequence[RunData]) -> Figure:
    """Probability of having reached at least each rung, by date (one line per rung, or one panel per rung)."""
    rungs = list(enumerate(RUNG_NAMES))[1:]  # rung 0 (calm) is reached by every run
    if len(runs) == 1:
        run = runs[0]
        fig = _new_figure(9, 5.4)
        ax = fig.add_subplot()
        dates = _dates(run)
        cmap = matplotlib.colormaps["plasma"]
        for k, name in rungs:
            ax.plot(dates, run.days.reached(k), color=cmap((k - 1) / max(len(rungs), 1)), lw=2,
                    label=f"{k} {_pretty(name)}")
        ax.legend(title="rung (at least)", loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8.5)
        ax.set_ylabel("Share of runs that reached the rung")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("Escalation ladder: probability of having reached at least each rung")
        _date_axis(ax)
        return _finish(fig, runs)
    ncols = 3
    nrows = math.ceil(len(rungs) / ncols)
    fig = _new_figure(11, 2.6 * nrows + 1)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, (k, name) in zip(axes, rungs):
        for i, run in enumerate(runs):
            ax.plot(_dates(run), run.days.reached(k), color=_color(i), lw=1.8,
                    label=run.name)
        ax.set_title(f"{k} {_pretty(name)}", fontsize=9.5)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(-0.02, 1.02)
        _date_axis(ax)
    for ax in axes[len(rungs):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("Share of runs")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=9)
    fig.suptitle("Escalation ladder: probability of having reached at least each rung")
    return _finish(fig, runs)


def strikes_chart(runs: Sequence[RunData]) -> Figure:
    """Cumulative US facilities struck, aimpoints struck and munitions used (median and bands)."""
    fig = _new_figure(9, 8)
    axes = fig.subplots(len(STRIKE_PANELS), 1, sharex=True, squeeze=False)[:, 0]
    full = len(runs) == 1
    for ax, (column, ylabel) in zip(axes, STRIKE_PANELS):
        for i, run in enumerate(runs):
            if column in run.days.columns:
                q = _bands(run, column, cumulative=True)
                _draw_bands(ax, _dates(run), q, _color(i), "median" if full else run.name, full)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        _date_axis(ax)
    lo, hi = _date_range(runs)
    targets, tags = _seed_records()
    panel = {col: ax for ax, (col, _) in zip(axes, STRIKE_PANELS)}
    for t in targets:
        if t.statistic not in SEED_STRIKES or t.value is None:
            continue
        column, what = SEED_STRIKES[t.statistic]
        date = pd.Timestamp(t.ref_date)
        if not lo <= date <= hi:
            continue
        ax = panel[column]
        ax.axvline(date, color="0.25", ls=":", lw=1)
        ax.annotate(f"{date.day} {date:%b %Y}: {_seed_label(t, tags, what)}", (date, 1), xycoords=("data", "axes fraction"),
                    xytext=(4, -2), textcoords="offset points", fontsize=7.5, va="top", color="0.25")
    handles, labels = axes[0].get_legend_handles_labels()
    if not full:
        handles.append(_band_note())
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0.85), fontsize=8.5)
    fig.suptitle("US strikes on militia and IRGC facilities (dotted lines: single strikes reported in the sources)")
    return _finish(fig, runs)


def _group_columns(runs: Sequence[RunData]) -> list[str]:
    cols: list[str] = []
    for run in runs:
        cols += [c for c in run.days.columns if c.startswith("capacity_") and c not in cols]
    return cols


def _group_name(runs: Sequence[RunData], column: str) -> str:
    gid = column[len("capacity_"):]
    for run in runs:
        name = (run.summary.get("groups") or {}).get(gid)
        if name:
            return name
    return gid


def capacity_chart(runs: Sequence[RunData]) -> Figure:
    """Militia capacity (launch capacity x coordination, 0-1) by group: median and middle 50%."""
    cols = _group_columns(runs)
    ylabel = "Capacity (share of full)"
    long_label = "Capacity (share of full: launch capacity x coordination)"
    if len(runs) == 1:
        run = runs[0]
        fig = _new_figure(9, 5.4)
        ax = fig.add_subplot()
        dates = _dates(run)
        for i, col in enumerate(cols):
            q = _bands(run, col)
            ax.fill_between(dates, q[1], q[3], color=_color(i), alpha=0.15, lw=0)
            ax.plot(dates, q[2], color=_color(i), lw=2, label=_group_name(runs, col))
        handles, _ = ax.get_legend_handles_labels()
        handles.append(Patch(facecolor="0.5", alpha=0.3, label="shading: middle 50% of runs"))
        ax.legend(handles=handles, loc="lower left", fontsize=8.5)
        ax.set_ylabel(long_label)
        ax.set_ylim(0, 1.05)
        ax.set_title("Militia capacity by group (median over runs)")
        _date_axis(ax)
        return _finish(fig, runs)
    ncols = 2
    nrows = max(1, math.ceil(len(cols) / ncols))
    fig = _new_figure(10, 2.8 * nrows + 1)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, col in zip(axes, cols):
        for i, run in enumerate(runs):
            if col not in run.days.columns:
                continue
            q = _bands(run, col)
            dates = _dates(run)
            ax.fill_between(dates, q[1], q[3], color=_color(i), alpha=0.15, lw=0)
            ax.plot(dates, q[2], color=_color(i), lw=1.8, label=run.name)
        ax.set_title(_group_name(runs, col), fontsize=9.5)
        ax.set_ylim(0, 1.05)
        _date_axis(ax)
    for ax in axes[len(cols):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel(ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Patch(facecolor="0.5", alpha=0.3, label="shading: middle 50% of runs"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=9)
    fig.suptitle("Militia capacity by group (median over runs)")
    return _finish(fig, runs)


FIGURES: dict[str, Callable[[Sequence[RunData]], Figure]] = {
    "escalation_fan": fan_chart,
    "ladder": ladder_chart,
    "us_strikes": strikes_chart,
    "militia_capacity": capacity_chart,
}
"""File stem -> figure function.  Each takes a list of runs (one run, or several overlaid)."""


def save(fig: Figure, folder: Path, stem: str, formats: Sequence[str] = FORMATS, *, dpi: int = DPI) -> list[Path]:
    """Save one figure in each format; SVG without a date, PNG without the software tag."""
    paths = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        metadata = {"Date": None} if fmt == "svg" else ({"Software": None} if fmt == "png" else None)
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
        paths.append(path)
    return paths


def draw_figures(runs: Sequence[RunData], folder: Path | str, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw every figure of :data:`FIGURES` for ``runs`` into ``folder`` (created); return the files."""
    if not runs:
        raise ValueError("no runs to draw")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with matplotlib.rc_context(STYLE):
        for stem, draw in FIGURES.items():
            fig = draw(runs)
            paths += save(fig, folder, stem, formats)
            fig.clear()
    return paths
