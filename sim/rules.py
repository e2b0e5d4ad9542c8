"""The model's decision and outcome rules: pure functions over numpy arrays.

Every rule is written once, here, and the day that applies them is written once,
in :mod:`sim.dynamics` (arrays with a leading replicate axis; the Mesa model runs
it with one replicate).  All inputs broadcast, so a rule never
needs to know which engine calls it.  Rules that draw random numbers take a
``numpy.random.Generator`` (or uniforms drawn by the caller) as an argument and
keep no state of their own.

Array conventions: ``W`` = weapons (:data:`sim.schema.WEAPONS`), ``B`` = bases,
``G`` = militia groups, ``O`` = facility owners (the groups, then the IRGC
abroad, then Iran's homeland), ``K`` = facility kinds
(:data:`sim.schema.FACILITY_KINDS`), ``F`` = facilities.
"""

from __future__ import annotations

import numpy as np

LN2 = float(np.log(2.0))

# Ladder events, in rung order (see ``RUNGS``).
EV_ATTACK, EV_INJURY, EV_STRIKE, EV_FATALITY, EV_CAMPAIGN, EV_IRGC_KILLED, EV_IRAN_STRUCK, EV_IRAN_DIRECT = range(8)
N_EVENTS = 8

RUNGS = (
    ("calm", "no condition below holds"),
    ("harassment", "a militia attack on US forces within the last `ladder.harassment_days` days"),
    ("casualty_attacks", "US personnel injured by an attack within the last `ladder.memory_days` days"),
    ("limited_retaliation", "a US strike on militia or IRGC facilities within the memory"),
    ("fatal_attacks", "US personnel killed by an attack within the memory"),
    ("major_campaign", "a day of a multi-day US campaign within the memory"),
    ("sponsor_personnel", "IRGC personnel killed by US strikes within the memory"),
    ("sponsor_territory", "a US strike inside Iran within the memory"),
    ("direct_exchange", "a direct Iranian attack on US forces within the memory"),
    ("regional_war", "at least `ladder.regional_war_exchanges` direct state-on-state exchanges "
                     "(Iranian attacks on US forces or US strike days inside Iran) within the memory"),
)
"""The escalation ladder: (name, condition) for rungs 0..9."""

RUNG_NAMES = tuple(name for name, _ in RUNGS)


# --------------------------------------------------------------------------- helpers


def decay_factor(half_life_days):
    """Daily retention of a quantity with the given half-life: ``2 ** (-1 / h)``."""
    return np.exp(-LN2 / np.asarray(half_life_days, dtype=float))


def leaky(x, added, retention):
    """Leaky accumulator used for revenge, grievance, excitation, pressure and risk.

    ``x' = retention * (x + added)``: today's additions count fully today and
    fade geometrically afterwards (a discrete-time exponential kernel).
    """
    return retention * (x + added)


def floor_scale(health, floor):
    """Capability left after damage: ``floor + (1 - floor) * health``.

    Used for coordination (command-and-control health) and accuracy
    (intelligence health): destroying a kind degrades, but does not abolish,
    the part of capability it feeds.
    """
    return floor + (1.0 - floor) * health


# --------------------------------------------------------------------------- attack generation


def stock_capacity(stock_total, full_stock_total, half_saturation):
    """Launch capacity from weapons held, normalised to 1 at full stock.

    A saturating (Michaelis-Menten) form ``S / (S + K)``: a group with few
    weapons left attacks rarely, one with plenty is limited by other factors.
    """
    s = np.maximum(stock_total, 0.0)
    full = np.maximum(full_stock_total, 1e-9)
    return (s / (s + half_saturation)) / (full / (full + half_saturation))


def attack_intensity(
    base_rate,
    motivation,
    tension,
    outside,
    revenge,
    grievance,
    excitation,
    capacity,
    coordination,
    alignment,
    restraint,
    risk_tolerance,
    credibility,
    tension_weight,
    outside_weight,
    revenge_weight,
    grievance_weight,
    deterrence_weight,
    max_rate,
):
    """Mechanism 1: a group's expected attacks today (attacks/day).

    ``lambda = min(cap, (mu + X) * capacity * coordination * restraint_factor * deterrence)``
    with the background rate ``mu = base_rate * motivation * exp(w_T T + w_O O + w_R R + w_G Gr)``,
    the self-exciting term ``X`` (Hawkes-style excitation from recent successful
    attacks, as in point-process models of insurgent violence), Iranian
    restraint ``1 - alignment * restraint`` and deterrence
    ``exp(-w_D * (1 - risk_tolerance) * credibility)``.
    """
    drive = np.exp(tension_weight * tension + outside_weight * outside
                   + revenge_weight * revenge + grievance_weight * grievance)
    mu = base_rate * motivation * drive
    suppression = (1.0 - alignment * restraint) * np.exp(-deterrence_weight * (1.0 - risk_tolerance) * credibility)
    return np.minimum((mu + excitation) * capacity * coordination * suppression, max_rate)


def weapon_mix(stock, preference):
    """Probability of each weapon for a launch: preference-weighted among weapons in stock.

    ``stock`` has weapons on its last axis (``..., W``).  Rows with nothing in
    stock get all zeros.
    """
    w = np.where(stock >= 1.0, preference, 0.0)
    tot = w.sum(axis=-1, keepdims=True)
    return np.divide(w, np.where(tot > 0, tot, 1.0))  # 0 / 1 in rows with nothing in stock


def launches(wanted, stock):
    """Launches actually made: the wanted count, capped by whole weapons in stock."""
    return np.minimum(wanted, np.floor(np.maximum(stock, 0.0))).astype(np.int64)


def target_base_probabilities(exposure, base_country, reach):
    """Which base a group aims at: proportional to exposure among bases in reach.

    ``reach`` is a boolean (G, C) matrix over country codes, ``base_country``
    the (B,) country codes.  Returns (G, B) probabilities; a group whose
    reachable bases all have zero exposure spreads evenly over them.
    """
    mask = reach[:, base_country].astype(float)
    w = mask * exposure[None, :]
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, mask)
    return w / w.sum(axis=1, keepdims=True)


def hawkes_excitation(excitation, successes, jump, retention):
    """Self-excitation after today's attacks that got through: ``X' = r (X + jump * n)``."""
    return leaky(excitation, jump * successes, retention)


# --------------------------------------------------------------------------- attack outcomes


def outcome_probabilities(air_defence, exposure, interceptable, p_injury, p_fatal, accuracy):
    """Mechanism 2: probabilities of (intercepted, no damage, injuries, fatalities).

    ``P(intercept) = air_defence * interceptable``; a launch that gets through
    kills with ``min(1, p_fatal * exposure * accuracy)`` and otherwise injures
    with ``min(1 - p_fatal', p_injury * exposure * accuracy)``.  Inputs
    broadcast; the four outcomes are stacked on a new last axis.
    """
    p_int = np.clip(air_defence * interceptable, 0.0, 1.0)
    through = 1.0 - p_int
    pf = np.clip(p_fatal * exposure * accuracy, 0.0, 1.0)
    pi = np.minimum(np.clip(p_injury * exposure * accuracy, 0.0, 1.0), 1.0 - pf)
    p_int, through, pf, pi = np.broadcast_arrays(p_int, through, pf, pi)
    return np.stack([p_int, through * (1.0 - pf - pi), through * pi, through * pf], axis=-1)


def overdispersed_count(events, mean, dispersion, rng):
    """Sum over ``events`` attacks of per-attack counts with mean ``mean`` and negative-binomial
    dispersion ``dispersion`` (k): variance ``mean + mean**2 / k`` per attack.

    Drawn as a gamma-Poisson mixture, ``Poisson(Gamma(events * k, mean / k))``: the sum of
    ``n`` independent NB(k, mean) counts is NB(n k, n mean), so counts of events give the
    same law as attack-by-attack draws.  ``k`` large tends to the Poisson law; small ``k``
    makes most attacks hurt few and a rare attack hurt many (the casualty counts of
    terrorist and insurgent attacks are heavy-tailed: Clauset, Young and Gleditsch 2007).
    """
    n = np.asarray(events, dtype=float)
    k = np.asarray(dispersion, dtype=float)
    rate = rng.gamma(n * k, np.asarray(mean, dtype=float) / k)
    return rng.poisson(rate)


def casualties(injury_events, fatal_events, injured_extra_mean, killed_extra_mean, injured_in_fatal_mean,
               injury_dispersion, rng):
    """US casualties from counts of casualty-producing and fatal attacks.

    Each injuring attack injures ``1 + NB(injured_extra_mean, k)``; each fatal
    attack kills ``1 + Poisson(killed_extra_mean)`` and injures
    ``NB(injured_in_fatal_mean, k)`` (:func:`overdispersed_count`, ``k =
    injury_dispersion``): a non-fatal attack that injures dozens is possible
    (the Pentagon's counts of 2023-24 include such attacks), most injure one or
    two.  Returns (injured, killed) with the broadcast shape of the inputs.
    """
    i = np.asarray(injury_events)
    f = np.asarray(fatal_events)
    injured = (i + overdispersed_count(i, injured_extra_mean, injury_dispersion, rng)
               + overdispersed_count(f, injured_in_fatal_mean, injury_dispersion, rng))
    killed = f + rng.poisson(f * killed_extra_mean)
    return injured.astype(np.int64), killed.astype(np.int64)


def delayed_diagnoses(injured, injury_events, delayed_share, rng):
    """Injured diagnosed days later (traumatic brain injuries): ``Binomial(injured - events, share)``.

    The first injured of each injuring attack is reported at once (the attack is
    known to have injured); each other injured person is diagnosed later with
    chance ``delayed_share`` (the Pentagon's 2023-24 totals grew by such
    diagnoses after the attacks).  Returns the delayed part; the rest is immediate.
    """
    extra = np.maximum(np.asarray(injured, dtype=np.int64) - np.asarray(injury_events, dtype=np.int64), 0)
    return rng.binomial(extra, delayed_share).astype(np.int64)


# --------------------------------------------------------------------------- US doctrine


def approval_probability(respond_probability, domestic, outside, host, pressure_gain, host_weight):
    """Chance a triggered response is approved.

    Domestic and outside pressure raise it, host-nation pressure lowers it:
    ``clip(p0 * (1 + g (D + O)) * (1 - w_H H), 0, 1)``.
    """
    return np.clip(respond_probability * (1.0 + pressure_gain * (domestic + outside)) * (1.0 - host_weight * host), 0.0, 1.0)


def triggers(injured, killed, attacks_in_window, on_injury, injury_threshold, on_fatality, attack_count):
    """Which responses today's events call for: (proportionate, campaign) booleans.

    A fatal day calls for a campaign (if ``on_fatality``); a day with at least
    ``injury_threshold`` injured, or a window with at least ``attack_count``
    attacks (when that trigger is on), calls for a proportionate strike.
    """
    campaign = np.logical_and(on_fatality, killed > 0)
    prop = np.logical_or(np.logical_and(on_injury, injured >= injury_threshold),
                         np.logical_and(attack_count > 0, attacks_in_window >= np.maximum(attack_count, 1)))
    return prop, campaign


def proportionate_facilities(casualty_score, pressure, facilities_base, facilities_per_casualty, max_facilities, size_gain):
    """Size of a 'necessary and proportionate' strike, in facilities.

    ``round((base + per_casualty * casualties) * (1 + size_gain * pressure))``,
    at least 1 and at most ``max_facilities`` (seed 002: three facilities
    after three service members were injured).
    """
    n = np.rint((facilities_base + facilities_per_casualty * casualty_score) * (1.0 + size_gain * pressure))
    return np.clip(n, 1, max_facilities).astype(np.int64)


def campaign_first_wave(killed, pressure, first_wave_targets, targets_per_fatality, size_gain):
    """Aimpoints of a campaign's first wave (seed 000: more than 85 targets).

    ``round((first_wave + per_fatality * killed) * (1 + size_gain * pressure))``.
    """
    return np.rint((first_wave_targets + targets_per_fatality * killed) * (1.0 + size_gain * pressure)).astype(np.int64)


def owner_weights(focus, spread, focus_share, irgc_share, iran_share):
    """Weight of each facility owner (G groups, IRGC abroad, Iran homeland) in a strike.

    ``focus`` (.., G) names the groups that caused the response, ``spread``
    (.., G) how the rest is shared (e.g. recent attacks).  Militia owners get
    ``(1 - irgc_share - iran_share) * (focus_share * focus + (1 - focus_share) * spread)``
    (each part normalised; a part that is all zero hands its share to the other),
    then the IRGC abroad ``irgc_share`` and the homeland ``iran_share``.  The shares
    are one value or one per leading index of ``focus`` (e.g. per replicate).
    """
    focus = np.asarray(focus, dtype=float)
    spread = np.asarray(spread, dtype=float)
    irgc_share, iran_share = np.asarray(irgc_share, float), np.asarray(iran_share, float)
    fs = focus.sum(axis=-1, keepdims=True)
    ss = spread.sum(axis=-1, keepdims=True)
    g = focus.shape[-1]
    f_n = np.divide(focus, fs, out=np.zeros_like(focus), where=fs > 0)
    s_n = np.where(ss > 0, np.divide(spread, np.where(ss > 0, ss, 1.0)), 1.0 / g)
    share = np.where(fs > 0, np.asarray(focus_share, float)[..., None], 0.0)
    militia = (1.0 - irgc_share - iran_share)[..., None] * (share * f_n + (1.0 - share) * s_n)
    extra = np.stack(np.broadcast_arrays(irgc_share, iran_share), axis=-1)
    extra = np.broadcast_to(extra, militia.shape[:-1] + (2,))
    return np.concatenate([militia, extra], axis=-1)


def allocate_targets(weight, available, n_targets, per_facility, uniforms):
    """Mechanism 3: spread a strike's aimpoints over facilities.

    Facilities are ranked by weighted random keys ``log(u) / w`` (weighted
    sampling without replacement, Efraimidis and Spirakis 2006); each in turn
    takes up to ``per_facility`` of its available aimpoints until ``n_targets``
    are placed.  Facilities with zero weight or nothing left are never chosen.
    Shapes: ``weight``, ``available``, ``uniforms`` (.., F); ``n_targets``,
    ``per_facility`` (..).  Returns integer aimpoints per facility (.., F).

    The ranking is that of a stable sort of the keys, highest first (ties by facility number);
    it is computed with a faster unstable sort of the facilities that can take aimpoints (the
    others take none, wherever they rank), and rows where two of those tie are sorted stably
    (:func:`_rank_stable`), so the result is the same.
    """
    weight = np.asarray(weight, dtype=float)
    avail = np.floor(np.maximum(available, 0.0)).astype(np.int64)
    ok = (weight > 0) & (avail > 0)
    with np.errstate(divide="ignore", over="ignore"):
        keys = np.where(ok, np.log(np.maximum(uniforms, 1e-300)) / np.where(ok, weight, 1.0), -np.inf)
    cap = np.where(ok, np.minimum(avail, np.asarray(per_facility)[..., None]), 0)
    neg = np.where(cap > 0, -keys, np.inf)
    order = np.argsort(neg, axis=-1)
    s = np.take_along_axis(neg, order, axis=-1)
    tied = ((s[..., 1:] == s[..., :-1]) & (s[..., 1:] < np.inf)).any(axis=-1) | ((cap > 0) & (neg == np.inf)).any(axis=-1)
    if np.any(tied):
        order = _rank_stable(keys, order, tied)
    cap_sorted = np.take_along_axis(cap, order, axis=-1)
    before = np.cumsum(cap_sorted, axis=-1) - cap_sorted
    take_sorted = np.clip(np.asarray(n_targets)[..., None] - before, 0, cap_sorted)
    out = np.zeros_like(take_sorted)
    np.put_along_axis(out, order, take_sorted, axis=-1)
    return out


def _rank_stable(keys, order, rows):
    """``order`` with the ``rows`` (a boolean over the leading axes) replaced by a stable sort of ``-keys``."""
    if order.ndim == 1:
        return np.argsort(-keys, kind="stable")
    order = order.copy()
    order[rows] = np.argsort(-keys[rows], axis=-1, kind="stable")
    return order


def strike_outcomes(alloc, p_destroy, collateral, militants_per_target, irgc_per_target, is_militia, is_irgc, rng):
    """Mechanism 4: what a strike does at each facility.

    Each aimpoint struck is destroyed with ``p_destroy`` and harms civilians
    with ``collateral`` (independent Bernoulli trials, drawn as binomials);
    militants killed are Poisson with mean ``militants_per_target`` per militia
    aimpoint, IRGC personnel Poisson with ``irgc_per_target`` per IRGC aimpoint
    (abroad or in Iran).  Returns (destroyed, harm, militants, irgc) per facility.
    """
    alloc = np.asarray(alloc, dtype=np.int64)
    destroyed = rng.binomial(alloc, p_destroy)
    harm = rng.binomial(alloc, collateral)
    militants = rng.poisson(alloc * (militants_per_target * is_militia))
    irgc = rng.poisson(alloc * (irgc_per_target * is_irgc))
    return destroyed, harm, militants, irgc


def munitions_used(targets, munitions_per_target, rng):
    """Munitions expended on ``targets`` aimpoints: ``floor(m)`` each plus one more with chance ``frac(m)``.

    The mean is ``m`` per aimpoint (seed 000: about 125 munitions for 85 targets).
    """
    targets = np.asarray(targets, dtype=np.int64)
    whole = np.floor(munitions_per_target)
    return (targets * whole).astype(np.int64) + rng.binomial(targets, munitions_per_target - whole)


def relative_dose(targets, dose_memory, dose_scale):
    """Size of a strike relative to what came before: ``rho = targets / (dose_scale + M)``.

    ``M`` is the leaky memory of aimpoints struck before (fading with credibility's
    half-life) and ``dose_scale`` the aimpoints that are a "large" first strike: a strike
    is judged against the recent norm, so a campaign after a quiet period is a big
    dose and the same campaign repeated is a smaller one (cumulative deterrence:
    Almog 2004; Rid 2012, *J. Strategic Studies* 35:124).
    """
    return np.asarray(targets, dtype=float) / (np.asarray(dose_scale, dtype=float) + np.asarray(dose_memory, dtype=float))


def credibility_gain(credibility, rho, gain, hill):
    """US deterrent credibility after a strike of relative dose ``rho`` (:func:`relative_dose`).

    ``C + gain * (1 - C) * rho**h / (1 + rho**h)``: a Hill dose-response (the
    sigmoid of pharmacology, used for the effect of force size on deterrence in
    Huth 1988's logit models), saturating in credibility and in dose; ``h`` sets how
    sharply a strike above the norm ("massive") outdoes one below it.
    """
    r = np.power(np.maximum(np.asarray(rho, dtype=float), 0.0), hill)
    return credibility + gain * (1.0 - credibility) * r / (1.0 + r)


# --------------------------------------------------------------------------- capability and Iran


def health(intact, membership, total):
    """Share of aimpoints intact per (owner, kind): ``intact @ membership / total`` (1 where none exist)."""
    got = intact @ membership
    return np.divide(got, total, out=np.ones_like(got, dtype=float), where=total > 0)


def stock_after_storage_loss(stock, health_before, health_after):
    """Weapons left after storage is hit: lost in proportion to the storage destroyed."""
    ratio = np.divide(health_after, health_before, out=np.ones_like(health_after, dtype=float), where=health_before > 0)
    return stock * np.clip(ratio, 0.0, 1.0)


def resupply(stock, capacity, storage_health, logistics_health, alignment, rate, sponsor_support):
    """Mechanism 5: Iran refills a share of each group's missing weapons per day.

    ``S + rate * alignment * logistics * sponsor * max(0, cap * storage - S)``:
    destroyed storage lowers what can be held, destroyed logistics slows the flow,
    and damage to the IRGC's own facilities abroad (``sponsor_support``) slows it for all.
    """
    room = np.maximum(capacity * storage_health - stock, 0.0)
    return stock + rate * alignment * logistics_health * sponsor_support * room


def rebuild(intact, total, rate, out=None):
    """Destroyed aimpoints are rebuilt at ``rate`` of the gap per day (into ``out`` if given)."""
    if out is None:
        return intact + rate * (total - intact)
    gap = np.subtract(total, intact)
    gap *= rate  # rate * gap: the same products
    return np.add(intact, gap, out=out)


def restraint_target(war_risk, restraint_min, restraint_max, threshold, slope):
    """Restraint Iran wants on its proxies given the risk of direct war (logistic in risk)."""
    return restraint_min + (restraint_max - restraint_min) / (1.0 + np.exp(-slope * (war_risk - threshold)))


def restraint_update(restraint, war_risk, restraint_min, restraint_max, threshold, slope, speed):
    """Partial adjustment of restraint towards its target: ``r + speed * (r* - r)``."""
    return restraint + speed * (restraint_target(war_risk, restraint_min, restraint_max, threshold, slope) - restraint)


def direct_action_probability(hostility, red_line_crossed, propensity):
    """Daily chance of a direct Iranian attack: ``1 - exp(-propensity * hostility)`` once a red line is crossed."""
    return np.where(red_line_crossed, 1.0 - np.exp(-propensity * np.maximum(hostility, 0.0)), 0.0)


# --------------------------------------------------------------------------- ladder


def ladder_rung(days_since, exchanges_in_memory, harassment_days, memory_days, war_exchanges):
    """Mechanism 6: the current rung, the highest whose condition holds (``RUNGS``).

    ``days_since`` (.., 8) are days since the last ladder event of each kind
    (``EV_*``; a large number if never); ``exchanges_in_memory`` counts direct
    state-on-state exchanges within the memory.
    """
    days_since = np.asarray(days_since)
    window = np.full(N_EVENTS, memory_days)
    window[EV_ATTACK] = harassment_days
    active = days_since < window
    rung_of_event = np.arange(1, N_EVENTS + 1)
    rung = np.max(np.where(active, rung_of_event, 0), axis=-1)
    return np.where(np.asarray(exchanges_in_memory) >= war_exchanges, len(RUNGS) - 1, rung).astype(np.int64)


# --------------------------------------------------------------------------- feedback of strikes and casualties


def revenge_added(aimpoints, militants, per_target, per_militant):
    """Provocation: revenge motive a group gains from strikes on it (aimpoints hit, members killed)."""
    return per_target * aimpoints + per_militant * militants


def tempo_added(militants_killed, irgc_killed, per_militant, per_irgc):
    """Regional tension the exchange builds itself (rising tempo): militants and IRGC members killed.

    Added to the scenario's tension series in ``attack_intensity`` and decaying with its own
    half-life, it closes a loop -- attacks, strikes, deaths, more tension, more attacks -- so a run
    can accelerate towards a crisis as well as calm down (escalation spirals: Jervis 1976; in
    insurgency data, violence begets violence: Braithwaite and Johnson 2012, Iraq IED clusters).
    """
    return per_militant * np.asarray(militants_killed, dtype=float) + per_irgc * np.asarray(irgc_killed, dtype=float)


def domestic_added(injured, killed, per_injured, per_killed):
    """US domestic pressure to respond gained from casualties."""
    return per_injured * injured + per_killed * killed


def host_added(harm, facilities, per_harm, per_facility):
    """Host-nation pressure gained from civilian harm and from facilities struck on its soil."""
    return per_harm * harm + per_facility * facilities


def war_risk_added(targets, us_killed, irgc_killed, per_target, per_us_killed, per_irgc_killed):
    """Iran's perceived risk of direct war gained from US strikes, US deaths and IRGC deaths."""
    return per_target * targets + per_us_killed * us_killed + per_irgc_killed * irgc_killed


def hostility_added(irgc_killed, iran_targets, per_irgc_killed, per_iran_target):
    """Iran's will to act directly, gained when its personnel are killed or its territory struck."""
    return per_irgc_killed * irgc_killed + per_iran_target * iran_targets


def red_line_crossed(irgc_killed_total, iran_struck, red_line_irgc_killed, red_line_territory):
    """Iran's red lines: enough IRGC dead, or (if it counts) any strike on its territory."""
    return np.logical_or(irgc_killed_total >= red_line_irgc_killed, np.logical_and(red_line_territory, iran_struck))


# --------------------------------------------------------------------------- small rules of the day's bookkeeping
# Called by the phases of sim/dynamics/ (the one day both engines run).


def host_pressure(exogenous, endogenous):
    """Host-nation pressure seen by the US: the scenario's series plus the strike-driven part, at most 1."""
    return np.minimum(1.0, np.asarray(exogenous) + endogenous)


def casualty_score(injured, killed):
    """Casualties that size a proportionate strike: injured plus twice the killed."""
    return np.asarray(injured) + 2 * np.asarray(killed)


def response_focus(injury_events, fatal_events, attacks):
    """Groups a response is aimed at (.., G): those whose attacks hurt US personnel today,
    or, if none did, those that attacked today."""
    hurt = np.asarray(injury_events, dtype=float) + np.asarray(fatal_events, dtype=float)
    return np.where(np.any(hurt > 0, axis=-1, keepdims=True), hurt, np.asarray(attacks, dtype=float))


def campaign_active(day, start, end):
    """A campaign is scheduled or under way (no new one may be ordered): ``start >= 0 and day < end``."""
    return np.logical_and(np.asarray(start) >= 0, day < np.asarray(end))


def campaign_day_targets(day, start, end, first_wave, follow_on_targets, follow_on_probability, uniform):
    """Aimpoints a campaign strikes today: the first wave on its first day, then a follow-on
    of ``follow_on_targets`` with chance ``follow_on_probability`` (``uniform < p``) on each
    later day before ``end``; 0 outside the campaign."""
    start = np.asarray(start)
    inside = (start >= 0) & (start <= day) & (day < np.asarray(end))
    later = np.where(np.asarray(uniform) < follow_on_probability, follow_on_targets, 0)
    return np.where(inside, np.where(start == day, first_wave, later), 0).astype(np.int64)


def preemption_due(day, enabled, start_day, interval_days, targets):
    """The preemptive programme strikes today: on ``start_day`` and every ``interval_days`` after."""
    start, interval = np.asarray(start_day), np.asarray(interval_days)
    return (np.asarray(enabled, dtype=bool) & (day >= start) & ((day - start) % interval == 0)
            & (np.asarray(targets) > 0))


def strike_shares(irgc_in_scope, irgc_share, iran_in_scope, iran_share):
    """(IRGC-abroad share, inside-Iran share) of a retaliation's weight; 0 for what is out of scope."""
    return (irgc_share if irgc_in_scope else 0.0), (iran_share if iran_in_scope else 0.0)


def scope_weights(n_groups, scope, focus_group=None):
    """Owner weights (O,) of a strike aimed only at IRGC facilities abroad, only inside Iran,
    or only at militias (one focus group, else all groups equally)."""
    w = np.zeros(n_groups + 2)
    if scope == "irgc_facilities":
        w[n_groups] = 1.0
    elif scope == "inside_iran":
        w[n_groups + 1] = 1.0
    elif focus_group is not None:
        w[focus_group] = 1.0
    else:
        w[:n_groups] = 1.0
    return w


def direct_target_probabilities(exposure):
    """Which base a direct Iranian attack hits: proportional to exposure (evenly if all are zero)."""
    exposure = np.asarray(exposure, dtype=float)
    tot = exposure.sum()
    return exposure / tot if tot > 0 else np.full(exposure.shape, 1.0 / exposure.size)


def scripted_attack_outcome(injured, killed):
    """Outcome class (index into OUTCOMES) of a scripted attack: fatalities, injuries or no damage."""
    return np.where(np.asarray(killed) > 0, 3, np.where(np.asarray(injured) > 0, 2, 1))


def grievance_added(harm_by_country, group_country, per_harm):
    """Grievance each group gains from civilian-harm events in its own country (.., G)."""
    return per_harm * np.asarray(harm_by_country, dtype=float)[..., group_country]


def reported_capacity(capacity, coordination):
    """A group's capacity as reported (0-1): launch capacity times coordination."""
    return capacity * coordination
