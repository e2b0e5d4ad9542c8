"""Time one 365-day baseline run on the Mesa engine (issue: model core).

Usage: python benchmarks/bench_mesa.py [--runs N] [--scenario baseline]

Prints the median and best wall time of a full run (model construction,
365 steps with data collection, tidy tables), and the time of the steps alone.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from mesa import Agent

from sim.model import EscalationModel
from sim.runner import replicate_seeds, tidy_events, tidy_timeseries
from sim.scenario_io import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--scenario", default="baseline")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    full, steps = [], []
    for seq in replicate_seeds(0, args.runs):
        t0 = time.perf_counter()
        m = EscalationModel(scenario, rng=np.random.default_rng(seq))
        t1 = time.perf_counter()
        m.run()
        t2 = time.perf_counter()
        tidy_timeseries(m)
        tidy_events(m)
        t3 = time.perf_counter()
        Agent._ids.pop(m, None)
        full.append(t3 - t0)
        steps.append(t2 - t1)
    print(f"scenario={args.scenario} days={scenario.days} runs={args.runs}")
    print(f"full run (build + {scenario.days} steps + tables): median {statistics.median(full):.3f} s, best {min(full):.3f} s")
    print(f"steps only: median {statistics.median(steps):.3f} s  ({1000 * statistics.median(steps) / scenario.days:.2f} ms/day)")


if __name__ == "__main__":
    main()
