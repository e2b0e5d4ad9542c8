"""Simulate the calibration statistics for many parameter vectors at once."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from sim.compiled import compile_scenario
from sim.ensemble import EnsembleEngine, block_rng
from sim.schema import Scenario

from .arrays import DAY_ARRAYS
from .params import FreeParameter
from .targets import Design

__all__ = ["Simulator"]


class Simulator:
    """Statistics of the design's targets for parameter vectors, one replicate each.

    Args:
        base: the scenario being calibrated (its free parameters are overwritten).
        design: targets, statistics and the calibration variant (:class:`Design`).
        free: the free parameters (columns of ``theta``).
        batch: replicates per engine run (memory bound).
    """

    def __init__(self, base: Scenario, design: Design, free: Sequence[FreeParameter], batch: int = 4000) -> None:
        self.base = base
        self.design = design
        self.free = tuple(free)
        self.scenario = design.scenario(base)
        self.compiled = compile_scenario(self.scenario)
        self.batch = int(batch)
        self.runs = 0
        """Model runs (replicates) simulated so far."""

    @property
    def n_stats(self) -> int:
        return len(self.design.bands)

    def run(self, theta: np.ndarray, seed: int, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Statistics (N, K) for the rows of ``theta`` (N, P), and which were answered (see
        :meth:`Design.answered`); replicate numbers ``first ..``.

        Each chunk of rows runs on one engine whose generator is
        ``block_rng(seed, first_of_chunk, rows_in_chunk)``, so the same
        ``(theta, seed, first)`` always gives the same statistics (common random
        numbers when ``theta`` changes but ``seed``/``first`` do not).
        """
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        n = theta.shape[0]
        out = np.empty((n, self.n_stats))
        mask = np.empty((n, self.n_stats), dtype=bool)
        for off in range(0, n, self.batch):
            rows = theta[off:off + self.batch]
            m = rows.shape[0]
            eng = EnsembleEngine(self.compiled, m, block_rng(seed, first + off, m), table=False, record=DAY_ARRAYS,
                                 params={p.path: p.values(rows[:, j]) for j, p in enumerate(self.free)}).run()
            arrays = eng.recorded_arrays()
            out[off:off + m] = self.design.statistics(arrays)
            mask[off:off + m] = self.design.answered(arrays)
            self.runs += m
        return out, mask

    def stats(self, theta: np.ndarray, seed: int, first: int = 0) -> np.ndarray:
        """Statistics (N, K) for the rows of ``theta`` (see :meth:`run`)."""
        return self.run(theta, seed, first)[0]

    def stats_at(self, theta_row: Sequence[float], replicates: int, seed: int) -> np.ndarray:
        """Statistics (R, K) of ``replicates`` runs at one parameter vector (CRN across calls)."""
        return self.run_at(theta_row, replicates, seed)[0]

    def run_at(self, theta_row: Sequence[float], replicates: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`run` for ``replicates`` runs at one parameter vector."""
        theta = np.repeat(np.asarray(theta_row, dtype=float)[None, :], int(replicates), axis=0)
        return self.run(theta, seed, 0)

    def distance(self, stats: np.ndarray) -> np.ndarray:
        return self.design.distance(stats)
