"""The web page's map: Natural Earth borders, rivers and lakes, bases, facilities and the last days' fighting.

The background comes from ``sim/data/natural_earth_levant.json`` (public-domain
Natural Earth 1:50m, clipped to the region by ``sim/data/make_map.py``; it is
shipped in the package, so the map works offline).  Coordinates are drawn in
an equirectangular projection with the aspect of the map's middle latitude.
Labels are placed greedily (:func:`place_labels`): each tries a few offsets
around its point and takes the first whose box overlaps no label or marker
already placed.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

from .compiled import HOMELAND, IRGC_ABROAD
from .plots import PALETTE

MAP_FILE = Path(__file__).with_name("data") / "natural_earth_levant.json"
VIEW = (36.0, 30.3, 49.0, 38.4)
"""lon_min, lat_min, lon_max, lat_max shown on the page (the bases, the militias and western Iran)."""
RECENT_DAYS = 7
"""Attacks and strikes of this many last days are drawn (arrows and rings)."""

LAND, BORDER, WATER = "#f4f1ea", "#8c8c8c", "#9cc3e6"
STATE_COLOURS = {"intact": PALETTE[2], "damaged": PALETTE[4], "destroyed": "#3b3b3b"}
BASE_COLOUR, ATTACK_COLOUR, STRIKE_COLOUR = PALETTE[0], PALETTE[1], PALETTE[3]
OWNER_MARKER = {IRGC_ABROAD: "D", HOMELAND: "^"}
OFFSETS = ((6, 4, "left", "bottom"), (6, -4, "left", "top"), (-6, 4, "right", "bottom"), (-6, -4, "right", "top"),
           (0, 9, "center", "bottom"), (0, -9, "center", "top"), (12, 0, "left", "center"),
           (-12, 0, "right", "center"), (14, 14, "left", "bottom"), (-14, -14, "right", "top"))
"""Candidate label offsets (points) and alignments, tried in this order."""


@functools.lru_cache(maxsize=1)
def load_map(path: Path = MAP_FILE) -> dict[str, Any]:
    """The shipped Natural Earth extract (countries, rivers, lakes, source and licence)."""
    return json.loads(path.read_text(encoding="utf-8"))


def draw_background(ax: Any, data: dict[str, Any] | None = None) -> None:
    """Countries (filled, with borders), lakes and rivers, on ``ax`` in lon/lat."""
    data = load_map() if data is None else data
    rings = [np.asarray(r) for c in data["countries"] for r in c["rings"]]
    ax.add_collection(PolyCollection(rings, facecolors=LAND, edgecolors=BORDER, linewidths=0.8, zorder=0,
                                     gid="borders"))
    ax.add_collection(PolyCollection([np.asarray(r) for r in data["lakes"]], facecolors=WATER, edgecolors="none",
                                     zorder=0.5))
    ax.add_collection(LineCollection([np.asarray(r) for r in data["rivers"]], colors=WATER, linewidths=1.1,
                                     zorder=0.6, gid="rivers"))
    ax.set_facecolor("#dfe9f3")  # sea


def place_labels(ax: Any, labels: Sequence[dict[str, Any]], renderer: Any,
                 avoid: Sequence[Bbox] = ()) -> list[Any]:
    """Place ``labels`` (dicts: x, y, text, optional ``style`` and ``optional``) without overlaps.

    Each label takes the first offset of :data:`OFFSETS` whose box is inside the
    axes and overlaps no box placed before (nor ``avoid``).  A label with no
    free place is dropped if ``optional``, else put at the first offset.
    Returns the text artists placed.
    """
    frame = ax.get_window_extent(renderer)
    taken = list(avoid)
    placed = []
    for item in labels:
        chosen = None
        for dx, dy, ha, va in OFFSETS:
            text = ax.annotate(item["text"], (item["x"], item["y"]), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, **item.get("style", {}))
            box = text.get_window_extent(renderer).padded(1.5)
            if (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                    and not any(box.overlaps(b) for b in taken)):
                chosen = (text, box)
                break
            text.remove()
        if chosen is None and not item.get("optional"):
            dx, dy, ha, va = OFFSETS[0]
            text = ax.annotate(item["text"], (item["x"], item["y"]), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, **item.get("style", {}))
            chosen = (text, text.get_window_extent(renderer))
        if chosen is not None:
            chosen[0].set_gid("map-label")
            taken.append(chosen[1])
            placed.append(chosen[0])
    return placed


def _marker_boxes(ax: Any, points: Sequence[tuple[float, float]], size: float = 5.0) -> list[Bbox]:
    xy = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    return [Bbox.from_extents(x - size, y - size, x + size, y + size) for x, y in xy]


def recent_attacks(model: Any, days: int = RECENT_DAYS) -> Counter:
    """(group id, base id) -> attack events over the last ``days`` days (an event may name several bases)."""
    attacks: Counter = Counter()
    first = model.day - days + 1
    for event in reversed(model.events):
        day, actor, kind, target = event[0], event[1], event[2], event[3]
        if day < first:
            break
        if kind == "attack":
            for base in str(target).split("+"):
                attacks[(actor, base)] += 1
    return attacks


def recently_struck(model: Any, days: int = RECENT_DAYS) -> list[Any]:
    """The facilities struck in the last ``days`` days."""
    last = model.fac_last_struck
    return [f for f in model.facilities if model.day >= 0 and model.day - last[f.index] < days]


def map_frame(model: Any, _: Any = None, size: tuple[float, float] = (8.4, 5.0), dpi: int = 100) -> Figure:
    """What does not change during a run: the background, militia groups, country labels, legend, places.

    The places of the base labels are chosen here (for the longest label a
    base can get) and kept in ``fig.base_label_places`` for :func:`map_fill`.
    """
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.01, right=0.77, bottom=0.02, top=0.93)
    ax = fig.add_subplot()
    lon0, lat0, lon1, lat1 = VIEW
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / np.cos(np.radians((lat0 + lat1) / 2)))
    ax.set_autoscale_on(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("0.6")
    data = load_map()
    draw_background(ax, data)
    groups = list(model.scenario.militia.groups)
    ax.scatter([g.lon for g in groups], [g.lat for g in groups], marker="P", s=42, color="0.25",
               edgecolors="white", linewidths=0.5, zorder=4)
    blist = list(model.bases)
    renderer = fig.canvas.get_renderer()
    avoid = _marker_boxes(ax, [(b.lon, b.lat) for b in blist] + [(g.lon, g.lat) for g in groups])
    widest = [{"x": b.lon, "y": b.lat, "text": f"{b.name} (0000)", "style": {"fontsize": 7}} for b in blist]
    placed = place_labels(ax, widest, renderer, avoid)
    fig.base_label_places = {b.base_id: (t.xyann, t.get_horizontalalignment(), t.get_verticalalignment())
                             for b, t in zip(blist, placed)}
    taken = avoid + [t.get_window_extent(renderer).padded(1.5) for t in placed]
    for t in placed:
        t.remove()
    labels = [{"x": g.lon, "y": g.lat, "text": g.name, "optional": True,
               "style": {"fontsize": 6.5, "color": "0.25", "style": "italic"}} for g in groups]
    labels += [{"x": c["label"][0], "y": c["label"][1], "text": c["name"].upper(), "optional": True,
                "style": {"fontsize": 8, "color": "0.55"}}
               for c in data["countries"] if c.get("label") and c.get("name")
               and lon0 < c["label"][0] < lon1 and lat0 < c["label"][1] < lat1]
    place_labels(ax, labels, renderer, taken)

    handles = [Line2D([], [], ls="", marker="s", color=BASE_COLOUR, label="US base (attacks so far)"),
               Line2D([], [], ls="", marker="s", color=ATTACK_COLOUR, label=f"base attacked, last {RECENT_DAYS} d"),
               Line2D([], [], color=ATTACK_COLOUR, lw=1.5, label=f"attacks, last {RECENT_DAYS} d"),
               Line2D([], [], ls="", marker="P", color="0.25", label="militia group")]
    handles += [Line2D([], [], ls="", marker="o", color=c, label=f"facility {s}") for s, c in STATE_COLOURS.items()]
    handles += [Line2D([], [], ls="", marker="o", mfc="none", mec=STRIKE_COLOUR, ms=9,
                       label=f"US strike, last {RECENT_DAYS} d"),
                Line2D([], [], ls="", marker="D", color="0.5", label="IRGC facility"),
                Line2D([], [], ls="", marker="^", color="0.5", label="facility inside Iran"),
                Line2D([], [], color=WATER, lw=1.5, label="river")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.text(0.78, 0.03, "Borders, rivers: Natural Earth\n(public domain)", fontsize=6, color="0.45")
    return fig


def map_fill(model: Any, fig: Figure) -> None:
    """The state of the run: facilities by state, bases (attack counts), the last days' attacks and strikes."""
    ax = fig.axes[0]
    attacks = recent_attacks(model) if model.day >= 0 else Counter()
    bases = {b.base_id: b for b in model.bases}
    groups = {g.id: g for g in model.scenario.militia.groups}
    for (gid, bid), n in attacks.items():
        if gid in groups and bid in bases:
            g, b = groups[gid], bases[bid]
            ax.annotate("", (b.lon, b.lat), (g.lon, g.lat), zorder=2,
                        arrowprops={"arrowstyle": "-|>", "color": ATTACK_COLOUR, "lw": 0.8 + 0.5 * min(n, 4),
                                    "alpha": 0.75, "shrinkA": 4, "shrinkB": 6, "connectionstyle": "arc3,rad=0.15"})
    facs = list(model.facilities)
    for marker in ("o", "D", "^"):
        sel = [f for f in facs if OWNER_MARKER.get(f.owner, "o") == marker]
        if sel:
            ax.scatter([f.lon for f in sel], [f.lat for f in sel], marker=marker, s=20,
                       c=[STATE_COLOURS[f.state] for f in sel], edgecolors="white", linewidths=0.5, zorder=3)
    hit = recently_struck(model)
    if hit:
        ax.scatter([f.lon for f in hit], [f.lat for f in hit], s=110, facecolors="none", edgecolors=STRIKE_COLOUR,
                   linewidths=1.6, zorder=3.5, gid="strikes")
    hot = {bid for _, bid in attacks}
    blist = list(model.bases)
    ax.scatter([b.lon for b in blist], [b.lat for b in blist], marker="s",
               s=[70 if b.base_id in hot else 38 for b in blist],
               c=[ATTACK_COLOUR if b.base_id in hot else BASE_COLOUR for b in blist], edgecolors="white",
               linewidths=0.8, zorder=4, gid="bases")
    places = getattr(fig, "base_label_places", {})
    for b in blist:
        (dx, dy), ha, va = places.get(b.base_id, (OFFSETS[0][:2], OFFSETS[0][2], OFFSETS[0][3]))
        ax.annotate(f"{b.name} ({b.attacks})" if b.attacks else b.name, (b.lon, b.lat), xytext=(dx, dy),
                    textcoords="offset points", ha=ha, va=va, fontsize=7, zorder=5, gid="map-label",
                    color=ATTACK_COLOUR if b.base_id in hot else BASE_COLOUR)
    when = model.date.isoformat() if model.day >= 0 else "before the first day"
    ax.text(0.0, 1.02, f"Bases, facilities and the last {RECENT_DAYS} days' attacks and strikes, {when}",
            transform=ax.transAxes, fontsize=9, va="bottom")


def draw_map(model: Any) -> Figure:
    """The whole map of the live run (frame and state)."""
    fig = map_frame(model)
    map_fill(model, fig)
    return fig
