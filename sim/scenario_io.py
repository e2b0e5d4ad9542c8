"""Read, resolve, override, validate and write scenarios.

A scenario file is YAML.  It lists only what differs from the default scenario
(``Scenario()``): every key left out keeps the default scenario's value at the
same place.  Loading goes through these steps:

1. **Read** the file with the guarded YAML reader (:mod:`sim.yaml_guard`): no
   Python tags, size and alias limits, YAML 1.2 scalars, the line of every key.
2. **extends**: ``extends: parent.yaml`` (relative to the file's folder, or a
   scenario name such as ``baseline``) deep-merges the file onto its parent:
   mappings merge key by key, lists and single values replace.  Chains are
   allowed; cycles are errors.  A parent not found from the file's folder is
   looked up from the shipped scenarios' folder and then by name, so a copied
   scenario still finds its parent.
3. **Defaults**: the result is deep-merged onto the default scenario (so
   ``militia: {weapons: {uav: {preference: 2}}}`` keeps the default scenario's
   other UAV values).
4. **Overrides** (``--set PATH=VALUE``) are applied; paths are resolved by
   :mod:`sim.param_paths` (list items by index or by id).
5. **Validation** against :class:`sim.schema.Scenario` (:mod:`sim.validation`).
   Every problem, bad overrides included, is raised together as one
   :class:`sim.errors.ScenarioError`.

Decisions:

* ``Scenario.extends`` keeps the top file's reference string as written (or
  None).  It is provenance only: :func:`scenario_to_yaml` leaves it out and
  :func:`scenario_hash` ignores it.
* A mapping given to ``--set`` merges into the existing mapping, like
  ``extends``; any other value replaces.  For a text field (``name``,
  ``question``, ids) the raw text after ``=`` is used as is.
"""

from __future__ import annotations

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import BaseModel

from sim.errors import Problem, ScenarioError
from sim.param_paths import PathError, locate, parse_path, unwrap
from sim.schema import Scenario
from sim.validation import validate_data
from sim.yaml_guard import (MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES, LineMap, Loc, display_path, iter_locs,
                            loc_to_path, parse_yaml_text, read_yaml_file, show_value, suggest)

__all__ = [
    "SCENARIO_DIR",
    "available_scenarios",
    "resolve_path",
    "deep_merge",
    "apply_overrides",
    "load_scenario",
    "load_scenario_with_source",
    "scenario_to_yaml",
    "scenario_hash",
    # re-exported from the modules this one was split into (scenario files and callers still use them)
    "MAX_BYTES", "MAX_ALIASES", "MAX_NODES", "MAX_DEPTH", "Loc", "LineMap", "loc_to_path", "parse_yaml_text",
    "read_yaml_file", "validate_data",
]

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""The repository's folder of named scenarios."""

MAX_EXTENDS = 20

SET_FILE = "--set"


# --------------------------------------------------------------------------- finding files


def _scenario_dirs() -> list[Path]:
    dirs = [Path.cwd() / "scenarios", SCENARIO_DIR]
    out: list[Path] = []
    for d in dirs:
        if d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def available_scenarios() -> list[str]:
    """Names of the scenarios in ``./scenarios`` and the repository's ``scenarios/``."""
    names: set[str] = set()
    for d in _scenario_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return sorted(names)


def resolve_path(ref: str | Path, base_dir: str | Path | None = None) -> Path:
    """Find a scenario file.

    ``ref`` is a path (relative to ``base_dir``, default the working folder;
    ``.yaml`` may be left off) or a bare name such as ``baseline`` looked up in
    ``./scenarios`` and then :data:`SCENARIO_DIR`.
    """
    ref_text = str(ref)
    p = Path(ref_text).expanduser()
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    first = p if p.is_absolute() else base / p
    candidates = [first]
    if p.suffix not in (".yaml", ".yml"):
        candidates += [first.with_name(first.name + ".yaml"), first.with_name(first.name + ".yml")]
    if not p.is_absolute() and len(p.parts) == 1:
        for d in _scenario_dirs():
            candidates.append(d / p.name)
            if p.suffix not in (".yaml", ".yml"):
                candidates += [d / f"{p.name}.yaml", d / f"{p.name}.yml"]
    for c in candidates:
        if c.is_file():
            if c.suffix not in (".yaml", ".yml"):  # never read (nor quote) a file that is not YAML
                raise ScenarioError.single(f"{ref_text!r} is not a scenario file (its name does not end in .yaml "
                                           "or .yml)", allowed="a .yaml or .yml file, or a scenario name")
            return c.resolve()
    names = available_scenarios()
    guess = suggest(p.stem, names)
    message = f"scenario {ref_text!r} not found"
    if guess:
        message += f"; did you mean {guess!r}?"
    raise ScenarioError.single(message, path="", allowed=", ".join(names) if names else "(no scenarios found)")


# --------------------------------------------------------------------------- extends


def deep_merge(base: Any, top: Any) -> Any:
    """``top`` merged onto ``base``: mappings merge key by key; anything else replaces."""
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for k, v in top.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(top)


def _merge_lines(data: Any, parent: LineMap, child: LineMap) -> LineMap:
    out: LineMap = {}
    for loc in iter_locs(data):
        hit = child.get(loc) or parent.get(loc)
        if hit is not None:
            out[loc] = hit
    return out


def _resolve_extends(data: dict[str, Any], lines: LineMap, file: str | None, base_dir: Path,
                     chain: list[Path]) -> tuple[dict[str, Any], LineMap]:
    """Merge ``data`` onto the chain of scenarios it extends."""
    ref = data.get("extends")
    if ref is None:
        return data, lines
    _, ext_line = lines.get(("extends",), (file, None))
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError.single(f"extends must name a scenario file, got {show_value(ref)}",
                                   file=file, line=ext_line, path="extends", allowed="a file name or scenario name")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError.single(f"more than {MAX_EXTENDS} levels of extends", file=file, line=ext_line,
                                   path="extends")
    try:
        parent_path = _find_parent(ref, base_dir)
    except ScenarioError as exc:
        p = exc.problems[0]
        raise ScenarioError.single(f"parent {p.message}", file=file, line=ext_line, path="extends",
                                   allowed=p.allowed) from None
    if parent_path in chain:
        loop = " -> ".join(display_path(c) for c in chain + [parent_path])
        raise ScenarioError.single(f"extends makes a loop: {loop}", file=file, line=ext_line, path="extends")
    pdata, plines = _read_scenario_file(parent_path)
    pdata, plines = _resolve_extends(pdata, plines, display_path(parent_path), parent_path.parent,
                                     chain + [parent_path])
    merged = deep_merge(pdata, data)
    return merged, _merge_lines(merged, plines, lines)


def _find_parent(ref: str, base_dir: Path) -> Path:
    """The file ``extends: ref`` names: a path from the file's folder; else (a copied scenario) the same
    path from the shipped scenarios' folder; else a scenario of that name.  The first error if none."""
    try:
        return resolve_path(ref, base_dir)
    except ScenarioError as first:
        if "not a scenario file" in first.problems[0].message:
            raise
        p = Path(ref)
        fallbacks = ([SCENARIO_DIR] if not p.is_absolute() else []) + [None]
        for base in fallbacks:
            try:
                return resolve_path(ref, base) if base is not None else resolve_path(p.stem)
            except ScenarioError:
                continue
        raise first from None


def _read_scenario_file(path: Path) -> tuple[dict[str, Any], LineMap]:
    data, lines = read_yaml_file(path)
    return _require_mapping(data, display_path(path)), lines


def _require_mapping(data: Any, file: str | None) -> dict[str, Any]:
    if data is None:
        raise ScenarioError.single("the scenario is empty; expected settings such as 'name: my_scenario'",
                                   file=file, line=1)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({show_value(data)})"
        raise ScenarioError.single(f"the scenario must be a mapping of settings (key: value), not {kind}",
                                   file=file, line=1)
    return data



# --------------------------------------------------------------------------- overrides


def _apply_one(data: dict[str, Any], path_text: str, raw: str, model: type[BaseModel],
               lines: LineMap | None) -> None:
    segs = parse_path(path_text)
    if segs and segs[0] == "extends":
        raise PathError("extends can only be set in a scenario file, not with --set")
    place = locate(data, segs, model, fill_defaults=True)
    value = _parse_value(raw, place.annotation)
    old = place.get() if isinstance(place.container, list) or place.key in place.container else None
    new = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    place.set(new)
    if lines is not None:
        loc = place.loc
        if new is value:  # replaced: forget where the old sub-values came from
            for stale in [k for k in lines if k[: len(loc)] == loc]:
                del lines[stale]
        for sub in iter_locs(value, loc):
            lines[sub] = (SET_FILE, None)


def _parse_value(raw: str, tp: Any) -> Any:
    text = raw.strip()
    if unwrap(tp) is str:
        if tp is not str and text in ("", "null", "~", "None"):  # optional text
            return None
        return text
    try:
        value, _ = parse_yaml_text(text, SET_FILE)
    except ScenarioError as exc:
        raise PathError(f"cannot read the value {text!r}: {exc.problems[0].message}") from None
    return value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str], lines: LineMap | None = None,
                    *, model: type[BaseModel] = Scenario) -> dict[str, Any]:
    """Apply ``PATH=VALUE`` overrides to scenario data; return the new data.

    ``PATH`` is dotted (``us.doctrine.proportionate.delay_days``); list items are
    addressed by ``[i]`` (or ``.i``) or, for groups and bases, by id
    (``militia.groups.kh.base_rate``).  ``VALUE`` is read as YAML (``3``,
    ``true``, ``[iraq, syria]``).  Parts of the scenario not in ``data`` are
    filled from the defaults first.  ``lines`` (if given) is updated so that
    changed places point at ``--set``.  All bad overrides are reported together.
    """
    out, problems = _apply_overrides_collecting(data, overrides, lines, model)
    if problems:
        raise ScenarioError(problems)
    return out


def _apply_overrides_collecting(data: Mapping[str, Any], overrides: Sequence[str], lines: LineMap | None,
                                model: type[BaseModel]) -> tuple[dict[str, Any], list[Problem]]:
    """:func:`apply_overrides` that applies the good overrides and returns the bad ones' problems."""
    out = copy.deepcopy(dict(data))
    problems: list[Problem] = []
    for item in overrides:
        text = str(item)
        path_text, eq, raw = text.partition("=")
        path_text = path_text.strip()
        if not eq:
            problems.append(Problem(SET_FILE, None, path_text, f"expected PATH=VALUE, got {text!r}",
                                    "e.g. us.doctrine.proportionate.delay_days=3"))
            continue
        try:
            segs = parse_path(path_text)
        except ValueError:
            problems.append(Problem(SET_FILE, None, path_text, f"{path_text!r} is not a valid setting path",
                                    "dotted names with [index], e.g. militia.groups[0].alignment"))
            continue
        if not segs:
            problems.append(Problem(SET_FILE, None, "", f"missing setting name before '=' in {text!r}",
                                    "e.g. us.doctrine.proportionate.delay_days=3"))
            continue
        try:
            _apply_one(out, path_text, raw, model, lines)
        except PathError as exc:
            problems.append(Problem(SET_FILE, None, path_text, exc.message, exc.allowed))
    return out, problems


# --------------------------------------------------------------------------- public API


def _default_data() -> dict[str, Any]:
    return Scenario().model_dump(mode="json")


def load_scenario_with_source(ref: str | Path | Mapping[str, Any] | Scenario,
                              overrides: Sequence[str] = ()) -> tuple[Scenario, Path | None]:
    """Load, resolve, override and validate a scenario; also return its file.

    ``ref`` is a path, a scenario name (``baseline``), YAML text (any string
    containing a newline), a mapping, or a :class:`Scenario`.  The second value
    is the resolved file, or None when ``ref`` was not a file.
    """
    source: Path | None = None
    file: str | None
    if isinstance(ref, Scenario):
        data, lines, file = ref.model_dump(mode="json"), {}, None
    elif isinstance(ref, Mapping):
        data, lines, file = _require_mapping(copy.deepcopy(dict(ref)), None), {}, None
        data, lines = _resolve_extends(data, lines, file, Path.cwd(), [])
    elif isinstance(ref, str) and "\n" in ref:
        file = "<text>"
        parsed, lines = parse_yaml_text(ref, file)
        data = _require_mapping(parsed, file)
        data, lines = _resolve_extends(data, lines, file, Path.cwd(), [])
    elif isinstance(ref, (str, Path)):
        source = resolve_path(ref)
        file = display_path(source)
        data, lines = _read_scenario_file(source)
        data, lines = _resolve_extends(data, lines, file, source.parent, [source])
    else:
        raise ScenarioError.single(f"cannot load a scenario from {type(ref).__name__}",
                                   allowed="a file path, scenario name, YAML text or mapping")
    data = deep_merge(_default_data(), data)
    problems: list[Problem] = []
    if overrides:  # every problem at once: the bad overrides, then what validation finds with the good ones
        data, problems = _apply_overrides_collecting(data, overrides, lines, Scenario)
    try:
        scenario = validate_data(data, lines, file=file)
    except ScenarioError as err:
        raise ScenarioError(problems + err.problems) from None
    if problems:
        raise ScenarioError(problems)
    return scenario, source


def load_scenario(ref: str | Path | Mapping[str, Any] | Scenario, overrides: Sequence[str] = ()) -> Scenario:
    """Load a scenario (see :func:`load_scenario_with_source`)."""
    return load_scenario_with_source(ref, overrides)[0]


def _resolved_data(s: Scenario) -> dict[str, Any]:
    data = s.model_dump(mode="json")
    data.pop("extends", None)
    return data


def scenario_to_yaml(s: Scenario) -> str:
    """Every parameter as used, as YAML (``extends`` left out); loads back to an equal scenario."""
    return yaml.safe_dump(_resolved_data(s), sort_keys=False, allow_unicode=True,
                          default_flow_style=False, width=100)


def scenario_hash(s: Scenario) -> str:
    """First 16 hex digits of the sha256 of the scenario's canonical JSON (``extends`` ignored)."""
    text = json.dumps(_resolved_data(s), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

