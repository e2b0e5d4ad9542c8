"""Validation of scenario data (and other schema models) with located, plain-language messages.

:func:`validate_data` runs pydantic (strict types, see :class:`sim.schema.Strict`)
and turns every error into a :class:`sim.errors.Problem` naming file, line,
setting, what is wrong and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from typing import Any, Literal, Mapping, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError
from sim.param_paths import is_model, parse_path, schema_at, unwrap
from sim.schema import Scenario
from sim.yaml_guard import LineMap, Loc, loc_to_path, show_value, suggest, where

__all__ = ["validate_data", "type_name"]


def type_name(tp: Any) -> str:
    """A plain-language name of a type."""
    if tp is None:
        return "a value"
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [a for a in get_args(tp) if a is not type(None)]
        name = " or ".join(type_name(a) for a in parts)
        return name + " or null" if len(parts) < len(get_args(tp)) else name
    if origin is Literal:
        return "one of " + ", ".join(str(c) for c in get_args(tp))
    if origin is list:
        return f"a list (each item {type_name(get_args(tp)[0])})" if get_args(tp) else "a list"
    if is_model(tp):
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
    tp = unwrap(tp)
    return list(tp.model_fields) if is_model(tp) else []


# --------------------------------------------------------------------------- validation


def _problem_from(error: Mapping[str, Any], model: type[BaseModel], lines: LineMap,
                  default_file: str | None) -> Problem:
    loc: Loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    given = error.get("input")
    msg = error.get("msg", "invalid value")
    tp, finfo = schema_at(model, loc)
    file, line = where(lines, loc, default_file)
    path = loc_to_path(loc)
    allowed: str | None = None

    if kind == "extra_forbidden":
        owner, _ = schema_at(model, loc[:-1])
        keys = _keys_of(owner)
        guess = suggest(str(loc[-1]), keys) if loc else None
        message = f"unknown key {show_value(str(loc[-1]), 40)}" if loc else "unknown key"
        if guess:
            message += f"; did you mean {guess!r}?"
        allowed = ", ".join(keys) or None
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"):
        message = f"{show_value(given)} is out of range"
        allowed = _bounds(finfo) or msg
    elif kind == "literal_error":
        choices = get_args(unwrap(tp)) if get_origin(unwrap(tp)) is Literal else ()
        message = f"{show_value(given)} is not one of the choices"
        allowed = ", ".join(str(c) for c in choices) or str(error.get("ctx", {}).get("expected", ""))
    elif kind == "missing":
        message = "this setting is required but missing"
        allowed = type_name(tp)
    elif kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        message = f"{show_value(given)} is not a valid name"
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
                inner = tuple(loc) + tuple(parse_path(named["path"]))
            except ValueError:
                inner = None
            if inner is not None and inner in lines:
                file, line = lines[inner]
                path = loc_to_path(inner)
                message, _, allowed_text = named["rest"].partition("; allowed: ")
                allowed = allowed_text or None
    elif kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "date_from_datetime_inexact",
                                                          "model_attributes_type", "date_future", "date_past"):
        expected = type_name(tp) if tp is not None else msg
        message = f"wrong type: {show_value(given)} is not {expected}"
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

