"""The escalation model: a Mesa model stepping one day at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
from mesa import DataCollector, Model

from . import rules
from .agents import Facility, Iran, MilitiaGroup, UnitedStates, USBase
from .columns import EVENT_COLUMNS, RM_STORE, STORAGE_OF_WEAPON, TIMESERIES_COLUMNS  # noqa: F401 (re-exported)
from .compiled import Compiled, compile_scenario
from .engines import prepare_scenario
from .schema import OUTCOMES, WEAPONS, Scenario, Shock


def resolve_scenario(scenario: Any, overrides: Sequence[str] = ()) -> Scenario:
    """A Scenario from a Scenario, a mapping, a path or a name under ``scenarios/`` (:func:`sim.engines.prepare_scenario`)."""
    return prepare_scenario(scenario, None, overrides)


class EscalationModel(Model):
    """Escalation between the United States, Iran and Iran-backed militias, one step per day.

    Args:
        scenario: a :class:`~sim.schema.Scenario`, a mapping, a YAML path, or the
            name of a file under ``scenarios/`` (default ``"baseline"``).
        rng: as in :class:`mesa.Model` (a seed, a ``SeedSequence`` or a ``numpy.random.Generator``).
        overrides: dotted ``path=value`` changes applied to the scenario.
        days: horizon override (defaults to the scenario's ``days``).
    """

    def __init__(self, scenario: Any = "baseline", rng: Any = None, overrides: Sequence[str] = (),
                 days: int | None = None, **kwargs: Any) -> None:
        super().__init__(rng=rng, **kwargs)
        s = prepare_scenario(scenario, days, overrides)
        self.scenario: Scenario = s
        self.c: Compiled = compile_scenario(s)
        c = self.c
        self.day = -1
        self.date: dt.date = s.start_date
        self.intact = c.fac_total.copy()
        self.fac_last_struck = np.full(c.n_facilities, -10**6)
        self.health = c.owner_kind_health(self.intact)
        self.events: list[tuple] = []
        self.last_event_day = np.full(rules.N_EVENTS, -10**6)
        self.exchanges = np.zeros(c.days + 1, dtype=np.int64)
        self.daily_attacks = np.zeros(c.days + 1, dtype=np.int64)
        self.cumulative_attacks = 0
        self.rung = 0
        self.max_rung = 0

        self.groups = MilitiaGroup.create_agents(self, c.n_groups, index=list(range(c.n_groups)))
        self.bases = USBase.create_agents(self, len(c.base_ids), index=list(range(len(c.base_ids))))
        self.facilities = Facility.create_agents(self, c.n_facilities, index=list(range(c.n_facilities)))
        self.iran = Iran(self)
        self.us = UnitedStates(self)
        self._reset_day(0)
        self._report()

        reporters: dict[str, Any] = {name: name for name in TIMESERIES_COLUMNS}
        reporters.update({f"capacity_{gid}": f"capacity_{gid}" for gid in c.group_ids})
        self.datacollector = DataCollector(model_reporters=reporters)
        self.running = True

    # ------------------------------------------------------------------ day loop

    def step(self) -> None:
        """One day: shocks, Iran, the militias (in random order), the US, then bookkeeping."""
        if self.day + 1 >= self.c.days:
            self.running = False
            return
        self.day += 1
        d = self.day
        self.date = self.c.dates[d]
        self._reset_day(d)
        for shock in self.c.shocks_by_day.get(d, ()):
            self._apply_shock(shock)
        self.iran.step()
        self.groups.shuffle_do("step")
        self.us.step()
        self._end_day(d)
        self.datacollector.collect(self)
        if d + 1 >= self.c.days:
            self.running = False

    def _reset_day(self, d: int) -> None:
        c = self.c
        self.tension = float(c.tension[d])
        self.outside = float(c.outside[d])
        self.attacks = self.intercepted = self.us_injured = self.us_killed = 0
        self.militia_injured = self.militia_killed = 0
        self.us_strikes = self.targets_struck = self.munitions = self.militants_killed = 0
        self.irgc_killed = self.civilian_harm = self.targets_in_iran = self.iran_direct_attacks = 0
        self.iran_direct_today = False
        for g in self.groups:
            g.reset_day()

    @property
    def host_pressure(self) -> float:
        """Host-nation pressure: the scenario's series plus what strikes have added, at most 1."""
        return float(rules.host_pressure(self.c.host_exogenous[max(self.day, 0)], self.us.host_endogenous))

    def attacks_in_window(self, window: int) -> int:
        """Attacks within the last ``window`` days, today's included."""
        lo = max(0, self.day - window + 1)
        return int(self.daily_attacks[lo:self.day].sum()) + self.attacks

    def _end_day(self, d: int) -> None:
        c, s = self.c, self.scenario
        at, ret = s.militia.attack, c.ret
        self.daily_attacks[d] = self.attacks
        self.cumulative_attacks += self.attacks
        for g in self.groups:
            g.excitation = float(rules.hawkes_excitation(g.excitation, g.successes, at.excitation_jump, ret["excitation"]))
            g.revenge *= ret["revenge"]
            g.grievance *= ret["grievance"]
            g.recent_attacks = float(rules.leaky(g.recent_attacks, g.attacks, ret["recent"]))
        us, ir = self.us, self.iran
        us.credibility *= ret["credibility"]
        us.domestic *= ret["domestic"]
        us.host_endogenous *= ret["host"]
        ir.war_risk *= ret["war_risk"]
        ir.hostility *= ret["hostility"]
        lad = s.ladder
        lo = max(0, d - lad.memory_days + 1)
        rung = int(rules.ladder_rung(d - self.last_event_day, self.exchanges[lo:d + 1].sum(),
                                     lad.harassment_days, lad.memory_days, lad.regional_war_exchanges))
        if rung != self.rung:
            self.log("ladder", "rung", rules.RUNG_NAMES[rung], "up" if rung > self.rung else "down",
                     f"from={rules.RUNG_NAMES[self.rung]}")
        self.rung = rung
        self.max_rung = max(self.max_rung, rung)
        self._report()

    def _report(self) -> None:
        caps = [g.capacity for g in self.groups]
        for g, cap in zip(self.groups, caps):
            setattr(self, f"capacity_{g.group_id}", cap)
        self.militia_capacity = float(np.mean(caps))
        self.iran_restraint = self.iran.restraint
        self.us_credibility = self.us.credibility
        self.iran_war_risk = self.iran.war_risk

    # ------------------------------------------------------------------ events

    def log(self, actor: str, kind: str, target: str, outcome: str, detail: str = "") -> None:
        self.events.append((self.day, actor, kind, target, outcome, detail))

    def mark(self, event: int) -> None:
        self.last_event_day[event] = self.day

    def refresh_health(self) -> None:
        self.health = self.c.owner_kind_health(self.intact)

    def _casualties(self, injured: int, killed: int) -> None:
        us, s = self.us, self.scenario
        self.us_injured += injured
        self.us_killed += killed
        us.domestic += float(rules.domestic_added(injured, killed, s.us.domestic_per_injured, s.us.domestic_per_killed))
        self.iran.war_risk += float(rules.war_risk_added(0, killed, 0, 0.0, s.iran.risk_per_us_killed, 0.0))
        if injured:
            self.mark(rules.EV_INJURY)
        if killed:
            self.mark(rules.EV_FATALITY)

    def record_attack(self, group: MilitiaGroup, weapon: int, base: int, outcome: int, injured: int, killed: int,
                      scripted: bool = False) -> None:
        """Book one militia attack (mechanism 2's result) on the group, the base and the day."""
        group.attacks += 1
        self.attacks += 1
        if outcome == 0:
            self.intercepted += 1
        else:
            group.successes += 1
        group.injury_events += outcome == 2
        group.fatal_events += outcome == 3
        self.militia_injured += injured
        self.militia_killed += killed
        self._casualties(injured, killed)
        self.mark(rules.EV_ATTACK)
        b = self.bases[base]
        b.attacks += 1
        b.injured += injured
        b.killed += killed
        b.last_attacked_day = self.day
        self.log(group.group_id, "scripted_attack" if scripted else "attack", b.base_id, OUTCOMES[outcome],
                 f"weapon={WEAPONS[weapon]} injured={injured} killed={killed}")

    def iran_direct_attack(self, base: int | None = None, injured: int | None = None, killed: int | None = None) -> None:
        """Mechanism 5: a direct Iranian missile attack on a US base (a state-on-state exchange)."""
        c, ir = self.c, self.scenario.iran
        if base is None:
            base = int(self.rng.choice(len(c.exposure), p=rules.direct_target_probabilities(c.exposure)))
        if injured is None or killed is None:
            m = WEAPONS.index("missile")
            n = int(self.rng.binomial(ir.direct_salvo, self.health[c.n_groups + 1, RM_STORE]))
            probs = rules.outcome_probabilities(c.air_defence[base], c.exposure[base], c.interceptable[m],
                                                c.p_injury[m], c.p_fatal[m], 1.0)
            counts = self.rng.multinomial(n, probs)
            inj, kil = rules.casualties(counts[2], counts[3], c.injured_extra[m], c.killed_extra[m],
                                        c.injured_in_fatal[m], self.rng)
            injured, killed, detail = int(inj), int(kil), f"missiles={n} intercepted={counts[0]}"
        else:
            detail = "scripted"
        self.iran_direct_attacks += 1
        self.iran_direct_today = True
        self.exchanges[self.day] += 1
        self.mark(rules.EV_IRAN_DIRECT)
        self._casualties(injured, killed)
        b = self.bases[base]
        b.injured += injured
        b.killed += killed
        b.last_attacked_day = self.day
        self.log("Iran", "direct_attack", b.base_id, "fatalities" if killed else ("injuries" if injured else "no_damage"),
                 f"{detail} injured={injured} killed={killed}")

    def scope_weights(self, scope: str, focus_group: int | None = None) -> np.ndarray:
        """Owner weights of a strike aimed only at militias, only at IRGC facilities abroad, or only inside Iran."""
        return rules.scope_weights(self.c.n_groups, scope, focus_group)

    def strike(self, label: str, n_targets: int, per_facility: int, owner_w: np.ndarray, kind_w: np.ndarray,
               munitions_per_target: float) -> int:
        """Carry out a US strike (mechanisms 3 and 4); returns aimpoints struck."""
        c, s = self.c, self.scenario
        pr = s.us.doctrine.precision
        weight = owner_w[c.fac_owner] * kind_w
        alloc = rules.allocate_targets(weight, self.intact, n_targets, per_facility, self.rng.random(c.n_facilities))
        total = int(alloc.sum())
        if total == 0:
            self.log("US", label, "", "no_target", f"requested={n_targets}")
            return 0
        destroyed, harm, militants, irgc = rules.strike_outcomes(alloc, pr.p_destroy, pr.collateral_per_target,
                                                                 pr.militants_per_target, pr.irgc_per_target,
                                                                 c.fac_is_militia, c.fac_is_irgc, self.rng)
        munitions = rules.munitions_used(alloc, munitions_per_target, self.rng)
        before = self.health
        self.intact = self.intact - destroyed
        self.refresh_health()
        hit = np.flatnonzero(alloc)
        self.fac_last_struck[hit] = self.day
        for grp in self.groups:
            g = grp.index
            grp.stock = rules.stock_after_storage_loss(grp.stock, before[g, STORAGE_OF_WEAPON], self.health[g, STORAGE_OF_WEAPON])
        n_own = c.n_owners
        aim_by_owner = np.bincount(c.fac_owner, alloc, minlength=n_own)
        mil_by_owner = np.bincount(c.fac_owner, militants, minlength=n_own)
        harm_by_country = np.bincount(c.fac_country, harm, minlength=4)
        at, us_p, ir_p = s.militia.attack, s.us, s.iran
        grievance = rules.grievance_added(harm_by_country, c.group_country, at.grievance_per_harm)
        for grp in self.groups:
            g = grp.index
            grp.revenge += float(rules.revenge_added(aim_by_owner[g], mil_by_owner[g], at.revenge_per_target, at.revenge_per_militant))
            grp.grievance += float(grievance[g])
        in_iran = int(alloc[c.fac_in_iran].sum())
        n_irgc = int(irgc.sum())
        abroad = ~c.fac_in_iran
        self.us.credibility = float(rules.credibility_gain(self.us.credibility, total, us_p.credibility_gain))
        self.us.host_endogenous += float(rules.host_added(int(harm[abroad].sum()), int((alloc[abroad] > 0).sum()),
                                                         us_p.host_per_harm, us_p.host_per_facility))
        ir = self.iran
        ir.war_risk += float(rules.war_risk_added(total, 0, n_irgc, ir_p.risk_per_target, 0.0, ir_p.risk_per_irgc_killed))
        ir.hostility += float(rules.hostility_added(n_irgc, in_iran, ir_p.hostility_per_irgc_killed, ir_p.hostility_per_iran_target))
        ir.irgc_killed_total += n_irgc
        self.us_strikes += len(hit)
        self.targets_struck += total
        self.munitions += int(munitions.sum())
        self.militants_killed += int(militants.sum())
        self.irgc_killed += n_irgc
        self.civilian_harm += int(harm.sum())
        self.mark(rules.EV_STRIKE)
        if label == "campaign":
            self.mark(rules.EV_CAMPAIGN)
        if n_irgc:
            self.mark(rules.EV_IRGC_KILLED)
        if in_iran:
            if self.targets_in_iran == 0:  # one exchange per day of strikes inside Iran
                self.exchanges[self.day] += 1
            ir.territory_struck = True
            self.targets_in_iran += in_iran
            self.mark(rules.EV_IRAN_STRUCK)
        for f in hit.tolist():
            state = "destroyed" if self.intact[f] < 1.0 else "damaged"
            self.log("US", label, c.fac_names[f], state,
                     f"targets={alloc[f]} munitions={munitions[f]} destroyed={destroyed[f]} militants_killed={militants[f]} "
                     f"irgc_killed={irgc[f]} civilian_harm={harm[f]}")
        return total

    def _apply_shock(self, sh: Shock) -> None:
        """Mechanism 7: a scripted event forced on its date."""
        c = self.c
        gidx = c.group_ids.index(sh.group) if sh.group else None
        bidx = c.base_ids.index(sh.base) if sh.base else None
        target = sh.group or sh.base or (sh.scope if sh.kind == "strike" else "")
        self.log("scenario", "shock", target, sh.kind,
                 f"injured={sh.injured} killed={sh.killed} targets={sh.targets} value={sh.value}")
        if sh.kind == "attack":
            grp = self.groups[gidx if gidx is not None else 0]
            if bidx is None:
                cum = np.cumsum(c.base_probs[grp.index])
                bidx = int(min(np.searchsorted(cum, self.rng.random() * cum[-1], side="right"), len(cum) - 1))
            outcome = int(rules.scripted_attack_outcome(sh.injured, sh.killed))
            self.record_attack(grp, WEAPONS.index(sh.weapon), bidx, outcome, sh.injured, sh.killed, scripted=True)
        elif sh.kind == "strike" and sh.targets > 0:
            cp = self.scenario.us.doctrine.campaign
            kinds = c.kind_weight_by_facility(self.scenario.us.doctrine.scope.kind_weights)
            self.strike("scripted", sh.targets, cp.targets_per_facility, self.scope_weights(sh.scope, gidx), kinds,
                        cp.munitions_per_target)
        elif sh.kind == "iran_direct":
            forced = sh.injured > 0 or sh.killed > 0  # otherwise the salvo is drawn as for any direct attack
            self.iran_direct_attack(bidx, sh.injured if forced else None, sh.killed if forced else None)

    # ------------------------------------------------------------------ convenience

    def run(self) -> "EscalationModel":
        """Step to the horizon."""
        while self.running:
            self.step()
        return self
