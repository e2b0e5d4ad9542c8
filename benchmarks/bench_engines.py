"""Mesa engine vs ensemble engine on the 365-day baseline (issue: fast ensemble engine).

Usage::

    python benchmarks/bench_engines.py [--mesa-runs 20] [--sizes 1000 10000 100000]
                                       [--scenario baseline] [--cpu 0] [--write]

Every measurement runs in a fresh subprocess pinned to one CPU (``--cpu``; as
``taskset -c 0``), so peak memory (``ru_maxrss``) is that of one job alone and
both engines get one core.  Each subprocess first warms up (imports, a small
run), then times the job: wall time and CPU time of the process (the box may be
shared; CPU time is the figure that does not depend on other load).

* Mesa: ``--mesa-runs`` runs of :func:`sim.runner.run_replicates` (model, 365
  steps, per-day table and event log), replicate-runs per second.
* Ensemble, per size: :func:`sim.ensemble.outcomes_at_horizon` (per-replicate
  outcomes, no per-day table; blocks of 10,000) and, up to 10,000 replicates,
  :func:`sim.ensemble.run_ensemble` (the full per-day table).

Prints a markdown table; ``--write`` also writes ``benchmarks/RESULTS.md``.  ``--against DIR``
instead compares the outcomes-only throughput of this checkout with another checkout (for example the
main branch before a change), alternating runs of the two ``--rounds`` times (and, with ``--against-mesa N``,
the Mesa engine's runs per CPU-second on N replicates).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## Engines: Mesa vs ensemble (`benchmarks/bench_engines.py`)"
"""Heading of this benchmark's section of RESULTS.md (other benchmarks own the other sections)."""


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path`` (from :data:`SECTION` to the next ``## `` heading),
    or add it at the top; the other sections are kept as they are."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    block = text.rstrip("\n") + "\n\n"
    if start is None:
        new = block + old.lstrip("\n")
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + block + "".join(lines[end:])
    path.write_text(new)


def _child(mode: str, size: int, scenario: str, days: int) -> dict:
    import resource

    import numpy as np

    from sim.ensemble import outcomes_at_horizon, prepare_scenario, run_ensemble
    from sim.runner import run_replicates

    s = prepare_scenario(scenario, days=days)

    def job() -> None:
        if mode == "mesa":
            run_replicates(s, size, seed=0)
        elif mode == "outcomes":
            assert len(outcomes_at_horizon(s, size, seed=0)) == size
        else:
            ts, _ = run_ensemble(s, size, seed=0)
            assert len(ts) == size * s.days

    if mode == "mesa":
        run_replicates(s, 1, seed=99)  # warm-up: imports, first model
    else:
        outcomes_at_horizon(s, 200, seed=99)
    times = []
    for _ in range(1 if mode == "mesa" else 2):  # first ("cold") and second ("warm") run in this process
        w, c = time.perf_counter(), time.process_time()
        job()
        times.append((time.perf_counter() - w, time.process_time() - c))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    (wall, cpu), (wall2, cpu2) = times[0], times[-1]
    return {"mode": mode, "size": size, "wall": wall, "cpu": cpu, "wall2": wall2, "cpu2": cpu2,
            "maxrss_mb": rss_mb, "numpy": np.__version__}


def _run_child(mode: str, size: int, args: argparse.Namespace, root: Path = ROOT) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(size), "--scenario", args.scenario,
           "--days", str(args.days)]
    env = dict(os.environ, PYTHONPATH=str(root))

    def pin() -> None:
        if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {args.cpu})

    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, preexec_fn=pin, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesa-runs", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--table-max", type=int, default=10000, help="largest size also run with the per-day table")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--cpu", type=int, default=0, help="CPU to pin each job to (-1: no pinning)")
    ap.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--against", metavar="DIR", help="another checkout of the repository: alternate outcomes-only "
                                                     "runs of the largest size on both, --rounds times")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against-mesa", type=int, default=0, metavar="N",
                    help="with --against, also alternate Mesa runs of N replicates on both (0: none)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]), args.scenario, args.days)))
        return
    if args.against:
        against(args)
        return

    rows = []
    mesa = _run_child("mesa", args.mesa_runs, args)
    rows.append(mesa)
    print(f"mesa: {args.mesa_runs} runs in {mesa['wall']:.1f} s wall, {mesa['cpu']:.1f} s CPU", flush=True)
    for size in args.sizes:
        for mode in ("outcomes", "table"):
            if mode == "table" and size > args.table_max:
                continue
            r = _run_child(mode, size, args)
            rows.append(r)
            print(f"{mode} {size}: {r['wall']:.2f} / {r['wall2']:.2f} s wall, {r['cpu']:.2f} / {r['cpu2']:.2f} s CPU "
                  f"(first / second run), {r['maxrss_mb']:.0f} MB", flush=True)

    mesa_rate_wall = mesa["size"] / mesa["wall"]
    mesa_rate_cpu = mesa["size"] / mesa["cpu"]
    lines = [
        "| engine | output | replicates | wall (s) 1st / 2nd run | CPU (s) 1st / 2nd run | "
        "replicate-runs/s (CPU, best) | x Mesa (CPU) | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        engine = "Mesa" if r["mode"] == "mesa" else "ensemble"
        output = {"mesa": "per-day table + events", "outcomes": "outcomes at horizon",
                  "table": "per-day table"}[r["mode"]]
        rate = r["size"] / min(r["cpu"], r["cpu2"])
        wall = f"{r['wall']:.2f}" if r["mode"] == "mesa" else f"{r['wall']:.2f} / {r['wall2']:.2f}"
        cpu = f"{r['cpu']:.2f}" if r["mode"] == "mesa" else f"{r['cpu']:.2f} / {r['cpu2']:.2f}"
        lines.append(f"| {engine} | {output} | {r['size']:,} | {wall} | {cpu} | {rate:,.0f} | "
                     f"{rate / mesa_rate_cpu:,.0f} | {r['maxrss_mb']:,.0f} |")
    table = "\n".join(lines)
    print()
    print(table)
    print(f"\nMesa: {mesa_rate_wall:.2f} runs/s wall ({mesa['wall'] / mesa['size']:.3f} s/run), "
          f"{mesa_rate_cpu:.2f} runs/s CPU")
    if args.write:
        cmd = "PYTHONPATH=. python benchmarks/bench_engines.py " + " ".join(
            a for a in sys.argv[1:] if a != "--write") + " --write"
        cpu_model = ""
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        targets = ""
        by = {(r["mode"], r["size"]): r for r in rows}
        for mode, label in (("outcomes", "outcomes at horizon"), ("table", "per-day table")):
            r = by.get((mode, 10000))
            if r is not None:
                targets += (f"* Issue targets, 10,000 replicates ({label}): <= 5 s -> {r['wall']:.2f} s wall / "
                            f"{r['cpu']:.2f} s CPU first run, {r['wall2']:.2f} s / {r['cpu2']:.2f} s second run; "
                            f">= 100x Mesa -> {10000 / min(r['cpu'], r['cpu2']) / mesa_rate_cpu:.0f}x.\n")
        text = f"""{SECTION}

Scenario `{args.scenario}`, {args.days} days.  Command (from the repository root):

```
{cmd.strip()}
```

Each job ran in its own subprocess pinned to CPU {args.cpu} (one core), after a small warm-up run;
ensemble jobs ran twice in that process ("1st / 2nd run").  The box ({cpu_model or platform.processor()},
{os.cpu_count()} cores) is a VM shared with other work, so wall times vary with load, and the first
touch of freshly allocated memory is expensive there (the per-day table of 10,000 replicates is about
0.8 GB, mostly paid in the first run).  CPU time (``time.process_time``) is the stable figure; the rates
use the faster of the two runs.  Peak RSS is the subprocess's ``ru_maxrss`` (imports included, about
170 MB).

{table}

* Mesa: {mesa_rate_cpu:.2f} replicate-runs/s of CPU ({mesa['cpu'] / mesa['size']:.3f} s per run;
  {mesa_rate_wall:.2f} runs/s wall).
* "outcomes at horizon" is `sim.ensemble.outcomes_at_horizon` (totals, max rung, first fatal day per
  replicate; no per-day table), run in blocks of 10,000 replicates, so memory stays flat beyond 10,000.
* "per-day table" is `sim.ensemble.run_ensemble` (the Mesa engine's per-day columns, R x 365 rows).
{targets}
"""
        write_section(HERE / "RESULTS.md", text)
        print(f"wrote {HERE / 'RESULTS.md'}")


def against(args: argparse.Namespace) -> None:
    """Outcomes-only runs per CPU-second of this checkout and another, alternating (a shared machine's load
    then weighs on both alike); the best of each side's runs.  With ``--against-mesa N``, Mesa runs per
    CPU-second of both too (N replicates per measurement, alternating the same way)."""
    size = max(args.sizes)
    sides = {"this checkout": ROOT, str(args.against): Path(args.against).resolve()}
    jobs = [("outcomes", size)] + ([("mesa", args.against_mesa)] if args.against_mesa > 0 else [])
    best = {(mode, k): 0.0 for mode, _ in jobs for k in sides}
    print(f"{args.scenario}, {args.days} days, {size:,} replicates, outcomes at horizon; load average "
          f"{os.getloadavg()[0]:.1f} at start")
    for k in range(args.rounds):
        for mode, n in jobs:
            for name, root in sides.items():
                r = _run_child(mode, n, args, root=root)
                rate = n / min(r["cpu"], r["cpu2"])
                best[mode, name] = max(best[mode, name], rate)
                label = "replicate-runs per CPU-second" if mode == "outcomes" else "Mesa runs per CPU-second"
                print(f"round {k + 1}, {name}: {rate:,.2f} {label}", flush=True)
    print()
    print("| code | ensemble, outcomes only: replicate-runs per CPU-second (best) |"
          + (" Mesa: runs per CPU-second (best) |" if args.against_mesa > 0 else ""))
    print("|---|---:|" + ("---:|" if args.against_mesa > 0 else ""))
    for name in sides:
        mesa = f" {best['mesa', name]:.2f} |" if args.against_mesa > 0 else ""
        print(f"| {name} | {best['outcomes', name]:,.0f} |{mesa}")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
