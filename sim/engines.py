"""One interface to the two simulation engines, and the one place a scenario is prepared for a run.

* ``mesa`` (:class:`MesaRunner`): the reference engine, one :class:`mesa.Model`
  per replicate (:func:`sim.runner.run_replicates`); seeds as
  :func:`sim.runner.replicate_seeds`.
* ``ensemble`` (:class:`EnsembleRunner`): all replicates stepped together on
  arrays (:func:`sim.ensemble.run_ensemble`); seeds in blocks, see
  :mod:`sim.ensemble`.

Both return the same per-day table (columns of :mod:`sim.columns`) and event
log, and :meth:`Runner.outcomes` gives the outcome registry's horizon table
(:func:`sim.outcomes.horizon_table`).  The CLI (``run``, ``compare``), sweeps,
calibration and the web page pick an engine with :func:`get_engine` and call
it; nothing else chooses between engines.  Importing this module does not
import Mesa: each runner imports its engine when it first runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

import pandas as pd

from sim.errors import InputError, ScenarioError
from sim.schema import Scenario

__all__ = ["ENGINES", "ENGINE_CHOICES", "EnsembleRunner", "MesaRunner", "Runner", "get_engine", "prepare_scenario",
           "prepare_with_source"]

Progress = Callable[[Iterable], Iterable]


# --------------------------------------------------------------------------- scenarios


def prepare_with_source(scenario: Any, days: int | None = None, overrides: Sequence[str] = (), *,
                        days_option: str = "--days") -> tuple[Scenario, Path | None]:
    """The validated scenario a run uses, and its file (None if it was not read from a file).

    ``scenario`` is a :class:`~sim.schema.Scenario`, a mapping, YAML text, a path
    or a name under ``scenarios/``.  ``overrides`` (``path=value``) are applied
    first, then ``days`` replaces the horizon; the result is validated as a whole
    (a horizon that cuts a ceasefire window short is refused, naming
    ``days_option``; scripted shocks dated after the horizon are left out, as
    calibration's shortened replays need).  Every problem is reported at once: those of the scenario and
    its overrides, and a ``days`` outside the schema's bounds.  Errors:
    :class:`~sim.errors.ScenarioError` for the scenario and overrides,
    :class:`~sim.errors.InputError` for ``days`` alone.
    """
    from sim.scenario_io import load_scenario_with_source

    days_problems = _days_problems(days, days_option)
    if isinstance(scenario, Scenario) and not overrides:
        s, source = scenario, None
    else:
        try:
            s, source = load_scenario_with_source(scenario, overrides)
        except ScenarioError as err:
            raise ScenarioError(err.problems + days_problems) from None
    if days_problems:
        raise InputError(days_problems)
    if days is not None and int(days) != s.days:
        s = _validated({**s.model_dump(mode="json"), "days": int(days)}, days_option)
    return s, source


def _validated(data: dict, days_option: str) -> Scenario:
    """``data`` validated as a scenario; a problem with ``days`` is reported against ``days_option``."""
    from sim.errors import Problem
    from sim.scenario_io import validate_data

    try:
        return validate_data(data, file=days_option)
    except ScenarioError as err:
        first = next((p for p in err.problems if p.path == "days"), err.problems[0])
        raise InputError([Problem(None, None, days_option, first.message,
                                  f"{first.allowed} days" if first.allowed else None)]) from None


def _days_problems(days: int | None, days_option: str) -> list:
    """What is wrong with ``days`` on its own (the schema's bounds of ``days``), if anything."""
    if days is None:
        return []
    try:
        _validated({**Scenario().model_dump(mode="json"), "days": days}, days_option)
    except InputError as err:
        return list(err.problems)
    return []


def prepare_scenario(scenario: Any, days: int | None = None, overrides: Sequence[str] = ()) -> Scenario:
    """The validated scenario a run uses (see :func:`prepare_with_source`)."""
    return prepare_with_source(scenario, days, overrides)[0]


# --------------------------------------------------------------------------- runners


class Runner(Protocol):
    """What every engine offers."""

    name: str
    label: str

    def run(self, scenario: Any, replicates: int, seed: int = 0, *, first_replicate: int = 0,
            events: bool = True, progress: Progress | None = None,
            stream: int | None = None) -> tuple[pd.DataFrame, Any]:
        """(per-day table, event log or None) of replicates ``first_replicate ..`` of a prepared scenario;
        ``stream``: the result writer's form may be given -- the per-day table in the files' integer types, the
        events as an iterable of frames of ``stream`` whole replicates (:class:`sim.dynamics.events.EventParts`)."""

    def outcomes(self, scenario: Any, replicates: int, seed: int = 0, *,
                 first_replicate: int = 0) -> pd.DataFrame:
        """The outcome registry's horizon table of the same runs as :meth:`run`."""


class MesaRunner:
    """The Mesa engine: one model per replicate (``progress`` may wrap the replicate loop)."""

    name = "mesa"
    label = "Mesa engine (sim.runner)"

    def run(self, scenario: Any, replicates: int, seed: int = 0, *, first_replicate: int = 0,
            events: bool = True, progress: Progress | None = None,
            stream: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        from sim.runner import run_replicates  # Mesa blocks are small: one frame of each table

        ts, ev = run_replicates(prepare_scenario(scenario), int(replicates), int(seed),
                                first_replicate=int(first_replicate), progress=progress)
        return ts, (ev if events else None)

    def outcomes(self, scenario: Any, replicates: int, seed: int = 0, *, first_replicate: int = 0) -> pd.DataFrame:
        from sim.outcomes import horizon_table

        ts, _ = self.run(scenario, replicates, seed, first_replicate=first_replicate, events=False)
        return horizon_table(ts)


class EnsembleRunner:
    """The ensemble engine: every replicate at once on arrays (runs too fast per replicate for ``progress``)."""

    name = "ensemble"
    label = "batched engine (sim.ensemble)"

    def run(self, scenario: Any, replicates: int, seed: int = 0, *, first_replicate: int = 0,
            events: bool = True, progress: Progress | None = None,
            stream: int | None = None) -> tuple[pd.DataFrame, Any]:
        from sim.ensemble import run_ensemble

        return run_ensemble(prepare_scenario(scenario), int(replicates), int(seed), events=events,
                            first_replicate=int(first_replicate), stream=stream)

    def outcomes(self, scenario: Any, replicates: int, seed: int = 0, *, first_replicate: int = 0) -> pd.DataFrame:
        from sim.ensemble import outcomes_at_horizon

        return outcomes_at_horizon(prepare_scenario(scenario), int(replicates), int(seed),
                                   first_replicate=int(first_replicate))


ENGINES: dict[str, Runner] = {"ensemble": EnsembleRunner(), "mesa": MesaRunner()}
"""The engines by name."""
ENGINE_CHOICES = ("auto", *ENGINES)
"""What ``--engine`` accepts: ``auto`` is the ensemble engine for more than one replicate, else Mesa."""


def get_engine(name: str = "auto", replicates: int = 2) -> Runner:
    """The engine called ``name`` (``auto``: ensemble for more than one replicate, Mesa for one)."""
    if name == "auto":
        name = "ensemble" if int(replicates) > 1 else "mesa"
    try:
        return ENGINES[name]
    except KeyError:
        raise InputError(f"unknown engine {name!r}", path="--engine", allowed=", ".join(ENGINE_CHOICES)) from None
