"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC / ABC-PMC).

The algorithm is population Monte Carlo ABC (Beaumont, Cornuet, Marin and
Robert 2009) with an adaptive tolerance schedule (each tolerance is a quantile
of the previous population's distances, as in Del Moral, Doucet and Jasra 2012
and Drovandi and Pettitt 2011):

1. Generation 0: draw from the prior, simulate, keep the ``n_particles``
   closest draws (rejection ABC; the tolerance is the largest distance kept).
2. Generation t: ``eps_t = max(eps_min, quantile_alpha(previous distances))``.
   Propose by picking a particle of generation t-1 by weight and moving it with
   a Gaussian kernel -- by default the particle's "optimal local covariance"
   (Filippi et al. 2013), else twice the population's weighted covariance
   (Beaumont et al. 2009); simulate; accept if the distance is at most ``eps_t``; until
   ``n_particles`` are accepted.  Weights:
   ``w_i  prop.  prior(z_i) / sum_j w_j K(z_i | z_j)``.
3. Stop after the generation that used ``eps_min``, when the acceptance rate
   falls below ``min_acceptance``, or when the simulation budget is spent.

Parameters live on bounded boxes with uniform priors; the sampler works on
the unit cube (each parameter's position in its box).  A proposal that leaves
the cube is discarded and drawn again -- particle *and* perturbation -- so the
proposal density is the kernel mixture restricted to the cube times one
constant, which cancels when the weights are normalised (no per-particle
truncation constants are needed).

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
from scipy.special import logsumexp

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


DEFENSIVE = 0.2
"""Share of proposals made with the wide (Beaumont) kernel when the local (OLCM) kernel is used.

A mixture with a wide component keeps the importance weights bounded where the
narrow local kernels put little mass (Hesterberg's defensive importance sampling)."""


def _kernels(u_prev, w_prev, d_prev, eps, kind):
    """Proposal components: a list of ``(share, Cholesky factors (N, P, P))``.

    ``beaumont``: one covariance for every particle, twice the population's
    weighted covariance (Beaumont et al. 2009).  ``olcm``: each particle's
    "optimal local covariance matrix" (Filippi, Barnes, Cornebise and Stumpf
    2013), ``sum_k w_k (u_k - u_j)(u_k - u_j)'`` over the particles k that
    already meet the new tolerance, mixed with the Beaumont kernel for a share
    :data:`DEFENSIVE` of the proposals.
    """
    N, P = u_prev.shape
    jitter = np.eye(P) * 1e-10
    cov = np.atleast_2d(np.cov(u_prev.T, aweights=w_prev, ddof=0)) * 2.0 + jitter
    wide = np.broadcast_to(np.linalg.cholesky(cov), (N, P, P))
    if kind == "olcm":
        ok = d_prev <= eps
        if ok.sum() > P:
            wa = w_prev[ok] / w_prev[ok].sum()
            ua = u_prev[ok]
            mean = wa @ ua
            ca = np.atleast_2d(np.cov(ua.T, aweights=wa, ddof=0))
            off = mean[None, :] - u_prev
            covs = ca[None] + off[:, :, None] * off[:, None, :] + jitter
            return [(1.0 - DEFENSIVE, np.linalg.cholesky(covs)), (DEFENSIVE, wide)]
    return [(1.0, wide)]


def _propose(rng, n, u_prev, w_prev, kernels):
    """``n`` draws from the kernel mixture restricted to the unit cube."""
    P = u_prev.shape[1]
    shares = np.array([k[0] for k in kernels])
    out = np.empty((n, P))
    filled = 0
    for _ in range(1000):
        m = max(2 * (n - filled), 64)
        pick = rng.choice(u_prev.shape[0], size=m, p=w_prev)
        comp = rng.choice(len(kernels), size=m, p=shares)
        u = np.empty((m, P))
        z = rng.standard_normal((m, P))
        for c, (_, chols) in enumerate(kernels):
            sel = comp == c
            u[sel] = u_prev[pick[sel]] + np.einsum("mab,mb->ma", chols[pick[sel]], z[sel])
        ok = np.all((u >= 0.0) & (u <= 1.0), axis=1)
        take = np.flatnonzero(ok)[: n - filled]
        out[filled:filled + take.size] = u[take]
        filled += take.size
        if filled == n:
            return out
    raise RuntimeError("the ABC kernel keeps proposing outside the prior box")


def _log_proposal(u, centres, weights, kernels):
    """Log density (up to one constant) of the proposal mixture at the rows of ``u``."""
    parts = [np.log(share) + _log_mixture(u, centres, weights, chols) for share, chols in kernels]
    return logsumexp(np.stack(parts), axis=0)


def _log_mixture(u, centres, weights, chols, chunk: int = 128):
    """``log sum_j w_j N(u; c_j, L_j L_j')`` for each row of ``u`` (the 2 pi constant dropped)."""
    linv = np.linalg.inv(chols)  # (N, P, P)
    logdet = np.log(np.abs(np.diagonal(chols, axis1=1, axis2=2))).sum(axis=1)  # log |L_j|
    base = np.log(np.maximum(weights, 1e-300)) - logdet
    out = np.empty(u.shape[0])
    for off in range(0, u.shape[0], chunk):
        diff = u[off:off + chunk, None, :] - centres[None, :, :]  # (n, N, P)
        white = np.einsum("jab,ijb->ija", linv, diff)
        maha = (white ** 2).sum(axis=-1)
        out[off:off + chunk] = logsumexp(base[None, :] - 0.5 * maha, axis=1)
    return out


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
    kernel: str = "olcm",
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
        kernel: ``olcm`` (local covariances, default) or ``beaumont`` (one global covariance).
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
        u_prev = (gen.theta - lo) / (hi - lo)
        w_prev = gen.weights
        kernels = _kernels(u_prev, w_prev, gen.distances, eps, kernel)
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
            z = _propose(rng, want, u_prev, w_prev, kernels)
            th = lo + z * (hi - lo)
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
        logw = -_log_proposal(z, u_prev, w_prev, kernels)  # uniform prior: constant numerator
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
                    min_acceptance=min_acceptance, budget=budget, prior_draws=M, kernel=kernel, seed=seed)
    return ABCResult(gens, lo, hi, stop, sims, time.perf_counter() - t_start, settings)


def _batched(simulate, theta, first, batch):
    ds, ss = [], []
    for off in range(0, theta.shape[0], batch):
        d, s = simulate(theta[off:off + batch], first + off)
        ds.append(np.asarray(d, dtype=float))
        ss.append(np.asarray(s, dtype=float))
    return np.concatenate(ds), np.concatenate(ss)
