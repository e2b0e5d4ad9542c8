"""Known-answer tests for every rule in sim.rules, plus properties of the allocation rule."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import rules


def rng(seed=0):
    return np.random.default_rng(seed)


def test_decay_and_leaky():
    assert_allclose(rules.decay_factor(1.0), 0.5)
    assert_allclose(rules.decay_factor(2.0) ** 2, 0.5)
    assert_allclose(rules.leaky(1.0, 1.0, 0.5), 1.0)
    assert_allclose(rules.hawkes_excitation(0.2, 3, 0.1, 0.5), 0.25)


def test_floor_scale():
    assert_allclose(rules.floor_scale(np.array([0.0, 0.5, 1.0]), 0.3), [0.3, 0.65, 1.0])


def test_stock_capacity_normalised_and_saturating():
    assert_allclose(rules.stock_capacity(100.0, 100.0, 15.0), 1.0)
    assert_allclose(rules.stock_capacity(0.0, 100.0, 15.0), 0.0)
    # half saturation: S = K gives half of S/(S+K) at full = 100/115
    assert_allclose(rules.stock_capacity(15.0, 100.0, 15.0), 0.5 / (100 / 115))


def _intensity(**kw):
    base = dict(base_rate=1.0, motivation=1.0, tension=0.0, outside=0.0, revenge=0.0, grievance=0.0,
                excitation=0.0, capacity=1.0, coordination=1.0, alignment=0.0, restraint=0.0,
                risk_tolerance=0.0, credibility=0.0, tension_weight=0.0, outside_weight=0.0,
                revenge_weight=0.0, grievance_weight=0.0, deterrence_weight=0.0, max_rate=100.0)
    base.update(kw)
    return rules.attack_intensity(**base)


def test_attack_intensity_known_answers():
    assert_allclose(_intensity(), 1.0)
    assert_allclose(_intensity(tension=0.5, tension_weight=2.0), np.e)
    assert_allclose(_intensity(revenge=1.0, revenge_weight=np.log(3)), 3.0)
    assert_allclose(_intensity(excitation=0.5), 1.5)  # Hawkes term adds to the background
    assert_allclose(_intensity(alignment=1.0, restraint=0.5), 0.5)  # Iranian restraint
    assert_allclose(_intensity(alignment=0.5, restraint=0.5), 0.75)
    assert_allclose(_intensity(credibility=1.0, deterrence_weight=np.log(2)), 0.5)  # deterrence
    assert_allclose(_intensity(credibility=1.0, deterrence_weight=5.0, risk_tolerance=1.0), 1.0)
    assert_allclose(_intensity(capacity=0.5, coordination=0.5), 0.25)
    assert_allclose(_intensity(base_rate=1000.0, max_rate=12.0), 12.0)


def test_attack_intensity_broadcasts_over_replicates():
    lam = _intensity(base_rate=np.array([1.0, 2.0]), restraint=np.array([[0.0], [1.0]]), alignment=0.5)
    assert lam.shape == (2, 2)
    assert_allclose(lam, [[1.0, 2.0], [0.5, 1.0]])


def test_weapon_mix_and_launches():
    assert_allclose(rules.weapon_mix(np.array([0.0, 5.0, 5.0]), np.array([1.0, 1.0, 2.0])), [0, 1 / 3, 2 / 3])
    assert_allclose(rules.weapon_mix(np.array([0.5, 0.0, 0.0]), np.ones(3)), [0, 0, 0])
    assert_array_equal(rules.launches(np.array([3, 2]), np.array([2.5, 10.0])), [2, 2])


def test_target_base_probabilities():
    exposure = np.array([1.0, 3.0, 2.0])
    base_country = np.array([0, 0, 1])
    reach = np.array([[True, False], [True, True]])
    p = rules.target_base_probabilities(exposure, base_country, reach)
    assert_allclose(p, [[0.25, 0.75, 0.0], [1 / 6, 0.5, 1 / 3]])


def test_outcome_probabilities_known_answer():
    p = rules.outcome_probabilities(0.5, 1.0, 0.6, 0.1, 0.01, 1.0)
    assert_allclose(p, [0.3, 0.7 * 0.89, 0.7 * 0.1, 0.7 * 0.01])
    # exposure and accuracy scale the hit chances; probabilities stay a distribution
    p = rules.outcome_probabilities(np.array([0.0, 1.0]), 10.0, 1.0, 0.5, 0.2, 1.0)
    assert_allclose(p.sum(-1), 1.0)
    assert_allclose(p[0], [0.0, 0.0, 0.0, 1.0])  # p_fatal*exposure clipped at 1
    assert_allclose(p[1], [1.0, 0.0, 0.0, 0.0])


def test_casualties_counts():
    inj, kil = rules.casualties(np.array([1, 0]), np.array([0, 2]), 0.0, 0.0, 0.0, 0.5, rng())
    assert_array_equal(inj, [1, 0])
    assert_array_equal(kil, [0, 2])
    inj, kil = rules.casualties(2000, 0, 1.5, 0.0, 0.0, 1000.0, rng())
    assert 2000 + 2800 < inj < 2000 + 3200  # 2000 events, each 1 + about Poisson(1.5) when k is large
    inj, kil = rules.casualties(0, 1000, 0.0, 1.0, 10.0, 1000.0, rng())
    assert 1900 < kil < 2100 and 9500 < inj < 10500


def test_injured_per_attack_are_overdispersed():
    """Known answer: NB(mean m, k) has variance m + m^2/k; one attack in a few hundred injures 20 or more."""
    m, k = 1.5, 0.3
    extra = rules.overdispersed_count(np.ones(200_000), m, k, rng()).astype(float)
    assert abs(extra.mean() - m) < 0.03
    assert abs(extra.var() - (m + m * m / k)) / (m + m * m / k) < 0.05
    assert 0.002 < (extra >= 20).mean() < 0.02  # a mass-casualty, non-fatal attack is possible
    assert (rules.overdispersed_count(np.ones(200_000), m, 1000.0, rng()) >= 20).mean() == 0  # Poisson: never
    # counts of events give the law of attack-by-attack draws (sum of n NB(k) is NB(n k))
    summed = rules.overdispersed_count(np.full(50_000, 4), m, k, rng()).astype(float)
    assert abs(summed.mean() - 4 * m) < 0.1 and abs(summed.var() - 4 * (m + m * m / k)) / (4 * (m + m * m / k)) < 0.06
    assert (rules.overdispersed_count(np.zeros(10), m, k, rng()) == 0).all()


def test_delayed_diagnoses_spare_the_first_injured_of_each_attack():
    late = rules.delayed_diagnoses(np.array([1, 5, 0, 40]), np.array([1, 1, 0, 0]), 1.0, rng())
    assert_array_equal(late, [0, 4, 0, 40])  # share 1: everyone beyond the first of an injuring attack
    assert (rules.delayed_diagnoses(np.array([7, 30]), np.array([1, 0]), 0.0, rng()) == 0).all()
    late = rules.delayed_diagnoses(np.full(10_000, 11), np.ones(10_000, dtype=int), 0.4, rng())
    assert abs(late.mean() - 4.0) < 0.1


def test_approval_probability():
    assert_allclose(rules.approval_probability(0.8, 0.2, 0.2, 0.1, 0.5, 0.5), 0.8 * 1.2 * 0.95)
    assert_allclose(rules.approval_probability(0.9, 5.0, 0.0, 0.0, 1.0, 0.5), 1.0)
    assert_allclose(rules.approval_probability(0.9, 0.0, 0.0, 1.0, 0.0, 1.0), 0.0)


def test_triggers():
    prop, camp = rules.triggers(3, 0, 0, True, 1, True, 0)
    assert prop and not camp
    prop, camp = rules.triggers(0, 1, 0, True, 1, True, 0)
    assert camp and not prop
    prop, camp = rules.triggers(2, 0, 0, True, 3, True, 0)  # below the casualty tolerance
    assert not prop
    prop, _ = rules.triggers(0, 0, 4, True, 1, True, 4)  # attack-count trigger
    assert prop
    prop, _ = rules.triggers(0, 0, 4, True, 1, True, 0)  # count trigger off
    assert not prop
    prop, camp = rules.triggers(5, 2, 9, False, 1, False, 0)  # restraint doctrine
    assert not prop and not camp


def test_proportionate_size_matches_seed_002():
    # three US injured (Erbil, 25 Dec 2023) -> strikes on three facilities (26 Dec)
    assert rules.proportionate_facilities(3, 0.0, 1.0, 0.67, 6, 0.3) == 3
    assert rules.proportionate_facilities(100, 0.0, 1.0, 0.67, 6, 0.3) == 6
    assert rules.proportionate_facilities(0, 0.0, 0.0, 0.67, 6, 0.3) == 1
    assert rules.proportionate_facilities(3, 1.0, 1.0, 0.67, 10, 0.5) == 5


def test_campaign_first_wave():
    assert rules.campaign_first_wave(3, 0.0, 80, 3.0, 0.3) == 89
    assert rules.campaign_first_wave(0, 1.0, 100, 3.0, 0.5) == 150


def test_owner_weights():
    w = rules.owner_weights([1, 0, 0], [1, 1, 2], 0.5, 0.1, 0.0)
    assert_allclose(w, [0.9 * 0.625, 0.9 * 0.125, 0.9 * 0.25, 0.1, 0.0])
    w = rules.owner_weights([0, 0], [0, 0], 0.7, 0.0, 0.2)  # nothing to focus on: even spread
    assert_allclose(w, [0.4, 0.4, 0.0, 0.2])
    w = rules.owner_weights(np.array([[1, 0], [0, 1]]), np.array([[0, 0], [0, 0]]), 1.0, 0.0, 0.0)
    assert_allclose(w, [[1, 0, 0, 0], [0, 1, 0, 0]])


def test_allocate_targets_known_answer():
    weight = np.array([1.0, 0.0, 1.0, 1.0])
    available = np.array([5.0, 5.0, 0.0, 2.0])
    u = np.array([0.9, 0.5, 0.5, 0.1])
    alloc = rules.allocate_targets(weight, available, 6, 3, u)
    assert_array_equal(alloc, [3, 0, 0, 2])
    alloc = rules.allocate_targets(weight, available, 2, 3, u)
    assert_array_equal(alloc, [2, 0, 0, 0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 5), st.integers(0, 12)), min_size=1, max_size=30),
    st.integers(0, 200),
    st.integers(1, 15),
    st.integers(0, 2**32 - 1),
)
def test_allocate_targets_properties(facs, n, per, seed):
    weight = np.array([f[0] for f in facs])
    available = np.array([f[1] for f in facs], dtype=float)
    alloc = rules.allocate_targets(weight, available, n, per, rng(seed).random(len(facs)))
    eligible = (weight > 0) & (available > 0)
    assert (alloc >= 0).all()
    assert (alloc <= available).all()
    assert (alloc <= per).all()
    assert (alloc[~eligible] == 0).all()
    assert alloc.sum() == min(n, np.minimum(available, per)[eligible].sum())


def test_allocate_targets_batched_equals_rowwise():
    r = rng(5)
    weight, available, u = r.random((4, 9)), r.integers(0, 8, (4, 9)).astype(float), r.random((4, 9))
    n, per = np.array([0, 5, 20, 100]), np.array([1, 2, 3, 12])
    batched = rules.allocate_targets(weight, available, n, per, u)
    for i in range(4):
        assert_array_equal(batched[i], rules.allocate_targets(weight[i], available[i], n[i], per[i], u[i]))


def _allocate_one_by_one(weight, available, n, per, u):
    """Reference for allocate_targets: rank facilities by key, highest first, ties by facility number,
    and fill them in turn (plain Python, one row)."""
    out = np.zeros(len(weight), dtype=np.int64)
    keys = []
    for f, (w, a, x) in enumerate(zip(weight, available, u)):
        a = int(np.floor(max(a, 0.0)))
        if w > 0 and a > 0:
            with np.errstate(divide="ignore", over="ignore"):
                keys.append((-(np.log(max(x, 1e-300)) / w), f, min(a, per)))
    left = n
    for _, f, cap in sorted(keys):
        out[f] = max(0, min(left, cap))
        left -= out[f]
    return out


def test_allocate_targets_equals_stable_ranking_with_ties():
    """The fast ranking gives the stable ranking's result, also where keys tie (equal weights and
    uniforms) or overflow (tiny weights): those rows are re-ranked stably."""
    r = rng(11)
    for it in range(300):
        n, f = int(r.integers(1, 12)), int(r.integers(1, 25))
        if it % 2:
            weight = r.choice([0.0, 1e-320, 0.5, 1.0, np.inf], size=(n, f))
            u = r.choice([0.0, 0.25, 0.5], size=(n, f))
        else:
            weight, u = r.random((n, f)) * (r.random((n, f)) > 0.3), r.random((n, f))
        available = r.integers(0, 6, (n, f)).astype(float)
        targets, per = r.integers(0, 30, n), r.integers(0, 4, n)
        got = rules.allocate_targets(weight, available, targets, per, u)
        for i in range(n):
            assert_array_equal(got[i], _allocate_one_by_one(weight[i], available[i], targets[i], per[i], u[i]))
            assert_array_equal(rules.allocate_targets(weight[i], available[i], targets[i], per[i], u[i]), got[i])


def test_rebuild_into_out_equals_new_array():
    r = rng(3)
    intact, rate = r.random((5, 7)) * 4, r.random((5, 1))
    total = np.full(7, 4.0)
    expected = rules.rebuild(intact, total, rate)
    out = intact.copy()
    assert rules.rebuild(out, total, rate, out=out) is out
    assert_array_equal(out, expected)


def test_strike_outcomes_deterministic_limits():
    alloc = np.array([3, 0, 5])
    d, h, m, i = rules.strike_outcomes(alloc, 1.0, 0.0, 0.0, 0.0, np.ones(3), np.zeros(3), rng())
    assert_array_equal(d, alloc)
    assert_array_equal(h, 0)
    assert_array_equal(m, 0)
    d, h, m, i = rules.strike_outcomes(alloc, 0.0, 1.0, 0.0, 0.0, np.ones(3), np.zeros(3), rng())
    assert_array_equal(d, 0)
    assert_array_equal(h, alloc)
    _, _, m, i = rules.strike_outcomes(np.array([10000, 10000]), 1.0, 0.0, 0.5, 0.2, np.array([1.0, 0.0]),
                                       np.array([0.0, 1.0]), rng())
    assert m[1] == 0 and i[0] == 0
    assert 4800 < m[0] < 5200 and 1900 < i[1] < 2100


def test_munitions_used():
    assert rules.munitions_used(85, 2.0, rng()) == 170
    many = rules.munitions_used(np.full(2000, 85), 1.5, rng())
    assert_allclose(many.mean(), 127.5, atol=0.5)  # seed 000: >85 targets, >125 munitions
    assert many.min() >= 85


def test_credibility_gain_is_a_dose_response_in_the_relative_dose():
    assert_allclose(rules.relative_dose(85, 0.0, 20.0), 4.25)
    assert_allclose(rules.relative_dose(85, 85.0, 20.0), 85 / 105)  # the same campaign again is a smaller dose
    assert_allclose(rules.credibility_gain(0.0, 1.0, 0.5, 1.0), 0.25)  # half the gain at rho = 1
    assert_allclose(rules.credibility_gain(0.5, 3.0, 0.5, 1.0), 0.5 + 0.25 * 0.75)
    assert_allclose(rules.credibility_gain(0.0, 0.0, 0.5, 2.0), 0.0)
    big = rules.credibility_gain(0.0, rules.relative_dose(85, 0.0, 20.0), 0.25, 1.0)
    small = rules.credibility_gain(0.0, rules.relative_dose(6, 0.0, 20.0), 0.25, 1.0)
    assert big > 2.5 * small  # a massive campaign and a 3-facility strike (6 aimpoints) differ
    steep = rules.credibility_gain(0.0, rules.relative_dose([6, 85], 0.0, 20.0), 0.25, 2.0)
    assert steep[1] / steep[0] > big / small  # a steeper dose-response widens the gap


def test_health_and_storage_loss():
    membership = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    total = np.array([10.0, 0.0])
    assert_allclose(rules.health(np.array([2.0, 3.0, 0.0]), membership, total), [0.5, 1.0])
    assert_allclose(rules.stock_after_storage_loss(np.array([10.0, 4.0]), np.array([1.0, 0.0]), np.array([0.5, 0.0])),
                    [5.0, 4.0])


def test_resupply_and_rebuild():
    assert_allclose(rules.resupply(0.0, 10.0, 1.0, 1.0, 1.0, 0.1, 1.0), 1.0)
    assert_allclose(rules.resupply(0.0, 10.0, 0.5, 0.5, 1.0, 0.1, 1.0), 0.25)
    assert_allclose(rules.resupply(8.0, 10.0, 0.5, 1.0, 1.0, 0.1, 1.0), 8.0)  # more than storage can hold: no loss
    assert_allclose(rules.rebuild(0.0, 10.0, 0.1), 1.0)


def test_restraint():
    assert_allclose(rules.restraint_target(1.5, 0.1, 0.9, 1.5, 3.0), 0.5)
    assert rules.restraint_target(10.0, 0.1, 0.9, 1.5, 3.0) > 0.89
    assert_allclose(rules.restraint_update(0.1, 1.5, 0.1, 0.9, 1.5, 3.0, 0.5), 0.3)


def test_direct_action_and_red_lines():
    assert rules.direct_action_probability(5.0, False, 1.0) == 0.0
    assert_allclose(rules.direct_action_probability(1.0, True, np.log(2)), 0.5)
    assert rules.red_line_crossed(10, False, 10, True)
    assert not rules.red_line_crossed(9, False, 10, True)
    assert rules.red_line_crossed(0, True, 10, True)
    assert not rules.red_line_crossed(0, True, 10, False)


def test_feedback_additions():
    assert_allclose(rules.revenge_added(10, 2, 0.02, 0.05), 0.3)
    assert_allclose(rules.domestic_added(3, 1, 0.02, 0.3), 0.36)
    assert_allclose(rules.host_added(2, 5, 0.1, 0.01), 0.25)
    assert_allclose(rules.war_risk_added(85, 3, 1, 0.02, 0.35, 0.3), 1.7 + 1.05 + 0.3)
    assert_allclose(rules.hostility_added(2, 10, 0.15, 0.05), 0.8)


NEVER = 10**6


@pytest.mark.parametrize(
    "days_since, exchanges, expected",
    [
        ([NEVER] * 8, 0, 0),
        ([0] + [NEVER] * 7, 0, 1),
        ([20] + [NEVER] * 7, 0, 0),  # harassment window is 14 days
        ([20, 20] + [NEVER] * 6, 0, 2),  # casualty memory is 30 days
        ([0, 0, 0, 0] + [NEVER] * 4, 0, 4),
        ([NEVER] * 7 + [3], 1, 8),
        ([NEVER] * 8, 3, 9),
        ([NEVER] * 8, 2, 0),
    ],
)
def test_ladder_rung(days_since, exchanges, expected):
    assert rules.ladder_rung(np.array(days_since), exchanges, 14, 30, 3) == expected


def test_ladder_has_at_least_eight_rungs_with_conditions():
    assert len(rules.RUNGS) >= 9
    assert all(cond for _, cond in rules.RUNGS)
    assert len(set(rules.RUNG_NAMES)) == len(rules.RUNGS)


def test_target_base_probabilities_zero_exposure_spreads_evenly():
    p = rules.target_base_probabilities(np.array([0.0, 0.0, 2.0]), np.array([0, 0, 1]), np.array([[True, False]]))
    assert_allclose(p, [[0.5, 0.5, 0.0]])
