"""Results that scale: ``escalation run`` end to end, as an analyst runs it (issue 13).

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_outputs.py [--sizes 1000 10000 50000 100000] [--e2e 10000] [--write]
        [--commit SHA]

Every figure is one fresh process, measured with ``/usr/bin/time -v`` (peak
resident set of the whole command, imports included; wall, user and system
time), with the ``uptime`` load average recorded just before it, because the
box (2 cores) is shared:

* peak memory: ``escalation run baseline --replicates N --no-figures`` for
  each ``--sizes`` N (Parquet only above the CSV threshold; the files' size is
  recorded too);
* end to end vs the engine: ``escalation run baseline --replicates N`` with
  figures (``--e2e`` N), and the engine's own time for the same replicates --
  ``sim.ensemble.run_ensemble(baseline, N, seed 0, events=True)`` timed inside
  a process after its imports -- and their ratio (target <= 1.5).

Prints a markdown section (with the date, and the code's commit: ``git
rev-parse`` of the checkout, marked ``+changes`` if tracked files differ, or
``--commit`` when run from an exported copy); ``--write`` puts it into
``benchmarks/RESULTS.md`` (replacing this benchmark's section only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## Run outputs: memory and end-to-end time (`benchmarks/bench_outputs.py`)"

ENGINE_CHILD = """
import json, sys, time, resource
from sim.ensemble import run_ensemble
from sim.scenario_io import load_scenario
s = load_scenario("baseline")
t, c = time.perf_counter(), time.process_time()
ts, ev = run_ensemble(s, int(sys.argv[1]), 0, events=True)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path`` (up to the next ``## `` heading), or append it."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    block = text.rstrip("\n") + "\n\n"
    if start is None:
        new = old.rstrip("\n") + "\n\n" + block
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + block + "".join(lines[end:])
    path.write_text(new)


def uptime() -> str:
    """The load averages, as ``uptime`` prints them."""
    out = subprocess.run(["uptime"], capture_output=True, text=True).stdout
    m = re.search(r"load average: (.*)$", out.strip())
    return m.group(1) if m else out.strip()


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; return wall, cpu (user+sys) seconds and peak RSS (MB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    load = uptime()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    err = proc.stderr

    def field(name: str) -> str:
        return re.search(rf"{re.escape(name)}: (.*)", err).group(1).strip()

    parts = [float(x) for x in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return {"wall": wall, "cpu": cpu, "rss_mb": float(field("Maximum resident set size (kbytes)")) / 1024,
            "load": load, "stdout": proc.stdout}


def code_commit() -> str:
    """The checkout's commit (short), ``+changes`` if tracked files differ from it; ``unknown`` outside git."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head.stdout.strip() + ("+changes" if dirty else "")


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run_command(n: int, out: Path, figures: bool, block: int | None = None) -> list[str]:
    """The command; with ``block``, the ensemble engine's seeding block is set to ``block`` replicates first
    (a quick check that memory stays flat over many blocks; other seeds than the default's)."""
    args = ["run", "baseline", "--replicates", str(n), "--out", str(out), "-q", "--yes"]
    args += [] if figures else ["--no-figures"]
    if block is None:
        return [sys.executable, "-m", "sim", *args]
    code = (f"import sys, sim.ensemble; sim.ensemble.BLOCK = {int(block)}; from sim.cli import main; "
            f"sys.exit(main({args!r}))")
    return [sys.executable, "-c", code]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 50000, 100000])
    ap.add_argument("--e2e", type=int, default=10000, help="replicates of the end-to-end vs engine comparison")
    ap.add_argument("--block", type=int, default=None,
                    help="ensemble block size for the --sizes runs (default: the engine's, 10,000)")
    ap.add_argument("--write", action="store_true", help="write the section into benchmarks/RESULTS.md")
    ap.add_argument("--commit", help="the code's commit, when the checkout is not a git one (an exported copy)")
    args = ap.parse_args()
    commit = args.commit or code_commit()
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    scratch = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    rows, lines = [], []
    try:
        for n in args.sizes:
            out = scratch / f"run-{n}"
            r = timed(run_command(n, out, figures=False, block=args.block))
            r["mb"] = folder_mb(out)
            rows.append((n, r))
            print(f"{n:>7} replicates, no figures: peak {r['rss_mb']:.0f} MB, wall {r['wall']:.1f} s, "
                  f"cpu {r['cpu']:.1f} s, files {r['mb']:.0f} MB (load {r['load']})", flush=True)
            shutil.rmtree(out, ignore_errors=True)
        e2e = eng = None
        if args.e2e:
            out = scratch / "e2e"
            e2e = timed(run_command(args.e2e, out, figures=True))
            shutil.rmtree(out, ignore_errors=True)
            eng_run = timed([sys.executable, "-c", ENGINE_CHILD, str(args.e2e)])
            import json

            eng = {**json.loads(eng_run["stdout"]), "load": eng_run["load"]}
            print(f"end to end {args.e2e}: wall {e2e['wall']:.1f} s cpu {e2e['cpu']:.1f} s; engine wall "
                  f"{eng['wall']:.1f} s cpu {eng['cpu']:.1f} s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    lines += [SECTION, "",
              "Each figure is one fresh process under `/usr/bin/time -v` (peak RSS of the whole command, imports "
              "included). The 2-core box is shared: the load average (`uptime`, 1/5/15 min) just before each "
              "command is recorded with it. CPU is user + system time of the process (the stable figure when the "
              f"box is loaded). Measured {when} on commit {commit}. Command (from the repository root):", "",
              "    PYTHONPATH=. python benchmarks/bench_outputs.py --sizes "
              + " ".join(str(n) for n in args.sizes) + f" --e2e {args.e2e}"
              + (f" --block {args.block}" if args.block else "") + " --write", ""]
    if rows:
        lines += ["`escalation run baseline --replicates N --no-figures` (365 days, ensemble engine"
                  + (f", blocks of {args.block:,} replicates" if args.block else "") + "):", "",
                  "| replicates | peak RSS (MB) | wall (s) | CPU user+sys (s) | files (MB) | load average before |",
                  "|---:|---:|---:|---:|---:|---|"]
        for n, r in rows:
            lines.append(f"| {n:,} | {r['rss_mb']:,.0f} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['mb']:,.0f} | "
                         f"{r['load']} |")
        lines.append("")
    if e2e and eng:
        lines += [f"End to end, `escalation run baseline --replicates {args.e2e:,}` (figures included) vs the "
                  f"engine's own time for the same replicates (`run_ensemble(..., events=True)` after imports):", "",
                  "| what | wall (s) | CPU (s) | peak RSS (MB) | load average before |", "|---|---:|---:|---:|---|",
                  f"| whole command | {e2e['wall']:.1f} | {e2e['cpu']:.1f} | {e2e['rss_mb']:,.0f} | {e2e['load']} |",
                  f"| engine alone | {eng['wall']:.1f} | {eng['cpu']:.1f} | {eng['rss_mb']:,.0f} | {eng['load']} |",
                  f"| ratio | {e2e['wall'] / eng['wall']:.2f} | {e2e['cpu'] / eng['cpu']:.2f} | | |", ""]
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        write_section(HERE / "RESULTS.md", text)


if __name__ == "__main__":
    main()
