"""Mesa-specific tests: a real Mesa model whose agents hold their slices of the state, Mesa conventions,
per-replicate seeding.  What every engine must do is in tests/test_contract.py."""

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


def test_batch_run_runs_the_model():
    results = mesa.batch_run(EscalationModel, parameters={"scenario": ["baseline"], "days": [5]}, iterations=2,
                             max_steps=10, number_processes=1, data_collection_period=1, display_progress=False)
    assert results and {"attacks", "rung", "RunId", "Step"} <= set(results[0])
    assert max(r["Step"] for r in results) >= 4


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


def test_agents_are_views_of_the_state_and_act_on_their_slice():
    s = Scenario(days=30)
    m = EscalationModel(s, rng=3)
    for _ in range(20):
        m.step()
    st = m.state
    for g in m.groups:
        assert g.stock is not None and np.array_equal(g.stock, st.stock[0, g.index])
        assert g.revenge == st.revenge[0, g.index] and g.capacity == m.state.reported_capacity()[0, g.index]
    assert m.iran.restraint == st.restraint[0] and m.us.credibility == st.credibility[0]
    f = m.facilities[0]
    assert f.intact == st.intact[0, 0]
    st.intact[0, 0] = 0.0
    assert f.state == "destroyed"  # the facility reads its slice of the state, not a copy
    b = max(m.bases, key=lambda b: b.attacks)
    assert b.attacks > 0 and b.last_attacked_day >= 0


def test_groups_step_in_random_order_through_shuffle_do(monkeypatch):
    """Each day the militia groups are activated once each, in an order drawn from the model's generator."""
    orders = []
    original = MilitiaGroup.step

    def spy(self):
        orders.append((self.model.day, self.index))
        original(self)

    monkeypatch.setattr(MilitiaGroup, "step", spy)
    m = EscalationModel(Scenario(days=30), rng=1).run()
    by_day = {}
    for day, g in orders:
        by_day.setdefault(day, []).append(g)
    n = len(m.groups)
    assert all(sorted(v) == list(range(n)) for v in by_day.values())
    assert len({tuple(v) for v in by_day.values()}) > 1  # the order changes from day to day
