"""Mesa agents of the escalation model.

Militia groups, Iran and the United States decide every day; bases and
facilities have nothing to decide and are never stepped: they hold their
state (tallies, aimpoints intact) for display and for the others' rules.
Every decision is a call into :mod:`sim.rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from . import rules
from .columns import C2, INTEL, LOGI, RM_STORE, STORAGE_OF_WEAPON, UAV_STORE  # noqa: F401 (re-exported)
from .schema import FACILITY_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from .model import EscalationModel


class MilitiaGroup(Agent):
    """An Iran-backed militia group: decides how many attacks to launch, with what, at whom."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.group_id = c.group_ids[index]
        self.name = c.group_names[index]
        self.full_stock = c.stock0[index].copy()
        self.stock = c.stock0[index].copy()
        self.revenge = 0.0
        self.grievance = 0.0
        self.excitation = 0.0
        self.recent_attacks = 0.0
        self.intensity = 0.0
        self._cum_bases = np.cumsum(c.base_probs[index])
        self.reset_day()

    def reset_day(self) -> None:
        self.attacks = 0
        self.successes = 0
        self.injury_events = 0
        self.fatal_events = 0

    def capability(self) -> tuple[float, float, float]:
        """(launch capacity, coordination, accuracy) from stock and facility health."""
        at = self.model.scenario.militia.attack
        h = self.model.health[self.index]
        cap = float(rules.stock_capacity(self.stock.sum(), self.full_stock.sum(), at.stock_half_saturation))
        return cap, float(rules.floor_scale(h[C2], at.command_floor)), float(rules.floor_scale(h[INTEL], at.intelligence_floor))

    @property
    def capacity(self) -> float:
        """Reported capacity in [0, 1]: launch capacity times coordination."""
        cap, coord, _ = self.capability()
        return float(rules.reported_capacity(cap, coord))

    def step(self) -> None:
        m, c, g = self.model, self.model.c, self.index
        at = m.scenario.militia.attack
        cap, coord, acc = self.capability()
        self.intensity = float(rules.attack_intensity(
            c.base_rate[g], c.motivation[g], m.tension, m.outside, self.revenge, self.grievance, self.excitation,
            cap, coord, c.alignment[g], m.iran.restraint, c.risk_tolerance[g], m.us.credibility,
            at.tension_weight, at.outside_pressure_weight, at.revenge_weight, at.grievance_weight,
            at.deterrence_weight, at.max_rate))
        mix = rules.weapon_mix(self.stock, c.preference)
        n = rules.launches(m.rng.poisson(self.intensity * mix), self.stock)
        if not n.any():
            return
        self.stock = self.stock - n
        probs = rules.outcome_probabilities(c.air_defence[None, :], c.exposure[None, :], c.interceptable[:, None],
                                            c.p_injury[:, None], c.p_fatal[:, None], acc)  # (W, B, 4)
        for w in np.flatnonzero(n):
            k = int(n[w])
            bases = np.searchsorted(self._cum_bases, m.rng.random(k) * self._cum_bases[-1], side="right")
            bases = np.minimum(bases, len(self._cum_bases) - 1)
            cum = np.cumsum(probs[w, bases], axis=-1)
            outcome = (m.rng.random(k)[:, None] * cum[:, -1:] >= cum[:, :-1]).sum(axis=1)
            injured, killed = rules.casualties(outcome == 2, outcome == 3, c.injured_extra[w], c.killed_extra[w],
                                               c.injured_in_fatal[w], m.rng)
            for b, o, i, kk in zip(bases.tolist(), outcome.tolist(), injured.tolist(), killed.tolist()):
                m.record_attack(self, int(w), b, o, i, kk)


class USBase(Agent):
    """A US base: a target.  Never stepped; keeps tallies for display."""

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.base_id = c.base_ids[index]
        self.name = c.base_names[index]
        self.lon, self.lat = float(c.base_lon[index]), float(c.base_lat[index])
        self.attacks = 0
        self.injured = 0
        self.killed = 0
        self.last_attacked_day = -10**6

    def step(self) -> None:  # pragma: no cover - never scheduled
        pass


class Facility(Agent):
    """A strikeable militia or IRGC facility: a view on the model's aimpoint arrays."""

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.name = c.fac_names[index]
        self.owner = c.owner_ids[c.fac_owner[index]]
        self.kind = FACILITY_KINDS[c.fac_kind[index]]
        self.lon, self.lat = float(c.fac_lon[index]), float(c.fac_lat[index])
        self.in_iran = bool(c.fac_in_iran[index])

    @property
    def total(self) -> float:
        return float(self.model.c.fac_total[self.index])

    @property
    def intact(self) -> float:
        return float(self.model.intact[self.index])

    @property
    def state(self) -> str:
        """'intact', 'damaged' or 'destroyed' (fewer than one aimpoint standing)."""
        i = self.intact
        return "destroyed" if i < 1.0 else ("damaged" if i < self.total - 0.5 else "intact")

    def step(self) -> None:  # pragma: no cover - never scheduled
        pass


class Iran(Agent):
    """Iran (IRGC Quds Force): resupplies and rebuilds, restrains its proxies, acts past its red lines."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel") -> None:
        super().__init__(model)
        ir = model.scenario.iran
        self.restraint = float(ir.restraint_min)
        self.war_risk = 0.0
        self.hostility = 0.0
        self.irgc_killed_total = 0
        self.territory_struck = False

    @property
    def red_line_crossed(self) -> bool:
        ir = self.model.scenario.iran
        return bool(rules.red_line_crossed(self.irgc_killed_total, self.territory_struck,
                                           ir.red_line_irgc_killed, ir.red_line_territory))

    def step(self) -> None:
        m, c, ir = self.model, self.model.c, self.model.scenario.iran
        self.restraint = float(rules.restraint_update(self.restraint, self.war_risk, ir.restraint_min, ir.restraint_max,
                                                      ir.restraint_threshold, ir.restraint_slope, ir.restraint_speed))
        if ir.rebuild_rate > 0:
            m.intact = rules.rebuild(m.intact, c.fac_total, ir.rebuild_rate)
            m.refresh_health()
        h = m.health
        sponsor = h[c.n_groups, LOGI]
        for grp in m.groups:
            g = grp.index
            grp.stock = rules.resupply(grp.stock, grp.full_stock, h[g, STORAGE_OF_WEAPON], h[g, LOGI],
                                       c.alignment[g], ir.resupply_rate, sponsor)
        if self.red_line_crossed:
            p = float(rules.direct_action_probability(self.hostility, True, ir.direct_propensity))
            if m.rng.random() < p:
                m.iran_direct_attack()


class UnitedStates(Agent):
    """The United States (CENTCOM): applies its doctrine to the day's events."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel") -> None:
        super().__init__(model)
        n = model.c.days + 64
        self.credibility = 0.0
        self.domestic = 0.0
        self.host_endogenous = 0.0
        self.last_proportionate_order = -10**6
        self.pending_targets = np.zeros(n, dtype=np.int64)
        self.pending_focus = np.zeros((n, model.c.n_groups))
        self.pending_direct = np.zeros(n, dtype=np.int64)
        self.campaign_start = -1
        self.campaign_end = -1
        self.campaign_first = 0
        self.campaign_focus = np.zeros(model.c.n_groups)

    def campaign_active(self, day: int) -> bool:
        return bool(rules.campaign_active(day, self.campaign_start, self.campaign_end))

    def _shares(self) -> tuple[float, float]:
        sc = self.model.scenario.us.doctrine.scope
        return rules.strike_shares(sc.irgc_facilities, sc.irgc_share, sc.inside_iran, sc.iran_share)

    def decide(self) -> None:
        """Turn today's events into orders (mechanism 3: triggers, approval, size, delay)."""
        m, d = self.model, self.model.day
        doc, us = m.scenario.us.doctrine, m.scenario.us
        tr = doc.triggers
        injured, killed = m.militia_injured, m.militia_killed
        prop, camp = rules.triggers(injured, killed, m.attacks_in_window(tr.window_days), tr.on_injury,
                                    tr.injury_threshold, tr.on_fatality, tr.attack_count)
        if prop or camp:
            p = rules.approval_probability(tr.respond_probability, self.domestic, m.outside, m.host_pressure,
                                           tr.pressure_gain, tr.host_pressure_weight)
            if m.rng.random() < p:
                pressure = self.domestic + m.outside
                focus = rules.response_focus([g.injury_events for g in m.groups], [g.fatal_events for g in m.groups],
                                             [g.attacks for g in m.groups])
                if camp and doc.campaign.enabled and not self.campaign_active(d):
                    cp = doc.campaign
                    self.campaign_start = d + cp.delay_days
                    self.campaign_end = self.campaign_start + cp.days
                    self.campaign_first = int(rules.campaign_first_wave(killed, pressure, cp.first_wave_targets,
                                                                        cp.targets_per_fatality, us.size_gain))
                    self.campaign_focus = np.array([g.fatal_events for g in m.groups], dtype=float)
                    m.log("US", "order", "campaign", "scheduled", f"first_wave_day={self.campaign_start} targets={self.campaign_first}")
                elif d - self.last_proportionate_order >= doc.proportionate.cooldown_days:
                    pp = doc.proportionate
                    nfac = int(rules.proportionate_facilities(rules.casualty_score(injured, killed), pressure, pp.facilities_base,
                                                              pp.facilities_per_casualty, pp.max_facilities, us.size_gain))
                    due = d + pp.delay_days
                    self.pending_targets[due] += nfac * pp.targets_per_facility
                    self.pending_focus[due] += focus
                    self.last_proportionate_order = d
                    m.log("US", "order", "proportionate", "scheduled", f"strike_day={due} facilities={nfac}")
        if m.iran_direct_today and doc.direct_response.target != "none":
            self.pending_direct[d + doc.direct_response.delay_days] += doc.direct_response.targets

    def act(self) -> None:
        """Carry out the orders due today, the campaign and the preemptive programme."""
        m, d = self.model, self.model.day
        doc = m.scenario.us.doctrine
        irgc_share, iran_share = self._shares()
        spread = np.array([g.recent_attacks for g in m.groups])
        retaliation_kinds = m.c.kind_weight_by_facility(doc.scope.kind_weights)
        if self.pending_targets[d] > 0:
            pp = doc.proportionate
            w = rules.owner_weights(self.pending_focus[d], spread, doc.scope.focus_attacker, irgc_share, iran_share)
            m.strike("proportionate", int(self.pending_targets[d]), pp.targets_per_facility, w, retaliation_kinds,
                     pp.munitions_per_target)
        if self.campaign_start >= 0 and self.campaign_start <= d < self.campaign_end:
            cp = doc.campaign
            u = 1.0 if d == self.campaign_start else m.rng.random()
            n = int(rules.campaign_day_targets(d, self.campaign_start, self.campaign_end, self.campaign_first,
                                               cp.follow_on_targets, cp.follow_on_probability, u))
            if n > 0:
                w = rules.owner_weights(self.campaign_focus, spread, doc.scope.focus_attacker, irgc_share, iran_share)
                m.strike("campaign", n, cp.targets_per_facility, w, retaliation_kinds, cp.munitions_per_target)
        if self.pending_direct[d] > 0:
            dr = doc.direct_response
            m.strike("direct_response", int(self.pending_direct[d]), doc.campaign.targets_per_facility,
                     m.scope_weights(dr.target), retaliation_kinds, dr.munitions_per_target)
        pe = doc.preemption
        if rules.preemption_due(d, pe.enabled, pe.start_day, pe.interval_days, pe.targets):
            stock = np.array([g.stock.sum() for g in m.groups])
            w = rules.owner_weights(np.zeros_like(stock), stock, 0.0, irgc_share, 0.0)
            m.strike("preemptive", pe.targets, pe.targets_per_facility, w,
                     m.c.kind_weight_by_facility(pe.kind_weights), pe.munitions_per_target)

    def step(self) -> None:
        self.decide()
        self.act()


__all__ = ["MilitiaGroup", "USBase", "Facility", "Iran", "UnitedStates", "STORAGE_OF_WEAPON"]
