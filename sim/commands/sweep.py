"""``escalation sweep``: run a scenario over a design of parameter values (see experiments/README.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sim.commands._common import positive_int
from sim.engines import ENGINES

log = logging.getLogger("sim.cli")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (allowed: 0 for in-process, or more)")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative (allowed: 0 for in-process, or more)")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep", help="run a sweep spec (grid, Latin hypercube, Sobol or Morris design) into a Parquet dataset",
        description="Run every design point of SPEC for its replicates and stream the results to DIR: "
                    "runs/chunk-*.parquet (one row per run), timeseries/ if the spec keeps time series, "
                    "design.parquet and manifest.json. Results do not depend on --workers, --scheduler or the "
                    "order runs finish in. An interrupted sweep keeps every finished chunk: rerun with --resume. "
                    "The folder's path is printed on stdout; see 'escalation analyze DIR'.")
    p.add_argument("spec", metavar="SPEC", type=Path, help="sweep spec (YAML), e.g. experiments/sobol_top_rungs.yaml")
    p.add_argument("-w", "--workers", type=_workers, default=None, metavar="N",
                   help="worker processes (default: the number of CPUs; 0 runs in this process); with "
                        "--scheduler local, the Dask workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on Dask: 'local' starts a local cluster of --workers processes; tcp://HOST:PORT "
                        "connects to a running scheduler")
    p.add_argument("--points", type=positive_int, metavar="N",
                   help="override the design's size (lhs: points; sobol: base samples, a power of two; morris: "
                        "trajectories; grid: at most N points) for a quick trial")
    p.add_argument("-n", "--replicates", type=positive_int, metavar="R", help="override the replicates per point")
    p.add_argument("--engine", choices=tuple(ENGINES), help="override the spec's engine")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in DIR: run only the chunks that are missing (same spec and options)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR", help="results folder (default results/sweeps/<name>)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from sim.sweep.run import run_sweep
    from sim.sweep.spec import load_spec

    rs = load_spec(args.spec, points=args.points, replicates=args.replicates, engine=args.engine)
    folder = args.out if args.out is not None else Path("results") / "sweeps" / rs.name
    workers = args.workers if args.workers is not None else (os.cpu_count() or 2)
    spec_text = args.spec.read_text(encoding="utf-8") if args.spec.is_file() else None
    bar = None

    def on_start(total: int, todo: int) -> None:
        nonlocal bar
        if todo < total:
            log.info("resuming %s: %d of %d runs already done", rs.name, total - todo, total)
        if todo == 0:
            log.info("nothing to do: every run of %s is in %s", rs.name, folder)
            return
        log.info("sweep %s: %d runs (%s design) on the %s engine, %d per chunk, into %s", rs.name, todo,
                 rs.spec.design.kind, rs.spec.engine, rs.chunk_size, folder)
        bar = tqdm(total=todo, desc=rs.name, unit="run", file=sys.stderr, disable=True if args.quiet else None,
                   leave=False, smoothing=0.1)

    try:
        result = run_sweep(rs, folder, workers=workers, scheduler=args.scheduler, resume=args.resume,
                           spec_text=spec_text, on_start=on_start, on_chunk=lambda n: bar.update(n) if bar else None)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        log.warning("interrupted: finished chunks are kept in %s; continue with: escalation sweep %s --resume "
                    "--out %s", folder, args.spec, folder)
        raise
    finally:
        if bar is not None:
            bar.close()
    if result.runs_run:
        rate = result.runs_run / result.seconds if result.seconds > 0 else float("inf")
        log.info("%d runs in %.1f s (%.0f runs/s) on %s with %d worker%s", result.runs_run, result.seconds, rate,
                 result.executor, result.workers, "" if result.workers == 1 else "s")
    print(result.folder)
    return 0
