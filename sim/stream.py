"""A run streamed to its folder: simulate a block of replicates, write it, keep only small aggregates.

``escalation run`` and ``compare`` never hold a run's whole per-day table or
event log.  :func:`simulate_blocks` drives the engine one block of replicates
at a time (the ensemble engine's seeding block, :data:`sim.ensemble.BLOCK`, or
:data:`MESA_BLOCK` Mesa runs) with the same per-replicate seeding as one call
for all replicates, so the files are byte-identical whatever the block size.
:class:`RunStream` takes each block and

* appends it to ``timeseries.parquet`` / ``events.parquet`` (and the CSV copies)
  through :class:`sim.tables.TableWriter`;
* keeps its horizon table (one row per replicate, one column per outcome of
  the registry :mod:`sim.outcomes`), from which ``summary.json`` is computed
  exactly (:func:`sim.summary.summarize_horizon`: means, percentiles,
  probabilities, first fatal day);
* adds it to the per-day histograms of :class:`sim.aggregates.DayAggregates`
  that the figures draw.

Memory is one engine block plus one Parquet row group plus the horizon table
(about 100 bytes per replicate), so it is flat in the number of replicates.
The ensemble engine hands a block over in the writer's form (``stream=``): its
per-day table in the files' integer types (about 60 bytes per replicate-day)
and its event log still encoded (about 20 bytes per event, see
:mod:`sim.dynamics.events`), made into frames of
:data:`sim.tables.ROW_GROUP_REPLICATES` replicates one at a time as they are
written.  A 10,000-replicate block of the baseline peaks at about 1.1 GB for
the whole command (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.aggregates import DayAggregates
from sim.tables import ROW_GROUP_REPLICATES, TableWriter

__all__ = ["MESA_BLOCK", "RunStream", "block_horizon", "order_events", "order_timeseries", "simulate_blocks",
           "simulate_tables"]

MESA_BLOCK = 1_000
"""Mesa runs per block (each a separate model; the block only bounds memory and, being a multiple of
:data:`sim.tables.ROW_GROUP_REPLICATES`, keeps the row groups the same as the ensemble engine's)."""


def _progress(total: int, desc: str, quiet: bool) -> Any:
    """A tqdm bar on stderr counting runs; shown only on a terminal and without --quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, disable=True if quiet else None, leave=False,
                dynamic_ncols=True)


def simulate_blocks(scenario: Any, replicates: int, seed: int, engine: str, *, quiet: bool = False,
                    desc: str | None = None, stream: bool = True) -> Iterator[tuple[pd.DataFrame, Any]]:
    """Yield (per-day table, event log) of consecutive blocks of replicates 0 .. replicates-1 on ``engine``
    (:func:`sim.engines.get_engine`), with a progress bar counting runs.  ``stream``: in the writer's form
    where the engine offers it -- the per-day table in the files' integer types, the event log as frames of
    :data:`sim.tables.ROW_GROUP_REPLICATES` replicates made one at a time (:class:`sim.dynamics.events.EventParts`);
    else both as frames."""
    from sim.engines import get_engine

    runner = get_engine(engine, replicates)
    if runner.name == "ensemble":
        from sim.ensemble import BLOCK as size
    else:
        size = MESA_BLOCK
    with _progress(replicates, desc or getattr(scenario, "name", "run"), quiet) as bar:
        def tick(loop):
            for r in loop:
                yield r
                bar.update(1)

        for first in range(0, replicates, size):
            n = min(size, replicates - first)
            done = bar.n
            block = runner.run(scenario, n, seed, first_replicate=first, events=True, progress=tick,
                               stream=ROW_GROUP_REPLICATES if stream else None)
            if bar.n == done:  # an engine that does not report each run: count the block
                bar.update(n)
            yield block
            del block  # before the next block is simulated: one block in memory at a time


def simulate_tables(scenario: Any, replicates: int, seed: int, engine: str, *,
                    quiet: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole per-day table and event log in memory (the Python API, small runs): the blocks of
    :func:`simulate_blocks` joined, in the documented order (:func:`sim.results.tidy_timeseries`)."""
    from sim.dynamics.events import concat_events
    from sim.results import tidy_events, tidy_timeseries

    parts = list(simulate_blocks(scenario, replicates, seed, engine, quiet=quiet, stream=False))
    ts = pd.concat([p[0] for p in parts], ignore_index=True) if len(parts) > 1 else parts[0][0]
    ev = concat_events(p[1] for p in parts)
    return tidy_timeseries(ts, [g.id for g in scenario.militia.groups]), tidy_events(ev)


def _sorted(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` (stable), without a copy when it already is."""
    rep = frame["replicate"].to_numpy()
    if len(rep) < 2 or (np.all(rep[1:] >= rep[:-1]) and (len(keys) == 1 or _days_sorted(frame, rep))):
        return frame
    return frame.sort_values(list(keys), kind="stable", ignore_index=True)


def _days_sorted(frame: pd.DataFrame, rep: np.ndarray) -> bool:
    day = frame["day"].to_numpy()
    same = rep[1:] == rep[:-1]
    return bool(np.all(day[1:][same] > day[:-1][same]))


def order_timeseries(ts: pd.DataFrame, group_ids: Sequence[str] = ()) -> pd.DataFrame:
    """The per-day table in the documented row and column order (see :func:`sim.results.tidy_timeseries`)."""
    from sim.results import timeseries_order

    ts = _sorted(ts, ("replicate", "day"))
    return ts[timeseries_order(ts.columns, group_ids)]


def order_events(ev: pd.DataFrame | None) -> pd.DataFrame | None:
    """The event log sorted by replicate (keeping each replicate's order), documented columns first."""
    from sim.results import events_order

    if ev is None:
        return None
    ev = _sorted(ev, ("replicate",))
    return ev[events_order(ev.columns)]


class RunStream:
    """Write one run's tables block by block and keep what the summary and figures need.

    ``provenance`` becomes the Parquet files' metadata (scenario, hash, seed,
    replicates, engine, version...).  ``csv``: also write CSV copies.
    """

    def __init__(self, folder: Path, scenario: Any, provenance: Mapping[str, Any], *, csv: bool) -> None:
        self.scenario = scenario
        self.group_ids = [g.id for g in scenario.militia.groups]
        groups = {g.id: g.name for g in scenario.militia.groups}
        start = scenario.start_date
        self.ts = TableWriter(folder, "timeseries", "timeseries", start, provenance, csv=csv, groups=groups)
        self.ev = TableWriter(folder, "events", "events", start, provenance, csv=csv, groups=groups)
        self.days = DayAggregates(start, scenario.days)
        self._horizon: list[pd.DataFrame] = []
        self._empty_events: pd.DataFrame | None = None

    def add(self, ts: pd.DataFrame, ev: Any) -> None:
        """Write and count one block (whole replicates); ``ev`` is its event log: a frame, None or frames of
        consecutive whole replicates (:class:`sim.dynamics.events.EventParts`), written as they come."""
        ts = order_timeseries(ts, self.group_ids)
        self.ts.write(ts)
        self.days.add(ts)
        self._horizon.append(block_horizon(ts, self.scenario.days))
        for part in ([ev] if ev is None or isinstance(ev, pd.DataFrame) else ev):
            part = order_events(part)
            if part is not None:
                if len(part):
                    self.ev.write(part)
                elif self._empty_events is None:
                    self._empty_events = part

    def close(self) -> list[str]:
        """Finish the files; return their names."""
        self.ts.close()
        self.ev.close(self._empty_events)
        return [*self.ts.files, *self.ev.files]

    def horizon(self) -> pd.DataFrame:
        """The run's horizon table (:func:`sim.outcomes.horizon_table`): one row per replicate, one column per
        outcome of the registry."""
        if not self._horizon:
            return pd.DataFrame()
        return pd.concat(self._horizon, ignore_index=True) if len(self._horizon) > 1 else self._horizon[0]


class _Lazy(dict):
    """A mapping that computes a missing value from its key once (only the columns an outcome reads)."""

    def __init__(self, compute: Callable[[str], np.ndarray]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: str) -> np.ndarray:
        value = self[key] = self.compute(key)
        return value


def block_horizon(ts: pd.DataFrame, days: int) -> pd.DataFrame:
    """The horizon table of one block, as :func:`sim.outcomes.horizon_table` gives it, computed on the block's
    (replicates x days) arrays through :func:`sim.outcomes.from_accumulated` when every replicate has every
    day (as both engines give it), else by ``horizon_table``."""
    from sim.aftermath import NAMES as AFTERMATH
    from sim.aftermath import from_arrays
    from sim.outcomes import LONGEST, from_accumulated, horizon_table, longest_run

    reps, rem = divmod(len(ts), days)
    day = ts["day"].to_numpy()
    if rem or reps == 0 or not (np.array_equal(day[:days], np.arange(days)) and
                                np.all(day.reshape(reps, days)[:, -1] == days - 1)):
        return horizon_table(ts)

    def wide(column: str) -> np.ndarray:
        return ts[column].to_numpy().reshape(reps, days)

    def first_day(column: str) -> np.ndarray:
        hit = wide(column) > 0
        return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)

    after: dict[str, np.ndarray] = {}

    def last(column: str) -> np.ndarray:  # the value on the last day, a LongestRun's or an aftermath value
        if column.startswith(LONGEST):
            return longest_run(wide(column[len(LONGEST):]) > 0)
        if column in AFTERMATH:  # what follows the first major campaign (sim.aftermath), computed once
            after.update(after or from_arrays(wide("attacks"), wide("targets_struck")))
            return after[column]
        return wide(column)[:, -1]

    return from_accumulated(ts["replicate"].to_numpy()[::days].copy(), _Lazy(lambda c: wide(c).sum(axis=1)),
                            _Lazy(last), _Lazy(first_day))
