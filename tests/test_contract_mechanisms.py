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
