"""Parameter paths: the one way to name a place in a scenario.

Used by ``--set`` (:func:`sim.scenario_io.apply_overrides`), sweep factors
(:mod:`sim.sweep.spec`), calibration parameters (:mod:`sim.calibration.params`)
and the web page's controls.  A path is dotted names (``us.doctrine.proportionate.delay_days``);
an item of a list is addressed by index (``militia.groups[0]`` or
``militia.groups.0``) or, for items with an ``id`` (groups, bases), by id
(``militia.groups.kh.base_rate``), as ``escalation params`` lists them.  In
:func:`expand_path`, ``*`` in place of an id stands for every item.

The same walk (:func:`locate`) works on a :class:`~sim.schema.Scenario` and on
plain scenario data (dicts and lists, as read from YAML), guided by the schema,
so the rules and the error messages are the same everywhere.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Sequence, Union, get_args, get_origin

from pydantic import BaseModel

from sim.yaml_guard import Loc, loc_to_path, show_value, suggest

__all__ = ["PathError", "Place", "parse_path", "format_path", "locate", "expand_path", "get_value", "set_value",
           "unwrap", "is_model", "schema_at"]

format_path = loc_to_path
"""``("militia", "groups", 1, "alignment")`` -> ``militia.groups[1].alignment``."""


class PathError(ValueError):
    """A path that names no place of the scenario: ``message`` and what is ``allowed`` there."""

    def __init__(self, message: str, allowed: str | None = None) -> None:
        super().__init__(message)
        self.message, self.allowed = message, allowed


# --------------------------------------------------------------------------- schema types


def unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def schema_at(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, Any]:
    """``(annotation, FieldInfo or None)`` at ``loc``; annotation None if unknown."""
    tp: Any = model
    finfo = None
    for seg in loc:
        tp = unwrap(tp)
        if is_model(tp) and isinstance(seg, str) and seg in tp.model_fields:
            finfo = tp.model_fields[seg]
            tp = finfo.annotation
        elif get_origin(tp) is list and isinstance(seg, int):
            tp, finfo = get_args(tp)[0], None
        else:
            return None, None
    return tp, finfo


# --------------------------------------------------------------------------- parsing


def parse_path(text: str) -> list[str | int]:
    """``militia.groups[0].alignment`` -> ``['militia', 'groups', 0, 'alignment']`` (ValueError if malformed)."""
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


# --------------------------------------------------------------------------- the walk


@dataclass
class Place:
    """The end of a path: ``container[key]`` (or attribute ``key`` of a model), its schema type and location."""

    container: Any
    key: str | int
    annotation: Any
    loc: Loc

    def get(self) -> Any:
        if isinstance(self.container, BaseModel):
            return getattr(self.container, str(self.key))
        if isinstance(self.container, dict):
            return self.container.get(self.key)
        return self.container[self.key]

    def set(self, value: Any) -> None:
        """Set the value (no validation: validate the scenario afterwards)."""
        if isinstance(self.container, BaseModel):
            setattr(self.container, str(self.key), value)
        else:
            self.container[self.key] = value


def _item_id(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else getattr(item, "id", None)


def locate(root: Any, path: str | Sequence[str | int], model: type[BaseModel] | None = None, *,
           fill_defaults: bool = False) -> Place:
    """Walk ``path`` from ``root`` (a model instance, or plain data of ``model``); return the :class:`Place`.

    ``fill_defaults``: a mapping missing on the way in plain data is filled with
    the schema's default first (so ``--set`` can reach into a part a file left out).
    Raises :class:`PathError` naming the first part that does not exist, with a suggestion.
    """
    try:
        segs = parse_path(path) if isinstance(path, str) else list(path)
    except ValueError:
        raise PathError(f"{path!r} is not a valid setting path",
                        "dotted names with [index], e.g. militia.groups[0].alignment") from None
    if not segs:
        raise PathError("the path is empty", "e.g. us.doctrine.proportionate.delay_days")
    tp: Any = model if model is not None else type(root)
    node, loc = root, ()
    for n, seg in enumerate(segs):
        last = n == len(segs) - 1
        tp = unwrap(tp)
        here = loc_to_path(loc) or "the scenario"
        if is_model(tp):
            fields = list(tp.model_fields)
            if not isinstance(seg, str) or seg not in tp.model_fields:
                guess = suggest(str(seg), fields)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise PathError(f"{here} has no setting {str(seg)!r}{hint}", ", ".join(fields))
            finfo = tp.model_fields[seg]
            if isinstance(node, dict):
                if fill_defaults and not last and node.get(seg) is None:
                    node[seg] = _dump_default(finfo)
            elif not isinstance(node, BaseModel):
                raise PathError(f"cannot set inside {here}: it is {show_value(node)}, not a mapping")
            key: str | int = seg
            tp = finfo.annotation
        elif get_origin(tp) is list:
            if not isinstance(node, list):
                raise PathError(f"cannot index {here}: it is {show_value(node)}, not a list")
            item_tp = unwrap(get_args(tp)[0])
            has_id = is_model(item_tp) and "id" in item_tp.model_fields
            ids = [_item_id(it) for it in node] if has_id else []
            if isinstance(seg, int):
                if not 0 <= seg < len(node):
                    span = f"indexes 0 to {len(node) - 1}" if node else "none: the list is empty"
                    raise PathError(f"{here} has no item [{seg}]", span)
                key = seg
            elif has_id and seg in ids:
                key = ids.index(seg)
            else:
                guess = suggest(seg, [str(i) for i in ids]) if has_id else None
                hint = f"; did you mean {guess!r}?" if guess else ""
                what = "ids " + ", ".join(map(str, ids)) + " or indexes" if has_id else "indexes"
                span = f"0 to {len(node) - 1}" if node else "(list is empty)"
                raise PathError(f"{here} has no item {seg!r}{hint}", f"{what} {span}")
            tp = item_tp
        else:
            raise PathError(f"{here} is a single value; it has no part {seg!r}")
        loc = loc + (key,)
        if last:
            return Place(node, key, tp, loc)
        node = getattr(node, str(key)) if isinstance(node, BaseModel) else node[key]
    raise AssertionError("unreachable")  # pragma: no cover


def expand_path(path: str, root: Any, model: type[BaseModel] | None = None) -> list[str]:
    """``militia.groups.*.motivation`` -> one path per item id (``militia.groups.kh.motivation``, ...)."""
    if "*" not in path:
        return [path]
    head, _, tail = path.partition("*")
    if not head.endswith(".") or (tail and not tail.startswith(".")):
        raise PathError(f"{path!r}: '*' must stand for a whole part (the id of a group or base)")
    items = locate(root, head[:-1], model).get()
    ids = [_item_id(item) for item in items] if isinstance(items, list) else []
    if not ids or any(i is None for i in ids):
        raise PathError(f"{path!r}: '*' must stand for the id of a group or base")
    return [p for i in ids for p in expand_path(f"{head}{i}{tail}", root, model)]


def get_value(root: Any, path: str, model: type[BaseModel] | None = None) -> Any:
    """The value at ``path`` (for a ``*`` path: the first item's)."""
    return locate(root, expand_path(path, root, model)[0], model).get()


def set_value(root: Any, path: str, value: Any, model: type[BaseModel] | None = None) -> None:
    """Set ``path`` (every item's, for a ``*`` path) to ``value``, in place, without validation."""
    for concrete in expand_path(path, root, model):
        locate(root, concrete, model).set(value)
