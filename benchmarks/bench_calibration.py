"""Time the calibration of the baseline (``escalation calibrate``) on this machine.

Usage: PYTHONPATH=. python benchmarks/bench_calibration.py [--quick] [--seed S] [--budget N]

Runs the whole calibration exactly as ``escalation calibrate`` does (ABC-SMC, SMM,
the fit checks including the Mesa cross-check, report and figures) into a
temporary folder -- the shipped outputs in calibration/ are not touched -- and
prints the wall time of each stage, the model runs each used, the throughput of
the calibration simulator (110-day runs with per-replicate parameters), the CPU
time of the process and the machine's load, as a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import tempfile
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the --quick settings")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    from sim.calibration.params import DEFAULT_FREE
    from sim.calibration.pipeline import Settings, calibrate
    from sim.calibration.simulate import Simulator
    from sim.calibration.targets import Design
    from sim.scenario_io import load_scenario
    from sim.seeds import load_targets

    settings = Settings.quick() if args.quick else Settings()
    if args.budget is not None:
        settings.budget = args.budget
    load0 = os.getloadavg()
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = calibrate("baseline", seed=args.seed, settings=settings, out=tmp)
    cpu = time.process_time() - cpu0
    load1 = os.getloadavg()
    t = outcome.timings

    # throughput of the simulator alone: 4,000 runs of the calibration design, random parameters
    base = load_scenario("baseline")
    sim = Simulator(base, Design.for_scenario(load_targets(), base), DEFAULT_FREE)
    lo = np.array([p.lo for p in DEFAULT_FREE])
    hi = np.array([p.hi for p in DEFAULT_FREE])
    theta = lo + np.random.default_rng(0).random((4000, len(lo))) * (hi - lo)
    t0 = time.perf_counter()
    sim.stats(theta, 1)
    rate = 4000 / (time.perf_counter() - t0)

    smm_runs = outcome.smm.evaluations * outcome.smm.replicates + len(outcome.smm.reevaluated) * 2 * outcome.smm.replicates
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load0[0]:.1f} before / {load1[0]:.1f} after; settings: "
          f"{'quick' if args.quick else 'full'}, seed {args.seed}")
    print()
    print("| stage | wall time (s) | model runs |")
    print("|---|---:|---:|")
    print(f"| ABC-SMC ({outcome.abc.settings['n_particles']} particles, {len(outcome.abc.generations)} generations, "
          f"final tolerance {outcome.abc.final.eps:g}) | {t['abc']:.1f} | {outcome.abc.simulations:,} |")
    print(f"| SMM ({outcome.smm.evaluations} evaluations x {outcome.smm.replicates} replicates, "
          f"re-evaluation) | {t['smm']:.1f} | {smm_runs:,} |")
    print(f"| checks (fit tables, fan chart, Mesa cross-check) | {t['checks']:.1f} | - |")
    print(f"| report and figures | {t.get('report', 0):.1f} | - |")
    print(f"| **total** | **{t['total']:.1f}** | |")
    print()
    print(f"process CPU time {cpu:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"simulator throughput {rate:,.0f} runs/s (110-day runs, per-replicate parameters, batches of 4,000); "
          f"every target reproduced: {all(bool(v.reproduced.all()) for v in outcome.fits.values())}")


if __name__ == "__main__":
    main()
