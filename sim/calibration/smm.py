"""Simulated method of moments with common random numbers: the point estimate.

For a parameter vector theta, ``R`` replicates are simulated with the *same*
random streams at every evaluation (common random numbers), and each target k
contributes one moment, the mean scaled hinge distance of its statistic to its
band (:func:`sim.calibration.pipeline.smm_moments`)::

    m_k(theta) = mean_r  d_k(x_rk(theta))          (0 when every replicate is in the band)

The data's moments are all zero (the sources' figures hold), so the criterion
is ``J(theta) = sum_k m_k(theta)^2 + lambda |u - u_0|^2`` with ``u`` the position
of theta in the prior box.  The hinge moments are flat wherever a direction of
theta does not move any statistic (the attack level is pinned by one count, not
by how it splits between background rate, tension and self-excitation); the
small ridge term picks, among equally good fits, the one closest to the
starting values.

Common random numbers make ``J`` a deterministic function of theta.  They do
not make it smooth: the ensemble engine draws every replicate from one
generator, so a parameter change that alters any draw shifts the streams that
follow, and ``J`` carries Monte Carlo noise of a few per cent.  A minimiser on
such a criterion tends to stop at a point that is merely lucky for this set of
streams, so the best few candidates are re-evaluated on fresh streams (with
twice the replicates) and the best of them on those is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import optimize

from .params import FreeParameter

__all__ = ["SMMResult", "smm_estimate"]


@dataclass
class SMMResult:
    theta: np.ndarray
    objective: float
    moments: np.ndarray
    start: np.ndarray
    evaluations: int
    replicates: int
    method: str
    seconds: float
    converged: bool
    message: str
    reevaluated: list = field(default_factory=list)
    history: list = field(default_factory=list)


def smm_estimate(
    moments_at: Callable[[np.ndarray, int, int], np.ndarray],
    free: Sequence[FreeParameter],
    start: np.ndarray,
    *,
    replicates: int = 250,
    seed: int = 0,
    method: str = "nelder-mead",
    max_evaluations: int = 300,
    ridge: float = 0.05,
    reevaluate: int = 5,
    progress: Callable[[str], None] | None = None,
) -> SMMResult:
    """Minimise the SMM criterion over the prior box.

    Args:
        moments_at: ``(theta (P,), replicates, seed) -> moments (K,)``; must use
            the same random streams for the same seed (common random numbers).
        free: the free parameters (their prior boxes bound the search).
        start: starting values (P,), clipped into the box.
        replicates: R.
        method: ``nelder-mead`` or ``differential-evolution``.
        max_evaluations: budget of criterion evaluations.
        ridge: lambda of the tie-breaking term.
        reevaluate: number of best distinct candidates re-evaluated on fresh streams (0: none).
    """
    t0 = time.perf_counter()
    lo = np.array([p.lo for p in free])
    hi = np.array([p.hi for p in free])
    u0 = np.clip((np.asarray(start, dtype=float) - lo) / (hi - lo), 0.0, 1.0)
    say = progress or (lambda _m: None)
    history: list[tuple[np.ndarray, float]] = []
    cache: dict[tuple[bytes, int, int], np.ndarray] = {}

    def applied(u: np.ndarray) -> np.ndarray:
        theta = lo + np.clip(u, 0.0, 1.0) * (hi - lo)
        # integers are applied rounded: the criterion is a function of what is simulated
        return np.array([p.value(x) for p, x in zip(free, theta)], dtype=float)

    def moments(theta: np.ndarray, reps: int, s: int) -> np.ndarray:
        key = (theta.tobytes(), reps, s)
        if key not in cache:
            cache[key] = np.asarray(moments_at(theta, reps, s), dtype=float)
        return cache[key]

    def penalty(theta: np.ndarray) -> float:
        return ridge * float(np.sum(((theta - lo) / (hi - lo) - u0) ** 2))

    def criterion(u: np.ndarray) -> float:
        theta = applied(u)
        value = float(np.sum(moments(theta, replicates, seed) ** 2)) + penalty(theta)
        history.append((theta, value))
        if len(history) % 25 == 0:
            say(f"SMM evaluation {len(history)}: J={value:.5f} (best {min(h[1] for h in history):.5f})")
        return value

    P = len(free)
    if method == "nelder-mead":
        simplex = np.vstack([u0] + [np.clip(u0 + 0.15 * np.eye(P)[i] * (1 if u0[i] < 0.85 else -1), 0, 1)
                                    for i in range(P)])
        res = optimize.minimize(criterion, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * P,
                                options={"maxfev": int(max_evaluations), "xatol": 5e-3, "fatol": 1e-5,
                                         "adaptive": True, "initial_simplex": simplex})
    elif method == "differential-evolution":
        popsize = max(2, int(max_evaluations // (P * 12)))
        res = optimize.differential_evolution(criterion, [(0.0, 1.0)] * P, popsize=popsize, maxiter=10,
                                              seed=int(seed), polish=False, init="sobol", x0=u0, tol=1e-6,
                                              updating="immediate")
    else:
        raise ValueError(f"unknown SMM method {method!r}; use nelder-mead or differential-evolution")
    evaluations = len(history)
    # best distinct candidates seen, re-evaluated on fresh streams with twice the replicates
    ranked, seen = [], set()
    for theta, value in sorted(history, key=lambda h: h[1]):
        key = theta.tobytes()
        if key not in seen:
            seen.add(key)
            ranked.append((theta, value))
        if len(ranked) >= max(1, reevaluate):
            break
    rows = []
    if reevaluate > 0:
        fresh = int(seed) + 1
        for theta, value in ranked:
            again = float(np.sum(moments(theta, 2 * replicates, fresh) ** 2)) + penalty(theta)
            rows.append({"theta": theta.tolist(), "criterion": value, "criterion_fresh": again})
        best = min(range(len(ranked)), key=lambda i: rows[i]["criterion_fresh"])
        theta, objective = ranked[best][0], rows[best]["criterion_fresh"]
        m = moments(theta, 2 * replicates, fresh)
        say(f"SMM: re-evaluated {len(ranked)} candidates on fresh streams; chose #{best + 1} (J={objective:.5f})")
    else:
        theta, objective = ranked[0]
        m = moments(theta, replicates, seed)
    return SMMResult(theta=theta, objective=float(objective), moments=m, start=lo + u0 * (hi - lo),
                     evaluations=evaluations, replicates=int(replicates), method=method,
                     seconds=time.perf_counter() - t0, converged=bool(res.success), message=str(res.message),
                     reevaluated=rows, history=[(h[0].tolist(), h[1]) for h in history])
