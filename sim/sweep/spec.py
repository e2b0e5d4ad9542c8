"""Sweep specs: what to vary, how to sample it, how many runs, what to record.

A spec is a YAML file read with the scenario reader's guarded YAML loader and
validated as strictly as a scenario: unknown keys are errors with a
suggestion, every problem names the file and line, and all problems are
reported together (:class:`sim.errors.ScenarioError`, exit status 2 in the CLI).

Validation has two passes.  Pydantic checks the shape (keys, types, simple
bounds); then :func:`load_spec` checks the meaning against the scenario
schema: parameter paths (with did-you-mean), roles, ranges and values against
the schema's bounds and choices, design options, outcome and time-series
names, and that the scenario stays valid at the corners of the design (the
schema has rules across fields, e.g. ``irgc_share + iran_share < 1``).

See ``experiments/README.md`` for the format, key by key.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
from pydantic import Field

from sim.columns import timeseries_columns
from sim.engines import ENGINES as RUNNERS
from sim.errors import Problem, ScenarioError
from sim.schema import ParamInfo, Scenario, SeriesPoint, Strict, iter_parameters
from sim.param_paths import set_value
from sim.scenario_io import load_scenario, resolve_path
from sim.validation import validate_data
from sim.yaml_guard import LineMap, display_path, loc_to_path, read_yaml_file, suggest, where


from .outcomes import DEFAULT_OUTCOMES, OUTCOME_NAMES, REACHED, expand_outcomes

__all__ = ["DESIGNS", "ENGINES", "ParameterSpec", "DesignSpec", "TimeseriesSpec", "SweepSpec", "Factor",
           "ResolvedSpec", "load_spec", "scenario_at", "factor_kind", "DEFAULT_CHUNK_SIZE"]

DESIGNS = ("grid", "lhs", "sobol", "morris")
ENGINES = tuple(RUNNERS)
DEFAULT_CHUNK_SIZE = {"ensemble": 256, "mesa": 50}
"""Runs per chunk when the spec gives no ``chunk_size`` (part of the effective spec, hence of the results)."""

DESIGN_OPTIONS = {  # option -> designs it applies to
    "levels": ("grid", "morris"),
    "points": ("lhs",),
    "samples": ("sobol",),
    "second_order": ("sobol",),
    "trajectories": ("morris",),
}
REQUIRED_SIZE = {"lhs": "points", "sobol": "samples", "morris": "trajectories"}
DEFAULT_LEVELS = {"grid": 5, "morris": 4}
MAX_POINTS = 10_000_000
MAX_CORNERS = 4096


# --------------------------------------------------------------------------- the file format


class ParameterSpec(Strict):
    """One parameter to vary."""

    path: str = Field(..., min_length=1, description="Dotted path of the parameter, as in 'escalation params'")
    role: Literal["lever", "uncertainty"] = Field(..., description="lever (US choice) or uncertainty; "
                                                                   "must agree with the schema")
    range: list[float] | None = Field(None, description="[low, high]: sampled continuously (whole numbers "
                                                        "for integer parameters); default (no range and no "
                                                        "values): the schema's plausible range")
    values: list[Any] | None = Field(None, description="The values to choose from (numbers, true/false or "
                                                       "choices)")
    levels: int | None = Field(None, ge=2, le=1000, description="Grid design: levels of this range "
                                                                "(overrides design.levels)")


class DesignSpec(Strict):
    kind: str = Field(..., description="grid | lhs | sobol | morris")
    levels: int | None = Field(None, ge=2, le=1000, description="grid: levels of each range (default 5); "
                                                                "morris: levels of the Morris grid (default 4)")
    points: int | None = Field(None, ge=2, le=MAX_POINTS, description="lhs: design points")
    samples: int | None = Field(None, ge=2, le=MAX_POINTS, description="sobol: base samples N, a power of two "
                                                                       "(points = N*(D+2), or N*(2D+2) with "
                                                                       "second_order)")
    second_order: bool | None = Field(None, description="sobol: also second-order indices (default false)")
    trajectories: int | None = Field(None, ge=2, le=MAX_POINTS, description="morris: trajectories r "
                                                                            "(points = r*(D+1))")


class TimeseriesSpec(Strict):
    columns: list[str] = Field(..., min_length=1, description="Per-day columns to keep")
    every: int = Field(7, ge=1, le=3650, description="Keep days 0, every, 2*every, ... and the last day")


class SweepSpec(Strict):
    """A sweep spec as written (after CLI overrides of the sizes)."""

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80,
                             description="Name of the sweep (default: the file's name)")
    question: str = Field("", max_length=4000, description="The question the sweep answers")
    scenario: str = Field("baseline", min_length=1, description="Base scenario: a name under scenarios/ or a "
                                                                "path relative to the spec")
    set: list[str] = Field(default_factory=list, description="PATH=VALUE changes to the base scenario, as --set")
    days: int | None = Field(None, description="Horizon of every run (default: the scenario's days)")
    parameters: list[ParameterSpec] = Field(..., min_length=1, max_length=200)
    design: DesignSpec
    replicates: int = Field(..., ge=1, le=10_000_000, description="Runs per design point")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Master seed")
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1,
                                description="Outcomes recorded per run ('reached' = every reached_* rung)")
    timeseries: TimeseriesSpec | None = Field(None, description="Per-day columns to keep, every k days")
    engine: Literal[ENGINES] = Field("ensemble", description="Simulation engine")
    chunk_size: int | None = Field(None, ge=1, le=1_000_000, description="Runs per chunk (default 256 for "
                                                                         "ensemble, 50 for mesa)")


# --------------------------------------------------------------------------- resolved parameters


@dataclass(frozen=True)
class Factor:
    """A parameter of the design, resolved against the schema.

    ``kind`` is ``float``, ``int``, ``bool``, ``choice`` (a schema choice) or
    ``driver`` (a driver series held constant at the value).  Design points
    are drawn on the unit interval and mapped to values by :meth:`from_unit`:
    a range linearly (integers: equal-width bins), a list of values by equal
    slices (``values[floor(u * n)]``).
    """

    path: str
    role: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    values: tuple[Any, ...] | None = None
    levels: int | None = None

    @property
    def dtype(self) -> str:
        """Column type of the parameter's values (pandas name)."""
        return {"bool": "bool", "choice": "string", "int": "int64"}.get(self.kind, "float64")

    def from_unit(self, u: np.ndarray) -> list[Any]:
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return [self.values[i] for i in idx]
        assert self.lo is not None and self.hi is not None
        if self.kind == "int":
            lo, hi = int(self.lo), int(self.hi)
            return (lo + np.minimum((u * (hi - lo + 1)).astype(np.int64), hi - lo)).tolist()
        return (self.lo + u * (self.hi - self.lo)).tolist()

    def grid(self, default_levels: int) -> tuple[list[Any], list[float]]:
        """(values, unit coordinates) of this factor in a full-factorial grid."""
        if self.values is not None:
            vals = list(self.values)
        else:
            assert self.lo is not None and self.hi is not None
            n = self.levels or default_levels
            pts = np.linspace(self.lo, self.hi, n)
            vals = sorted({int(round(v)) for v in pts}) if self.kind == "int" else [float(f"{v:.12g}") for v in pts]
        n = len(vals)
        return vals, [i / (n - 1) for i in range(n)]

    def n_levels(self, default_levels: int) -> int:
        return len(self.grid(default_levels)[0])


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@dataclass
class ResolvedSpec:
    """A validated spec with everything derived from it."""

    spec: SweepSpec
    file: str | None
    base: Scenario
    factors: list[Factor]
    outcomes: list[str]
    ts_columns: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name or "sweep"

    @property
    def chunk_size(self) -> int:
        return self.spec.chunk_size or DEFAULT_CHUNK_SIZE[self.spec.engine]

    def effective(self) -> dict[str, Any]:
        """The spec as run: every default filled in (this is what the hash covers)."""
        data = self.spec.model_dump(mode="json")
        data["chunk_size"] = self.chunk_size
        d = self.spec.design
        data["design"]["levels"] = d.levels or DEFAULT_LEVELS.get(d.kind)
        if d.kind == "sobol":
            data["design"]["second_order"] = bool(d.second_order)
        data["outcomes"] = list(self.outcomes)
        return data

    def spec_hash(self) -> str:
        """sha256 (16 hex digits) of what decides the results: the effective spec (without its name and
        question) and the resolved base scenario."""
        from sim.scenario_io import scenario_hash

        spec = {k: v for k, v in self.effective().items() if k not in ("name", "question")}
        text = json.dumps({"spec": spec, "scenario": scenario_hash(self.base)}, sort_keys=True,
                          separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- scenario of a design point


def point_data(base_data: dict[str, Any], factors: Sequence[Factor], values: Sequence[Any]) -> dict[str, Any]:
    """Scenario data of one design point: the base data with each factor set to its value."""
    data = copy.deepcopy(base_data)
    for f, v in zip(factors, values):
        if f.kind == "driver":
            v = [{"date": data["start_date"], "value": float(v)}]
        elif f.kind == "int":
            v = int(v)
        elif f.kind == "float":
            v = float(v)
        elif f.kind == "bool":
            v = bool(v)
        set_value(data, f.path, v, Scenario)
    return data


def scenario_at(base_data: dict[str, Any], factors: Sequence[Factor], values: Sequence[Any]) -> Scenario:
    """The validated scenario of one design point (ScenarioError naming the values if invalid)."""
    try:
        return validate_data(point_data(base_data, factors, values), file="design point")
    except ScenarioError as err:
        at = ", ".join(f"{f.path}={_fmt(v)}" for f, v in zip(factors, values))
        raise ScenarioError([Problem(p.file, p.line, p.path, f"{p.message} at the design point {at}", p.allowed)
                             for p in err.problems]) from None


# --------------------------------------------------------------------------- loading


class _Checker:
    """Collects located problems while checking a spec's meaning."""

    def __init__(self, lines: LineMap, file: str | None) -> None:
        self.lines, self.file = lines, file
        self.problems: list[Problem] = []

    def add(self, loc: tuple, message: str, allowed: str | None = None) -> None:
        file, line = where(self.lines, loc, self.file)
        self.problems.append(Problem(file, line, loc_to_path(loc), message, allowed))


def _schema_parameters(base: Scenario) -> dict[str, ParamInfo]:
    return {info.path: info for info, _ in iter_parameters(base)}


def factor_kind(info: ParamInfo) -> str | None:
    if info.path.startswith("drivers.") and info.type == "list":
        return "driver"
    if info.choices is not None:
        return "choice"
    return {"float": "float", "int": "int", "bool": "bool"}.get(info.type)


def _in_bounds(x: float, info: ParamInfo) -> bool:
    return ((info.ge is None or x >= info.ge) and (info.gt is None or x > info.gt)
            and (info.le is None or x <= info.le) and (info.lt is None or x < info.lt))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_parameter(ck: _Checker, i: int, p: ParameterSpec, known: dict[str, ParamInfo],
                     driver_value: ParamInfo, design: str) -> Factor | None:
    loc = ("parameters", i)
    info = known.get(p.path)
    if info is None:
        guess = suggest(p.path, list(known))
        if guess is None:  # a wrong first part: try matching the last parts
            tail = p.path.split(".")[-1]
            guess = suggest(tail, [k.split(".")[-1] for k in known])
            guess = next((k for k in known if guess and k.endswith("." + guess)), None)
        ck.add(loc + ("path",), f"unknown parameter {p.path!r}" + (f"; did you mean {guess!r}?" if guess else ""),
               "a parameter path as listed by 'escalation params', e.g. us.doctrine.precision.p_destroy")
        return None
    kind = factor_kind(info)
    if info.role == "setting":
        ck.add(loc + ("path",), f"{p.path} is a run setting, not a lever or an uncertainty; it cannot be varied",
               "fix it for every run with 'set:' instead")
        return None
    if kind is None:
        ck.add(loc + ("path",), f"{p.path} is a {info.type}, which a sweep cannot vary",
               "numbers, true/false, choices and drivers")
        return None
    if p.role != info.role:
        ck.add(loc + ("role",), f"{p.path} is {'a lever' if info.role == 'lever' else 'an uncertainty'} in the "
                                f"schema, not {'a lever' if p.role == 'lever' else 'an uncertainty'}", info.role)
        return None
    bound_info = driver_value if kind == "driver" else info
    if p.range is not None and p.values is not None:
        ck.add(loc, "give 'range' or 'values', not both")
        return None
    if p.range is None and p.values is None:  # the schema's plausible range (see 'escalation params')
        if info.plausible is not None:
            p = p.model_copy(update={"range": list(info.plausible)})
        elif info.plausible_values is not None:
            p = p.model_copy(update={"values": list(info.plausible_values)})
        else:
            ck.add(loc, f"{p.path} has no plausible range in the schema; give 'range: [low, high]' or 'values'")
            return None
    if p.levels is not None and (design != "grid" or p.range is None):
        ck.add(loc + ("levels",), "'levels' of a parameter applies only to a range in a grid design")
        return None
    if p.range is not None:
        if kind in ("bool", "choice"):
            takes = "true or false" if kind == "bool" else bound_info.bounds
            ck.add(loc + ("range",), f"{p.path} takes {takes}, not a range; list the values with 'values'", takes)
            return None
        if len(p.range) != 2:
            ck.add(loc + ("range",), f"a range is [low, high], got {len(p.range)} numbers")
            return None
        lo, hi = p.range
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            ck.add(loc + ("range",), f"the low end must be below the high end, got [{_fmt(lo)}, {_fmt(hi)}]")
            return None
        if kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
            ck.add(loc + ("range",), f"{p.path} is a whole number; the range ends must be whole numbers")
            return None
        bad = [x for x in (lo, hi) if not _in_bounds(x, bound_info)]
        if bad:
            ck.add(loc + ("range",), f"[{_fmt(lo)}, {_fmt(hi)}] goes outside the schema's bounds of {p.path}",
                   bound_info.bounds)
            return None
        if kind == "int":
            lo, hi = int(lo), int(hi)
        return Factor(p.path, p.role, kind, lo=lo, hi=hi, levels=p.levels)
    values = list(p.values or [])
    if len(values) < 2:
        ck.add(loc + ("values",), "give at least two values (fix a single value with 'set:')")
        return None
    out: list[Any] = []
    for j, v in enumerate(values):
        problem = None
        if kind == "bool":
            problem = None if isinstance(v, bool) else "is not true or false"
        elif kind == "choice":
            problem = None if v in (info.choices or []) and not isinstance(v, bool) else "is not one of the choices"
        elif not _is_number(v) or (kind == "int" and not float(v).is_integer()):
            problem = f"is not {'a whole number' if kind == 'int' else 'a number'}"
        elif not _in_bounds(v, bound_info):
            problem = "is outside the schema's bounds"
        else:
            v = int(v) if kind == "int" else float(v)
        if problem:
            ck.add(loc + ("values", j), f"{_fmt(v)} {problem} of {p.path}",
                   "true, false" if kind == "bool" else bound_info.bounds)
            return None
        if v in out:
            ck.add(loc + ("values", j), f"{_fmt(v)} is listed twice")
            return None
        out.append(v)
    return Factor(p.path, p.role, kind, values=tuple(out))


def _check_design(ck: _Checker, d: DesignSpec, n_factors: int) -> None:
    if d.kind not in DESIGNS:
        guess = suggest(d.kind, DESIGNS)
        ck.add(("design", "kind"), f"unknown design {d.kind!r}" + (f"; did you mean {guess!r}?" if guess else ""),
               ", ".join(DESIGNS))
        return
    for option, kinds in DESIGN_OPTIONS.items():
        if getattr(d, option) is not None and d.kind not in kinds:
            own = [o for o, k in DESIGN_OPTIONS.items() if d.kind in k]
            ck.add(("design", option), f"'{option}' does not apply to a {d.kind} design",
                   ", ".join(["kind", *own]))
    need = REQUIRED_SIZE.get(d.kind)
    if need and getattr(d, need) is None:
        ck.add(("design",), f"a {d.kind} design needs '{need}'", f"{need}: a whole number")
    if d.kind == "sobol" and d.samples is not None and d.samples & (d.samples - 1):
        ck.add(("design", "samples"), f"{d.samples} is not a power of two (Sobol sequences need one)",
               f"e.g. {1 << max(1, round(math.log2(d.samples)))}")
    if d.kind == "sobol" and d.second_order and n_factors < 2:
        ck.add(("design", "second_order"), "second-order indices need at least two parameters")


def design_size(spec: SweepSpec, factors: Sequence[Factor]) -> int:
    """Number of design points of a (valid) spec."""
    d, k = spec.design, len(factors)
    if d.kind == "grid":
        return math.prod(f.n_levels(d.levels or DEFAULT_LEVELS["grid"]) for f in factors)
    if d.kind == "lhs":
        return int(d.points or 0)
    if d.kind == "sobol":
        return int(d.samples or 0) * ((2 * k + 2) if d.second_order else (k + 2))
    return int(d.trajectories or 0) * (k + 1)


def _check_corners(ck: _Checker, base_data: dict[str, Any], factors: list[Factor]) -> None:
    """The scenario must stay valid at every corner of the design (rules across fields)."""
    ends = []
    for f in factors:
        if f.values is None:
            ends.append((f.lo, f.hi))
        elif f.kind in ("int", "float", "driver"):
            ends.append((min(f.values), max(f.values)))
        else:
            ends.append(tuple(f.values))
    for corner in itertools.islice(itertools.product(*ends), MAX_CORNERS):
        try:
            scenario_at(base_data, factors, corner)
        except ScenarioError as err:
            p = err.problems[0]
            ck.add(("parameters",), f"the scenario is invalid at a corner of the design: {p.path}: {p.message}",
                   p.allowed)
            return


def _apply_cli(data: dict[str, Any], lines: LineMap, points: int | None, replicates: int | None,
               engine: str | None) -> tuple[dict[str, Any], int | None]:
    """CLI overrides applied to the raw spec data, before validation (so they are checked the same way).

    Returns the new data and, for a grid, the ``--points`` target (turned into levels later).
    """
    data = copy.deepcopy(data)
    if replicates is not None:
        data["replicates"] = replicates
        lines[("replicates",)] = ("--replicates", None)
    if engine is not None:
        data["engine"] = engine
        lines[("engine",)] = ("--engine", None)
    design = data.get("design")
    if points is None or not isinstance(design, dict):
        return data, None
    key = REQUIRED_SIZE.get(design.get("kind"))  # type: ignore[arg-type]
    if key:
        design[key] = points
        lines[("design", key)] = ("--points", None)
        return data, None
    return data, points if design.get("kind") == "grid" else None


def _grid_levels_for(points: int, factors: list[Factor]) -> int:
    """The largest common number of levels (>= 2) keeping a grid within ``points`` points."""
    fixed = math.prod(f.n_levels(2) for f in factors if f.values is not None or f.levels is not None)
    free = sum(1 for f in factors if f.values is None and f.levels is None)
    levels = 2
    while free and fixed * (levels + 1) ** free <= points:
        levels += 1
    return levels


def load_spec(path: str | Path, *, points: int | None = None, replicates: int | None = None,
              engine: str | None = None) -> ResolvedSpec:
    """Read and validate a sweep spec; ``points``/``replicates``/``engine`` override the spec (CLI).

    Raises :class:`ScenarioError` listing every problem with its file and line.
    """
    path = Path(path)
    file = display_path(path)
    raw, lines = read_yaml_file(path)
    if raw is None:
        raise ScenarioError.single("the spec is empty; expected keys such as 'scenario', 'parameters', 'design'",
                                   file=file, line=1)
    if not isinstance(raw, dict):
        raise ScenarioError.single("a sweep spec must be a mapping of keys (key: value)", file=file, line=1)
    data, grid_points = _apply_cli(raw, lines, points, replicates, engine)
    spec: SweepSpec = validate_data(data, lines, model=SweepSpec, file=file)
    if spec.name is None:
        from sim.results import safe_name

        spec.name = safe_name(path.stem)
    ck = _Checker(lines, file)

    # the base scenario (relative to the spec's folder, or a name under scenarios/)
    overrides = list(spec.set) + ([f"days={spec.days}"] if spec.days is not None else [])
    base: Scenario | None = None
    try:
        base = load_scenario(resolve_path(spec.scenario, path.parent), overrides)
    except ScenarioError as err:
        for p in err.problems:
            if p.file == "--set":
                key = ("days",) if p.path == "days" and spec.days is not None else ("set",)
                if key == ("set",):
                    idx = next((j for j, text in enumerate(spec.set) if text.partition("=")[0].strip() == p.path),
                               None)
                    key = ("set", idx) if idx is not None else key
                ck.add(key, f"{p.path}: {p.message}" if p.path and key != ("days",) else p.message, p.allowed)
            elif p.file is None:
                ck.add(("scenario",), p.message, p.allowed)
            else:
                ck.problems.append(p)
    if base is None:
        raise ScenarioError(ck.problems)

    known = _schema_parameters(base)
    driver_value = next(info for info, _ in iter_parameters(SeriesPoint()) if info.path == "value")
    factors: list[Factor] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(spec.parameters):
        if p.path in seen:
            ck.add(("parameters", i, "path"), f"{p.path} is listed twice (also parameter {seen[p.path] + 1})")
            continue
        seen[p.path] = i
        f = _check_parameter(ck, i, p, known, driver_value, spec.design.kind)
        if f is not None:
            factors.append(f)
    _check_design(ck, spec.design, len(spec.parameters))

    for i, name in enumerate(spec.outcomes):
        if name != "reached" and name not in OUTCOME_NAMES:
            guess = suggest(name, [*OUTCOME_NAMES, "reached"])
            ck.add(("outcomes", i), f"unknown outcome {name!r}" + (f"; did you mean {guess!r}?" if guess else ""),
                   ", ".join([*(n for n in OUTCOME_NAMES if n not in REACHED), "reached", "reached_<rung>"]))
    outcomes = expand_outcomes([n for n in spec.outcomes if n == "reached" or n in OUTCOME_NAMES])

    ts_cols: list[str] = []
    if spec.timeseries is not None:
        allowed = timeseries_columns([g.id for g in base.militia.groups])
        for i, col in enumerate(spec.timeseries.columns):
            if col not in allowed:
                guess = suggest(col, allowed)
                ck.add(("timeseries", "columns", i),
                       f"unknown column {col!r}" + (f"; did you mean {guess!r}?" if guess else ""), ", ".join(allowed))
            elif col not in ts_cols:
                ts_cols.append(col)
        if spec.timeseries.every > base.days:
            ck.add(("timeseries", "every"), f"every {spec.timeseries.every} days is longer than the horizon "
                                            f"({base.days} days)")

    if not ck.problems:
        if spec.design.kind == "grid" and grid_points is not None:
            spec.design.levels = _grid_levels_for(grid_points, factors)
        n = design_size(spec, factors)
        if n > MAX_POINTS:
            ck.add(("design",), f"the design has {n:,} points, more than {MAX_POINTS:,}")
        elif n * spec.replicates > 10**10:
            ck.add(("replicates",), f"{n:,} points x {spec.replicates:,} replicates is too many runs")
        else:
            _check_corners(ck, base.model_dump(mode="json"), factors)
    if ck.problems:
        raise ScenarioError(ck.problems)
    return ResolvedSpec(spec=spec, file=file, base=base, factors=factors, outcomes=outcomes, ts_columns=ts_cols)
