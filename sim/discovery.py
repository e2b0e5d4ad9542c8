"""Scenario discovery on a finished sweep: which parameter ranges lead to a condition on the outcomes?

``escalation discover SWEEP_DIR --where "max_rung >= direct_exchange"`` marks every run of the sweep where
the condition holds (a *case of interest*) and searches the sweep's parameters for boxes (a range per
parameter) that hold many of the cases:

* **PRIM** (patient rule induction, Friedman and Fisher 1999, as used in scenario discovery by Bryant and
  Lempert 2010), run by EMA Workbench's implementation (``ema_workbench.analysis.prim``): starting from all
  runs, it peels off a small share (``peel_alpha``) of the runs along the one side of one parameter that most
  raises the share of cases inside, until the box holds ``mass_min`` of the runs; the *peeling trajectory*
  lists the boxes on the way.
* **CART** (a classification tree, ``ema_workbench.analysis.cart``): each leaf is a box.

Definitions (the same as EMA Workbench's): *coverage* is the share of all cases of interest that fall in the
box, *density* the share of the runs in the box that are cases of interest, *mass* the share of all runs in
the box, and the *restricted dimensions* are the parameters whose range the box narrows.  The chosen PRIM box
is the least restricted box of the trajectory whose density reaches ``threshold`` (else the densest), and
further boxes are searched among the runs outside the boxes already chosen.

The condition is an expression over the outcomes the sweep recorded (``max_rung``, ``us_killed``,
``reached_direct_exchange``, ...), numbers and rung names (``direct_exchange`` is 8), with comparisons,
``+ - * /``, ``and``, ``or``, ``not`` and parentheses; see :func:`where_mask`.  Each run is one row:
replicates of a design point share its parameter values, so density measures how often, within the box,
the condition holds.
"""

from __future__ import annotations

import ast
import json
import operator
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.rules import RUNG_NAMES

__all__ = ["where_mask", "prim_boxes", "cart_boxes", "Discovery", "discover"]

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
WHERE_HELP = ("an expression over the sweep's outcomes, numbers and rung names with < <= > >= == !=, + - * /, "
              "and, or, not and parentheses, e.g. \"max_rung >= direct_exchange\" or "
              "\"us_killed > 0 and not reached_major_campaign\"")


def where_mask(expression: str, table: pd.DataFrame) -> np.ndarray:
    """The rows of ``table`` where ``expression`` holds (a boolean array); missing values never hold.

    >>> t = pd.DataFrame({"max_rung": [3, 8, 9], "us_killed": [0, 2, 0]})
    >>> where_mask("max_rung >= direct_exchange and us_killed > 0", t).tolist()
    [False, True, False]
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise InputError(f"cannot read the condition {expression!r} ({exc.msg})", path="--where",
                         allowed=WHERE_HELP) from None
    value = _evaluate(tree.body, table, expression)
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise InputError(f"the condition {expression!r} is a number, not true or false", path="--where",
                         allowed="a comparison, e.g. \"us_killed > 0\"")
    return np.broadcast_to(arr, (len(table),)).copy()


def _evaluate(node: ast.AST, table: pd.DataFrame, text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        parts = [np.asarray(_evaluate(v, table, text), dtype=bool) for v in node.values]
        return np.logical_and.reduce(parts) if isinstance(node.op, ast.And) else np.logical_or.reduce(parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~np.asarray(_evaluate(node.operand, table, text), dtype=bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, table, text)
    if isinstance(node, ast.Compare):
        left, result = _evaluate(node.left, table, text), None
        for op, comp in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                break
            right = _evaluate(comp, table, text)
            with np.errstate(invalid="ignore"):
                step = np.asarray(_COMPARE[type(op)](left, right), dtype=bool)
            result = step if result is None else result & step
            left = right
        else:
            return result
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        with np.errstate(all="ignore"):
            return _ARITH[type(node.op)](_evaluate(node.left, table, text), _evaluate(node.right, table, text))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in table.columns:
            column = table[node.id]
            return column.to_numpy(dtype=bool) if column.dtype == bool else column.to_numpy(dtype=float,
                                                                                             na_value=np.nan)
        if node.id in RUNG_NAMES:
            return RUNG_NAMES.index(node.id)
        if node.id in ("true", "false", "True", "False"):
            return node.id.lower() == "true"
        from sim.yaml_guard import suggest

        names = [*table.columns, *RUNG_NAMES]
        guess = suggest(node.id, names)
        raise InputError(f"unknown name {node.id!r} in the condition" + (f"; did you mean {guess!r}?" if guess else ""),
                         path="--where", allowed="the sweep's outcomes (" + ", ".join(table.columns) +
                         ") and rung names (" + ", ".join(RUNG_NAMES) + ")")
    piece = ast.get_source_segment(text, node) or type(node).__name__
    raise InputError(f"the condition may not contain {piece!r}", path="--where", allowed=WHERE_HELP)


# --------------------------------------------------------------------------- PRIM and CART


def _ema_frame(x: pd.DataFrame) -> pd.DataFrame:
    """Parameters as EMA's analysis expects: numbers as floats (EMA's pasting step writes half-way limits,
    which pandas 3 refuses in an integer column), the rest (switches, choices) as categories."""
    out = pd.DataFrame(index=range(len(x)))
    for c in x.columns:
        col = x[c].reset_index(drop=True)
        if col.dtype == bool or not pd.api.types.is_numeric_dtype(col):
            out[c] = pd.Categorical(col.astype(str))
        else:
            out[c] = col.astype(np.float64)
    return out


def _restricted(lims: pd.DataFrame, init: pd.DataFrame) -> list[str]:
    return [c for c in lims.columns if any(a != b for a, b in zip(lims[c], init[c]))]


def _limit_rows(method: str, box: int, lims: pd.DataFrame, init: pd.DataFrame,
                qp: dict[str, tuple[float, float]] | None = None) -> list[dict[str, Any]]:
    rows = []
    for c in _restricted(lims, init):
        low, high = lims[c].iloc[0], lims[c].iloc[1]
        row = {"method": method, "box": box, "parameter": c}
        if isinstance(low, set):
            row.update(low=None, high=None, values=" | ".join(sorted(low)), full_low=None, full_high=None,
                       full_values=" | ".join(sorted(init[c].iloc[0])))
        else:
            row.update(low=float(low), high=float(high), values=None, full_low=float(init[c].iloc[0]),
                       full_high=float(init[c].iloc[1]), full_values=None)
        if qp is not None:
            row["qp_low"], row["qp_high"] = qp.get(c, (np.nan, np.nan))
        rows.append(row)
    return rows


def _quasi_p(box: Any, i: int) -> dict[str, tuple[float, float]]:
    """EMA's quasi-p values of the restricted limits of step ``i`` (lower, upper; NaN where not restricted)."""
    return {str(k): (float(v[0]), float(v[1])) for k, v in box.qp[i].items()}


def prim_boxes(x: pd.DataFrame, y: np.ndarray, *, threshold: float = 0.8, peel_alpha: float = 0.05,
               mass_min: float = 0.05, max_boxes: int = 2) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """PRIM boxes of ``y`` over ``x``: (boxes, limits, peeling trajectory) tables.

    ``boxes``: box, coverage, density, mass, res_dim, restricted (the chosen step of each box);
    ``limits``: the restricted parameters of each chosen box with their ranges (or kept values) and quasi-p
    values; ``trajectory``: every step of each box's peeling and pasting, with ``chosen``.
    """
    from sim.ema import require_ema

    require_ema()
    from ema_workbench.analysis import prim

    frame = _ema_frame(x)
    y = np.asarray(y, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # EMA counts y >= threshold as the cases of interest and keeps a box only if its density reaches the
        # threshold: a tiny positive one keeps every box with a case in it (this module chooses the step)
        alg = prim.Prim(frame, y.astype(float), threshold=1e-9, peel_alpha=peel_alpha, mass_min=mass_min)
    boxes, limits, steps = [], [], []
    for k in range(1, max_boxes + 1):
        if y.sum() == 0:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box = alg.find_box()
        traj = None if box is None else box.peeling_trajectory.reset_index(drop=True)
        if traj is None or len(traj) < 2:  # EMA's 'dump box': no case left to box
            break
        meets = np.flatnonzero(traj["density"].to_numpy() >= threshold)
        i = int(meets[0]) if meets.size else int(traj["density"].to_numpy().argmax())
        box.select(i)
        init = box.box_lims[0]
        restricted = _restricted(box.box_lims[i], init)
        boxes.append({"method": "prim", "box": k, "coverage": float(traj.at[i, "coverage"]),
                      "density": float(traj.at[i, "density"]), "mass": float(traj.at[i, "mass"]),
                      "res_dim": len(restricted), "restricted": "; ".join(restricted),
                      "meets_threshold": bool(meets.size)})
        limits += _limit_rows("prim", k, box.box_lims[i], init, _quasi_p(box, i) if restricted else None)
        steps.append(traj[["coverage", "density", "mass", "res_dim"]].assign(
            box=k, step=range(len(traj)), chosen=[j == i for j in range(len(traj))]))
        if not meets.size:
            break
    trajectory = pd.concat(steps, ignore_index=True) if steps else pd.DataFrame(
        columns=["coverage", "density", "mass", "res_dim", "box", "step", "chosen"])
    return (pd.DataFrame(boxes), pd.DataFrame(limits),
            trajectory[["box", "step", "coverage", "density", "mass", "res_dim", "chosen"]])


def cart_boxes(x: pd.DataFrame, y: np.ndarray, *, mass_min: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CART leaves as boxes: (boxes, limits) tables, leaves sorted by density (highest first).

    A scikit-learn classification tree (``min_samples_leaf`` = ``mass_min`` of the runs, ``random_state=0``)
    on the parameters, switches and choices one-hot coded; each leaf's box keeps, per parameter, the range of
    its runs' values (or the choices they take).  EMA Workbench's own CART wrapper is not used: on pandas 3
    it mislabels the ranges of true/false and choice parameters.
    """
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(y, dtype=bool)
    frame = _ema_frame(x)
    codes = pd.get_dummies(frame, prefix_sep="\0", dtype=float)
    tree = DecisionTreeClassifier(min_samples_leaf=max(1, int(mass_min * len(frame))), random_state=0)
    tree.fit(codes.to_numpy(), y)
    leaves = tree.apply(codes.to_numpy())
    init = _full_limits(frame)
    found = []
    for leaf, lims in _leaf_limits(tree.tree_, list(codes.columns), init).items():
        inside = leaves == leaf
        found.append((float(y[inside].mean()), float(y[inside].sum() / max(y.sum(), 1)), float(inside.mean()), lims))
    found.sort(key=lambda t: (-t[0], -t[1]))
    boxes, limits = [], []
    for k, (density, coverage, mass, lims) in enumerate(found, start=1):
        restricted = _restricted(lims, init)
        boxes.append({"method": "cart", "box": k, "coverage": coverage, "density": density, "mass": mass,
                      "res_dim": len(restricted), "restricted": "; ".join(restricted), "meets_threshold": None})
        limits += _limit_rows("cart", k, lims, init)
    return pd.DataFrame(boxes), pd.DataFrame(limits)


def _leaf_limits(t: Any, features: list[str], init: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Box limits of each leaf of a fitted tree, from the splits on the path to it (one-hot columns are
    named ``parameter\\0value``: at most 0.5 drops the value, above 0.5 keeps only it)."""
    out: dict[int, pd.DataFrame] = {}

    def walk(node: int, lims: pd.DataFrame) -> None:
        if t.children_left[node] == t.children_right[node]:
            out[node] = lims
            return
        name, cut = features[t.feature[node]], float(t.threshold[node])
        left, right = lims.copy(), lims.copy()
        if "\0" in name:
            col, value = name.split("\0", 1)
            kept = set(lims[col].iloc[0])
            left[col] = [kept - {value}] * 2
            right[col] = [kept & {value}] * 2
        else:
            left.loc[1, name] = min(float(lims[name].iloc[1]), cut)
            right.loc[0, name] = max(float(lims[name].iloc[0]), cut)
        walk(int(t.children_left[node]), left)
        walk(int(t.children_right[node]), right)

    walk(0, init.astype(object))
    return out


def _full_limits(frame: pd.DataFrame) -> pd.DataFrame:
    """Box limits spanning the runs of ``frame``: [min, max] of a number, the set of values of a category."""
    cols = {}
    for c in frame.columns:
        col = frame[c]
        cols[c] = ([set(col.astype(str).unique())] * 2 if isinstance(col.dtype, pd.CategoricalDtype)
                   else [col.min(), col.max()])
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- a sweep folder


@dataclass
class Discovery:
    """The result of :func:`discover`: tables, and the files written (if any)."""

    where: str
    cases: int
    runs: int
    boxes: pd.DataFrame
    limits: pd.DataFrame
    trajectory: pd.DataFrame
    folder: Path | None = None
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def discover(folder: Path | str, where: str, *, out: Path | str | None = None, threshold: float = 0.8,
             peel_alpha: float = 0.05, mass_min: float = 0.05, max_boxes: int = 2, cart: bool = True,
             parameters: Sequence[str] | None = None, formats: Sequence[str] = ("png", "svg"),
             write: bool = True, overwrite: bool = False) -> Discovery:
    """Run PRIM (and CART) on the sweep in ``folder`` for the runs where ``where`` holds.

    Writes (unless ``write=False``) to ``out`` (default ``folder/discovery-<condition>``; a new or empty
    folder, or an earlier discovery folder with ``overwrite``): ``boxes.csv``, ``limits.csv``,
    ``trajectory.csv``, ``summary.json`` and the figures ``prim_trajectory`` and ``prim_box_<k>``.

    Example::

        from sim.discovery import discover
        d = discover("results/sweeps/sobol_top_rungs", "max_rung >= direct_exchange")
        print(d.boxes[["method", "box", "coverage", "density", "restricted"]])
    """
    from sim.sweep.analyze import load_sweep

    sw = load_sweep(folder)
    params = list(parameters) if parameters else sw.paths
    unknown = [p for p in params if p not in sw.paths]
    if unknown:
        raise InputError(f"{unknown[0]!r} is not a parameter of the sweep", path="--parameter",
                         allowed=", ".join(sw.paths))
    y = where_mask(where, sw.runs[sw.outcomes])
    x = sw.runs[params]
    result = Discovery(where, int(y.sum()), len(y), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    if y.sum() == 0 or y.all():
        result.notes.append(f"the condition holds in {'no' if y.sum() == 0 else 'every'} run: nothing to discover")
    else:
        result.boxes, result.limits, result.trajectory = prim_boxes(
            x, y, threshold=threshold, peel_alpha=peel_alpha, mass_min=mass_min, max_boxes=max_boxes)
        if not result.boxes.empty and not result.boxes["meets_threshold"].iloc[0]:
            result.notes.append(f"no PRIM box reaches a density of {threshold:g}; the densest box is shown")
        if cart:
            cb, cl = cart_boxes(x, y, mass_min=mass_min)
            result.boxes = pd.concat([result.boxes, cb], ignore_index=True)
            result.limits = pd.concat([result.limits, cl], ignore_index=True)
    if write:
        from sim.folders import ResultFolder
        from sim.results import safe_name

        target = Path(out) if out is not None else sw.folder / f"discovery-{safe_name(where)}"
        with ResultFolder(target, overwrite=overwrite, option="--out", kind="discovery") as tmp:
            _write(result, sw, tmp, formats, {"threshold": threshold, "peel_alpha": peel_alpha,
                                              "mass_min": mass_min, "max_boxes": max_boxes})
        result.folder = target
        result.files = [target / p.name for p in result.files]
    return result


def _write(result: Discovery, sw: Any, target: Path, formats: Sequence[str], options: dict[str, Any]) -> None:
    import matplotlib

    from sim.plots import STYLE, save
    from sim.results import FLOAT_FORMAT

    for name, frame in (("boxes.csv", result.boxes), ("limits.csv", result.limits),
                        ("trajectory.csv", result.trajectory)):
        frame.to_csv(target / name, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        result.files.append(target / name)
    if not result.trajectory.empty:
        with matplotlib.rc_context(STYLE):
            result.files += save(trajectory_figure(result), target, "prim_trajectory", formats)
            for k in sorted(set(result.limits.loc[result.limits["method"] == "prim", "box"])):
                result.files += save(limits_figure(result, int(k)), target, f"prim_box_{int(k)}", formats)
    (target / "summary.json").write_text(json.dumps({
        "kind": "discovery", "sweep": str(sw.folder), "spec_hash": sw.manifest.get("spec_hash"),
        "where": result.where,
        "cases": result.cases, "runs": result.runs, **options,
        "definitions": {"coverage": "share of all cases of interest inside the box",
                        "density": "share of the runs inside the box that are cases of interest",
                        "mass": "share of all runs inside the box",
                        "res_dim": "number of parameters whose range the box narrows"},
        "boxes": result.boxes.to_dict(orient="records"), "notes": result.notes,
        "files": [p.name for p in result.files] + ["summary.json"]}, indent=2, default=str) + "\n",
        encoding="utf-8")
    result.files.append(target / "summary.json")


def trajectory_figure(result: Discovery) -> Any:
    """Coverage against density along PRIM's peeling trajectory, coloured by restricted dimensions."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    t = result.trajectory
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    chosen = t[t["chosen"]]
    ax.scatter(chosen["coverage"], chosen["density"], s=120, facecolors="none", edgecolors="red",
               label="chosen box")
    for _, row in chosen.iterrows():
        ax.annotate(f"box {int(row['box'])}", (row["coverage"], row["density"]), textcoords="offset points",
                    xytext=(6, 6))
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.set(xlabel="coverage (share of cases inside the box)", ylabel="density (share of the box that are cases)",
           xlim=(0, 1.02), ylim=(0, 1.02), title=f"PRIM peeling trajectory: {result.where}")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def limits_figure(result: Discovery, box: int) -> Any:
    """The ranges of the restricted parameters of one PRIM box, on each parameter's sampled range."""
    from matplotlib.figure import Figure

    rows = result.limits[(result.limits["method"] == "prim") & (result.limits["box"] == box)]
    fig = Figure(figsize=(7.0, 1.2 + 0.5 * max(1, len(rows))))
    ax = fig.subplots()
    for j, (_, r) in enumerate(rows.iterrows()):
        ax.barh(j, 1.0, color="0.9", edgecolor="0.6")
        if r["values"] is None or (isinstance(r["values"], float) and np.isnan(r["values"])):
            span = (r["full_high"] - r["full_low"]) or 1.0
            lo, hi = (r["low"] - r["full_low"]) / span, (r["high"] - r["full_low"]) / span
            ax.barh(j, hi - lo, left=lo, color="tab:blue")
            ax.text(1.02, j, f"{r['low']:.3g} to {r['high']:.3g}", va="center")
        else:
            ax.text(1.02, j, str(r["values"]), va="center")
    ax.set_yticks(range(len(rows)), [str(p) for p in rows["parameter"]])
    stats = result.boxes[(result.boxes["method"] == "prim") & (result.boxes["box"] == box)].iloc[0]
    ax.set(xlim=(0, 1.6), xticks=[0, 0.5, 1], xticklabels=["low", "mid", "high"],
           title=f"PRIM box {box}: coverage {stats['coverage']:.2f}, density {stats['density']:.2f}")
    fig.tight_layout()
    return fig


def format_boxes(result: Discovery) -> str:
    """The boxes and their restricted ranges as text."""
    lines = [f"{result.cases} of {result.runs} runs ({100 * result.cases / max(result.runs, 1):.1f}%) meet "
             f"{result.where!r}"]
    shown = result.boxes[(result.boxes["method"] == "prim") | (result.boxes["box"] <= 3)]
    for _, b in shown.iterrows():
        lines.append(f"{b['method'].upper()} box {b['box']}: coverage {b['coverage']:.2f}, density "
                     f"{b['density']:.2f}, mass {b['mass']:.2f}, {b['res_dim']} restricted")
        rows = result.limits[(result.limits["method"] == b["method"]) & (result.limits["box"] == b["box"])]
        for _, r in rows.iterrows():
            if isinstance(r["values"], str):
                lines.append(f"    {r['parameter']} in {r['values']} (of {r['full_values']})")
            else:
                lines.append(f"    {r['low']:.4g} <= {r['parameter']} <= {r['high']:.4g} "
                             f"(of {r['full_low']:.4g} to {r['full_high']:.4g})")
    if len(shown) < len(result.boxes):
        lines.append(f"({len(result.boxes) - len(shown)} more CART leaves in boxes.csv)")
    return "\n".join(lines)
