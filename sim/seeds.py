"""Load and validate the seed record ``seeds/events.yaml``.

The file holds ``events`` (one record per sourced fact or figure) and
``calibration_targets`` (figures the model must reproduce). See the comment
block at the top of the YAML file for the field vocabulary.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Literal, Optional

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "DEFAULT_PATH",
    "Bound",
    "Kind",
    "Event",
    "CalibrationTarget",
    "SeedFile",
    "load_seed_file",
    "load_events",
    "load_targets",
    "plot_points",
]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "seeds" / "events.yaml"

Bound = Literal["exact", "more_than", "at_least", "at_most", "none"]
Kind = Literal[
    "attacks_on_us_forces",
    "us_strike",
    "us_casualties",
    "militants_killed",
    "civilian_casualties",
    "strike_casualties",
    "statement",
    "direct_exchange",
]

_SNAKE = r"^[a-z][a-z0-9_]*$"
_SEED_NAME = r"^[A-Za-z0-9_.-]+\.txt$"


class _Dated(BaseModel):
    """Shared date fields: a single ``date`` and/or a ``start``/``end`` period."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    date: Optional[dt.date] = None
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None

    @model_validator(mode="after")
    def _check_dates(self):
        if self.date is None and self.end is None:
            raise ValueError("needs 'date' or 'end'")
        if self.start is not None and self.end is None:
            raise ValueError("'start' given without 'end'")
        if self.start is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if self.date is not None:
            if self.start is not None and self.date < self.start:
                raise ValueError("'date' precedes 'start'")
            if self.end is not None and self.date > self.end:
                raise ValueError("'date' follows 'end'")
        return self

    @property
    def ref_date(self) -> dt.date:
        """The date a point marker should use: ``date``, else ``end``."""
        return self.date if self.date is not None else self.end


def _check_value_bound(value: Optional[float], bound: str) -> None:
    if (value is None) != (bound == "none"):
        raise ValueError("'value' must be null exactly when 'bound' is 'none'")
    if value is not None and not math.isfinite(value):
        raise ValueError("'value' must be finite")


class Event(_Dated):
    """One sourced fact or figure."""

    id: str = Field(pattern=_SNAKE)
    actors: tuple[str, ...] = Field(min_length=1)
    kind: Kind
    quantity: Optional[str] = Field(default=None, pattern=_SNAKE)
    value: Optional[float] = Field(default=None, strict=True)
    bound: Bound
    location: tuple[str, ...] = Field(min_length=1)
    source: str = Field(pattern=_SEED_NAME)
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        _check_value_bound(self.value, self.bound)
        if self.value is not None and self.quantity is None:
            raise ValueError("'quantity' is required when 'value' is given")
        return self


class CalibrationTarget(_Dated):
    """A figure the model must reproduce, with its inequality ``bound``."""

    id: str = Field(pattern=_SNAKE)
    statistic: str = Field(pattern=_SNAKE)
    value: Optional[float] = Field(default=None, strict=True)
    bound: Bound
    sources: tuple[str, ...] = Field(min_length=1)
    note: Optional[str] = None

    @model_validator(mode="after")
    def _check(self):
        _check_value_bound(self.value, self.bound)
        return self

    def satisfied_by(self, x: float) -> bool:
        """True if ``x`` meets the target (more_than is strict; none always holds)."""
        if self.bound == "none":
            return True
        x = float(x)
        if self.bound == "more_than":
            return x > self.value
        if self.bound == "at_least":
            return x >= self.value
        if self.bound == "at_most":
            return x <= self.value
        return x == self.value  # exact


class SeedFile(BaseModel):
    """Whole file: events plus calibration targets, cross-checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: tuple[Event, ...] = Field(min_length=1)
    calibration_targets: tuple[CalibrationTarget, ...] = ()

    @model_validator(mode="after")
    def _check_ids(self):
        for label, items in (("event", self.events), ("target", self.calibration_targets)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"duplicate {label} id {item.id!r}")
                seen.add(item.id)
        event_ids = {e.id for e in self.events}
        for t in self.calibration_targets:
            missing = [s for s in t.sources if s not in event_ids]
            if missing:
                raise ValueError(f"target {t.id!r} cites unknown event id(s) {missing}")
        return self


def _resolve(path) -> Path:
    return DEFAULT_PATH if path is None else Path(path)


def _format_errors(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        lines.append(f"  {loc}: {e['msg']}")
    return "\n".join(lines)


def load_seed_file(path=None) -> SeedFile:
    """Read and strictly validate a seed YAML file; ``ValueError`` names the file if bad."""
    p = _resolve(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{p.name} ({p}): not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(
            f"{p.name} ({p}): top level must be a mapping with 'events' "
            f"and optional 'calibration_targets', got {type(raw).__name__}"
        )
    try:
        return SeedFile.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(
            f"{p.name} ({p}): invalid seed file, {exc.error_count()} error(s):\n"
            f"{_format_errors(exc)}"
        ) from exc


_EVENT_COLUMNS = [
    "id", "date", "start", "end", "actors", "kind", "quantity",
    "value", "bound", "location", "source", "note",
]


def load_events(path=None) -> pd.DataFrame:
    """Events as a DataFrame (one row per event; date/start/end as datetime64, value float)."""
    seed = load_seed_file(path)
    rows = [
        {**e.model_dump(), "actors": list(e.actors), "location": list(e.location)}
        for e in seed.events
    ]
    df = pd.DataFrame(rows, columns=_EVENT_COLUMNS)
    for col in ("date", "start", "end"):
        df[col] = pd.to_datetime(df[col])
    df["value"] = df["value"].astype(float)
    return df


def load_targets(path=None) -> list[CalibrationTarget]:
    """Calibration targets from the seed file, in file order."""
    return list(load_seed_file(path).calibration_targets)


def plot_points(path=None) -> pd.DataFrame:
    """Cumulative-attack markers for a fan chart.

    Columns: ``date`` (window end), ``cumulative_attacks`` (lower bound),
    ``bound``, ``start`` (window start, if any), ``label``.
    """
    rows = []
    for t in load_targets(path):
        if t.statistic != "cumulative_attacks" or t.value is None:
            continue
        if t.bound not in ("more_than", "at_least", "exact"):
            continue
        sign = {"more_than": ">", "at_least": ">=", "exact": "="}[t.bound]
        rows.append(
            {
                "date": t.ref_date,
                "cumulative_attacks": t.value,
                "bound": t.bound,
                "start": t.start,
                "label": f"{sign}{t.value:g} attacks by {t.ref_date.isoformat()}",
            }
        )
    df = pd.DataFrame(rows, columns=["date", "cumulative_attacks", "bound", "start", "label"])
    df["date"] = pd.to_datetime(df["date"])
    df["start"] = pd.to_datetime(df["start"])
    df["cumulative_attacks"] = df["cumulative_attacks"].astype(float)
    return df.sort_values("date", ignore_index=True)
