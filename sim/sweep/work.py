"""The unit of work of a sweep: one chunk of runs, reduced to tables.

Runs, batches and chunks
------------------------
Design point ``p`` (0 .. P-1) is run ``replicates`` (R) times; run ``k = p * R + r``
is replicate ``r`` of point ``p``.

A *batch* is replicates ``r0 .. r1-1`` of one point, run by one engine call.  A
*chunk* (one task, one file) is a list of batches, fixed by ``chunk_size``
(part of the spec, never of the executor or the worker count):

* if ``R <= chunk_size``: a chunk holds ``chunk_size // R`` whole points (the
  last chunk fewer), each point one batch of all its replicates;
* otherwise each point is split into ``ceil(R / chunk_size)`` chunks of one
  batch each, of near-equal size (``ceil(R / blocks)`` replicates).

Seeds
-----
* ``mesa``: run ``k`` uses ``numpy.random.default_rng(SeedSequence(seed,
  spawn_key=(k,)))`` (as :func:`sim.runner.replicate_seeds`): every run has its
  own stream.
* ``ensemble``: a batch draws from one generator,
  ``default_rng(SeedSequence([seed, k0, n]))`` with ``k0 = p * R + r0`` its first
  run and ``n = r1 - r0`` its size (:func:`sim.ensemble.block_rng`, called with
  ``first_replicate=k0``).  The batches are a function of the spec alone.

Either way a run's result depends only on the spec, never on the executor,
the number of workers or the order in which chunks finish.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.columns import DAY_COUNTS, INT_STATE_COLUMNS
from sim.engines import get_engine
from sim.outcomes import horizon_table

from .outcomes import OUTCOME_DTYPES, sample_days, standardize
from .spec import Factor, scenario_at

__all__ = ["Context", "Chunk", "Layout", "plan_chunks", "run_chunk", "runs_schema", "timeseries_schema"]

_INT_TS = frozenset(DAY_COUNTS) | frozenset(INT_STATE_COLUMNS)  # whole-number per-day columns
_ARROW = {"int64": pa.int64(), "Int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
          "string": pa.string()}


@dataclass(frozen=True)
class Context:
    """Everything a worker needs besides the chunk (sent once per worker where possible)."""

    base_data: dict[str, Any]
    factors: tuple[Factor, ...]
    engine: str
    seed: int
    replicates: int
    outcomes: tuple[str, ...]
    ts_columns: tuple[str, ...] = ()
    ts_every: int = 1


@dataclass(frozen=True)
class Chunk:
    """One task: ``batches`` of ``(point, r0, r1)``; ``values`` holds each batch's parameter values."""

    index: int
    batches: tuple[tuple[int, int, int], ...]
    values: tuple[tuple[Any, ...], ...]

    @property
    def runs(self) -> int:
        return sum(r1 - r0 for _, r0, r1 in self.batches)


@dataclass(frozen=True)
class Layout:
    """How the runs of ``points`` x ``replicates`` are cut into chunks (see the module doc)."""

    points: int
    replicates: int
    chunk_size: int

    @property
    def points_per_chunk(self) -> int:
        return max(1, self.chunk_size // self.replicates)

    @property
    def blocks_per_point(self) -> int:
        return -(-self.replicates // self.chunk_size)

    @property
    def chunks(self) -> int:
        if self.replicates <= self.chunk_size:
            return -(-self.points // self.points_per_chunk)
        return self.points * self.blocks_per_point

    def batches(self, c: int) -> tuple[tuple[int, int, int], ...]:
        R = self.replicates
        if R <= self.chunk_size:
            ppc = self.points_per_chunk
            return tuple((p, 0, R) for p in range(c * ppc, min(self.points, (c + 1) * ppc)))
        bpp = self.blocks_per_point
        size = -(-R // bpp)
        b = c % bpp
        return ((c // bpp, b * size, min(R, (b + 1) * size)),)

    def runs_in(self, c: int) -> int:
        return sum(r1 - r0 for _, r0, r1 in self.batches(c))


def plan_chunks(indices: Sequence[int], layout: Layout, design: pd.DataFrame, factors: Sequence[Factor]
                ) -> Iterator[Chunk]:
    """The chunks with the given indices (lazily: one at a time)."""
    cols = [design[f.path].to_numpy() for f in factors]  # arrays, not lists: flat memory for large designs

    def value(col: np.ndarray, p: int) -> Any:
        v = col[p]
        return v.item() if isinstance(v, np.generic) else v

    for c in indices:
        batches = layout.batches(c)
        yield Chunk(c, batches, tuple(tuple(value(col, p) for col in cols) for p, _, _ in batches))


def runs_schema(ctx: Context) -> pa.Schema:
    """Columns of a chunk's runs table: run, point, replicate, the parameters, the outcomes."""
    fields = [pa.field(n, pa.int64(), nullable=False) for n in ("run", "point", "replicate")]
    fields += [pa.field(f.path, _ARROW[f.dtype], nullable=False) for f in ctx.factors]
    fields += [pa.field(n, _ARROW[OUTCOME_DTYPES[n]], nullable=OUTCOME_DTYPES[n] == "Int64") for n in ctx.outcomes]
    return pa.schema(fields)


def timeseries_schema(ctx: Context) -> pa.Schema:
    """Columns of a chunk's time-series table: run, point, replicate, day, the kept columns."""
    fields = [pa.field(n, pa.int64(), nullable=False) for n in ("run", "point", "replicate", "day")]
    fields += [pa.field(col, pa.int64() if col in _INT_TS else pa.float64(), nullable=False)
               for col in ctx.ts_columns]
    return pa.schema(fields)


def _run_batch(ctx: Context, scenario: Any, k0: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Outcomes (one row per run, in run order) and the per-day table (or None) of runs k0 .. k0+n-1."""
    engine = get_engine(ctx.engine)
    if not ctx.ts_columns:
        return engine.outcomes(scenario, n, ctx.seed, first_replicate=k0), None
    ts, _ = engine.run(scenario, n, ctx.seed, first_replicate=k0, events=False)
    return horizon_table(ts), ts


def run_chunk(ctx: Context, chunk: Chunk) -> tuple[pa.Table, pa.Table | None]:
    """Run one chunk; return its runs table and its time-series table (None if none is kept)."""
    R = ctx.replicates
    frames, ts_frames = [], []
    for (point, r0, r1), values in zip(chunk.batches, chunk.values):
        k0 = point * R + r0
        scenario = scenario_at(ctx.base_data, ctx.factors, values)
        out, ts = _run_batch(ctx, scenario, k0, r1 - r0)
        frame = pd.DataFrame({"run": np.arange(k0, k0 + r1 - r0, dtype=np.int64),
                              "point": np.int64(point), "replicate": np.arange(r0, r1, dtype=np.int64)})
        for f, v in zip(ctx.factors, values):
            frame[f.path] = pd.array([v] * len(frame), dtype=f.dtype)
        if not np.array_equal(out["replicate"].to_numpy(), frame["run"].to_numpy()):
            raise RuntimeError(f"the {ctx.engine} engine returned runs {k0}..{k0 + r1 - r0 - 1} out of order")
        frames.append(pd.concat([frame, standardize(out, list(ctx.outcomes))], axis=1))
        if ts is not None:
            keep = ts[ts["day"].isin(sample_days(scenario.days, ctx.ts_every))]
            run = keep["replicate"].to_numpy(np.int64)
            part = pd.DataFrame({"run": run, "point": np.int64(point), "replicate": run - point * R,
                                 "day": keep["day"].to_numpy(np.int64)})
            for col in ctx.ts_columns:
                part[col] = keep[col].to_numpy()
            ts_frames.append(part)
    runs = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), schema=runs_schema(ctx), preserve_index=False)
    series = None
    if ctx.ts_columns:
        series = pa.Table.from_pandas(pd.concat(ts_frames, ignore_index=True), schema=timeseries_schema(ctx),
                                      preserve_index=False)
    return runs, series


# --------------------------------------------------------------------------- worker processes

_CONTEXT: Context | None = None


def init_worker(parent_pid: int, ctx: Context) -> None:
    """Initializer of a local worker process: keep the context, leave Ctrl-C to the driver, and exit
    when the driver is gone (a killed driver must not leave workers running)."""
    global _CONTEXT
    _CONTEXT = ctx
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()


def run_chunk_in_worker(chunk: Chunk) -> tuple[pa.Table, pa.Table | None]:
    """:func:`run_chunk` with the context given to :func:`init_worker`."""
    assert _CONTEXT is not None, "init_worker was not called"
    return run_chunk(_CONTEXT, chunk)
