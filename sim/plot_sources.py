"""The figures of the source documents on the plots: read once from ``seeds/events.yaml``, marked and labelled.

A figure is labelled with the document it comes from ("more than 100 attacks
(source: news report 002)"), never as a "seed", a word the captions keep for
the random seed.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

BOUND_WORDS = {"more_than": "more than", "at_least": "at least", "at_most": "at most", "exact": ""}
BOUND_MARKERS = {"more_than": "^", "at_least": "^", "at_most": "v", "exact": "o"}
SEED_STRIKES = {
    # calibration statistic -> (panel column, what the figure counts)
    "facilities_first_proportionate_strike": ("us_strikes", "facilities struck"),
    "campaign_first_wave_targets": ("targets_struck", "targets struck in one wave"),
    "campaign_first_wave_munitions": ("munitions", "munitions in one wave"),
}


def seed_records() -> tuple[list[Any], dict[str, str], pd.DataFrame]:
    """Calibration targets, a map event id -> source tag ('news report 002') and the cumulative-attack points.

    Read once per version of the seed file; empty if it cannot be read (the figures do not depend on it).
    """
    from sim.seeds import DEFAULT_PATH

    try:
        stamp = DEFAULT_PATH.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _read_seed_records(stamp)


@functools.lru_cache(maxsize=2)
def _read_seed_records(stamp: int | None) -> tuple[list[Any], dict[str, str], pd.DataFrame]:
    try:
        from sim.seeds import load_events, load_targets, plot_points

        events = load_events()
        targets = load_targets()
        points = plot_points()
    except Exception as exc:  # the figures do not depend on the seed file
        log.warning("source figures left out of the plots: %s", exc)
        return [], {}, pd.DataFrame()
    tags = {row.id: "news report " + str(row.source).split("_")[0] for row in events.itertuples()}
    return targets, tags, points


def source_label(target: Any, tags: dict[str, str], what: str) -> str:
    """``more than 100 attacks (source: news report 002)``: the figure and the document it comes from."""
    sources = sorted({tags[s] for s in target.sources if s in tags})
    words = BOUND_WORDS.get(target.bound, "")
    tag = f" (source: {', '.join(sources)})" if sources else ""
    return f"{words} {target.value:g} {what}".strip() + tag


def source_attack_figures() -> pd.DataFrame:
    """The sources' cumulative-attack figures (:func:`sim.seeds.plot_points`; empty if the file is unreadable)."""
    return seed_records()[2]


def source_points(ax: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    """The sources' cumulative-attack figures between ``lo`` and ``hi`` as labelled markers."""
    targets, tags, points = seed_records()
    if not targets:
        return
    by_point = {(pd.Timestamp(t.ref_date), float(t.value)): t for t in targets
                if t.statistic == "cumulative_attacks" and t.value is not None}
    for row in points.itertuples():
        date = pd.Timestamp(row.date)
        if not lo <= date <= hi:
            continue
        target = by_point.get((date, float(row.cumulative_attacks)))
        label = source_label(target, tags, "attacks") if target is not None else row.label
        ax.plot([date], [row.cumulative_attacks], ls="none", marker=BOUND_MARKERS.get(row.bound, "o"),
                ms=8, color="black", zorder=5, label=f"reported: {label}")
        ax.annotate(label, (date, row.cumulative_attacks), xytext=(8, -4), textcoords="offset points",
                    fontsize=8, va="top")


def source_strikes(panels: dict[str, Any], lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    """Single strikes reported in the sources: a dotted line and a label on the panel of their column."""
    targets, tags, _ = seed_records()
    for t in targets:
        if t.statistic not in SEED_STRIKES or t.value is None:
            continue
        column, what = SEED_STRIKES[t.statistic]
        date = pd.Timestamp(t.ref_date)
        if not lo <= date <= hi or column not in panels:
            continue
        ax = panels[column]
        ax.axvline(date, color="0.25", ls=":", lw=1)
        ax.annotate(f"{date.day} {date:%b %Y}: {source_label(t, tags, what)}", (date, 1),
                    xycoords=("data", "axes fraction"), xytext=(4, -2), textcoords="offset points", fontsize=8,
                    va="top", color="0.25")
