"""The 'Many runs' and 'Compare with baseline' tabs of the web page.

'Many runs' runs the live run's settings many times (independent random
streams) and shows the fan chart, the ladder and the outcomes with their
intervals.  'Compare with baseline' runs the served scenario as loaded (the
baseline) and the live run's settings (the student's variant) with the same
seed and the same replicates, so replicate r of both sees the same random
numbers (common random numbers); it shows both fan charts on one axis and the
differences of the key outcomes, replicate-paired, with bootstrap intervals
(:func:`sim.stats.paired_difference`).  Figures are drawn by :mod:`sim.plots`.
"""

from __future__ import annotations

from . import app_env  # noqa: F401  isort: skip  (before solara)

import dataclasses  # noqa: E402
import html  # noqa: E402
import time  # noqa: E402
from typing import Any, Sequence  # noqa: E402

import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from . import plots  # noqa: E402
from .app_views import new_figure, render_png  # noqa: E402
from .engines import get_engine  # noqa: E402
from .outcomes import horizon_table, outcome  # noqa: E402
from .stats import mean_estimate, paired_difference  # noqa: E402

ENSEMBLE_REPLICATES = 200
"""Replicates when the page opens."""
ENSEMBLE_MAX = 5000
"""Most replicates the page runs at once (the server is shared by everyone using the page)."""
KEY_OUTCOMES = ("cumulative_attacks", "us_injured", "us_killed", "targets_struck", "munitions",
                "iran_direct_attacks", "max_rung", "reached_direct_exchange")
"""Outcomes of the tables, names of the outcome registry (:mod:`sim.outcomes`), in this order."""
BASELINE, VARIANT = "baseline", "your variant"


@dataclasses.dataclass(frozen=True)
class Ensemble:
    """Replicates of one scenario: the per-day table and the settings they were run with."""

    name: str
    ts: pd.DataFrame
    replicates: int
    seed: int
    overrides: tuple[str, ...]
    seconds: float

    @property
    def run(self) -> plots.RunData:
        return plots.RunData(self.name, self.ts)


def run_settings(scenario: Any, replicates: int, seed: int, name: str, overrides: Sequence[str] = ()) -> Ensemble:
    """``replicates`` runs of a resolved scenario on the ensemble engine (replicate r: the seed's r-th stream)."""
    t0 = time.perf_counter()
    ts, _ = get_engine("ensemble").run(scenario, int(replicates), int(seed), events=False)
    return Ensemble(name, ts, int(replicates), int(seed), tuple(overrides), time.perf_counter() - t0)


def check_replicates(text: Any) -> tuple[int | None, str]:
    """(n, "") for a whole number 1..ENSEMBLE_MAX, else (None, message)."""
    try:
        n = int(str(text).strip())
    except ValueError:
        return None, f"replicates: {str(text).strip()!r} is not a whole number (allowed: 1 to {ENSEMBLE_MAX})"
    if not 1 <= n <= ENSEMBLE_MAX:
        return None, f"replicates: {n} is out of range (allowed: 1 to {ENSEMBLE_MAX})"
    return n, ""


def outcome_columns(ts: pd.DataFrame) -> pd.DataFrame:
    """One row per replicate, one float column per key outcome (yes/no outcomes as 0/1)."""
    return horizon_table(ts)[list(KEY_OUTCOMES)].astype(float)


def is_share(name: str) -> bool:
    """A yes/no outcome, whose mean is a share of runs."""
    return outcome(name).dtype == "bool"


def outcome_label(name: str) -> str:
    o = outcome(name)
    return f"Share of runs: {o.label[0].lower()}{o.label[1:]}" if is_share(name) else f"{o.label} ({o.unit})"


def _fmt(x: float, share: bool) -> str:
    return f"{x:.0%}" if share else (f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}")


def difference_table(base: Ensemble, variant: Ensemble) -> pd.DataFrame:
    """Per key outcome: baseline mean, variant mean, the paired difference and its 95% interval."""
    if base.seed != variant.seed or base.replicates != variant.replicates:
        raise ValueError("a paired comparison needs the same seed and replicates on both sides")
    a, b = outcome_columns(base.ts), outcome_columns(variant.ts)
    rows = []
    for name in a.columns:
        d = paired_difference(a[name].to_numpy(), b[name].to_numpy())
        rows.append({"outcome": name, "label": outcome_label(name), "baseline": float(a[name].mean()),
                     "variant": float(b[name].mean()), "difference": d.value, "low": d.low, "high": d.high,
                     "clear": not d.covers_zero})
    return pd.DataFrame(rows)


def difference_html(table: pd.DataFrame) -> str:
    head = ("<tr><th>outcome (at the end of the run, mean over runs)</th><th class='num esc-base'>baseline</th>"
            "<th class='num esc-variant'>your variant</th><th class='num'>difference</th>"
            "<th class='num'>95% interval</th><th>difference clear?</th></tr>")
    body = []
    for r in table.itertuples():
        share = is_share(r.outcome)
        sign = "+" if r.difference > 0 else ""
        body.append(
            f"<tr class='{'esc-clear' if r.clear else ''}'><td>{html.escape(r.label)}</td>"
            f"<td class='num'>{_fmt(r.baseline, share)}</td><td class='num'>{_fmt(r.variant, share)}</td>"
            f"<td class='num'>{sign}{_fmt(r.difference, share)}</td>"
            f"<td class='num'>{_fmt(r.low, share)} to {_fmt(r.high, share)}</td>"
            f"<td>{'yes' if r.clear else 'no: could be chance'}</td></tr>")
    return f"<table class='esc-table esc-diff'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def draw_fans(ensembles: Sequence[Ensemble]) -> Figure:
    """The fan charts of one or two ensembles on one axis (baseline blue, variant orange)."""
    fig = new_figure((7.0, 3.9), left=0.09, bottom=0.1)
    ax = fig.add_subplot()
    plots.fan_axes(ax, [e.run for e in ensembles], full=len(ensembles) == 1)
    ax.legend(loc="upper left")
    n = ensembles[0].replicates
    ax.set_title(f"Cumulative militia attacks: median, middle 50% and 90% of {n} runs"
                 + (" each" if len(ensembles) > 1 else ""))
    return fig


def draw_ladder(ensemble: Ensemble) -> Figure:
    fig = new_figure((7.0, 3.4), left=0.25, right=0.9)
    ax = fig.add_subplot()
    image = plots.ladder_strip(ax, ensemble.run)
    bar = fig.colorbar(image, ax=ax, pad=0.02, fraction=0.05)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title("Share of runs that have reached each rung (or a higher one), by date")
    return fig


def outcomes_html(ensemble: Ensemble) -> str:
    cols = outcome_columns(ensemble.ts)
    body = []
    for name in cols.columns:
        e = mean_estimate(cols[name].to_numpy())
        share = is_share(name)
        body.append(f"<tr><td>{html.escape(outcome_label(name))}</td><td class='num'>{_fmt(e.value, share)}</td>"
                    f"<td class='num'>{_fmt(e.low, share)} to {_fmt(e.high, share)}</td></tr>")
    return ("<table class='esc-table esc-outcomes'><thead><tr><th>outcome at the end of the run</th>"
            "<th class='num'>mean</th><th class='num'>95% interval of the mean</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


# --------------------------------------------------------------------------- components


@solara.component
def ReplicatesInput(value: solara.Reactive, error: solara.Reactive) -> None:
    text, set_text = solara.use_state(str(value.value))

    def accept(raw: str) -> None:
        set_text(raw)
        n, message = check_replicates(raw)
        error.set(message)
        if n is not None:
            value.set(n)

    solara.InputText("Replicates (runs)", value=text, on_value=accept, dense=True, error=bool(error.value),
                     classes=["esc-replicates"])
    if error.value:
        solara.Text(error.value, classes=["esc-message"])


@solara.component
def RunButton(replicates: solara.Reactive, error: solara.Reactive, task: Any, label: str, css: str,
              what: str) -> None:
    """The replicates box, the button that starts ``task``, its progress and its failure message."""
    with solara.Row():
        ReplicatesInput(replicates, error)
        solara.Button(label, on_click=lambda: task(replicates.value), color="primary",
                      disabled=task.pending or bool(error.value), classes=[css])
    if task.pending:
        solara.ProgressLinear(True)
    if task.error:
        solara.Error(f"{what} failed: {task.exception}", dense=True)


def _settings_line(model: Any) -> str:
    changed = ", ".join(model.overrides) if model.overrides else "nothing changed"
    return f"Settings of the live run: scenario '{model.base_scenario.name}', {changed}, random seed {model.seed}."


@solara.component
def ManyRunsTab(model: Any) -> None:
    """Run the live run's settings many times: fan chart, ladder, outcomes with intervals."""
    replicates = solara.use_reactive(ENSEMBLE_REPLICATES)
    error = solara.use_reactive("")
    result = solara.use_reactive(None)

    def work(n: int) -> Ensemble:
        res = run_settings(model.scenario, n, model.seed, model.scenario.name, model.overrides)
        result.set(res)
        return res

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    res = result.value
    with solara.Div(classes=["esc-view", "esc-view-ensemble"]):
        solara.Text("Many runs of the live run's settings, each with its own random numbers: how much the outcome "
                    "varies by chance alone.", classes=["esc-muted"])
        solara.Text(_settings_line(model), classes=["esc-muted"])
        RunButton(replicates, error, task, "Run ensemble", "esc-run-ensemble", "The ensemble")
        if res is not None:
            solara.Text(f"Last ensemble: {res.replicates} runs, random seed {res.seed}, {res.seconds:.1f} s.",
                        classes=["esc-line", "esc-ensemble-done"])
            with solara.Columns([1, 1]):
                solara.Image(render_png(draw_fans, [res]), width="100%", classes=["esc-img-fan"])
                solara.Image(render_png(draw_ladder, res), width="100%", classes=["esc-img-rungprob"])
            solara.HTML(tag="div", unsafe_innerHTML=outcomes_html(res), classes=["esc-outcome-table"])


@solara.component
def CompareTab(model: Any) -> None:
    """Baseline and the student's variant with common random numbers: both fan charts, the differences."""
    replicates = solara.use_reactive(ENSEMBLE_REPLICATES)
    error = solara.use_reactive("")
    result = solara.use_reactive(None)

    def work(n: int) -> tuple[Ensemble, Ensemble, pd.DataFrame]:
        base = run_settings(model.base_scenario, n, model.seed, BASELINE)
        variant = run_settings(model.scenario, n, model.seed, VARIANT, model.overrides)
        out = (base, variant, difference_table(base, variant))
        result.set(out)
        return out

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    with solara.Div(classes=["esc-view", "esc-view-compare"]):
        solara.HTML(tag="div", classes=["esc-muted"], unsafe_innerHTML=(
            f"<span class='esc-base'>Baseline</span>: scenario '{html.escape(model.base_scenario.name)}' as "
            "served. <span class='esc-variant'>Your variant</span>: the live run's settings (change controls, "
            "press Reset). Both run with the same random seed and replicates, so replicate r of both meets the "
            "same chance events (common random numbers) and the differences show the settings, not luck."))
        solara.Text(_settings_line(model), classes=["esc-muted"])
        if not model.overrides:
            solara.Info("Your settings equal the baseline: change a control in the sidebar and press Reset to "
                        "make a variant.", dense=True)
        RunButton(replicates, error, task, "Compare", "esc-run-compare", "The comparison")
        if result.value is not None:
            base, variant, table = result.value
            solara.Text(f"Last comparison: {base.replicates} runs each, random seed {base.seed}; variant: "
                        + (", ".join(variant.overrides) or "no changes") + ".",
                        classes=["esc-line", "esc-compare-done"])
            with solara.Columns([1, 1]):
                solara.HTML(tag="div", unsafe_innerHTML=difference_html(table), classes=["esc-difference-table"])
                solara.Image(render_png(draw_fans, [base, variant]), width="100%", classes=["esc-img-compare"])
            solara.Text("Difference = your variant minus baseline, paired by replicate; the interval is a 95% "
                        "bootstrap interval. 'Clear' means the interval excludes zero.", classes=["esc-muted"])
