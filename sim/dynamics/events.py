"""The event log of the dynamics: compact typed columns, one row per event and replicate.

Rows are appended by the phases as column blocks (one block per call, with the
replicates it concerns) and assembled once, replicate-major in time order, by
:meth:`EventLog.frame`.  Columns: ``replicate, day, date`` and
:data:`sim.columns.EVENT_COLUMNS` -- text columns (:data:`~sim.columns.EVENT_TEXT`),
whole-number columns (:data:`~sim.columns.EVENT_COUNTS`, 0 where they do not
apply, ``due_day`` -1) and the float ``value``.

Memory: a block is encoded when it is added -- text as integer codes into the
log's vocabulary, whole numbers in the narrowest of
:data:`~sim.columns.EVENT_COUNT_DTYPES` that holds them, a value shared by the
whole block kept once -- so an event costs a few tens of bytes, never a Python
object.  :meth:`EventLog.frame` gives the text columns as pandas categoricals
sharing one dtype (the sorted distinct texts of the log and "", so that text
columns compare with each other and group alike; a column's categories may hold
texts it never takes: ``groupby(..., observed=True)``, the default from pandas 3,
and ``value_counts()`` after ``cat.remove_unused_categories()`` show only those it
takes), whole numbers in the narrowest dtype that holds them (cast to a wider one
before arithmetic that may exceed it), and ``replicate``/``day`` as
:data:`~sim.columns.EVENT_REPLICATE_DTYPE`/:data:`~sim.columns.EVENT_DAY_DTYPE`;
:func:`concat_events` joins such frames keeping them categorical.

Rows by ``kind``:

* ``attack`` -- one per (replicate, group, weapon) with launches that day:
  ``target`` the bases aimed at (joined by ``+``), ``outcome`` the worst
  outcome, ``launches``, ``intercepted``, ``injured``, ``killed``;
* strikes (``proportionate``, ``campaign``, ``direct_response``, ``preemptive``,
  ``scripted``) -- one per strike: ``target`` the owners struck, ``outcome``
  ``struck`` or ``no_target``, ``facilities``, ``aimpoints`` (requested ones for
  ``no_target``), ``munitions``, ``destroyed``, ``militants_killed``,
  ``irgc_killed``, ``civilian_harm``, ``in_iran``;
* ``order`` -- ``target`` proportionate or campaign, ``facilities``/``aimpoints``
  ordered, ``due_day``;
* ``diagnosis`` -- injuries diagnosed late (``rules.delayed_diagnoses``), reported
  on their report day: ``injured``;
* ``shock``, ``scripted_attack``, ``direct_attack`` (``launches`` = missiles),
  ``ceasefire`` (:mod:`sim.dynamics.ceasefire`) and ``rung`` (``target`` the new
  rung, ``previous`` the old one).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from ..columns import (EVENT_COLUMNS, EVENT_COUNT_DTYPES, EVENT_COUNTS, EVENT_DAY_DTYPE, EVENT_DEFAULTS,
                       EVENT_REPLICATE_DTYPE, EVENT_TEXT)

_NARROW, _WIDE = EVENT_COUNT_DTYPES
_TEXT = frozenset(EVENT_TEXT)
_RANGES = tuple((int(np.iinfo(d).min), int(np.iinfo(d).max), d) for d in EVENT_COUNT_DTYPES)  # np.iinfo is slow
_NARROW_MIN, _NARROW_MAX = _RANGES[0][:2]


def _whole(key: str, values: np.ndarray) -> np.ndarray:
    """Whole numbers in the narrowest of :data:`EVENT_COUNT_DTYPES` that holds them (never wrapped)."""
    if not np.issubdtype(values.dtype, np.integer):
        values = values.astype(np.int64)
    if values.size == 0:
        return values.astype(_NARROW)
    lo, hi = int(values.min()), int(values.max())
    for low, high, dtype in _RANGES:
        if low <= lo and hi <= high:
            return values.astype(dtype, copy=False)
    raise OverflowError(f"event column {key!r}: {lo if lo < np.iinfo(_WIDE).min else hi} does not fit in {_WIDE}")


class EventLog:
    """Encoded column blocks of events, assembled on demand (see the module doc)."""

    def __init__(self) -> None:
        self._blocks: list[tuple[np.ndarray, int, dict[str, Any]]] = []
        self._vocab: dict[str, int] = {}  # text -> code, shared by the text columns
        self._size = 0

    # ------------------------------------------------------------------ recording

    def add(self, idx: Any, day: int, **fields: Any) -> None:
        """Events of replicates ``idx`` on ``day``; each field one value or one per replicate."""
        unknown = set(fields) - set(EVENT_DEFAULTS)
        if unknown:
            raise KeyError(f"unknown event fields {sorted(unknown)}")
        idx = np.atleast_1d(np.asarray(idx))
        if not idx.size:
            return
        n = idx.size
        encoded = {key: self._encode(key, value, n) for key, value in fields.items()}
        self._blocks.append((idx.astype(EVENT_REPLICATE_DTYPE), int(day), encoded))
        self._size += n

    def _code(self, text: str) -> int:
        code = self._vocab.get(text)
        if code is None:
            code = self._vocab[text] = len(self._vocab)
        return code

    def _encode(self, key: str, value: Any, n: int) -> Any:
        """A field as stored: a Python scalar for one value, else an array of ``n`` codes or numbers."""
        if key in _TEXT:
            if isinstance(value, str):
                return self._code(value)
            texts = np.asarray(value, dtype=object).ravel()
            if texts.size <= 8 and all(isinstance(t, str) for t in texts):  # a few (Mesa): same codes, no factorize
                codes = np.array([self._code(str(t)) for t in texts], dtype=np.int32)
            else:
                values, uniques = pd.factorize(texts)
                lut = np.fromiter((self._code(str(u)) for u in uniques), dtype=np.int32, count=len(uniques))
                codes = lut[values]
            array = codes.astype(_NARROW if len(self._vocab) <= _NARROW_MAX else _WIDE)
        elif isinstance(EVENT_DEFAULTS[key], float):
            array = np.asarray(value, dtype=np.float64)
            if array.ndim == 0:
                return float(array)
        else:
            array = np.asarray(value)
            if array.ndim == 0:
                return int(_whole(key, array.reshape(1))[0])
            array = _whole(key, array.ravel())
        if array.size == 1 and n != 1:
            return array[0].item()
        if array.size != n:
            raise ValueError(f"event field {key!r} has {array.size} values for {n} events")
        return array

    def __len__(self) -> int:
        return self._size

    # ------------------------------------------------------------------ reading

    def rows(self, replicate: int = 0) -> list[dict[str, Any]]:
        """The events of one replicate as dicts (for display), in time order."""
        texts = list(self._vocab)
        out = []
        for idx, day, fields in self._blocks:
            for j in np.flatnonzero(idx == replicate).tolist():
                row: dict[str, Any] = {"day": day}
                for k in EVENT_COLUMNS[1:]:
                    v = fields.get(k)
                    if v is None:
                        row[k] = EVENT_DEFAULTS[k]
                        continue
                    v = v[j].item() if isinstance(v, np.ndarray) else v
                    row[k] = texts[v] if k in _TEXT else v
                out.append(row)
        return out

    def frame(self, dates: Any, first_replicate: int = 0, *, release: bool = False) -> pd.DataFrame:
        """All events: ``replicate, day, date`` then :data:`EVENT_COLUMNS`, replicate-major in time order.

        ``release``: empty the log while the table is built, so the two are not held at once.
        """
        return next(self.frames(dates, first_replicate, release=release))

    def frames(self, dates: Any, first_replicate: int = 0, *, per: int | None = None,
               release: bool = False) -> Iterator[pd.DataFrame]:
        """The table of :meth:`frame` in consecutive parts of whole replicates, made one at a time: replicate
        numbers (counted from ``first_replicate``) from one multiple of ``per`` to the next (one part if None).

        Only one part is held beside the log's encoded blocks, which are read
        column by column: where a block gave one value for all its events, that
        value is stored once.  ``release`` empties the log first.
        """
        blocks = self._blocks
        sizes = np.array([b[0].size for b in blocks], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        rep = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, dtype=EVENT_REPLICATE_DTYPE)
        block_day = np.array([b[1] for b in blocks], dtype=EVENT_DAY_DTYPE)
        fields = [b[2] for b in blocks]
        texts = list(self._vocab)
        if release:
            self._blocks, self._size, self._vocab = [], 0, {}
            del blocks
        columns = {key: _Column(key, fields, release) for key in EVENT_COLUMNS[1:]}
        del fields
        # one categorical dtype for every text column: the log's texts and "" (the default), sorted;
        # rank[code] is a text's category, rank[-1] that of "" (the code -1 of a text column left out)
        categories = sorted({*texts, ""})
        where = {t: i for i, t in enumerate(categories)}
        rank = np.array([where[t] for t in texts] + [where[""]], dtype=np.int32)
        text_dtype = pd.CategoricalDtype(pd.Index(categories, dtype=object))
        dates = pd.to_datetime(pd.Series(list(dates))).values
        order = np.argsort(rep, kind="stable")
        rep = rep[order]
        first = EVENT_REPLICATE_DTYPE.type(first_replicate)
        if per is None or rep.size == 0:
            cuts = [0, rep.size]
        else:
            lo, hi = int(first) + int(rep[0]), int(first) + int(rep[-1]) + 1
            edges = np.arange((lo // per + 1) * per, hi, per) - int(first)
            cuts = [0, *np.searchsorted(rep, edges).tolist(), rep.size]
        for a, b in zip(cuts[:-1], cuts[1:]):
            at = order[a:b]
            block = np.searchsorted(starts, at, side="right") - 1
            within = at - starts[block]
            day = block_day[block]
            cols: dict[str, Any] = {"replicate": rep[a:b] + first, "day": day, "date": dates[day]}
            for key, column in columns.items():
                values = column.take(block, within)
                cols[key] = (pd.Categorical.from_codes(rank[values], dtype=text_dtype, validate=False)
                             if key in _TEXT else values)
            yield pd.DataFrame(cols, copy=False)


class _Column:
    """One event column of a log's blocks: the values of the blocks that gave one per event, joined
    (``dense``), and per block its offset into them or -1 and its single value (``single``)."""

    def __init__(self, key: str, fields: list[dict[str, Any]], release: bool) -> None:
        text = key in _TEXT
        default = -1 if text else EVENT_DEFAULTS[key]  # a text column left out: code -1, the text ""
        self.offset = np.full(len(fields), -1, dtype=np.int64)
        single, parts, at = [], [], 0
        for b, f in enumerate(fields):
            v = f.pop(key, None) if release else f.get(key)
            if isinstance(v, np.ndarray):
                parts.append(v)
                self.offset[b] = at
                at += v.size
                v = None
            single.append(default if v is None else v)
        self.single = np.array(single, dtype=np.float64 if isinstance(default, float) else np.int64)
        self.dense = np.concatenate(parts) if parts else np.zeros(0, dtype=_NARROW)
        self.single_blocks = len(fields) - len(parts)
        del parts
        if isinstance(default, float):
            self.dtype = np.dtype(np.float64)
        elif text or self.dense.dtype == _WIDE or (self.single.size and not (
                np.iinfo(_NARROW).min <= self.single.min() and self.single.max() <= np.iinfo(_NARROW).max)):
            self.dtype = _WIDE  # codes (categories are made from them) and whole numbers that need it
        else:
            self.dtype = _NARROW

    def take(self, block: np.ndarray, within: np.ndarray) -> np.ndarray:
        """The values of the events ``within`` their ``block``."""
        if not self.dense.size:
            return self.single.astype(self.dtype)[block]
        offset = self.offset[block]
        dense = np.take(self.dense, offset + within, mode="clip")  # clipped where offset is -1: not used
        if self.single_blocks == 0:
            return dense.astype(self.dtype, copy=False)
        return np.where(offset >= 0, dense, self.single.astype(self.dtype)[block]).astype(self.dtype, copy=False)


class EventParts:
    """Event logs handed over as frames of whole replicates (:meth:`EventLog.frames`, ``per`` replicates),
    each made when it is reached; one reading, which empties the logs.

    ``logs``: (log, dates, first replicate) of consecutive logs.
    """

    def __init__(self, logs: Iterable[tuple[EventLog, Any, int]], per: int) -> None:
        self._logs: list | None = list(logs)
        self.per = int(per)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        logs, self._logs = self._logs, None
        if logs is None:
            raise RuntimeError("these event parts were read already")
        while logs:
            log, dates, first = logs.pop(0)
            yield from log.frames(dates, first, per=self.per, release=True)
            del log


def concat_events(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame | None:
    """Event logs joined (``ignore_index``); their categorical text columns keep one categorical dtype, the
    union of their texts, sorted (as :meth:`EventLog.frame` gives one log)."""
    frames = [f for f in frames if f is not None]
    if len(frames) < 2:
        return frames[0] if frames else None
    cols = [c for c in frames[0].columns if all(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames)]
    if cols:
        texts = sorted(set().union(*(f[c].cat.categories for f in frames for c in cols)))
        dtype = pd.CategoricalDtype(pd.Index(texts, dtype=object))
        frames = [f.astype(dict.fromkeys(cols, dtype)) for f in frames]
    return pd.concat(frames, ignore_index=True)


def describe(row: dict[str, Any]) -> str:
    """A short text of an event's non-empty typed fields (for display only, e.g. the web page)."""
    parts = []
    for k in ("weapon", *EVENT_COUNTS, "previous", "value"):
        v = row.get(k)
        if v in ("", 0, 0.0, None) or (k == "due_day" and v == -1):
            continue
        parts.append(f"{k}={v}")
    return " ".join(parts)


__all__ = ["EventLog", "EventParts", "concat_events", "describe"]
