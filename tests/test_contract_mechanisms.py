"""Engine contract, issue 11 (regime changes): known answers of the casualty, deterrence and tempo rules
as the day applies them, on both engines (the ``engine`` fixture of ``tests/test_contract.py``)."""

from __future__ import annotations

import numpy as np

from test_contract import _quiet, _valid, engine  # noqa: F401  (engine is a fixture)


def _one_uav_attack(days: int = 20):
    """One group holding exactly one drone, no resupply, no US answer: one launch, early in the run."""
    s = _quiet(days=days)
    kh = s.militia.groups[0]
    kh.base_rate = 20.0
    kh.stock.uav, kh.stock.rocket, kh.stock.missile = 1.0, 0.0, 0.0
    s.iran.resupply_rate = 0.0
    s.us.doctrine.triggers.respond_probability = 0.0
    for b in s.bases:
        b.air_defence = 0.0
    return s


def test_injuries_diagnosed_late_are_reported_after_the_delay(engine):
    s = _one_uav_attack()
    uav = s.militia.weapons.uav
    uav.p_injury, uav.p_fatal, uav.injured_extra_mean = 1.0, 0.0, 12.0
    at = s.militia.attack
    at.injury_dispersion, at.diagnosis_delayed_share, at.diagnosis_delay_days = 1000.0, 1.0, 3
    r = engine.run(_valid(s), 6, seed=2)
    hurt = 0
    for rep, ts in r.ts.groupby("replicate"):
        ev = r.ev[r.ev["replicate"] == rep]
        attack = ev[ev["kind"] == "attack"]
        assert len(attack) == 1 and attack["launches"].iloc[0] == 1
        day = int(attack["day"].iloc[0])
        if attack["outcome"].iloc[0] != "injuries":
            assert ts["us_injured"].sum() == 0
            continue
        hurt += 1
        by_day = ts.set_index("day")["us_injured"]
        assert attack["injured"].iloc[0] == 1 and by_day[day] == 1  # the first injured at once
        late = ev[ev["kind"] == "diagnosis"]
        assert len(late) == 1 and int(late["day"].iloc[0]) == day + 3
        assert by_day[day + 3] == late["injured"].iloc[0] > 3  # the rest (about 12) three days later
        assert by_day.sum() == 1 + late["injured"].iloc[0]
    assert hurt >= 3


def test_no_late_diagnoses_with_share_zero(engine):
    s = _one_uav_attack()
    uav = s.militia.weapons.uav
    uav.p_injury, uav.p_fatal, uav.injured_extra_mean = 1.0, 0.0, 12.0
    s.militia.attack.diagnosis_delayed_share = 0.0
    r = engine.run(_valid(s), 4, seed=2)
    assert not (r.ev["kind"] == "diagnosis").any()
    attacks = r.ev[r.ev["kind"] == "attack"]
    assert attacks["injured"].sum() == r.ts["us_injured"].sum()


def test_the_baseline_makes_100_attacks_without_a_death_a_likely_history():
    """Issue 11 item 4: the record had 100+ attacks and no US death by 26 Dec 2023 (day 70)."""
    from sim.compiled import compile_scenario
    from sim.ensemble import EnsembleEngine, block_rng
    from sim.outcomes import FIRST_FIGURE_DAYS
    from sim.scenario_io import load_scenario

    s = load_scenario("baseline").model_copy(update={"days": FIRST_FIGURE_DAYS + 1})
    eng = EnsembleEngine(compile_scenario(s), 400, block_rng(3, 0, 400), table=False).run()
    h = eng.outcomes()
    assert np.median(h["cumulative_attacks"]) > 100
    assert h["no_death_by_first_figure"].mean() > 0.5


def _credibility_after_strike(engine, targets: int, days: int = 12, strike_day: int = 2, before: int = 0):
    from sim import rules
    from test_contract import _shock

    s = _quiet(days=days)
    s.shocks = ([_shock(s, 1, kind="strike", targets=before, scope="militia")] if before else []) + [
        _shock(s, strike_day, kind="strike", targets=targets, scope="militia")]
    s = _valid(s)
    r = engine.run(s, 2, seed=1)
    us = s.us
    ret = float(rules.decay_factor(us.credibility_half_life_days))
    got = np.concatenate([st_.credibility for st_ in r.states])
    expected = []
    for rep in range(2):
        struck = r.ev[(r.ev["replicate"] == rep) & (r.ev["kind"] == "scripted")].set_index("day")["aimpoints"]
        cred = memory = 0.0
        for day in range(days):  # a strike (phase 5), then the day's decay (phase 6)
            if day in struck.index:
                cred = float(rules.credibility_gain(cred, rules.relative_dose(struck[day], memory,
                                                                               us.credibility_dose_scale),
                                                    us.credibility_gain, us.credibility_dose_hill))
                memory += struck[day]
            if day > 0:
                cred, memory = cred * ret, memory * ret
        expected.append(cred)
    return got, np.array(expected), s


def test_a_massive_campaign_deters_more_than_a_three_facility_strike(engine):
    """Issue 11 item 3: 85 aimpoints and a 3-facility strike (6 aimpoints) differ in deterrent effect."""
    big, big_expected, s = _credibility_after_strike(engine, 85)
    small, small_expected, _ = _credibility_after_strike(engine, 6)
    np.testing.assert_allclose(big, big_expected)
    np.testing.assert_allclose(small, small_expected)
    assert (big > 2.5 * small).all()
    kh = s.militia.groups[0]
    w = s.militia.attack.deterrence_weight * (1 - kh.risk_tolerance)
    cut_big, cut_small = 1 - np.exp(-w * big), 1 - np.exp(-w * small)  # share of kh's attack rate deterred
    assert (cut_big > 2.5 * cut_small).all()


def test_the_same_strike_after_a_large_one_is_a_smaller_dose(engine):
    fresh, _, _ = _credibility_after_strike(engine, 20, days=4, strike_day=2)
    again, expected, _ = _credibility_after_strike(engine, 20, days=4, strike_day=2, before=85)
    np.testing.assert_allclose(again, expected)
    first, _, _ = _credibility_after_strike(engine, 85, days=4, strike_day=1)  # the first strike alone
    assert (again - first < fresh).all()  # the second strike adds less than the same strike adds when fresh


def test_deaths_from_strikes_build_tension_that_decays_with_its_half_life(engine):
    """Issue 11 item 6: tension can build (militants and IRGC killed), not only decay."""
    from sim import rules
    from test_contract import _shock

    s = _quiet(days=15)
    s.us.doctrine.precision.militants_per_target = 1.0
    s.us.doctrine.precision.irgc_per_target = 0.5
    s.shocks = [_shock(s, 3, kind="strike", targets=30, scope="militia"),
                _shock(s, 3, kind="strike", targets=6, scope="irgc_facilities")]
    s = _valid(s)
    r = engine.run(s, 2, seed=4)
    at = s.militia.attack
    ret = float(rules.decay_factor(at.tempo_half_life_days))
    struck = r.ev[r.ev["kind"] == "scripted"].groupby("replicate")[["militants_killed", "irgc_killed"]].sum()
    got = np.concatenate([st_.tempo for st_ in r.states])
    expected = rules.tempo_added(struck["militants_killed"], struck["irgc_killed"], at.tempo_per_militant_killed,
                                 at.tempo_per_irgc_killed) * ret ** (s.days - 1 - 3 + 1)
    assert (struck["militants_killed"] > 10).all()
    np.testing.assert_allclose(got, np.asarray(expected))


def test_a_run_can_accelerate_towards_a_crisis(engine):
    """Strikes every ten days kill militants; with the tempo rule on, tension builds and attacks in days
    100-149 are more than twice those of days 0-49; with it off (the same strikes) they are not."""
    from sim.schema import Scenario
    from test_contract import _shock

    def attacks(per_militant: float):
        s = Scenario(days=150)
        s.us.doctrine.triggers.respond_probability = 0.0  # only the scripted strikes
        pr = s.us.doctrine.precision
        pr.militants_per_target, pr.p_destroy, pr.collateral_per_target = 1.0, 0.0, 0.0  # no capability lost
        at = s.militia.attack
        at.tempo_per_militant_killed, at.tempo_half_life_days = per_militant, 120.0
        at.deterrence_weight = at.revenge_weight = at.excitation_jump = 0.0  # the tempo loop alone
        for g in s.militia.groups:
            g.stock.uav, g.stock.rocket = 1000.0, 1000.0
        s.shocks = [_shock(s, d, kind="strike", targets=20, scope="militia") for d in range(5, 100, 10)]
        s.standdown.enabled = False  # no stand-down interrupts the loop (issue 11 item 1 is tested apart)
        ts = engine.run(_valid(s), 3, seed=8).ts
        early = ts[ts["day"] < 50].groupby("replicate")["attacks"].sum()
        late = ts[ts["day"] >= 100].groupby("replicate")["attacks"].sum()
        return early.to_numpy(), late.to_numpy()

    early, late = attacks(0.02)
    assert (late > 2 * early).all()
    early0, late0 = attacks(0.0)
    assert (late0 < 1.5 * early0).all()


def test_what_follows_a_major_campaign_known_answer(engine):
    """Issue 11 item 8: a 40-aimpoint strike on day 5, scripted attacks on days 5, 12 and 50."""
    from sim.outcomes import horizon_table
    from test_contract import _shock

    s = _quiet(days=90)
    s.us.doctrine.triggers.respond_probability = 0.0
    attack = dict(kind="attack", group="kh", base="erbil", weapon="rocket", injured=0, killed=0)
    s.shocks = [_shock(s, 5, **attack), _shock(s, 5, kind="strike", targets=40, scope="militia"),
                _shock(s, 12, **attack), _shock(s, 50, **attack)]
    r = engine.run(_valid(s), 2, seed=0)
    h = horizon_table(r.ts)
    assert (h["days_to_next_attack"] == 7).all()
    assert (h["attacks_after_campaign"] == 2).all()  # days 12 and 50; day 5's attack came before the strike
    assert h["pause_after_campaign"].all()  # days 13-49 without attacks
    s.shocks = s.shocks[:2] + [_shock(s, d, **attack) for d in range(12, 70, 20)]  # never 30 quiet days
    h = horizon_table(engine.run(_valid(s), 2, seed=0).ts)
    assert not h["pause_after_campaign"].any() and (h["attacks_after_campaign"] == 3).all()
    s.shocks = [_shock(s, 5, kind="strike", targets=20, scope="militia"), _shock(s, 12, **attack)]  # not major
    h = horizon_table(engine.run(_valid(s), 2, seed=0).ts)
    assert h["days_to_next_attack"].isna().all() and not h["pause_after_campaign"].any()
