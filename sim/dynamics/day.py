"""Phases 0, 1 and 6 of the day -- start of day, scripted shocks, end of day -- and the day in order.

:func:`run_day` is the whole day for every replicate, the order the Mesa model
follows with its agents (see :mod:`sim.model`):

0. :func:`start_day` -- the day's drivers from the compiled series; day counts reset;
   the exchange that left the ladder's memory is dropped; injuries diagnosed late
   (``rules.delayed_diagnoses``) and due today are reported;
1. :func:`apply_shocks` -- scripted events of the day, forced in every replicate;
2. :func:`.iran.iran_step`;
3. :func:`.militia.militia_attacks`;
4. :func:`.us.us_decide`;
5. :func:`.us.us_act` (strikes: :func:`.strike.strike`);
5a. :func:`.options.us_options` -- self-defence and leadership strikes;
5b. :func:`.standdown.standdown_step` -- stand-down orders, ends, breaks, obedience;
6. :func:`end_of_day` -- ``rules.hawkes_excitation``, decay of revenge, grievance,
   credibility, pressures, war risk and hostility (the compiled retention
   factors), ``rules.leaky`` recent attacks, the ladder (``rules.ladder_rung``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import rules
from ..schema import WEAPONS
from .ceasefire import open_close
from .iran import iran_direct_attack, iran_step
from .militia import militia_attacks, record_scripted_attack
from .params import col
from .state import State
from .options import us_options
from .standdown import standdown_step
from .strike import strike
from .us import us_act, us_decide

_RUNG_NAMES = np.asarray(rules.RUNG_NAMES, dtype=object)


def start_day(st: State) -> bool:
    """Advance to the next day; False (and nothing done) once the horizon is reached."""
    c = st.c
    if st.day + 1 >= c.days:
        return False
    st.day += 1
    d = st.day
    st.tension = float(c.tension[d])
    st.outside = float(c.outside[d])
    st.host_exo = float(c.host_exogenous[d])
    st.counts.fill(0)
    st.gcounts.fill(0)
    st.iran_direct_today.fill(False)
    st.iran_ordered_today.fill(False)
    st.prop_order_facilities.fill(0)
    st.campaign_order_targets.fill(0)
    slot = d % st.mem  # day d - memory leaves the ladder's window
    old = st.exch_ring[slot]
    if old.any():
        st.exch_in_memory -= old
        old.fill(0)
    st.report_diagnoses()
    return True


def apply_shocks(st: State) -> None:
    """Mechanism 7: the scenario's scripted events of today, forced in every replicate; ceasefire windows
    opening or closing today (:func:`.ceasefire.open_close`)."""
    open_close(st)
    for sh in st.c.shocks_by_day.get(st.day, ()):
        apply_shock(st, sh)


def apply_shock(st: State, sh: Any) -> None:
    """One scripted event (tension and outside-pressure shocks are already in the compiled series)."""
    c = st.c
    gidx = c.group_ids.index(sh.group) if sh.group else None
    bidx = c.base_ids.index(sh.base) if sh.base else None
    st.log(st.all, actor="scenario", kind="shock", target=sh.group or sh.base or (sh.scope if sh.kind == "strike" else ""),
           outcome=sh.kind, injured=sh.injured, killed=sh.killed, aimpoints=sh.targets, value=float(sh.value))
    if sh.kind == "attack":
        record_scripted_attack(st, gidx if gidx is not None else 0, WEAPONS.index(sh.weapon), bidx, sh.injured,
                               sh.killed)
    elif sh.kind == "strike" and sh.targets > 0:
        from ..columns import SCRIPTED

        cp = st.p.campaign
        w = rules.scope_weights(st.G, sh.scope, gidx)[c.fac_owner] * st.retaliation_kinds
        strike(st, SCRIPTED, st.all, sh.targets, cp.targets_per_facility, w, cp.munitions_per_target)
    elif sh.kind == "iran_direct":
        forced = sh.injured > 0 or sh.killed > 0  # otherwise the salvo is drawn as for any direct attack
        iran_direct_attack(st, st.all, bidx, sh.injured if forced else None, sh.killed if forced else None)


def end_of_day(st: State) -> None:
    """Memory, decay and the ladder at the end of the day."""
    p, ret, lad, d = st.p, st.p.ret, st.p.ladder, st.day
    st.attack_ring[d % st.window] = st.n_attacks
    st.cumulative_attacks += st.n_attacks
    st.excitation = rules.hawkes_excitation(st.excitation, st.g_successes, col(p.attack.excitation_jump),
                                            col(ret["excitation"]))
    st.revenge *= col(ret["revenge"])
    st.grievance *= col(ret["grievance"])
    st.tempo *= ret["tempo"]
    st.recent_attacks = rules.leaky(st.recent_attacks, st.g_attacks, ret["recent"])
    st.credibility *= ret["credibility"]
    st.dose_memory *= ret["credibility"]
    st.domestic *= ret["domestic"]
    st.host_endogenous *= ret["host"]
    st.war_risk *= ret["war_risk"]
    st.hostility *= ret["hostility"]
    rung = rules.ladder_rung(d - st.last_event, st.exch_in_memory, lad.harassment_days, lad.memory_days,
                             lad.regional_war_exchanges)
    if st.events is not None:
        moved = np.flatnonzero(rung != st.rung)
        new, old = rung[moved], st.rung[moved]
        st.log(moved, actor="ladder", kind="rung", target=_RUNG_NAMES[new],
               outcome=np.where(new > old, "up", "down").astype(object), previous=_RUNG_NAMES[old])
    st.rung = rung
    np.maximum(st.max_rung, rung, out=st.max_rung)


def run_day(st: State) -> bool:
    """One whole day for every replicate; False once the horizon is reached."""
    if not start_day(st):
        return False
    apply_shocks(st)
    iran_step(st)
    militia_attacks(st)
    us_decide(st)
    us_act(st)
    us_options(st)
    standdown_step(st)
    end_of_day(st)
    return True


__all__ = ["apply_shock", "apply_shocks", "end_of_day", "run_day", "start_day"]
