"""The ensemble engine: R replicates of one scenario stepped together by :mod:`sim.dynamics`.

This module is a thin driver: the day itself -- every phase, formula and
decision -- is :func:`sim.dynamics.run_day` on a :class:`sim.dynamics.State`
of R replicates.  The driver seeds it, steps it to the horizon and records:

* :meth:`EnsembleEngine.timeseries` -- the per-day table (replicate, day, date,
  :data:`sim.columns.TIMESERIES_COLUMNS`, ``capacity_<group>``), replicate-major,
  the Mesa engine's columns and dtypes.  Its columns are preallocated (R, D)
  buffers filled every :data:`STAGE` days from a small day-major staging block
  and wrapped without copying (about 80 bytes per replicate-day; about 60 with
  ``compact=True``: whole numbers as ``int32``, ``day`` as ``int16``, the types
  the files get).
* :meth:`EnsembleEngine.event_log` (``events=True``) -- the typed, compact event
  log of :mod:`sim.dynamics.events` (categorical text, narrow integers).
* :meth:`EnsembleEngine.outcomes` / :func:`outcomes_at_horizon` -- one row per
  replicate of totals at the horizon, without a per-day table.
* :meth:`EnsembleEngine.recorded_arrays` -- chosen day counts as (R, D) arrays
  (``record=``; calibration statistics), without a per-day table.

Per-replicate parameters: ``params`` (``{schema path: one value per replicate}``,
see :class:`sim.dynamics.Params`) gives each replicate its own parameter vector
-- calibration particles, posterior draws, sweep design points -- in one call.

Sampling
--------
Where one-by-one code would draw event by event, the dynamics draw the same law
in bulk (:mod:`sim.dynamics.sampling`): launches as a Poisson total split over
weapons, bases by the alias method, outcome classes by inverse CDF, casualties
with ``rules.casualties`` on the launches that hurt, strike results on the
facilities struck only.

Seeding convention
------------------
Replicates are run in blocks of :data:`BLOCK` (10,000) consecutive replicate
numbers, starting at ``first_replicate``.  A block covering replicates
``b .. b+n-1`` uses one generator,
``numpy.random.default_rng(SeedSequence([seed, b, n]))``.  Hence the same
``(seed, replicates, first_replicate)`` always gives identical tables, and a
large run can be split into calls whose ``first_replicate`` are multiples of
``BLOCK`` apart.  Replicate r of this engine is not the same stream as
replicate r of the Mesa engine (:func:`sim.runner.replicate_seeds`); only the
distributions agree.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd


from .columns import (DAY_COUNTS, FLOAT_COLUMNS, INT_STATE_COLUMNS, OUTCOME_TOTALS, STANDDOWN_COUNTS,  # noqa: F401
                      TIMESERIES_COLUMNS)
from .compiled import Compiled, compile_scenario
from .dynamics import Params, State, run_day
from .dynamics.events import EventParts, concat_events
from .aftermath import CampaignAftermath
from .engines import get_engine, prepare_scenario
from .outcomes import LONGEST, from_accumulated, horizon_table

BLOCK = 10_000
"""Replicates per seeding block (and per engine run inside :func:`run_ensemble`)."""

STAGE = 32
"""Days staged before they are written into the per-day table's buffers."""

ORDER_COUNTS = ("prop_order_facilities", "campaign_order_targets")
"""Day records besides the day counts: facilities of a proportionate strike ordered that day and
first-wave aimpoints (at least 1) of a campaign ordered that day (0 if none)."""


def block_rng(seed: int, first: int, n: int) -> np.random.Generator:
    """Generator of the block of ``n`` replicates starting at replicate number ``first``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(first), int(n)]))


def seeding_blocks(replicates: int, first: int) -> Iterator[tuple[int, int]]:
    """(first replicate, count) of each seeding block of :data:`BLOCK` replicates, starting at ``first``."""
    for k in range(0, int(replicates), BLOCK):
        yield first + k, min(BLOCK, int(replicates) - k)


class EnsembleEngine:
    """R replicates of one compiled scenario, stepped together.

    Args:
        compiled: the scenario's arrays (:func:`sim.compiled.compile_scenario`).
        replicates: R.
        rng: the ``numpy.random.Generator`` for every draw of this engine.
        events: keep the event log.
        table: keep the per-day table's (R, D) buffers; False for outcomes only.
        first_replicate: number of the first replicate (labels only).
        params: per-replicate parameter values, ``{path: (R,) values}`` or a :class:`~sim.dynamics.Params`.
        record: names of :data:`~sim.columns.DAY_COUNTS`, ``cumulative_attacks`` or
            :data:`ORDER_COUNTS` to keep per day (:meth:`recorded_arrays`).
        compact: the per-day table's whole numbers as ``int32`` and ``day`` as ``int16`` (same values; what the
            result files store) instead of the Mesa engine's ``int64``.

    The state is :attr:`state` (its arrays are also readable as attributes of
    the engine: ``engine.stock``, ``engine.rung``, ...); after :meth:`run` it holds
    the horizon's values, and ``totals`` the per-replicate sums of the day counts.
    """

    def __init__(self, compiled: Compiled, replicates: int, rng: np.random.Generator, *, events: bool = False,
                 table: bool = True, first_replicate: int = 0, params: Params | Mapping[str, Any] | None = None,
                 record: Sequence[str] = (), compact: bool = False) -> None:
        if params is not None and not isinstance(params, Params):
            params = Params(compiled, int(replicates), params)
        self.state = st = State(compiled, replicates, rng, params=params, events=events)
        self.c, self.R, self.G = compiled, st.R, st.G
        self.table_on = bool(table)
        self.compact = bool(compact)
        self.first_replicate = int(first_replicate)
        self.running = True
        R, D = st.R, compiled.days
        self.totals = np.zeros((len(DAY_COUNTS), R), dtype=np.int64)
        self.first_fatal_day = np.full(R, -1, dtype=np.int64)
        self.aftermath = CampaignAftermath(R)
        self.standdown_run = np.zeros(R, dtype=np.int64)  # current and longest run of days with a group down
        self.longest_standdown = np.zeros(R, dtype=np.int64)
        unknown = set(record) - {*DAY_COUNTS, "cumulative_attacks", *ORDER_COUNTS}
        if unknown:
            raise ValueError(f"cannot record {sorted(unknown)}")
        self.recorded = {name: np.zeros((D, R), dtype=np.int64) for name in record}
        if self.table_on:
            # replicate-major (R, D) buffers become the table's columns without a copy; each day's
            # values go to a small day-major staging block first, flushed every STAGE days
            self._int_names = [*DAY_COUNTS[:12], *INT_STATE_COLUMNS, *STANDDOWN_COUNTS]
            self._float_names = [*FLOAT_COLUMNS, *(f"capacity_{gid}" for gid in compiled.group_ids)]
            self._tab_int = np.zeros((len(self._int_names), R, D), dtype=np.int32 if compact else np.int64)
            self._tab_float = np.zeros((len(self._float_names), R, D))
            self._stage_int = np.zeros((STAGE, len(self._int_names), R), dtype=np.int64)
            self._stage_float = np.zeros((STAGE, len(self._float_names), R))
            self._staged_from = 0

    def __getattr__(self, name: str) -> Any:
        if name == "state":
            raise AttributeError(name)
        return getattr(self.state, name)

    @property
    def day(self) -> int:
        return self.state.day

    # ================================================================== day loop

    def run(self) -> "EnsembleEngine":
        """Step to the horizon."""
        while self.step():
            pass
        return self

    def step(self) -> bool:
        """One day for every replicate; returns False once the horizon is reached."""
        st = self.state
        if not run_day(st):
            self.running = False
            return False
        self._record(st)
        if st.day + 1 >= self.c.days:
            self.running = False
        return self.running

    def _record(self, st: State) -> None:
        d = st.day
        self.totals += st.counts
        fatal = (st.n_us_killed > 0) & (self.first_fatal_day < 0)
        self.first_fatal_day[fatal] = d
        self.aftermath.update(d, st.n_attacks, st.n_targets_struck)
        if st.standdowns_on:
            down = st.n_groups_stood_down > 0
            self.standdown_run = np.where(down, self.standdown_run + 1, 0)
            np.maximum(self.longest_standdown, self.standdown_run, out=self.longest_standdown)
        for name, buf in self.recorded.items():
            buf[d] = getattr(st, name if name in ("cumulative_attacks", *ORDER_COUNTS) else "n_" + name)
        if self.table_on:
            j = d - self._staged_from
            si, sf = self._stage_int[j], self._stage_float[j]
            si[:12] = st.counts[:12]  # DAY_COUNTS[:12] are the first twelve columns, in table order
            si[12] = st.cumulative_attacks
            si[13] = st.rung
            si[14] = st.max_rung
            si[15:] = st.counts[-2:]  # STANDDOWN_COUNTS, the last two day counts
            caps = st.reported_capacity()
            sf[0] = caps.mean(axis=1)
            sf[1] = st.restraint
            sf[2] = st.credibility
            sf[3] = st.war_risk
            sf[4:] = caps.T
            if j + 1 == STAGE or d + 1 == self.c.days:
                self._flush()

    def _flush(self) -> None:
        """Copy the staged days into the replicate-major table buffers."""
        lo, hi = self._staged_from, self.state.day + 1
        if hi > lo:
            n = hi - lo
            staged, i32 = self._stage_int[:n], np.iinfo(np.int32)
            if self.compact and (staged.max(initial=0) > i32.max or staged.min(initial=0) < i32.min):
                raise OverflowError("a whole-number column of the per-day table exceeds int32 (compact=True)")
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
        D = self.state.day + 1
        dates = pd.to_datetime(c.dates[:D])
        ids = self.replicate_ids.astype(np.int32) if self.compact else self.replicate_ids
        cols: dict[str, Any] = {
            "replicate": np.repeat(ids, D),
            "day": np.tile(np.arange(D, dtype=np.int16 if self.compact else np.int64), R),
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
        st = self.state
        last = {"cumulative_attacks": st.cumulative_attacks, "rung": st.rung, "max_rung": st.max_rung,
                "militia_capacity": st.reported_capacity().mean(axis=1), "iran_restraint": st.restraint,
                "us_credibility": st.credibility, "iran_war_risk": st.war_risk,
                LONGEST + "groups_stood_down": self.longest_standdown}
        last.update(self.aftermath.values())
        totals = {name: self.totals[i] for i, name in enumerate(DAY_COUNTS)}
        return from_accumulated(self.replicate_ids, totals, last, {"us_killed": self.first_fatal_day})

    def recorded_arrays(self) -> dict[str, np.ndarray]:
        """The recorded day counts as (R, D) arrays."""
        return {k: v[: self.state.day + 1].T for k, v in self.recorded.items()}

    def event_log(self, release: bool = False) -> pd.DataFrame:
        """The event log (``events=True``): replicate, day, date and the typed columns, replicate-major;
        ``release`` empties the engine's log while the table is built (:meth:`sim.dynamics.EventLog.frame`)."""
        if self.state.events is None:
            raise RuntimeError("this engine was built with events=False")
        return self.state.events.frame(self.c.dates, self.first_replicate, release=release)


# ====================================================================== public API


def run_ensemble(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                 overrides: Sequence[str] = (), events: bool = False, first_replicate: int = 0,
                 params: Mapping[str, Any] | None = None,
                 stream: int | None = None) -> tuple[pd.DataFrame, Any]:
    """Run ``replicates`` replicates on the ensemble engine; return (timeseries, events or None).

    ``scenario`` is anything :class:`~sim.model.EscalationModel` accepts.  Seeding:
    see the module docstring (blocks of :data:`BLOCK` from ``first_replicate``).
    ``params``: ``{schema path: one value per replicate}`` (see :class:`sim.dynamics.Params`).
    ``stream`` (the result writer's form): the per-day table in the files' narrower integer types
    (``compact``, see :class:`EnsembleEngine`) and the events as a :class:`sim.dynamics.events.EventParts` of
    ``stream`` replicates per frame, made as they are read, instead of one frame.
    """
    s = prepare_scenario(scenario, days, overrides)
    c = compile_scenario(s)
    ts_parts, ev_parts = [], []
    for first, n in seeding_blocks(replicates, first_replicate):
        eng = EnsembleEngine(c, n, block_rng(seed, first, n), events=events, table=True, first_replicate=first,
                             params=block_params(params, first - first_replicate, n), compact=bool(stream)).run()
        ts_parts.append(eng.timeseries())
        if events:
            ev_parts.append((eng.state.events, c.dates, first) if stream else eng.event_log(release=True))
        del eng  # the engine's state goes before the events are made into tables
    ts = ts_parts[0] if len(ts_parts) == 1 else pd.concat(ts_parts, ignore_index=True)
    if not events:
        return ts, None
    return ts, (EventParts(ev_parts, stream) if stream else concat_events(ev_parts))


def block_params(params: Mapping[str, Any] | None, offset: int, n: int) -> dict[str, np.ndarray] | None:
    """The per-replicate values of replicates ``offset .. offset+n-1`` of a call (scalars kept)."""
    if not params:
        return None
    return {k: (v if np.ndim(v) == 0 else np.asarray(v)[offset:offset + n]) for k, v in params.items()}


def outcomes_at_horizon(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                        overrides: Sequence[str] = (), first_replicate: int = 0,
                        params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The outcome registry's horizon table (:data:`sim.outcomes.OUTCOMES`), without building the per-day table.

    Same seeding as :func:`run_ensemble` (identical runs), so these rows equal
    :func:`sim.outcomes.horizon_table` of ``run_ensemble(...)[0]``.
    """
    s = prepare_scenario(scenario, days, overrides)
    c = compile_scenario(s)
    parts = []
    for first, n in seeding_blocks(replicates, first_replicate):
        eng = EnsembleEngine(c, n, block_rng(seed, first, n), events=False, table=False, first_replicate=first,
                             params=block_params(params, first - first_replicate, n)).run()
        parts.append(eng.outcomes())
        del eng
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


outcomes_from_timeseries = horizon_table
"""The columns of :func:`outcomes_at_horizon` from a per-day table of either engine (:func:`sim.outcomes.horizon_table`)."""


__all__ = ["BLOCK", "EnsembleEngine", "block_rng", "mesa_outcomes", "outcomes_at_horizon", "outcomes_from_timeseries",
           "prepare_scenario", "run_ensemble"]


def mesa_outcomes(scenario: Any, replicates: int, seed: int = 0, *, days: int | None = None,
                  overrides: Sequence[str] = (), first_replicate: int = 0) -> pd.DataFrame:
    """The columns of :func:`outcomes_at_horizon` from Mesa runs (the ``mesa`` runner of :mod:`sim.engines`).

    A module-level function so that validation code can spread Mesa runs over processes.
    """
    return get_engine("mesa").outcomes(prepare_scenario(scenario, days, overrides), replicates, seed,
                                       first_replicate=first_replicate)
