"""The engine contract: one suite of known answers, invariants and regression tests run on both engines.

In the manner of Axelrod's shared base test for strategies, every test here takes
the ``engine`` fixture -- the Mesa model (:mod:`sim.model`, one replicate per
model, agents stepping their own slices) or the ensemble engine
(:mod:`sim.ensemble`, R replicates at once) -- and asserts what any engine must
do.  Both engines run the one day of :mod:`sim.dynamics`, so a change to a rule
or a decision there shows in both; a change to how either engine drives the day
(activation order, slicing, recording) shows in the one it breaks.

Sections: known answers of the rules as the day applies them; regression tests of
model fixes (each names the fix); hypothesis invariants; tables and seeding.
The statistical equivalence of the two engines is in ``tests/test_ensemble.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import rules
from sim.columns import EVENT_COLUMNS, EVENT_TEXT, TIMESERIES_COLUMNS
from sim.compiled import compile_scenario
from sim.dynamics.events import concat_events
from sim.ensemble import EnsembleEngine, block_rng
from sim.model import EscalationModel
from sim.runner import replicate_seeds, tidy_events, tidy_timeseries
from sim.schema import Scenario, Shock


@dataclass
class Run:
    ts: pd.DataFrame
    ev: pd.DataFrame
    states: list  # sim.dynamics.State objects at the horizon (one per Mesa model, one for the ensemble)


class MesaEngine:
    name = "mesa"

    def run(self, s: Scenario, replicates: int, seed: int) -> Run:
        models = [EscalationModel(s, rng=np.random.default_rng(ss)).run() for ss in replicate_seeds(seed, replicates)]
        ts = pd.concat([tidy_timeseries(m, r) for r, m in enumerate(models)], ignore_index=True)
        ev = concat_events(tidy_events(m, r) for r, m in enumerate(models))
        return Run(ts, ev, [m.state for m in models])


class Ensemble:
    name = "ensemble"

    def run(self, s: Scenario, replicates: int, seed: int) -> Run:
        eng = EnsembleEngine(compile_scenario(s), replicates, block_rng(seed, 0, replicates), events=True).run()
        return Run(eng.timeseries(), eng.event_log(), [eng.state])


@pytest.fixture(params=[MesaEngine(), Ensemble()], ids=lambda e: e.name)
def engine(request):
    return request.param


def _valid(s: Scenario) -> Scenario:
    return Scenario.model_validate(s.model_dump())


def _quiet(days: int = 60) -> Scenario:
    """The default scenario with no militia attacks at all (no background rate, no self-excitation)."""
    s = Scenario(days=days)
    for g in s.militia.groups:
        g.base_rate = 0.0
    s.militia.attack.excitation_jump = 0.0
    return s


def _shock(s: Scenario, day: int, **kw: Any) -> Shock:
    return Shock(date=s.start_date + dt.timedelta(days=day), **kw)


# --------------------------------------------------------------------------- known answers


def test_no_attacks_without_base_rates(engine):
    r = engine.run(_valid(_quiet()), 3, seed=1)
    assert (r.ts["attacks"] == 0).all() and (r.ts["cumulative_attacks"] == 0).all()
    assert (r.ts["rung"] == 0).all() and (r.ts["us_strikes"] == 0).all() and (r.ts["us_injured"] == 0).all()
    assert r.ev.empty


def _scripted_fatal_attack() -> tuple[Scenario, int]:
    s = _quiet(days=40)
    s.drivers.host_pressure[0].value = 0.0
    s.us.doctrine.triggers.respond_probability = 1.0  # approval certain
    s.us.doctrine.precision.irgc_per_target = 0.0  # no IRGC deaths: the ladder stops at the campaign
    shock_day = 10
    s.shocks = [_shock(s, shock_day, kind="attack", group="kh", base="tower_22", weapon="uav", injured=40, killed=3)]
    return _valid(s), shock_day


def _expected_first_wave(s: Scenario, shock_day: int) -> int:
    c = compile_scenario(s)
    us = s.us
    domestic = rules.domestic_added(40, 3, us.domestic_per_injured, us.domestic_per_killed)
    cp = us.doctrine.campaign
    return int(rules.campaign_first_wave(3, domestic + c.outside[shock_day], cp.first_wave_targets,
                                         cp.targets_per_fatality, us.size_gain))


def test_scripted_fatal_attack_brings_the_campaign_first_wave(engine):
    s, shock_day = _scripted_fatal_attack()
    expected = _expected_first_wave(s, shock_day)
    wave_day = shock_day + s.us.doctrine.campaign.delay_days
    r = engine.run(s, 4, seed=3)
    ts, ev = r.ts, r.ev
    assert expected > s.us.doctrine.campaign.first_wave_targets
    assert (ts[ts["day"] == wave_day]["targets_struck"] == expected).all()
    assert (ts[ts["day"] < wave_day]["targets_struck"] == 0).all()
    shock = ts[ts["day"] == shock_day]
    assert (shock["us_killed"] == 3).all() and (shock["us_injured"] == 40).all() and (shock["attacks"] == 1).all()
    assert (ts[ts["day"] == wave_day]["rung"] == 5).all()  # major_campaign, from the wave
    assert (ts[(ts["day"] > shock_day) & (ts["day"] < wave_day)]["rung"] == 4).all()  # fatal_attacks before it
    orders = ev[(ev["kind"] == "order") & (ev["target"] == "campaign")]
    assert len(orders) == 4 and (orders["aimpoints"] == expected).all() and (orders["due_day"] == wave_day).all()
    waves = ev[(ev["kind"] == "campaign") & (ev["day"] == wave_day)]
    assert len(waves) == 4 and (waves["aimpoints"] == expected).all() and waves["outcome"].eq("struck").all()
    assert (waves["munitions"] >= waves["aimpoints"]).all() and (waves["facilities"] > 0).all()
    assert ((ev["kind"] == "scripted_attack") & (ev["killed"] == 3) & (ev["weapon"] == "uav")).sum() == 4


def test_scripted_strike_inside_iran_reaches_sponsor_territory(engine):
    s = _quiet(days=20)
    s.shocks = [_shock(s, 1, kind="strike", targets=10, scope="inside_iran")]
    r = engine.run(_valid(s), 2, seed=0)
    day1 = r.ts[r.ts["day"] == 1]
    assert (day1["targets_in_iran"] == 10).all() and (day1["max_rung"] == 7).all()
    assert all(st_.territory_struck.all() for st_ in r.states)
    strikes = r.ev[r.ev["kind"] == "scripted"]
    assert (strikes["in_iran"] == 10).all() and strikes["target"].eq("iran_homeland").all()


def test_restraint_scenario_never_strikes(engine):
    from sim.scenario_io import load_scenario

    r = engine.run(load_scenario("restraint").model_copy(update={"days": 150}), 2, seed=1)
    assert r.ts["attacks"].sum() > 0
    assert r.ts["us_strikes"].sum() == 0 and r.ts["targets_struck"].sum() == 0


def test_proportionate_strike_follows_injuries_by_its_delay(engine):
    s = _quiet(days=20)
    s.drivers.host_pressure[0].value = 0.0
    tr, pp = s.us.doctrine.triggers, s.us.doctrine.proportionate
    tr.respond_probability = 1.0
    s.shocks = [_shock(s, 4, kind="attack", group="kss", base="erbil", weapon="rocket", injured=3, killed=0)]
    s = _valid(s)
    r = engine.run(s, 3, seed=2)
    orders = r.ev[(r.ev["kind"] == "order") & (r.ev["target"] == "proportionate")]
    pressure = rules.domestic_added(3, 0, s.us.domestic_per_injured, 0.0) + compile_scenario(s).outside[4]
    nfac = int(rules.proportionate_facilities(rules.casualty_score(3, 0), pressure, pp.facilities_base,
                                              pp.facilities_per_casualty, pp.max_facilities, s.us.size_gain))
    assert len(orders) == 3 and (orders["facilities"] == nfac).all() and (orders["due_day"] == 4 + pp.delay_days).all()
    strikes = r.ev[r.ev["kind"] == "proportionate"]
    assert (strikes["day"] == 4 + pp.delay_days).all() and len(strikes) == 3
    assert (strikes["aimpoints"] == nfac * pp.targets_per_facility).all()


def test_launches_never_exceed_the_weapons_held(engine):
    s = Scenario(days=60)
    for g in s.militia.groups:
        g.base_rate, g.stock.uav, g.stock.rocket, g.stock.missile = 5.0, 0.0, 2.0, 0.0
    s.iran.resupply_rate = 0.0
    r = engine.run(_valid(s), 2, seed=4)
    per_run = r.ts.groupby("replicate")["attacks"].sum()
    assert (per_run == 2 * len(s.militia.groups)).all()  # every rocket fired, and nothing more
    assert r.ev[r.ev["kind"] == "attack"]["weapon"].eq("rocket").all()


def test_revenge_from_a_strike_decays_with_its_half_life(engine):
    s = _quiet(days=30)
    s.shocks = [_shock(s, 1, kind="strike", targets=10, scope="militia", group="kh")]
    s = _valid(s)
    r = engine.run(s, 2, seed=6)
    at = s.militia.attack
    strikes = r.ev[r.ev["kind"] == "scripted"].set_index("replicate")
    ret = rules.decay_factor(at.revenge_half_life_days)
    for rep, st_ in enumerate(np.concatenate([x.revenge for x in r.states])):
        added = rules.revenge_added(10, strikes.loc[rep, "militants_killed"], at.revenge_per_target,
                                    at.revenge_per_militant)
        assert strikes.loc[rep, "aimpoints"] == 10 and strikes.loc[rep, "target"] == "kh"
        np.testing.assert_allclose(st_[0], added * ret ** (s.days - 1))
        assert (st_[1:] == 0).all()


# --------------------------------------------------------------------------- regression tests of model fixes


def test_fix_attack_count_trigger_sees_todays_attacks(engine):
    """Fix 'attack window counts today': with a 1-day window every attack day, and only those, orders a strike."""
    s = Scenario(days=40)
    tr = s.us.doctrine.triggers
    tr.on_injury, tr.on_fatality, tr.attack_count, tr.window_days, tr.respond_probability = False, False, 1, 1, 1.0
    tr.host_pressure_weight = 0.0  # approval stays certain
    s.us.doctrine.proportionate.cooldown_days = 0
    r = engine.run(_valid(s), 2, seed=5)
    for rep, ev in r.ev.groupby("replicate"):
        attack_days = set(ev[ev["kind"] == "attack"]["day"])
        order_days = set(ev[ev["kind"] == "order"]["day"])
        assert attack_days and order_days == attack_days


def test_fix_two_strikes_inside_iran_on_one_day_are_one_exchange(engine):
    """Fix 'one exchange per strike day inside Iran': two strikes on one day do not make a regional war."""
    s = _quiet(days=10)
    strike = dict(kind="strike", targets=4, scope="inside_iran")
    s.shocks = [_shock(s, 2, **strike), _shock(s, 2, **strike)]
    s.ladder.regional_war_exchanges = 2
    s.iran.direct_propensity = 0.0  # no Iranian answer: the strikes are the only exchanges
    r = engine.run(_valid(s), 2, seed=0)
    assert (r.ts["max_rung"].max() == 7)  # sponsor territory, not regional war
    assert all((st_.exch_in_memory == 1).all() for st_ in r.states)


def test_fix_strikes_inside_iran_on_two_days_are_two_exchanges(engine):
    s = _quiet(days=10)
    s.shocks = [_shock(s, 2, kind="strike", targets=4, scope="inside_iran"),
                _shock(s, 3, kind="strike", targets=4, scope="inside_iran")]
    s.ladder.regional_war_exchanges = 2
    s.iran.direct_propensity = 0.0
    r = engine.run(_valid(s), 2, seed=0)
    assert (r.ts[r.ts["day"] == 3]["rung"] == 9).all()


def test_fix_scripted_direct_attack_without_casualties_fires_a_salvo(engine):
    """Fix 'scripted direct attacks fire a salvo': without forced casualties the salvo is drawn."""
    s = _quiet(days=5)
    s.shocks = [_shock(s, 1, kind="iran_direct", base="erbil")]
    r = engine.run(_valid(s), 3, seed=0)
    direct = r.ev[(r.ev["kind"] == "direct_attack") & (r.ev["day"] == 1)]
    assert len(direct) == 3 and direct["target"].eq("erbil").all() and direct["weapon"].eq("missile").all()
    salvo = s.iran.direct_salvo
    assert (direct["launches"] > salvo // 2).all() and (direct["launches"] <= salvo).all()
    assert (direct["intercepted"] <= direct["launches"]).all()
    assert (r.ts[r.ts["day"] == 1]["iran_direct_attacks"] == 1).all() and (r.ts["max_rung"].max() >= 8)


def test_fix_scripted_direct_attack_with_casualties_forces_them(engine):
    s = _quiet(days=5)
    s.shocks = [_shock(s, 1, kind="iran_direct", base="erbil", injured=3, killed=1)]
    r = engine.run(_valid(s), 2, seed=0)
    day1 = r.ts[r.ts["day"] == 1]
    assert (day1["us_injured"] == 3).all() and (day1["us_killed"] == 1).all()


def test_fix_kind_weights_give_each_owner_its_share(engine):
    """Fix 'kind weights per owner': a preemptive strike on storage only hits storage, spread over owners."""
    s = _quiet(days=3)
    pe = s.us.doctrine.preemption
    pe.enabled, pe.start_day, pe.targets, pe.targets_per_facility = True, 1, 8, 1
    pe.kind_weights = pe.kind_weights.model_copy(update={"command_control": 0.0, "intelligence": 0.0,
                                                         "logistics": 0.0, "rocket_missile_storage": 0.0})
    s = _valid(s)
    r = engine.run(s, 2, seed=1)
    c = compile_scenario(s)
    for last_struck in np.concatenate([st_.fac_last_struck for st_ in r.states]):
        hit = np.flatnonzero(last_struck == 1)
        assert hit.size == 8 and (c.fac_kind[hit] == 3).all()


def test_fix_no_strikes_inside_iran_unless_in_scope(engine):
    s = Scenario(days=150)
    s.us.doctrine.direct_response.target = "irgc_facilities"
    r = engine.run(_valid(s), 2, seed=3)
    assert r.ts["targets_in_iran"].sum() == 0
    assert not r.ev[r.ev["kind"].isin(["proportionate", "campaign"])]["target"].str.contains("iran_homeland").any()


# --------------------------------------------------------------------------- invariants


def _scenario_strategy():
    return st.fixed_dictionaries({
        "rate": st.floats(0.0, 3.0),
        "respond": st.floats(0.0, 1.0),
        "inside_iran": st.booleans(),
        "preempt": st.booleans(),
        "direct_target": st.sampled_from(["none", "irgc_facilities", "inside_iran"]),
        "p_destroy": st.floats(0.0, 1.0),
        "rebuild": st.floats(0.0, 0.2),
        "red_line": st.integers(1, 20),
        "seed": st.integers(0, 2**31 - 1),
    })


def _scenario(p: dict) -> Scenario:
    s = Scenario(days=90)
    for g in s.militia.groups:
        g.base_rate = g.base_rate * p["rate"]
    d = s.us.doctrine
    d.triggers.respond_probability = p["respond"]
    d.scope.inside_iran = p["inside_iran"]
    d.preemption.enabled = p["preempt"]
    d.direct_response.target = p["direct_target"]
    d.precision.p_destroy = p["p_destroy"]
    s.iran.rebuild_rate = p["rebuild"]
    s.iran.red_line_irgc_killed = p["red_line"]
    return _valid(s)


@pytest.mark.parametrize("kind", ["mesa", "ensemble"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(p=_scenario_strategy())
def test_invariants(kind, p):
    engine = MesaEngine() if kind == "mesa" else Ensemble()
    s = _scenario(p)
    r = engine.run(s, 2, seed=p["seed"] % 1000)
    c = compile_scenario(s)
    for st_ in r.states:
        assert (st_.stock >= 0).all()  # never negative stocks
        assert (st_.intact >= -1e-9).all() and (st_.intact <= c.fac_total + 1e-9).all()
        assert ((st_.health >= -1e-9) & (st_.health <= 1 + 1e-9)).all()
    df = r.ts
    counts = ["attacks", "cumulative_attacks", "us_injured", "us_killed", "us_strikes", "targets_struck",
              "munitions", "militants_killed", "irgc_killed", "civilian_harm", "targets_in_iran"]
    assert (df[counts] >= 0).all().all()
    g = df.groupby("replicate")
    assert (g["max_rung"].diff().dropna() >= 0).all()  # max_rung never falls
    assert (df["rung"] <= df["max_rung"]).all()
    assert (g["attacks"].cumsum() == df["cumulative_attacks"]).all()
    assert (df["munitions"] >= df["targets_struck"]).all()
    assert df["militia_capacity"].between(0, 1 + 1e-9).all()
    assert (df["intercepted"] <= df["attacks"]).all()
    if not s.allows_strikes_in_iran():
        assert df["targets_in_iran"].sum() == 0  # nothing struck inside Iran unless allowed
    strikes = r.ev[r.ev["outcome"] == "struck"]
    assert strikes.groupby(["replicate", "day"])["aimpoints"].sum().reindex(
        pd.MultiIndex.from_frame(df[df["targets_struck"] > 0][["replicate", "day"]])).eq(
        df[df["targets_struck"] > 0]["targets_struck"].to_numpy()).all()  # the log adds up to the table
    attacks = r.ev[r.ev["kind"].isin(["attack", "scripted_attack"])]
    assert attacks["launches"].sum() == df["attacks"].sum()


# --------------------------------------------------------------------------- tables and seeding


def test_tables_have_the_documented_columns(engine):
    r = engine.run(_valid(Scenario(days=30)), 2, seed=4)
    assert list(r.ts.columns) == ["replicate", "day", "date", *TIMESERIES_COLUMNS,
                                  *(f"capacity_{g.id}" for g in Scenario().militia.groups)]
    assert list(r.ev.columns) == ["replicate", "day", "date", *EVENT_COLUMNS[1:]]
    assert len(r.ts) == 60 and r.ts["date"].iloc[0] == pd.Timestamp("2023-10-17")
    assert {"attack", "rung"} <= set(r.ev["kind"])
    # compact event log (sim.dynamics.events): codes for text, narrow whole numbers, no Python object per event
    assert r.ev["launches"].dtype == np.int16 and r.ev["value"].dtype == float
    assert r.ev["replicate"].dtype == np.int32 and r.ev["day"].dtype == np.int16
    assert all(isinstance(r.ev[c].dtype, pd.CategoricalDtype) for c in EVENT_TEXT)


def test_both_engines_give_the_same_dtypes():
    s = _valid(Scenario(days=30))
    a, b = MesaEngine().run(s, 2, 5), Ensemble().run(s, 2, 5)
    # text columns are categoricals of the texts each run met: their kind (not their categories) must agree
    assert a.ts.dtypes.equals(b.ts.dtypes) and a.ev.dtypes.astype(str).equals(b.ev.dtypes.astype(str))


def test_same_seed_same_tables_different_seed_different(engine):
    s = _valid(Scenario(days=60))
    a, b, c = engine.run(s, 2, 11), engine.run(s, 2, 11), engine.run(s, 2, 12)
    pd.testing.assert_frame_equal(a.ts, b.ts)
    pd.testing.assert_frame_equal(a.ev, b.ev)
    assert not a.ts.equals(c.ts)
