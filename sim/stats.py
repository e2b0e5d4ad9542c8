"""Monte Carlo estimates over replicates, and differences between scenarios run with common random numbers.

An outcome of a stochastic model is known only up to the noise of a finite number of replicates.  These
functions turn the per-replicate values of one outcome into an :class:`Estimate` (the figure, its Monte Carlo
standard error and a confidence interval), and the values of two scenarios into a :class:`Difference`.

Common random numbers: when two scenarios are run with the same seed and replicate count, replicate ``r`` of
each starts from the same random stream, so the per-replicate differences ``b[r] - a[r]`` are usually far less
noisy than the outcomes themselves.  :func:`paired_difference` uses them (a paired bootstrap) when the two
arrays have the same length, and falls back to an unpaired bootstrap when they do not.

Missing values (``NaN``, e.g. "no US death by the horizon") are left out: pairs with a ``NaN`` on either
side are dropped from a paired difference.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as _scipy_stats

BOOTSTRAP_CHUNK = 250
"""Bootstrap resamples drawn at once (bounds memory at about ``BOOTSTRAP_CHUNK * n`` integers)."""


@dataclass(frozen=True)
class Estimate:
    """A figure estimated from replicates: ``value`` with Monte Carlo standard error ``se`` and an interval."""

    value: float
    se: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Difference(Estimate):
    """``b - a`` for one outcome; ``covers_zero`` is True when the interval does not exclude no difference."""

    covers_zero: bool
    paired: bool


def _clean(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return float(_scipy_stats.norm.ppf(0.5 + confidence / 2.0))


def mean_estimate(x: Any, confidence: float = 0.95) -> Estimate:
    """Mean of ``x`` with its standard error ``sd / sqrt(n)`` and a normal-approximation interval.

    >>> e = mean_estimate([1.0, 2.0, 3.0, 4.0])
    >>> e.value, round(e.se, 4)
    (2.5, 0.6455)
    """
    z = _z(confidence)
    arr = _clean(x)
    n = arr.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    value = float(arr.mean())
    se = float(arr.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Estimate(value, se, value - z * se, value + z * se, n)


def proportion_estimate(x: Any, confidence: float = 0.95) -> Estimate:
    """Share of true (non-zero) entries of ``x``, with its binomial standard error and a Wilson interval.

    The Wilson interval stays inside [0, 1] and is not empty when the share is 0 or 1.

    >>> e = proportion_estimate([True, False, False, False])
    >>> e.value, round(e.low, 3), round(e.high, 3)
    (0.25, 0.046, 0.699)
    """
    z = _z(confidence)
    arr = _clean(x) != 0
    n = arr.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    p = float(arr.mean())
    se = math.sqrt(p * (1.0 - p) / n)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # The Wilson interval always holds p; the clamps only undo float rounding at p = 0 or 1.
    return Estimate(p, se, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)), n)


def _bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` means of resamples (with replacement) of ``values``, drawn in chunks."""
    out = np.empty(n_boot)
    n = values.size
    for start in range(0, n_boot, BOOTSTRAP_CHUNK):
        k = min(BOOTSTRAP_CHUNK, n_boot - start)
        idx = rng.integers(0, n, size=(k, n))
        out[start:start + k] = values[idx].mean(axis=1)
    return out


def paired_difference(a: Any, b: Any, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Difference:
    """Difference of means ``b - a`` with a percentile-bootstrap interval and a standard error.

    With arrays of equal length, replicate ``r`` of ``a`` is paired with replicate ``r`` of ``b`` (common random
    numbers): the bootstrap resamples the pairs, and ``se`` is ``sd(b - a) / sqrt(n)``.  Otherwise the two
    samples are resampled independently and ``se`` is ``sqrt(var(a)/n_a + var(b)/n_b)``.  The bootstrap draws
    come from ``numpy.random.default_rng(SeedSequence(seed))``, so the same inputs give the same interval.

    >>> d = paired_difference([1, 2, 3, 4], [2, 3, 4, 5])
    >>> d.value, d.low, d.high, d.covers_zero
    (1.0, 1.0, 1.0, False)
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    _z(confidence)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    alpha = (1.0 - confidence) / 2.0
    if x.size == y.size:
        keep = ~(np.isnan(x) | np.isnan(y))
        d = y[keep] - x[keep]
        n = d.size
        if n == 0:
            return Difference(math.nan, math.nan, math.nan, math.nan, 0, True, True)
        value = float(d.mean())
        se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        boots = _bootstrap_means(d, n_boot, rng)
        paired = True
    else:
        x, y = _clean(x), _clean(y)
        n = min(x.size, y.size)
        if n == 0:
            return Difference(math.nan, math.nan, math.nan, math.nan, 0, True, False)
        value = float(y.mean() - x.mean())
        var = (x.var(ddof=1) / x.size if x.size > 1 else math.nan) + (y.var(ddof=1) / y.size if y.size > 1 else math.nan)
        se = float(math.sqrt(var))
        boots = _bootstrap_means(y, n_boot, rng) - _bootstrap_means(x, n_boot, rng)
        paired = False
    low, high = (float(v) for v in np.quantile(boots, [alpha, 1.0 - alpha]))
    return Difference(value, se, low, high, int(n), bool(low <= 0.0 <= high), paired)


def replicates_needed(sd: float, target_se: float) -> int:
    """Replicates for a mean whose standard error ``sd / sqrt(n)`` is at most ``target_se`` (at least 2).

    For a proportion ``p``, pass ``sd = sqrt(p * (1 - p))`` (0.5 in the worst case).

    >>> replicates_needed(10.0, 1.0)
    100
    """
    if not target_se > 0:
        raise ValueError(f"target_se must be positive, got {target_se}")
    if not sd >= 0:
        raise ValueError(f"sd must be zero or positive, got {sd}")
    return max(2, math.ceil((sd / target_se) ** 2 - 1e-9))
