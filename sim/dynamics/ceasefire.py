"""Ceasefire windows (issue 11 item 2): announced truces, kept by the actors that observe them.

A window is a run of days, from the scenario's ``ceasefire`` block (dated
``windows``, and the truce in run days ``start_day``/``days``), with its
observers and an obedience.  :func:`open_close` runs in phase 1 of the day,
with the scripted shocks, in both engines:

* on a window's first day it logs ``ceasefire`` ``start`` (actor ``scenario``,
  target the window's name, ``value`` its obedience) and each observing group
  answers it: it *honours* the window with chance ``obedience``, else it
  *defies* it (rows ``ceasefire``, actor the group, outcome ``honoured`` or
  ``defied``).  The draw is made once per replicate and group, for the whole
  window, from a generator spawned from the state's (``Generator.spawn``), so
  the other draws of the day are the same whatever the obedience: for a window
  observed by militia groups only, obedience 0 gives the run without the window,
  day for day (an observing US or Iran holds fire whatever the groups do);
* on its last day it logs ``ceasefire`` ``end`` (``value`` its length in days);
* while windows are open, :class:`Truce` says who holds fire: groups honouring
  an open window attack at zero intensity (:func:`sim.dynamics.standdown.intensity_factor`);
  an observing Iran makes no direct attack (:func:`sim.dynamics.iran_step`); an
  observing United States decides no response and makes no strike that day --
  orders falling due are dropped (:func:`hold_fire`), a campaign under way
  skips the window's days -- except self-defence strikes on launch teams that
  attack (:mod:`sim.dynamics.options`): a group that defies the truce may
  still be fired on as it launches;
* :func:`provoked` (phase 5b, before the stand-down decisions): an honouring
  group that takes a blow today -- new revenge from strikes, as large as breaks a
  stand-down -- breaks the windows it honours (outcome ``broken``) and attacks
  again from the next day.

Sources (docs/ODD.md, 7.13): the Gaza humanitarian pause of 24-30 November 2023,
during which attacks on US forces in Iraq and Syria largely stopped; Kataib
Hezbollah's announced suspension of 30 January 2024, kept by some groups and
not by others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..compiled import Compiled
from ..schema import CEASEFIRE_ACTORS

MILITIAS, IRAN, US = CEASEFIRE_ACTORS

if TYPE_CHECKING:  # pragma: no cover
    from ..schema import Scenario
    from .state import State


@dataclass(frozen=True)
class Window:
    """One ceasefire window in days of the run (``first`` .. ``last``, both included)."""

    name: str
    first: int
    last: int
    groups: np.ndarray  # (G,) bool: the observing groups
    iran: bool
    us: bool
    obedience: float


def _specs(s: "Scenario") -> list[tuple[str, int, int, list[str], float]]:
    """(name, first day, last day, observers, obedience) of each window: dated ones, then the truce in run days."""
    cf = s.ceasefire
    specs = [(w.name, (w.start - s.start_date).days, (w.end - s.start_date).days, list(w.observers),
              cf.obedience if w.obedience is None else w.obedience) for w in cf.windows]
    if cf.days > 0:
        specs.append(("truce", cf.start_day, cf.start_day + cf.days - 1, list(cf.observers), cf.obedience))
    return specs


def summary(s: "Scenario") -> list[dict]:
    """The windows as the run summary shows them (dates, days, observers, obedience); [] if none."""
    day = dt.timedelta(days=1)
    return [{"name": name, "start": (s.start_date + first * day).isoformat(),
             "end": (s.start_date + last * day).isoformat(), "days": last - first + 1, "observers": observers,
             "obedience": obedience} for name, first, last, observers, obedience in _specs(s)]


def plan(c: Compiled) -> tuple[Window, ...]:
    """The scenario's ceasefire windows in days of the run (dated windows first, then the truce in run days)."""
    out = []
    for name, first, last, observers, obedience in _specs(c.scenario):
        groups = np.array([(MILITIAS in observers) or gid in observers for gid in c.group_ids], dtype=bool)
        out.append(Window(name, int(first), int(last), groups, IRAN in observers, US in observers,
                          float(obedience)))
    return tuple(out)


class Truce:
    """Who holds fire today in R replicates: the open windows and the groups honouring them."""

    def __init__(self, windows: tuple[Window, ...], replicates: int, groups: int, rng: np.random.Generator) -> None:
        self.windows = windows
        self.R, self.G = int(replicates), int(groups)
        self.rng = rng.spawn(1)[0]  # the honour draws: spawning leaves the state's own stream untouched
        self.open: dict[int, np.ndarray] = {}  # window number -> (R, G) groups honouring it
        self.honour = np.zeros((self.R, self.G), dtype=bool)
        self.any_honour = False
        self.us_holds = False
        self.iran_holds = False

    @classmethod
    def of(cls, c: Compiled, replicates: int, rng: np.random.Generator) -> "Truce | None":
        """The truce of a scenario, or None if it declares no window (nothing then changes in the day)."""
        windows = plan(c)
        return cls(windows, replicates, c.n_groups, rng) if windows else None

    def factor(self, groups: slice | np.ndarray) -> np.ndarray:
        """Multiplier on the attack intensity of ``groups`` (R, G'): 0 where a group honours an open window."""
        return np.where(self.honour[:, groups], 0.0, 1.0)


def open_close(st: "State") -> None:
    """Phase 1: open the windows starting today (with the groups' answers), close those that ended yesterday."""
    t = st.truce
    if t is None:
        return
    d = st.day
    for k in [k for k in t.open if t.windows[k].last < d]:
        del t.open[k]
    ids = np.asarray(st.c.group_ids, dtype=object)
    for k, w in enumerate(t.windows):
        if w.first == d:
            honour = w.groups[None, :] & (t.rng.random((t.R, t.G)) < w.obedience)
            t.open[k] = honour
            st.log(st.all, actor="scenario", kind="ceasefire", target=w.name, outcome="start", value=w.obedience)
            r, g = np.nonzero(np.broadcast_to(w.groups, (t.R, t.G)))
            st.log(r, actor=ids[g], kind="ceasefire", target=w.name,
                   outcome=np.where(honour[r, g], "honoured", "defied").astype(object))
        if w.last == d:
            st.log(st.all, actor="scenario", kind="ceasefire", target=w.name, outcome="end",
                   value=float(w.last - w.first + 1))
    t.honour = np.zeros((t.R, t.G), dtype=bool)
    for h in t.open.values():
        t.honour |= h
    t.any_honour = bool(t.honour.any())
    t.us_holds = any(t.windows[k].us for k in t.open)
    t.iran_holds = any(t.windows[k].iran for k in t.open)


def provoked(st: "State", groups: slice | np.ndarray) -> None:
    """Phase 5b, before the stand-down decisions: an honouring group among ``groups`` that took a blow today
    (new revenge of at least ``standdown.break_revenge``: ``standdown_rules.broken``, the rule that breaks a
    stand-down) breaks every window it honours, from the next day on (row ``ceasefire``, outcome ``broken``)."""
    from .. import standdown_rules as sr
    from .params import col

    t = st.truce
    if t is None:
        return
    g = np.arange(st.G)[groups]
    blow = st.provoked[:, g]
    if not st.standdowns_on:  # nobody else reads the day's blows: consume them here
        st.provoked[:, g] = 0.0
    if not t.any_honour:
        return
    brk = t.honour[:, g] & sr.broken(blow, col(st.p.standdown.break_revenge))
    if not brk.any():
        return
    ids = np.asarray(st.c.group_ids, dtype=object)
    for k, h in t.open.items():
        r, j = np.nonzero(h[:, g] & brk)
        if r.size:
            h[r, g[j]] = False
            st.log(r, actor=ids[g[j]], kind="ceasefire", target=t.windows[k].name, outcome="broken")
    t.honour[:, g] &= ~brk  # the rest of today (the attacks are over); from tomorrow open_close recombines
    t.any_honour = bool(t.honour.any())


def us_holds(st: "State") -> bool:
    """True if an open window is observed by the United States today."""
    return st.truce is not None and st.truce.us_holds


def hold_fire(st: "State") -> None:
    """Drop the US orders falling due today (proportionate, direct-response and leadership strikes)."""
    from .state import ORDER_RING

    slot = st.day % ORDER_RING
    st.pend_targets[slot].fill(0)
    st.pend_focus[slot].fill(0.0)
    st.pend_direct[slot].fill(0)
    if st.pend_leader is not None:
        st.pend_leader[slot].fill(False)


__all__ = ["Truce", "Window", "hold_fire", "open_close", "plan", "provoked", "summary", "us_holds"]
