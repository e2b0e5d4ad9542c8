"""The state of R replicates of the model: arrays with a leading replicate axis.

Shapes use the letters of :mod:`sim.rules` with R replicates in front: groups
``(R, G)``, stocks ``(R, G, W)`` (stored weapon-major as ``(W, R, G)``, see
:attr:`State.stock`), aimpoints intact ``(R, F)``, facility health
``(R, O, K)``, US and Iran quantities ``(R,)``, days of the last ladder events
``(R, 8)`` (stored event-major).  The Mesa engine keeps one of these with R = 1;
its agents are views on their slices (see :mod:`sim.agents`).

The state also carries what a day needs besides the arrays: the compiled
scenario ``c``, the parameters ``p`` (:class:`~sim.dynamics.params.Params`), the
generator ``rng`` and the event log (or None).
"""

from __future__ import annotations

import numpy as np

from .. import rules
from ..columns import C2, DAY_COUNTS, INTEL, STORAGE_OF_WEAPON
from ..compiled import K, Compiled
from ..schema import WEAPONS
from .ceasefire import Truce
from .events import EventLog
from .params import Params, at, col
from .sampling import alias_tables

ORDER_RING = 64
"""Length of the pending-order ring buffers (every order delay is at most 60 days)."""
NEVER = -10**6
"""Day stored for 'never happened'."""


class State:
    """R replicates of one compiled scenario at the end of day ``day`` (-1 before the first)."""

    def __init__(self, compiled: Compiled, replicates: int, rng: np.random.Generator, *,
                 params: Params | None = None, events: bool = False, track_bases: bool = False) -> None:
        c = compiled
        s = c.scenario
        R, G, F, W = int(replicates), c.n_groups, c.n_facilities, len(WEAPONS)
        if R < 1:
            raise ValueError("replicates must be at least 1")
        self.c, self.R, self.G, self.F = c, R, G, F
        self.p = params if params is not None else Params(c, R)
        if self.p.R != R:
            raise ValueError(f"parameters for {self.p.R} replicates given to a state of {R}")
        self.rng = rng
        self.events = EventLog() if events else None
        self.track_bases = bool(track_bases)
        self.day = -1
        self.all = np.arange(R)

        # ---- constants of the scenario
        self.full = c.stock0.copy()  # (G, W) storage capacity at full health
        self.full_total = c.stock0.sum(axis=1)
        self.base_accept, self.base_alias = alias_tables(c.base_probs)  # O(1) base draws per launch
        self.direct_cum = np.cumsum(rules.direct_target_probabilities(c.exposure))
        self.abroad = ~c.fac_in_iran
        doc = s.us.doctrine
        self.retaliation_kinds = c.kind_weight_by_facility(doc.scope.kind_weights)
        self.preempt_kinds = c.kind_weight_by_facility(doc.preemption.kind_weights)
        self.direct_target = doc.direct_response.target
        self.irgc_in_scope, self.iran_in_scope = doc.scope.irgc_facilities, doc.scope.inside_iran
        self.campaigns_on, self.preemption_on = doc.campaign.enabled, doc.preemption.enabled
        self.on_injury, self.on_fatality = doc.triggers.on_injury, doc.triggers.on_fatality
        self.red_line_territory = s.iran.red_line_territory
        self.mem = s.ladder.memory_days
        self.window = doc.triggers.window_days

        # ---- facilities and weapons
        self.intact = np.tile(c.fac_total, (R, 1))
        self.health = np.broadcast_to(c.owner_kind_health(c.fac_total), (R, c.n_owners, K)).copy()
        self.damaged = np.zeros(R, dtype=bool)
        self.fac_last_struck = np.full((R, F), NEVER, dtype=np.int64)
        self.stock_wrg = np.broadcast_to(c.stock0.T[:, None, :], (W, R, G)).copy()
        # ---- militia groups
        self.revenge = np.zeros((R, G))
        self.grievance = np.zeros((R, G))
        self.excitation = np.zeros((R, G))
        self.recent_attacks = np.zeros((R, G))
        self.tempo = np.zeros(R)  # tension built by the exchange itself (rules.tempo_added), on top of the drivers
        self.intensity = np.zeros((R, G))
        # ---- Iran
        self.restraint = np.array(np.broadcast_to(self.p.iran.restraint_min, (R,)), dtype=float)
        self.war_risk = np.zeros(R)
        self.hostility = np.zeros(R)
        self.irgc_killed_total = np.zeros(R, dtype=np.int64)
        self.territory_struck = np.zeros(R, dtype=bool)
        # ---- United States
        self.credibility = np.zeros(R)
        self.dose_memory = np.zeros(R)  # leaky memory of aimpoints struck, the norm a strike is judged by
        self.domestic = np.zeros(R)
        self.host_endogenous = np.zeros(R)
        self.last_prop_order = np.full(R, NEVER, dtype=np.int64)
        self.pend_injured = np.zeros((ORDER_RING, R), dtype=np.int64)  # injuries diagnosed late, by report day
        self.pend_targets = np.zeros((ORDER_RING, R), dtype=np.int64)
        self.pend_focus = np.zeros((ORDER_RING, R, G))
        self.pend_direct = np.zeros((ORDER_RING, R), dtype=np.int64)
        self.camp_start = np.full(R, -1, dtype=np.int64)
        self.camp_end = np.full(R, -1, dtype=np.int64)
        self.camp_first = np.zeros(R, dtype=np.int64)
        self.camp_focus = np.zeros((R, G))
        # ---- stand-downs (:mod:`sim.dynamics.standdown`)
        self.standdowns_on = s.standdown.enabled
        self.standing_down = np.zeros((R, G), dtype=bool)
        self.sd_source = np.zeros((R, G), dtype=np.int8)  # who ordered it: 1 Iran, 2 the group's leadership
        self.sd_start = np.full((R, G), NEVER, dtype=np.int64)
        self.heat = np.zeros((R, G))  # a leadership's alarm from its own fatal attacks
        self.leader_alarm_prev = np.zeros((R, G))
        self.iran_alarm_prev = np.zeros(R)
        self.iran_ordered_today = np.zeros(R, dtype=bool)
        self.provoked = np.zeros((R, G))  # revenge added since the last stand-down decisions
        # ---- ceasefire windows (:mod:`sim.dynamics.ceasefire`; None if the scenario declares none)
        self.truce = Truce.of(c, R, rng)
        # ---- doctrine options (:mod:`sim.dynamics.options`)
        self.leadership_on = bool(np.any(np.asarray(self.p.leadership.probability) > 0))
        self.self_defence_on = bool(np.any(np.asarray(self.p.self_defence.probability) > 0))
        self.pend_leader = np.zeros((ORDER_RING, R, G), dtype=bool) if self.leadership_on else None
        self.disrupted_until = np.full((R, G), NEVER, dtype=np.int64)
        # ---- bases (tallies for display, kept when ``track_bases``)
        B = len(c.base_ids)
        self.base_attacks = np.zeros((R, B), dtype=np.int64)
        self.base_injured = np.zeros((R, B), dtype=np.int64)
        self.base_killed = np.zeros((R, B), dtype=np.int64)
        self.base_last_attacked = np.full((R, B), NEVER, dtype=np.int64)
        # ---- ladder
        self.last_event_er = np.full((rules.N_EVENTS, R), NEVER, dtype=np.int64)
        self.exch_ring = np.zeros((self.mem, R), dtype=np.int64)
        self.exch_in_memory = np.zeros(R, dtype=np.int64)
        self.attack_ring = np.zeros((self.window, R), dtype=np.int64)
        self.cumulative_attacks = np.zeros(R, dtype=np.int64)
        self.rung = np.zeros(R, dtype=np.int64)
        self.max_rung = np.zeros(R, dtype=np.int64)
        # ---- the day's counts (one array; the ``n_<name>`` attributes are views into it)
        self.iran_direct_today = np.zeros(R, dtype=bool)
        self.counts = np.zeros((len(DAY_COUNTS), R), dtype=np.int64)
        for i, name in enumerate(DAY_COUNTS):
            setattr(self, "n_" + name, self.counts[i])
        self.gcounts = np.zeros((4, R, G), dtype=np.int64)
        self.g_attacks, self.g_successes, self.g_injury, self.g_fatal = self.gcounts
        self.prop_order_facilities = np.zeros(R, dtype=np.int64)
        self.campaign_order_targets = np.zeros(R, dtype=np.int64)
        self.tension = float(c.tension[0])
        self.outside = float(c.outside[0])
        self.host_exo = float(c.host_exogenous[0])

    # ------------------------------------------------------------------ views

    @property
    def stock(self) -> np.ndarray:
        """Weapons held, (R, G, W) (a view of the weapon-major storage)."""
        return self.stock_wrg.transpose(1, 2, 0)

    @property
    def last_event(self) -> np.ndarray:
        """Day of the last ladder event of each kind, (R, 8) (a view of the event-major storage)."""
        return self.last_event_er.T

    def storage_health(self, h: np.ndarray) -> np.ndarray:
        """Health of the storage holding each weapon, weapon-major (W, n, G), from health (n, O, K)."""
        return h[:, :self.G][:, :, STORAGE_OF_WEAPON].transpose(2, 0, 1)

    def capability(self, groups: slice | np.ndarray = slice(None)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(launch capacity, coordination, accuracy) of ``groups``, each (R, G'), from stock and health."""
        at_ = self.p.attack
        cap = rules.stock_capacity(self.stock_wrg[:, :, groups].sum(axis=0), self.full_total[groups],
                                   col(at_.stock_half_saturation))
        coord = rules.floor_scale(self.health[:, :self.G][:, groups, C2], col(at_.command_floor))
        acc = rules.floor_scale(self.health[:, :self.G][:, groups, INTEL], col(at_.intelligence_floor))
        return cap, coord, acc

    def reported_capacity(self) -> np.ndarray:
        """Each group's capacity as reported (0-1), (R, G): ``rules.reported_capacity``."""
        cap, coord, _ = self.capability()
        return rules.reported_capacity(cap, coord)

    # ------------------------------------------------------------------ shared bookkeeping

    def mark(self, event: int, idx: np.ndarray) -> None:
        """Ladder event ``event`` happened today in replicates ``idx``."""
        self.last_event_er[event, idx] = self.day

    def exchange(self, idx: np.ndarray) -> None:
        """A direct state-on-state exchange today in replicates ``idx`` (unique)."""
        self.exch_ring[self.day % self.mem, idx] += 1
        self.exch_in_memory[idx] += 1

    def book_casualties(self, idx: np.ndarray, injured: np.ndarray, killed: np.ndarray) -> None:
        """US casualties in replicates ``idx`` (unique): tallies, domestic pressure, war risk, ladder marks."""
        p = self.p
        self.n_us_injured[idx] += injured
        self.n_us_killed[idx] += killed
        self.domestic[idx] += rules.domestic_added(injured, killed, at(p.us.domestic_per_injured, idx),
                                                   at(p.us.domestic_per_killed, idx))
        self.war_risk[idx] += rules.war_risk_added(0, killed, 0, 0.0, at(p.iran.risk_per_us_killed, idx), 0.0)
        self.mark(rules.EV_INJURY, idx[np.asarray(injured) > 0])
        self.mark(rules.EV_FATALITY, idx[np.asarray(killed) > 0])

    def defer_injured(self, idx: np.ndarray, delayed: np.ndarray) -> None:
        """Injured in replicates ``idx`` (unique) diagnosed late: reported ``diagnosis_delay_days`` from today."""
        due = (self.day + at(self.p.attack.diagnosis_delay_days, idx)) % ORDER_RING
        np.add.at(self.pend_injured, (due, idx), delayed)

    def report_diagnoses(self) -> None:
        """Book today's late diagnoses (phase 0): US injured, pressure and ladder, no trigger of a response."""
        due = self.pend_injured[self.day % ORDER_RING]
        if due.any():
            idx = np.flatnonzero(due)
            n = due[idx].copy()
            due.fill(0)
            self.book_casualties(idx, n, np.zeros_like(n))
            self.log(idx, actor="US", kind="diagnosis", outcome="injuries", injured=n)

    def log(self, idx: np.ndarray, **fields) -> None:
        """Add events (if the log is kept)."""
        if self.events is not None:
            self.events.add(idx, self.day, **fields)


__all__ = ["NEVER", "ORDER_RING", "State"]
