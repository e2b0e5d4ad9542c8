"""Phases 4 and 5 of the day: the United States decides, then acts (mechanism 3).

**Decide** -- ``rules.triggers`` on the day's militia casualties and the attacks
in the window; ``rules.approval_probability`` (with ``rules.host_pressure``);
then a campaign (if one is called for, campaigns are on and none is active:
``rules.campaign_active``, ``rules.campaign_first_wave``, focus on the groups
with fatal attacks) or, after the cooldown, a proportionate order
(``rules.casualty_score``, ``rules.proportionate_facilities``, focus
``rules.response_focus``) due after its delay; and an answer to a direct
Iranian attack, due after its delay.

**Act** -- the orders due today, in this order: proportionate
(``rules.owner_weights``), campaign day (``rules.campaign_day_targets``), direct
response (``rules.scope_weights``), then preemption (``rules.preemption_due``,
weights by the stocks left).  The first three depend on each other only
through the aimpoints left, so they are carried out in rounds: a replicate's
first strike of the day in round 0, its second in round 1, ...; preemption reads
the stocks they leave and comes last.  Each strike is :func:`.strike.strike`.
"""

from __future__ import annotations

import numpy as np

from .. import rules
from ..columns import CAMPAIGN, DIRECT_RESPONSE, PREEMPTIVE, PROPORTIONATE
from .ceasefire import hold_fire, us_holds
from .params import at
from .state import ORDER_RING, State
from .strike import strike


def window_attacks(st: State) -> np.ndarray:
    """Attacks within the last ``window_days`` days, today's included."""
    past = st.attack_ring.sum(axis=0) - st.attack_ring[st.day % st.window]
    return past + st.n_attacks


def us_decide(st: State) -> None:
    """Triggers, approval, a campaign or proportionate order (with cooldown), direct-response orders."""
    if us_holds(st):  # a ceasefire window the US observes (sim.dynamics.ceasefire)
        return
    d, p = st.day, st.p
    tr, cp, pp, us = p.triggers, p.campaign, p.proportionate, p.us
    inj, kil = st.n_militia_injured, st.n_militia_killed
    window = window_attacks(st) if np.any(np.asarray(tr.attack_count) > 0) else 0
    prop, camp = rules.triggers(inj, kil, window, st.on_injury, tr.injury_threshold, st.on_fatality, tr.attack_count)
    idx = np.flatnonzero(np.logical_or(prop, camp))
    if idx.size:
        prob = rules.approval_probability(at(tr.respond_probability, idx), st.domestic[idx], st.outside,
                                          rules.host_pressure(st.host_exo, st.host_endogenous[idx]),
                                          at(tr.pressure_gain, idx), at(tr.host_pressure_weight, idx))
        idx = idx[st.rng.random(idx.size) < prob]
    if idx.size:
        pressure = st.domestic[idx] + st.outside
        is_camp = (np.broadcast_to(camp, (st.R,))[idx] & st.campaigns_on
                   & ~rules.campaign_active(d, st.camp_start[idx], st.camp_end[idx]))
        ci = idx[is_camp]
        if ci.size:
            st.camp_start[ci] = d + at(cp.delay_days, ci)
            st.camp_end[ci] = st.camp_start[ci] + at(cp.days, ci)
            st.camp_first[ci] = rules.campaign_first_wave(kil[ci], pressure[is_camp], at(cp.first_wave_targets, ci),
                                                          at(cp.targets_per_fatality, ci), at(us.size_gain, ci))
            st.camp_focus[ci] = st.g_fatal[ci]
            st.campaign_order_targets[ci] = np.maximum(st.camp_first[ci], 1)
            st.log(ci, actor="US", kind="order", target="campaign", outcome="scheduled",
                   aimpoints=st.camp_first[ci], due_day=st.camp_start[ci])
        is_prop = ~is_camp & (d - st.last_prop_order[idx] >= at(pp.cooldown_days, idx))
        pi = idx[is_prop]
        if pi.size:
            focus = rules.response_focus(st.g_injury[pi], st.g_fatal[pi], st.g_attacks[pi])
            nfac = rules.proportionate_facilities(rules.casualty_score(inj[pi], kil[pi]), pressure[is_prop],
                                                  at(pp.facilities_base, pi), at(pp.facilities_per_casualty, pi),
                                                  at(pp.max_facilities, pi), at(us.size_gain, pi))
            due = d + at(pp.delay_days, pi)
            aim = nfac * at(pp.targets_per_facility, pi)
            st.pend_targets[due % ORDER_RING, pi] += aim
            st.pend_focus[due % ORDER_RING, pi] += focus
            st.last_prop_order[pi] = d
            st.prop_order_facilities[pi] = nfac
            st.log(pi, actor="US", kind="order", target="proportionate", outcome="scheduled", facilities=nfac,
                   aimpoints=aim, due_day=due)
    dr = p.direct_response
    if st.direct_target != "none" and st.iran_direct_today.any():
        di = np.flatnonzero(st.iran_direct_today)
        st.pend_direct[(d + at(dr.delay_days, di)) % ORDER_RING, di] += at(dr.targets, di)


def us_act(st: State) -> None:
    """The strikes due today (see the module doc); none, and today's orders dropped, under a ceasefire the US
    observes."""
    if us_holds(st):
        hold_fire(st)
        return
    d, p, c = st.day, st.p, st.c
    sc, pp, cp, dr, pe = p.scope, p.proportionate, p.campaign, p.direct_response, p.preemption
    irgc_share, iran_share = rules.strike_shares(st.irgc_in_scope, sc.irgc_share, st.iran_in_scope, sc.iran_share)
    slot = d % ORDER_RING
    spread = st.recent_attacks
    kinds = st.retaliation_kinds
    orders: list[tuple] = []  # (label code, replicates, targets, per facility, facility weights, munitions)
    due = st.pend_targets[slot]
    if due.any():
        idx = np.flatnonzero(due)
        w = rules.owner_weights(st.pend_focus[slot, idx], spread[idx], at(sc.focus_attacker, idx),
                                at(irgc_share, idx), at(iran_share, idx))
        orders.append((PROPORTIONATE, idx, due[idx].copy(), at(pp.targets_per_facility, idx),
                       w[:, c.fac_owner] * kinds, at(pp.munitions_per_target, idx)))
        due.fill(0)
        st.pend_focus[slot].fill(0.0)
    cs = st.camp_start
    on = (cs >= 0) & (cs <= d) & (d < st.camp_end)  # pre-filter; rules.campaign_day_targets decides
    if on.any():
        idx = np.flatnonzero(on)
        n = rules.campaign_day_targets(d, cs[idx], st.camp_end[idx], st.camp_first[idx], at(cp.follow_on_targets, idx),
                                       at(cp.follow_on_probability, idx), st.rng.random(idx.size))
        go = n > 0
        if go.any():
            idx, n = idx[go], n[go]
            w = rules.owner_weights(st.camp_focus[idx], spread[idx], at(sc.focus_attacker, idx),
                                    at(irgc_share, idx), at(iran_share, idx))
            orders.append((CAMPAIGN, idx, n, at(cp.targets_per_facility, idx), w[:, c.fac_owner] * kinds,
                           at(cp.munitions_per_target, idx)))
    pdr = st.pend_direct[slot]
    if pdr.any():
        idx = np.flatnonzero(pdr)
        w = rules.scope_weights(st.G, st.direct_target)[c.fac_owner] * kinds
        orders.append((DIRECT_RESPONSE, idx, pdr[idx].copy(), at(cp.targets_per_facility, idx),
                       np.broadcast_to(w, (idx.size, st.F)), at(dr.munitions_per_target, idx)))
        pdr.fill(0)
    _carry_out(st, orders)
    due_pe = rules.preemption_due(d, st.preemption_on, pe.start_day, pe.interval_days, pe.targets)
    if np.any(due_pe):
        idx = st.all if np.ndim(due_pe) == 0 else np.flatnonzero(due_pe)
        stock = st.stock_wrg[:, idx].sum(axis=0)
        w = rules.owner_weights(np.zeros_like(stock), stock, 0.0, at(irgc_share, idx), 0.0)
        strike(st, PREEMPTIVE, idx, at(pe.targets, idx), at(pe.targets_per_facility, idx),
               w[:, c.fac_owner] * st.preempt_kinds, at(pe.munitions_per_target, idx))


def _carry_out(st: State, orders: list[tuple]) -> None:
    """Strikes of several orders, in rounds so that each replicate's strikes keep their order."""
    if len(orders) == 1:
        strike(st, *orders[0])
        return
    if not orders:
        return
    label = np.concatenate([np.full(o[1].size, o[0]) for o in orders])
    idx = np.concatenate([o[1] for o in orders])
    n = np.concatenate([o[2] for o in orders])
    per = np.concatenate([np.broadcast_to(o[3], o[1].shape) for o in orders])
    weight = np.concatenate([o[4] for o in orders])
    mun = np.concatenate([np.broadcast_to(np.asarray(o[5], dtype=float), o[1].shape) for o in orders])
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = np.r_[True, sorted_idx[1:] != sorted_idx[:-1]]
    starts = np.flatnonzero(first)
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    for k in range(int(rank.max()) + 1):
        j = np.flatnonzero(rank == k)
        strike(st, label[j], idx[j], n[j], per[j], weight[j], mun[j])


__all__ = ["us_act", "us_decide", "window_attacks"]
