"""Free parameters of a calibration: schema paths, uniform priors, and how values reach a scenario.

A free parameter is named by its path in the scenario schema
(``militia.attack.excitation_jump``).  A ``*`` in place of a group or base id
(``militia.groups.*.motivation``) means "the same value for every group": one
free dimension that sets the field of each item of the list.  Bounds of the
prior are checked against the schema's own bounds (:func:`schema_bounds`), so a
prior can never propose a value the schema would refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel

from sim import param_paths
from sim.schema import ParamInfo, Scenario, iter_parameters

__all__ = [
    "FreeParameter",
    "DEFAULT_FREE",
    "schema_info",
    "schema_bounds",
    "expand_path",
    "get_value",
    "set_value",
    "apply_values",
    "overrides_for",
    "check_priors",
    "to_unit",
    "from_unit",
]


@dataclass(frozen=True)
class FreeParameter:
    """One calibrated dimension with a uniform prior on ``[low, high]``.

    ``integer`` parameters are sampled on the continuous range
    ``[low - 0.5, high + 0.5]`` and rounded when applied, so every integer in
    ``[low, high]`` has the same prior mass.
    """

    path: str
    low: float
    high: float
    label: str
    why: str = ""
    integer: bool = False

    @property
    def lo(self) -> float:
        """Lower end of the continuous sampling range."""
        return self.low - 0.5 if self.integer else self.low

    @property
    def hi(self) -> float:
        """Upper end of the continuous sampling range."""
        return self.high + 0.5 if self.integer else self.high

    def value(self, x: float) -> float | int:
        """The value applied to a scenario (integers rounded and clipped to the prior)."""
        if self.integer:
            return int(min(max(round(float(x)), self.low), self.high))
        return float(x)

    def values(self, x: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`value`."""
        x = np.asarray(x, dtype=float)
        if self.integer:
            return np.clip(np.rint(x), self.low, self.high).astype(np.int64)
        return x


DEFAULT_FREE: tuple[FreeParameter, ...] = (
    FreeParameter(
        "militia.groups.*.motivation", 0.3, 3.0, "motivation (all groups)",
        "Common multiplier on every group's background attack intensity; sets the overall attack "
        "level that the >100 attacks by 26 Dec 2023 constrain.  From a third to three times the "
        "hand-set level."),
    FreeParameter(
        "militia.attack.excitation_jump", 0.0, 0.2, "excitation jump",
        "Hawkes self-excitation per attack that gets through.  Above about 0.2 attacks/day the "
        "expected offspring of one attack (jump x mean excitation lifetime of ~6 days x share not "
        "intercepted) approaches one and the process explodes, so the prior stops there."),
    FreeParameter(
        "militia.attack.tension_weight", 0.0, 2.5, "tension weight",
        "Log-intensity per unit of regional tension; the late-November pause in the baseline's "
        "tension series is the only variation it sees before 26 Dec.  Up to a factor exp(2.5*0.75)~6.5 "
        "between calm and the baseline's tension."),
    FreeParameter(
        "us.doctrine.proportionate.facilities_per_casualty", 0.0, 2.0, "facilities per casualty",
        "Size of a proportionate strike per US casualty on the triggering day (seed 002: 3 facilities "
        "after 3 injured).  With facilities_base fixed at 1, values above 2 would answer three "
        "injured with the maximum strike."),
    FreeParameter(
        "us.doctrine.campaign.first_wave_targets", 20, 160, "first-wave targets", integer=True,
        why="Aimpoints in a campaign's first wave before the per-fatality and pressure terms "
        "(seed 000: more than 85 targets on 2 Feb 2024).  From a quarter to about twice the figure."),
    FreeParameter(
        "us.doctrine.campaign.munitions_per_target", 1.0, 3.0, "munitions per target",
        "Precision munitions per campaign aimpoint (seed 000: more than 125 munitions on more than 85 "
        "targets, about 1.5).  One to three weapons per aimpoint."),
)
"""The free parameters of the shipped calibration (justified in docs/CALIBRATION.md)."""


# --------------------------------------------------------------------------- paths


def expand_path(path: str, scenario: Scenario) -> list[str]:
    """``militia.groups.*.motivation`` -> one concrete path per group id; other paths unchanged
    (:func:`sim.param_paths.expand_path`; ValueError if the path names no place of the scenario)."""
    return param_paths.expand_path(path, scenario)


def get_value(scenario: Scenario, path: str) -> Any:
    """Value at a concrete path (for a ``*`` path: the first item's value)."""
    return param_paths.get_value(scenario, path)


def set_value(scenario: Scenario, path: str, value: Any) -> None:
    """Set a value in place (every item for a ``*`` path).  No validation: see :func:`apply_values`."""
    for concrete in expand_path(path, scenario):
        place = param_paths.locate(scenario, concrete)
        if not isinstance(place.container, BaseModel):
            raise ValueError(f"{concrete!r} is not a scalar setting")
        if place.annotation is int and not isinstance(value, bool):
            value = int(round(float(value)))
        place.set(value)


def apply_values(scenario: Scenario, values: Mapping[str, Any], *, validate: bool = True) -> Scenario:
    """A copy of ``scenario`` with ``values`` (path -> value) set, validated against the schema."""
    s = scenario.model_copy(deep=True)
    for path, v in values.items():
        set_value(s, path, v.item() if isinstance(v, np.generic) else v)
    if validate:
        s = Scenario.model_validate(s.model_dump())
    return s


def overrides_for(values: Mapping[str, Any], scenario: Scenario) -> list[str]:
    """``--set`` style overrides (``path=value``) for ``values``, with ``*`` paths expanded."""
    out = []
    for path, v in values.items():
        v = v.item() if isinstance(v, np.generic) else v
        text = repr(float(v)) if isinstance(v, float) else str(v)
        out += [f"{p}={text}" for p in expand_path(path, scenario)]
    return out


# --------------------------------------------------------------------------- schema bounds


def schema_info(path: str, scenario: Scenario | None = None) -> ParamInfo:
    """The schema's record (type, bounds, unit, description) of a parameter path."""
    s = scenario if scenario is not None else Scenario()
    concrete = expand_path(path, s)[0]
    for info, _ in iter_parameters(s):
        if info.path == concrete:
            return info
    raise ValueError(f"{path!r} is not a scalar parameter of the schema")


def schema_bounds(path: str, scenario: Scenario | None = None) -> tuple[float, float, bool, bool]:
    """``(low, high, low_open, high_open)`` of a parameter from the schema (infinite if unbounded)."""
    info = schema_info(path, scenario)
    if info.ge is not None:
        lo, lo_open = float(info.ge), False
    elif info.gt is not None:
        lo, lo_open = float(info.gt), True
    else:
        lo, lo_open = -math.inf, True
    if info.le is not None:
        hi, hi_open = float(info.le), False
    elif info.lt is not None:
        hi, hi_open = float(info.lt), True
    else:
        hi, hi_open = math.inf, True
    return lo, hi, lo_open, hi_open


def check_priors(free: Sequence[FreeParameter], scenario: Scenario | None = None) -> None:
    """Raise ``ValueError`` unless every prior lies inside the schema's bounds and types fit."""
    problems = []
    seen = set()
    for p in free:
        if p.path in seen:
            problems.append(f"{p.path}: listed twice")
        seen.add(p.path)
        try:
            info = schema_info(p.path, scenario)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if info.type not in ("float", "int"):
            problems.append(f"{p.path}: type {info.type} cannot be calibrated")
            continue
        if (info.type == "int") != p.integer:
            problems.append(f"{p.path}: schema type is {info.type} but integer={p.integer}")
        if not p.low < p.high:
            problems.append(f"{p.path}: prior low {p.low} must be below high {p.high}")
        lo, hi, lo_open, hi_open = schema_bounds(p.path, scenario)
        if p.low < lo or (lo_open and p.low <= lo) or p.high > hi or (hi_open and p.high >= hi):
            problems.append(f"{p.path}: prior [{p.low:g}, {p.high:g}] leaves the schema's bounds {info.bounds}")
    if problems:
        raise ValueError("bad free parameters:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- unit cube


def to_unit(theta: np.ndarray, free: Sequence[FreeParameter]) -> np.ndarray:
    """Map parameter values (.., P) to the unit cube of their sampling ranges."""
    lo = np.array([p.lo for p in free])
    hi = np.array([p.hi for p in free])
    return (np.asarray(theta, dtype=float) - lo) / (hi - lo)


def from_unit(u: np.ndarray, free: Sequence[FreeParameter]) -> np.ndarray:
    """Inverse of :func:`to_unit`."""
    lo = np.array([p.lo for p in free])
    hi = np.array([p.hi for p in free])
    return lo + np.asarray(u, dtype=float) * (hi - lo)


def values_of(theta_row: Iterable[float], free: Sequence[FreeParameter]) -> dict[str, Any]:
    """``{path: applied value}`` of one parameter vector."""
    return {p.path: p.value(x) for p, x in zip(free, theta_row)}


__all__.append("values_of")
