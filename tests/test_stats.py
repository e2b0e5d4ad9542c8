"""Known answers and invariants of the Monte Carlo estimates and paired differences (sim/stats.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stats import mean_estimate, paired_difference, proportion_estimate, replicates_needed

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_mean_estimate_known_answer():
    e = mean_estimate([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert e.value == 5.0
    assert e.se == pytest.approx(np.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1) / math.sqrt(8))
    assert (e.low, e.high) == pytest.approx((5.0 - 1.959964 * e.se, 5.0 + 1.959964 * e.se), rel=1e-6)
    assert e.n == 8


def test_missing_values_are_left_out():
    assert mean_estimate([1.0, np.nan, 3.0]).value == 2.0
    assert mean_estimate([1.0, np.nan, 3.0]).n == 2
    d = paired_difference([1.0, np.nan, 3.0], [2.0, 5.0, np.nan])
    assert (d.value, d.n) == (1.0, 1)


def test_wilson_interval_known_answer():
    # p = 1/4 of n = 4 at 95%: the Wilson interval is (0.0456, 0.6994).
    e = proportion_estimate([1, 0, 0, 0])
    assert e.value == 0.25
    assert e.low == pytest.approx(0.04559, abs=1e-4)
    assert e.high == pytest.approx(0.69936, abs=1e-4)
    assert e.se == pytest.approx(math.sqrt(0.25 * 0.75 / 4))


def test_wilson_interval_is_not_empty_at_zero_and_one():
    zero, one = proportion_estimate(np.zeros(50)), proportion_estimate(np.ones(50))
    assert zero.low == 0.0 and zero.high > 0.0
    assert one.high == 1.0 and one.low < 1.0


def test_constant_shift_is_found_exactly():
    a = np.arange(20, dtype=float)
    d = paired_difference(a, a + 3.0)
    assert d.paired and d.value == 3.0 and d.se == 0.0
    assert (d.low, d.high) == (3.0, 3.0)
    assert not d.covers_zero


def test_pairing_removes_shared_noise():
    """Common random numbers: a small effect under large shared noise is resolved only when paired."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 50.0, size=400)
    a = 100.0 + noise
    b = 101.0 + noise + rng.normal(0.0, 1.0, size=400)
    paired = paired_difference(a, b)
    unpaired = paired_difference(a, b[:-1])
    assert paired.paired and not unpaired.paired
    assert not paired.covers_zero
    assert unpaired.covers_zero
    assert paired.high - paired.low < 0.1 * (unpaired.high - unpaired.low)


def test_same_seed_same_interval_and_seed_matters():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=60), rng.normal(size=60)
    assert paired_difference(a, b, seed=5) == paired_difference(a, b, seed=5)
    assert paired_difference(a, b, seed=5).low != paired_difference(a, b, seed=6).low


def test_replicates_needed_known_answers():
    assert replicates_needed(10.0, 1.0) == 100
    assert replicates_needed(0.5, 0.01) == 2500
    assert replicates_needed(0.0, 1.0) == 2
    with pytest.raises(ValueError):
        replicates_needed(1.0, 0.0)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, 1.5])
def test_confidence_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="confidence"):
        mean_estimate([1.0, 2.0], confidence=bad)
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1.0, 2.0], [1.0, 2.0], confidence=bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=2, max_size=40))
def test_mean_interval_contains_the_mean(values):
    e = mean_estimate(values)
    assert e.low <= e.value <= e.high


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=200))
def test_proportion_interval_inside_unit_and_around_share(flags):
    e = proportion_estimate(flags)
    assert 0.0 <= e.low <= e.value <= e.high <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=30))
def test_difference_is_antisymmetric(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    fwd, back = paired_difference(a, b, n_boot=200), paired_difference(b, a, n_boot=200)
    assert fwd.value == pytest.approx(-back.value, abs=1e-6)
    assert fwd.low == pytest.approx(-back.high, abs=1e-6 * (1 + abs(fwd.low)))
    assert fwd.covers_zero == back.covers_zero


@pytest.mark.slow
def test_paired_interval_coverage_is_near_nominal():
    """Over 300 simulated comparisons, the 95% interval holds the true difference about 95% of the time."""
    rng = np.random.default_rng(3)
    hits = 0
    for k in range(300):
        shared = rng.gamma(2.0, 10.0, size=200)
        a = shared + rng.normal(0, 3, size=200)
        b = shared + 2.0 + rng.normal(0, 3, size=200)
        d = paired_difference(a, b, n_boot=500, seed=k)
        hits += d.low <= 2.0 <= d.high
    assert 0.91 <= hits / 300 <= 0.98


@pytest.mark.parametrize("n", [1, 3, 7, 50, 999])
def test_wilson_interval_holds_an_extreme_share_despite_rounding(n):
    for flags in (np.zeros(n), np.ones(n)):
        e = proportion_estimate(flags)
        assert e.low <= e.value <= e.high
