"""Engine contract, regime changes (issue 11): known answers of stand-downs on both engines.

Each test takes the ``engine`` fixture of :mod:`test_contract` (the Mesa model and
the ensemble engine) and asserts what the rules of :mod:`sim.standdown_rules`, as
:mod:`sim.dynamics.standdown` applies them, must give.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import rules
from sim import standdown_rules as sr
from sim.schema import Scenario
from test_contract import _quiet, _shock, _valid, engine  # noqa: F401 (the fixture)

SHOCK_DAY = 10


def _fatal_attack(days: int = 40, **standdown) -> Scenario:
    """A quiet scenario with one scripted fatal attack by Kataib Hezbollah (three killed) on day 10."""
    s = _quiet(days)
    s.us.doctrine.triggers.respond_probability = 0.0  # no US answer: nothing but the attack moves the alarms
    s.shocks = [_shock(s, SHOCK_DAY, kind="attack", group="kh", base="tower_22", weapon="uav", injured=40, killed=3)]
    for k, v in standdown.items():
        setattr(s.standdown, k, v)
    return _valid(s)


def _iran_alarm(s: Scenario) -> float:
    host = s.drivers.host_pressure[0].value
    war_risk = rules.war_risk_added(0, 3, 0, 0.0, s.iran.risk_per_us_killed, 0.0)
    return float(sr.iran_alarm(war_risk, host, s.standdown.host_weight))


def _rows(ev, kind, **eq):
    sel = ev["kind"] == kind
    for k, v in eq.items():
        sel &= ev[k] == v
    return ev[sel]


@pytest.mark.parametrize("margin", [-0.01, 0.01])
def test_iran_orders_a_standdown_when_its_alarm_crosses_the_threshold(engine, margin):
    s = _fatal_attack(leader_threshold=20.0)
    alarm = _iran_alarm(s)
    s.standdown.iran_threshold = alarm + margin  # just above the alarm: no order; just below: an order
    r = engine.run(_valid(s), 3, seed=5)
    orders = _rows(r.ev, "standdown_order", actor="Iran")
    if margin > 0:
        assert orders.empty and (r.ts["standdowns"] == 0).all()
    else:
        assert len(orders) == 3 and (orders["day"] == SHOCK_DAY).all()
        assert np.allclose(orders["value"], alarm)


def test_obedient_groups_obey_and_an_unaligned_group_defies(engine):
    s = _fatal_attack(iran_threshold=0.5, leader_threshold=20.0, obedience_grievance_weight=0.0, mean_days=1000.0)
    for g in s.militia.groups:
        g.alignment = 0.0 if g.id == "nujaba" else 1.0
    r = engine.run(_valid(s), 3, seed=6)
    answers = _rows(r.ev, "standdown", day=SHOCK_DAY)
    assert set(answers.loc[answers["actor"] == "nujaba", "outcome"]) == {"defied"}
    assert set(answers.loc[answers["actor"] != "nujaba", "outcome"]) == {"obeyed"}
    day = r.ts[r.ts["day"] == SHOCK_DAY]
    assert (day["standdowns"] == 3).all() and (day["groups_stood_down"] == 3).all()


def test_the_group_behind_a_fatal_attack_orders_its_own_standdown(engine):
    s = _fatal_attack(iran_threshold=20.0)
    heat = float(sr.heat_added(1, s.militia.groups[0].risk_tolerance, s.standdown.alarm_per_fatal_attack))
    assert heat >= s.standdown.leader_threshold
    r = engine.run(s, 3, seed=7)
    own = _rows(r.ev, "standdown_order", day=SHOCK_DAY)
    assert len(own) == 3 and set(own["actor"]) == {"kh"}
    assert (r.ts.loc[r.ts["day"] == SHOCK_DAY, "groups_stood_down"] == 1).all()
    # a group that made no fatal attack does not order one
    s.standdown.alarm_per_fatal_attack = 0.5 * s.standdown.leader_threshold / (1 - s.militia.groups[0].risk_tolerance)
    assert _rows(engine.run(_valid(s), 3, seed=7).ev, "standdown_order").empty


def test_standdown_lengths_are_geometric_with_the_mean_of_the_hazard(engine):
    s = _fatal_attack(days=90, iran_threshold=0.5, leader_threshold=20.0, obedience_grievance_weight=0.0,
                      mean_days=5.0)
    for g in s.militia.groups:
        g.alignment = 1.0
    r = engine.run(_valid(s), 40, seed=8)
    ends = _rows(r.ev, "standdown_end")
    assert set(ends["outcome"]) == {"expired"} and len(ends) == 160  # 40 replicates x 4 groups, all ended
    lengths = ends["value"].to_numpy()
    assert lengths.min() >= 1
    assert abs(lengths.mean() - 5.0) < 4 * np.sqrt(1 - 0.2) / 0.2 / np.sqrt(lengths.size)


def test_a_standing_down_group_with_no_residual_does_not_attack(engine):
    s = _fatal_attack(days=50, iran_threshold=0.5, leader_threshold=20.0, obedience_grievance_weight=0.0,
                      mean_days=1000.0, residual=0.0)
    for g in s.militia.groups:
        g.alignment = 1.0
        g.base_rate = 2.0
    s.militia.attack.excitation_jump = 0.08
    r = engine.run(_valid(s), 4, seed=9)
    ts = r.ts.sort_values(["replicate", "day"])
    all_down = ts.groupby("replicate")["groups_stood_down"].shift(1) == 4  # every group down since yesterday
    all_down &= ts["day"] != SHOCK_DAY  # the scripted attack is not the groups' choice
    assert all_down.sum() > 4 * 30
    assert (ts.loc[all_down, "attacks"] == 0).all()
    assert (ts.loc[ts["day"] < SHOCK_DAY, "attacks"] > 0).any()  # they did attack before


def test_a_strike_on_a_standing_down_group_breaks_its_standdown(engine):
    s = _fatal_attack(iran_threshold=20.0, mean_days=1000.0)  # Kataib Hezbollah stands down on day 10
    s.us.doctrine.precision.militants_per_target = 0.0
    s.shocks.append(_shock(s, SHOCK_DAY + 1, kind="strike", group="kh", targets=20))
    s = _valid(s)
    added = float(rules.revenge_added(20, 0, s.militia.attack.revenge_per_target, 0.0))
    assert added >= s.standdown.break_revenge
    r = engine.run(s, 3, seed=10)
    ends = _rows(r.ev, "standdown_end", day=SHOCK_DAY + 1)
    assert len(ends) == 3 and set(ends["actor"]) == {"kh"} and set(ends["outcome"]) == {"broken"}
    assert (ends["value"] == 1).all()
    # a strike too small to add break_revenge leaves it standing
    s.standdown.break_revenge = added * 1.5
    r = engine.run(_valid(s), 3, seed=10)
    assert _rows(r.ev, "standdown_end", outcome="broken").empty


def test_no_standdowns_when_disabled(engine):
    s = _fatal_attack(iran_threshold=0.5, enabled=False)
    r = engine.run(s, 3, seed=11)
    assert not r.ev["kind"].str.startswith("standdown").any()
    assert (r.ts["groups_stood_down"] == 0).all()


# --------------------------------------------------------------------------- doctrine options (item 5)


def _injuring_attack(days: int = 40) -> Scenario:
    """A quiet scenario with one scripted attack by Kataib Hezbollah injuring three on day 10 (no US strike)."""
    s = _quiet(days)
    s.us.doctrine.triggers.respond_probability = 0.0
    s.shocks = [_shock(s, SHOCK_DAY, kind="attack", group="kh", base="erbil", weapon="rocket", injured=3)]
    return s


def test_leadership_strike_follows_a_casualty_attack_by_its_delay(engine):
    s = _injuring_attack()
    lp = s.us.doctrine.leadership
    lp.probability, lp.delay_days = 1.0, 4
    r = engine.run(_valid(s), 3, seed=12)
    strikes = _rows(r.ev, "leadership")
    assert len(strikes) == 3 and set(strikes["target"]) == {"kh"} and (strikes["day"] == SHOCK_DAY + 4).all()
    assert (strikes["militants_killed"] == 1).all()
    for state in r.states:  # revenge added, decayed since the strike
        days = s.days - 1 - (SHOCK_DAY + 4)
        expected = lp.revenge_per_leader * 0.5 ** ((days + 1) / s.militia.attack.revenge_half_life_days)
        assert np.allclose(state.revenge[:, 0], expected)
    lp.probability = 0.0
    assert _rows(engine.run(_valid(s), 3, seed=12).ev, "leadership").empty


def test_leadership_strike_breaks_a_standdown_and_disrupts_attacks(engine):
    s = _fatal_attack(days=40, iran_threshold=20.0, mean_days=1000.0)  # Kataib Hezbollah stands down on day 10
    lp = s.us.doctrine.leadership
    lp.probability, lp.delay_days = 1.0, 3
    assert lp.revenge_per_leader >= s.standdown.break_revenge
    r = engine.run(_valid(s), 3, seed=13)
    ends = _rows(r.ev, "standdown_end")
    assert len(ends) == 3 and set(ends["outcome"]) == {"broken"} and (ends["day"] == SHOCK_DAY + 3).all()
    assert all((st.disrupted_until[:, 0] == SHOCK_DAY + 3 + lp.disruption_days).all() for st in r.states)


def test_a_disrupted_group_with_full_disruption_does_not_attack(engine):
    s = _injuring_attack(days=40)
    s.standdown.enabled = False
    lp = s.us.doctrine.leadership
    lp.probability, lp.delay_days, lp.disruption, lp.disruption_days = 1.0, 0, 1.0, 25
    for g in s.militia.groups:
        g.base_rate = 0.0 if g.id != "kh" else 3.0
    r = engine.run(_valid(s), 3, seed=14)
    ts = r.ts
    disrupted = (ts["day"] > SHOCK_DAY) & (ts["day"] < SHOCK_DAY + 25)
    assert (ts.loc[disrupted, "attacks"] == 0).all() and (ts.loc[ts["day"] >= SHOCK_DAY + 25, "attacks"] > 0).any()


def test_self_defence_strikes_hit_a_team_per_attack_when_certain(engine):
    s = _quiet(30)
    s.standdown.enabled = False
    s.us.doctrine.triggers.respond_probability = 0.0
    s.us.doctrine.self_defence.probability = 1.0
    s.us.doctrine.self_defence.militants_per_strike = 2.0
    for g in s.militia.groups:
        g.base_rate = 0.5
    r = engine.run(_valid(s), 3, seed=15)
    teams = _rows(r.ev, "self_defence")
    attacks = r.ev[r.ev["kind"] == "attack"].groupby(["replicate", "day", "actor"])["launches"].sum()
    got = teams.groupby(["replicate", "day", "target"])["launches"].sum()
    got.index = got.index.set_names(["replicate", "day", "actor"])
    assert len(attacks) > 5 and got.sort_index().equals(attacks.sort_index())
    assert (r.ts["militants_killed"].sum()) == teams["militants_killed"].sum() > 0
    s.us.doctrine.self_defence.probability = 0.0
    assert _rows(engine.run(_valid(s), 3, seed=15).ev, "self_defence").empty


def test_revenge_makes_an_aligned_group_defy_irans_order(engine):
    s = _fatal_attack(iran_threshold=0.5, leader_threshold=20.0, obedience_grievance_weight=10.0)
    for g in s.militia.groups:
        g.alignment = 1.0
    s.iran.risk_per_target = 0.0  # the strike alone must not alarm Iran
    s.us.doctrine.precision.collateral_per_target = 0.0  # nor give the other groups a grievance
    s.shocks.append(_shock(s, SHOCK_DAY - 2, kind="strike", group="nujaba", targets=40))  # revenge ~0.8 for nujaba
    s = _valid(s)
    assert float(sr.obey_probability(1.0, 0.7, 0.0, 10.0)) < 1e-3
    r = engine.run(s, 3, seed=16)
    answers = _rows(r.ev, "standdown", day=SHOCK_DAY)
    assert set(answers.loc[answers["actor"] == "nujaba", "outcome"]) == {"defied"}
    assert set(answers.loc[answers["actor"] != "nujaba", "outcome"]) == {"obeyed"}


# --------------------------------------------------------------------------- outcomes (item 8)


def test_longest_standdown_spell_known_answer():
    import pandas as pd

    from sim.outcomes import LongestRun

    down = [0, 1, 1, 0, 1, 1, 1, 0, 0, 2, 1, 1, 0, 1]  # replicate 0: runs 2, 3, 1 (at its end); replicate 1: 2, 1
    ts = pd.DataFrame({"replicate": [0] * 10 + [1] * 4, "day": list(range(10)) + list(range(4)),
                       "groups_stood_down": down})
    got = LongestRun("groups_stood_down").of_table(ts, ts.groupby("replicate"))
    assert got.tolist() == [3, 2]
    from sim.outcomes import longest_run

    assert longest_run(np.array([[0, 1, 1, 0, 1, 1, 1], [1, 1, 0, 1, 0, 0, 0]]) > 0).tolist() == [3, 2]


def test_standdown_outcomes_from_the_table_equal_the_running_values(engine):
    from sim.outcomes import horizon_table

    s = _fatal_attack(days=60, iran_threshold=0.5, mean_days=8.0)
    for g in s.militia.groups:
        g.base_rate = 0.3
    r = engine.run(_valid(s), 6, seed=17)
    h = horizon_table(r.ts)
    assert (h["standdowns"] > 0).all() and (h["longest_standdown"] >= 1).all()
    assert (h["standdown_days"] >= h["longest_standdown"]).all()
    if engine.name == "ensemble":
        from sim.compiled import compile_scenario
        from sim.ensemble import EnsembleEngine, block_rng

        eng = EnsembleEngine(compile_scenario(_valid(s)), 6, block_rng(17, 0, 6), table=False).run()
        acc = eng.outcomes()
        for k in ("standdowns", "standdown_days", "longest_standdown"):
            assert acc[k].tolist() == h[k].tolist()
