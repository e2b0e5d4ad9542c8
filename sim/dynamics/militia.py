"""Phase 3 of the day: militia attacks (mechanisms 1 and 2) and their casualties.

For every (replicate, group) of the groups given: ``rules.stock_capacity`` and
``rules.floor_scale`` (coordination, accuracy), ``rules.attack_intensity``,
``rules.weapon_mix``; wanted launches per weapon are Poisson(``lambda * mix_w``),
drawn as a Poisson total split over weapons by ``mix`` (the same law), capped by
``rules.launches``; each launch's base is drawn from ``Compiled.base_probs``
(``rules.target_base_probabilities``) and its outcome class from
``rules.outcome_probabilities`` at its base, weapon and the group's accuracy;
``rules.casualties`` for the launches that injure or kill, of whose injured
``rules.delayed_diagnoses`` are reported only after ``diagnosis_delay_days``
(:meth:`State.defer_injured`; they add to the US injured of that day, not to
the militia's injured that trigger a response).

Nothing a group reads changes during this phase, so the groups may be stepped
together (the ensemble) or one at a time in random order (the Mesa agents).
"""

from __future__ import annotations

import numpy as np

from .. import rules
from ..schema import OUTCOMES, WEAPONS
from .params import at, col, pick
from .sampling import alias_draw, poisson_nonzero
from .standdown import intensity_factor
from .state import State

_WEAPON_NAMES = np.asarray(WEAPONS, dtype=object)
_OUTCOME_NAMES = np.asarray(OUTCOMES, dtype=object)


def militia_attacks(st: State, groups: slice | np.ndarray = slice(None)) -> None:
    """Mechanisms 1 and 2 for ``groups`` (all by default) in every replicate."""
    c, p, rng = st.c, st.p, st.rng
    at_ = p.attack
    gsel = np.arange(st.G)[groups]  # group numbers; ``groups`` itself indexes (a slice gives views)
    R, Gs, W = st.R, gsel.size, len(WEAPONS)
    cap, coord = st.capability(groups)
    lam = rules.attack_intensity(
        p.base_rate[..., groups], p.motivation[..., groups], (st.tension + st.tempo)[:, None], st.outside,
        st.revenge[:, groups], st.grievance[:, groups], st.excitation[:, groups], cap, coord,
        p.alignment[..., groups], st.restraint[:, None], p.risk_tolerance[..., groups],
        st.credibility[:, None], col(at_.tension_weight), col(at_.outside_pressure_weight), col(at_.revenge_weight),
        col(at_.grievance_weight), col(at_.deterrence_weight), col(at_.max_rate))
    factor = intensity_factor(st, groups)  # stand-downs and disruption (sim.dynamics.standdown)
    if not (isinstance(factor, float) and factor == 1.0):  # x * 1.0 is x
        lam = lam * factor
    st.intensity[:, groups] = lam
    stock = st.stock_wrg[:, :, groups]  # (W, R, G')
    mix = rules.weapon_mix(stock.transpose(1, 2, 0), c.preference)  # (R, G', W)
    k_idx, total = poisson_nonzero((lam * mix.sum(axis=-1)).reshape(-1), rng)
    if k_idx.size == 0:
        return
    r_k, g_k = k_idx // Gs, gsel[k_idx % Gs]
    pick_ = np.repeat(np.arange(k_idx.size), total)
    m = mix.transpose(2, 0, 1).reshape(W, -1)[:, k_idx]  # (W, k)
    c0 = m[0][pick_]
    c1 = c0 + m[1][pick_]
    v = rng.random(pick_.size) * (c1 + m[2][pick_])
    weapon = (v >= c0).astype(np.int64) + (v >= c1)  # inverse CDF over the three weapons
    wanted = np.bincount(pick_ * W + weapon, minlength=k_idx.size * W).reshape(-1, W)
    flat = r_k * st.G + g_k
    if not st.stock_wrg.flags.c_contiguous:
        st.stock_wrg = np.ascontiguousarray(st.stock_wrg)
    stock_w = st.stock_wrg.reshape(W, -1)  # a view: (W, R * G)
    held = stock_w[:, flat]
    n = rules.launches(wanted, held.T)  # (k, W), capped by whole weapons held
    stock_w[:, flat] = held - n.T
    e = np.flatnonzero(n)  # one entry per launch made: (replicate, group) position, weapon, base, outcome
    if e.size == 0:
        return
    cnt_e = n.reshape(-1)[e]
    pos = np.repeat(e // W, cnt_e)
    w = np.repeat(e % W, cnt_e)
    g = g_k[pos]
    r = r_k[pos]
    L = pos.size
    b = alias_draw(st.base_accept, st.base_alias, g, rng.random(L))  # base ~ Compiled.base_probs[g]
    probs = rules.outcome_probabilities(pick(p.air_defence, r, b), c.exposure[b], pick(p.interceptable, r, w),
                                        pick(p.p_injury, r, w), pick(p.p_fatal, r, w), st.accuracy(r, g))
    c0 = probs[:, 0]  # inverse CDF over the four outcome classes
    c1 = c0 + probs[:, 1]
    c2 = c1 + probs[:, 2]
    v = rng.random(L) * (c2 + probs[:, 3])
    o = (v >= c0).astype(np.int64) + (v >= c1) + (v >= c2)
    cnt = np.bincount(pos * 4 + o, minlength=k_idx.size * 4).reshape(-1, 4)
    att = cnt[:, 0] + cnt[:, 1] + cnt[:, 2] + cnt[:, 3]
    st.g_attacks.reshape(-1)[flat] += att
    st.g_successes.reshape(-1)[flat] += att - cnt[:, 0]
    st.g_injury.reshape(-1)[flat] += cnt[:, 2]
    st.g_fatal.reshape(-1)[flat] += cnt[:, 3]
    st.n_attacks += np.bincount(r_k, weights=att, minlength=R).astype(np.int64)
    st.n_intercepted += np.bincount(r_k, weights=cnt[:, 0], minlength=R).astype(np.int64)
    hurt = np.flatnonzero(o >= 2)
    inj_l = kil_l = np.zeros(0, dtype=np.int64)
    if hurt.size:
        wh, oh, rh = w[hurt], o[hurt], r[hurt]
        inj_l, kil_l = rules.casualties(oh == 2, oh == 3, pick(p.injured_extra, rh, wh), pick(p.killed_extra, rh, wh),
                                        pick(p.injured_in_fatal, rh, wh), at(at_.injury_dispersion, rh), rng)
        late_l = rules.delayed_diagnoses(inj_l, oh == 2, at(at_.diagnosis_delayed_share, rh), rng)
        inj_l = inj_l - late_l  # reported today; the rest after the diagnosis delay
        reps, inv = np.unique(rh, return_inverse=True)
        late_r = np.bincount(inv, weights=late_l, minlength=reps.size).astype(np.int64)
        if late_r.any():
            st.defer_injured(reps, late_r)
        inj_r = np.bincount(inv, weights=inj_l, minlength=reps.size).astype(np.int64)
        kil_r = np.bincount(inv, weights=kil_l, minlength=reps.size).astype(np.int64)
        st.n_militia_injured[reps] += inj_r
        st.n_militia_killed[reps] += kil_r
        st.book_casualties(reps, inj_r, kil_r)
    st.mark(rules.EV_ATTACK, r_k[att > 0])
    if st.track_bases:
        _base_tallies(st, r, b, hurt, inj_l, kil_l)
    if st.events is not None:
        _log_attacks(st, r, g, w, b, o, hurt, inj_l, kil_l)


def _base_tallies(st: State, r, b, hurt, inj_l, kil_l) -> None:
    np.add.at(st.base_attacks, (r, b), 1)
    st.base_last_attacked[r, b] = st.day
    if hurt.size:
        np.add.at(st.base_injured, (r[hurt], b[hurt]), inj_l)
        np.add.at(st.base_killed, (r[hurt], b[hurt]), kil_l)


def _log_attacks(st: State, r, g, w, b, o, hurt, inj_l, kil_l) -> None:
    """One ``attack`` row per (replicate, group, weapon) with launches today."""
    c, G, W, B = st.c, st.G, len(WEAPONS), len(st.c.base_ids)
    key = (r * G + g) * W + w
    keys, inv = np.unique(key, return_inverse=True)
    k = keys.size
    launches = np.bincount(inv, minlength=k)
    intercepted = np.bincount(inv, weights=o == 0, minlength=k).astype(np.int64)
    worst = np.zeros(k, dtype=np.int64)
    np.maximum.at(worst, inv, o)
    inj = np.zeros(k, dtype=np.int64)
    kil = np.zeros(k, dtype=np.int64)
    if hurt.size:
        np.add.at(inj, inv[hurt], inj_l)
        np.add.at(kil, inv[hurt], kil_l)
    per_b = np.bincount(inv * B + b, minlength=k * B).reshape(k, B) > 0
    base_ids = np.asarray(c.base_ids, dtype=object)
    targets = ["+".join(base_ids[x]) for x in per_b]
    rep, gw = keys // (G * W), keys % (G * W)
    st.log(rep, actor=np.asarray(c.group_ids, dtype=object)[gw // W], kind="attack", target=targets,
           outcome=_OUTCOME_NAMES[worst], weapon=_WEAPON_NAMES[gw % W], launches=launches, intercepted=intercepted,
           injured=inj, killed=kil)


def record_scripted_attack(st: State, group: int, weapon: int, base: int | None, injured: int, killed: int) -> None:
    """A scripted militia attack with a given result, in every replicate (mechanism 7)."""
    from .sampling import categorical

    R = st.R
    idx = st.all
    outcome = int(rules.scripted_attack_outcome(injured, killed))
    st.g_attacks[:, group] += 1
    st.n_attacks += 1
    if outcome == 0:
        st.n_intercepted += 1
    else:
        st.g_successes[:, group] += 1
    st.g_injury[:, group] += outcome == 2
    st.g_fatal[:, group] += outcome == 3
    inj, kil = np.full(R, injured, dtype=np.int64), np.full(R, killed, dtype=np.int64)
    st.n_militia_injured += inj
    st.n_militia_killed += kil
    st.book_casualties(idx, inj, kil)
    st.mark(rules.EV_ATTACK, idx)
    if st.events is not None or st.track_bases:
        if base is None:
            cum = np.cumsum(st.c.base_probs[group])
            bases = categorical(np.broadcast_to(cum, (R, cum.size)), st.rng.random(R))
        else:
            bases = np.full(R, base)
        if st.track_bases:
            _base_tallies(st, idx, bases, idx, inj, kil)
        st.log(idx, actor=st.c.group_ids[group], kind="scripted_attack",
               target=np.asarray(st.c.base_ids, dtype=object)[bases], outcome=OUTCOMES[outcome],
               weapon=WEAPONS[weapon], launches=1, intercepted=int(outcome == 0), injured=inj, killed=kil)


__all__ = ["militia_attacks", "record_scripted_attack"]
