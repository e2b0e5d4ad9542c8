"""Phase 2 of the day: Iran (mechanism 5) -- restraint, rebuilding, resupply, direct attacks.

``rules.restraint_update`` moves Iran's restraint on its proxies towards the
level its war risk calls for; ``rules.rebuild`` restores destroyed aimpoints
(only in replicates where one was ever destroyed: the others are exactly
intact).  Health, a linear share of the aimpoints, follows the same rule with
total 1, which equals ``rules.health`` of the rebuilt aimpoints up to float
rounding (health is recomputed from the aimpoints after every strike).
``rules.resupply`` refills each group's stocks.  Past a red line
(``rules.red_line_crossed``) Iran attacks US forces directly with chance
``rules.direct_action_probability``: see :func:`iran_direct_attack`.
"""

from __future__ import annotations

import numpy as np

from .. import rules
from ..columns import LOGI, MISSILE, RM_STORE
from .params import at, col, pick
from .sampling import categorical
from .state import State


def _per_rep(x, n_axes: int):
    """A scalar parameter shaped (n, 1, ..) against arrays with ``n_axes`` trailing axes."""
    return x.reshape(x.shape + (1,) * n_axes) if isinstance(x, np.ndarray) and x.ndim else x


def iran_step(st: State) -> None:
    """Restraint, rebuilding, resupply and (past a red line) a chance of a direct attack."""
    c, ir, G = st.c, st.p.iran, st.G
    st.restraint = rules.restraint_update(st.restraint, st.war_risk, ir.restraint_min, ir.restraint_max,
                                          ir.restraint_threshold, ir.restraint_slope, ir.restraint_speed)
    rate = ir.rebuild_rate
    if np.any(np.asarray(rate) > 0) and st.damaged.any():
        # undamaged replicates are exactly intact, where the rule leaves them unchanged (t + r * 0 = t):
        # past half the replicates, one pass over all is cheaper than gathering the damaged ones
        if 2 * np.count_nonzero(st.damaged) >= st.R:
            st.intact = rules.rebuild(st.intact, c.fac_total, _per_rep(rate, 1))
            st.health = rules.rebuild(st.health, 1.0, _per_rep(rate, 2))
        else:
            idx = np.flatnonzero(st.damaged)
            r = at(rate, idx)
            st.intact[idx] = rules.rebuild(st.intact[idx], c.fac_total, _per_rep(r, 1))
            st.health[idx] = rules.rebuild(st.health[idx], 1.0, _per_rep(r, 2))
    h = st.health
    # rules.resupply is elementwise: called here on weapon-major (W, R, G) arrays
    st.stock_wrg = rules.resupply(st.stock_wrg, st.full.T[:, None, :], st.storage_health(h), h[:, :G, LOGI],
                                  st.p.alignment, col(ir.resupply_rate), h[:, G, LOGI, None])
    red = rules.red_line_crossed(st.irgc_killed_total, st.territory_struck, ir.red_line_irgc_killed,
                                 st.red_line_territory)
    if red.any():
        idx = np.flatnonzero(red)
        prob = rules.direct_action_probability(st.hostility[idx], True, at(ir.direct_propensity, idx))
        hit = idx[st.rng.random(idx.size) < prob]
        if hit.size and st.truce is not None and st.truce.iran_holds:  # a ceasefire Iran observes
            hit = hit[:0]
        if hit.size:
            iran_direct_attack(st, hit)


def iran_direct_attack(st: State, idx: np.ndarray, base: int | None = None, injured: int | None = None,
                       killed: int | None = None) -> None:
    """A direct Iranian missile attack on a US base in replicates ``idx`` (a state-on-state exchange).

    The base is drawn by ``rules.direct_target_probabilities``; the salvo is
    ``Binomial(direct_salvo, homeland rocket/missile storage health)`` missiles,
    whose outcome classes are a multinomial of ``rules.outcome_probabilities``
    and casualties ``rules.casualties``.  A scripted attack may force the
    casualties instead (``injured``/``killed``).
    """
    c, p, rng = st.c, st.p, st.rng
    n = idx.size
    if base is None:
        bases = categorical(np.broadcast_to(st.direct_cum, (n, st.direct_cum.size)), rng.random(n))
    else:
        bases = np.full(n, base)
    if injured is None or killed is None:
        missiles = rng.binomial(at(p.iran.direct_salvo, idx), st.health[idx, st.G + 1, RM_STORE])
        r = idx
        m = np.full(n, MISSILE)
        probs = rules.outcome_probabilities(pick(p.air_defence, r, bases), c.exposure[bases],
                                            pick(p.interceptable, r, m), pick(p.p_injury, r, m),
                                            pick(p.p_fatal, r, m), 1.0)
        counts = rng.multinomial(missiles, probs)
        inj, kil = rules.casualties(counts[:, 2], counts[:, 3], pick(p.injured_extra, r, m),
                                    pick(p.killed_extra, r, m), pick(p.injured_in_fatal, r, m),
                                    at(p.attack.injury_dispersion, r), rng)
        late = rules.delayed_diagnoses(inj, counts[:, 2], at(p.attack.diagnosis_delayed_share, r), rng)
        inj = inj - late
        if late.any():
            st.defer_injured(idx, late)
        launched, intercepted = missiles, counts[:, 0]
    else:
        inj, kil = np.full(n, injured, dtype=np.int64), np.full(n, killed, dtype=np.int64)
        launched, intercepted = 0, 0
    st.n_iran_direct_attacks[idx] += 1
    st.iran_direct_today[idx] = True
    st.exchange(idx)
    st.mark(rules.EV_IRAN_DIRECT, idx)
    st.book_casualties(idx, inj, kil)
    if st.track_bases:
        np.add.at(st.base_injured, (idx, bases), inj)
        np.add.at(st.base_killed, (idx, bases), kil)
        st.base_last_attacked[idx, bases] = st.day
    if st.events is not None:
        outcome = np.where(kil > 0, "fatalities", np.where(inj > 0, "injuries", "no_damage")).astype(object)
        st.log(idx, actor="Iran", kind="direct_attack", target=np.asarray(c.base_ids, dtype=object)[bases],
               outcome=outcome, weapon="missile", launches=launched, intercepted=intercepted, injured=inj, killed=kil)


__all__ = ["iran_direct_attack", "iran_step"]
