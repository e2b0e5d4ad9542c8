"""Plausible ranges in the schema and their export as SALib problems, sweep defaults and the params table."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from SALib.sample import latin

from sim.errors import InputError
from sim.problem import factors, parameters, salib_problem, values_of
from sim.schema import Scenario, iter_parameters


def _inside_bounds(info, x):
    return ((info.ge is None or x >= info.ge) and (info.gt is None or x > info.gt)
            and (info.le is None or x <= info.le) and (info.lt is None or x < info.lt))


def test_every_lever_and_uncertainty_has_a_plausible_range_and_a_reason():
    for info, value in iter_parameters(Scenario()):
        if info.role == "setting":
            assert info.plausible is None and info.plausible_values is None, info.path
            continue
        assert info.why, f"{info.path} gives no source or reasoning for its plausible range"
        if info.type in ("float", "int"):
            lo, hi = info.plausible
            assert lo < hi and _inside_bounds(info, lo) and _inside_bounds(info, hi), info.path
            assert lo <= value <= hi, f"{info.path}: default {value} outside its plausible range"
        elif info.type == "bool" or info.choices:
            assert value in info.plausible_values, info.path


def test_relative_ranges_scale_each_groups_own_default():
    got = {p.path: p.plausible for p in parameters(["militia.groups.kh.base_rate", "militia.groups.kss.base_rate",
                                                    "militia.groups.kh.stock.missile"])}
    assert got["militia.groups.kh.base_rate"] == (0.15, 0.6)      # kh default 0.3, x0.5 .. x2
    assert got["militia.groups.kss.base_rate"] == (0.06, 0.24)    # kss default 0.12
    assert got["militia.groups.kh.stock.missile"] == (5.0, 20.0)


def test_role_selection_leaves_out_what_cannot_be_sampled():
    levers = parameters("lever")
    uncertainties = parameters("uncertainty")
    assert levers and all(p.role == "lever" for p in levers)
    assert all(p.role == "uncertainty" for p in uncertainties)
    paths = {p.path for p in uncertainties}
    assert "drivers.regional_tension" in paths and not any(p.endswith(".reach") for p in paths)
    assert "shocks" not in paths


def test_bad_selection_is_an_input_error():
    with pytest.raises(InputError, match="did you mean 'iran.direct_propensity'"):
        parameters(["iran.direct_propensty"])
    with pytest.raises(InputError, match="no plausible range"):
        parameters(["militia.groups.kh.reach"])
    with pytest.raises(InputError, match="unknown role"):
        parameters("levers")


def test_salib_problem_samples_inside_the_plausible_ranges_and_maps_choices():
    problem = salib_problem(["iran.red_line_irgc_killed", "us.doctrine.direct_response.target",
                             "us.doctrine.scope.inside_iran"])
    assert problem["num_vars"] == 3
    assert problem["bounds"][0] == [3.0, 30.0]
    rows = values_of(problem, latin.sample(problem, 60, seed=3))
    assert all(3 <= r["iran.red_line_irgc_killed"] <= 30 and isinstance(r["iran.red_line_irgc_killed"], int)
               for r in rows)
    assert {r["us.doctrine.direct_response.target"] for r in rows} == {"none", "irgc_facilities", "inside_iran"}
    assert {r["us.doctrine.scope.inside_iran"] for r in rows} == {False, True}


def test_factors_match_the_plausible_range():
    (f,) = factors(["us.doctrine.campaign.first_wave_targets"])
    assert (f.kind, f.lo, f.hi) == ("int", 20, 160)
    assert f.from_unit(np.array([0.0, 1.0])) == [20, 160]


def test_sweep_parameter_without_range_uses_the_plausible_range(tmp_path):
    from sim.sweep.spec import load_spec

    spec = tmp_path / "s.yaml"
    spec.write_text("scenario: baseline\nparameters:\n  - {path: iran.direct_propensity, role: uncertainty}\n"
                    "  - {path: us.doctrine.scope.inside_iran, role: lever}\n"
                    "design: {kind: lhs, points: 4}\nreplicates: 1\n", encoding="utf-8")
    rs = load_spec(spec)
    f, g = rs.factors
    assert (f.lo, f.hi) == (0.01, 0.2)
    assert g.values == (False, True)


def test_params_command_shows_plausible_range_and_its_source():
    out = subprocess.run([sys.executable, "-m", "sim", "params", "--format", "csv", "--match",
                          "us.doctrine.campaign.first_wave_targets"], capture_output=True, text=True, check=True)
    header, row = out.stdout.strip().splitlines()
    assert "plausible" in header.split(",") and "why" in header.split(",")
    assert '"[20, 160]"' in row and "seed 000" in row
