"""The Python API: run a scenario, get tidy tables, list and change parameters, sweep, compare, plot.

Everything here is a thin layer over the modules the command line uses, so a notebook and
``escalation ...`` give the same numbers for the same seed.  ``import sim`` exposes these names
(``sim.run``, ``sim.compare``, ...); see ``docs/api.md``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.schema import Scenario

__all__ = ["load", "change", "parameters", "run", "Run", "compare", "Comparison", "run_sweep", "plot"]

ScenarioLike = Any
"""A scenario name (``"baseline"``), a YAML file path, a mapping of scenario data or a :class:`Scenario`."""


def load(scenario: ScenarioLike = "baseline", set: Iterable[str] | Mapping[str, Any] = (),
         days: int | None = None) -> "Scenario":
    """A validated scenario, with changes (``set``: ``"PATH=VALUE"`` strings or a ``{path: value}`` mapping).

    >>> s = load("baseline", {"us.doctrine.proportionate.delay_days": 5}, days=90)
    >>> s.us.doctrine.proportionate.delay_days, s.days, s.name
    (5, 90, 'baseline+delay_days=5')
    """
    from sim.commands._common import load as load_with_changes

    return load_with_changes(scenario, _overrides(set), days)[0]


def change(scenario: ScenarioLike, set: Iterable[str] | Mapping[str, Any]) -> "Scenario":
    """The scenario with some parameters changed (paths as listed by :func:`parameters`); named as a variant.

    >>> change("baseline", {"us.doctrine.scope.inside_iran": True}).us.doctrine.scope.inside_iran
    True
    """
    return load(scenario, set)


def _overrides(changes: Iterable[str] | Mapping[str, Any]) -> list[str]:
    if isinstance(changes, Mapping):
        return [f"{path}={str(v).lower() if isinstance(v, bool) else v}" for path, v in changes.items()]
    return list(changes)


def parameters(scenario: ScenarioLike | None = None, role: str | None = None, match: str | None = None
               ) -> "pd.DataFrame":
    """Every parameter as a table: path, value, default, bounds, plausible range and its source, unit, role,
    description (what ``escalation params`` prints).

    >>> p = parameters(role="lever", match="campaign")
    >>> p.set_index("path").loc["us.doctrine.campaign.first_wave_targets", "plausible"]
    '[20, 160]'
    """
    import pandas as pd

    from sim.schema import Scenario, iter_parameters

    s = load(scenario) if scenario is not None else Scenario()
    rows = [{"path": info.path, "value": value, "default": info.default, "bounds": info.allowed,
             "plausible": info.plausible_text, "unit": info.unit, "role": info.role,
             "description": info.description, "why": info.why}
            for info, value in iter_parameters(s)
            if (role is None or info.role == role) and (match is None or match in info.path)]
    return pd.DataFrame(rows)


@dataclass
class Run:
    """The result of :func:`run`: the scenario as run and its tidy tables."""

    scenario: "Scenario"
    timeseries: "pd.DataFrame"
    """One row per replicate and day (columns as in ``timeseries.csv``)."""
    events: "pd.DataFrame"
    """One row per event (attacks, strikes, ...; columns as in ``events.csv``): text columns are pandas
    categoricals sharing one dtype (every text of the log, so a column's categories may include texts it
    never takes: group with ``observed=True``, count with ``value_counts()`` after
    ``cat.remove_unused_categories()``), counts the narrowest integers that hold them (``int16`` mostly:
    cast before arithmetic that may exceed 32,767); join two runs' events with
    :func:`sim.dynamics.events.concat_events`."""
    seed: int
    engine: str

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def outcomes(self) -> "pd.DataFrame":
        """One row per replicate: every key outcome at the horizon (counts, highest rung, rungs reached)."""
        from sim.differences import replicate_table

        return replicate_table(self.timeseries)

    def summary(self) -> dict[str, Any]:
        """Percentiles of the key outcomes and rung probabilities (the outcome part of ``summary.json``)."""
        from sim.summary import summarize

        return summarize(self.timeseries, self.scenario.start_date)


def run(scenario: ScenarioLike = "baseline", replicates: int = 100, seed: int = 0, *, days: int | None = None,
        set: Iterable[str] | Mapping[str, Any] = (), engine: str = "auto") -> Run:
    """Run ``replicates`` replicates of a scenario on the ``"ensemble"`` (fast) or ``"mesa"`` (agent by agent)
    engine (``"auto"``: ensemble for more than one replicate).

    >>> r = run("baseline", replicates=5, days=30, seed=1)
    >>> sorted(r.timeseries["replicate"].unique().tolist()), len(r.outcomes)
    ([0, 1, 2, 3, 4], 5)
    """
    from sim.commands._common import choose_engine
    from sim.stream import simulate_tables

    s = load(scenario, set, days)
    chosen = choose_engine(engine, replicates)
    ts, ev = simulate_tables(s, replicates, seed, chosen, quiet=True)
    return Run(s, ts, ev, seed, chosen)


@dataclass
class Comparison:
    """The result of :func:`compare`: the runs (same seed: common random numbers) and the differences."""

    runs: dict[str, Run]
    differences: "pd.DataFrame"
    """Per outcome and scenario: value, se, low, high; and the difference from the first scenario with its
    paired bootstrap interval and ``covers_zero`` (see :func:`sim.differences.differences`)."""
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The differences as text (what ``escalation compare`` prints)."""
        from sim.differences import format_differences

        return format_differences(self.differences, self.confidence)


def compare(scenarios: Mapping[str, ScenarioLike] | Sequence[ScenarioLike], replicates: int = 100, seed: int = 0,
            *, days: int | None = None, engine: str = "auto", confidence: float = 0.95) -> Comparison:
    """Run several scenarios with the same seed and replicates and estimate their differences from the first.

    ``scenarios`` is a list, or a ``{label: scenario}`` mapping (a scenario made with :func:`change` is a variant).

    >>> c = compare({"baseline": "baseline", "restraint": "restraint"}, replicates=20, days=60)
    >>> row = c.differences.query("scenario == 'restraint' and outcome == 'us_strikes'").iloc[0]
    >>> bool(row["difference"] < 0)
    True
    """
    from sim.differences import differences

    items = list(scenarios.items()) if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
    runs: dict[str, Run] = {}
    for label, s in items:
        r = run(s, replicates, seed, days=days, engine=engine)
        name = label or r.name
        while name in runs:
            name += "'"
        runs[name] = r
    diffs = differences({k: r.outcomes for k, r in runs.items()}, confidence=confidence, seed=seed)
    return Comparison(runs, diffs, confidence)


def run_sweep(spec: str | Path | Mapping[str, Any], out: str | Path, *, workers: int = 0, points: int | None = None,
          replicates: int | None = None) -> Path:
    """Run a sweep spec (a YAML file, or the same keys as a mapping) into the folder ``out``; return it.

    A parameter given without ``range`` or ``values`` is swept over its plausible range.  Read the result
    with :func:`sim.sweep.analyze.load_sweep` or :func:`sim.discovery.discover`.

    >>> spec = {"scenario": "baseline", "days": 30, "replicates": 2, "design": {"kind": "lhs", "points": 4},
    ...         "parameters": [{"path": "iran.direct_propensity", "role": "uncertainty"}]}
    >>> import tempfile, pathlib; folder = run_sweep(spec, pathlib.Path(tempfile.mkdtemp()) / "sw")
    >>> (folder / "manifest.json").is_file()
    True
    """
    import yaml

    from sim.sweep.run import run_sweep as execute
    from sim.sweep.spec import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(spec, Mapping):
            path = Path(tmp) / f"{spec.get('name', 'sweep')}.yaml"
            text = yaml.safe_dump(dict(spec), sort_keys=False)
            path.write_text(text, encoding="utf-8")
        else:
            path = Path(spec)
            text = path.read_text(encoding="utf-8")
        rs = load_spec(path, points=points, replicates=replicates)
        result = execute(rs, out, workers=workers, spec_text=text)
    return Path(result.folder)


def plot(runs: Run | Comparison | Sequence[Run], kind: str = "escalation_fan") -> "Figure":
    """A figure of one run or several overlaid: ``escalation_fan`` (cumulative attacks), ``ladder``,
    ``us_strikes`` or ``militia_capacity`` (the figures of a result folder).

    >>> fig = plot(run("baseline", replicates=3, days=30), "ladder")
    >>> type(fig).__name__
    'Figure'
    """
    import matplotlib

    from sim.errors import InputError
    from sim.plots import FIGURES, STYLE, RunData

    if kind not in FIGURES:
        raise InputError(f"unknown figure {kind!r}", path="kind", allowed=", ".join(FIGURES))
    if isinstance(runs, Comparison):
        items = list(runs.runs.items())
    elif isinstance(runs, Run):
        items = [(runs.name, runs)]
    else:
        items = [(r.name, r) for r in runs]
    data = [RunData(label, r.timeseries, {"scenario": {"name": label}, "seed": r.seed, "engine": r.engine,
                                          "replicates": int(r.timeseries["replicate"].nunique())})
            for label, r in items]
    with matplotlib.rc_context(STYLE):
        return FIGURES[kind](data)
