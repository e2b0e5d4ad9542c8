"""Differences between scenarios that answer: estimates with Monte Carlo errors, paired differences with
bootstrap intervals, and the number of replicates a question needs.

``escalation compare`` runs every scenario with the same seed and replicate count (common random numbers:
replicate ``r`` of each scenario starts from the same random stream), so the difference of an outcome between
two scenarios is estimated replicate by replicate (:func:`sim.stats.paired_difference`), which is much less
noisy than comparing two independent samples.

Key outcomes, per replicate (:func:`replicate_table`): the counts and levels of the outcome registry at the
horizon (means, with ``sd / sqrt(n)`` errors) and the probabilities of at least one US death and of reaching
each rung of the ladder (shares, with binomial errors and Wilson intervals).

Replicates rule (``--target-se``): a pilot run gives the standard deviation ``sd`` of each paired difference;
the replicates needed for a standard error of at most ``target`` are ``ceil((sd / target)^2)``
(:func:`sim.stats.replicates_needed`).  ``target`` is absolute for probabilities (0.02 = two percentage
points) and relative to the first scenario's mean for counts (0.02 = 2% of its level).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.outcomes import OUTCOMES, horizon_table
from sim.stats import mean_estimate, paired_difference, proportion_estimate, replicates_needed

__all__ = ["replicate_table", "replicate_table_of", "outcome_labels", "differences", "replicates_for", "format_differences"]

COLUMNS = ("outcome", "label", "kind", "scenario", "value", "se", "low", "high", "n", "difference",
           "difference_se", "difference_low", "difference_high", "covers_zero")


def outcome_labels() -> dict[str, tuple[str, str]]:
    """Outcome name -> (label, kind), kind ``mean`` or ``probability``, in the registry's order
    (:data:`sim.outcomes.OUTCOMES`); an outcome that may never happen (the first fatal day) is replaced by the
    probability that it happens (``any_us_killed``)."""
    out: dict[str, tuple[str, str]] = {}
    for o in OUTCOMES:
        if o.kind == "value":
            out[o.name] = (f"{o.label} ({o.unit})", "mean")
        elif o.kind == "event":
            out["any_us_killed"] = ("P(at least one US fatality)", "probability")
        else:
            text = (o.label[0].lower() + o.label[1:]).replace(" (", ": ").rstrip(")")  # reached rung 8: direct exchange
            out[o.name] = (f"P({text})", "probability")
    return out


def replicate_table(ts: pd.DataFrame) -> pd.DataFrame:
    """One row per replicate (in replicate order): the registry's outcomes at the horizon, and ``any_us_killed``."""
    return replicate_table_of(horizon_table(ts))


def replicate_table_of(horizon: pd.DataFrame) -> pd.DataFrame:
    """:func:`replicate_table` from a horizon table (:func:`sim.outcomes.horizon_table`, e.g. a streamed run's)."""
    table = horizon.sort_values("replicate").set_index("replicate")
    table["any_us_killed"] = table["first_fatal_day"].notna()
    return table


def differences(tables: Mapping[str, pd.DataFrame], *, confidence: float = 0.95, n_boot: int = 2000,
                seed: int = 0) -> pd.DataFrame:
    """Every key outcome of every scenario with its Monte Carlo error, and its difference from the first
    scenario with a paired bootstrap interval (``covers_zero``: the interval does not exclude no difference).

    >>> import pandas as pd
    >>> a = pd.DataFrame({"us_killed": [0, 1, 0, 2], "any_us_killed": [False, True, False, True]})
    >>> b = pd.DataFrame({"us_killed": [1, 2, 1, 3], "any_us_killed": [True, True, False, True]})
    >>> d = differences({"a": a, "b": b}, n_boot=200)
    >>> d.loc[(d.scenario == "b") & (d.outcome == "us_killed"), ["difference", "covers_zero"]].values.tolist()
    [[1.0, False]]
    """
    names = list(tables)
    first = tables[names[0]]
    rows = []
    for key, (label, kind) in outcome_labels().items():
        if key not in first:
            continue
        estimate = proportion_estimate if kind == "probability" else mean_estimate
        for name in names:
            values = tables[name][key].to_numpy(dtype=float)
            e = estimate(values, confidence)
            row = {"outcome": key, "label": label, "kind": kind, "scenario": name, "value": e.value, "se": e.se,
                   "low": e.low, "high": e.high, "n": e.n}
            if name != names[0]:
                d = paired_difference(first[key].to_numpy(dtype=float), values, confidence, n_boot, seed)
                row.update(difference=d.value, difference_se=d.se, difference_low=d.low, difference_high=d.high,
                           covers_zero=d.covers_zero)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def replicates_for(tables: Mapping[str, pd.DataFrame], target_se: float) -> int:
    """Replicates for every difference from the first scenario to have a standard error of at most
    ``target_se`` (absolute for probabilities, relative to the first scenario's mean for counts), from
    a pilot run's paired differences (see the module doc)."""
    names = list(tables)
    first = tables[names[0]]
    kinds = outcome_labels()
    needed = 2
    for key in first.columns:
        if key not in kinds:
            continue
        a = first[key].to_numpy(dtype=float)
        scale = 1.0 if kinds[key][1] == "probability" else max(abs(float(np.nanmean(a))), 1.0)
        for name in names[1:]:
            d = tables[name][key].to_numpy(dtype=float) - a
            d = d[~np.isnan(d)]
            if d.size > 1:
                needed = max(needed, replicates_needed(float(d.std(ddof=1)), target_se * scale))
    return needed


def _fmt(x: float, kind: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if kind == "probability":
        return f"{100 * x:.1f}%"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_differences(frame: pd.DataFrame, confidence: float = 0.95) -> str:
    """The differences as a text table: each scenario's mean (± standard error) and, for each scenario after
    the first, its difference from the first with the interval; ``~0`` flags an interval covering zero."""
    names = list(dict.fromkeys(frame["scenario"]))
    header = ["outcome", f"{names[0]} (±se)"] + [c for n in names[1:] for c in (f"{n} (±se)", f"{n} - {names[0]}")]
    body = []
    for key, rows in frame.groupby("outcome", sort=False):
        kind = rows["kind"].iloc[0]
        cells = [rows["label"].iloc[0]]
        for name in names:
            r = rows[rows["scenario"] == name].iloc[0]
            cells.append(f"{_fmt(r['value'], kind)} ±{_fmt(r['se'], kind)}")
            if name != names[0]:
                mark = " ~0" if r["covers_zero"] else ""
                cells.append(f"{_sign(r['difference'], kind)} [{_sign(r['difference_low'], kind)}, "
                             f"{_sign(r['difference_high'], kind)}]{mark}")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    n = int(frame["n"].max()) if len(frame) else 0
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in body), "",
                      f"Means (probabilities in %) over {n} replicates ± Monte Carlo standard error; differences "
                      f"from {names[0]} with {100 * confidence:.0f}% paired bootstrap intervals (same seeds); "
                      "differences of probabilities in percentage points; ~0: the interval covers zero (no difference shown)."])


def _sign(x: float, kind: str) -> str:
    text = _fmt(x, kind)
    return text if text.startswith("-") or text == "-" else "+" + text
