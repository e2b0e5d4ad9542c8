"""Bulk sampling helpers of the dynamics: the same laws as one-by-one draws, at array speed.

* :func:`poisson_nonzero` -- Poisson counts by exact inverse CDF, one uniform per entry,
  returning only the non-zero entries (most (replicate, group) pairs attack on no given day);
* :func:`alias_tables` / :func:`alias_draw` -- Walker's alias method (Vose's construction),
  one uniform per draw from a fixed categorical distribution (the base a launch aims at);
* :func:`categorical` -- row-wise inverse-CDF draws from cumulative weights;
* :func:`nonzero2` -- ``np.nonzero`` of a 2-D array, the same indices several times faster.
"""

from __future__ import annotations

import numpy as np


def categorical(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw from cumulative weights ``cum`` (n, K) with uniforms ``u`` (n,).

    Same rule as the Mesa agents' ``searchsorted(cum, u * cum[-1], side="right")``, capped at K-1.
    """
    idx = (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
    return np.minimum(idx, cum.shape[1] - 1)


def nonzero2(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the non-zero entries of a 2-D array, in C order: ``np.nonzero(a)``, from one
    ``flatnonzero`` (several times faster on (R, G) masks)."""
    return np.divmod(np.flatnonzero(a), a.shape[1])


def alias_tables(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables of each row of ``probs`` (n, K): (acceptance (n, K), alias (n, K))."""
    n, k = probs.shape
    accept = np.ones((n, k))
    alias = np.tile(np.arange(k), (n, 1))
    for i in range(n):
        q = probs[i] / probs[i].sum() * k
        small = [j for j in range(k) if q[j] < 1.0]
        large = [j for j in range(k) if q[j] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            accept[i, s], alias[i, s] = q[s], g
            q[g] -= 1.0 - q[s]
            (small if q[g] < 1.0 else large).append(g)
    return accept, alias


def alias_draw(accept: np.ndarray, alias: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One draw per entry from row ``row`` of the alias tables, with one uniform each."""
    k = accept.shape[1]
    x = u * k
    j = np.minimum(x.astype(np.int64), k - 1)
    flat = row * k + j
    return np.where(x - j < accept.reshape(-1)[flat], j, alias.reshape(-1)[flat])


def poisson_nonzero(lam: np.ndarray, rng: np.random.Generator,
                     max_terms: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(lam) draws for a flat array, by inverting one uniform per entry (exact inverse CDF).

    Returns (indices, counts) of the entries whose draw is non-zero: most entries are zero
    on a given day, and they cost only one uniform and one exponential.
    """
    u = rng.random(lam.size)
    term = np.exp(-lam)
    idx = np.flatnonzero(u >= term)
    n = np.zeros(idx.size, dtype=np.int64)
    if idx.size == 0:
        return idx, n
    u, lam_i, term = u[idx], lam[idx], term[idx]
    cdf = term.copy()
    act = np.arange(idx.size)
    for _ in range(max_terms):  # N = min{n : u < F(n)}
        n[act] += 1
        term[act] *= lam_i[act] / n[act]
        cdf[act] += term[act]
        act = act[u[act] >= cdf[act]]
        if act.size == 0:
            break
    return idx, n


__all__ = ["alias_draw", "alias_tables", "categorical", "nonzero2", "poisson_nonzero"]
