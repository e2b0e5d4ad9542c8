"""``escalation run``: simulate one scenario and write a result folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim.commands._common import (add_output_options, add_simulation_options, check_run_size, choose_engine,
                                  describe_outcomes, load, run_provenance, stream_run)

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="simulate a scenario and write tables, a summary and figures",
        description="Simulate SCENARIO for N replicates and write a result folder: timeseries.parquet (one row "
                    "per replicate and day), events.parquet, their CSV copies for small runs (--csv), "
                    "summary.json, scenario.resolved.yaml and figures/ (PNG and SVG). Replicates are simulated "
                    "and written in blocks, so memory stays flat. The folder's path is printed on stdout.")
    p.add_argument("scenario", metavar="SCENARIO",
                   help="scenario file (e.g. scenarios/baseline.yaml) or name (e.g. baseline)")
    add_simulation_options(p)
    p.add_argument("--posterior", type=Path, metavar="FILE",
                   help="posterior sample (e.g. calibration/posterior.csv, from 'escalation calibrate'): each "
                        "replicate draws its own row of parameters with the run's seed; a column is not drawn "
                        "where the scenario or --set changes that parameter from the baseline")
    add_output_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.folders import ResultFolder
    from sim.results import default_folder

    scenario, source = load(args.scenario, args.overrides, args.days)
    engine = choose_engine(args.engine, args.replicates)
    target = args.out if args.out is not None else default_folder(scenario.name)
    csv = check_run_size(args, scenario.days, engine, target)
    with ResultFolder(target, overwrite=args.overwrite, kind="run") as tmp:
        head = run_provenance(scenario, source, args.overrides, args.seed, args.replicates, engine)
        blocks = None
        if args.posterior is not None:
            ts, ev, head["posterior"] = simulate_posterior(scenario, args, engine)
            blocks = [(ts, ev)]
        summary, _ = stream_run(tmp, scenario, head, csv=csv, figures=args.figures, quiet=args.quiet,
                                blocks=blocks)
    for line in describe_outcomes(summary):
        log.info(line)
    log.info("results written to %s", target)
    print(target)
    return 0


def simulate_posterior(scenario, args: argparse.Namespace, engine: str):
    """Run with each replicate's parameters drawn from ``--posterior`` (see sim.calibration.posterior)."""
    from sim.calibration.posterior import run_with_posterior
    from sim.results import tidy_events, tidy_timeseries

    log.info("running %s: %d replicates of %d days on the %s engine (seed %d), parameters drawn from %s",
             scenario.name, args.replicates, scenario.days, engine, args.seed, args.posterior)
    ts, ev, plan = run_with_posterior(scenario, args.posterior, args.replicates, args.seed, overrides=args.overrides,
                                      events=True, engine=engine)
    if plan.kept:
        log.info("posterior columns left to the scenario or --set: %s", ", ".join(plan.kept))
    info = {"file": str(args.posterior), "applied": plan.applied, "kept": plan.kept,
            "row_of_replicate": plan.rows.tolist()}
    return tidy_timeseries(ts, [g.id for g in scenario.militia.groups]), tidy_events(ev), info
