"""Per-day distributions over replicates, accumulated block by block (what the figures draw).

A run's figures need, for each day, percentiles over replicates of a few
columns (cumulative attacks, cumulative strikes, aimpoints and munitions,
each group's capacity) and the share of replicates that have reached each
rung.  :class:`DayAggregates` keeps, per day, a histogram of each such column
over the replicates seen so far, so memory does not grow with the number of
replicates and the per-day table never has to be held whole.

Exactness: whole-number columns are counted value by value, so their
percentiles equal ``numpy.percentile`` (linear interpolation) over all
replicates; rung shares are exact.  Capacity columns (0 to 1) are counted in
bins of :data:`FLOAT_RESOLUTION` (0.001): their percentiles are within half a
bin (0.0005) of the exact ones, far below what a figure shows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from sim.outcomes import QUANTILES
from sim.rules import RUNG_NAMES

__all__ = ["CUMULATED", "FLOAT_RESOLUTION", "PAUSE_COLUMN", "SAMPLE_PATHS", "WHOLE", "DayAggregates",
           "iter_replicate_blocks"]

WHOLE = ("cumulative_attacks",)
"""Whole-number columns kept as they are."""
CUMULATED = ("us_strikes", "targets_struck", "munitions")
"""Daily counts kept as their running totals over the run's days."""
FLOAT_RESOLUTION = 1e-3
"""Bin width of the capacity (0 to 1) histograms."""
_FLOAT_BINS = int(round(1 / FLOAT_RESOLUTION)) + 1
SAMPLE_PATHS = 5
"""Replicates kept whole (the lowest replicate numbers) so a figure can show single runs, pauses included."""
PAUSE_COLUMN = "groups_stood_down"
"""Per-day column that is positive on the days a stand-down is in force (docs/ODD.md 7.11)."""


def _quantiles(counts: np.ndarray, values: np.ndarray, n: int, qs=QUANTILES) -> np.ndarray:
    """Percentiles (len(qs) x days) from per-day counts over ``values`` (days x V), linear interpolation."""
    cum = np.cumsum(counts, axis=1)
    out = np.empty((len(qs), counts.shape[0]))
    for i, q in enumerate(qs):
        h = (n - 1) * q / 100.0
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        x_lo = values[(cum > lo).argmax(axis=1)]
        x_hi = values[(cum > hi).argmax(axis=1)]
        out[i] = x_lo + (h - lo) * (x_hi - x_lo)
    return out


class DayAggregates:
    """Per-day histograms over replicates of the figure columns (see the module doc).

    ``add`` takes blocks of the per-day table (whole replicates, every day);
    ``bands``, ``reached`` and ``dates`` answer the figures.
    """

    def __init__(self, start: dt.date, days: int) -> None:
        self.start, self.days = start, int(days)
        self.n = 0
        self.columns: list[str] = []
        self._whole: dict[str, np.ndarray] = {}  # name -> (days, V) counts of value v
        self._float: dict[str, np.ndarray] = {}  # name -> (days, bins) counts
        self._rung = np.zeros((self.days, len(RUNG_NAMES)), dtype=np.int64)  # counts of max_rung == k
        self._paused = np.zeros(self.days, dtype=np.int64)  # replicates with a stand-down in force, by day
        self._sample: dict[int, dict[str, np.ndarray]] = {}  # replicate -> column -> values by day

    @property
    def dates(self) -> np.ndarray:
        """The run's dates (datetime64[ns])."""
        first = np.datetime64(self.start, "D")
        return (first + np.arange(self.days)).astype("datetime64[ns]")

    # ------------------------------------------------------------------ accumulation

    def _wide(self, block: pd.DataFrame, column: str, reps: int) -> np.ndarray:
        return block[column].to_numpy().reshape(reps, self.days)

    def _count_whole(self, name: str, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.int64)
        if values.size and values.min() < 0:
            raise ValueError(f"column {name!r} has negative values")
        top = int(values.max()) + 1 if values.size else 1
        counts = self._whole.get(name)
        width = 0 if counts is None else counts.shape[1]
        if top > width:
            new = np.zeros((self.days, 1 << (top - 1).bit_length()), dtype=np.int64)
            if counts is not None:
                new[:, :width] = counts
            counts = self._whole[name] = new
        V = counts.shape[1]
        flat = (np.arange(self.days, dtype=np.int64) * V + values).ravel()
        counts += np.bincount(flat, minlength=self.days * V).reshape(self.days, V)

    def _count_float(self, name: str, values: np.ndarray) -> None:
        counts = self._float.setdefault(name, np.zeros((self.days, _FLOAT_BINS), dtype=np.int64))
        bins = np.clip(np.rint(np.asarray(values, dtype=float) / FLOAT_RESOLUTION), 0, _FLOAT_BINS - 1).astype(np.int64)
        flat = (np.arange(self.days, dtype=np.int64) * _FLOAT_BINS + bins).ravel()
        counts += np.bincount(flat, minlength=self.days * _FLOAT_BINS).reshape(self.days, _FLOAT_BINS)

    def add(self, block: pd.DataFrame) -> None:
        """Count one block: rows replicate-major, each replicate with days 0 .. days-1 in order."""
        if len(block) == 0:
            return
        reps, rem = divmod(len(block), self.days)
        day = block["day"].to_numpy()
        if rem or not np.array_equal(day.reshape(reps, self.days)[:, [0, -1]],
                                     np.broadcast_to([0, self.days - 1], (reps, 2))):
            block = block.sort_values(["replicate", "day"], kind="stable")
            if block.groupby("replicate").size().ne(self.days).any():
                raise ValueError(f"every replicate must have {self.days} days")
        for name in WHOLE:
            if name in block.columns:
                self._count_whole(name, self._wide(block, name, reps))
        for name in CUMULATED:
            if name in block.columns:
                self._count_whole(name, np.cumsum(self._wide(block, name, reps), axis=1))
        caps = [c for c in block.columns if c.startswith("capacity_")]
        for name in caps:
            self._count_float(name, self._wide(block, name, reps))
        if "max_rung" in block.columns:
            from sim.tables import rung_numbers

            top = rung_numbers(block["max_rung"]).reshape(reps, self.days)
            flat = (np.arange(self.days, dtype=np.int64) * len(RUNG_NAMES) + top).ravel()
            self._rung += np.bincount(flat, minlength=self.days * len(RUNG_NAMES)).reshape(self.days, -1)
        if PAUSE_COLUMN in block.columns:
            self._paused += (self._wide(block, PAUSE_COLUMN, reps) > 0).sum(axis=0)
        self._keep_samples(block, reps)
        for name in [*WHOLE, *CUMULATED, *caps, "max_rung", PAUSE_COLUMN]:
            if name in block.columns and name not in self.columns:
                self.columns.append(name)
        self.n += reps

    def _keep_samples(self, block: pd.DataFrame, reps: int) -> None:
        """Keep the per-day paths of the :data:`SAMPLE_PATHS` lowest replicate numbers seen so far."""
        cols = [c for c in ("cumulative_attacks", PAUSE_COLUMN) if c in block.columns]
        if "replicate" not in block.columns or not cols:
            return
        ids = block["replicate"].to_numpy().reshape(reps, self.days)[:, 0]
        chosen = sorted({*self._sample, *(int(i) for i in ids)})[:SAMPLE_PATHS]
        wide = {c: self._wide(block, c, reps) for c in cols}
        row = {int(r): k for k, r in enumerate(ids)}
        self._sample = {r: (self._sample[r] if r in self._sample else {c: wide[c][row[r]].copy() for c in cols})
                        for r in chosen}

    # ------------------------------------------------------------------ answers

    def bands(self, column: str, cumulative: bool = False) -> np.ndarray:
        """:data:`QUANTILES` over replicates by day (5 x days); ``cumulative`` for running totals."""
        if cumulative != (column in CUMULATED):
            raise KeyError(f"{column!r} is kept {'cumulated' if column in CUMULATED else 'as is'}")
        if column in self._whole:
            counts = self._whole[column]
            return _quantiles(counts, np.arange(counts.shape[1], dtype=float), self.n)
        if column in self._float:
            return _quantiles(self._float[column], np.arange(_FLOAT_BINS) * FLOAT_RESOLUTION, self.n)
        raise KeyError(f"no per-day distribution of {column!r}")

    def paused_share(self) -> np.ndarray:
        """Share of replicates with a stand-down in force (:data:`PAUSE_COLUMN` > 0), by day."""
        if PAUSE_COLUMN not in self.columns:
            raise KeyError(f"no {PAUSE_COLUMN!r} column was counted")
        return self._paused / max(self.n, 1)

    def samples(self, column: str) -> tuple[list[int], np.ndarray]:
        """The kept replicates (lowest numbers) and their values of ``column`` by day (K x days)."""
        ids = sorted(r for r in self._sample if column in self._sample[r])
        if not ids:
            raise KeyError(f"no sample paths of {column!r}")
        return ids, np.stack([self._sample[r][column] for r in ids])

    def reached(self, rung: int) -> np.ndarray:
        """Share of replicates whose highest rung so far is at least ``rung``, by day."""
        return self._rung[:, rung:].sum(axis=1) / max(self.n, 1)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_blocks(cls, blocks: Iterable[pd.DataFrame], start: dt.date, days: int) -> "DayAggregates":
        agg = cls(start, days)
        for block in blocks:
            agg.add(block)
        return agg

    @classmethod
    def from_table(cls, ts: pd.DataFrame) -> "DayAggregates":
        """From a whole per-day table (any row order)."""
        ts = ts.sort_values(["replicate", "day"], kind="stable")
        days = int(ts["day"].max()) + 1 if len(ts) else 0
        first = ts.loc[ts["day"] == 0, "date"]
        start = pd.Timestamp(first.iloc[0]).date() if len(first) else dt.date(1970, 1, 1)
        return cls.from_blocks([ts], start, days)

    @classmethod
    def from_file(cls, path: Path | str) -> "DayAggregates":
        """From ``timeseries.parquet`` (read row group by row group) or a ``timeseries.csv``."""
        path = Path(path)
        if path.suffix == ".csv":
            return cls.from_table(pd.read_csv(path, parse_dates=["date"]))
        import pyarrow.parquet as pq

        from sim.tables import read_metadata

        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        wanted = [c for c in names if c in ("replicate", "day", "date", "max_rung", PAUSE_COLUMN, *WHOLE, *CUMULATED)
                  or c.startswith("capacity_")]
        meta = read_metadata(path)
        groups = (pf.read_row_group(i, columns=wanted).to_pandas() for i in range(pf.num_row_groups))
        if "start_date" in meta and "days" in meta:
            start, days = dt.date.fromisoformat(str(meta["start_date"])), int(meta["days"])
        else:  # a file from an earlier version: whole table
            return cls.from_table(pd.concat(list(groups), ignore_index=True))
        return cls.from_blocks(iter_replicate_blocks(groups), start, days)


def iter_replicate_blocks(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Regroup consecutive replicate-major frames so that no replicate is split between two blocks."""
    carry: pd.DataFrame | None = None
    for frame in frames:
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        if len(frame) == 0:
            continue
        reps = frame["replicate"].to_numpy()
        cut = int(np.searchsorted(reps, reps[-1], side="left"))
        if cut:
            yield frame.iloc[:cut]
        carry = frame.iloc[cut:]
    if carry is not None and len(carry):
        yield carry
