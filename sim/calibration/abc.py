"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC / ABC-PMC).

The algorithm is population Monte Carlo ABC (Beaumont, Cornuet, Marin and
Robert 2009) with an adaptive tolerance schedule (each tolerance is a quantile
of the previous population's distances, as in Del Moral, Doucet and Jasra 2012
and Drovandi and Pettitt 2011):

1. Generation 0: draw from the prior, simulate, keep the ``n_particles``
   closest draws (rejection ABC; the tolerance is the largest distance kept).
2. Generation t: ``eps_t = max(eps_min, quantile_alpha(previous distances))``.
   Propose by picking a particle of generation t-1 by weight and moving it with
   a Gaussian kernel whose covariance is twice the weighted covariance of
   generation t-1; simulate; accept if the distance is at most ``eps_t``; until
   ``n_particles`` are accepted.  Weights:
   ``w_i  prop.  prior(z_i) / sum_j w_j K(z_i | z_j)``.
3. Stop after the generation that used ``eps_min``, when the acceptance rate
   falls below ``min_acceptance``, or when the simulation budget is spent.

Parameters live on bounded boxes with uniform priors; the sampler works on
``z = logit(u)`` where ``u`` is the parameter's position in its box, so the
kernel never proposes outside the prior and needs no truncation.  The prior
density of ``z`` is ``prod sigma(z)(1 - sigma(z))`` (the Jacobian).

Simulations are requested in batches (``simulate(theta (n, P), first) ->
distances (n,)``), which is what makes a vectorised engine fast.  With the
calibration's hinge distances a tolerance of exactly 0 is reachable: the
final population is then an exact sample of the posterior given that every
figure holds ("interval-censored" data), not an approximation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import expit, logit, logsumexp

__all__ = ["Generation", "ABCResult", "abc_smc", "weighted_quantile", "systematic_resample"]


@dataclass
class Generation:
    """One population of the sampler."""

    eps: float
    theta: np.ndarray  # (N, P) parameter values
    weights: np.ndarray  # (N,) normalised
    distances: np.ndarray  # (N,)
    stats: np.ndarray  # (N, K)
    simulations: int
    acceptance: float
    seconds: float

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights ** 2))


@dataclass
class ABCResult:
    generations: list[Generation]
    low: np.ndarray
    high: np.ndarray
    stop_reason: str
    simulations: int
    seconds: float
    settings: dict = field(default_factory=dict)

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` equally weighted draws from the final population (systematic resampling)."""
        g = self.final
        return g.theta[systematic_resample(g.weights, n, rng)]


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles of ``x`` under normalised weights ``w`` (mid-point interpolation of the weighted CDF)."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x)
    xs, ws = x[order], np.asarray(w, dtype=float)[order]
    cdf = np.cumsum(ws) - 0.5 * ws
    cdf /= ws.sum()
    return np.interp(np.asarray(q, dtype=float), cdf, xs)


def systematic_resample(w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` systematic-resampling draws from weights ``w``."""
    w = np.asarray(w, dtype=float)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    u = (rng.random() + np.arange(n)) / n
    return np.searchsorted(c, u, side="left")


def _to_z(theta, lo, hi):
    u = np.clip((theta - lo) / (hi - lo), 1e-12, 1 - 1e-12)
    return logit(u)


def _from_z(z, lo, hi):
    return lo + expit(z) * (hi - lo)


def _log_prior_z(z):
    # log sigma(z) + log(1 - sigma(z)) = -softplus(-z) - softplus(z)
    return -(np.logaddexp(0.0, -z) + np.logaddexp(0.0, z)).sum(axis=-1)


def abc_smc(
    simulate: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    low,
    high,
    *,
    n_particles: int = 1000,
    alpha: float = 0.5,
    eps_min: float = 0.0,
    max_generations: int = 12,
    min_acceptance: float = 0.01,
    budget: int = 200_000,
    prior_draws: int | None = None,
    batch: int = 4000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ABCResult:
    """Run ABC-SMC.

    Args:
        simulate: ``(theta (n, P), first) -> (distances (n,), stats (n, K))``;
            ``first`` is the running number of the first simulation (for seeding).
        low, high: the uniform prior's box (P,).
        n_particles: population size.
        alpha: quantile of the previous distances used as the next tolerance.
        eps_min: final tolerance (0 = every target met exactly).
        max_generations: generations after generation 0.
        min_acceptance: stop when a generation's acceptance rate falls below this.
        budget: most simulations in total.
        prior_draws: draws of generation 0 (default ``n_particles / alpha``).
        batch: largest number of proposals simulated at once.
        seed: seeds the sampler's own generator.
        progress: called with one line per generation.
    """
    t_start = time.perf_counter()
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    P = lo.size
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xABC]))
    N = int(n_particles)
    sims = 0
    say = progress or (lambda _m: None)

    # ---------------------------------------------------------------- generation 0
    t0 = time.perf_counter()
    M = int(prior_draws or math.ceil(N / alpha))
    theta = lo + rng.random((M, P)) * (hi - lo)
    d_all, s_all = _batched(simulate, theta, sims, batch)
    sims += M
    keep = np.argsort(d_all, kind="stable")[:N]
    eps0 = float(d_all[keep].max())
    gen = Generation(eps0, theta[keep], np.full(N, 1.0 / N), d_all[keep], s_all[keep], M, N / M,
                     time.perf_counter() - t0)
    gens = [gen]
    say(f"generation 0: eps={eps0:.4g} draws={M} acceptance={N / M:.3f}")
    stop = "max_generations"

    for t in range(1, int(max_generations) + 1):
        eps = max(float(eps_min), float(np.quantile(gen.distances, alpha)))
        if eps >= gen.eps and gen.eps > eps_min:
            eps = max(float(eps_min), float(np.nextafter(gen.eps, -np.inf)))
        t0 = time.perf_counter()
        z_prev = _to_z(gen.theta, lo, hi)
        w_prev = gen.weights
        mean = w_prev @ z_prev
        cov = np.atleast_2d(np.cov(z_prev.T, aweights=w_prev, ddof=0)) * 2.0
        cov += np.eye(P) * 1e-9
        chol = np.linalg.cholesky(cov)
        acc_theta, acc_d, acc_s, acc_z = [], [], [], []
        n_acc, n_prop = 0, 0
        rate = max(gen.acceptance, 0.02)
        exhausted = False
        while n_acc < N:
            left = budget - sims
            if left <= 0:
                exhausted = True
                break
            want = int(min(batch, left, max(256, math.ceil(1.2 * (N - n_acc) / rate))))
            pick = rng.choice(N, size=want, p=w_prev)
            z = z_prev[pick] + rng.standard_normal((want, P)) @ chol.T
            th = _from_z(z, lo, hi)
            d, s = _batched(simulate, th, sims, batch)
            sims += want
            n_prop += want
            ok = d <= eps
            acc_theta.append(th[ok]); acc_d.append(d[ok]); acc_s.append(s[ok]); acc_z.append(z[ok])
            n_acc += int(ok.sum())
            rate = max(n_acc / n_prop, 1e-4)
            if n_prop >= 200 and rate < min_acceptance * 0.5 and n_acc < N:
                # hopeless at this tolerance: stop early rather than burn the budget
                break
        if n_acc < N:
            stop = "budget" if exhausted else "acceptance"
            say(f"generation {t}: eps={eps:.4g} stopped with {n_acc}/{N} accepted after {n_prop} proposals "
                f"({stop}); keeping generation {t - 1}")
            break
        th = np.concatenate(acc_theta)[:N]
        d = np.concatenate(acc_d)[:N]
        s = np.concatenate(acc_s)[:N]
        z = np.concatenate(acc_z)[:N]
        # importance weights: prior / mixture of kernels
        logw = _log_prior_z(z) - _log_mixture(z, z_prev, w_prev, cov)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        acceptance = n_acc / n_prop
        gen = Generation(eps, th, w, d, s, n_prop, acceptance, time.perf_counter() - t0)
        gens.append(gen)
        say(f"generation {t}: eps={eps:.4g} proposals={n_prop} acceptance={acceptance:.3f} ess={gen.ess:.0f}")
        if eps <= eps_min:
            stop = "eps_min"
            break
        if acceptance < min_acceptance:
            stop = "acceptance"
            break
        if sims >= budget:
            stop = "budget"
            break
    settings = dict(n_particles=N, alpha=alpha, eps_min=eps_min, max_generations=max_generations,
                    min_acceptance=min_acceptance, budget=budget, prior_draws=M, seed=seed)
    return ABCResult(gens, lo, hi, stop, sims, time.perf_counter() - t_start, settings)


def _log_mixture(z, centres, weights, cov, chunk: int = 256):
    """``log sum_j w_j exp(-0.5 (z - c_j)' cov^-1 (z - c_j))`` for each row of ``z`` (constants dropped)."""
    chol = np.linalg.cholesky(cov)
    # whiten: (z - c)' cov^-1 (z - c) = |L^-1 z - L^-1 c|^2
    zw = np.linalg.solve(chol, z.T).T
    cw = np.linalg.solve(chol, centres.T).T
    logw = np.log(np.maximum(weights, 1e-300))
    out = np.empty(z.shape[0])
    c2 = (cw ** 2).sum(axis=1)
    for off in range(0, z.shape[0], chunk):
        zz = zw[off:off + chunk]
        maha = (zz ** 2).sum(axis=1)[:, None] + c2[None, :] - 2.0 * zz @ cw.T
        out[off:off + chunk] = logsumexp(-0.5 * np.maximum(maha, 0.0) + logw[None, :], axis=1)
    return out


def _batched(simulate, theta, first, batch):
    ds, ss = [], []
    for off in range(0, theta.shape[0], batch):
        d, s = simulate(theta[off:off + batch], first + off)
        ds.append(np.asarray(d, dtype=float))
        ss.append(np.asarray(s, dtype=float))
    return np.concatenate(ds), np.concatenate(ss)
