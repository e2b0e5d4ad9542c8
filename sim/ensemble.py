"""Fast ensemble engine: R replicates of one scenario stepped together on numpy arrays.

The Mesa engine (:mod:`sim.model`, :mod:`sim.agents`) is the reference.  This
engine keeps the same state with a leading replicate axis -- groups ``(R, G)``,
stocks ``(R, G, W)``, aimpoints intact ``(R, F)``, facility health
``(R, O, K)``, US and Iran scalars ``(R,)``, ladder last-event days ``(R, 8)``
-- and runs the same day loop, calling the same functions of :mod:`sim.rules`:

1. **Drivers and shocks** -- the day's tension and outside pressure come from
   :class:`sim.compiled.Compiled` (shock overrides included); scripted shocks are
   applied to every replicate (attack: ``rules.scripted_attack_outcome``; strike:
   ``rules.scope_weights`` + the strike below; ``iran_direct``: step 2's attack).
2. **Iran** -- ``rules.restraint_update``; ``rules.rebuild`` of the aimpoints
   (only in replicates where an aimpoint was ever destroyed: the others are
   exactly intact, as in Mesa).  Health, a linear share of the aimpoints, follows
   the same rule (``rules.rebuild`` with total 1), which equals ``rules.health``
   of the rebuilt aimpoints up to float rounding; after every strike health is
   recomputed from the aimpoints with ``rules.health``.  Then ``rules.resupply``;
   ``rules.red_line_crossed`` and ``rules.direct_action_probability`` for a
   direct attack (base from ``rules.direct_target_probabilities``, salvo a
   binomial of homeland storage health, outcome counts a multinomial of
   ``rules.outcome_probabilities``, casualties from ``rules.casualties``).
3. **Militias** -- ``rules.stock_capacity``, ``rules.floor_scale`` (coordination,
   accuracy), ``rules.attack_intensity``, ``rules.weapon_mix``, launches capped by
   ``rules.launches``; each launch's base (``Compiled.base_probs``) and outcome
   class (``rules.outcome_probabilities`` at its base, weapon and the group's
   accuracy); ``rules.casualties`` for the launches that injure or kill.  Group
   order does not matter (nothing a group reads changes during the militia
   phase), so the Mesa engine's random activation order has no counterpart.
4. **United States** -- ``rules.triggers``, ``rules.approval_probability`` with
   ``rules.host_pressure``; a campaign (``rules.campaign_active``,
   ``rules.campaign_first_wave``, focus on groups with fatal attacks) or, after
   the cooldown, a proportionate order (``rules.casualty_score``,
   ``rules.proportionate_facilities``, focus ``rules.response_focus``); direct
   responses to an Iranian attack.  Then the orders due today, in the Mesa order:
   proportionate, campaign day (``rules.campaign_day_targets``), direct response,
   preemption (``rules.preemption_due``).  A strike is computed only for the
   replicates that strike (subset indexing): ``rules.owner_weights`` /
   ``rules.scope_weights``, ``rules.allocate_targets``, ``rules.strike_outcomes``,
   ``rules.munitions_used``, ``rules.health``, ``rules.stock_after_storage_loss``,
   ``rules.revenge_added``, ``rules.grievance_added``, ``rules.credibility_gain``,
   ``rules.host_added``, ``rules.war_risk_added``, ``rules.hostility_added``.
   Proportionate, campaign and direct-response strikes depend on each other only
   through the aimpoints left, so they run together in rounds (a replicate's
   first strike of the day in round 0, its second in round 1, in Mesa order);
   preemption reads the stocks those strikes leave and runs after them.
5. **End of day** -- ``rules.hawkes_excitation``, retention decays (the
   compiled ``ret`` factors), ``rules.leaky`` for recent attacks, the ladder
   (``rules.ladder_rung``), ``rules.reported_capacity`` of
   ``rules.stock_capacity`` and ``rules.floor_scale`` for the capacity columns.

Sampling
--------
Where the Mesa engine draws event by event, this engine draws the same law in
bulk, so the distributions of every output are the same while the individual
draws are not (the engines consume their generators differently):

* launches: Mesa draws ``Poisson(lambda * mix_w)`` per weapon; here the total
  per (replicate, group) is ``Poisson(lambda * sum_w mix_w)`` (exact inverse
  CDF, :func:`_poisson_nonzero`, cheap where it is zero) and each wanted launch
  picks its weapon from ``mix`` -- a multinomial split of a Poisson count, i.e.
  independent Poisson counts per weapon, as in Mesa -- before the stock cap;
* bases: Walker's alias method on ``Compiled.base_probs`` (Mesa: inverse CDF);
* outcome classes: Mesa's inverse CDF, one uniform per launch;
* casualties: ``rules.casualties`` on the launches that injure or kill;
* strikes: ``rules.strike_outcomes`` and ``rules.munitions_used`` on the
  (replicate, facility) entries with aimpoints allocated (the others draw zeros).

Seeding convention
------------------
Replicates are run in blocks of :data:`BLOCK` (10,000) consecutive replicate
numbers, starting at ``first_replicate``.  A block covering replicates
``b .. b+n-1`` uses one generator,
``numpy.random.default_rng(SeedSequence([seed, b, n]))``.  Hence the same
``(seed, replicates, first_replicate)`` always gives identical tables, and a
large run can be split into calls whose ``first_replicate`` are multiples of
``BLOCK`` apart (e.g. ``first_replicate=0, replicates=20000`` equals
``(0, 10000)`` followed by ``(10000, 10000)``) -- per-block seeding keeps memory
bounded without changing results.  Replicate r of this engine is not the same
stream as replicate r of the Mesa engine (:func:`sim.runner.replicate_seeds`);
only the distributions agree.

Outputs
-------
* :meth:`EnsembleEngine.timeseries` -- the per-day table with exactly the Mesa
  engine's columns and dtypes (replicate, day, date, ``TIMESERIES_COLUMNS``,
  ``capacity_<group>``), replicate-major.  Its columns are preallocated
  (R, D) buffers, filled every :data:`STAGE` days from a small day-major staging
  block, and wrapped without copying.  Memory is linear in R (about 80 bytes
  per replicate-day); no (R, D, F) history is kept.
* :meth:`EnsembleEngine.event_log` (``events=True``) -- the Mesa log's columns
  (``replicate, day, date, actor, kind, target, outcome, detail``) with
  *aggregated* rows where Mesa has one row per attack or per facility:

  - ``attack``: one row per (replicate, group, day) with launches; ``target`` the
    base attacked (bases joined by ``+`` if several), ``outcome`` the worst
    outcome, ``detail`` counts per weapon and outcome and the casualties.
  - strikes (``proportionate``, ``campaign``, ``direct_response``, ``preemptive``,
    ``scripted``): one row per strike; ``target`` the owners struck joined by
    ``+``, ``outcome`` ``struck`` (or ``no_target``), ``detail`` aimpoints,
    facilities, munitions, destroyed, militants/IRGC killed, civilian harm,
    aimpoints in Iran.
  - ``order``, ``shock``, ``scripted_attack``, ``direct_attack`` and ``rung``
    rows as in Mesa.
* :meth:`EnsembleEngine.outcomes` / :func:`outcomes_at_horizon` -- one row per
  replicate of totals at the horizon, accumulated during the run without a
  per-day table (for sweeps and calibration).

Per-replicate parameters (for later calibration)
------------------------------------------------
The attack-process parameters are read from the engine each day, never from the
scenario: ``engine.base_rate``, ``engine.motivation``, ``engine.alignment``,
``engine.risk_tolerance`` (``(G,)``) and these attributes of ``engine.attack``
(scalars): ``tension_weight``, ``outside_pressure_weight``, ``revenge_weight``,
``grievance_weight``, ``deterrence_weight``, ``max_rate``, ``excitation_jump``,
``stock_half_saturation``, ``command_floor``, ``intelligence_floor``.  They are
used only in full ``(R, G)`` broadcasts, so a calibration can assign arrays of
shape ``(R, G)`` (or ``(R, 1)``) to them after construction and before
:meth:`EnsembleEngine.run` (see ``tests/test_ensemble.py``).  Parameters used on
replicate subsets (the doctrine, strike feedback such as ``revenge_per_target``)
would need their subset taken (``p[idx]``) at their single point of use; half-lives
enter through the compiled retention factors ``Compiled.ret``.
"""

from __future__ import annotations

import types
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from . import rules
from .compiled import COUNTRIES, K, Compiled, compile_scenario
from .columns import (C2, CAMPAIGN, DAY_COUNTS, DIRECT_RESPONSE, EVENT_COLUMNS, FLOAT_COLUMNS, INT_STATE_COLUMNS,  # noqa: F401
                      INTEL, LOGI, MISSILE, OUTCOME_TOTALS, PREEMPTIVE, PROPORTIONATE, RM_STORE, SCRIPTED,
                      STORAGE_OF_WEAPON, STRIKE_LABELS, TIMESERIES_COLUMNS)
from .engines import prepare_scenario
from .outcomes import from_accumulated, horizon_table
from .schema import OUTCOMES, WEAPONS

BLOCK = 10_000
"""Replicates per seeding block (and per engine run inside :func:`run_ensemble`)."""

STAGE = 32
"""Days staged before they are written into the per-day table's buffers."""

ORDER_RING = 64
"""Length of the pending-order ring buffers (every order delay is at most 60 days)."""


def block_rng(seed: int, first: int, n: int) -> np.random.Generator:
    """Generator of the block of ``n`` replicates starting at replicate number ``first``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(first), int(n)]))


def _blocks(replicates: int, first: int) -> Iterator[tuple[int, int]]:
    for k in range(0, int(replicates), BLOCK):
        yield first + k, min(BLOCK, int(replicates) - k)


def _categorical(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw from cumulative weights ``cum`` (n, K) with uniforms ``u`` (n,).

    Same rule as the Mesa agents' ``searchsorted(cum, u * cum[-1], side="right")``, capped at K-1.
    """
    idx = (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
    return np.minimum(idx, cum.shape[1] - 1)


def _alias_tables(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables of each row of ``probs`` (n, K): (acceptance (n, K), alias (n, K))."""
    n, k = probs.shape
    accept = np.ones((n, k))
    alias = np.tile(np.arange(k), (n, 1))
    for i in range(n):
        q = probs[i] / probs[i].sum() * k
        small = [j for j in range(k) if q[j] < 1.0]
        large = [j for j in range(k) if q[j] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            accept[i, s], alias[i, s] = q[s], g
            q[g] -= 1.0 - q[s]
            (small if q[g] < 1.0 else large).append(g)
    return accept, alias


def _alias_draw(accept: np.ndarray, alias: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One draw per entry from row ``row`` of the alias tables, with one uniform each."""
    k = accept.shape[1]
    x = u * k
    j = np.minimum(x.astype(np.int64), k - 1)
    flat = row * k + j
    return np.where(x - j < accept.reshape(-1)[flat], j, alias.reshape(-1)[flat])


def _poisson_nonzero(lam: np.ndarray, rng: np.random.Generator,
                     max_terms: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(lam) draws for a flat array, by inverting one uniform per entry (exact inverse CDF).

    Returns (indices, counts) of the entries whose draw is non-zero: most entries are zero
    on a given day, and they cost only one uniform and one exponential.
    """
    u = rng.random(lam.size)
    term = np.exp(-lam)
    idx = np.flatnonzero(u >= term)
    n = np.zeros(idx.size, dtype=np.int64)
    if idx.size == 0:
        return idx, n
    u, lam_i, term = u[idx], lam[idx], term[idx]
    cdf = term.copy()
    act = np.arange(idx.size)
    for _ in range(max_terms):  # N = min{n : u < F(n)}
        n[act] += 1
        term[act] *= lam_i[act] / n[act]
        cdf[act] += term[act]
        act = act[u[act] >= cdf[act]]
        if act.size == 0:
            break
    return idx, n


class EnsembleEngine:
    """R replicates of one compiled scenario, stepped together.

    Args:
        compiled: the scenario's arrays (:func:`sim.compiled.compile_scenario`).
        replicates: R.
        rng: the ``numpy.random.Generator`` for every draw of this engine.
        events: keep an (aggregated) event log.
        table: keep the per-day table's (R, D) buffers; False for outcomes only.
        first_replicate: number of the first replicate (labels only).

    After :meth:`run`, the state arrays (``stock``, ``intact``, ``health``,
    ``restraint``, ``credibility``, ``rung``, ``max_rung``, ...) hold the
    horizon's values, and ``totals`` the per-replicate sums of the day counts.
    """

    def __init__(self, compiled: Compiled, replicates: int, rng: np.random.Generator, *, events: bool = False,
                 table: bool = True, first_replicate: int = 0) -> None:
        c = compiled
        s = c.scenario
        R, G, F, W = int(replicates), c.n_groups, c.n_facilities, len(WEAPONS)
        if R < 1:
            raise ValueError("replicates must be at least 1")
        self.c, self.s, self.R, self.G, self.F = c, s, R, G, F
        self.rng = rng
        self.events_on = bool(events)
        self.table_on = bool(table)
        self.first_replicate = int(first_replicate)
        self.day = -1
        self.running = True
        self._all = np.arange(R)

        # ---- parameters read every day (may be replaced by (R, G) arrays, see module doc)
        self.base_rate = c.base_rate.copy()
        self.motivation = c.motivation.copy()
        self.alignment = c.alignment.copy()
        self.risk_tolerance = c.risk_tolerance.copy()
        self.attack = types.SimpleNamespace(**s.militia.attack.model_dump())

        # ---- constant helpers
        self._full = c.stock0.copy()  # (G, W) storage capacity at full health
        self._full_total = c.stock0.sum(axis=1)
        self._base_cum = np.cumsum(c.base_probs, axis=1)  # (G, B)
        self._base_accept, self._base_alias = _alias_tables(c.base_probs)  # O(1) base draws per launch
        self._direct_cum = np.cumsum(rules.direct_target_probabilities(c.exposure))
        self._abroad = ~c.fac_in_iran
        doc = s.us.doctrine
        self._retaliation_kinds = c.kind_weight_by_facility(doc.scope.kind_weights)
        self._preempt_kinds = c.kind_weight_by_facility(doc.preemption.kind_weights)
        self._direct_weights = (rules.scope_weights(G, doc.direct_response.target)
                                if doc.direct_response.target != "none" else None)
        self._irgc_share, self._iran_share = rules.strike_shares(doc.scope.irgc_facilities, doc.scope.irgc_share,
                                                                 doc.scope.inside_iran, doc.scope.iran_share)

        # ---- state
        self.intact = np.tile(c.fac_total, (R, 1))
        self.health = np.broadcast_to(c.owner_kind_health(c.fac_total), (R, c.n_owners, K)).copy()
        self.damaged = np.zeros(R, dtype=bool)
        # stocks are stored weapon-major, (W, R, G), so sums over weapons are plane additions;
        # ``self.stock`` is the (R, G, W) view the rules see.
        self._stock = np.broadcast_to(c.stock0.T[:, None, :], (W, R, G)).copy()
        self.revenge = np.zeros((R, G))
        self.grievance = np.zeros((R, G))
        self.excitation = np.zeros((R, G))
        self.recent_attacks = np.zeros((R, G))
        self.intensity = np.zeros((R, G))
        self.restraint = np.full(R, float(s.iran.restraint_min))
        self.war_risk = np.zeros(R)
        self.hostility = np.zeros(R)
        self.irgc_killed_total = np.zeros(R, dtype=np.int64)
        self.territory_struck = np.zeros(R, dtype=bool)
        self.credibility = np.zeros(R)
        self.domestic = np.zeros(R)
        self.host_endogenous = np.zeros(R)
        self.last_prop_order = np.full(R, -10**6, dtype=np.int64)
        self.pend_targets = np.zeros((ORDER_RING, R), dtype=np.int64)
        self.pend_focus = np.zeros((ORDER_RING, R, G))
        self.pend_direct = np.zeros((ORDER_RING, R), dtype=np.int64)
        self.camp_start = np.full(R, -1, dtype=np.int64)
        self.camp_end = np.full(R, -1, dtype=np.int64)
        self.camp_first = np.zeros(R, dtype=np.int64)
        self.camp_focus = np.zeros((R, G))
        self._last_event = np.full((rules.N_EVENTS, R), -10**6, dtype=np.int64)  # event-major storage
        self._mem = s.ladder.memory_days
        self.exch_ring = np.zeros((self._mem, R), dtype=np.int64)
        self.exch_in_memory = np.zeros(R, dtype=np.int64)
        self._window = doc.triggers.window_days
        self.attack_ring = np.zeros((self._window, R), dtype=np.int64)
        self.cumulative_attacks = np.zeros(R, dtype=np.int64)
        self.rung = np.zeros(R, dtype=np.int64)
        self.max_rung = np.zeros(R, dtype=np.int64)
        self.first_fatal_day = np.full(R, -1, dtype=np.int64)
        self.iran_direct_today = np.zeros(R, dtype=bool)
        # day counts (one array; the named attributes are views into it)
        self._counts = np.zeros((len(DAY_COUNTS), R), dtype=np.int64)
        self.totals = np.zeros((len(DAY_COUNTS), R), dtype=np.int64)
        for i, name in enumerate(DAY_COUNTS):
            setattr(self, "n_" + name, self._counts[i])
        self._gcounts = np.zeros((4, R, G), dtype=np.int64)
        self.g_attacks, self.g_successes, self.g_injury, self.g_fatal = self._gcounts

        self.tension = float(c.tension[0])
        self.outside = float(c.outside[0])
        self.host_exo = float(c.host_exogenous[0])

        D = c.days
        if self.table_on:
            # replicate-major (R, D) buffers become the table's columns without a copy; each day's
            # values go to a small day-major staging block first, flushed every STAGE days
            # (strided writes of single days would touch a new memory page per replicate)
            self._int_names = [*DAY_COUNTS[:12], *INT_STATE_COLUMNS]
            self._float_names = [*FLOAT_COLUMNS, *(f"capacity_{gid}" for gid in c.group_ids)]
            self._tab_int = np.zeros((len(self._int_names), R, D), dtype=np.int64)
            self._tab_float = np.zeros((len(self._float_names), R, D))
            self._stage_int = np.zeros((STAGE, len(self._int_names), R), dtype=np.int64)
            self._stage_float = np.zeros((STAGE, len(self._float_names), R))
            self._staged_from = 0
        self._ev: list[tuple] = []

    @property
    def stock(self) -> np.ndarray:
        """Weapons held, (R, G, W) (a view of the weapon-major storage)."""
        return self._stock.transpose(1, 2, 0)

    @property
    def last_event(self) -> np.ndarray:
        """Day of the last ladder event of each kind, (R, 8) (a view of the event-major storage)."""
        return self._last_event.T

    def _storage_health(self, h: np.ndarray) -> np.ndarray:
        """Health of the storage holding each weapon, weapon-major (W, n, G), from health (n, O, K)."""
        return h[:, :self.G][:, :, STORAGE_OF_WEAPON].transpose(2, 0, 1)

    # ================================================================== day loop

    def run(self) -> "EnsembleEngine":
        """Step to the horizon."""
        while self.step():
            pass
        return self

    def step(self) -> bool:
        """One day for every replicate; returns False once the horizon is reached."""
        c = self.c
        if self.day + 1 >= c.days:
            self.running = False
            return False
        self.day += 1
        d = self.day
        self._reset_day(d)
        for shock in c.shocks_by_day.get(d, ()):
            self._apply_shock(shock)
        self._iran_step()
        self._militia_step()
        self._us_decide()
        self._us_act()
        self._end_day(d)
        if d + 1 >= c.days:
            self.running = False
        return self.running

    def _reset_day(self, d: int) -> None:
        c = self.c
        self.tension = float(c.tension[d])
        self.outside = float(c.outside[d])
        self.host_exo = float(c.host_exogenous[d])
        self._counts.fill(0)
        self._gcounts.fill(0)
        self.iran_direct_today.fill(False)
        slot = d % self._mem  # day d - memory leaves the ladder's window
        old = self.exch_ring[slot]
        if old.any():
            self.exch_in_memory -= old
            old.fill(0)

    # ------------------------------------------------------------------ Iran

    def _iran_step(self) -> None:
        c, ir, G = self.c, self.s.iran, self.G
        self.restraint = rules.restraint_update(self.restraint, self.war_risk, ir.restraint_min, ir.restraint_max,
                                                ir.restraint_threshold, ir.restraint_slope, ir.restraint_speed)
        if ir.rebuild_rate > 0 and self.damaged.any():
            # rules.rebuild on the aimpoints; health is a linear share of them, so the same rule applied
            # to the health shares (total 1) equals rules.health of the rebuilt aimpoints up to float
            # rounding -- and costs far less than the (R, F) x (F, O*K) product.  Health is recomputed
            # from the aimpoints with rules.health after every strike.
            if self.damaged.all():
                self.intact = rules.rebuild(self.intact, c.fac_total, ir.rebuild_rate)
                self.health = rules.rebuild(self.health, 1.0, ir.rebuild_rate)
            else:
                idx = np.flatnonzero(self.damaged)
                self.intact[idx] = rules.rebuild(self.intact[idx], c.fac_total, ir.rebuild_rate)
                self.health[idx] = rules.rebuild(self.health[idx], 1.0, ir.rebuild_rate)
        h = self.health
        # rules.resupply is elementwise: called here on weapon-major (W, R, G) arrays
        self._stock = rules.resupply(self._stock, self._full.T[:, None, :], self._storage_health(h), h[:, :G, LOGI],
                                     self.alignment, ir.resupply_rate, h[:, G, LOGI, None])
        red = rules.red_line_crossed(self.irgc_killed_total, self.territory_struck, ir.red_line_irgc_killed,
                                     ir.red_line_territory)
        if red.any():
            idx = np.flatnonzero(red)
            p = rules.direct_action_probability(self.hostility[idx], True, ir.direct_propensity)
            hit = idx[self.rng.random(idx.size) < p]
            if hit.size:
                self._iran_direct(hit)

    def _iran_direct(self, idx: np.ndarray, base: int | None = None, injured: int | None = None,
                     killed: int | None = None) -> None:
        """Direct Iranian missile attack on a US base in replicates ``idx`` (a state-on-state exchange)."""
        c, ir, rng = self.c, self.s.iran, self.rng
        n = idx.size
        if base is None:
            bases = _categorical(np.broadcast_to(self._direct_cum, (n, self._direct_cum.size)), rng.random(n))
        else:
            bases = np.full(n, base)
        if injured is None or killed is None:
            missiles = rng.binomial(ir.direct_salvo, self.health[idx, self.G + 1, RM_STORE])
            probs = rules.outcome_probabilities(c.air_defence[bases], c.exposure[bases], c.interceptable[MISSILE],
                                                c.p_injury[MISSILE], c.p_fatal[MISSILE], 1.0)
            counts = rng.multinomial(missiles, probs)
            inj, kil = rules.casualties(counts[:, 2], counts[:, 3], c.injured_extra[MISSILE], c.killed_extra[MISSILE],
                                        c.injured_in_fatal[MISSILE], rng)
            details = [f"missiles={m} intercepted={i}" for m, i in zip(missiles.tolist(), counts[:, 0].tolist())] \
                if self.events_on else None
        else:
            inj, kil = np.full(n, injured, dtype=np.int64), np.full(n, killed, dtype=np.int64)
            details = ["scripted"] * n if self.events_on else None
        self.n_iran_direct_attacks[idx] += 1
        self.iran_direct_today[idx] = True
        self._exchange(idx)
        self._last_event[rules.EV_IRAN_DIRECT, idx] = self.day
        self._casualties(idx, inj, kil)
        if self.events_on:
            outcome = np.where(kil > 0, "fatalities", np.where(inj > 0, "injuries", "no_damage"))
            self._log(idx, "Iran", "direct_attack", np.asarray(c.base_ids, dtype=object)[bases], outcome,
                      [f"{dt} injured={i} killed={k}" for dt, i, k in zip(details, inj.tolist(), kil.tolist())])

    def _exchange(self, idx: np.ndarray) -> None:
        self.exch_ring[self.day % self._mem, idx] += 1
        self.exch_in_memory[idx] += 1

    def _casualties(self, idx: np.ndarray, injured: np.ndarray, killed: np.ndarray) -> None:
        """Book US casualties in replicates ``idx`` (unique): tallies, domestic pressure, war risk, ladder marks."""
        us, ir = self.s.us, self.s.iran
        self.n_us_injured[idx] += injured
        self.n_us_killed[idx] += killed
        self.domestic[idx] += rules.domestic_added(injured, killed, us.domestic_per_injured, us.domestic_per_killed)
        self.war_risk[idx] += rules.war_risk_added(0, killed, 0, 0.0, ir.risk_per_us_killed, 0.0)
        self._last_event[rules.EV_INJURY, idx[injured > 0]] = self.day
        self._last_event[rules.EV_FATALITY, idx[killed > 0]] = self.day

    # ------------------------------------------------------------------ militias

    def capability(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(launch capacity, coordination, accuracy), each (R, G), from stock and facility health."""
        at, G = self.attack, self.G
        cap = rules.stock_capacity(self._stock.sum(axis=0), self._full_total, at.stock_half_saturation)
        coord = rules.floor_scale(self.health[:, :G, C2], at.command_floor)
        acc = rules.floor_scale(self.health[:, :G, INTEL], at.intelligence_floor)
        return cap, coord, acc

    def _militia_step(self) -> None:
        """Mechanisms 1 and 2 for every (replicate, group): intensity, launches, outcomes, casualties."""
        c, at, rng = self.c, self.attack, self.rng
        R, G, W = self.R, self.G, len(WEAPONS)
        cap, coord, acc = self.capability()
        lam = rules.attack_intensity(self.base_rate, self.motivation, self.tension, self.outside, self.revenge,
                                     self.grievance, self.excitation, cap, coord, self.alignment,
                                     self.restraint[:, None], self.risk_tolerance, self.credibility[:, None],
                                     at.tension_weight, at.outside_pressure_weight, at.revenge_weight,
                                     at.grievance_weight, at.deterrence_weight, at.max_rate)
        self.intensity = lam
        mix = rules.weapon_mix(self.stock, c.preference)  # (R, G, W)
        # Mesa draws Poisson(lam * mix_w) for each weapon.  Same law: the total is Poisson(lam * sum_w mix_w),
        # split over weapons by mix (each wanted launch picks its weapon from mix); drawn only where non-zero.
        k_idx, total = _poisson_nonzero((lam * mix.sum(axis=-1)).reshape(-1), rng)
        if k_idx.size == 0:
            return
        r_k, g_k = k_idx // G, k_idx % G
        pick = np.repeat(np.arange(k_idx.size), total)
        m = mix.transpose(2, 0, 1).reshape(W, -1)[:, k_idx]  # (W, k); mix is weapon-major in memory
        c0 = m[0][pick]
        c1 = c0 + m[1][pick]
        v = rng.random(pick.size) * (c1 + m[2][pick])
        weapon = (v >= c0).astype(np.int64) + (v >= c1)  # inverse CDF over the three weapons
        wanted = np.bincount(pick * W + weapon, minlength=k_idx.size * W).reshape(-1, W)
        n = rules.launches(wanted, self._stock[:, r_k, g_k].T)  # (k, W), capped by whole weapons held
        self._stock[:, r_k, g_k] -= n.T
        # one entry per launch made: its (replicate, group) position, weapon, base and outcome class
        e = np.flatnonzero(n)
        if e.size == 0:
            return
        cnt_e = n.reshape(-1)[e]
        pos = np.repeat(e // W, cnt_e)
        w = np.repeat(e % W, cnt_e)
        g = g_k[pos]
        L = pos.size
        b = _alias_draw(self._base_accept, self._base_alias, g, rng.random(L))  # base ~ Compiled.base_probs[g]
        probs = rules.outcome_probabilities(c.air_defence[b], c.exposure[b], c.interceptable[w], c.p_injury[w],
                                            c.p_fatal[w], acc[r_k[pos], g])
        c0 = probs[:, 0]  # Mesa's inverse CDF over the four outcome classes
        c1 = c0 + probs[:, 1]
        c2 = c1 + probs[:, 2]
        v = rng.random(L) * (c2 + probs[:, 3])
        o = (v >= c0).astype(np.int64) + (v >= c1) + (v >= c2)
        cnt = np.bincount(pos * 4 + o, minlength=k_idx.size * 4).reshape(-1, 4)
        att = cnt[:, 0] + cnt[:, 1] + cnt[:, 2] + cnt[:, 3]
        self.g_attacks.reshape(-1)[k_idx] += att
        self.g_successes.reshape(-1)[k_idx] += att - cnt[:, 0]
        self.g_injury.reshape(-1)[k_idx] += cnt[:, 2]
        self.g_fatal.reshape(-1)[k_idx] += cnt[:, 3]
        self.n_attacks += np.bincount(r_k, weights=att, minlength=R).astype(np.int64)
        self.n_intercepted += np.bincount(r_k, weights=cnt[:, 0], minlength=R).astype(np.int64)
        hurt = np.flatnonzero(o >= 2)
        inj_l = kil_l = None
        if hurt.size:
            wh, oh = w[hurt], o[hurt]
            inj_l, kil_l = rules.casualties(oh == 2, oh == 3, c.injured_extra[wh], c.killed_extra[wh],
                                            c.injured_in_fatal[wh], rng)
            reps, inv = np.unique(r_k[pos[hurt]], return_inverse=True)
            inj_r = np.bincount(inv, weights=inj_l, minlength=reps.size).astype(np.int64)
            kil_r = np.bincount(inv, weights=kil_l, minlength=reps.size).astype(np.int64)
            self.n_militia_injured[reps] += inj_r
            self.n_militia_killed[reps] += kil_r
            self._casualties(reps, inj_r, kil_r)
        self._last_event[rules.EV_ATTACK, r_k[att > 0]] = self.day
        if self.events_on:
            self._log_attacks(k_idx, att, pos, w, b, o, hurt, inj_l, kil_l, cnt)

    # ------------------------------------------------------------------ United States

    def _window_attacks(self) -> np.ndarray:
        """Attacks within the last ``window_days`` days, today's included (as ``EscalationModel.attacks_in_window``)."""
        past = self.attack_ring.sum(axis=0) - self.attack_ring[self.day % self._window]
        return past + self.n_attacks

    def _us_decide(self) -> None:
        """Triggers, approval, campaign or proportionate order (with cooldown), direct-response orders."""
        d, s = self.day, self.s
        doc, us = s.us.doctrine, s.us
        tr, cp, pp = doc.triggers, doc.campaign, doc.proportionate
        inj, kil = self.n_militia_injured, self.n_militia_killed
        window = self._window_attacks() if tr.attack_count > 0 else 0
        prop, camp = rules.triggers(inj, kil, window, tr.on_injury, tr.injury_threshold, tr.on_fatality,
                                    tr.attack_count)
        idx = np.flatnonzero(np.logical_or(prop, camp))
        if idx.size:
            p = rules.approval_probability(tr.respond_probability, self.domestic[idx], self.outside,
                                           rules.host_pressure(self.host_exo, self.host_endogenous[idx]),
                                           tr.pressure_gain, tr.host_pressure_weight)
            idx = idx[self.rng.random(idx.size) < p]
        if idx.size:
            pressure = self.domestic[idx] + self.outside
            is_camp = (np.broadcast_to(camp, (self.R,))[idx] & cp.enabled
                       & ~rules.campaign_active(d, self.camp_start[idx], self.camp_end[idx]))
            ci = idx[is_camp]
            if ci.size:
                self.camp_start[ci] = d + cp.delay_days
                self.camp_end[ci] = d + cp.delay_days + cp.days
                self.camp_first[ci] = rules.campaign_first_wave(kil[ci], pressure[is_camp], cp.first_wave_targets,
                                                                cp.targets_per_fatality, us.size_gain)
                self.camp_focus[ci] = self.g_fatal[ci]
                if self.events_on:
                    self._log(ci, "US", "order", "campaign", "scheduled",
                              [f"first_wave_day={d + cp.delay_days} targets={t}" for t in self.camp_first[ci].tolist()])
            is_prop = ~is_camp & (d - self.last_prop_order[idx] >= pp.cooldown_days)
            pi = idx[is_prop]
            if pi.size:
                focus = rules.response_focus(self.g_injury[pi], self.g_fatal[pi], self.g_attacks[pi])
                nfac = rules.proportionate_facilities(rules.casualty_score(inj[pi], kil[pi]), pressure[is_prop],
                                                      pp.facilities_base, pp.facilities_per_casualty,
                                                      pp.max_facilities, us.size_gain)
                slot = (d + pp.delay_days) % ORDER_RING
                self.pend_targets[slot, pi] += nfac * pp.targets_per_facility
                self.pend_focus[slot, pi] += focus
                self.last_prop_order[pi] = d
                if self.events_on:
                    self._log(pi, "US", "order", "proportionate", "scheduled",
                              [f"strike_day={d + pp.delay_days} facilities={k}" for k in nfac.tolist()])
        dr = doc.direct_response
        if dr.target != "none" and self.iran_direct_today.any():
            di = np.flatnonzero(self.iran_direct_today)
            self.pend_direct[(d + dr.delay_days) % ORDER_RING, di] += dr.targets

    def _us_act(self) -> None:
        """Orders due today, in the Mesa order: proportionate, campaign day, direct response, preemption.

        The first three do not depend on each other's results except through the aimpoints left,
        so they are carried out together in rounds: a replicate's first strike of the day in
        round 0, its second (in Mesa order) in round 1, ...  Preemption reads the stocks left
        after them and comes last.
        """
        d, doc = self.day, self.s.us.doctrine
        sc, pp, cp, dr, pe = doc.scope, doc.proportionate, doc.campaign, doc.direct_response, doc.preemption
        c = self.c
        slot = d % ORDER_RING
        spread = self.recent_attacks
        kinds = self._retaliation_kinds
        orders: list[tuple] = []  # (label code, replicates, targets, per facility, facility weights, munitions)
        due = self.pend_targets[slot]
        if due.any():
            idx = np.flatnonzero(due)
            w = rules.owner_weights(self.pend_focus[slot, idx], spread[idx], sc.focus_attacker, self._irgc_share,
                                    self._iran_share)
            orders.append((PROPORTIONATE, idx, due[idx].copy(), pp.targets_per_facility, w[:, c.fac_owner] * kinds,
                           pp.munitions_per_target))
            due.fill(0)
            self.pend_focus[slot].fill(0.0)
        cs = self.camp_start
        on = (cs >= 0) & (cs <= d) & (d < self.camp_end)  # pre-filter; rules.campaign_day_targets decides
        if on.any():
            idx = np.flatnonzero(on)
            n = rules.campaign_day_targets(d, cs[idx], self.camp_end[idx], self.camp_first[idx], cp.follow_on_targets,
                                           cp.follow_on_probability, self.rng.random(idx.size))
            go = n > 0
            if go.any():
                idx, n = idx[go], n[go]
                w = rules.owner_weights(self.camp_focus[idx], spread[idx], sc.focus_attacker, self._irgc_share,
                                        self._iran_share)
                orders.append((CAMPAIGN, idx, n, cp.targets_per_facility, w[:, c.fac_owner] * kinds,
                               cp.munitions_per_target))
        pdr = self.pend_direct[slot]
        if pdr.any():
            idx = np.flatnonzero(pdr)
            w = self._direct_weights[c.fac_owner] * kinds
            orders.append((DIRECT_RESPONSE, idx, pdr[idx].copy(), cp.targets_per_facility,
                           np.broadcast_to(w, (idx.size, self.F)), dr.munitions_per_target))
            pdr.fill(0)
        if len(orders) == 1:
            self._strike(*orders[0])
        elif orders:
            label = np.concatenate([np.full(o[1].size, o[0]) for o in orders])
            idx = np.concatenate([o[1] for o in orders])
            n = np.concatenate([o[2] for o in orders])
            per = np.concatenate([np.full(o[1].size, o[3]) for o in orders])
            weight = np.concatenate([o[4] for o in orders])
            mun = np.concatenate([np.full(o[1].size, o[5], dtype=float) for o in orders])
            order = np.argsort(idx, kind="stable")
            sorted_idx = idx[order]
            first = np.r_[True, sorted_idx[1:] != sorted_idx[:-1]]
            starts = np.flatnonzero(first)
            rank = np.empty(idx.size, dtype=np.int64)
            rank[order] = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
            for k in range(int(rank.max()) + 1):
                j = np.flatnonzero(rank == k)
                self._strike(label[j], idx[j], n[j], per[j], weight[j], mun[j])
        if rules.preemption_due(d, pe.enabled, pe.start_day, pe.interval_days, pe.targets):
            stock = self._stock.sum(axis=0)
            w = rules.owner_weights(np.zeros_like(stock), stock, 0.0, self._irgc_share, 0.0)
            self._strike(PREEMPTIVE, self._all, pe.targets, pe.targets_per_facility,
                         w[:, c.fac_owner] * self._preempt_kinds, pe.munitions_per_target)

    def _strike(self, label: Any, idx: np.ndarray, n_targets: Any, per_facility: Any, weight: np.ndarray,
                munitions_per_target: Any) -> None:
        """US strikes in replicates ``idx`` (unique; mechanisms 3 and 4).

        ``label`` is a code into :data:`STRIKE_LABELS` (one, or one per replicate); ``n_targets``,
        ``per_facility`` and ``munitions_per_target`` are scalars or one per replicate; ``weight``
        is the facility weights (``owner weight x kind weight``), (F,) or (n, F).
        """
        c, s, rng, G = self.c, self.s, self.rng, self.G
        pr, at, us_p, ir_p = s.us.doctrine.precision, self.attack, s.us, s.iran
        intact = self.intact[idx]
        alloc = rules.allocate_targets(weight, intact, n_targets, per_facility, rng.random((idx.size, self.F)))
        total = alloc.sum(axis=1)
        ok = total > 0
        label = np.broadcast_to(label, idx.shape)
        mpt = np.broadcast_to(munitions_per_target, idx.shape)
        if not ok.all():
            if self.events_on:
                req = np.broadcast_to(n_targets, idx.shape)[~ok]
                self._log(idx[~ok], "US", np.asarray(STRIKE_LABELS, dtype=object)[label[~ok]], "", "no_target",
                          [f"requested={q}" for q in req.tolist()])
            idx, alloc, total, intact, label, mpt = idx[ok], alloc[ok], total[ok], intact[ok], label[ok], mpt[ok]
            if idx.size == 0:
                return
        # the rules draw per facility; only facilities with aimpoints struck can have non-zero results,
        # so they are called on those (replicate, facility) entries alone and summed with bincount
        rows, cols = np.nonzero(alloc)
        a = alloc[rows, cols]
        destroyed, harm, militants, irgc = rules.strike_outcomes(
            a, pr.p_destroy, pr.collateral_per_target, pr.militants_per_target, pr.irgc_per_target,
            c.fac_is_militia[cols], c.fac_is_irgc[cols], rng)
        n = idx.size
        O = c.n_owners

        def per_row(x: np.ndarray) -> np.ndarray:
            return np.bincount(rows, weights=x, minlength=n).astype(np.int64)

        mun = per_row(rules.munitions_used(a, mpt[rows], rng))
        before = self.health[idx]
        intact[rows, cols] -= destroyed
        self.intact[idx] = intact
        self.damaged[idx[np.unique(rows[destroyed > 0])]] = True
        after = c.owner_kind_health(intact)
        self.health[idx] = after
        self._stock[:, idx] = rules.stock_after_storage_loss(self._stock[:, idx], self._storage_health(before),
                                                             self._storage_health(after))
        owner_e = rows * O + c.fac_owner[cols]
        aim_by_owner = np.bincount(owner_e, weights=a, minlength=n * O).reshape(n, O)
        mil_by_owner = np.bincount(owner_e, weights=militants, minlength=n * O).reshape(n, O)
        harm_by_country = np.bincount(rows * len(COUNTRIES) + c.fac_country[cols], weights=harm,
                                      minlength=n * len(COUNTRIES)).reshape(n, len(COUNTRIES))
        self.revenge[idx] += rules.revenge_added(aim_by_owner[:, :G], mil_by_owner[:, :G], at.revenge_per_target,
                                                 at.revenge_per_militant)
        self.grievance[idx] += rules.grievance_added(harm_by_country, c.group_country, at.grievance_per_harm)
        in_iran = per_row(a * c.fac_in_iran[cols])
        n_irgc = per_row(irgc)
        abroad = self._abroad[cols]
        self.credibility[idx] = rules.credibility_gain(self.credibility[idx], total, us_p.credibility_gain)
        self.host_endogenous[idx] += rules.host_added(per_row(harm * abroad), per_row(abroad),
                                                      us_p.host_per_harm, us_p.host_per_facility)
        self.war_risk[idx] += rules.war_risk_added(total, 0, n_irgc, ir_p.risk_per_target, 0.0,
                                                   ir_p.risk_per_irgc_killed)
        self.hostility[idx] += rules.hostility_added(n_irgc, in_iran, ir_p.hostility_per_irgc_killed,
                                                     ir_p.hostility_per_iran_target)
        self.irgc_killed_total[idx] += n_irgc
        n_fac = np.bincount(rows, minlength=idx.size)
        mil = per_row(militants)
        hm = per_row(harm)
        self.n_us_strikes[idx] += n_fac
        self.n_targets_struck[idx] += total
        self.n_munitions[idx] += mun
        self.n_militants_killed[idx] += mil
        self.n_irgc_killed[idx] += n_irgc
        self.n_civilian_harm[idx] += hm
        d = self.day
        self._last_event[rules.EV_STRIKE, idx] = d
        self._last_event[rules.EV_CAMPAIGN, idx[label == CAMPAIGN]] = d
        self._last_event[rules.EV_IRGC_KILLED, idx[n_irgc > 0]] = d
        ii = in_iran > 0
        if ii.any():
            j = idx[ii]
            first_today = j[self.n_targets_in_iran[j] == 0]  # one exchange per day of strikes inside Iran
            self.territory_struck[j] = True
            self.n_targets_in_iran[j] += in_iran[ii]
            self._last_event[rules.EV_IRAN_STRUCK, j] = d
            self._exchange(first_today)
        if self.events_on:
            owners = np.asarray(c.owner_ids, dtype=object)
            hit = aim_by_owner > 0
            targets = ["+".join(owners[row]) for row in hit]
            dest = per_row(destroyed)
            detail = [f"targets={t} facilities={f} munitions={m} destroyed={x} militants_killed={k} irgc_killed={q} "
                      f"civilian_harm={h} in_iran={i}"
                      for t, f, m, x, k, q, h, i in zip(total.tolist(), n_fac.tolist(), mun.tolist(), dest.tolist(),
                                                        mil.tolist(), n_irgc.tolist(), hm.tolist(), in_iran.tolist())]
            self._log(idx, "US", np.asarray(STRIKE_LABELS, dtype=object)[label], targets, "struck", detail)

    # ------------------------------------------------------------------ shocks

    def _apply_shock(self, sh: Any) -> None:
        """Mechanism 7: a scripted event, forced in every replicate."""
        c, G, R = self.c, self.G, self.R
        idx = self._all
        gidx = c.group_ids.index(sh.group) if sh.group else None
        bidx = c.base_ids.index(sh.base) if sh.base else None
        if self.events_on:
            target = sh.group or sh.base or (sh.scope if sh.kind == "strike" else "")
            self._log(idx, "scenario", "shock", target, sh.kind,
                      f"injured={sh.injured} killed={sh.killed} targets={sh.targets} value={sh.value}")
        if sh.kind == "attack":
            g = gidx if gidx is not None else 0
            outcome = int(rules.scripted_attack_outcome(sh.injured, sh.killed))
            self.g_attacks[:, g] += 1
            self.n_attacks += 1
            if outcome == 0:
                self.n_intercepted += 1
            else:
                self.g_successes[:, g] += 1
            self.g_injury[:, g] += outcome == 2
            self.g_fatal[:, g] += outcome == 3
            inj, kil = np.full(R, sh.injured, dtype=np.int64), np.full(R, sh.killed, dtype=np.int64)
            self.n_militia_injured += inj
            self.n_militia_killed += kil
            self._casualties(idx, inj, kil)
            self._last_event[rules.EV_ATTACK] = self.day
            if self.events_on:
                if bidx is None:
                    bases = _categorical(np.broadcast_to(self._base_cum[g], (R, self._base_cum.shape[1])),
                                         self.rng.random(R))
                else:
                    bases = np.full(R, bidx)
                self._log(idx, c.group_ids[g], "scripted_attack", np.asarray(c.base_ids, dtype=object)[bases],
                          OUTCOMES[outcome], f"weapon={sh.weapon} injured={sh.injured} killed={sh.killed}")
        elif sh.kind == "strike" and sh.targets > 0:
            cp = self.s.us.doctrine.campaign
            w = rules.scope_weights(G, sh.scope, gidx)[c.fac_owner] * self._retaliation_kinds
            self._strike(SCRIPTED, idx, sh.targets, cp.targets_per_facility, w, cp.munitions_per_target)
        elif sh.kind == "iran_direct":
            forced = sh.injured > 0 or sh.killed > 0  # otherwise the salvo is drawn as for any direct attack
            self._iran_direct(idx, bidx, sh.injured if forced else None, sh.killed if forced else None)

    # ------------------------------------------------------------------ end of day

    def _end_day(self, d: int) -> None:
        c, at, ret, lad = self.c, self.attack, self.c.ret, self.s.ladder
        if self.s.us.doctrine.triggers.attack_count > 0:
            self.attack_ring[d % self._window] = self.n_attacks
        self.cumulative_attacks += self.n_attacks
        self.excitation = rules.hawkes_excitation(self.excitation, self.g_successes, at.excitation_jump,
                                                  ret["excitation"])
        self.revenge *= ret["revenge"]
        self.grievance *= ret["grievance"]
        self.recent_attacks = rules.leaky(self.recent_attacks, self.g_attacks, ret["recent"])
        self.credibility *= ret["credibility"]
        self.domestic *= ret["domestic"]
        self.host_endogenous *= ret["host"]
        self.war_risk *= ret["war_risk"]
        self.hostility *= ret["hostility"]
        rung = rules.ladder_rung(d - self.last_event, self.exch_in_memory, lad.harassment_days, lad.memory_days,
                                 lad.regional_war_exchanges)
        if self.events_on:
            moved = np.flatnonzero(rung != self.rung)
            if moved.size:
                names = np.asarray(rules.RUNG_NAMES, dtype=object)
                new, old = rung[moved], self.rung[moved]
                self._log(moved, "ladder", "rung", names[new], np.where(new > old, "up", "down").astype(object),
                          ["from=" + n for n in names[old]])
        self.rung = rung
        np.maximum(self.max_rung, rung, out=self.max_rung)
        self.totals += self._counts
        fatal = (self.n_us_killed > 0) & (self.first_fatal_day < 0)
        self.first_fatal_day[fatal] = d
        if self.table_on:
            j = d - self._staged_from
            si, sf = self._stage_int[j], self._stage_float[j]
            si[:12] = self._counts[:12]  # DAY_COUNTS[:12] are the first twelve columns, in table order
            si[12] = self.cumulative_attacks
            si[13] = rung
            si[14] = self.max_rung
            cap, coord, _ = self.capability()
            caps = rules.reported_capacity(cap, coord)
            sf[0] = caps.mean(axis=1)
            sf[1] = self.restraint
            sf[2] = self.credibility
            sf[3] = self.war_risk
            sf[4:] = caps.T
            if j + 1 == STAGE or d + 1 == self.c.days:
                self._flush()

    def _flush(self) -> None:
        """Copy the staged days into the replicate-major table buffers."""
        lo, hi = self._staged_from, self.day + 1
        if hi > lo:
            n = hi - lo
            # transpose in blocks of replicates, so that source and destination pages stay few
            for r0 in range(0, self.R, 512):
                r1 = min(r0 + 512, self.R)
                self._tab_int[:, r0:r1, lo:hi] = self._stage_int[:n, :, r0:r1].transpose(1, 2, 0)
                self._tab_float[:, r0:r1, lo:hi] = self._stage_float[:n, :, r0:r1].transpose(1, 2, 0)
        self._staged_from = hi

    # ================================================================== outputs

    @property
    def replicate_ids(self) -> np.ndarray:
        return self.first_replicate + np.arange(self.R, dtype=np.int64)

    def timeseries(self) -> pd.DataFrame:
        """The per-day table: the Mesa engine's columns and dtypes, replicate-major."""
        if not self.table_on:
            raise RuntimeError("this engine was built with table=False")
        c, R = self.c, self.R
        D = self.day + 1
        dates = pd.to_datetime(c.dates[:D])
        cols: dict[str, Any] = {
            "replicate": np.repeat(self.replicate_ids, D),
            "day": np.tile(np.arange(D, dtype=np.int64), R),
            "date": np.tile(dates.values, R),
        }
        self._flush()
        for name in TIMESERIES_COLUMNS:
            if name == "tension":
                cols[name] = np.tile(c.tension[:D], R)
            elif name in self._int_names:
                cols[name] = self._tab_int[self._int_names.index(name), :, :D].reshape(-1)
            else:
                cols[name] = self._tab_float[self._float_names.index(name), :, :D].reshape(-1)
        for gid in c.group_ids:
            name = f"capacity_{gid}"
            cols[name] = self._tab_float[self._float_names.index(name), :, :D].reshape(-1)
        return pd.DataFrame(cols, copy=False)

    def outcomes(self) -> pd.DataFrame:
        """The outcome registry's horizon table (:mod:`sim.outcomes`), one row per replicate, without a per-day table."""
        cap, coord, _ = self.capability()
        last = {"cumulative_attacks": self.cumulative_attacks, "rung": self.rung, "max_rung": self.max_rung,
                "militia_capacity": rules.reported_capacity(cap, coord).mean(axis=1),
                "iran_restraint": self.restraint, "us_credibility": self.credibility, "iran_war_risk": self.war_risk}
        totals = {name: self.totals[i] for i, name in enumerate(DAY_COUNTS)}
        return from_accumulated(self.replicate_ids, totals, last, {"us_killed": self.first_fatal_day})

    # ------------------------------------------------------------------ event log

    def _log(self, idx: np.ndarray, actor: Any, kind: Any, target: Any, outcome: Any, detail: Any) -> None:
        self._ev.append((np.asarray(idx), self.day, actor, kind, target, outcome, detail))

    def _log_attacks(self, k_idx, att, pos, w, b, o, hurt, inj_l, kil_l, cnt) -> None:
        """One row per (replicate, group) that attacked today (see the module doc)."""
        c, G, W = self.c, self.G, len(WEAPONS)
        B, k = len(c.base_ids), k_idx.size
        per_w = np.bincount(pos * W + w, minlength=k * W).reshape(-1, W)
        per_b = np.bincount(pos * B + b, minlength=k * B).reshape(-1, B) > 0
        worst = np.zeros(k, dtype=np.int64)
        np.maximum.at(worst, pos, o)
        inj = np.zeros(k, dtype=np.int64)
        kil = np.zeros(k, dtype=np.int64)
        if hurt.size:
            np.add.at(inj, pos[hurt], inj_l)
            np.add.at(kil, pos[hurt], kil_l)
        keep = np.flatnonzero(att > 0)
        base_ids = np.asarray(c.base_ids, dtype=object)
        targets = ["+".join(base_ids[row]) for row in per_b[keep]]
        detail = [f"attacks={sum(pw)} uav={pw[0]} rocket={pw[1]} missile={pw[2]} intercepted={q[0]} "
                  f"no_damage={q[1]} injuries={q[2]} fatalities={q[3]} injured={i} killed={x}"
                  for pw, q, i, x in zip(per_w[keep].tolist(), cnt[keep].tolist(), inj[keep].tolist(),
                                         kil[keep].tolist())]
        keys = k_idx[keep]
        self._log(keys // G, np.asarray(c.group_ids, dtype=object)[keys % G], "attack", targets,
                  np.asarray(OUTCOMES, dtype=object)[worst[keep]], detail)

    def event_log(self) -> pd.DataFrame:
        """The aggregated event log (``events=True``), Mesa's columns, replicate-major in time order."""
        if not self.events_on:
            raise RuntimeError("this engine was built with events=False")
        parts = {k: [] for k in ("rep", "day", "actor", "kind", "target", "outcome", "detail")}
        for idx, day, *fields in self._ev:
            n = idx.size
            parts["rep"].append(idx)
            parts["day"].append(np.full(n, day, dtype=np.int64))
            for key, val in zip(("actor", "kind", "target", "outcome", "detail"), fields):
                if isinstance(val, str):
                    parts[key].append(np.full(n, val, dtype=object))
                else:
                    parts[key].append(np.asarray(val, dtype=object).reshape(n))
        if parts["rep"]:
            cat = {k: np.concatenate(v) for k, v in parts.items()}
        else:
            cat = {k: np.array([], dtype=np.int64 if k in ("rep", "day") else object) for k in parts}
        order = np.argsort(cat["rep"], kind="stable")
        dates = pd.to_datetime(self.c.dates).values
        frame = pd.DataFrame({
            "replicate": self.first_replicate + cat["rep"][order].astype(np.int64),
            "day": cat["day"][order],
            "date": dates[cat["day"][order]],
        })
        for key in EVENT_COLUMNS[1:]:
            frame[key] = cat[key][order].tolist()
        return frame[["replicate", "day", "date", *EVENT_COLUMNS[1:]]]


# ====================================================================== public API


def run_ensemble(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                 overrides: Sequence[str] = (), events: bool = False, first_replicate: int = 0
                 ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run ``replicates`` replicates on the ensemble engine; return (timeseries, events or None).

    ``scenario`` is anything :class:`~sim.model.EscalationModel` accepts.  Seeding:
    see the module docstring (blocks of :data:`BLOCK` from ``first_replicate``).
    """
    s = prepare_scenario(scenario, days, overrides)
    c = compile_scenario(s)
    ts_parts, ev_parts = [], []
    for first, n in _blocks(replicates, first_replicate):
        eng = EnsembleEngine(c, n, block_rng(seed, first, n), events=events, table=True, first_replicate=first).run()
        ts_parts.append(eng.timeseries())
        if events:
            ev_parts.append(eng.event_log())
        del eng
    ts = ts_parts[0] if len(ts_parts) == 1 else pd.concat(ts_parts, ignore_index=True)
    ev = None
    if events:
        ev = ev_parts[0] if len(ev_parts) == 1 else pd.concat(ev_parts, ignore_index=True)
    return ts, ev


def outcomes_at_horizon(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                        overrides: Sequence[str] = (), first_replicate: int = 0) -> pd.DataFrame:
    """The outcome registry's horizon table (:data:`sim.outcomes.OUTCOMES`), without building the per-day table.

    Same seeding as :func:`run_ensemble` (identical runs), so these rows equal
    :func:`sim.outcomes.horizon_table` of ``run_ensemble(...)[0]``.
    """
    s = prepare_scenario(scenario, days, overrides)
    c = compile_scenario(s)
    parts = []
    for first, n in _blocks(replicates, first_replicate):
        eng = EnsembleEngine(c, n, block_rng(seed, first, n), events=False, table=False, first_replicate=first).run()
        parts.append(eng.outcomes())
        del eng
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


outcomes_from_timeseries = horizon_table
"""The columns of :func:`outcomes_at_horizon` from a per-day table of either engine (:func:`sim.outcomes.horizon_table`)."""


__all__ = ["BLOCK", "EnsembleEngine", "block_rng", "mesa_outcomes", "outcomes_at_horizon", "outcomes_from_timeseries",
           "prepare_scenario", "run_ensemble"]


def mesa_outcomes(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                  overrides: Sequence[str] = (), first_replicate: int = 0) -> pd.DataFrame:
    """The columns of :func:`outcomes_at_horizon` from Mesa runs (:func:`sim.runner.run_replicates`).

    A module-level function so that validation code can spread Mesa runs over processes.
    """
    from .runner import run_replicates

    ts, _ = run_replicates(scenario, replicates, seed, days=days, overrides=overrides,
                           first_replicate=first_replicate)
    return horizon_table(ts)
