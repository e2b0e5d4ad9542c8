"""``escalation run``: simulate one scenario and write a result folder."""

from __future__ import annotations

import argparse
import logging

from sim.commands._common import (add_output_options, add_simulation_options, choose_engine, describe_outcomes,
                                  load, run_summary, simulate, write_run)

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="simulate a scenario and write tables, a summary and figures",
        description="Simulate SCENARIO for N replicates and write a result folder: timeseries.csv and "
                    ".parquet (one row per replicate and day), events.csv, summary.json, "
                    "scenario.resolved.yaml and figures/ (PNG and SVG). The folder's path is printed on stdout.")
    p.add_argument("scenario", metavar="SCENARIO",
                   help="scenario file (e.g. scenarios/baseline.yaml) or name (e.g. baseline)")
    add_simulation_options(p)
    add_output_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.results import ResultFolder, default_folder

    scenario, source = load(args.scenario, args.overrides, args.days)
    engine = choose_engine(args.engine, args.replicates)
    target = args.out if args.out is not None else default_folder(scenario.name)
    with ResultFolder(target, overwrite=args.overwrite) as tmp:
        ts, ev = simulate(scenario, args.replicates, args.seed, engine, quiet=args.quiet)
        summary = run_summary(scenario, source, args.overrides, args.seed, args.replicates, engine, ts)
        summary = write_run(tmp, scenario, ts, ev, summary, figures=args.figures)
    for line in describe_outcomes(summary):
        log.info(line)
    log.info("results written to %s", target)
    print(target)
    return 0
