"""Calibration recovers a parameter of the issue-11 mechanisms from synthetic data (recovery test).

Data are simulated at a known rising-tempo coefficient (``militia.attack.tempo_per_militant_killed``);
ABC-SMC, run as ``escalation calibrate`` runs it, must give a 95% interval that contains it and is
narrower than the prior.  Marked slow (about a minute on two free cores)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.calibration.abc import abc_smc, weighted_quantile
from sim.calibration.params import FreeParameter
from sim.calibration.simulate import Simulator
from sim.calibration.targets import Design, Provocation
from sim.scenario_io import load_scenario
from sim.schema import Scenario
from sim.seeds import CalibrationTarget


@pytest.mark.slow
def test_abc_recovers_the_rising_tempo_coefficient():
    # a scripted fatal attack on 1 Nov brings a campaign whose militant dead build tension; attacks after it
    # (1 Nov - 31 Dec) tell how strongly; nothing else random is fatal, stand-downs are off
    base = load_scenario(Scenario(), [*(f"militia.weapons.{w}.p_fatal=0" for w in ("uav", "rocket", "missile")),
                                      "standdown.enabled=false", "us.doctrine.precision.militants_per_target=1.0",
                                      "militia.attack.deterrence_weight=0"])
    fatal = Provocation("fatal", dt.date(2023, 11, 1), "kh", "tower_22", "uav", injured=30, killed=3, source="test")
    free = (FreeParameter("militia.attack.tempo_per_militant_killed", 0.0, 0.04, "tempo per militant killed"),)
    truth = np.array([0.015])
    shape = [CalibrationTarget(id="after", statistic="cumulative_attacks", value=1.0, bound="exact",
                               sources=("synthetic",), start=dt.date(2023, 11, 1), end=dt.date(2023, 12, 31))]
    probe = Simulator(base, Design(shape, base.start_date, provocations=(fatal,)), free)
    observed = probe.stats(np.repeat(truth[None, :], 50, axis=0), seed=2024)[:, 0]  # 50 histories: their mean
    targets = [shape[0].model_copy(update={"value": float(np.round(observed.mean()))})]
    design = Design(targets, base.start_date, provocations=(fatal,))
    sim = Simulator(base, design, free)

    def simulate(theta, first):
        st = sim.stats(theta, 77, first)
        return design.distance(st), st

    res = abc_smc(simulate, np.array([0.0]), np.array([0.04]), n_particles=200, eps_min=0.03, budget=15_000, seed=1)
    g = res.final
    q_lo, q_hi = weighted_quantile(g.theta[:, 0], g.weights, [0.025, 0.975])
    assert q_lo <= truth[0] <= q_hi, (q_lo, q_hi)
    assert q_hi - q_lo < 0.6 * 0.04, (q_lo, q_hi)  # the data narrowed the prior
