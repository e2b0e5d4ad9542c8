"""Read, resolve, override, validate and write scenarios.

A scenario file is YAML.  It lists only what differs from the default scenario
(``Scenario()``): every key left out keeps the default scenario's value at the
same place.  Loading goes through these steps:

1. **Read** the file with a guarded ``yaml.SafeLoader``: no Python tags, at most
   1 MiB, at most 100 aliases, 100 000 values (after aliases are expanded) and
   50 levels of nesting; duplicate keys are errors.  The line of every key and
   list item is recorded, so later errors can point at it.
2. **extends**: ``extends: parent.yaml`` (relative to the file's folder, or a
   scenario name such as ``baseline``) deep-merges the file onto its parent:
   mappings merge key by key, lists and single values replace.  Chains are
   allowed; cycles are errors.
3. **Defaults**: the result is deep-merged onto the default scenario (so
   ``militia: {weapons: {uav: {preference: 2}}}`` keeps the default scenario's
   other UAV values).
4. **Overrides** (``--set PATH=VALUE``) are applied; list items are addressed by
   index (``militia.groups[0]``) or by id (``militia.groups.kh``).
5. **Validation** against :class:`sim.schema.Scenario`.  Every problem is
   collected and raised together as one :class:`sim.errors.ScenarioError`.

Decisions:

* ``Scenario.extends`` keeps the top file's reference string as written (or
  None).  It is provenance only: :func:`scenario_to_yaml` leaves it out and
  :func:`scenario_hash` ignores it.
* A mapping given to ``--set`` merges into the existing mapping, like
  ``extends``; any other value replaces.  For a text field (``name``,
  ``question``, ids) the raw text after ``=`` is used as is.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import re
import stat
import types
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Sequence, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.errors import Problem, ScenarioError
from sim.schema import Scenario

__all__ = [
    "SCENARIO_DIR",
    "MAX_BYTES",
    "MAX_ALIASES",
    "MAX_NODES",
    "MAX_DEPTH",
    "Loc",
    "LineMap",
    "loc_to_path",
    "resolve_path",
    "available_scenarios",
    "parse_yaml_text",
    "read_yaml_file",
    "deep_merge",
    "apply_overrides",
    "validate_data",
    "load_scenario",
    "load_scenario_with_source",
    "scenario_to_yaml",
    "scenario_hash",
]

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""The repository's folder of named scenarios."""

MAX_BYTES = 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 100_000
MAX_DEPTH = 50
MAX_EXTENDS = 20

Loc = tuple[Union[str, int], ...]
"""A place in the data, e.g. ``("militia", "groups", 1, "alignment")``."""

LineMap = dict[Loc, tuple[Union[str, None], Union[int, None]]]
"""Where each place came from: ``loc -> (file, line)``; ``--set`` has line None."""

SET_FILE = "--set"

# --------------------------------------------------------------------------- small helpers


def loc_to_path(loc: Sequence[str | int]) -> str:
    """``("militia", "groups", 1, "alignment")`` -> ``militia.groups[1].alignment``."""
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else str(seg)
    return out


def _show(value: Any, limit: int = 60) -> str:
    """A short, readable rendering of a user value."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    elif value is None:
        text = "null (nothing)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _display(path: Path) -> str:
    """A path as shown to the user: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _iter_locs(value: Any, prefix: Loc = ()) -> Iterator[Loc]:
    """Every place in nested dicts/lists, the root included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _iter_locs(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _iter_locs(v, prefix + (i,))


def _where(lines: Mapping[Loc, tuple[str | None, int | None]], loc: Loc,
           default_file: str | None) -> tuple[str | None, int | None]:
    """File and line of ``loc``, or of its nearest recorded ancestor."""
    for n in range(len(loc), -1, -1):
        hit = lines.get(tuple(loc[:n]))
        if hit is not None:
            return hit
    return default_file, None


# --------------------------------------------------------------------------- guarded YAML


class _Refused(Exception):
    """Raised inside the loader when a safety limit is hit."""

    def __init__(self, line: int | None, message: str, path: str = "") -> None:
        super().__init__(message)
        self.line, self.message, self.path = line, message, path


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that counts values, aliases and nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(line, f"the file holds more than {MAX_NODES} values; refusing to read it")
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(line, f"more than {MAX_ALIASES} aliases (*name); refusing to read the file")
            return super().compose_node(parent, index)
        nested = isinstance(event, (SequenceStartEvent, MappingStartEvent))
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(line, f"nesting deeper than {MAX_DEPTH} levels; refusing to read the file")
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")}

# YAML 1.2 core schema for plain scalars (PyYAML reads YAML 1.1, where yes/no/on/off are booleans, 017 is
# octal, 1_000 is 1000, 1:30 is 90 and 1e3 is text).  Anything outside these forms stays text, so the
# strict schema refuses it where it wants a number or true/false.
_BOOL_12 = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_12 = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_12 = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


def _core_scalar(node: ScalarNode) -> Any:
    """The value of a plain scalar under YAML 1.2's core schema; ``NotImplemented`` for other tags."""
    text = node.value
    if node.tag == _TAG + "bool":
        return _BOOL_12.get(text, text)
    if node.tag == _TAG + "int":
        return int(text, 10) if _INT_12.match(text) else text
    if node.tag == _TAG + "float":
        special = _SPECIAL_12.get(text.lower())
        if special is not None:
            return special
        return float(text) if _FLOAT_12.match(text) else text
    if node.tag == _TAG + "str" and node.style is None and _FLOAT_12.match(text):
        return float(text)  # '1e3' (plain) is a number in YAML 1.2
    return NotImplemented


def _tag_message(tag: str) -> str:
    shown = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
    return (f"the YAML tag {shown!r} is not allowed: scenario files may hold only plain values, "
            "lists and mappings (nothing is run or built from tags)")


class _Builder:
    """Turns a composed node tree into plain Python data, recording lines.

    Aliases are expanded here, so the number of values built and the depth of
    nesting are counted again (a small file with nested aliases can expand to
    billions of values; we stop at :data:`MAX_NODES`).
    """

    def __init__(self, loader: _GuardedLoader, file: str | None) -> None:
        self.loader, self.file = loader, file
        self.lines: LineMap = {}
        self.count = 0
        self.active: set[int] = set()

    def fail(self, node: Node, message: str) -> _Refused:
        return _Refused(node.start_mark.line + 1, message)

    def build(self, node: Node, loc: Loc, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"aliases expand to more than {MAX_NODES} values; refusing to read the file")
        if isinstance(node, ScalarNode):
            if node.tag == _TAG + "value":  # a bare '=' is just text
                return node.value
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(node, _tag_message(node.tag))
            value = _core_scalar(node)
            if value is not NotImplemented:
                return value
            try:
                return SafeConstructor.yaml_constructors[node.tag](self.loader, node)
            except (ValueError, TypeError, yaml.YAMLError):
                what = "date" if node.tag == _TAG + "timestamp" else "value"
                raise self.fail(node, f"{node.value!r} is not a valid {what}") from None
        wanted = _TAG + ("seq" if isinstance(node, SequenceNode) else "map")
        if node.tag != wanted:
            raise self.fail(node, _tag_message(node.tag))
        if depth >= MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels (after expanding aliases)")
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to the value that contains it (a loop)")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                out_list = []
                for i, item in enumerate(node.value):
                    self.lines[loc + (i,)] = (self.file, item.start_mark.line + 1)
                    out_list.append(self.build(item, loc + (i,), depth + 1))
                return out_list
            return self.build_mapping(node, loc, depth)
        finally:
            self.active.discard(id(node))

    def build_mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges = [v for k, v in node.value if k.tag == _TAG + "merge"]
        for source in merges:  # YAML merge keys ('<<: *anchor'): explicit keys win
            parts = source.value if isinstance(source, SequenceNode) else [source]
            for part in reversed(parts):
                if not isinstance(part, MappingNode):
                    raise self.fail(part, "'<<' must be followed by a mapping or a list of mappings")
                out.update(self.build(part, loc, depth))
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a key must be a plain word, not a list or mapping")
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _Refused(line, f"duplicate key {_show(key, 40)}: it appears on line {seen[key]} and again "
                                     f"on line {line}", loc_to_path(loc + (key,)))
            seen[key] = line
            self.lines[loc + (key,)] = (self.file, line)
            out[key] = self.build(value_node, loc + (key,), depth + 1)
        return out


def _check_expansion(root: Node) -> None:
    """Refuse alias bombs and alias loops before expanding anything.

    Counts the values the tree would expand to, each distinct node once
    (memoised), so a 'billion laughs' document is rejected in microseconds.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if isinstance(node, ScalarNode):
            return 1
        line = node.start_mark.line + 1
        if key in active:
            raise _Refused(line, "an alias refers to the value that contains it (a loop)")
        if depth >= MAX_DEPTH:
            raise _Refused(line, f"nesting deeper than {MAX_DEPTH} levels (after expanding aliases)")
        active.add(key)
        children = node.value if isinstance(node, SequenceNode) else [n for kv in node.value for n in kv]
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise _Refused(line, f"aliases expand to more than {MAX_NODES} values; refusing to read the file")
        active.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def parse_yaml_text(text: str, file: str | None = None) -> tuple[Any, LineMap]:
    """Parse YAML text safely; return ``(data, lines)``.

    Raises :class:`ScenarioError` (naming ``file`` and the line) for syntax
    errors, forbidden tags, duplicate keys, alias bombs, deep nesting or text
    over 1 MiB.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ScenarioError.single(f"larger than {MAX_BYTES // 1024} KiB; refusing to read it", file=file)
    loader: _GuardedLoader | None = None
    try:
        loader = _GuardedLoader(text)
        root = loader.get_single_node()
        if root is None:
            return None, {}
        _check_expansion(root)
        builder = _Builder(loader, file)
        data = builder.build(root, (), 0)
    except _Refused as exc:
        raise ScenarioError.single(exc.message, file=file, line=exc.line, path=exc.path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s) or "unreadable YAML"
        raise ScenarioError.single(f"YAML syntax error: {what}", file=file,
                                   line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ScenarioError.single(f"the file contains a character that YAML does not allow "
                                   f"(U+{char:04X})", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError.single(f"unreadable YAML: {exc}", file=file) from None
    except RecursionError:
        raise ScenarioError.single("nesting too deep; refusing to read the file", file=file) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines = {loc: builder.lines[loc] for loc in _iter_locs(data) if loc in builder.lines}
    return data, lines


def read_yaml_file(path: str | Path) -> tuple[Any, LineMap]:
    """Read one YAML file safely (see :func:`parse_yaml_text`); return ``(data, lines)``."""
    path = Path(path)
    name = _display(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            raise ScenarioError.single("not a regular file (a pipe, device or folder cannot be read as YAML)",
                                       file=name)
        if info.st_size > MAX_BYTES:
            raise ScenarioError.single(f"larger than {MAX_BYTES // 1024} KiB; refusing to read it", file=name)
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError.single(f"cannot read the file: {exc.strerror or exc}", file=name) from None
    if len(raw) > MAX_BYTES:
        raise ScenarioError.single(f"larger than {MAX_BYTES // 1024} KiB; refusing to read it", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError.single("the file is not UTF-8 text (save it as UTF-8)", file=name, line=line) from None
    return parse_yaml_text(text, name)


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
    guess = _suggest(p.stem, names)
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
    for loc in _iter_locs(data):
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
        raise ScenarioError.single(f"extends must name a scenario file, got {_show(ref)}",
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
        loop = " -> ".join(_display(c) for c in chain + [parent_path])
        raise ScenarioError.single(f"extends makes a loop: {loop}", file=file, line=ext_line, path="extends")
    pdata, plines = _read_scenario_file(parent_path)
    pdata, plines = _resolve_extends(pdata, plines, _display(parent_path), parent_path.parent,
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
    return _require_mapping(data, _display(path)), lines


def _require_mapping(data: Any, file: str | None) -> dict[str, Any]:
    if data is None:
        raise ScenarioError.single("the scenario is empty; expected settings such as 'name: my_scenario'",
                                   file=file, line=1)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({_show(data)})"
        raise ScenarioError.single(f"the scenario must be a mapping of settings (key: value), not {kind}",
                                   file=file, line=1)
    return data


# --------------------------------------------------------------------------- schema introspection


def _unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _schema_at(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, Any]:
    """``(annotation, FieldInfo or None)`` at ``loc``; annotation None if unknown."""
    tp: Any = model
    finfo = None
    for seg in loc:
        tp = _unwrap(tp)
        if _is_model(tp) and isinstance(seg, str) and seg in tp.model_fields:
            finfo = tp.model_fields[seg]
            tp = finfo.annotation
        elif get_origin(tp) is list and isinstance(seg, int):
            tp, finfo = get_args(tp)[0], None
        else:
            return None, None
    return tp, finfo


def _type_name(tp: Any) -> str:
    """A plain-language name of a type."""
    if tp is None:
        return "a value"
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [a for a in get_args(tp) if a is not type(None)]
        name = " or ".join(_type_name(a) for a in parts)
        return name + " or null" if len(parts) < len(get_args(tp)) else name
    if origin is Literal:
        return "one of " + ", ".join(str(c) for c in get_args(tp))
    if origin is list:
        return f"a list (each item {_type_name(get_args(tp)[0])})" if get_args(tp) else "a list"
    if _is_model(tp):
        return "a mapping of settings"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, getattr(tp, "__name__", str(tp)))


def _bounds(finfo: Any) -> str | None:
    """``'>= 0 and <= 1'`` from a field's metadata (None if it has no bounds)."""
    if finfo is None:
        return None
    parts = []
    for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        for m in finfo.metadata:
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sign} {v:g}" if isinstance(v, (int, float)) else f"{sign} {v}")
    return " and ".join(parts) or None


def _length_rule(finfo: Any, unit: str) -> str | None:
    if finfo is None:
        return None
    lo = next((m.min_length for m in finfo.metadata if getattr(m, "min_length", None) is not None), None)
    hi = next((m.max_length for m in finfo.metadata if getattr(m, "max_length", None) is not None), None)
    parts = ([f"at least {lo}"] if lo is not None else []) + ([f"at most {hi}"] if hi is not None else [])
    return " and ".join(parts) + f" {unit}" if parts else None


_LEADING_PATH = re.compile(r"^(?P<path>[A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*) (?P<rest>.+)$")

_PATTERNS = {r"^[a-z][a-z0-9_]*$": "lowercase letters, digits and '_', starting with a letter"}


def _keys_of(tp: Any) -> list[str]:
    tp = _unwrap(tp)
    return list(tp.model_fields) if _is_model(tp) else []


# --------------------------------------------------------------------------- overrides


def _parse_override_path(text: str) -> list[str | int]:
    """``militia.groups[0].alignment`` -> ``['militia', 'groups', 0, 'alignment']``."""
    segs: list[str | int] = []
    for part in text.split("."):
        name, _, rest = part.partition("[")
        name = name.strip()
        if name:
            segs.append(int(name) if name.isdigit() else name)
        elif not rest:
            raise ValueError("empty part")
        if rest:
            for idx in ("[" + rest).split("[")[1:]:
                if not idx.endswith("]") or not idx[:-1].strip().isdigit():
                    raise ValueError("bad index")
                segs.append(int(idx[:-1]))
        elif not name:
            raise ValueError("empty part")
    return segs


def _dump_default(finfo: Any) -> Any:
    value = finfo.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return value


class _OverrideError(Exception):
    def __init__(self, message: str, allowed: str | None = None) -> None:
        super().__init__(message)
        self.message, self.allowed = message, allowed


def _apply_one(data: dict[str, Any], segs: list[str | int], raw: str, model: type[BaseModel],
               lines: LineMap | None) -> None:
    node: Any = data
    tp: Any = model
    loc: Loc = ()
    for n, seg in enumerate(segs):
        last = n == len(segs) - 1
        tp = _unwrap(tp)
        here = loc_to_path(loc) or "the scenario"
        if _is_model(tp):
            fields = list(tp.model_fields)
            if not isinstance(seg, str) or seg not in tp.model_fields:
                guess = _suggest(str(seg), fields)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise _OverrideError(f"{here} has no setting {str(seg)!r}{hint}", ", ".join(fields))
            if seg == "extends" and not loc:
                raise _OverrideError("extends can only be set in a scenario file, not with --set")
            finfo = tp.model_fields[seg]
            if not isinstance(node, dict):
                raise _OverrideError(f"cannot set inside {here}: it is {_show(node)}, not a mapping")
            if not last and node.get(seg) is None:  # not given yet: start from the default
                node[seg] = _dump_default(finfo)
            key: str | int = seg
            tp = finfo.annotation
        elif get_origin(tp) is list:
            if not isinstance(node, list):
                raise _OverrideError(f"cannot index {here}: it is {_show(node)}, not a list")
            item_tp = _unwrap(get_args(tp)[0])
            has_id = _is_model(item_tp) and "id" in item_tp.model_fields
            ids = [it.get("id") for it in node if isinstance(it, dict)] if has_id else []
            if isinstance(seg, int):
                if not 0 <= seg < len(node):
                    span = f"indexes 0 to {len(node) - 1}" if node else "none: the list is empty"
                    raise _OverrideError(f"{here} has no item [{seg}]", span)
                key = seg
            elif has_id and seg in ids:
                key = ids.index(seg)
            else:
                guess = _suggest(seg, [str(i) for i in ids]) if has_id else None
                hint = f"; did you mean {guess!r}?" if guess else ""
                what = "ids " + ", ".join(map(str, ids)) + " or indexes" if has_id else "indexes"
                span = f"0 to {len(node) - 1}" if node else "(list is empty)"
                raise _OverrideError(f"{here} has no item {seg!r}{hint}", f"{what} {span}")
            tp = item_tp
        else:
            raise _OverrideError(f"{here} is a single value; it has no part {seg!r}")
        loc = loc + (key,)
        if last:
            value = _parse_value(raw, tp)
            old = node[key] if isinstance(node, dict) and key in node else None
            if isinstance(node, list):
                old = node[key]
            new = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
            node[key] = new
            if lines is not None:
                if new is value:  # replaced: forget where the old sub-values came from
                    for stale in [k for k in lines if k[: len(loc)] == loc]:
                        del lines[stale]
                for sub in _iter_locs(value, loc):
                    lines[sub] = (SET_FILE, None)
        else:
            node = node[key]


def _parse_value(raw: str, tp: Any) -> Any:
    text = raw.strip()
    if _unwrap(tp) is str:
        if tp is not str and text in ("", "null", "~", "None"):  # optional text
            return None
        return text
    try:
        value, _ = parse_yaml_text(text, SET_FILE)
    except ScenarioError as exc:
        raise _OverrideError(f"cannot read the value {text!r}: {exc.problems[0].message}") from None
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
            segs = _parse_override_path(path_text)
        except ValueError:
            problems.append(Problem(SET_FILE, None, path_text, f"{path_text!r} is not a valid setting path",
                                    "dotted names with [index], e.g. militia.groups[0].alignment"))
            continue
        if not segs:
            problems.append(Problem(SET_FILE, None, "", f"missing setting name before '=' in {text!r}",
                                    "e.g. us.doctrine.proportionate.delay_days=3"))
            continue
        try:
            _apply_one(out, segs, raw, model, lines)
        except _OverrideError as exc:
            problems.append(Problem(SET_FILE, None, path_text, exc.message, exc.allowed))
    return out, problems


# --------------------------------------------------------------------------- validation


def _problem_from(error: Mapping[str, Any], model: type[BaseModel], lines: LineMap,
                  default_file: str | None) -> Problem:
    loc: Loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    given = error.get("input")
    msg = error.get("msg", "invalid value")
    tp, finfo = _schema_at(model, loc)
    file, line = _where(lines, loc, default_file)
    path = loc_to_path(loc)
    allowed: str | None = None

    if kind == "extra_forbidden":
        owner, _ = _schema_at(model, loc[:-1])
        keys = _keys_of(owner)
        guess = _suggest(str(loc[-1]), keys) if loc else None
        message = f"unknown key {_show(str(loc[-1]), 40)}" if loc else "unknown key"
        if guess:
            message += f"; did you mean {guess!r}?"
        allowed = ", ".join(keys) or None
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"):
        message = f"{_show(given)} is out of range"
        allowed = _bounds(finfo) or msg
    elif kind == "literal_error":
        choices = get_args(_unwrap(tp)) if get_origin(_unwrap(tp)) is Literal else ()
        message = f"{_show(given)} is not one of the choices"
        allowed = ", ".join(str(c) for c in choices) or str(error.get("ctx", {}).get("expected", ""))
    elif kind == "missing":
        message = "this setting is required but missing"
        allowed = _type_name(tp)
    elif kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        message = f"{_show(given)} is not a valid name"
        allowed = _PATTERNS.get(pattern, f"text matching {pattern}")
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        unit = "characters" if kind.startswith("string") else "items"
        count = f"{len(given)} {unit}" if isinstance(given, (str, list)) else "the wrong length"
        message = f"has {count}: too {'few' if kind.endswith('short') else 'many'}"
        allowed = _length_rule(finfo, unit) or msg
    elif kind in ("value_error", "assertion_error"):
        message = msg.split(", ", 1)[1] if msg.startswith(("Value error, ", "Assertion failed, ")) else msg
        # A whole-scenario check may name the place itself ("shocks[0].group 'x' is not ...")
        named = _LEADING_PATH.match(message)
        if named and ("." in named["path"] or "[" in named["path"]):
            try:
                inner = tuple(loc) + tuple(_parse_override_path(named["path"]))
            except ValueError:
                inner = None
            if inner is not None and inner in lines:
                file, line = lines[inner]
                path = loc_to_path(inner)
                message, _, allowed_text = named["rest"].partition("; allowed: ")
                allowed = allowed_text or None
    elif kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "date_from_datetime_inexact",
                                                          "model_attributes_type", "date_future", "date_past"):
        expected = _type_name(tp) if tp is not None else msg
        message = f"wrong type: {_show(given)} is not {expected}"
        allowed = expected
    else:
        message = msg
    return Problem(file, line, path, message, allowed)


def validate_data(data: Any, lines: LineMap | None = None, *, model: type[BaseModel] = Scenario,
                  file: str | None = None) -> Any:
    """``model.model_validate(data)``, with every error turned into a located :class:`Problem`.

    ``lines`` maps places to ``(file, line)``; ``file`` is used when a place
    has no recorded line.  Raises one :class:`ScenarioError` listing all problems.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = lines or {}
        problems = [_problem_from(e, model, lines, file) for e in exc.errors(include_url=False)]
    order: dict[str | None, int] = {}
    for p in problems:
        order.setdefault(p.file, len(order))
    problems.sort(key=lambda p: (order[p.file], p.line if p.line is not None else 10**9))
    raise ScenarioError(problems)


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
        file = _display(source)
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
