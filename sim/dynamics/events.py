"""The event log of the dynamics: typed columns, one row per event and replicate.

Rows are appended by the phases as column blocks (one block per call, with the
replicates it concerns) and assembled once, replicate-major in time order, by
:meth:`EventLog.frame`.  Columns: ``replicate, day, date`` and
:data:`sim.columns.EVENT_COLUMNS` -- text columns (:data:`~sim.columns.EVENT_TEXT`),
whole-number columns (:data:`~sim.columns.EVENT_COUNTS`, 0 where they do not
apply, ``due_day`` -1) and the float ``value``.

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

from typing import Any

import numpy as np
import pandas as pd

from ..columns import EVENT_COLUMNS, EVENT_COUNTS, EVENT_TEXT

_DEFAULT = {**{k: "" for k in EVENT_TEXT}, **{k: 0 for k in EVENT_COUNTS}, "due_day": -1, "value": 0.0}


class EventLog:
    """Column blocks of events, assembled on demand (see the module doc)."""

    def __init__(self) -> None:
        self._blocks: list[tuple[np.ndarray, int, dict[str, Any]]] = []

    def add(self, idx: Any, day: int, **fields: Any) -> None:
        """Events of replicates ``idx`` on ``day``; each field one value or one per replicate."""
        unknown = set(fields) - set(_DEFAULT)
        if unknown:
            raise KeyError(f"unknown event fields {sorted(unknown)}")
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size:
            self._blocks.append((idx, int(day), fields))

    def __len__(self) -> int:
        return sum(b[0].size for b in self._blocks)

    def rows(self, replicate: int = 0) -> list[dict[str, Any]]:
        """The events of one replicate as dicts (for display), in time order."""
        out = []
        for idx, day, fields in self._blocks:
            for j in np.flatnonzero(idx == replicate).tolist():
                row = {"day": day}
                for k in EVENT_COLUMNS[1:]:
                    v = fields.get(k, _DEFAULT[k])
                    row[k] = v[j] if isinstance(v, (np.ndarray, list)) else v
                out.append(row)
        return out

    def frame(self, dates: Any, first_replicate: int = 0) -> pd.DataFrame:
        """All events: ``replicate, day, date`` then :data:`EVENT_COLUMNS`, replicate-major in time order."""
        n = [b[0].size for b in self._blocks]
        total = int(sum(n))
        rep = np.concatenate([b[0] for b in self._blocks]) if total else np.zeros(0, dtype=np.int64)
        day = np.repeat(np.array([b[1] for b in self._blocks], dtype=np.int64), n)
        order = np.argsort(rep, kind="stable")
        dates = pd.to_datetime(pd.Series(list(dates))).values
        cols: dict[str, Any] = {"replicate": first_replicate + rep[order], "day": day[order],
                                "date": dates[day[order]] if total else dates[:0]}
        for key in EVENT_COLUMNS[1:]:
            default = _DEFAULT[key]
            dtype = object if isinstance(default, str) else (np.int64 if isinstance(default, int) else float)
            parts = [np.broadcast_to(np.asarray(f.get(key, default), dtype=dtype), (k,))
                     for (_, _, f), k in zip(self._blocks, n)]
            v = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
            cols[key] = v[order]
        frame = pd.DataFrame(cols)
        for key in EVENT_COLUMNS[1:]:
            if isinstance(_DEFAULT[key], str):
                frame[key] = frame[key].astype(object)
        return frame


def describe(row: dict[str, Any]) -> str:
    """A short text of an event's non-empty typed fields (for display only, e.g. the web page)."""
    parts = []
    for k in ("weapon", *EVENT_COUNTS, "previous", "value"):
        v = row.get(k)
        if v in ("", 0, 0.0, None) or (k == "due_day" and v == -1):
            continue
        parts.append(f"{k}={v}")
    return " ".join(parts)


__all__ = ["EventLog", "describe"]
