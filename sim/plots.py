"""Figures of a run (or of several runs overlaid) for papers, slides and the web page.

Five figures, each saved as PNG and SVG:

``escalation_fan``    cumulative militia attacks on US forces: median with the bands holding the
                      middle 50% and 90% of runs, and the figures of the source documents as marked points
``ladder``            heat strip: share of runs that have reached at least each rung, by date
                      (one strip per run when several are compared)
``us_strikes``        cumulative facilities struck, aimpoints struck and munitions used (median and bands),
                      with the single strikes reported in the sources marked on their dates
``militia_capacity``  small multiples: capacity of each militia group (median and middle 50%)
``pauses``            single runs' cumulative attacks with the days a stand-down is in force drawn
                      bold, over the median; below, the share of runs with a stand-down in force

Each figure function is built from an axes-level function (:func:`fan_axes`,
:func:`ladder_strip`, :func:`strike_axes`, :func:`capacity_axes`) that the web
page (``sim/app_views.py``) calls on its own, faster figures, so the page and
the command line draw the same things the same way.  Colours come from the
Okabe-Ito palette (:data:`PALETTE`, safe for colour-blind readers); fonts from
:data:`STYLE`.  Matplotlib is used through its object interface and the Agg
canvas only (no pyplot, no global state), so drawing is safe in worker threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from sim.aggregates import PAUSE_COLUMN, DayAggregates
from sim.plot_sources import source_points, source_strikes
from sim.rules import RUNG_NAMES

__all__ = ["RunData", "FIGURES", "FORMATS", "PALETTE", "STYLE", "draw_figures", "fan_chart", "ladder_chart",
           "strikes_chart", "capacity_chart", "pauses_chart", "fan_axes", "ladder_strip", "strike_axes", "capacity_axes",
           "group_columns", "colour", "source_points"]

FORMATS = ("png", "svg")
DPI = 150
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""Okabe & Ito (2008), 'Color universal design': distinguishable with every common colour-vision deficiency."""
LADDER_CMAP = "magma_r"
"""Sequential, perceptually uniform and colour-blind safe; white-ish at 0."""
SINGLE_RUN_LADDER = ("#faf6ee", "#f5c28e")
"""A single run's ladder: rung not reached yet, reached (light, so the line of the day's rung stands out)."""
STYLE = {
    "svg.hashsalt": "escalation-sim",  # stable element ids in SVG files
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "axes.axisbelow": True,  # grid lines under the bands
    "svg.fonttype": "none",  # text stays text in SVG files (editable, searchable)
}
STRIKE_PANELS = (
    ("us_strikes", "Facilities struck\n(cumulative)"),
    ("targets_struck", "Aimpoints struck\n(cumulative)"),
    ("munitions", "Munitions\n(cumulative)"),
)


@dataclass
class RunData:
    """One run to draw: its name, per-day distributions (or a whole per-day table) and summary.

    The figures draw from ``days`` (:class:`sim.aggregates.DayAggregates`, built
    block by block while a run is written); given only ``ts``, it is computed from it.
    ``ts`` is kept when given: a single run's ladder strip also draws its rung of the day.
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


def colour(i: int) -> str:
    """The i-th colour of :data:`PALETTE` (first: the baseline or the only run)."""
    return PALETTE[i % len(PALETTE)]


def _dates(run: RunData) -> np.ndarray:
    """The run's dates, one per day, in day order."""
    return run.days.dates


def _bands(run: RunData, column: str, cumulative: bool = False) -> np.ndarray:
    """The percentiles :data:`sim.outcomes.QUANTILES` (5, 25, 50, 75, 95) over replicates, by day (5 x days)."""
    return run.days.bands(column, cumulative)


def _replicates(run: RunData) -> int:
    return int(run.days.n)


def _has_days(run: RunData) -> bool:
    return run.days.n > 0 and run.days.days > 0


def _draw_bands(ax: Any, dates: np.ndarray, q: np.ndarray, color: Any, label: str, full: bool,
                outer: bool = True) -> None:
    """Median line with 50% (and 90%) bands; ``full`` labels the bands (single-run figures)."""
    if outer:
        ax.fill_between(dates, q[0], q[4], color=color, alpha=0.15 if full else 0.1, lw=0,
                        label="middle 90% of runs" if full else None)
    ax.fill_between(dates, q[1], q[3], color=color, alpha=0.35 if full else 0.22, lw=0,
                    label="middle 50% of runs" if full else None)
    ax.plot(dates, q[2], color=color, lw=2, label=label)


def _band_note() -> Patch:
    return Patch(facecolor="0.5", alpha=0.3, label="shading: middle 50% and 90% of runs")


def _date_axis(ax: Any) -> None:
    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, axis="y", color="0.9", lw=0.8)


def caption(runs: Sequence[RunData]) -> str:
    """One line naming the scenario(s), random seed, replicates, dates, engine and version."""
    s = runs[0].summary
    sc = s.get("scenario", {})
    if len(runs) == 1:
        text = f"Scenario {runs[0].name}" + (f" (hash {sc['hash']})" if sc.get("hash") else "")
    else:
        text = "Scenarios " + ", ".join(r.name for r in runs)
    parts = [text]
    if "seed" in s:
        parts.append(f"random seed {s['seed']}")
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


# --------------------------------------------------------------------------- axes-level drawing


def fan_axes(ax: Any, runs: Sequence[RunData], *, full: bool | None = None, sources: bool = True) -> None:
    """Cumulative attacks: one median and bands per run (one colour each), the source figures marked."""
    full = len(runs) == 1 if full is None else full
    for i, run in enumerate(runs):
        if not _has_days(run):
            continue
        q = _bands(run, "cumulative_attacks")
        _draw_bands(ax, _dates(run), q, colour(i), "median" if full else run.name, full,
                    outer=_replicates(run) > 1)
    if sources and any(_has_days(r) for r in runs):
        source_points(ax, *_date_range([r for r in runs if _has_days(r)]))
    ceasefire_spans(ax, runs)
    ax.set_ylabel("attacks (cumulative)")
    ax.set_ylim(bottom=0)
    _date_axis(ax)


def ceasefire_spans(ax: Any, runs: Sequence[RunData], *, label: bool = True) -> None:
    """Shade the ceasefire windows of the runs (``summary['ceasefires']``, ODD 7.13), each window once; with
    several runs the legend names the runs that have a window."""
    spans: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        for w in run.summary.get("ceasefires", ()):
            spans.setdefault((w["start"], w["end"]), []).append(run.name)
    for i, ((start, end), names) in enumerate(spans.items()):
        text = "ceasefire" if len(runs) == 1 else f"ceasefire ({', '.join(dict.fromkeys(names))})"
        ax.axvspan(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1), color="0.5",
                   alpha=0.15, lw=0, label=text if label and (i == 0 or len(runs) > 1) else None)


def rung_shares(run: RunData) -> np.ndarray:
    """rungs 1.. x days: share of replicates whose highest rung so far is at least the rung."""
    return np.stack([run.days.reached(k) for k in range(1, len(RUNG_NAMES))])


def ladder_strip(ax: Any, run: RunData, *, labels: bool = True, end: Any = None) -> Any:
    """Heat strip of the ladder: one row per rung (1 at the bottom), colour = share of runs at or past it.

    A single run (one replicate) also gets a line for its rung of the day.
    ``end`` stretches the date axis to the end of the horizon.  Returns the image (for a colour bar).
    """
    n = len(RUNG_NAMES) - 1
    dates = _dates(run) if _has_days(run) else np.array([], dtype="datetime64[ns]")
    if len(dates):
        edges = mdates.date2num(np.append(dates, dates[-1] + np.timedelta64(1, "D")))
        single = _replicates(run) == 1
        cmap = ListedColormap(SINGLE_RUN_LADDER) if single else LADDER_CMAP
        image = ax.pcolormesh(edges, np.arange(0.5, n + 1), rung_shares(run), cmap=cmap, vmin=0, vmax=1,
                              shading="flat", rasterized=True)
        if single and run.ts is not None:
            rung = run.ts.sort_values("day")["rung"].to_numpy(float)
            ax.step(edges[:-1], np.where(rung > 0, rung, np.nan), where="post", color=PALETTE[0], lw=1.6,
                    label="rung that day")
    else:
        image = None
    if labels:
        ax.set_yticks(range(1, n + 1), [f"{k} {_pretty(RUNG_NAMES[k])}" for k in range(1, n + 1)])
    else:
        ax.set_yticks(range(1, n + 1))
    ax.set_ylim(0.5, n + 0.5)
    if end is not None and len(dates):
        ax.set_xlim(edges[0], mdates.date2num(pd.Timestamp(end)) + 1)
    _date_axis(ax)
    ax.grid(False)
    return image


def strike_axes(axes: Sequence[Any], runs: Sequence[RunData], *, full: bool | None = None) -> None:
    """One panel per :data:`STRIKE_PANELS` column: cumulative medians and bands, one colour per run."""
    full = len(runs) == 1 if full is None else full
    for ax, (column, ylabel) in zip(axes, STRIKE_PANELS):
        for i, run in enumerate(runs):
            if column in run.days.columns and _has_days(run):
                q = _bands(run, column, cumulative=True)
                _draw_bands(ax, _dates(run), q, colour(i), "median" if full else run.name, full,
                            outer=_replicates(run) > 1)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        _date_axis(ax)


def group_columns(runs: Sequence[RunData]) -> list[str]:
    """The ``capacity_<group>`` columns of the runs, in first-seen order."""
    cols: list[str] = []
    for run in runs:
        cols += [c for c in run.days.columns if c.startswith("capacity_") and c not in cols]
    return cols


def group_name(runs: Sequence[RunData], column: str) -> str:
    """A group's name from the runs' summaries (its id if none names it)."""
    gid = column[len("capacity_"):]
    for run in runs:
        name = (run.summary.get("groups") or {}).get(gid)
        if name:
            return name
    return gid


def capacity_axes(axes: Sequence[Any], runs: Sequence[RunData]) -> None:
    """Small multiples: one panel per militia group, the median and middle 50% of each run."""
    for ax, col in zip(axes, group_columns(runs)):
        for i, run in enumerate(runs):
            if col not in run.days.columns or not _has_days(run):
                continue
            q = _bands(run, col)
            dates = _dates(run)
            if _replicates(run) > 1:
                ax.fill_between(dates, q[1], q[3], color=colour(i), alpha=0.22, lw=0)
            ax.plot(dates, q[2], color=colour(i), lw=1.8, label=run.name)
        ax.set_title(group_name(runs, col), fontsize=plt_size("axes.titlesize", -1))
        ax.set_ylim(0, 1.05)
        _date_axis(ax)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) day of each run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def pauses_axes(ax: Any, strip: Any, run: RunData, i: int = 0) -> None:
    """Single runs of ``run`` (thin lines) over its median (bold), stand-down days drawn thick; the share
    of runs with a stand-down in force in ``strip`` (colour ``i`` of the palette)."""
    dates = _dates(run)
    ax.plot(dates, _bands(run, "cumulative_attacks")[2], color="0.15", lw=2.2, label="median of all runs", zorder=3)
    ids, paths = run.days.samples("cumulative_attacks")
    paused = None
    if PAUSE_COLUMN in run.days.columns:
        paused = run.days.samples(PAUSE_COLUMN)[1] > 0
    for k, (rep, path) in enumerate(zip(ids, paths)):
        c = colour(i + k + 1)
        ax.plot(dates, path, color=c, lw=1.0, label=f"run {rep}")
        if paused is not None:
            for a, b in _spans(paused[k]):
                ax.plot(dates[a:b + 1], path[a:b + 1], color=c, lw=4.5, alpha=0.45, solid_capstyle="butt")
    ax.set_ylabel("attacks\n(cumulative)")
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    ceasefire_spans(ax, [run])
    ceasefire_spans(strip, [run], label=False)
    if paused is not None:
        strip.fill_between(dates, run.days.paused_share(), step="mid", color=colour(i), alpha=0.5, lw=0)
    strip.set_ylim(0, 1)
    strip.yaxis.set_major_formatter(PercentFormatter(1.0))
    strip.set_ylabel("runs with a\nstand-down", fontsize=plt_size("axes.labelsize", -1))
    _date_axis(strip)


def pauses_chart(runs: Sequence[RunData]) -> Figure:
    """Per run: single runs' cumulative attacks, stand-downs drawn thick; the share of runs standing down."""
    shown = [r for r in runs if _has_days(r)]
    fig = _new_figure(9.5, 1.4 + 3.6 * max(1, len(shown)))
    if not shown:
        return _finish(fig, runs)
    axes = fig.subplots(2 * len(shown), 1, sharex=True, gridspec_kw={"height_ratios": [3, 1] * len(shown)})
    for i, run in enumerate(shown):
        ax, strip = axes[2 * i], axes[2 * i + 1]
        pauses_axes(ax, strip, run, 0)
        if len(shown) > 1:
            ax.set_title(run.name, loc="left", fontsize=plt_size("axes.titlesize", -1))
    handles, _ = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.4", lw=4.5, alpha=0.45, label="a stand-down in force that day"))
    axes[0].legend(handles=handles, loc="upper left", ncols=2, fontsize=plt_size("legend.fontsize", -1))
    fig.suptitle("Pauses: single runs of cumulative militia attacks; thick where a group stands down")
    return _finish(fig, runs)


def plt_size(key: str, delta: float = 0.0) -> float:
    """A font size of the current style (``key`` of rcParams) plus ``delta`` points."""
    from matplotlib.font_manager import FontProperties

    value = matplotlib.rcParams[key]
    size = FontProperties(size=value).get_size_in_points()
    return float(size) + delta


# --------------------------------------------------------------------------- figures


def fan_chart(runs: Sequence[RunData]) -> Figure:
    """Cumulative attacks against date: median and 50%/90% bands; the source figures as marked points."""
    fig = _new_figure(9, 5.4)
    ax = fig.add_subplot()
    fan_axes(ax, runs)
    handles, labels = ax.get_legend_handles_labels()
    if len(runs) > 1:
        handles.append(_band_note())
    ax.legend(handles=handles, loc="upper left")
    ax.set_ylabel("Militia attacks on US forces, cumulative (attacks)")
    ax.set_title("Cumulative militia attacks on US forces in Iraq, Syria and Jordan")
    return _finish(fig, runs)


def ladder_chart(runs: Sequence[RunData]) -> Figure:
    """Heat strip per run: share of runs that have reached at least each rung, by date."""
    fig = _new_figure(10, 1.2 + 2.9 * len(runs))
    axes = fig.subplots(len(runs), 1, sharex=True, squeeze=False)[:, 0]
    image = None
    for ax, run in zip(axes, runs):
        image = ladder_strip(ax, run) or image
        if len(runs) > 1:
            ax.set_title(run.name, loc="left", fontsize=plt_size("axes.titlesize", -1))
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.9, pad=0.01)
        bar.set_label("share of runs that reached\nat least the rung")
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    fig.suptitle("Escalation ladder: how many runs have reached each rung (or a higher one), by date")
    return _finish(fig, runs)


def strikes_chart(runs: Sequence[RunData]) -> Figure:
    """Cumulative US facilities struck, aimpoints struck and munitions used (median and bands)."""
    fig = _new_figure(9, 8)
    axes = fig.subplots(len(STRIKE_PANELS), 1, sharex=True, squeeze=False)[:, 0]
    strike_axes(axes, runs)
    source_strikes({col: ax for ax, (col, _) in zip(axes, STRIKE_PANELS)}, *_date_range(runs))
    handles, labels = axes[0].get_legend_handles_labels()
    if len(runs) > 1:
        handles.append(_band_note())
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0.85))
    fig.suptitle("US strikes on militia and IRGC facilities (dotted lines: single strikes reported in the sources)")
    return _finish(fig, runs)


def capacity_chart(runs: Sequence[RunData]) -> Figure:
    """Small multiples: militia capacity (launch capacity x coordination, 0-1) by group."""
    cols = group_columns(runs)
    ncols = 2
    nrows = max(1, math.ceil(len(cols) / ncols))
    fig = _new_figure(10, 2.6 * nrows + 1.2)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    capacity_axes(axes, runs)
    for ax in axes[len(cols):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("capacity (1 = full)")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Patch(facecolor="0.5", alpha=0.3, label="shading: middle 50% of runs"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle("Militia capacity by group (launch capacity x coordination; median over runs)")
    return _finish(fig, runs)


FIGURES: dict[str, Callable[[Sequence[RunData]], Figure]] = {
    "escalation_fan": fan_chart,
    "ladder": ladder_chart,
    "us_strikes": strikes_chart,
    "militia_capacity": capacity_chart,
    "pauses": pauses_chart,
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
