"""``escalation calibrate``: fit the baseline's free parameters to the seed figures."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sim.commands._common import at_least, seed_int

log = logging.getLogger("sim.cli")

DEFAULT_OUT = Path(__file__).resolve().parent.parent.parent / "calibration"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate", help="estimate the baseline's free parameters from the seed figures (SMM + ABC-SMC)",
        description="Estimate the free parameters of the baseline scenario so that it reproduces the "
                    "calibration targets of the seed record: a point estimate by the simulated method of moments "
                    "(common random numbers, Nelder-Mead) and a posterior sample by ABC-SMC. Writes "
                    "baseline_calibrated.yaml (which scenarios/baseline.yaml extends), posterior.csv, fit.csv, "
                    "calibration.json, report.md and figures/ into DIR and prints DIR. See docs/CALIBRATION.md.")
    p.add_argument("--targets", type=Path, default=None, metavar="FILE",
                   help="seed record with calibration_targets (default seeds/events.yaml)")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: the repository's calibration/, the shipped outputs; with "
                        "--quick, results/calibration-quick/): new, empty, or an earlier calibration folder, which "
                        "is replaced (a folder holding anything escalation did not write is refused)")
    p.add_argument("--budget", type=at_least(1000), default=None, metavar="N",
                   help="most model runs ABC-SMC may use (default 150000; 25000 with --quick)")
    p.add_argument("--seed", type=seed_int, default=0, metavar="S", help="root random seed (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="small settings for a smoke test (300 particles, fewer SMM replicates, no Mesa check)")
    p.add_argument("--particles", type=at_least(50), default=None, metavar="N",
                   help="ABC-SMC population size (default 1000; 300 with --quick)")
    p.add_argument("--slack", type=_slack, default=None, metavar="X",
                   help="soft ceiling of a 'more than / at least V' figure at V*(1+X) (default 0.5; 'inf' for a "
                        "purely one-sided bound)")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="skip the figures")
    p.set_defaults(func=main)


def _slack(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is too small (allowed: a number >= 0, or inf)")
    return value


def main(args: argparse.Namespace) -> int:
    from sim.calibration.pipeline import Settings, calibrate
    from sim.errors import InputError

    settings = Settings.quick() if args.quick else Settings()
    if args.budget is not None:
        settings.budget = args.budget
    if args.slack is not None:
        settings.slack = args.slack
    if args.particles is not None:
        settings.n_particles = args.particles
        settings.draws = max(settings.draws, args.particles)
    if args.targets is not None and not args.targets.is_file():
        raise InputError(f"targets file {args.targets} not found", path="--targets")
    if args.out is not None:
        out = args.out
    else:  # a --quick calibration must not replace the shipped one by accident
        out = Path("results") / "calibration-quick" if args.quick else DEFAULT_OUT
    from sim.folders import ResultFolder

    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    settings.shipped = out.resolve() == DEFAULT_OUT.resolve()

    try:
        with ResultFolder(out, overwrite=True, kind="calibration") as tmp, logging_redirect_tqdm(), \
                tqdm(desc="calibrate", unit="run", file=sys.stderr, disable=True if args.quiet else None,
                     leave=False, dynamic_ncols=True) as bar:
            outcome = calibrate("baseline", args.targets, seed=args.seed, settings=settings, out=tmp,
                                figures=args.figures, progress=log.info, on_runs=bar.update)
    except ValueError as exc:  # bad targets file or free-parameter set: the user's input
        raise InputError(str(exc)) from None
    for r in outcome.summary_rows():
        log.info("%s: %g (posterior median %g, 90%% interval %g-%g)", r["parameter"], r["smm"], r["post_median"],
                 r["post_q05"], r["post_q95"])
    log.info("calibration written to %s in %.0f s", out, outcome.timings.get("total", 0.0))
    print(out)
    return 0
