"""How big a run will be, before it starts: time, disk space, and the limits that need a "yes".

``escalation run`` and ``compare`` estimate the time and the disk space of the
files from the number of replicate-days (replicates x days x scenarios) and
rates measured on the reference machine (2-core VM, see
``benchmarks/RESULTS.md``, ``bench_outputs.py``).  Estimates are rough
(a factor of two either way) but enough to tell a big run from an absurd one:

* more than :data:`LARGE_SECONDS` of simulation or :data:`LARGE_BYTES` of files:
  refused (exit 2) with the estimates unless ``--yes`` is given;
* more disk space than the target's file system has free, or more replicates
  than the tables can number (:data:`MAX_REPLICATES`): refused even with ``--yes``.

Memory is not limited: runs are streamed (:mod:`sim.stream`), so it stays
flat whatever the number of replicates.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError

__all__ = ["CSV_AUTO_ROWS", "LARGE_BYTES", "LARGE_SECONDS", "MAX_REPLICATES", "SizeEstimate", "check_size",
           "estimate", "want_csv"]

CSV_AUTO_ROWS = 200_000
"""CSV copies are written by default when the per-day table has at most this many rows (replicates x days):
e.g. up to 547 replicates of a 365-day scenario."""
LARGE_SECONDS = 3600.0
"""Estimated simulation time above which a run needs ``--yes``."""
LARGE_BYTES = 20e9
"""Estimated size of the files above which a run needs ``--yes``."""
MAX_REPLICATES = 2**31 - 1
"""Replicate numbers are stored as 32-bit integers."""

# Rates per replicate-day on the reference machine (whole command: simulation, writing, figures).
SECONDS_PER_REPLICATE_DAY = {"ensemble": 1.2e-5, "mesa": 4e-4}
PARQUET_BYTES_PER_REPLICATE_DAY = 55.0
CSV_BYTES_PER_REPLICATE_DAY = 450.0


def want_csv(requested: bool | None, replicates: int, days: int) -> bool:
    """``--csv`` / ``--no-csv``, else CSV only for small runs (:data:`CSV_AUTO_ROWS`)."""
    return requested if requested is not None else replicates * days <= CSV_AUTO_ROWS


@dataclass(frozen=True)
class SizeEstimate:
    replicate_days: int
    seconds: float
    bytes: float

    def text(self) -> str:
        return f"about {_duration(self.seconds)} and {_bytes(self.bytes)} of files"


def estimate(replicates: int, days: int, engine: str, *, csv: bool, scenarios: int = 1) -> SizeEstimate:
    """Estimated time and size of the files of ``scenarios`` runs of ``replicates`` x ``days``."""
    n = int(replicates) * int(days) * int(scenarios)
    per_day = PARQUET_BYTES_PER_REPLICATE_DAY + (CSV_BYTES_PER_REPLICATE_DAY if csv else 0.0)
    return SizeEstimate(n, n * SECONDS_PER_REPLICATE_DAY.get(engine, SECONDS_PER_REPLICATE_DAY["mesa"]), n * per_day)


def _free_bytes(target: Path) -> float:
    p = Path(target).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return float(shutil.disk_usage(p).free)
    except OSError:
        return math.inf


def check_size(est: SizeEstimate, replicates: int, target: Path, *, yes: bool, option: str = "--replicates") -> None:
    """Refuse (InputError, exit 2) an absurd run, or a large one without ``--yes`` (see the module doc)."""
    if replicates > MAX_REPLICATES:
        raise InputError(f"{replicates:,} replicates would take {est.text()}", path=option,
                         allowed=f"at most {MAX_REPLICATES:,} replicates")
    free = _free_bytes(target)
    if est.bytes > free:
        raise InputError(f"{replicates:,} replicates would take {est.text()}, more than the "
                         f"{_bytes(free)} free where the results go", path=option,
                         allowed="fewer replicates or days, --no-csv, or another --out with more space")
    if not yes and (est.seconds > LARGE_SECONDS or est.bytes > LARGE_BYTES):
        raise InputError(f"{replicates:,} replicates would take {est.text()} "
                         f"(the limits without --yes are {_duration(LARGE_SECONDS)} and {_bytes(LARGE_BYTES)})",
                         path=option, allowed="fewer replicates, or --yes to go ahead")


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} seconds"


def _bytes(n: float) -> str:
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"
