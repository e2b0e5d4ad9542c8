"""EMA Workbench connector: the model as an ``ema_workbench.Model``.

:func:`ema_model` wraps the fast ensemble engine: each EMA experiment is one scenario (the base scenario with
the experiment's uncertainties and levers set), run for ``replicates`` replicates with the same seed (common
random numbers across experiments); each outcome is the mean over the replicates of an outcome of the
registry (for a true/false outcome, the share of replicates where it holds).  Uncertainties and levers
come from the schema with their plausible ranges (:mod:`sim.problem`), so EMA's samplers, evaluators and
analysis (PRIM, CART, feature scoring) work on the model as on any EMA model.

EMA Workbench is an optional dependency: ``pip install 'escalation-sim[ema]'``.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sim.errors import InputError

__all__ = ["ema_model", "require_ema", "ScenarioFunction"]


def require_ema() -> Any:
    """The ``ema_workbench`` module, or an InputError saying how to install it."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'ipyparallel not installed' and similar notices
            import ema_workbench
    except ImportError as exc:
        raise InputError(f"EMA Workbench is not installed ({exc})", path="ema_workbench",
                         allowed="pip install 'escalation-sim[ema]'") from None
    return ema_workbench


class ScenarioFunction:
    """The function EMA calls: parameter values (path=value) in, mean outcomes out.

    ``fatal_share`` (share of replicates with a US death) stands for the first fatal day, whose mean is
    undefined when some replicates have none.  A class rather than a closure, so that EMA's
    multiprocessing evaluator can pickle it.
    """

    def __init__(self, base: dict[str, Any], factors: Sequence[Any], outcomes: Sequence[str], replicates: int,
                 seed: int) -> None:
        self.base, self.factors, self.outcomes = base, list(factors), list(outcomes)
        self.replicates, self.seed = replicates, seed

    def __call__(self, **values: Any) -> dict[str, float]:
        from sim.engines import get_engine
        from sim.sweep.spec import scenario_at

        chosen = [f for f in self.factors if f.path in values]
        scenario = scenario_at(self.base, chosen, [values[f.path] for f in chosen])
        columns = [n if n != "fatal_share" else "first_fatal_day" for n in self.outcomes]
        table = get_engine("ensemble").outcomes(scenario, self.replicates, self.seed)
        return {name: float(table[col].notna().mean() if name == "fatal_share" else table[col].astype(float).mean())
                for name, col in zip(self.outcomes, columns)}


def ema_model(scenario: Any = "baseline", *, uncertainties: str | Iterable[str] = "uncertainty",
              levers: str | Iterable[str] | None = "lever", outcomes: Sequence[str] | None = None,
              replicates: int = 20, seed: int = 0, days: int | None = None, name: str = "escalation") -> Any:
    """An ``ema_workbench.Model`` of ``scenario`` on the ensemble engine.

    ``uncertainties`` and ``levers`` are a role or a list of parameter paths (plausible ranges from the
    schema; ``levers=None`` for none); ``outcomes`` are names of the outcome registry (default: attacks,
    casualties, strikes, the highest rung and the chance of reaching each rung); each experiment runs
    ``replicates`` replicates from ``seed`` over ``days`` (default: the scenario's horizon).

    Example::

        from ema_workbench import perform_experiments
        from sim.ema import ema_model

        model = ema_model("baseline", uncertainties=["iran.direct_propensity", "iran.red_line_irgc_killed"],
                          levers=["us.doctrine.scope.inside_iran"], replicates=10, days=180)
        experiments, outcomes = perform_experiments(model, scenarios=20, policies=2)
    """
    ema = require_ema()
    from sim.problem import ema_parameters, factors
    from sim.scenario_io import load_scenario
    from sim.sweep.outcomes import DEFAULT_OUTCOMES, OUTCOME_NAMES, expand_outcomes

    base = load_scenario(scenario, [f"days={days}"] if days is not None else [])
    names = expand_outcomes(list(outcomes) if outcomes is not None else list(DEFAULT_OUTCOMES))
    unknown = [n for n in names if n not in OUTCOME_NAMES]
    if unknown:
        raise InputError(f"unknown outcome {unknown[0]!r}", path="outcomes", allowed=", ".join(OUTCOME_NAMES))
    names = [n for n in names if n != "first_fatal_day"] + (["fatal_share"] if "first_fatal_day" in names else [])
    selections = [uncertainties] + ([levers] if levers is not None else [])
    used = [f for sel in selections for f in factors(sel, base)]
    model = ema.Model(name, function=ScenarioFunction(base.model_dump(mode="json"), used, names, replicates, seed))
    model.uncertainties = ema_parameters(uncertainties, base)
    if levers is not None:
        model.levers = ema_parameters(levers, base)
    model.outcomes = [ema.ScalarOutcome(n) for n in names]
    return model
