"""Figures of a sweep's analysis (:mod:`sim.sweep.analyze`): Sobol and Morris bars, tornado, heatmap.

Each function draws one table of :mod:`sim.sweep.analyze` for one outcome,
labelled from the outcome registry (:mod:`sim.outcomes`), with the sweep's
provenance as a caption.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.outcomes import outcome as registry_outcome

if TYPE_CHECKING:  # pragma: no cover
    from .analyze import Sweep

__all__ = ["heatmap_figure", "morris_figure", "sobol_figure", "tornado_figure"]

def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _caption(sw: Sweep) -> str:
    m = sw.manifest
    return (f"sweep {m['name']}: {m['design']['kind']} design, {m['design']['points']} points x {m['replicates']} "
            f"replicates, seed {m['seed']}\n{m['engine']} engine, {m['scenario']['days']} days from "
            f"{m['scenario']['start_date']}; escalation-sim {m['package']['version']}")


def _short(path: str) -> str:
    parts = path.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else path


def _label(outcome: str) -> str:
    """The registry's label (a probability for a true/false outcome); the bare name for one it does not know."""
    try:
        o = registry_outcome(outcome)
    except KeyError:
        return outcome.replace("_", " ")
    return f"P({o.label.lower()})" if o.kind == "probability" else o.label


def sobol_figure(sw: Sweep, table: pd.DataFrame, outcome: str) -> Any:
    t = table[table["outcome"] == outcome].iloc[::-1]
    fig = _figure(7.5, 1.2 + 0.45 * len(t))
    ax = fig.add_subplot()
    y = np.arange(len(t))
    ax.barh(y + 0.2, t["S1"], height=0.38, xerr=t["S1_conf"], color="#4477aa", label="first order (S1)",
            error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.barh(y - 0.2, t["ST"], height=0.38, xerr=t["ST_conf"], color="#ee6677", label="total order (ST)",
            error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, [_short(p) for p in t["parameter"]])
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("Sobol index (share of variance; bars: 95% confidence)")
    ax.set_title(f"Sensitivity of {_label(outcome)}")
    ax.legend(loc="lower right")
    fig.supxlabel(_caption(sw), fontsize=7, color="0.35", x=0.01, ha="left")
    return fig


def morris_figure(sw: Sweep, table: pd.DataFrame, outcome: str) -> Any:
    t = table[table["outcome"] == outcome]
    fig = _figure(7, 5)
    ax = fig.add_subplot()
    ax.errorbar(t["mu_star"], t["sigma"], xerr=t["mu_star_conf"], fmt="o", color="#4477aa", ecolor="0.6",
                elinewidth=0.8, capsize=2)
    for _, r in t.iterrows():
        ax.annotate(_short(r["parameter"]), (r["mu_star"], r["sigma"]), textcoords="offset points", xytext=(4, 3),
                    fontsize=8)
    ax.set_xlabel(f"mu* (mean |change| of {_label(outcome)} over each parameter's range)")
    ax.set_ylabel("sigma (interactions, non-linearity)")
    ax.set_title(f"Morris screening: {_label(outcome)}")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    fig.supxlabel(_caption(sw), fontsize=7, color="0.35", x=0.01, ha="left")
    return fig


def tornado_figure(sw: Sweep, table: pd.DataFrame, outcome: str, center: float) -> Any:
    """Bars from ``center`` (the outcome's mean over every run) to the low- and high-third means."""
    t = table.iloc[::-1].reset_index(drop=True)
    fig = _figure(8, 1.3 + 0.45 * len(t))
    ax = fig.add_subplot()
    y = np.arange(len(t))
    ax.barh(y, t["outcome_low"] - center, left=center, color="#4477aa", height=0.6, label="parameter low (lowest third)")
    ax.barh(y, t["outcome_high"] - center, left=center, color="#ee6677", height=0.6, alpha=0.85,
            label="parameter high (highest third)")
    ax.axvline(center, color="0.2", lw=0.8, label="mean over the design")
    ax.set_yticks(y, [f"{_short(p)}\n{lo} | {hi}" for p, lo, hi in zip(t["parameter"], t["low"], t["high"])],
                  fontsize=8)
    ax.set_xlabel(f"{_label(outcome)}, mean over runs")
    ax.set_title(f"Tornado: {_label(outcome)}")
    ax.legend(loc="lower right", fontsize=8)
    fig.supxlabel(_caption(sw), fontsize=7, color="0.35", x=0.01, ha="left")
    return fig


def heatmap_figure(sw: Sweep, table: pd.DataFrame, x: str, y: str, outcome: str) -> Any:
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot()
    data = table.to_numpy(float)
    im = ax.imshow(data, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns],
                  rotation=45 if len(table.columns) > 6 else 0)
    ax.set_yticks(range(len(table.index)), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    if data.size <= 144:
        finite = data[np.isfinite(data)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (i, j), v in np.ndenumerate(data):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                        color="white" if v < mid else "black")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    pooled = len(sw.paths) > 2
    # the label on two lines: on one, a long label runs past the ends of the colour bar and is cut off
    fig.colorbar(im, ax=ax, label=_label(outcome) + ("\n(mean over runs and the other parameters)" if pooled
                                                     else "\n(mean over runs)"))
    ax.set_title(f"{_label(outcome)} by {_short(x)} and {_short(y)}")
    fig.supxlabel(_caption(sw), fontsize=7, color="0.35", x=0.01, ha="left")
    return fig
