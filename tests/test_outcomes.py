"""The outcome registry (sim.outcomes): known answers for each reduction, both engines, the summaries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.ensemble import outcomes_at_horizon, run_ensemble
from sim.outcomes import NAMES, OUTCOMES, QUANTILES, horizon_table, outcome, percentiles
from sim.runner import run_replicates
from sim.schema import Scenario
from sim.summary import comparison_table, format_comparison, summarize


def _table() -> pd.DataFrame:
    """Two replicates of three days, written by hand."""
    rows = []
    for rep, killed, cum, rung, cap in [
        (0, [0, 2, 1], [1, 3, 3], [0, 4, 2], [1.0, 0.8, 0.5]),
        (1, [0, 0, 0], [0, 0, 2], [0, 0, 1], [1.0, 1.0, 0.9]),
    ]:
        for d in range(3):
            row = {c: 0 for c in ("attacks", "us_injured", "us_strikes", "targets_struck", "munitions",
                                  "militants_killed", "irgc_killed", "civilian_harm", "targets_in_iran",
                                  "iran_direct_attacks", "standdowns", "groups_stood_down")}
            row.update(replicate=rep, day=d, date=dt.date(2024, 1, 1 + d), us_killed=killed[d],
                       cumulative_attacks=cum[d], rung=rung[d], max_rung=max(rung[: d + 1]),
                       militia_capacity=cap[d], us_injured=d)
            rows.append(row)
    return pd.DataFrame(rows)


def test_reductions_give_known_answers():
    h = horizon_table(_table()).set_index("replicate")
    assert h["us_killed"].tolist() == [3, 0]  # Total
    assert h["us_injured"].tolist() == [3, 3]
    assert h["cumulative_attacks"].tolist() == [3, 2]  # Last
    assert h["militia_capacity"].tolist() == [0.5, 0.9]
    assert h["max_rung"].tolist() == [4, 1]
    assert h.loc[0, "first_fatal_day"] == 1 and pd.isna(h.loc[1, "first_fatal_day"])  # FirstDay, never = missing
    assert h["reached_harassment"].tolist() == [True, True]  # AtLeast
    assert h["reached_fatal_attacks"].tolist() == [True, False]
    assert h["reached_major_campaign"].tolist() == [False, False]


def test_no_death_by_the_first_seed_figure_known_answer_and_window_from_the_seeds():
    from sim.outcomes import FIRST_FIGURE_DAYS, NoneWithin
    from sim.seeds import load_targets

    first = min(load_targets(), key=lambda t: t.end or t.date)  # the earliest seed figure (100+ by 26 Dec 2023)
    assert first.statistic == "cumulative_attacks"
    assert FIRST_FIGURE_DAYS == ((first.end or first.date) - dt.date(2023, 10, 17)).days
    h = horizon_table(_table()).set_index("replicate")
    assert h["no_death_by_first_figure"].tolist() == [False, True]  # a death on day 1; none at all
    ts = _table()
    ts.loc[(ts["replicate"] == 1) & (ts["day"] == 2), "us_killed"] = 1  # a death on day 2
    by_rep = ts.groupby("replicate")
    assert NoneWithin("us_killed", 1).of_table(ts, by_rep).tolist() == [False, True]  # day 2 is after 0-1
    assert NoneWithin("us_killed", 2).of_table(ts, by_rep).tolist() == [False, False]
    assert NoneWithin("us_killed", 1).of_accumulated({}, {}, {"us_killed": np.array([1, 2, -1])}).tolist() == [
        False, True, True]


def test_table_has_every_outcome_with_its_dtype_and_names_are_unique():
    h = horizon_table(_table())
    assert list(h.columns) == ["replicate", *NAMES] and len(set(NAMES)) == len(NAMES)
    for o in OUTCOMES:
        assert str(h[o.name].dtype) == o.dtype, o.name
    assert outcome("us_killed").label == "US personnel killed"
    with pytest.raises(KeyError, match="cumulative_attacks"):
        outcome("total_attacks")


def test_both_engines_tables_give_every_outcome_identically_typed_and_the_ensemble_shortcut_agrees():
    s = Scenario(days=80)
    mesa_ts, _ = run_replicates(s, 2, seed=5)
    ens_ts, _ = run_ensemble(s, 40, seed=5)
    mesa, ens = horizon_table(mesa_ts), horizon_table(ens_ts)
    assert list(mesa.columns) == list(ens.columns) == ["replicate", *NAMES]
    assert mesa.dtypes.to_dict() == ens.dtypes.to_dict()
    # the ensemble engine's table-free outcomes are the registry's reductions of its own table
    pd.testing.assert_frame_equal(outcomes_at_horizon(s, 40, seed=5), ens)
    # and the Mesa table's outcomes are the reductions of its columns (spot checks against the raw table)
    last = mesa_ts.groupby("replicate").last()
    assert mesa["cumulative_attacks"].tolist() == last["cumulative_attacks"].tolist()
    assert mesa["us_strikes"].tolist() == mesa_ts.groupby("replicate")["us_strikes"].sum().tolist()


def test_summary_and_comparison_read_the_registry():
    s = summarize(_table(), dt.date(2024, 1, 1))
    assert list(s["outcomes"]) == [o.name for o in OUTCOMES if o.kind == "value"]
    assert s["outcomes"]["us_killed"]["p50"] == 1.5 and s["outcomes"]["us_killed"]["label"] == "US personnel killed"
    assert s["rung_probability"]["calm"] == 1.0 and s["rung_probability"]["fatal_attacks"] == 0.5
    ffd = s["first_fatal_day"]
    assert ffd["probability"] == 0.5 and ffd["day"]["p50"] == 1 and ffd["date"]["p50"] == "2024-01-02"
    s["scenario"] = {"name": "a"}
    table = comparison_table([s])
    assert set(table["outcome"]) == set(NAMES)
    assert table.set_index(["outcome", "statistic"]).loc[("reached_fatal_attacks", "probability"), "a"] == 0.5
    assert "First US death" in format_comparison([s])


def test_percentiles_are_the_one_set():
    p = percentiles(np.arange(101))
    assert [k for k in p if k != "mean"] == [f"p{q}" for q in QUANTILES]
    assert p["p5"] == 5 and p["p95"] == 95 and p["mean"] == 50
    assert percentiles([])["p50"] is None
