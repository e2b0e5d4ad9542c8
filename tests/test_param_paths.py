"""The one parameter-path resolver (sim/param_paths.py): --set, sweep factors and calibration parameters
name the same places the same way, with the same messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calibration.params import apply_values, expand_path as calibration_expand
from sim.errors import ScenarioError
from sim.param_paths import PathError, expand_path, get_value, locate, parse_path, set_value
from sim.scenario_io import apply_overrides, load_scenario
from sim.schema import Scenario, iter_parameters
from sim.sweep.spec import Factor, point_data

SCALARS = [(info.path, value, info) for info, value in iter_parameters(Scenario())
           if isinstance(value, (int, float)) and not isinstance(value, bool)]


def test_parse_path_reads_dots_indexes_and_ids():
    assert parse_path("militia.groups[0].alignment") == ["militia", "groups", 0, "alignment"]
    assert parse_path("militia.groups.0.alignment") == ["militia", "groups", 0, "alignment"]
    assert parse_path("militia.groups.kh.stock.uav") == ["militia", "groups", "kh", "stock", "uav"]
    for bad in ("a..b", "a[x]", "a[1", ".a"):
        with pytest.raises(ValueError):
            parse_path(bad)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SCALARS))
def test_a_path_names_the_same_place_in_a_scenario_and_in_its_data(item):
    path, value, info = item
    s = Scenario()
    data = s.model_dump(mode="json")
    assert get_value(s, path) == value == get_value(data, path, Scenario)
    lo = info.ge if info.ge is not None else value
    new = type(value)(lo + 1)  # inside the bounds: every upper bound is at least the lower bound + 1
    new = min(new, info.le) if info.le is not None else new
    set_value(data, path, new, Scenario)
    set_value(s, path, new)
    assert get_value(data, path, Scenario) == new == get_value(s, path)
    assert s.model_dump(mode="json") == data  # the same place was changed, and nothing else


def test_set_sweep_factor_and_calibration_reach_the_same_group_field():
    base = Scenario()
    by_set = load_scenario(base, ["militia.groups.nujaba.motivation=2.5"])
    by_index = load_scenario(base, ["militia.groups[1].motivation=2.5"])
    factor = Factor(path="militia.groups.nujaba.motivation", role="uncertainty", kind="float", lo=0.0, hi=5.0)
    by_sweep = Scenario.model_validate(point_data(base.model_dump(mode="json"), [factor], [2.5]))
    by_calibration = apply_values(base, {"militia.groups.nujaba.motivation": 2.5})
    for s in (by_set, by_index, by_sweep, by_calibration):
        assert [g.motivation for g in s.militia.groups] == [1.0, 2.5, 1.0, 1.0]


def test_star_stands_for_every_id():
    s = Scenario()
    ids = [g.id for g in s.militia.groups]
    assert expand_path("militia.groups.*.motivation", s) == [f"militia.groups.{i}.motivation" for i in ids]
    assert calibration_expand("militia.groups.*.motivation", s) == expand_path("militia.groups.*.motivation", s)
    with pytest.raises(PathError, match="'\\*' must stand for"):
        expand_path("militia.attack.*", s)


def test_every_user_of_paths_gives_the_same_message():
    with pytest.raises(PathError) as direct:
        locate(Scenario(), "militia.groups.nujabaa.motivation")
    assert "militia.groups has no item 'nujabaa'; did you mean 'nujaba'?" == direct.value.message
    with pytest.raises(ScenarioError) as by_set:
        apply_overrides(Scenario().model_dump(mode="json"), ["militia.groups.nujabaa.motivation=1"])
    assert by_set.value.problems[0].message == direct.value.message
    with pytest.raises(ValueError) as by_calibration:
        apply_values(Scenario(), {"militia.groups.nujabaa.motivation": 1.0})
    assert str(by_calibration.value) == direct.value.message
