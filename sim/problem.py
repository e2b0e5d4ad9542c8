"""Parameter problems for analysis tools: SALib problems and EMA Workbench parameters in one call.

The parameters come from the schema (:mod:`sim.schema`) with their *plausible* ranges (not the wider legal
bounds): a number is sampled over its plausible ``[low, high]``, a switch over true/false and a choice over
its choices.  Select them by role (``"lever"``, ``"uncertainty"``) or by a list of paths as listed by
``escalation params``.  Values that cannot be sampled (the list of countries a group reaches, scripted
shocks) are left out of a role and refused by path.

SALib samples numbers only, so a switch or a choice is sampled as a unit coordinate ``u`` in [0, 1] and
mapped to ``values[floor(u * n)]`` (the convention of the sweep designs, :class:`sim.sweep.spec.Factor`);
:func:`values_of` applies that mapping to a SALib sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sim.errors import InputError
from sim.schema import ParamInfo, Scenario, iter_parameters

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from sim.sweep.spec import Factor

__all__ = ["parameters", "factors", "salib_problem", "values_of", "ema_parameters"]

ROLES = ("lever", "uncertainty")


def _sampleable(info: ParamInfo) -> bool:
    return info.plausible is not None or info.plausible_values is not None


def parameters(selection: str | Iterable[str] = "uncertainty", scenario: Scenario | None = None) -> list[ParamInfo]:
    """The parameters of ``selection`` (a role, or paths) with their plausible ranges.

    >>> [p.path for p in parameters(["iran.direct_propensity"])]
    ['iran.direct_propensity']
    >>> parameters(["iran.direct_propensity"])[0].plausible
    (0.01, 0.2)
    """
    infos = [info for info, _ in iter_parameters(scenario if scenario is not None else Scenario())]
    if isinstance(selection, str):
        if selection not in ROLES:
            raise InputError(f"unknown role {selection!r}", path="selection", allowed="lever, uncertainty or a "
                                                                                       "list of parameter paths")
        return [i for i in infos if i.role == selection and _sampleable(i)]
    by_path = {i.path: i for i in infos}
    out = []
    for path in selection:
        info = by_path.get(path)
        if info is None:
            from sim.yaml_guard import suggest

            guess = suggest(path, list(by_path))
            raise InputError(f"unknown parameter {path!r}" + (f"; did you mean {guess!r}?" if guess else ""),
                             path="selection", allowed="paths as listed by 'escalation params'")
        if not _sampleable(info):
            raise InputError(f"{path} has no plausible range (a {info.role} of type {info.type})",
                             path="selection", allowed="numbers, switches, choices and drivers")
        out.append(info)
    return out


def factors(selection: str | Iterable[str] = "uncertainty", scenario: Scenario | None = None) -> list["Factor"]:
    """The selection as sweep factors over the plausible ranges (what a sweep spec would resolve to)."""
    from sim.sweep.spec import Factor, factor_kind

    out = []
    for info in parameters(selection, scenario):
        kind = factor_kind(info) or "float"
        if info.plausible is not None:
            out.append(Factor(info.path, info.role, kind, lo=info.plausible[0], hi=info.plausible[1]))
        else:
            out.append(Factor(info.path, info.role, kind, values=tuple(info.plausible_values or ())))
    return out


def salib_problem(selection: str | Iterable[str] = "uncertainty", scenario: Scenario | None = None) -> dict[str, Any]:
    """A SALib problem (``num_vars``, ``names``, ``bounds``) over the plausible ranges.

    A switch or a choice gets bounds [0, 1] and its values under ``problem["values"][name]``;
    turn a sample into parameter values with :func:`values_of`.

    >>> from SALib.sample import latin
    >>> problem = salib_problem(["iran.direct_propensity", "us.doctrine.scope.inside_iran"])
    >>> problem["bounds"]
    [[0.01, 0.2], [0.0, 1.0]]
    >>> rows = values_of(problem, latin.sample(problem, 4, seed=1))
    >>> sorted(rows[0])
    ['iran.direct_propensity', 'us.doctrine.scope.inside_iran']
    """
    infos = parameters(selection, scenario)
    bounds, values = [], {}
    for info in infos:
        if info.plausible is not None:
            bounds.append([float(info.plausible[0]), float(info.plausible[1])])
        else:
            bounds.append([0.0, 1.0])
            values[info.path] = list(info.plausible_values or ())
    return {"num_vars": len(infos), "names": [i.path for i in infos], "bounds": bounds, "values": values,
            "types": {i.path: i.type for i in infos}}


def values_of(problem: dict[str, Any], sample: "np.ndarray") -> list[dict[str, Any]]:
    """Rows of parameter values (path -> value) of a SALib sample of :func:`salib_problem`'s problem."""
    import numpy as np

    sample = np.atleast_2d(np.asarray(sample, dtype=float))
    rows: list[dict[str, Any]] = [{} for _ in range(len(sample))]
    for j, name in enumerate(problem["names"]):
        col = sample[:, j]
        choices = problem.get("values", {}).get(name)
        if choices is not None:
            idx = np.minimum((np.clip(col, 0, 1) * len(choices)).astype(int), len(choices) - 1)
            vals: Sequence[Any] = [choices[i] for i in idx]
        elif problem.get("types", {}).get(name) == "int":
            vals = [int(round(v)) for v in col]
        else:
            vals = [float(v) for v in col]
        for row, v in zip(rows, vals):
            row[name] = v
    return rows


def ema_parameters(selection: str | Iterable[str] = "uncertainty", scenario: Scenario | None = None) -> list[Any]:
    """EMA Workbench parameters (Real, Integer, Boolean, Categorical) over the plausible ranges.

    Needs the optional ``ema`` extra (``pip install 'escalation-sim[ema]'``).

    >>> [type(p).__name__ for p in ema_parameters(["iran.red_line_irgc_killed", "us.doctrine.scope.inside_iran"])]
    ['IntegerParameter', 'BooleanParameter']
    """
    from sim.ema import require_ema

    ema = require_ema()
    out = []
    for info in parameters(selection, scenario):
        if info.plausible is not None:
            lo, hi = info.plausible
            if info.type == "int":
                out.append(ema.IntegerParameter(info.path, int(lo), int(hi)))
            else:
                out.append(ema.RealParameter(info.path, float(lo), float(hi)))
        elif info.type == "bool":
            out.append(ema.BooleanParameter(info.path))
        else:
            out.append(ema.CategoricalParameter(info.path, list(info.plausible_values or ())))
    return out
