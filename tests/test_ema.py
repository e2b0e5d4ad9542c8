"""The EMA Workbench connector: the model as an ema_workbench.Model, run by EMA's own machinery."""

from __future__ import annotations

import numpy as np
import pytest

ema = pytest.importorskip("ema_workbench", reason="the 'ema' extra (part of the 'test' extra) is not installed")

from sim.ema import ema_model  # noqa: E402
from sim.problem import ema_parameters  # noqa: E402


def test_parameters_carry_the_plausible_ranges():
    p, q, r = ema_parameters(["iran.red_line_irgc_killed", "us.doctrine.direct_response.target",
                              "drivers.outside_pressure"])
    assert isinstance(p, ema.IntegerParameter) and (p.lower_bound, p.upper_bound) == (3, 30)
    assert isinstance(q, ema.CategoricalParameter)
    assert {c.value for c in q.categories} == {"none", "irgc_facilities", "inside_iran"}
    assert isinstance(r, ema.RealParameter) and (r.lower_bound, r.upper_bound) == (0.0, 0.6)


def test_perform_experiments_on_20_scenarios():
    model = ema_model("baseline", uncertainties=["iran.direct_propensity", "drivers.regional_tension",
                                                 "militia.attack.deterrence_weight"],
                      levers=None, outcomes=["cumulative_attacks", "us_killed", "reached_major_campaign"],
                      replicates=4, days=45)
    experiments, outcomes = ema.perform_experiments(model, scenarios=20)
    assert len(experiments) == 20
    tension = experiments["drivers.regional_tension"].to_numpy(float)
    assert tension.min() >= 0.4 and tension.max() <= 1.0 and tension.std() > 0
    attacks = outcomes["cumulative_attacks"]
    assert attacks.shape == (20,) and np.all(attacks > 0)
    assert np.all((outcomes["reached_major_campaign"] >= 0) & (outcomes["reached_major_campaign"] <= 1))
    # regional tension drives militia attacks (mechanism 1): more tension, more attacks across the sample
    assert np.corrcoef(tension, attacks)[0, 1] > 0.3


def test_a_lever_set_by_ema_reaches_the_engine():
    model = ema_model("baseline", uncertainties=["iran.direct_propensity"],
                      levers=["us.doctrine.triggers.on_injury", "us.doctrine.campaign.enabled"],
                      outcomes=["us_strikes"], replicates=3, days=60)
    quiet = model.function(**{"iran.direct_propensity": 0.05, "us.doctrine.triggers.on_injury": False,
                              "us.doctrine.campaign.enabled": False})
    busy = model.function(**{"iran.direct_propensity": 0.05, "us.doctrine.triggers.on_injury": True,
                             "us.doctrine.campaign.enabled": True})
    assert busy["us_strikes"] > quiet["us_strikes"]
