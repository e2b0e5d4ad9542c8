"""The guarded YAML reader: scenario files, sweep specs and ``--set`` values are read only through it.

* ``yaml.SafeLoader`` (no Python tags), at most 1 MiB, 100 aliases, 100 000
  values (after aliases are expanded) and 50 levels of nesting; duplicate keys
  are errors; only regular files are read (a FIFO would block).
* Plain scalars follow YAML 1.2's core schema: ``true``/``false`` are the only
  booleans (``yes``, ``no``, ``on``, ``off`` stay text), integers are decimal
  (``0o17``, ``1_000``, ``1:30`` stay text), ``1e3`` is a number.  The strict
  schema (:class:`sim.schema.Strict`) then refuses text where it wants a number
  or a switch.
* The line of every key and list item is recorded (a :data:`LineMap`), so a
  later error can name file and line.

Also the small helpers every input message uses (:func:`show_value`,
:func:`suggest`, :func:`where`, :func:`display_path`).
"""

from __future__ import annotations

import difflib
import json
import re
import stat
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence, Union

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.errors import ScenarioError

__all__ = ["MAX_BYTES", "MAX_ALIASES", "MAX_NODES", "MAX_DEPTH", "Loc", "LineMap", "loc_to_path", "show_value",
           "display_path", "suggest", "iter_locs", "where", "parse_yaml_text", "read_yaml_file"]

MAX_BYTES = 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 100_000
MAX_DEPTH = 50
MAX_EXTENDS = 20

Loc = tuple[Union[str, int], ...]
"""A place in the data, e.g. ``("militia", "groups", 1, "alignment")``."""

LineMap = dict[Loc, tuple[Union[str, None], Union[int, None]]]
"""Where each place came from: ``loc -> (file, line)``; ``--set`` has line None."""

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


def show_value(value: Any, limit: int = 60) -> str:
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


def display_path(path: Path) -> str:
    """A path as shown to the user: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest of ``choices`` to a misspelt ``word``, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def iter_locs(value: Any, prefix: Loc = ()) -> Iterator[Loc]:
    """Every place in nested dicts/lists, the root included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_locs(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_locs(v, prefix + (i,))


def where(lines: Mapping[Loc, tuple[str | None, int | None]], loc: Loc,
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
                raise _Refused(line, f"duplicate key {show_value(key, 40)}: it appears on line {seen[key]} and again "
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
    lines = {loc: builder.lines[loc] for loc in iter_locs(data) if loc in builder.lines}
    return data, lines


def read_yaml_file(path: str | Path) -> tuple[Any, LineMap]:
    """Read one YAML file safely (see :func:`parse_yaml_text`); return ``(data, lines)``."""
    path = Path(path)
    name = display_path(path)
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

