"""The Python API (``import sim``): every public name works as its docstring example says."""

from __future__ import annotations

import doctest
import importlib
import inspect

import numpy as np
import pandas as pd
import pytest

import sim

DOCTESTED = ["sim.api", "sim.problem", "sim.differences", "sim.discovery", "sim.commands._common",
             "sim.commands.compare", "sim.stats"]


@pytest.mark.parametrize("module", DOCTESTED)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_name_is_documented_with_an_example():
    for name in sim.__all__:
        obj = getattr(sim, name)
        if name == "__version__":
            continue
        doc = inspect.getdoc(obj) or ""
        assert doc, f"sim.{name} has no docstring"
        if inspect.isfunction(obj) and name not in ("run_replicates", "load_scenario"):
            assert ">>>" in doc or "Example" in doc, f"sim.{name} has no example"


@pytest.mark.parametrize("engine", ["ensemble", "mesa"])
def test_run_on_either_engine_gives_tidy_tables(engine):
    r = sim.run("baseline", replicates=2, days=20, seed=4, engine=engine)
    assert r.engine == engine
    assert list(r.timeseries.columns[:3]) == ["replicate", "day", "date"]
    assert len(r.timeseries) == 2 * 20 and set(r.timeseries["replicate"]) == {0, 1}
    assert {"replicate", "day", "date"} <= set(r.events.columns)
    assert len(r.outcomes) == 2 and "reached_direct_exchange" in r.outcomes
    assert r.summary()["outcomes"]["cumulative_attacks"]["p50"] >= 0


def test_same_seed_same_tables_and_changes_apply():
    a = sim.run("baseline", replicates=3, days=30, seed=9)
    b = sim.run("baseline", replicates=3, days=30, seed=9)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    quiet = sim.run(sim.change("baseline", {"us.doctrine.triggers.on_injury": False,
                                            "us.doctrine.campaign.enabled": False,
                                            "us.doctrine.triggers.on_fatality": False}),
                    replicates=3, days=30, seed=9)
    assert quiet.name.startswith("baseline+on_injury=false")
    assert quiet.timeseries["us_strikes"].sum() == 0 < a.timeseries["us_strikes"].sum()


def test_parameters_table_and_bad_input():
    p = sim.parameters(role="uncertainty")
    assert (p["role"] == "uncertainty").all() and {"plausible", "why", "bounds"} <= set(p.columns)
    with pytest.raises(sim.errors.ScenarioError):
        sim.change("baseline", {"us.doctrine.proportionate.delai_days": 3})


def test_compare_pairs_replicates_and_plot_overlays():
    c = sim.compare(["baseline", sim.change("baseline", {"iran.direct_salvo": 12})], replicates=6, days=30)
    assert list(c.runs) == ["baseline", "baseline+direct_salvo=12"]
    same = c.differences[c.differences["scenario"] == "baseline+direct_salvo=12"]
    # 12 is the default: same runs (outcomes after a major campaign are NaN in 30 days: no difference to take)
    assert np.allclose(same["difference"].dropna(), 0) and same["covers_zero"].all()
    assert same["difference"].notna().sum() >= 10
    assert "baseline+direct_salvo=12 - baseline" in c.table()
    fig = sim.plot(c, "escalation_fan")
    labels = [t.get_text() for ax in fig.axes for t in (ax.get_legend().get_texts() if ax.get_legend() else [])]
    assert any("direct_salvo" in t for t in labels)
