"""The 'This run' tab of the web page: the live run in words, figures, a map and its event log.

Each figure is drawn by a plain function (``draw_*``) that takes the model and
returns a matplotlib :class:`~matplotlib.figure.Figure`, with the axes-level
functions of :mod:`sim.plots` (the same drawing as ``escalation plot``), so it
can be tested without a browser.  The solara components re-draw them after
every step.  Figures use fixed margins rather than a layout engine: they are
re-drawn many times a second while the run plays.
"""

from __future__ import annotations

from . import app_env  # noqa: F401  isort: skip  (before solara)

import dataclasses  # noqa: E402
import html  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import threading  # noqa: E402
import contextlib  # noqa: E402
from typing import Any, Callable  # noqa: E402

import matplotlib  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from . import plot_sources, plots  # noqa: E402
from .app_map import map_fill, map_frame  # noqa: E402
from .runner import tidy_timeseries  # noqa: E402
from .rules import RUNG_NAMES  # noqa: E402

EVENT_ROWS = 30
"""Events shown in the event log (newest first)."""

DPI = 100
PAGE_STYLE = {**plots.STYLE, "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8,
              "ytick.labelsize": 8, "legend.fontsize": 8}
"""The figures' style: :data:`sim.plots.STYLE` a point smaller, as the page shows figures at about 100 dpi."""


# --------------------------------------------------------------------------- figure helpers


def new_figure(size: tuple[float, float] = (6.4, 3.4), left: float = 0.1, right: float = 0.97,
               bottom: float = 0.12, top: float = 0.88, hspace: float = 0.3, wspace: float = 0.15) -> Figure:
    """A figure with fixed margins on its own Agg canvas (no pyplot: safe in the server's threads)."""
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, hspace=hspace, wspace=wspace)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (light compression: these images are made many times a minute)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def render_png(draw: Callable[..., Figure], *args: Any) -> bytes:
    """Draw a figure with the page's style and return it as PNG bytes."""
    with matplotlib.rc_context(PAGE_STYLE):
        return png(draw(*args))


def horizon(model: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day, and the day after the last, of the run."""
    return pd.Timestamp(model.c.dates[0]), pd.Timestamp(model.c.dates[-1]) + pd.Timedelta(days=1)


def _whole_run(ax: Any, model: Any) -> None:
    ax.set_xlim(*horizon(model))
    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _not_started(ax: Any) -> None:
    ax.text(0.5, 0.5, "No day run yet: press Step or \u25b6", transform=ax.transAxes, ha="center", va="center",
            color="0.4")


def run_frame(model: Any) -> pd.DataFrame:
    """The live run's per-day table (the DataCollector with replicate, day and date), possibly empty."""
    if not model.datacollector.model_vars or not len(next(iter(model.datacollector.model_vars.values()))):
        return pd.DataFrame(columns=["replicate", "day", "date"])
    return tidy_timeseries(model)


def live_run(model: Any) -> plots.RunData:
    """The live run as :mod:`sim.plots` draws runs (one replicate, group names in the summary)."""
    return plots.RunData("this run", run_frame(model), {"groups": dict(zip(model.c.group_ids, model.c.group_names))})


# --------------------------------------------------------------------------- live figures


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``x`` (at least 1)."""
    if x <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x)


@dataclasses.dataclass(frozen=True)
class LiveSpec:
    """A live figure in two parts, so that a step re-draws only the data (see :class:`LiveCanvas`).

    ``frame(model, limits)`` makes the figure with what does not change from
    day to day (axes, fixed limits, labels, legend, the sources' figures);
    ``fill(model, fig)`` adds the run's data to the frame's axes;
    ``limits(model)`` is what the frame depends on besides the model (axis
    ceilings, which grow in round steps as the run goes on).
    """

    frame: Callable[[Any, Any], Figure]
    fill: Callable[[Any, Figure], None]
    limits: Callable[[Any], Any]


def draw_live(spec: LiveSpec, model: Any) -> Figure:
    """The whole figure of a live spec for the model (frame and data)."""
    fig = spec.frame(model, spec.limits(model))
    spec.fill(model, fig)
    return fig


class LiveCanvas:
    """One live figure of one browser session, re-drawn by blitting.

    The frame is drawn once (and again only when the model or the limits
    change) and kept as a background; a step restores the background, draws
    only the artists that ``fill`` adds, encodes the pixels as PNG and removes
    those artists again.  This keeps the page's play at several updates a
    second: drawing text (ticks, labels, legends) is most of the cost.
    """

    def __init__(self, spec: LiveSpec) -> None:
        self.spec = spec
        self.lock = threading.Lock()
        self.key: Any = None
        self.fig: Figure | None = None
        self.background: Any = None
        self.frames_drawn = 0

    def png(self, model: Any) -> bytes:
        with self.lock, matplotlib.rc_context(PAGE_STYLE):
            key = (id(model), self.spec.limits(model))
            if key != self.key or self.fig is None:
                self.fig = self.spec.frame(model, key[1])
                self.fig.canvas.draw()
                self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
                self.key = key
                self.frames_drawn += 1
            else:
                self.fig.canvas.restore_region(self.background)
            before = {ax: set(ax.get_children()) for ax in self.fig.axes}
            self.spec.fill(model, self.fig)
            added = [(ax, a) for ax in self.fig.axes for a in ax.get_children() if a not in before[ax]]
            for ax, artist in sorted(added, key=lambda pair: pair[1].get_zorder()):
                ax.draw_artist(artist)
            data = encode_png(self.fig.canvas)
            for _, artist in added:
                artist.remove()
            return data


def encode_png(canvas: Any) -> bytes:
    """The canvas's pixels as PNG bytes (light compression)."""
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _fixed(model: Any) -> None:
    return None


def _frame_axes(ax: Any, model: Any, top: float | None = None) -> None:
    _whole_run(ax, model)
    if top is not None:
        ax.set_ylim(0, top)
    ax.set_autoscale_on(False)


def _not_started_note(model: Any, ax: Any) -> None:
    if model.day < 0:
        _not_started(ax)


def attacks_limits(model: Any) -> float:
    points = plot_sources.source_attack_figures()
    top = max([float(model.cumulative_attacks)] + (
        [float(points["cumulative_attacks"].max())] if len(points) else []))
    return nice_ceiling(top * 1.15)


def attacks_frame(model: Any, top: float) -> Figure:
    fig = new_figure(bottom=0.1)
    ax = fig.add_subplot()
    _frame_axes(ax, model, top)
    plot_sources.source_points(ax, *horizon(model))
    ax.plot([], [], color=plots.colour(0), lw=2, label="this run")
    ax.legend(loc="upper left")
    ax.set_ylabel("attacks (cumulative)")
    ax.set_title("Cumulative militia attacks on US forces")
    return fig


def attacks_fill(model: Any, fig: Figure) -> None:
    ax = fig.axes[0]
    plots.fan_axes(ax, [live_run(model)], full=False, sources=False)
    _not_started_note(model, ax)


def ladder_frame(model: Any, _: Any) -> Figure:
    fig = new_figure(left=0.25, right=0.98)
    ax = fig.add_subplot()
    plots.ladder_strip(ax, plots.RunData("", run_frame(model).iloc[:0]))
    _frame_axes(ax, model)
    ax.set_title("Escalation ladder: rungs reached (shaded), each day's rung (line)")
    return fig


def ladder_fill(model: Any, fig: Figure) -> None:
    ax = fig.axes[0]
    if model.day >= 0:
        plots.ladder_strip(ax, live_run(model), end=model.c.dates[-1])
    _not_started_note(model, ax)


def strikes_limits(model: Any) -> tuple[float, ...]:
    frame = run_frame(model)
    return tuple(nice_ceiling(float(frame[col].sum()) * 1.1 if col in frame else 0.0)
                 for col, _ in plots.STRIKE_PANELS)


def strikes_frame(model: Any, tops: tuple[float, ...]) -> Figure:
    fig = new_figure(left=0.16, top=0.9, hspace=0.15)
    # no shared axes: matplotlib's sharing groups are global and slow down when many figures are drawn
    axes = fig.subplots(len(plots.STRIKE_PANELS), 1)
    for i, (ax, (_, label), top) in enumerate(zip(axes, plots.STRIKE_PANELS, tops)):
        _frame_axes(ax, model, top)
        ax.set_ylabel(label, fontsize=7.5)
        ax.grid(True, axis="y", color="0.9", lw=0.8)
        ax.tick_params(labelbottom=i == len(axes) - 1)
    axes[0].set_title("US strikes so far (cumulative)")
    return fig


def strikes_fill(model: Any, fig: Figure) -> None:
    plots.strike_axes(fig.axes, [live_run(model)], full=False)
    _not_started_note(model, fig.axes[0])


def capacity_frame(model: Any, _: Any) -> Figure:
    fig = new_figure(left=0.08, top=0.86, hspace=0.45, wspace=0.1)
    axes = fig.subplots(2, 2).ravel()  # not shared: see strikes_frame
    for i, ax in enumerate(axes):
        _whole_run(ax, model)
        ax.set_ylim(0, 1.05)
        ax.set_autoscale_on(False)
        ax.tick_params(labelbottom=i >= 2, labelleft=i % 2 == 0)
        ax.grid(True, axis="y", color="0.9", lw=0.8)
        if i < len(model.c.group_names):
            ax.set_title(model.c.group_names[i], fontsize=8)
        else:
            ax.set_visible(False)
    fig.suptitle("Militia capacity by group (1 = full weapons and command)", fontsize=10)
    return fig


def capacity_fill(model: Any, fig: Figure) -> None:
    axes = fig.axes
    plots.capacity_axes(axes, [live_run(model)])
    for ax, name in zip(axes, model.c.group_names):
        ax.set_title(name, fontsize=8)
    _not_started_note(model, axes[0])


LIVE_FIGURES: dict[str, LiveSpec] = {
    "map": LiveSpec(map_frame, map_fill, _fixed),
    "attacks": LiveSpec(attacks_frame, attacks_fill, attacks_limits),
    "ladder": LiveSpec(ladder_frame, ladder_fill, _fixed),
    "strikes": LiveSpec(strikes_frame, strikes_fill, strikes_limits),
    "capacity": LiveSpec(capacity_frame, capacity_fill, _fixed),
}
"""Name (CSS class ``esc-img-NAME``) -> the live figure's parts."""


def draw_attacks(model: Any) -> Figure:
    """Cumulative militia attacks on US forces against the figures reported in the sources."""
    return draw_live(LIVE_FIGURES["attacks"], model)


def draw_ladder(model: Any) -> Figure:
    """The escalation ladder as a heat strip: rungs reached so far and the rung of each day."""
    return draw_live(LIVE_FIGURES["ladder"], model)


def draw_strikes(model: Any) -> Figure:
    """US strikes so far: facilities, aimpoints and munitions (cumulative)."""
    return draw_live(LIVE_FIGURES["strikes"], model)


def draw_capacity(model: Any) -> Figure:
    """Small multiples: each militia group's capacity (1 = full)."""
    return draw_live(LIVE_FIGURES["capacity"], model)


def draw_map(model: Any) -> Figure:
    """The map of the live run (see :mod:`sim.app_map`)."""
    return draw_live(LIVE_FIGURES["map"], model)


# --------------------------------------------------------------------------- words and tables


def events_table_html(model: Any, rows: int = EVENT_ROWS) -> str:
    """The last ``rows`` events, newest first, as an HTML table (all text escaped)."""
    recent = model.events[-rows:][::-1]
    head = "".join(f"<th>{h}</th>" for h in ("day", "date", "actor", "event", "target", "outcome", "detail"))
    body = []
    for day, actor, kind, target, outcome, detail in (tuple(e)[:6] for e in recent):
        date = model.c.dates[day].isoformat() if 0 <= day < len(model.c.dates) else ""
        cells = (day, date, actor, kind, target, outcome, detail)
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    if not body:
        body.append('<tr><td colspan="7">No events yet.</td></tr>')
    return f'<table class="esc-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def status_lines(model: Any) -> dict[str, str]:
    """The run in words, one line per topic (keys are used as CSS class names).

    Days are numbered as in the output tables: the first day is day 0.
    """
    frame = run_frame(model)
    if model.day < 0:
        day = f"Not started: {model.c.days} days from {model.c.dates[0].isoformat()}. Press Step or \u25b6."
    else:
        day = (f"{model.date.isoformat()}: day {model.day} in the tables, {model.day + 1} of {model.c.days} "
               "days run")
    if len(frame):
        last = frame.iloc[-1]
        attacks = (f"Militia attacks: {int(last['attacks'])} today, {int(last['cumulative_attacks'])} in all. "
                   f"US injured {int(frame['us_injured'].sum())}, killed {int(frame['us_killed'].sum())}.")
        strikes = (f"US strikes: {int(frame['targets_struck'].sum())} aimpoints, "
                   f"{int(frame['munitions'].sum())} munitions. Iranian direct attacks: "
                   f"{int(frame['iran_direct_attacks'].sum())}.")
        rung = (f"Ladder: {RUNG_NAMES[int(last['rung'])].replace('_', ' ')} today, "
                f"highest {RUNG_NAMES[int(last['max_rung'])].replace('_', ' ')}.")
    else:
        attacks, strikes = "Militia attacks: 0.", "US strikes: none yet."
        rung = f"Ladder: {RUNG_NAMES[model.rung].replace('_', ' ')}."
    changes = getattr(model, "overrides", [])
    settings = (f"Changed from scenario '{model.base_scenario.name}': " + ", ".join(changes)) if changes else \
        f"Settings of scenario '{model.base_scenario.name}' (nothing changed)"
    return {"day": day, "attacks": attacks, "strikes": strikes, "rung": rung,
            "settings": f"{settings}. Random seed {model.seed}."}


# --------------------------------------------------------------------------- components


def reading(model: Any) -> Any:
    """The model's lock (see :class:`sim.app.AppModel`), or no lock for a plain model."""
    return getattr(model, "lock", None) or contextlib.nullcontext()


@solara.component
def LiveFigure(model: Any, tick: int, name: str) -> None:
    """A live figure, re-drawn after every step (``tick``) and when a new model is made."""
    canvas = solara.use_memo(lambda: LiveCanvas(LIVE_FIGURES[name]), [])

    def draw() -> bytes:
        with reading(model):
            return canvas.png(model)

    data = solara.use_memo(draw, [model, tick])
    with solara.Div(classes=["esc-view", f"esc-view-{name}"]):
        solara.Image(data, width="100%", classes=[f"esc-img-{name}"])


@solara.component
def EventLog(model: Any, tick: int) -> None:
    def table() -> str:
        with reading(model):
            return events_table_html(model)

    text = solara.use_memo(table, [model, tick])
    with solara.Div(classes=["esc-view", "esc-view-events"]):
        solara.Text(f"Event log: the last {EVENT_ROWS} of {len(model.events)} events, newest first",
                    classes=["esc-heading"])
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["esc-scroll", "esc-events"])


@solara.component
def Summary(model: Any, tick: int, pending: str = "", note: str = "", download: Callable[[Any], str] | None = None,
            filename: str = "scenario.yaml") -> None:
    """The run in words, the settings in use, the scenario download."""
    with reading(model):
        lines = status_lines(model)
    with solara.Div(classes=["esc-view", "esc-view-summary"]):
        for key, text in lines.items():
            solara.Text(text, classes=["esc-line", f"esc-status-{key}"])
        if pending:
            solara.Warning(pending, dense=True, classes=["esc-pending"])
        if note:
            solara.Info(note, dense=True)
        if download is not None:
            solara.FileDownload(lambda: download(model), filename=filename, label="Download scenario (YAML)",
                                mime_type="application/x-yaml")


@solara.component
def ThisRunTab(model: Any, ticks: solara.Reactive, pending: str = "", note: str = "",
               download: Callable[[Any], str] | None = None, filename: str = "scenario.yaml") -> None:
    """The live run: summary and map, attacks and ladder, strikes and capacity, event log.

    Only this tab and the day counter read ``ticks``, so a step re-renders them and not the sidebar.
    """
    tick = ticks.value
    with solara.Columns([2, 3]):
        Summary(model, tick, pending, note, download, filename)
        LiveFigure(model, tick, "map")
    with solara.Columns([1, 1]):
        LiveFigure(model, tick, "attacks")
        LiveFigure(model, tick, "ladder")
    with solara.Columns([1, 1]):
        LiveFigure(model, tick, "strikes")
        LiveFigure(model, tick, "capacity")
    EventLog(model, tick)
