"""Design tables: the parameter values of every design point.

Every design is first drawn on the unit hypercube ``[0, 1]^D`` and then mapped
to values by :meth:`sim.sweep.spec.Factor.from_unit` (or, for a grid, the
factor's levels).  The table keeps both: a column per parameter path with the
value used, and a column ``unit:<path>`` with the unit coordinate (what
SALib's analyses and the tornado chart read).

* ``grid``   full factorial, first parameter slowest; a range gets ``levels``
  evenly spaced values (integers rounded, repeats dropped), a list its values.
* ``lhs``    Latin hypercube (scipy.stats.qmc.LatinHypercube), ``points`` rows.
* ``sobol``  Saltelli's scheme for Sobol indices (SALib.sample.sobol):
  ``samples * (D + 2)`` rows, or ``samples * (2D + 2)`` with ``second_order``.
  Row order matters to SALib.analyze.sobol and is kept.
* ``morris`` Morris trajectories (SALib.sample.morris) on a ``levels`` grid:
  ``trajectories * (D + 1)`` rows, in trajectory order.

The random designs (lhs, sobol, morris) are seeded from the master seed through
``SeedSequence([seed, DESIGN_STREAM])``, a stream no run uses, so the design is
a function of the spec alone.  The table is saved with the sweep
(``design.parquet``) and a resumed sweep reads it back rather than drawing it
again.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from .spec import DEFAULT_LEVELS, ResolvedSpec

__all__ = ["DESIGN_STREAM", "UNIT", "build_design", "salib_problem", "unit_column"]

DESIGN_STREAM = 0x5EED_DE51
UNIT = "unit:"


def unit_column(path: str) -> str:
    return UNIT + path


def salib_problem(paths: list[str]) -> dict[str, Any]:
    """The SALib problem of a design: every parameter on the unit interval."""
    return {"num_vars": len(paths), "names": list(paths), "bounds": [[0.0, 1.0]] * len(paths)}


def _design_seed(seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), DESIGN_STREAM]).generate_state(1, dtype=np.uint32)[0])


def _unit_sample(rs: ResolvedSpec) -> np.ndarray:
    d, k = rs.spec.design, len(rs.factors)
    seed = _design_seed(rs.spec.seed)
    problem = salib_problem([f.path for f in rs.factors])
    if d.kind == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=k, rng=np.random.default_rng(seed)).random(int(d.points or 0))
    if d.kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, int(d.samples or 0), calc_second_order=bool(d.second_order), seed=seed)
    if d.kind == "morris":
        from SALib.sample import morris

        return morris.sample(problem, int(d.trajectories or 0), num_levels=d.levels or DEFAULT_LEVELS["morris"],
                             seed=seed)
    raise ValueError(f"not a sampled design: {d.kind}")


def build_design(rs: ResolvedSpec) -> pd.DataFrame:
    """The design table: ``point``, one value column per parameter, one ``unit:`` column per parameter."""
    factors = rs.factors
    if rs.spec.design.kind == "grid":
        levels = rs.spec.design.levels or DEFAULT_LEVELS["grid"]
        grids = [f.grid(levels) for f in factors]
        combos = list(itertools.product(*[range(len(vals)) for vals, _ in grids]))
        idx = np.array(combos, dtype=np.int64).reshape(len(combos), len(factors))
        values = [[grids[j][0][i] for i in idx[:, j]] for j in range(len(factors))]
        unit = np.column_stack([np.asarray(grids[j][1])[idx[:, j]] for j in range(len(factors))])
    else:
        unit = _unit_sample(rs)
        values = [f.from_unit(unit[:, j]) for j, f in enumerate(factors)]
    table: dict[str, Any] = {"point": np.arange(unit.shape[0], dtype=np.int64)}
    for j, f in enumerate(factors):
        table[f.path] = pd.array(values[j], dtype=f.dtype)
    for j, f in enumerate(factors):
        table[unit_column(f.path)] = unit[:, j].astype(np.float64)
    return pd.DataFrame(table)

