"""Views of the web page (:mod:`sim.app`): figures, tables and the ensemble panel.

Every figure is drawn by a plain function (``draw_*``) that takes a model or a
table and returns a matplotlib :class:`~matplotlib.figure.Figure`, so the
drawing can be tested without a browser.  The solara components below turn
those figures into images and re-draw them after every step of the model.

Import this module before anything imports solara: it sets the solara
environment for an offline, telemetry-free server (see :data:`SOLARA_ENV`).
"""

from __future__ import annotations

import os

SOLARA_ENV = {
    # no usage reports to mixpanel.com
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    # serve the front-end files from the local copy installed by solara-assets
    # (<venv>/share/solara/cdn) under /_solara/cdn instead of a public CDN
    "SOLARA_ASSETS_PROXY": "True",
}
"""Environment solara reads when it is first imported (values already set are kept)."""

for _key, _value in SOLARA_ENV.items():
    os.environ.setdefault(_key, _value)

import dataclasses  # noqa: E402
import functools  # noqa: E402
import datetime as dt  # noqa: E402
import html  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any, Callable, Sequence  # noqa: E402

import matplotlib  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

with warnings.catch_warnings():
    # solara's hook checker flags Mesa 3.3's ComponentsView when Mesa's visualization is first
    # imported (a use_state after an early return that only happens without components): not ours to fix
    warnings.filterwarnings("ignore", message=r".*ComponentsView: `use_state` found despite early return")
    from mesa.visualization.utils import update_counter  # noqa: E402

from .compiled import HOMELAND, IRGC_ABROAD  # noqa: E402
from .engines import get_engine  # noqa: E402
from .outcomes import QUANTILES  # noqa: E402


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def apply_solara_env() -> None:
    """Make solara's settings follow :data:`SOLARA_ENV` even if solara was imported before this module.

    solara reads its environment once, when first imported; the server's routes
    are built later (when the server starts), so setting the objects here is enough.
    """
    import solara.server.settings as server_settings
    import solara.settings

    server_settings.telemetry.mixpanel_enable = _env_flag("SOLARA_TELEMETRY_MIXPANEL_ENABLE")
    solara.settings.assets.proxy = _env_flag("SOLARA_ASSETS_PROXY")


apply_solara_env()
from .rules import RUNG_NAMES  # noqa: E402
from .runner import tidy_timeseries  # noqa: E402
from .seeds import plot_points  # noqa: E402

RECENT_DAYS = 7
"""A base attacked (or a facility struck) within this many days is highlighted on the map."""

EVENT_ROWS = 30
"""Events shown in the event log (newest first)."""

ENSEMBLE_REPLICATES = 200
"""Default number of replicates of the ensemble panel."""

ENSEMBLE_MAX = 5000
"""Most replicates the panel runs at once (the server is shared by everyone using the page)."""

BANDS = tuple(q / 100 for q in QUANTILES)  # the outcome registry's percentiles, as fractions
"""Quantiles of the fan chart: the 90% band, the 50% band and the median."""

STATE_COLOURS = {"intact": "#2e7d32", "damaged": "#f29d0c", "destroyed": "#3b3b3b"}
BASE_COLOUR, ATTACKED_COLOUR, SEED_COLOUR, RUN_COLOUR = "#1565c0", "#d32f2f", "#c2185b", "#1f4e79"

_RC = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False,
}
FIG_SIZE = (6.0, 3.6)
"""Size of every figure, in inches (each view fills half the page width)."""
DPI = 100


# --------------------------------------------------------------------------- figure helpers


def new_figure(size: tuple[float, float] = FIG_SIZE, left: float = 0.1, right: float = 0.97, bottom: float = 0.11,
               top: float = 0.9, hspace: float = 0.2) -> Figure:
    """A figure drawn without pyplot (safe in the server's worker threads).

    Margins are fixed rather than computed by a layout engine: the live views are
    re-drawn after every step and a layout engine doubles the drawing time.
    """
    fig = Figure(figsize=size, dpi=DPI)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, hspace=hspace)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (light compression: these images are made many times a minute)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def render_png(draw: Callable[..., Figure], *args: Any) -> bytes:
    """Draw a figure with the page's style and return it as PNG bytes."""
    with matplotlib.rc_context(_RC):
        return png(draw(*args))


def _date_axis(ax: Any, start: dt.date | None = None, end: dt.date | None = None) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if start is not None and end is not None:
        ax.set_xlim(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1))


def _horizon(model: Any) -> tuple[dt.date, dt.date]:
    return model.c.dates[0], model.c.dates[-1]


def _not_started(ax: Any) -> None:
    ax.text(0.5, 0.5, "No day run yet: press Step or \u25b6", transform=ax.transAxes, ha="center", va="center",
            color="0.4")


def run_frame(model: Any) -> pd.DataFrame:
    """The live run's per-day table (the DataCollector with day and date), possibly empty."""
    if not model.datacollector.model_vars or not len(next(iter(model.datacollector.model_vars.values()))):
        return pd.DataFrame(columns=["replicate", "day", "date"])
    return tidy_timeseries(model)


@functools.lru_cache(maxsize=1)
def _seed_points_cached() -> pd.DataFrame:
    try:
        return plot_points()
    except (OSError, ValueError):
        return pd.DataFrame(columns=["date", "cumulative_attacks", "bound", "start", "label"])


def seed_points() -> pd.DataFrame:
    """Seed figures on cumulative attacks (read once; empty if the seed record cannot be read)."""
    return _seed_points_cached().copy()


def _draw_seed_points(ax: Any, points: pd.DataFrame) -> None:
    if points.empty:
        return
    ax.scatter(points["date"], points["cumulative_attacks"], marker="^", s=46, color=SEED_COLOUR, zorder=5,
               label="seed record (lower bound)")
    for _, p in points.iterrows():
        ax.annotate(p["label"], (p["date"], p["cumulative_attacks"]), xytext=(5, 5), textcoords="offset points",
                    fontsize=7, color=SEED_COLOUR)


# --------------------------------------------------------------------------- live figures


def draw_cumulative(model: Any, points: pd.DataFrame | None = None) -> Figure:
    """Cumulative militia attacks on US forces against the seed figures."""
    points = seed_points() if points is None else points
    fig = new_figure()
    ax = fig.subplots()
    frame = run_frame(model)
    if len(frame):
        ax.plot(frame["date"], frame["cumulative_attacks"], color=RUN_COLOUR, lw=1.8, label="this run")
    else:
        _not_started(ax)
    _draw_seed_points(ax, points)
    top = max([1.0] + ([float(frame["cumulative_attacks"].max())] if len(frame) else [])
              + ([float(points["cumulative_attacks"].max())] if len(points) else []))
    ax.set_ylim(0, top * 1.2)
    ax.set_title("Cumulative militia attacks on US forces")
    ax.set_ylabel("attacks")
    ax.legend(loc="lower right")
    _date_axis(ax, *_horizon(model))
    return fig


def _rung_axis(ax: Any) -> None:
    ax.set_yticks(range(len(RUNG_NAMES)), [n.replace("_", " ") for n in RUNG_NAMES])
    ax.set_ylim(-0.5, len(RUNG_NAMES) - 0.5)
    ax.grid(axis="y", color="0.92")


def draw_rungs(model: Any) -> Figure:
    """The current and the highest rung of the escalation ladder, day by day."""
    fig = new_figure(left=0.2)
    ax = fig.subplots()
    frame = run_frame(model)
    if len(frame):
        ax.step(frame["date"], frame["rung"], where="post", color=RUN_COLOUR, lw=1.6, label="rung that day")
        ax.step(frame["date"], frame["max_rung"], where="post", color=ATTACKED_COLOUR, lw=1.2, ls="--",
                label="highest so far")
        ax.legend(loc="lower right")
    else:
        _not_started(ax)
    _rung_axis(ax)
    ax.set_title("Escalation ladder")
    _date_axis(ax, *_horizon(model))
    return fig


def draw_strikes(model: Any) -> Figure:
    """US strikes per day: aimpoints ('targets') struck and facilities struck."""
    fig = new_figure()
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    frame = run_frame(model)
    if len(frame):
        edges = mdates.date2num(pd.concat([frame["date"], frame["date"].iloc[-1:] + pd.Timedelta(days=1)]))
        ax1.stairs(frame["targets_struck"].to_numpy(float), edges, fill=True, color="#6a1b9a")
        ax2.stairs(frame["us_strikes"].to_numpy(float), edges, fill=True, color="#00838f")
        total_t, total_f = int(frame["targets_struck"].sum()), int(frame["us_strikes"].sum())
        ax1.set_title(f"US strikes per day (to date: {total_t} aimpoints, {total_f} facility strikes)")
    else:
        _not_started(ax1)
        ax1.set_title("US strikes per day")
    ax1.set_ylabel("aimpoints")
    ax2.set_ylabel("facilities")
    for ax, col in ((ax1, "targets_struck"), (ax2, "us_strikes")):
        peak = float(frame[col].max()) if len(frame) else 0.0
        ax.set_ylim(0, max(1.0, peak * 1.1))
    _date_axis(ax2, *_horizon(model))
    return fig


def draw_capacity(model: Any) -> Figure:
    """Each militia group's launch capacity (0-1) and the mean."""
    fig = new_figure()
    ax = fig.subplots()
    frame = run_frame(model)
    if len(frame):
        for gid, name in zip(model.c.group_ids, model.c.group_names):
            ax.plot(frame["date"], frame[f"capacity_{gid}"], lw=1.3, label=name)
        ax.plot(frame["date"], frame["militia_capacity"], color="black", lw=1.0, ls="--", label="mean")
        ax.legend(loc="lower left", ncol=2)
    else:
        _not_started(ax)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("capacity (1 = full)")
    ax.set_title("Militia launch capacity by group")
    _date_axis(ax, *_horizon(model))
    return fig


_OWNER_MARKER = {IRGC_ABROAD: "D", HOMELAND: "^"}


def draw_map(model: Any) -> Figure:
    """Bases and facilities by longitude and latitude, coloured by state."""
    fig = new_figure((6.0, 4.0), left=0.09, right=0.72, bottom=0.11, top=0.92)
    ax = fig.subplots()
    day = max(model.day, 0)
    facs = list(model.facilities)
    for marker in ("o", "D", "^"):
        sel = [f for f in facs if _OWNER_MARKER.get(f.owner, "o") == marker]
        if not sel:
            continue
        recent = [day - model.fac_last_struck[f.index] < RECENT_DAYS and model.day >= 0 for f in sel]
        ax.scatter([f.lon for f in sel], [f.lat for f in sel], marker=marker, s=22,
                   c=[STATE_COLOURS[f.state] for f in sel],
                   edgecolors=[ATTACKED_COLOUR if r else "white" for r in recent], linewidths=0.8, zorder=3)
    bases = list(model.bases)
    hot = [model.day >= 0 and day - b.last_attacked_day < RECENT_DAYS for b in bases]
    ax.scatter([b.lon for b in bases], [b.lat for b in bases], marker="s", s=[90 if h else 40 for h in hot],
               c=[ATTACKED_COLOUR if h else BASE_COLOUR for h in hot], edgecolors="white", linewidths=0.8, zorder=4)
    for b, h in zip(bases, hot):
        ax.annotate(f"{b.name} ({b.attacks})" if b.attacks else b.name, (b.lon, b.lat), xytext=(4, -3),
                    textcoords="offset points", fontsize=6, color=ATTACKED_COLOUR if h else BASE_COLOUR)
    for g in model.scenario.militia.groups:
        ax.annotate(g.name, (g.lon, g.lat), xytext=(0, 9), textcoords="offset points", fontsize=6, ha="center",
                    color="0.25")
    ir = model.scenario.iran
    for label, fs in (("IRGC in Iraq/Syria", ir.irgc_abroad), ("Iran (homeland)", ir.homeland)):
        ax.annotate(label, (fs.lon, fs.lat), xytext=(0, -14), textcoords="offset points", fontsize=6, ha="center",
                    color="0.25", style="italic")
    handles = [Line2D([], [], ls="", marker="o", color=c, label=f"facility {s}") for s, c in STATE_COLOURS.items()]
    handles += [
        Line2D([], [], ls="", marker="o", mfc="white", mec=ATTACKED_COLOUR, label=f"struck in last {RECENT_DAYS} d"),
        Line2D([], [], ls="", marker="s", color=BASE_COLOUR, label="US base (attacks)"),
        Line2D([], [], ls="", marker="s", color=ATTACKED_COLOUR, label=f"attacked in last {RECENT_DAYS} d"),
        Line2D([], [], ls="", marker="D", color="0.5", label="IRGC facility"),
        Line2D([], [], ls="", marker="^", color="0.5", label="inside Iran"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, frameon=False)
    lat0 = float(np.mean([b.lat for b in bases]))
    ax.set_aspect(1.0 / np.cos(np.radians(lat0)))
    ax.set_xlabel("longitude (\u00b0E)")
    ax.set_ylabel("latitude (\u00b0N)")
    date = model.date.isoformat() if model.day >= 0 else "before day 1"
    ax.set_title(f"Bases and facilities, {date}")
    return fig


# --------------------------------------------------------------------------- ensemble figures


@dataclasses.dataclass(frozen=True)
class EnsembleSummary:
    """What the ensemble panel shows, computed once from the replicate table."""

    dates: pd.DatetimeIndex
    quantiles: pd.DataFrame  # index date, one column per quantile of BANDS
    rung_reached: pd.DataFrame  # index date, one column per rung 1..9: share of replicates at or past it
    replicates: int
    seed: int
    engine: str
    seconds: float
    scenario_name: str
    overrides: tuple[str, ...]
    key: str  # identifies the settings the ensemble was run with


def summarise_ensemble(ts: pd.DataFrame, **meta: Any) -> EnsembleSummary:
    """Fan-chart quantiles and rung probabilities from a per replicate-day table."""
    wide = ts.pivot_table(index="date", columns="replicate", values="cumulative_attacks", aggfunc="first")
    q = pd.DataFrame({b: wide.quantile(b, axis=1) for b in BANDS})
    rungs = ts.pivot_table(index="date", columns="replicate", values="max_rung", aggfunc="first")
    reached = pd.DataFrame({r: (rungs >= r).mean(axis=1) for r in range(1, len(RUNG_NAMES))})
    return EnsembleSummary(dates=pd.DatetimeIndex(wide.index), quantiles=q, rung_reached=reached,
                           replicates=int(wide.shape[1]), **meta)


def draw_fan(summary: EnsembleSummary, points: pd.DataFrame | None = None) -> Figure:
    """Fan chart of cumulative attacks: median, 50% and 90% bands, seed points."""
    points = seed_points() if points is None else points
    fig = new_figure()
    ax = fig.subplots()
    q, d = summary.quantiles, summary.dates
    ax.fill_between(d, q[BANDS[0]], q[BANDS[-1]], color=RUN_COLOUR, alpha=0.18, lw=0, label="90% of runs")
    ax.fill_between(d, q[BANDS[1]], q[BANDS[-2]], color=RUN_COLOUR, alpha=0.35, lw=0, label="50% of runs")
    ax.plot(d, q[0.5], color=RUN_COLOUR, lw=1.8, label="median")
    _draw_seed_points(ax, points)
    top = max([1.0, float(q[BANDS[-1]].max())] + ([float(points["cumulative_attacks"].max())] if len(points) else []))
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("attacks")
    ax.set_title(f"Cumulative attacks, {summary.replicates} runs")
    ax.legend(loc="lower right")
    _date_axis(ax, d[0], d[-1])
    return fig


def draw_rung_probability(summary: EnsembleSummary) -> Figure:
    """Share of runs that have reached each rung (or a higher one) by each date."""
    fig = new_figure(right=0.7, bottom=0.17)
    ax = fig.subplots()
    colours = matplotlib.colormaps["tab10"]
    never = []
    for r in summary.rung_reached.columns:
        y = summary.rung_reached[r]
        if not y.any():
            never.append(RUNG_NAMES[r].replace("_", " "))
            continue
        ax.step(summary.dates, y, where="post", color=colours((r - 1) % 10), lw=1.4,
                label=f"{r} {RUNG_NAMES[r].replace('_', ' ')}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("share of runs")
    ax.set_title("Probability of having reached each rung by date")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if never:
        ax.text(0.0, -0.13, "never reached: " + ", ".join(never), transform=ax.transAxes, fontsize=6, color="0.4",
                va="top")
    _date_axis(ax, summary.dates[0], summary.dates[-1])
    return fig


def run_ensemble_summary(scenario: Any, replicates: int, seed: int, overrides: Sequence[str] = (), key: str = "",
                         progress: Callable[[float], None] | None = None) -> EnsembleSummary:
    """Run ``replicates`` runs of a (resolved) scenario and summarise them for the panel."""
    runner = get_engine("ensemble")

    def report(loop: Any) -> Any:
        for i, item in enumerate(loop):
            if progress is not None:
                progress(i / replicates)
            yield item

    t0 = time.perf_counter()
    ts, _events = runner.run(scenario, int(replicates), int(seed), events=False, progress=report)
    return summarise_ensemble(ts, seed=int(seed), engine=runner.label, seconds=time.perf_counter() - t0,
                              scenario_name=scenario.name, overrides=tuple(overrides), key=key)


# --------------------------------------------------------------------------- solara components

CSS = """
.esc-view { width: 100%; padding: 4px 8px; }
.esc-view .solara-image { max-width: 100%; height: auto; }
.esc-scroll { max-height: 370px; overflow-y: auto; }
.esc-table { border-collapse: collapse; font-size: 12px; width: 100%; }
.esc-table th { position: sticky; top: 0; background: #eceff1; text-align: left; }
.esc-table th, .esc-table td { padding: 2px 6px; border-bottom: 1px solid #e0e0e0; vertical-align: top; }
.esc-table td.num { text-align: right; }
.esc-table td:first-child { white-space: nowrap; }
.esc-rung-table { max-height: 210px; }
.esc-ctl { padding: 4px 0; border-bottom: 1px solid #e0e0e0; font-size: 13px; }
.esc-ctl code { font-size: 11px; }
.esc-tag { font-size: 11px; padding: 0 5px; border-radius: 3px; background: #eceff1; }
.esc-tag-lever { background: #e3f2fd; } .esc-tag-uncertainty { background: #fff3e0; }
.esc-rung-table td, .esc-rung-table th { padding: 1px 6px; }
.esc-line { display: block; margin: 2px 0; }
.esc-muted { color: #616161; font-size: 12px; }
/* sidebar sliders: label on its own line above the track, value always shown on the thumb */
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; max-width: 100%; white-space: normal; height: auto;
  margin-bottom: 30px; }
.v-input__slider .v-slider__thumb-label-container { display: block !important; }
.v-input__slider .v-slider__thumb-label { width: 38px !important; height: 22px !important; border-radius: 4px;
  transform: translateY(-22px) translateX(-50%) !important; font-size: 11px; }
.v-input__slider .v-slider__thumb-label > * { transform: none !important; }
"""


@solara.component
def LiveFigure(model: Any, draw: Callable[[Any], Figure], name: str) -> None:
    """A live figure, re-drawn after every step (and when a new model is made)."""
    update_counter.get()
    data = solara.use_memo(lambda: render_png(draw, model), [model, model.steps])
    with solara.Div(classes=["esc-view", f"esc-view-{name}"]):
        solara.Image(data, width="100%", classes=[f"esc-img-{name}"])


@solara.component
def CumulativeAttacksView(model: Any) -> None:
    LiveFigure(model, draw_cumulative, "cumulative")


@solara.component
def RungView(model: Any) -> None:
    LiveFigure(model, draw_rungs, "rungs")


@solara.component
def StrikesView(model: Any) -> None:
    LiveFigure(model, draw_strikes, "strikes")


@solara.component
def CapacityView(model: Any) -> None:
    LiveFigure(model, draw_capacity, "capacity")


@solara.component
def MapView(model: Any) -> None:
    LiveFigure(model, draw_map, "map")


def events_table_html(model: Any, rows: int = EVENT_ROWS) -> str:
    """The last ``rows`` events, newest first, as an HTML table (all text escaped)."""
    recent = model.events[-rows:][::-1]
    head = "".join(f"<th>{h}</th>" for h in ("date", "actor", "event", "target", "outcome", "detail"))
    body = []
    for day, actor, kind, target, outcome, detail in recent:
        date = model.c.dates[day].isoformat() if 0 <= day < len(model.c.dates) else str(day)
        cells = (date, actor, kind, target, outcome, detail)
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    if not body:
        body.append('<tr><td colspan="6">No events yet.</td></tr>')
    return f'<table class="esc-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


@solara.component
def EventLogView(model: Any) -> None:
    update_counter.get()
    text = solara.use_memo(lambda: events_table_html(model), [model, model.steps])
    with solara.Div(classes=["esc-view", "esc-view-events"]):
        solara.Text(f"Event log: last {EVENT_ROWS} of {len(model.events)} events, newest first",
                    classes=["esc-line"], style={"font-weight": "bold"})
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["esc-scroll", "esc-events"])


def status_lines(model: Any) -> dict[str, str]:
    """The run summary, one line per topic (keys are used as CSS class names)."""
    frame = run_frame(model)
    if model.day < 0:
        day = f"Not started. {model.c.days} days from {model.c.dates[0].isoformat()}: press Step or \u25b6."
    else:
        day = f"Day {model.day + 1} of {model.c.days}: {model.date.isoformat()}"
    if len(frame):
        last = frame.iloc[-1]
        attacks = (f"Militia attacks: {int(last['attacks'])} today, {int(last['cumulative_attacks'])} in all. "
                   f"US injured {int(frame['us_injured'].sum())}, killed {int(frame['us_killed'].sum())}.")
        strikes = (f"US strikes: {int(frame['targets_struck'].sum())} aimpoints, "
                   f"{int(frame['munitions'].sum())} munitions. Iranian direct attacks: "
                   f"{int(frame['iran_direct_attacks'].sum())}.")
        rung = (f"Ladder: {RUNG_NAMES[int(last['rung'])].replace('_', ' ')} now, "
                f"highest {RUNG_NAMES[int(last['max_rung'])].replace('_', ' ')}.")
    else:
        attacks, strikes = "Militia attacks: 0.", "US strikes: none yet."
        rung = f"Ladder: {RUNG_NAMES[model.rung].replace('_', ' ')}."
    changes = getattr(model, "overrides", [])
    settings = (f"Changed from scenario '{model.base_scenario.name}': " + ", ".join(changes)) if changes else \
        f"Settings of scenario '{model.base_scenario.name}' (nothing changed)"
    return {"day": day, "attacks": attacks, "strikes": strikes, "rung": rung,
            "settings": f"{settings}. Seed {model.seed}."}


@solara.component
def SummaryView(model: Any, note: str = "", download: Callable[[Any], str] | None = None,
                filename: str = "scenario.yaml") -> None:
    """The run in words, the settings in use, and the scenario download."""
    update_counter.get()
    lines = status_lines(model)
    with solara.Div(classes=["esc-view", "esc-view-summary"]):
        solara.Text("This run", classes=["esc-line"], style={"font-weight": "bold", "font-size": "15px"})
        for key, text in lines.items():
            solara.Text(text, classes=["esc-line", f"esc-status-{key}"])
        if getattr(model, "problem", None):
            solara.Error(f"These settings were rejected, so the run uses the scenario as loaded: {model.problem}",
                         classes=["esc-problem"], dense=True)
        if note:
            solara.Info(note, dense=True)
        if download is not None:
            solara.FileDownload(lambda: download(model), filename=filename, label="Download scenario (YAML)",
                                mime_type="application/x-yaml")
        solara.Text("Tabs: Page 0 this run \u00b7 Page 1 ensemble of runs \u00b7 Page 2 what the controls mean. "
                    "Change a control, then press Reset to start a new run with it. Step and \u25b6 advance "
                    "'Render Interval' days at a time.", classes=["esc-line", "esc-muted"])


ensemble_result = solara.reactive(None)
"""The last ensemble summary of this browser session (solara keeps one value per session)."""


def _ensemble_key(model: Any) -> str:
    return f"{model.base_scenario.name}|{model.seed}|{'|'.join(model.overrides)}|{model.scenario.days}"


@solara.component
def EnsembleControls(model: Any) -> None:
    """Replicates input, run button, progress and what the last ensemble was run with."""
    replicates = solara.use_reactive(ENSEMBLE_REPLICATES)
    refused = solara.use_reactive("")

    def run(n: int, scenario: Any, seed: int, overrides: tuple[str, ...], key: str) -> EnsembleSummary:
        def progress(share: float) -> None:
            task.progress = round(100 * share, 1)

        result = run_ensemble_summary(scenario, n, seed, overrides, key, progress)
        ensemble_result.value = result
        return result

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)

    def start() -> None:
        n = int(replicates.value or 0)
        if not 1 <= n <= ENSEMBLE_MAX:
            refused.set(f"Replicates must be between 1 and {ENSEMBLE_MAX}.")
            return
        refused.set("")
        task(n, model.scenario, model.seed, tuple(model.overrides), _ensemble_key(model))

    with solara.Div(classes=["esc-view", "esc-view-ensemble"]):
        solara.Text("Ensemble of runs", classes=["esc-line"], style={"font-weight": "bold", "font-size": "15px"})
        solara.Text("Runs the live run's settings (scenario, controls, seed) many times with independent random "
                    "streams and shows the spread of outcomes.", classes=["esc-line", "esc-muted"])
        with solara.Row():
            solara.InputInt("Replicates", value=replicates, classes=["esc-replicates"])
            solara.Button("Run ensemble", on_click=start, color="primary", disabled=task.pending,
                          classes=["esc-run-ensemble"])
        if task.pending:
            solara.ProgressLinear(task.progress if task.progress else True)
            solara.Text("Running...", classes=["esc-line", "esc-ensemble-running"])
        if refused.value:
            solara.Warning(refused.value, dense=True)
        if task.error:
            solara.Error(f"The ensemble failed: {task.exception}", dense=True)
        res = ensemble_result.value
        if res is not None:
            solara.Text(f"Last ensemble: {res.replicates} runs of '{res.scenario_name}', seed {res.seed}, "
                        f"{res.engine}, {res.seconds:.1f} s.", classes=["esc-line", "esc-ensemble-done"])
            solara.Text("Changed settings: " + (", ".join(res.overrides) if res.overrides else "none"),
                        classes=["esc-line", "esc-muted"])
            if res.key != _ensemble_key(model):
                solara.Warning("The live run's settings have changed since: press Run ensemble again.", dense=True)
            final = res.rung_reached.iloc[-1]
            rows = "".join(
                f"<tr><td>{r}</td><td>{RUNG_NAMES[r].replace('_', ' ')}</td><td class='num'>{final[r]:.0%}</td></tr>"
                for r in res.rung_reached.columns)
            solara.HTML(tag="div", classes=["esc-scroll", "esc-rung-table"], unsafe_innerHTML=(
                f"<table class='esc-table'><thead><tr><th>rung</th><th>name</th>"
                f"<th>reached by {res.dates[-1].date().isoformat()}</th></tr></thead><tbody>{rows}</tbody></table>"))


@solara.component
def FanChartView(model: Any) -> None:
    res = ensemble_result.value
    data = solara.use_memo(lambda: render_png(draw_fan, res) if res is not None else None, [res])
    with solara.Div(classes=["esc-view", "esc-view-fan"]):
        if data is None:
            solara.Text("The fan chart appears here after Run ensemble.", classes=["esc-line", "esc-muted"])
        else:
            solara.Image(data, width="100%", classes=["esc-img-fan"])


@solara.component
def RungProbabilityView(model: Any) -> None:
    res = ensemble_result.value
    data = solara.use_memo(lambda: render_png(draw_rung_probability, res) if res is not None else None, [res])
    with solara.Div(classes=["esc-view", "esc-view-rungprob"]):
        if data is None:
            solara.Text("Rung probabilities appear here after Run ensemble.", classes=["esc-line", "esc-muted"])
        else:
            solara.Image(data, width="100%", classes=["esc-img-rungprob"])


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def controls_html(rows: Sequence[dict[str, Any]]) -> str:
    """The controls as HTML blocks: label and role, meaning, then value now, default, range, unit and path."""
    blocks = []
    for r in rows:
        facts = [f"now <b>{html.escape(_shown(r['now']))}</b>", f"default {html.escape(_shown(r['default']))}",
                 f"range {html.escape(str(r['range']))}"]
        if r.get("unit") not in (None, "", "1"):
            facts.append(f"unit {html.escape(str(r['unit']))}")
        facts.append(f"<code>{html.escape(r['path'])}</code>")
        details = " \u00b7 ".join(facts)
        blocks.append(
            f'<div class="esc-ctl"><b>{html.escape(r["control"])}</b> <span class="esc-tag esc-tag-{r["role"]}">'
            f'{html.escape(r["role"])}</span><br>{html.escape(r["meaning"])}<br>'
            f'<span class="esc-muted">{details}</span></div>')
    return "".join(blocks)


@solara.component
def ControlsHelpView(model: Any, rows_of: Callable[[Any], Sequence[dict[str, Any]]]) -> None:
    """What every control means, with its unit, range and default (from the schema)."""
    text = solara.use_memo(lambda: controls_html(rows_of(model)), [model])
    with solara.Div(classes=["esc-view", "esc-view-controls"]):
        solara.Text("What the controls mean", classes=["esc-line"], style={"font-weight": "bold"})
        solara.Text("Levers are US choices; uncertainties are what the US does not control. 'now' is the value "
                    "in the live run, 'default' the value of the default scenario.", classes=["esc-line", "esc-muted"])
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["esc-scroll", "esc-controls"])
