"""Throughput and memory of `escalation sweep` (issue: scenario sweeps at scale).

Usage: python benchmarks/bench_sweep.py [--sizes 1000 10000 100000] [--workers 1 2] [--days 90]
                                        [--engine ensemble] [--replicates 100]

For each size and worker count, writes a Latin-hypercube spec over three parameters of the
baseline scenario (size / replicates design points), runs the real command line in a fresh
process (``python -m sim sweep SPEC --workers N --out TMP``), and reports:

* runs per second of the sweep loop (the command's own "N runs in T s" line: design, chunks,
  simulation and writing, without process start-up), and the wall time of the whole command;
* runs per CPU-second of all the command's processes (user + system time of the driver and its
  workers): the throughput that does not depend on what else the machine is running;
* peak resident memory of the driver process and of the largest worker process, sampled every
  0.1 s with psutil (both should stay flat as the sweep grows: results are streamed to disk and
  at most 2 x workers chunks are in flight).

Prints a Markdown table for benchmarks/RESULTS.md.

``--pair N`` instead compares, for the same number of runs, a Sobol design with one replicate
per point (``samples: N``, N x (k + 2) points) and two points with many replicates each (issue
"one day of the model, written once": many design points share one engine call, so the first
should run at no less than 80% of the runs/s of the second).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
# Benchmark sweep: a Latin hypercube over three parameters of the baseline scenario.
name: bench
scenario: baseline
days: {days}
parameters:
  - {{path: militia.attack.tension_weight, role: uncertainty, range: [0.5, 1.5]}}
  - {{path: us.doctrine.campaign.first_wave_targets, role: lever, range: [20, 160]}}
  - {{path: us.doctrine.scope.irgc_share, role: lever, range: [0.0, 0.4]}}
design: {design}
replicates: {replicates}
seed: 1
engine: {engine}
"""


def measure(spec: Path, out: Path, workers: int) -> dict[str, float]:
    import psutil

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sim", "sweep", str(spec), "--workers", str(workers), "--out", str(out)]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    driver = psutil.Process(proc.pid)
    peak_driver = peak_worker = 0
    while proc.poll() is None:
        try:
            peak_driver = max(peak_driver, driver.memory_info().rss)
            for child in driver.children(recursive=True):
                try:
                    peak_worker = max(peak_worker, child.memory_info().rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed ({proc.returncode}):\n{err}")
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, once all have exited
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    m = re.search(r"(\d+) runs in ([\d.]+) s", err)
    runs, secs = (int(m.group(1)), float(m.group(2))) if m else (0, float("nan"))
    return {"runs": runs, "loop_s": secs, "runs_per_s": runs / secs if secs else float("nan"), "wall_s": wall,
            "runs_per_cpu_s": runs / cpu if cpu else float("nan"),
            "driver_mb": peak_driver / 2**20, "worker_mb": peak_worker / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="runs per sweep")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--days", type=int, default=90, help="horizon of each run (default 90)")
    ap.add_argument("--replicates", type=int, default=100, help="replicates per design point (default 100)")
    ap.add_argument("--engine", choices=("ensemble", "mesa"), default="ensemble")
    ap.add_argument("--pair", type=int, metavar="N", help="compare Sobol (samples N, 1 replicate per point) "
                                                          "with 2 points x many replicates")
    args = ap.parse_args()
    if args.pair:
        pair(args)
        return
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, engine={args.engine}, days={args.days}, "
          f"replicates per point={args.replicates}, load average {os.getloadavg()[0]:.1f} at start")
    print()
    print("| runs | workers | runs/s (loop) | wall time (s) | runs per CPU-second | driver peak RSS (MB) "
          "| worker peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            points = max(2, size // args.replicates)
            spec = Path(tmp) / f"bench-{size}.yaml"
            spec.write_text(SPEC.format(days=args.days, design=f"{{kind: lhs, points: {points}}}",
                                        replicates=args.replicates, engine=args.engine), encoding="utf-8")
            for workers in args.workers:
                r = measure(spec, Path(tmp) / f"out-{size}-{workers}", workers)
                print(f"| {r['runs']:,} | {workers} | {r['runs_per_s']:,.0f} | {r['wall_s']:.1f} | "
                      f"{r['runs_per_cpu_s']:,.0f} | {r['driver_mb']:.0f} | {r['worker_mb']:.0f} |", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


def pair(args: argparse.Namespace) -> None:
    """Sobol with one replicate per point vs two points with many replicates, same runs."""
    runs = args.pair * (3 + 2)  # three factors, first-order indices
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, engine={args.engine}, days={args.days}, "
          f"{runs:,} runs each, load average {os.getloadavg()[0]:.1f} at start")
    print()
    print("| design | points x replicates | workers | runs/s (loop) | wall time (s) | runs per CPU-second |")
    print("|---|---:|---:|---:|---:|---:|")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, design, reps in (("Sobol", f"{{kind: sobol, samples: {args.pair}}}", 1),
                                   ("LHS", "{kind: lhs, points: 2}", runs // 2)):
            spec = Path(tmp) / f"{name}.yaml"
            spec.write_text(SPEC.format(days=args.days, design=design, replicates=reps, engine=args.engine),
                            encoding="utf-8")
            for workers in args.workers:
                r = measure(spec, Path(tmp) / f"out-{name}-{workers}", workers)
                rates[name, workers] = r["runs_per_s"]
                print(f"| {name} | {r['runs'] // reps:,} x {reps:,} | {workers} | {r['runs_per_s']:,.0f} | "
                      f"{r['wall_s']:.1f} | {r['runs_per_cpu_s']:,.0f} |", flush=True)
    for workers in args.workers:
        print(f"\nworkers={workers}: Sobol at {rates['Sobol', workers] / rates['LHS', workers]:.0%} "
              f"of the runs/s of 2 points x many replicates")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
