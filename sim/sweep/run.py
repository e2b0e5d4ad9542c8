"""Run a sweep (new or resumed) into a results folder."""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from concurrent.futures.process import BrokenProcessPool

from sim.errors import InputError, RunFailure

from .designs import UNIT, build_design, salib_problem
from .executors import is_cluster_error, make_executor
from .spec import ResolvedSpec
from .store import FORMAT, Store
from .work import Context, Layout, plan_chunks

__all__ = ["SEEDING", "SweepResult", "run_sweep", "make_manifest", "context_of"]

log = logging.getLogger(__name__)

SEEDING = (
    "Run k = point * replicates + replicate. A batch (replicates r0..r1-1 of one point, one engine call) and "
    "the chunks (lists of batches) are fixed by chunk_size: with replicates <= chunk_size a chunk holds "
    "chunk_size // replicates whole points, otherwise a point is split into ceil(replicates / chunk_size) "
    "near-equal batches, one per chunk. mesa: run k uses numpy.random.default_rng(SeedSequence(seed, "
    "spawn_key=(k,))). ensemble: a batch draws from default_rng(SeedSequence([seed, k0, n])), k0 = its first "
    "run, n = its size (sim.ensemble.block_rng). Random designs (lhs, sobol, morris) use the seed "
    "SeedSequence([seed, 0x5EEDDE51]); the design is stored in design.parquet."
)


@dataclass
class SweepResult:
    folder: Path
    chunks: int
    chunks_run: int
    runs: int
    runs_run: int
    seconds: float
    executor: str
    workers: int


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "pyarrow", "scipy", "SALib", "mesa", "dask", "distributed", "pydantic"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            pass
    return out


def make_manifest(rs: ResolvedSpec, design: pd.DataFrame, spec_file: str | None) -> dict[str, Any]:
    """Everything needed to read, reproduce and resume the sweep."""
    from sim import __version__
    from sim.scenario_io import scenario_hash

    layout = Layout(len(design), rs.spec.replicates, rs.chunk_size)
    return {
        "format": FORMAT,
        "name": rs.name,
        "question": rs.spec.question,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "spec_file": spec_file,
        "spec_hash": rs.spec_hash(),
        "spec": rs.effective(),
        "package": {"name": "escalation-sim", "version": __version__},
        "versions": _versions(),
        "scenario": {"name": rs.base.name, "hash": scenario_hash(rs.base), "days": rs.base.days,
                     "start_date": rs.base.start_date.isoformat(), "resolved": rs.base.model_dump(mode="json")},
        "engine": rs.spec.engine,
        "seed": rs.spec.seed,
        "seeding": SEEDING,
        "design": {
            "kind": rs.spec.design.kind,
            "file": "design.parquet",
            "points": len(design),
            "parameters": [{"path": f.path, "role": f.role, "kind": f.kind, "dtype": f.dtype,
                            "low": f.lo, "high": f.hi, "values": list(f.values) if f.values else None,
                            "unit_column": UNIT + f.path} for f in rs.factors],
            "salib_problem": salib_problem([f.path for f in rs.factors]),
        },
        "replicates": rs.spec.replicates,
        "runs": len(design) * rs.spec.replicates,
        "chunk_size": rs.chunk_size,
        "chunks": layout.chunks,
        "outcomes": list(rs.outcomes),
        "timeseries": ({"columns": list(rs.ts_columns), "every": rs.spec.timeseries.every}
                       if rs.spec.timeseries else None),
        "files": {"runs": "runs/chunk-NNNNNN.parquet", "timeseries": "timeseries/chunk-NNNNNN.parquet",
                  "design": "design.parquet", "spec": "spec.yaml"},
    }


def context_of(rs: ResolvedSpec) -> Context:
    return Context(base_data=rs.base.model_dump(mode="json"), factors=tuple(rs.factors), engine=rs.spec.engine,
                   seed=rs.spec.seed, replicates=rs.spec.replicates, outcomes=tuple(rs.outcomes),
                   ts_columns=tuple(rs.ts_columns), ts_every=rs.spec.timeseries.every if rs.spec.timeseries else 1)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Top-level keys of two effective specs that differ, shortly shown."""
    def short(value: Any, limit: int = 60) -> str:
        text = json.dumps(value, default=str)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return [f"{k}: {short(old.get(k))} in the folder, {short(new.get(k))} now" for k in keys]


def run_sweep(rs: ResolvedSpec, out: Path | str, *, workers: int = 2, scheduler: str | None = None,
              resume: bool = False, spec_text: str | None = None,
              on_start: Callable[[int, int], None] | None = None,
              on_chunk: Callable[[int], None] | None = None) -> SweepResult:
    """Run the sweep ``rs`` into ``out`` (see :mod:`sim.sweep.store`); only missing chunks with ``resume``.

    ``on_start(total_runs, runs_to_do)`` and ``on_chunk(runs)`` report progress.
    ``workers=0`` runs in this process; ``scheduler`` selects Dask (``local`` or an address).
    """
    store = Store(out)
    created = store.prepare()
    try:
        return _run_locked(rs, store, workers=workers, scheduler=scheduler, resume=resume, spec_text=spec_text,
                           on_start=on_start, on_chunk=on_chunk)
    except BaseException:
        if not store.exists():  # it never started (bad spec, no workers, no scheduler): leave nothing behind
            store.discard(created)
        raise


def _resume_hint(rs: ResolvedSpec, store: Store) -> str:
    return (f"the finished chunks are kept in {store.root}; continue with: escalation sweep {rs.file or 'SPEC'} "
            f"--resume --out {store.root}")


def _run_locked(rs: ResolvedSpec, store: Store, *, workers: int, scheduler: str | None, resume: bool,
                spec_text: str | None, on_start: Callable[[int, int], None] | None,
                on_chunk: Callable[[int], None] | None) -> SweepResult:
    from sim.scenario_io import scenario_hash

    with store.locked():
        new = not store.exists()
        if new:
            design = build_design(rs)
        else:
            manifest = store.read_manifest()
            if not resume:
                raise InputError(f"{str(store.root)!r} already holds a sweep ({manifest.get('name')})", path="--out",
                                 allowed="--resume to finish it, or another --out folder")
            if manifest["spec_hash"] != rs.spec_hash():
                diff = _differences(manifest.get("spec", {}), rs.effective())
                if manifest["scenario"]["hash"] != scenario_hash(rs.base):
                    diff.append("the base scenario has changed since the sweep started")
                raise InputError(f"{str(store.root)!r} holds a sweep of a different spec; cannot resume it: "
                                 + "; ".join(diff or ["(spec hash differs)"]), path="--resume",
                                 allowed="the same spec and options as the first run, or another --out folder")
            from sim import __version__

            if manifest.get("package", {}).get("version") != __version__:
                log.warning("the sweep was started with escalation-sim %s, this is %s: runs made by the two "
                            "versions may differ", manifest.get("package", {}).get("version"), __version__)
            design = store.read_design()
            removed = store.clean_temporary()
            if removed:
                log.info("removed %d temporary file(s) left by an interrupted write", removed)
        if not design["point"].equals(pd.Series(range(len(design)), name="point")):
            raise InputError(f"{str(store.design_path)!r} is damaged (points out of order)", path="DIR")
        layout = Layout(len(design), rs.spec.replicates, rs.chunk_size)
        for index in store.damaged_chunks(layout.runs_in, layout.chunks):  # e.g. truncated by a full disk
            log.warning("chunk %d of %s is damaged; running it again", index, store.root)
            store.remove_chunk(index)
        done = store.done_chunks()
        todo = [c for c in range(layout.chunks) if c not in done]
        todo_runs = sum(layout.runs_in(c) for c in todo)
        total_runs = len(design) * rs.spec.replicates
        if on_start is not None:
            on_start(total_runs, todo_runs)
        executor = make_executor(context_of(rs), workers=workers, scheduler=scheduler)
        start = time.perf_counter()
        ran = 0
        if todo:
            with executor as ex:  # workers up (or the cluster reached) before anything is written
                if new:
                    store.write_design(design)
                    if spec_text is not None:
                        store.write_text("spec.yaml", spec_text)
                    store.write_manifest(make_manifest(rs, design, rs.file))
                try:
                    for chunk, (runs, series) in ex.imap_unordered(plan_chunks(todo, layout, design, rs.factors)):
                        store.write_chunk(chunk.index, runs, series)
                        ran += 1
                        if on_chunk is not None:
                            on_chunk(chunk.runs)
                except BrokenProcessPool:
                    raise RunFailure(f"a worker process died (killed, or out of memory?) after {ran} of "
                                     f"{len(todo)} chunks; {_resume_hint(rs, store)}") from None
                except Exception as exc:
                    if not is_cluster_error(exc):
                        raise
                    first = (str(exc).strip().splitlines() or [""])[0][:200]
                    raise RunFailure(f"lost the Dask cluster ({type(exc).__name__}: {first}) after {ran} of "
                                     f"{len(todo)} chunks; {_resume_hint(rs, store)}") from None
        return SweepResult(store.root, layout.chunks, ran, total_runs, todo_runs, time.perf_counter() - start,
                           executor.name, executor.workers)

