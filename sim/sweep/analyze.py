"""Read a finished sweep and answer its question: summaries, sensitivity indices and figures.

Everything works on *point means*: the mean of an outcome over the replicates
of each design point (for a true/false outcome, the share of runs where it is
true, i.e. a probability).  Stochastic noise is therefore still in the point
means; with few replicates it shows up as wider confidence intervals and as
total-order Sobol indices above the first-order ones.

Outputs (files in the analysis folder):

``points.csv``      per design point: the parameter values, the runs, and for each
                    numeric outcome its mean and the percentiles 5, 25, 50, 75, 95
                    over the point's runs (missing values, e.g. no fatal attack, left out)
``rungs.csv``       per design point: the probability of reaching each rung recorded
``sobol.csv``       (sobol designs) S1, ST and their 95% confidence half-widths for every
                    parameter and outcome (SALib.analyze.sobol); ``sobol_second_order.csv``
                    with ``second_order``
``morris.csv``      (morris designs) mu, mu*, sigma and the 95% half-width of mu*
                    (SALib.analyze.morris); parameters on the unit scale, so mu* is the
                    mean absolute change of the outcome over the parameter's full range
``tornado.csv``     the outcome's mean when each parameter is in the low third of its
                    range (or list) against the high third, any design
``heatmap.csv``     the outcome's mean over the cells of two parameters
Figures (PNG and SVG): ``sobol_<outcome>``, ``morris_<outcome>``, ``tornado_<outcome>``,
``heatmap_<outcome>``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.outcomes import QUANTILES

from .designs import UNIT, salib_problem
from .figures import heatmap_figure, morris_figure, sobol_figure, tornado_figure
from .outcomes import OUTCOME_DTYPES
from .store import Store

__all__ = ["Sweep", "load_sweep", "point_means", "summary_tables", "sobol_table", "morris_table",
           "tornado_table", "heatmap_table", "analyze"]

MAX_LEVELS = 12  # a parameter with more distinct values than this is binned in the heatmap
HEATMAP_BINS = 8


@dataclass
class Sweep:
    """A sweep folder read back."""

    folder: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    runs: pd.DataFrame

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return self.manifest["design"]["parameters"]

    @property
    def paths(self) -> list[str]:
        return [p["path"] for p in self.parameters]

    @property
    def outcomes(self) -> list[str]:
        return list(self.manifest["outcomes"])

    @property
    def complete(self) -> bool:
        return len(self.runs) == self.manifest["runs"]

    @property
    def kind(self) -> str:
        return self.manifest["design"]["kind"]


def load_sweep(folder: Path | str) -> Sweep:
    folder = Path(folder)
    store = Store(folder)
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is not a folder", path="DIR", allowed="a folder written by 'escalation sweep'")
    if not store.exists():
        raise InputError(f"{str(folder)!r} holds no manifest.json", path="DIR",
                         allowed="a folder written by 'escalation sweep'")
    manifest = store.read_manifest()
    damaged = store.damaged_chunks()
    if damaged:
        names = ", ".join(store.chunk_name(i) for i in damaged[:5]) + (", ..." if len(damaged) > 5 else "")
        raise InputError(f"the sweep in {str(folder)!r} has damaged chunks ({names})", path="DIR",
                         allowed=f"rerun 'escalation sweep SPEC --resume --out {folder}' to run them again")
    runs = store.read_runs()
    if runs.empty:
        raise InputError(f"the sweep in {str(folder)!r} has no finished runs yet", path="DIR")
    return Sweep(folder, manifest, store.read_design(), runs)


# --------------------------------------------------------------------------- tables


def _numeric(outcome: str) -> bool:
    return OUTCOME_DTYPES.get(outcome) != "bool"


def point_means(sw: Sweep, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean of each outcome over each point's runs (true/false: the share true), indexed by point."""
    outcomes = list(outcomes or sw.outcomes)
    values = sw.runs[["point", *outcomes]].astype({o: "float64" for o in outcomes})
    return values.groupby("point").mean()


def summary_tables(sw: Sweep) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(points.csv, rungs.csv): per point percentiles of the numeric outcomes; probabilities of the rungs."""

    g = sw.runs.groupby("point")
    base = sw.design.set_index("point")[sw.paths]
    base.insert(len(sw.paths), "runs", g.size())
    cols: dict[str, Any] = {}
    for o in (o for o in sw.outcomes if _numeric(o)):
        by_point = sw.runs[o].astype("float64").groupby(sw.runs["point"])  # missing values are skipped
        cols[f"{o}_mean"] = by_point.mean()
        quantiles = by_point.quantile([q / 100 for q in QUANTILES]).unstack()
        for q in QUANTILES:
            cols[f"{o}_p{q}"] = quantiles[q / 100]
    points = base.join(pd.DataFrame(cols)) if cols else base.copy()
    reached = [o for o in sw.outcomes if o.startswith("reached_")]
    rungs = base.join(g[reached].mean().rename(columns=lambda c: "p_" + c)) if reached else base.copy()
    return points.dropna(subset=["runs"]).reset_index(), rungs.dropna(subset=["runs"]).reset_index()


def _require_full(sw: Sweep, what: str) -> None:
    if not sw.complete:
        raise InputError(f"{what} needs every run of the design; the sweep has {len(sw.runs)} of "
                         f"{sw.manifest['runs']} (finish it with 'escalation sweep SPEC --resume')", path="DIR")


def _varies(y: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(y)) and np.ptp(y) > 0)



def _skip_note(method: str, outcome: str, y: np.ndarray, what: str) -> str:
    """Why an outcome gets no sensitivity result: missing at some design points, or constant."""
    why = "missing at some points" if not np.all(np.isfinite(y)) else "constant"
    return f"{method}: {outcome} is {why}; no {what}"

def sobol_table(sw: Sweep, outcomes: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Sobol indices (SALib) of every outcome: (first/total table, second-order table, notes)."""
    from SALib.analyze import sobol

    _require_full(sw, "Sobol analysis")
    problem = salib_problem(sw.paths)
    second = bool(sw.manifest["spec"]["design"].get("second_order"))
    means = point_means(sw, outcomes)
    rows, rows2, notes = [], [], []
    seed = int(sw.manifest["seed"])
    for o in means.columns:
        y = means[o].to_numpy(float)
        if not _varies(y):
            notes.append(_skip_note("sobol", o, y, "indices"))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = sobol.analyze(problem, y, calc_second_order=second, conf_level=0.95, seed=seed)
        if caught:
            notes.append(f"sobol: {o}: constant in part of the sample; its indices are unreliable")
        for j, name in enumerate(sw.paths):
            rows.append({"outcome": o, "parameter": name, "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                         "ST": res["ST"][j], "ST_conf": res["ST_conf"][j]})
        if second:
            for a in range(len(sw.paths)):
                for b in range(a + 1, len(sw.paths)):
                    rows2.append({"outcome": o, "parameter_1": sw.paths[a], "parameter_2": sw.paths[b],
                                  "S2": res["S2"][a, b], "S2_conf": res["S2_conf"][a, b]})
    return pd.DataFrame(rows), pd.DataFrame(rows2), notes


def morris_table(sw: Sweep, outcomes: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Morris elementary effects (SALib) of every outcome, on the unit scale."""
    from SALib.analyze import morris

    _require_full(sw, "Morris analysis")
    problem = salib_problem(sw.paths)
    x = sw.design.sort_values("point")[[UNIT + p for p in sw.paths]].to_numpy(float)
    levels = int(sw.manifest["spec"]["design"]["levels"])
    means = point_means(sw, outcomes)
    rows, notes = [], []
    for o in means.columns:
        y = means[o].to_numpy(float)
        if not _varies(y):
            notes.append(_skip_note("morris", o, y, "effects"))
            continue
        res = morris.analyze(problem, x, y, conf_level=0.95, num_levels=levels, seed=int(sw.manifest["seed"]))
        for j, name in enumerate(sw.paths):
            rows.append({"outcome": o, "parameter": name, "mu": res["mu"][j], "mu_star": res["mu_star"][j],
                         "sigma": res["sigma"][j], "mu_star_conf": res["mu_star_conf"][j]})
    return pd.DataFrame(rows), notes


def tornado_table(sw: Sweep, outcome: str) -> pd.DataFrame:
    """Mean outcome with each parameter in the low third of its range against the high third.

    Runs are pooled over everything else, so in a full-factorial or random
    design the difference is the parameter's main effect over the design.
    """
    y = point_means(sw, [outcome])[outcome]
    d = sw.design.set_index("point").loc[y.index]
    rows = []
    for p in sw.parameters:
        u = d[p["unit_column"]]
        low, high = y[u <= 1 / 3].mean(), y[u >= 2 / 3].mean()
        lo_vals, hi_vals = d.loc[u <= 1 / 3, p["path"]], d.loc[u >= 2 / 3, p["path"]]
        rows.append({"parameter": p["path"], "role": p["role"], "low": _span(lo_vals), "high": _span(hi_vals),
                     "outcome_low": low, "outcome_high": high, "swing": high - low})
    out = pd.DataFrame(rows)
    return out.reindex(out["swing"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _span(values: pd.Series) -> str:
    if values.empty:
        return ""
    if values.dtype == bool or values.dtype == object or str(values.dtype) == "string":
        return ", ".join(str(v) for v in pd.unique(values))
    lo, hi = values.min(), values.max()
    return f"{lo:.3g}" if lo == hi else f"{lo:.3g} to {hi:.3g}"


def _axis_groups(values: pd.Series) -> tuple[pd.Series, list[Any]]:
    """Cell of each point along one heatmap axis, and the cell labels in order."""
    uniq = pd.unique(values)
    if len(uniq) <= MAX_LEVELS:
        order = sorted(uniq.tolist(), key=lambda v: (str(type(v)), v))
        return values, order
    edges = np.linspace(values.min(), values.max(), HEATMAP_BINS + 1)
    idx = np.clip(np.searchsorted(edges, values.to_numpy(float), side="right") - 1, 0, HEATMAP_BINS - 1)
    mids = (edges[:-1] + edges[1:]) / 2
    labels = [float(f"{m:.3g}") for m in mids]
    return pd.Series(np.asarray(labels)[idx], index=values.index), labels


def heatmap_table(sw: Sweep, x: str, y: str, outcome: str) -> pd.DataFrame:
    """Mean outcome over the (x, y) cells (values, or equal-width bins of a continuous parameter)."""
    means = point_means(sw, [outcome])[outcome]
    d = sw.design.set_index("point").loc[means.index]
    gx, xs = _axis_groups(d[x])
    gy, ys = _axis_groups(d[y])
    frame = pd.DataFrame({"x": gx.to_numpy(), "y": gy.to_numpy(), "value": means.to_numpy(float)})
    table = frame.groupby(["y", "x"])["value"].mean().unstack("x")
    return table.reindex(index=ys, columns=xs)


def default_axes(sw: Sweep) -> tuple[str, str] | None:
    """The heatmap's default axes: the first two levers, else the first two parameters."""
    levers = [p["path"] for p in sw.parameters if p["role"] == "lever"]
    pick = levers if len(levers) >= 2 else sw.paths
    return (pick[0], pick[1]) if len(pick) >= 2 else None


# --------------------------------------------------------------------------- the whole analysis


@dataclass
class Analysis:
    folder: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _safe(name: str) -> str:
    return name.replace(".", "-")


def analyze(folder: Path | str, *, out: Path | str | None = None, outcomes: Sequence[str] = (),
            x: str | None = None, y: str | None = None, formats: Sequence[str] = ("png", "svg")) -> Analysis:
    """Write the summary tables, the design's sensitivity analysis, a tornado chart and a heatmap.

    ``outcomes``: the outcomes of the figures (default the first recorded);
    ``x``, ``y``: the heatmap's parameters (default the first two levers).
    """
    import matplotlib

    from sim.plots import STYLE, save

    sw = load_sweep(folder)
    target = Path(out) if out is not None else sw.folder / "analysis"
    for o in outcomes:
        if o not in sw.outcomes:
            raise InputError(f"the sweep did not record the outcome {o!r}", path="--outcome",
                             allowed=", ".join(sw.outcomes))
    for opt, p in (("--x", x), ("--y", y)):
        if p is not None and p not in sw.paths:
            raise InputError(f"{p!r} is not a parameter of the sweep", path=opt, allowed=", ".join(sw.paths))
    figure_outcomes = list(outcomes) or sw.outcomes[:1]
    target.mkdir(parents=True, exist_ok=True)
    result = Analysis(target)
    if not sw.complete:
        result.notes.append(f"the sweep is incomplete: {len(sw.runs)} of {sw.manifest['runs']} runs")

    def table(frame: pd.DataFrame, name: str) -> None:
        from sim.results import FLOAT_FORMAT

        path = target / name
        frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        result.files.append(path)

    def figure(fig: Any, stem: str) -> None:
        result.files.extend(save(fig, target, stem, formats))
        fig.clear()

    points, rungs = summary_tables(sw)
    table(points, "points.csv")
    table(rungs, "rungs.csv")
    with matplotlib.rc_context(STYLE):
        if sw.kind == "sobol":
            if sw.complete:
                s, s2, notes = sobol_table(sw)
                result.notes += notes
                table(s, "sobol.csv")
                if not s2.empty:
                    table(s2, "sobol_second_order.csv")
                for o in figure_outcomes:
                    if o in set(s.get("outcome", [])):
                        figure(sobol_figure(sw, s, o), f"sobol_{_safe(o)}")
            else:
                result.notes.append("Sobol indices need the complete design; skipped")
        if sw.kind == "morris":
            if sw.complete:
                m, notes = morris_table(sw)
                result.notes += notes
                table(m, "morris.csv")
                for o in figure_outcomes:
                    if o in set(m.get("outcome", [])):
                        figure(morris_figure(sw, m, o), f"morris_{_safe(o)}")
            else:
                result.notes.append("Morris effects need the complete design; skipped")
        tornado_parts = []
        for o in figure_outcomes:
            t = tornado_table(sw, o)
            tornado_parts.append(t.assign(outcome=o))
            center = float(point_means(sw, [o])[o].mean())
            figure(tornado_figure(sw, t, o, center), f"tornado_{_safe(o)}")
        table(pd.concat(tornado_parts, ignore_index=True), "tornado.csv")
        axes = (x, y) if x and y else default_axes(sw)
        if axes is not None and (x is None) != (y is None):
            given = x or y
            others = [p for p in sw.paths if p != given]
            axes = (given, others[0]) if x else (others[0], given)
        if axes is None:
            result.notes.append("a heatmap needs two parameters; skipped")
        elif axes[0] == axes[1]:
            raise InputError("--x and --y must be different parameters", path="--y")
        else:
            parts = []
            for o in figure_outcomes:
                h = heatmap_table(sw, axes[0], axes[1], o)
                figure(heatmap_figure(sw, h, axes[0], axes[1], o), f"heatmap_{_safe(o)}")
                parts.append(h.stack().rename("mean").reset_index().rename(columns={"x": axes[0], "y": axes[1]})
                             .assign(outcome=o))
            table(pd.concat(parts, ignore_index=True), "heatmap.csv")
    (target / "analysis.json").write_text(json.dumps({
        "sweep": str(sw.folder), "spec_hash": sw.manifest["spec_hash"], "complete": sw.complete,
        "runs": len(sw.runs), "outcomes": figure_outcomes, "heatmap_axes": list(axes) if axes else None,
        "files": [p.name for p in result.files], "notes": result.notes}, indent=2) + "\n", encoding="utf-8")
    result.files.append(target / "analysis.json")
    return result
