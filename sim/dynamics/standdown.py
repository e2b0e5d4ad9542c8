"""Phase 5b of the day: stand-down decisions (issue 11 item 1), after the US has acted.

At the end of the day's exchanges (attacks, US decisions and strikes), before
the day's decay:

* :func:`iran_orders` -- Iran orders every group to stand down on the day its
  alarm (``standdown_rules.iran_alarm``: war risk, raised by US deaths and US
  strikes, plus host-government pressure) crosses ``standdown.iran_threshold``;
* :func:`group_standdowns` -- for each group (all at once in the ensemble, one
  Mesa agent at a time): its leadership's alarm (``heat_added``,
  ``leader_alarm``) and its own order on crossing ``leader_threshold``;
  standing-down groups end their stand-down by the hazard (``ends``) or have it
  broken by today's new revenge (``broken``); groups not standing down answer an
  Iranian order of today -- obey with ``obey_probability`` or defy.

A standing-down group attacks at ``residual`` of its intensity
(``standdown_factor``, applied in :func:`sim.dynamics.militia_attacks`) from the
next day on.  Nothing is scripted: every stand-down follows from the state.
Event rows: ``standdown_order`` (actor Iran or the group's id; target ``all``
or the group), ``standdown`` (actor the group; outcome ``obeyed``, ``defied``
or ``ordered`` for its own leadership's order), ``standdown_end`` (outcome
``expired`` or ``broken``; ``value`` its length in days).  Day counts:
``standdowns`` (stand-downs begun) and ``groups_stood_down`` (groups standing
down at the end of the day).
"""

from __future__ import annotations

import numpy as np

from .. import rules
from .. import options_rules as orl
from .. import standdown_rules as sr
from .ceasefire import provoked as truce_provoked
from .params import col
from .state import State

IRAN, LEADER = 1, 2
"""Who ordered a group's current stand-down (``State.sd_source``; 0 = none)."""


def iran_orders(st: State) -> None:
    """Iran's decision of the day: a stand-down order to every group on an upward crossing of its threshold."""
    sd = st.p.standdown
    if not st.standdowns_on:
        return
    alarm = sr.iran_alarm(st.war_risk, rules.host_pressure(st.host_exo, st.host_endogenous), sd.host_weight)
    st.iran_ordered_today = sr.crossed(st.iran_alarm_prev, alarm, sd.iran_threshold)
    st.iran_alarm_prev = alarm
    if st.iran_ordered_today.any():
        idx = np.flatnonzero(st.iran_ordered_today)
        st.log(idx, actor="Iran", kind="standdown_order", target="all", outcome="ordered", value=alarm[idx])


def group_standdowns(st: State, groups: slice | np.ndarray = slice(None)) -> None:
    """Leadership decisions, ends, breaks and answers to Iran's order for ``groups`` (see the module doc)."""
    truce_provoked(st, groups)  # a blow today may break a ceasefire the group honours (sim.dynamics.ceasefire)
    if not st.standdowns_on:
        return
    p, sd, d = st.p, st.p.standdown, st.day
    g = np.arange(st.G)[groups]
    rt = p.risk_tolerance[..., g]
    heat = st.heat[:, g] * col(rules.decay_factor(sd.alarm_half_life_days)) + sr.heat_added(
        st.g_fatal[:, g], rt, col(sd.alarm_per_fatal_attack))
    st.heat[:, g] = heat
    alarm = sr.leader_alarm(heat, rt, rules.host_pressure(st.host_exo, st.host_endogenous)[:, None],
                            col(sd.host_weight))
    own_order = sr.crossed(st.leader_alarm_prev[:, g], alarm, col(sd.leader_threshold))
    st.leader_alarm_prev[:, g] = alarm
    down = st.standing_down[:, g]
    provoked = st.provoked[:, g]
    st.provoked[:, g] = 0.0
    if down.any():
        u = st.rng.random(down.shape)
        brk = down & sr.broken(provoked, col(sd.break_revenge))
        end = down & (brk | sr.ends(u, col(sd.mean_days)))
        if end.any():
            r, j = np.nonzero(end)
            gg = g[j]
            st.standing_down[r, gg] = False
            st.sd_source[r, gg] = 0
            st.log(r, actor=np.asarray(st.c.group_ids, dtype=object)[gg], kind="standdown_end",
                   target=np.asarray(st.c.group_ids, dtype=object)[gg],
                   outcome=np.where(brk[r, j], "broken", "expired").astype(object),
                   value=(d - st.sd_start[r, gg]).astype(float))
            down = st.standing_down[:, g]
    # own leadership's order (a group already standing down just keeps standing down)
    new_own = own_order & ~down
    # Iran's order of today, answered by the groups not yet standing down
    iran = st.iran_ordered_today[:, None] & ~down & ~new_own
    obey = np.zeros_like(iran)
    if iran.any():
        prob = sr.obey_probability(p.alignment[..., g], st.revenge[:, g], st.grievance[:, g],
                                   col(sd.obedience_grievance_weight))
        obey = iran & (st.rng.random(iran.shape) < prob)
    start = new_own | obey
    if start.any():
        r, j = np.nonzero(start)
        gg = g[j]
        st.standing_down[r, gg] = True
        st.sd_source[r, gg] = np.where(new_own[r, j], LEADER, IRAN)
        st.sd_start[r, gg] = d
        st.n_standdowns += np.bincount(r, minlength=st.R)
    if st.events is not None and (new_own.any() or iran.any()):
        ids = np.asarray(st.c.group_ids, dtype=object)
        r, j = np.nonzero(new_own)
        st.log(r, actor=ids[g[j]], kind="standdown_order", target=ids[g[j]], outcome="ordered", value=alarm[r, j])
        r, j = np.nonzero(iran)
        st.log(r, actor=ids[g[j]], kind="standdown", target="US",
               outcome=np.where(obey[r, j], "obeyed", "defied").astype(object))
    st.n_groups_stood_down += st.standing_down[:, g].sum(axis=1)


def standdown_step(st: State) -> None:
    """Phase 5b for every group: Iran's order, then the groups' decisions."""
    iran_orders(st)
    group_standdowns(st)


def intensity_factor(st: State, groups: slice | np.ndarray) -> np.ndarray | float:
    """Multiplier on the intensity of ``groups`` (R, G'): ``residual`` where standing down, times the
    leadership-strike disruption (``options_rules.disruption_factor``); 1 if neither applies."""
    down = st.standing_down[:, groups]
    f = sr.standdown_factor(down, col(st.p.standdown.residual)) if down.any() else 1.0
    if st.leadership_on:
        f = f * orl.disruption_factor(st.day, st.disrupted_until[:, groups], col(st.p.leadership.disruption))
    if st.truce is not None and st.truce.any_honour:  # groups honouring a ceasefire window (sim.dynamics.ceasefire)
        f = f * st.truce.factor(groups)
    return f


__all__ = ["IRAN", "LEADER", "group_standdowns", "intensity_factor", "iran_orders", "standdown_step"]
