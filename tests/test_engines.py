"""The runner interface (sim.engines): engine choice, prepare_scenario, both runners behind one protocol."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.columns import EVENT_COLUMNS, TIMESERIES_COLUMNS
from sim.engines import ENGINE_CHOICES, ENGINES, get_engine, prepare_scenario, prepare_with_source
from sim.errors import InputError, ScenarioError
from sim.outcomes import horizon_table
from sim.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent


def test_engine_choice():
    assert ENGINE_CHOICES == ("auto", "ensemble", "mesa")
    assert get_engine("auto", 2).name == "ensemble" and get_engine("auto", 1).name == "mesa"
    assert get_engine("mesa", 100).name == "mesa" and get_engine("ensemble", 1).name == "ensemble"
    with pytest.raises(InputError, match="unknown engine 'fast'"):
        get_engine("fast")


def test_prepare_scenario_applies_overrides_then_days_and_validates():
    s, source = prepare_with_source("baseline", 30, ["us.doctrine.proportionate.delay_days=3"])
    assert source is not None and source.name == "baseline.yaml"
    assert s.days == 30 and s.us.doctrine.proportionate.delay_days == 3
    plain = Scenario(days=20)
    assert prepare_scenario(plain) is plain  # nothing to change: the same object
    assert prepare_scenario(plain, days=20) is plain
    with pytest.raises(InputError) as err:
        prepare_scenario("baseline", days=0)
    assert "--days" in str(err.value) and ">= 1" in str(err.value)
    with pytest.raises(ScenarioError, match="delay_dayz"):
        prepare_scenario("baseline", overrides=["us.doctrine.proportionate.delay_dayz=3"])


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_each_runner_gives_the_documented_tables_and_its_outcomes_are_those_of_its_table(name):
    runner = ENGINES[name]
    s = Scenario(days=30)
    ts, ev = runner.run(s, 2, seed=3, first_replicate=4)
    assert list(ts.columns[:3]) == ["replicate", "day", "date"] and set(TIMESERIES_COLUMNS) <= set(ts.columns)
    assert sorted(ts["replicate"].unique()) == [4, 5] and len(ts) == 2 * 30
    assert ev is not None and set(EVENT_COLUMNS) <= set(ev.columns)
    assert runner.run(s, 2, seed=3, first_replicate=4, events=False)[1] is None
    pd.testing.assert_frame_equal(runner.outcomes(s, 2, seed=3, first_replicate=4), horizon_table(ts))


def test_runners_take_a_scenario_by_name_or_mapping_like_the_model():
    a, _ = ENGINES["ensemble"].run("restraint", 3, seed=1, events=False)
    b, _ = ENGINES["ensemble"].run(prepare_scenario("restraint"), 3, seed=1, events=False)
    pd.testing.assert_frame_equal(a, b)


def test_data_layer_and_result_code_do_not_import_mesa():
    modules = ["sim.columns", "sim.outcomes", "sim.engines", "sim.summary", "sim.results", "sim.ensemble",
               "sim.sweep.outcomes", "sim.sweep.spec", "sim.sweep.analyze", "sim.sweep.work"]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('mesa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_engines_are_dispatched_in_one_place():
    """Only sim/engines.py calls the engines' entry points; no import fallbacks choose an engine."""
    homes = {"run_ensemble": {"engines.py", "ensemble.py"}, "outcomes_at_horizon": {"engines.py", "ensemble.py"},
             "run_replicates": {"engines.py", "runner.py"}}
    offenders = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for name, allowed in homes.items():
            if path.name not in allowed and re.search(rf"\b{name}\(", text):
                offenders.append(f"{path.relative_to(ROOT)} calls {name}")
        if re.search(r"import_module\(\"sim\.(ensemble|runner)\"", text):
            offenders.append(f"{path.relative_to(ROOT)} (import fallback)")
    assert not offenders, f"engine dispatch outside sim/engines.py: {offenders}"
