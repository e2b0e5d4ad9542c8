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
