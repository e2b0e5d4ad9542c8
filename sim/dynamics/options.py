"""Phase 5a of the day: the US doctrine options of issue 11 item 5, after the day's strikes.

* **Self-defence strikes on launch teams** (``us.doctrine.self_defence``): each
  militia attack of today draws, with chance ``probability``, a strike on its
  launch team (``options_rules.team_strikes``), killing Poisson(``militants_per_strike``)
  militants; each strike adds revenge (``rules.revenge_added`` with
  ``militia.attack.revenge_per_militant``) and host-government pressure
  (``us.host_per_facility``).
* **Leadership strikes** (``us.doctrine.leadership``): a group whose attacks
  injured or killed US personnel today is marked, with chance ``probability``,
  for a strike on one of its commanders ``delay_days`` later
  (``options_rules.leadership_orders``); the strike kills the commander, adds
  ``revenge_per_leader`` to the group's revenge, host pressure
  ``host_per_strike``, and cuts the group's attack intensity by ``disruption``
  for ``disruption_days`` (``options_rules.disruption_factor``).

Both add to :attr:`State.provoked`, the new grievance that may break a stand-down
(:mod:`sim.dynamics.standdown`, which runs next).  Event rows: ``self_defence``
(actor US, target the group, ``launches`` the teams struck, ``militants_killed``)
and ``leadership`` (actor US, target the group, ``militants_killed`` 1).
"""

from __future__ import annotations

import numpy as np

from .. import options_rules as orl
from .. import rules
from .ceasefire import us_holds
from .params import at, col
from .state import ORDER_RING, State


def us_options(st: State) -> None:
    """Self-defence strikes on today's launch teams, leadership strikes due today, and new leadership orders."""
    if st.self_defence_on:
        _self_defence(st)
    if st.leadership_on and not us_holds(st):  # no leadership strike under a ceasefire the US observes
        _leadership(st)


def _ids(st: State, g: np.ndarray) -> np.ndarray:
    return np.asarray(st.c.group_ids, dtype=object)[g]


def _self_defence(st: State) -> None:
    sd, at_ = st.p.self_defence, st.p.attack
    if not st.g_attacks.any():
        return
    n = orl.team_strikes(st.g_attacks, col(sd.probability), st.rng)
    if not n.any():
        return
    r, g = np.nonzero(n)
    k = n[r, g]
    killed = st.rng.poisson(at(sd.militants_per_strike, r) * k)
    added = rules.revenge_added(0, killed, 0.0, at(at_.revenge_per_militant, r))
    np.add.at(st.revenge, (r, g), added)
    np.add.at(st.provoked, (r, g), added)
    per_rep = np.bincount(r, weights=k, minlength=st.R)
    st.host_endogenous += per_rep * st.p.us.host_per_facility
    st.n_militants_killed += np.bincount(r, weights=killed, minlength=st.R).astype(np.int64)
    st.n_team_strikes += per_rep.astype(np.int64)
    st.log(r, actor="US", kind="self_defence", target=_ids(st, g), outcome="struck", launches=k,
           militants_killed=killed)


def _leadership(st: State) -> None:
    lp, d = st.p.leadership, st.day
    hurt = (st.g_injury + st.g_fatal) > 0
    if hurt.any():
        order = orl.leadership_orders(hurt, col(lp.probability), st.rng.random(hurt.shape))
        if order.any():
            r, g = np.nonzero(order)
            due_day = d + at(lp.delay_days, r)
            st.pend_leader[due_day % ORDER_RING, r, g] = True
            st.log(r, actor="US", kind="order", target="leadership", outcome="scheduled", due_day=due_day)
    slot = d % ORDER_RING
    due = st.pend_leader[slot]
    if due.any():
        r, g = np.nonzero(due)
        due.fill(False)
        added = at(lp.revenge_per_leader, r)
        st.revenge[r, g] += added
        st.provoked[r, g] += added
        st.disrupted_until[r, g] = d + at(lp.disruption_days, r)
        per_rep = np.bincount(r, minlength=st.R)
        np.add.at(st.host_endogenous, r, at(lp.host_per_strike, r))
        st.n_militants_killed += per_rep
        st.n_leaders_killed += per_rep
        st.log(r, actor="US", kind="leadership", target=_ids(st, g), outcome="struck", militants_killed=1)


__all__ = ["us_options"]
