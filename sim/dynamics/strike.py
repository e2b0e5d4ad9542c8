"""A US strike and its effects (mechanisms 3 and 4): the one place a strike is carried out.

``rules.allocate_targets`` spreads the aimpoints over facilities by weight
(owner weight x kind weight); ``rules.strike_outcomes`` and
``rules.munitions_used`` draw what each struck facility suffers; then
``rules.health`` and ``rules.stock_after_storage_loss`` (capability lost),
``rules.revenge_added`` and ``rules.grievance_added`` (the militias' answer),
``rules.relative_dose``, ``rules.credibility_gain`` and ``rules.host_added`` (the US side),
``rules.war_risk_added`` and ``rules.hostility_added`` (Iran's side),
``rules.tempo_added`` (tension the deaths build), and the ladder marks.  A day of strikes inside Iran counts as one direct exchange,
however many strikes hit Iran that day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import rules
from ..columns import CAMPAIGN, STRIKE_LABELS
from ..compiled import COUNTRIES
from .params import at, col
from .sampling import nonzero2
from .state import State

_LABELS = np.asarray(STRIKE_LABELS, dtype=object)


def strike(st: State, label: Any, idx: np.ndarray, n_targets: Any, per_facility: Any, weight: np.ndarray,
           munitions_per_target: Any) -> None:
    """US strikes in replicates ``idx`` (unique).

    ``label`` is a code into :data:`sim.columns.STRIKE_LABELS` (one, or one per
    replicate); ``n_targets``, ``per_facility`` and ``munitions_per_target`` are
    one value or one per replicate of ``idx``; ``weight`` is the facility
    weights, (F,) or (n, F).
    """
    c, p, rng, G = st.c, st.p, st.rng, st.G
    pr, at_, us_p, ir_p = p.precision, p.attack, p.us, p.iran
    intact = st.intact[idx]
    alloc = rules.allocate_targets(weight, intact, n_targets, per_facility, rng.random((idx.size, st.F)))
    total = alloc.sum(axis=1)
    ok = total > 0
    label = np.broadcast_to(label, idx.shape)
    mpt = np.broadcast_to(munitions_per_target, idx.shape)
    if not ok.all():
        st.log(idx[~ok], actor="US", kind=_LABELS[label[~ok]], outcome="no_target",
               aimpoints=np.broadcast_to(n_targets, idx.shape)[~ok])
        idx, alloc, total, intact, label, mpt = idx[ok], alloc[ok], total[ok], intact[ok], label[ok], mpt[ok]
        if idx.size == 0:
            return
    # the rules draw per facility; only facilities with aimpoints struck can have non-zero results,
    # so they are called on those (replicate, facility) entries alone and summed with bincount
    rows, cols = nonzero2(alloc)
    a = alloc[rows, cols]
    ri = idx[rows]
    destroyed, harm, militants, irgc = rules.strike_outcomes(
        a, at(pr.p_destroy, ri), at(pr.collateral_per_target, ri), at(pr.militants_per_target, ri),
        at(pr.irgc_per_target, ri), c.fac_is_militia[cols], c.fac_is_irgc[cols], rng)
    n = idx.size
    O = c.n_owners

    def per_row(x: np.ndarray) -> np.ndarray:
        return np.bincount(rows, weights=x, minlength=n).astype(np.int64)

    mun = per_row(rules.munitions_used(a, mpt[rows], rng))
    before = st.health[idx]
    intact[rows, cols] -= destroyed
    st.intact[idx] = intact
    st.damaged[idx[rows[destroyed > 0]]] = True
    st.fac_last_struck[ri, cols] = st.day
    after = c.owner_kind_health(intact)
    st.health[idx] = after
    st.stock_wrg[:, idx] = rules.stock_after_storage_loss(st.stock_wrg[:, idx], st.storage_health(before),
                                                          st.storage_health(after))
    owner_e = rows * O + c.fac_owner[cols]
    aim_by_owner = np.bincount(owner_e, weights=a, minlength=n * O).reshape(n, O)
    mil_by_owner = np.bincount(owner_e, weights=militants, minlength=n * O).reshape(n, O)
    harm_by_country = np.bincount(rows * len(COUNTRIES) + c.fac_country[cols], weights=harm,
                                  minlength=n * len(COUNTRIES)).reshape(n, len(COUNTRIES))
    added = rules.revenge_added(aim_by_owner[:, :G], mil_by_owner[:, :G], col(at(at_.revenge_per_target, idx)),
                                col(at(at_.revenge_per_militant, idx)))
    st.revenge[idx] += added
    st.provoked[idx] += added  # a new grievance: may break a stand-down (sim.dynamics.standdown)
    st.grievance[idx] += rules.grievance_added(harm_by_country, c.group_country, col(at(at_.grievance_per_harm, idx)))
    in_iran = per_row(a * c.fac_in_iran[cols])
    n_irgc = per_row(irgc)
    abroad = st.abroad[cols]
    rho = rules.relative_dose(total, st.dose_memory[idx], at(us_p.credibility_dose_scale, idx))
    st.credibility[idx] = rules.credibility_gain(st.credibility[idx], rho, at(us_p.credibility_gain, idx),
                                                 at(us_p.credibility_dose_hill, idx))
    st.dose_memory[idx] += total
    st.host_endogenous[idx] += rules.host_added(per_row(harm * abroad), per_row(abroad), at(us_p.host_per_harm, idx),
                                                at(us_p.host_per_facility, idx))
    st.war_risk[idx] += rules.war_risk_added(total, 0, n_irgc, at(ir_p.risk_per_target, idx), 0.0,
                                             at(ir_p.risk_per_irgc_killed, idx))
    st.hostility[idx] += rules.hostility_added(n_irgc, in_iran, at(ir_p.hostility_per_irgc_killed, idx),
                                               at(ir_p.hostility_per_iran_target, idx))
    st.irgc_killed_total[idx] += n_irgc
    n_fac = np.bincount(rows, minlength=idx.size)
    mil = per_row(militants)
    st.tempo[idx] += rules.tempo_added(mil, n_irgc, at(at_.tempo_per_militant_killed, idx),
                                       at(at_.tempo_per_irgc_killed, idx))
    hm = per_row(harm)
    st.n_us_strikes[idx] += n_fac
    st.n_targets_struck[idx] += total
    st.n_munitions[idx] += mun
    st.n_militants_killed[idx] += mil
    st.n_irgc_killed[idx] += n_irgc
    st.n_civilian_harm[idx] += hm
    st.mark(rules.EV_STRIKE, idx)
    st.mark(rules.EV_CAMPAIGN, idx[label == CAMPAIGN])
    st.mark(rules.EV_IRGC_KILLED, idx[n_irgc > 0])
    ii = in_iran > 0
    if ii.any():
        j = idx[ii]
        first_today = j[st.n_targets_in_iran[j] == 0]  # one exchange per day of strikes inside Iran
        st.territory_struck[j] = True
        st.n_targets_in_iran[j] += in_iran[ii]
        st.mark(rules.EV_IRAN_STRUCK, j)
        st.exchange(first_today)
    if st.events is not None:
        owners = np.asarray(c.owner_ids, dtype=object)
        targets = ["+".join(owners[x]) for x in aim_by_owner > 0]
        st.log(idx, actor="US", kind=_LABELS[label], target=targets, outcome="struck", facilities=n_fac,
               aimpoints=total, munitions=mun, destroyed=per_row(destroyed), militants_killed=mil,
               irgc_killed=n_irgc, civilian_harm=hm, in_iran=in_iran)


__all__ = ["strike"]
