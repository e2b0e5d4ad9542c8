"""Model-level tests: invariants (hypothesis), reproducibility, scenarios, Mesa conventions."""

from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import EscalationModel, run_replicates
from sim.agents import Facility, MilitiaGroup, USBase
from sim.runner import replicate_seeds
from sim.schema import Scenario, Shock

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
REQUIRED_COLUMNS = ["replicate", "day", "date", "attacks", "cumulative_attacks", "us_injured", "us_killed",
                    "us_strikes", "targets_struck", "munitions", "militants_killed", "militia_capacity",
                    "iran_restraint", "rung", "max_rung"]
EVENT_COLUMNS = ["replicate", "day", "date", "actor", "kind", "target", "outcome", "detail"]


def test_model_is_a_mesa_model_with_typed_agents():
    m = EscalationModel(Scenario(days=5), rng=1)
    assert isinstance(m, mesa.Model)
    assert len(m.agents.select(agent_type=MilitiaGroup)) >= 3
    bases = m.agents.select(agent_type=USBase)
    assert {b.lon > 0 for b in bases} == {True}
    assert {b.name for b in bases} >= {"Erbil Air Base", "Tower 22"}
    kinds = {f.kind for f in m.agents.select(agent_type=Facility)}
    assert kinds == {"command_control", "intelligence", "rocket_missile_storage", "uav_storage", "logistics"}
    owners = {f.owner for f in m.agents.select(agent_type=Facility)}
    assert {"irgc_abroad", "iran_homeland"} <= owners


def test_tables_have_documented_columns():
    ts, ev = run_replicates(Scenario(days=60), replicates=2, seed=4)
    assert list(ts.columns[:3]) == ["replicate", "day", "date"]
    assert set(REQUIRED_COLUMNS) <= set(ts.columns)
    assert list(ev.columns) == EVENT_COLUMNS
    assert len(ts) == 2 * 60
    assert ts.date.iloc[0] == pd.Timestamp("2023-10-17")
    assert {"attack", "rung"} <= set(ev.kind)


def test_same_seed_same_tables_different_seed_different():
    a = run_replicates(Scenario(days=90), replicates=2, seed=11)
    b = run_replicates(Scenario(days=90), replicates=2, seed=11)
    c = run_replicates(Scenario(days=90), replicates=2, seed=12)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[0].equals(c[0])


def test_replicate_stream_does_not_depend_on_batch():
    alone = run_replicates(Scenario(days=40), replicates=1, seed=3, first_replicate=1)[0]
    batch = run_replicates(Scenario(days=40), replicates=2, seed=3)[0]
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  batch[batch.replicate == 1].reset_index(drop=True))
    seeds = replicate_seeds(3, 2)
    assert seeds[0].generate_state(2).tolist() != seeds[1].generate_state(2).tolist()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_runs_a_year(path):
    ts, ev = run_replicates(path, replicates=1, seed=0)
    assert ts.day.max() == 364
    assert (ts.max_rung.diff().dropna() >= 0).all()


def test_baseline_behaves_like_the_seeds_in_broad_terms():
    """Order of 100 attacks in ten weeks; strikes follow casualties; campaigns follow deaths."""
    ts, ev = run_replicates("baseline", replicates=12, seed=2024)
    by_day70 = ts[ts.day == 70].cumulative_attacks
    assert 60 <= by_day70.median() <= 250
    # a proportionate strike follows a casualty day in most runs, a campaign follows a fatal day
    strikes = ev[ev.kind == "proportionate"]
    assert strikes.replicate.nunique() >= 10
    first_wave = ev[ev.kind == "campaign"].groupby(["replicate", "day"]).size()
    fatal_runs = ts[ts.us_killed > 0].replicate.unique()
    assert len(first_wave) > 0 and len(fatal_runs) > 0
    camp_targets = ts[ts.targets_struck > 0].groupby("replicate").targets_struck.max()
    assert camp_targets.loc[camp_targets.index.isin(fatal_runs)].median() > 60
    assert ev[(ev.kind == "campaign")].target.str.startswith("iran_homeland").sum() == 0


def test_scripted_shocks_force_events():
    s = Scenario(days=20, shocks=[Shock(date="2023-10-20", kind="attack", group="kh", base="tower_22", killed=3, injured=40),
                                  Shock(date="2023-10-18", kind="strike", targets=10, scope="inside_iran")])
    m = EscalationModel(s, rng=0).run()
    df = m.datacollector.get_model_vars_dataframe()
    assert df.us_killed.iloc[3] >= 3 and df.us_injured.iloc[3] >= 40
    assert df.targets_in_iran.iloc[1] == 10
    assert df.max_rung.iloc[1] >= 7  # sponsor territory struck
    assert m.iran.territory_struck
    # the scripted fatal attack orders a campaign, delivered after the doctrine's delay
    delay = s.us.doctrine.campaign.delay_days
    assert any(e[2] == "campaign" and e[0] == 3 + delay for e in m.events)


def test_restraint_scenario_never_strikes():
    ts, ev = run_replicates("restraint", replicates=3, seed=1, days=200)
    assert ts.us_strikes.sum() == 0
    assert ts.targets_struck.sum() == 0


def test_batch_run_runs_the_model():
    results = mesa.batch_run(EscalationModel, parameters={"scenario": ["baseline"], "days": [5]}, iterations=2,
                             max_steps=10, number_processes=1, data_collection_period=1, display_progress=False)
    assert results and {"attacks", "rung", "RunId", "Step"} <= set(results[0])
    assert max(r["Step"] for r in results) >= 4


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenario_strategy())
def test_model_invariants(p):
    overrides = {"days": 120}
    s = Scenario(**overrides)
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
    s = Scenario.model_validate(s.model_dump())
    m = EscalationModel(s, rng=p["seed"])
    max_rungs = []
    while m.running:
        m.step()
        assert all((g.stock >= 0).all() for g in m.groups)  # capacities never negative
        assert all(0 <= g.capacity <= 1.0 + 1e-9 for g in m.groups)
        assert (m.intact >= -1e-9).all() and (m.intact <= m.c.fac_total + 1e-9).all()  # never more destroyed than exist
        max_rungs.append(m.max_rung)
    df = m.datacollector.get_model_vars_dataframe()
    counts = ["attacks", "cumulative_attacks", "us_injured", "us_killed", "us_strikes", "targets_struck",
              "munitions", "militants_killed", "irgc_killed", "civilian_harm", "targets_in_iran"]
    for col in counts:
        assert (df[col] >= 0).all(), col
        assert all(float(v).is_integer() for v in df[col]), col
    assert (np.diff(max_rungs) >= 0).all()  # max_rung never falls
    assert (df.rung <= df.max_rung).all()
    assert (df.munitions >= df.targets_struck).all()
    if not s.allows_strikes_in_iran():
        assert df.targets_in_iran.sum() == 0  # nothing struck inside Iran unless allowed
        assert not any(e[2] != "order" and e[3].startswith("iran_homeland") for e in m.events)


def test_attack_count_trigger_sees_todays_attacks():
    s = Scenario(days=40)
    tr = s.us.doctrine.triggers
    tr.on_injury, tr.on_fatality, tr.attack_count, tr.window_days, tr.respond_probability = False, False, 1, 1, 1.0
    tr.host_pressure_weight = 0.0  # approval stays certain
    s.us.doctrine.proportionate.cooldown_days = 0
    s = Scenario.model_validate(s.model_dump())
    m = EscalationModel(s, rng=5).run()
    attack_days = {e[0] for e in m.events if e[2] == "attack"}
    order_days = {e[0] for e in m.events if e[2] == "order"}
    assert attack_days and order_days == attack_days  # every day with an attack, and only those, orders a strike


def test_two_strikes_inside_iran_on_one_day_are_one_exchange():
    strike = dict(date="2023-10-19", kind="strike", targets=4, scope="inside_iran")
    s = Scenario(days=10, shocks=[Shock(**strike), Shock(**strike)])
    s.ladder.regional_war_exchanges = 2
    s.militia.groups = [g.model_copy(update={"base_rate": 0.0}) for g in s.militia.groups]
    s = Scenario.model_validate(s.model_dump())
    m = EscalationModel(s, rng=0).run()
    assert m.exchanges[2] == 1
    assert m.max_rung == 7  # sponsor territory, not regional war


def test_scripted_direct_attack_without_casualties_fires_a_salvo():
    s = Scenario(days=5, shocks=[Shock(date="2023-10-18", kind="iran_direct", base="erbil")])
    m = EscalationModel(s, rng=0).run()
    direct = [e for e in m.events if e[2] == "direct_attack"]
    assert len(direct) == 1 and "missiles=" in direct[0][5] and direct[0][3] == "erbil"


def test_kind_weights_give_each_owner_its_share():
    from sim.compiled import compile_scenario

    s = Scenario()
    c = compile_scenario(s)
    w = c.kind_weight_by_facility(s.us.doctrine.scope.kind_weights)
    per_owner = np.bincount(c.fac_owner, weights=w, minlength=c.n_owners)
    np.testing.assert_allclose(per_owner, 1.0)
    only_storage = s.us.doctrine.preemption.kind_weights.model_copy(
        update={"command_control": 0.0, "intelligence": 0.0, "logistics": 0.0, "rocket_missile_storage": 0.0})
    w = c.kind_weight_by_facility(only_storage)
    assert set(np.flatnonzero(w)) == set(np.flatnonzero(c.fac_kind == 3))
