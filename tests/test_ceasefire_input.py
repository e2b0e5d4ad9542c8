"""Ceasefire windows as input (issue 11 item 2): located refusals, the parameters listed by
``escalation params``, and the shipped regional_truce scenario."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from hostile_helpers import run_cli
from sim.dynamics.ceasefire import plan
from sim.compiled import compile_scenario
from sim.scenario_io import load_scenario
from test_hostile_regressions import TINY, here, refused  # noqa: F401 (the fixture)

WINDOW = "extends: baseline\nceasefire:\n  windows:\n    - name: pause\n      start: {start}\n      end: {end}\n" \
         "      observers: {observers}\n"

BAD = {
    "unknown observer": (dict(start="2023-11-24", end="2023-11-30", observers="[kh, hamas]"),
                         "x.yaml:7: ceasefire.windows[0].observers[1]: 'hamas' is not an observer",
                         "allowed: militias, iran, us, kh, kss, nujaba, syria_affiliates"),
    "end before start": (dict(start="2023-11-24", end="2023-11-20", observers="[us]"),
                         "x.yaml:6: ceasefire.windows[0].end: 2023-11-20 is before its start 2023-11-24",
                         "allowed: 2023-11-24 to 2024-10-15"),
    "start before the run": (dict(start="2023-10-01", end="2023-11-20", observers="[iran]"),
                             "x.yaml:5: ceasefire.windows[0].start: 2023-10-01 is outside the run",
                             "allowed: dates from 2023-10-17 to 2024-10-15"),
    "end after the run": (dict(start="2024-10-01", end="2024-12-20", observers="[militias]"),
                          "x.yaml:6: ceasefire.windows[0].end: 2024-12-20 is outside the run", "2024-10-15"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_window_is_refused_with_file_line_field_and_what_is_allowed(case, here, capsys):
    fields, where, allowed = BAD[case]
    (here / "x.yaml").write_text(WINDOW.format(**fields))
    err = refused(capsys, here, "run", "x.yaml", "--out", "out", *TINY[:2])
    assert where in err and allowed in err
    assert not (here / "out").exists()


def test_two_windows_with_one_name_are_refused(here, capsys):
    (here / "x.yaml").write_text(WINDOW.format(start="2023-11-24", end="2023-11-30", observers="[kh]")
                                 + "    - {name: pause, start: 2023-12-24, end: 2023-12-30, observers: [kss]}\n")
    err = refused(capsys, here, "run", "x.yaml", "--out", "out", *TINY[:2])
    assert "x.yaml:4: ceasefire.windows[0].name: 'pause' is used by another window" in err
    assert "allowed: a name no other window has" in err and not (here / "out").exists()


def test_a_horizon_that_cuts_a_window_is_refused_naming_days(here, capsys):
    err = refused(capsys, here, "run", "regional_truce", "--days", "60", "--out", "out", "-n", "1")
    assert "--days" in err and "ceasefire.windows[0].end" in err and "outside the run" in err


def test_a_truce_in_run_days_past_the_horizon_is_refused(here, capsys):
    err = refused(capsys, here, "run", "baseline", "--set", "ceasefire.days=30", "--set", "ceasefire.start_day=350",
                  "--out", "out", "-n", "1")
    assert "ceasefire.days: 30 from day 350 ends after the run's last day (364)" in err
    assert "at most 15 days" in err


def test_params_lists_the_ceasefire_parameters(capsys):
    code, out, _ = run_cli(capsys, "params", "--format", "csv", "--match", "ceasefire")
    assert code == 0
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(rows) == {"ceasefire.obedience", "ceasefire.start_day", "ceasefire.days", "ceasefire.observers",
                         "ceasefire.windows"}
    ob = rows["ceasefire.obedience"]
    assert (ob["bounds"], ob["unit"], ob["role"], ob["default"]) == ("[0, 1]", "probability", "uncertainty", "0.9")
    assert ob["plausible"] == "[0.5, 1]" and "Gaza" in ob["why"]
    assert rows["ceasefire.days"]["bounds"] == "[0, 3650]" and rows["ceasefire.days"]["unit"] == "days"
    code, out, _ = run_cli(capsys, "params", "regional_truce", "--format", "csv", "--match", "ceasefire.windows")
    assert "regional_truce" in out and "2024-01-31" in out


def test_regional_truce_declares_one_window_observed_by_all():
    s = load_scenario("regional_truce")
    assert s.question and s.extends
    (w,) = plan(compile_scenario(s))
    assert (w.first, w.last) == (38, 106) and w.groups.all() and w.iran and w.us
    assert w.obedience == s.ceasefire.obedience


def test_the_truce_in_run_days_is_a_window_after_the_dated_ones():
    s = load_scenario("regional_truce", ["ceasefire.days=10", "ceasefire.start_day=200",
                                         "ceasefire.observers=[kh, us]", "ceasefire.obedience=0.5"])
    dated, truce = plan(compile_scenario(s))
    assert dated.obedience == 0.5  # a window without its own obedience takes the block's
    assert (truce.first, truce.last, truce.us, truce.iran) == (200, 209, True, False)
    assert truce.groups.tolist() == [gid == "kh" for gid in compile_scenario(s).group_ids]


def test_no_window_no_truce_state(tmp_path: Path):
    from sim.dynamics import State
    import numpy as np

    c = compile_scenario(load_scenario("baseline"))
    assert State(c, 2, np.random.default_rng(0)).truce is None


def test_ceasefire_parameters_are_one_value_per_engine_call():
    from sim.dynamics import Params, varies_per_replicate

    assert not varies_per_replicate("ceasefire.obedience") and not varies_per_replicate("ceasefire.days")
    c = compile_scenario(load_scenario("regional_truce"))
    with pytest.raises(ValueError, match="ceasefire windows"):
        Params(c, 2, {"ceasefire.obedience": [0.1, 0.9]})
