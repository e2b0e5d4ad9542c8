"""The escalation model: a Mesa model stepping one day at a time.

The model holds a one-replicate :class:`sim.dynamics.State`; its agents
(:mod:`sim.agents`) hold their slices of it and act by calling the phase
functions of :mod:`sim.dynamics`, in the day's order: shocks, Iran, the militia
groups in random order (``AgentSet.shuffle_do``), the United States, end of day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
from mesa import DataCollector, Model

from . import dynamics
from .agents import Facility, Iran, MilitiaGroup, UnitedStates, USBase
from .columns import DAY_COUNTS, EVENT_COLUMNS, TIMESERIES_COLUMNS
from .compiled import Compiled, compile_scenario
from .engines import prepare_scenario
from .schema import Scenario

__all__ = ["EVENT_COLUMNS", "TIMESERIES_COLUMNS", "EscalationModel", "resolve_scenario"]


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
        self.state = dynamics.State(c, 1, self.rng, events=True, track_bases=True)
        self.date: dt.date = s.start_date
        self.groups = MilitiaGroup.create_agents(self, c.n_groups, index=list(range(c.n_groups)))
        self.bases = USBase.create_agents(self, len(c.base_ids), index=list(range(len(c.base_ids))))
        self.facilities = Facility.create_agents(self, c.n_facilities, index=list(range(c.n_facilities)))
        self.iran = Iran(self)
        self.us = UnitedStates(self)
        self._report()
        reporters: dict[str, Any] = {name: name for name in TIMESERIES_COLUMNS}
        reporters.update({f"capacity_{gid}": f"capacity_{gid}" for gid in c.group_ids})
        self.datacollector = DataCollector(model_reporters=reporters)
        self.running = True

    # ------------------------------------------------------------------ day loop

    def step(self) -> None:
        """One day (:mod:`sim.dynamics`): shocks, Iran, the militias in random order, the US,
        stand-down decisions (Iran, then the groups in random order), end of day."""
        st = self.state
        if not dynamics.start_day(st):
            self.running = False
            return
        self.date = self.c.dates[st.day]
        dynamics.apply_shocks(st)
        self.iran.step()
        self.groups.shuffle_do("step")
        self.us.step()
        self.iran.order_standdown()
        self.groups.shuffle_do("stand_down")
        dynamics.end_of_day(st)
        self._report()
        self.datacollector.collect(self)
        if st.day + 1 >= self.c.days:
            self.running = False

    def _report(self) -> None:
        """Copy the day's values of the state into the attributes the DataCollector reads."""
        st = self.state
        for i, name in enumerate(DAY_COUNTS):
            setattr(self, name, int(st.counts[i, 0]))
        self.cumulative_attacks = int(st.cumulative_attacks[0])
        self.rung = int(st.rung[0])
        self.max_rung = int(st.max_rung[0])
        self.tension = st.tension
        caps = st.reported_capacity()[0]
        for gid, cap in zip(self.c.group_ids, caps.tolist()):
            setattr(self, f"capacity_{gid}", cap)
        self.militia_capacity = float(caps.mean())
        self.iran_restraint = float(st.restraint[0])
        self.us_credibility = float(st.credibility[0])
        self.iran_war_risk = float(st.war_risk[0])

    # ------------------------------------------------------------------ views

    @property
    def day(self) -> int:
        return self.state.day

    @property
    def intact(self) -> np.ndarray:
        """Aimpoints intact per facility (F,)."""
        return self.state.intact[0]

    @property
    def health(self) -> np.ndarray:
        """Share of aimpoints intact per (owner, kind)."""
        return self.state.health[0]

    @property
    def fac_last_struck(self) -> np.ndarray:
        """Day each facility was last struck (F,)."""
        return self.state.fac_last_struck[0]

    @property
    def events(self) -> list[tuple]:
        """The event log as (day, actor, kind, target, outcome, detail) tuples, for display
        (``detail`` is :func:`sim.dynamics.describe` of the typed fields)."""
        return [(r["day"], r["actor"], r["kind"], r["target"], r["outcome"], dynamics.describe(r))
                for r in self.state.events.rows(0)]

    def event_frame(self, replicate: int = 0):
        """The typed event log as a table (:meth:`sim.dynamics.EventLog.frame`)."""
        return self.state.events.frame(self.c.dates, replicate)

    # ------------------------------------------------------------------ convenience

    def run(self) -> "EscalationModel":
        """Step to the horizon."""
        while self.running:
            self.step()
        return self
