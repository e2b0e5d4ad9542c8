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
* ``ensemble``: the batches of a chunk whose design points differ only in
  parameters that may vary per replicate (:func:`sim.dynamics.varies_per_replicate`:
  numeric parameters the day reads) run as ONE engine call, design points x
  replicates on the replicate axis, each run with its point's values
  (:class:`sim.dynamics.Params`).  Batches are grouped by the values of the
  other factors (booleans, choices, drivers, layout); a group draws from
  ``default_rng(SeedSequence([seed, k0, n]))`` with ``k0`` its first run and
  ``n`` its number of runs (:func:`sim.ensemble.block_rng`), in sub-calls of at
  most :data:`sim.ensemble.BLOCK` runs.  A group of one batch is the same call
  as the plain :func:`sim.ensemble.run_ensemble` with ``first_replicate=k0``.  The chunks and groups are a
  function of the spec alone.

Either way a run's result depends only on the spec, never on the executor,
the number of workers or the order in which chunks finish.

Every design point is validated: the first of a group as a whole scenario, the
others by validating the blocks their per-replicate factors live in (the same
pydantic models, a fraction of the cost), so cross-field rules such as
``irgc_share + iran_share < 1`` still name the offending point.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.engines import get_engine
from sim.outcomes import horizon_table

from .outcomes import OUTCOME_DTYPES, standardize
from .spec import Factor, scenario_at
from .store import series_columns, series_frame

__all__ = ["Context", "Chunk", "Layout", "plan_chunks", "run_chunk", "runs_schema", "timeseries_schema"]

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
    """Columns of a chunk's time-series table: run, point, replicate, day, date, the kept columns (and
    cumulative ones when days are subsampled; :func:`sim.sweep.store.series_schema`)."""
    from .store import series_schema

    return series_schema(ctx.ts_columns, ctx.ts_every)


def _run_batch(ctx: Context, scenario: Any, k0: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Outcomes (one row per run, in run order) and the per-day table (or None) of runs k0 .. k0+n-1."""
    engine = get_engine(ctx.engine)
    if not ctx.ts_columns:
        return engine.outcomes(scenario, n, ctx.seed, first_replicate=k0), None
    ts, _ = engine.run(scenario, n, ctx.seed, first_replicate=k0, events=False)
    return horizon_table(ts), ts


def _vector_factors(ctx: Context) -> list[int]:
    """Indices of the factors the ensemble engine can take as one value per run."""
    if ctx.engine != "ensemble":
        return []
    from sim.dynamics import varies_per_replicate

    return [i for i, f in enumerate(ctx.factors) if f.kind in ("float", "int") and varies_per_replicate(f.path)]


def _block_class(parents: Sequence[str]) -> type:
    """The pydantic model holding a parameter, from its parent path."""
    from pydantic import BaseModel

    from sim.schema import Scenario

    cls: Any = Scenario
    for seg in parents:
        if isinstance(cls, type) and issubclass(cls, BaseModel) and seg in cls.model_fields:
            ann = cls.model_fields[seg].annotation
            cls = getattr(ann, "__args__", (ann,))[0] if getattr(ann, "__origin__", None) is list else ann
        # otherwise ``seg`` is a list item's id: the class stays the item's class
    return cls


def _node(data: Any, parents: Sequence[str]) -> dict[str, Any]:
    for seg in parents:
        data = next(item for item in data if item.get("id") == seg) if isinstance(data, list) else data[seg]
    return data


def _check_points(ctx: Context, vec: list[int], values: Sequence[Sequence[Any]]) -> None:
    """Validate the per-run factors of design points by validating the blocks they live in."""
    blocks: dict[tuple[str, ...], list[int]] = {}
    for i in vec:
        blocks.setdefault(tuple(ctx.factors[i].path.split(".")[:-1]), []).append(i)
    for parents, members in blocks.items():
        cls = _block_class(parents)
        base = _node(ctx.base_data, parents)
        for vals in values:
            data = dict(base)
            for i in members:
                f = ctx.factors[i]
                data[f.path.rsplit(".", 1)[1]] = int(vals[i]) if f.kind == "int" else float(vals[i])
            try:
                cls.model_validate(data)
            except Exception:
                scenario_at(ctx.base_data, ctx.factors, vals)  # raises the located error of this point
                raise


def _run_group(ctx: Context, vec: list[int], batches: list[tuple[int, int, int]],
               values: list[tuple[Any, ...]]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Batches of design points that differ only in per-run factors, as one engine call (see the module doc)."""
    from sim.compiled import compile_scenario
    from sim.ensemble import BLOCK, EnsembleEngine, block_rng

    R = ctx.replicates
    scenario = scenario_at(ctx.base_data, ctx.factors, values[0])
    _check_points(ctx, vec, values[1:])
    runs = np.concatenate([np.arange(p * R + r0, p * R + r1, dtype=np.int64) for p, r0, r1 in batches])
    sizes = [r1 - r0 for _, r0, r1 in batches]
    per_run = {ctx.factors[i].path: np.repeat(np.array([v[i] for v in values], dtype=float), sizes) for i in vec}
    c = compile_scenario(scenario)
    outs, series = [], []
    k0 = int(runs[0])
    for lo in range(0, runs.size, BLOCK):
        m = min(BLOCK, runs.size - lo)
        eng = EnsembleEngine(c, m, block_rng(ctx.seed, k0 + lo, m), table=bool(ctx.ts_columns),
                             params={k: v[lo:lo + m] for k, v in per_run.items()}).run()
        ids = runs[lo:lo + m]
        out = eng.outcomes()
        out["replicate"] = ids
        outs.append(out)
        if ctx.ts_columns:
            ts = eng.timeseries()
            ts["replicate"] = ids[ts["replicate"].to_numpy()]
            series.append(ts)
    return (pd.concat(outs, ignore_index=True), pd.concat(series, ignore_index=True) if series else None)


def _results(ctx: Context, chunk: Chunk) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Outcomes of every run of a chunk in run order (``replicate`` = run number) and its kept per-day rows."""
    vec = _vector_factors(ctx)
    fixed = [i for i in range(len(ctx.factors)) if i not in vec]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for b, values in enumerate(chunk.values):
        groups.setdefault(tuple(values[i] for i in fixed) if vec else (b,), []).append(b)
    outs, series = [], []
    for members in groups.values():
        batches = [chunk.batches[b] for b in members]
        values = [chunk.values[b] for b in members]
        if vec:
            out, ts = _run_group(ctx, vec, batches, values)
        else:
            (p, r0, r1), = batches
            out, ts = _run_batch(ctx, scenario_at(ctx.base_data, ctx.factors, values[0]), p * ctx.replicates + r0,
                                 r1 - r0)
        outs.append(out)
        if ts is not None:
            series.append(series_frame(ts, _start(ctx, values[0]), ctx.ts_columns, ctx.ts_every,
                                       _days(ctx, values[0])))
    out = pd.concat(outs, ignore_index=True) if len(outs) > 1 else outs[0]
    if len(outs) > 1:  # groups interleave: back to run order
        out = out.sort_values("replicate", kind="stable", ignore_index=True)
    ts = None
    if series:
        ts = pd.concat(series, ignore_index=True).sort_values(["replicate", "day"], kind="stable", ignore_index=True)
    return out, ts


def run_chunk(ctx: Context, chunk: Chunk) -> tuple[pa.Table, pa.Table | None]:
    """Run one chunk; return its runs table and its time-series table (None if none is kept)."""
    R = ctx.replicates
    out, ts = _results(ctx, chunk)
    sizes = np.array([r1 - r0 for _, r0, r1 in chunk.batches])
    points = np.array([p for p, _, _ in chunk.batches], dtype=np.int64)
    replicate = np.concatenate([np.arange(r0, r1, dtype=np.int64) for _, r0, r1 in chunk.batches])
    run = np.repeat(points, sizes) * R + replicate
    if not np.array_equal(out["replicate"].to_numpy(), run):
        raise RuntimeError(f"the {ctx.engine} engine returned the runs of chunk {chunk.index} out of order")
    frame = pd.DataFrame({"run": run, "point": np.repeat(points, sizes), "replicate": replicate})
    for j, f in enumerate(ctx.factors):
        col = np.empty(len(chunk.values), dtype=object)
        col[:] = [v[j] for v in chunk.values]
        frame[f.path] = pd.array(np.repeat(col, sizes).tolist(), dtype=f.dtype)
    frame = pd.concat([frame, standardize(out, list(ctx.outcomes))], axis=1)
    runs = pa.Table.from_pandas(frame, schema=runs_schema(ctx), preserve_index=False)
    series = None
    if ctx.ts_columns:
        k = ts["replicate"].to_numpy(np.int64)
        part = pd.DataFrame({"run": k, "point": k // R, "replicate": k % R, "day": ts["day"].to_numpy(np.int64),
                             "date": ts["date"].to_numpy()})
        for col_name in series_columns(ctx.ts_columns, ctx.ts_every):
            part[col_name] = ts[col_name].to_numpy()
        series = pa.Table.from_pandas(part, schema=timeseries_schema(ctx), preserve_index=False)
    return runs, series


def _start(ctx: Context, values: Sequence[Any]) -> dt.date:
    """The start date of a design point (a factor may set ``start_date``)."""
    for f, v in zip(ctx.factors, values):
        if f.path == "start_date":
            return dt.date.fromisoformat(str(v))
    return dt.date.fromisoformat(str(ctx.base_data["start_date"]))


def _days(ctx: Context, values: Sequence[Any]) -> int:
    """The horizon of a design point (a factor may set ``days``)."""
    for f, v in zip(ctx.factors, values):
        if f.path == "days":
            return int(v)
    return int(ctx.base_data["days"])


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
