"""Engine contract, ceasefire windows (issue 11 item 2): known answers on both engines.

Each test takes the ``engine`` fixture of :mod:`test_contract` (the Mesa model and the ensemble
engine) and asserts what :mod:`sim.dynamics.ceasefire` must do: groups that honour an open window
make no attacks, the others go on; obedience 0 is the run without the window, day for day; the log
shows each window's start and end; an observing US neither decides nor strikes (self-defence apart),
an observing Iran makes no direct attack.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from sim.schema import CeasefireWindow, Scenario
from test_contract import Ensemble, MesaEngine, _quiet, _shock, _valid, engine  # noqa: F401 (the fixture)

FIRST, LAST = 12, 30


def _window(s: Scenario, first: int = FIRST, last: int = LAST, **kw) -> CeasefireWindow:
    return CeasefireWindow(start=s.start_date + dt.timedelta(days=first), end=s.start_date + dt.timedelta(days=last),
                           **kw)


def _with(s: Scenario, *windows: CeasefireWindow) -> Scenario:
    s = s.model_copy(deep=True)
    s.ceasefire.windows = list(windows)
    return _valid(s)


def _busy(days: int = 45) -> Scenario:
    """The default scenario with every group attacking often (no US answer: nothing else moves)."""
    s = Scenario(days=days)
    for g in s.militia.groups:
        g.base_rate = 1.5
    s.us.doctrine.triggers.respond_probability = 0.0
    s.standdown.enabled = False
    return _valid(s)


def _texts(ev: pd.DataFrame) -> pd.DataFrame:
    """``ev`` with its categorical text columns as plain text."""
    return ev.astype({c: object for c in ev.columns if isinstance(ev[c].dtype, pd.CategoricalDtype)})


def _attacks(ev: pd.DataFrame) -> pd.DataFrame:
    return ev[ev["kind"] == "attack"]


def test_full_obedience_stops_the_observing_groups_inside_the_window_only(engine):
    s = _with(_busy(), _window(_busy(), observers=["kh", "nujaba"], obedience=1.0))
    r = engine.run(s, 4, seed=3)
    att = _attacks(r.ev)
    inside = att[att["day"].between(FIRST, LAST)]
    assert not inside["actor"].isin(["kh", "nujaba"]).any()
    assert {"kss", "syria_affiliates"} <= set(inside["actor"])  # not observing: they go on
    outside = att[~att["day"].between(FIRST, LAST)]
    assert outside["actor"].isin(["kh", "nujaba"]).any()  # before and after the window they attack
    assert set(outside[outside["day"] == LAST + 1]["actor"]) | set(outside[outside["day"] == FIRST - 1]["actor"])


def test_obedience_zero_is_the_run_without_the_window(engine):
    base = _busy()
    s = _with(base, _window(base, observers=["militias"], obedience=0.0))
    a, b = engine.run(base, 3, seed=9), engine.run(s, 3, seed=9)
    pd.testing.assert_frame_equal(a.ts, b.ts, check_exact=True)
    others = b.ev[b.ev["kind"] != "ceasefire"].reset_index(drop=True)
    # the text columns are categoricals over each log's own texts: compare the texts, not the categories
    pd.testing.assert_frame_equal(_texts(a.ev.reset_index(drop=True)), _texts(others), check_exact=True)
    answers = b.ev[(b.ev["kind"] == "ceasefire") & (b.ev["actor"] != "scenario")]
    assert len(answers) == 3 * 4 and set(answers["outcome"]) == {"defied"}


def test_the_log_shows_each_windows_start_end_and_the_groups_answers(engine):
    base = _busy()
    s = _with(base, _window(base, name="pause", observers=["kh", "us"], obedience=1.0),
              _window(base, 35, 35, name="one_day", observers=["militias"], obedience=0.0))
    ev = engine.run(s, 2, seed=1).ev
    cf = ev[ev["kind"] == "ceasefire"]
    marks = cf[cf["actor"] == "scenario"]
    got = sorted(zip(marks["replicate"], marks["target"], marks["outcome"], marks["day"]))
    assert got == sorted([(r, "pause", "start", FIRST) for r in (0, 1)] + [(r, "pause", "end", LAST) for r in (0, 1)]
                         + [(r, "one_day", o, 35) for r in (0, 1) for o in ("start", "end")])
    ends = marks[marks["outcome"] == "end"].set_index("target")["value"]
    assert set(ends["pause"]) == {LAST - FIRST + 1} and set(ends["one_day"]) == {1.0}
    answers = cf[cf["actor"] != "scenario"]
    pause = answers[answers["target"] == "pause"]
    assert set(pause["actor"]) == {"kh"} and set(pause["outcome"]) == {"honoured"} and set(pause["day"]) == {FIRST}
    assert len(answers[answers["target"] == "one_day"]) == 2 * 4


def _injury_on(s: Scenario, day: int) -> Scenario:
    s = s.model_copy(deep=True)
    s.us.doctrine.triggers.respond_probability = 1.0
    s.drivers.host_pressure[0].value = 0.0
    s.shocks = [_shock(s, day, kind="attack", group="kh", base="erbil", weapon="rocket", injured=3)]
    return _valid(s)


def test_an_observing_us_drops_orders_falling_due_and_answers_nothing_inside_the_window(engine):
    quiet = _quiet(days=FIRST + 70)  # past the order ring (64 days): an order left in it would strike later
    delay = quiet.us.doctrine.proportionate.delay_days
    before = _injury_on(quiet, FIRST - delay)  # ordered the day before the window, due on its first day
    inside = _injury_on(quiet, FIRST + 3)  # an attack inside the window is not answered
    for s in (before, inside):
        free = engine.run(s, 2, seed=2)
        assert (free.ev["kind"] == "proportionate").sum() == 2  # without the window: one strike per replicate
        held = engine.run(_with(s, _window(s, observers=["us"])), 2, seed=2)
        assert (held.ev["kind"] == "proportionate").sum() == 0 and (held.ts["us_strikes"] == 0).all()
        assert not held.ev[held.ev["day"].between(FIRST, LAST)]["kind"].eq("order").any()  # nothing decided
    # after the window the US answers again
    after = engine.run(_with(_injury_on(quiet, LAST + 1), _window(quiet, observers=["us"])), 2, seed=2)
    assert (after.ev["kind"] == "proportionate").sum() == 2


def test_an_observing_us_keeps_self_defence_but_makes_no_leadership_strike(engine):
    base = _busy()
    base.us.doctrine.self_defence.probability = 1.0
    base.us.doctrine.leadership.probability = 1.0
    base.us.doctrine.leadership.delay_days = 0
    base.militia.weapons.rocket.p_injury = base.militia.weapons.uav.p_injury = 0.5
    s = _with(base, _window(base, observers=["us"]))
    ev = engine.run(s, 2, seed=4).ev
    inside = ev[ev["day"].between(FIRST, LAST)]
    assert (inside["kind"] == "self_defence").any()
    assert not (inside["kind"] == "leadership").any() and not (inside["target"] == "leadership").any()
    assert (ev[ev["day"] > LAST]["kind"] == "leadership").any()


def test_an_observing_iran_makes_no_direct_attack(engine):
    s = _quiet(days=40)
    s.iran.direct_propensity = 5.0  # past the red line, a direct attack almost every day
    s.us.doctrine.direct_response.target = "none"
    s.shocks = [_shock(s, 2, kind="strike", scope="inside_iran", targets=40)]
    s = _valid(s)
    free = engine.run(s, 2, seed=5).ev
    assert (free[free["day"].between(FIRST, LAST)]["kind"] == "direct_attack").any()
    held = engine.run(_with(s, _window(s, observers=["iran"])), 2, seed=5).ev
    direct = held[held["kind"] == "direct_attack"]
    assert not direct["day"].between(FIRST, LAST).any() and (direct["day"] > LAST).any()


# --------------------------------------------------------------------------- invariant


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(first=hst.integers(0, 25), length=hst.integers(1, 10), obedience=hst.floats(0, 1),
       observers=hst.lists(hst.sampled_from(["militias", "kh", "kss", "iran", "us"]), min_size=1, max_size=3),
       mesa=hst.booleans())
def test_days_before_a_window_are_the_run_without_it(first, length, obedience, observers, mesa):
    """Whatever the window, the days before it opens are those of the run without it, honouring groups make no
    attack inside it, and a window of groups alone at obedience 0 is the run without it, every day (common
    random numbers: the honour draws come from a spawned generator, not the run's own stream)."""
    base = _busy(days=40)
    s = _with(base, _window(base, first, first + length - 1, observers=observers, obedience=obedience))
    eng = MesaEngine() if mesa else Ensemble()
    a, b = eng.run(base, 2, seed=7), eng.run(s, 2, seed=7)
    pd.testing.assert_frame_equal(a.ts[a.ts["day"] < first], b.ts[b.ts["day"] < first], check_exact=True)
    if not {"iran", "us"} & set(observers):
        z = eng.run(_with(base, _window(base, first, first + length - 1, observers=observers, obedience=0.0)),
                    2, seed=7)
        pd.testing.assert_frame_equal(a.ts, z.ts, check_exact=True)
    answers = b.ev[(b.ev["kind"] == "ceasefire") & (b.ev["outcome"] == "honoured")]
    att = _attacks(b.ev)
    for rep, gid in zip(answers["replicate"], answers["actor"]):
        during = att[(att["replicate"] == rep) & (att["actor"] == gid)]
        assert not during["day"].between(first, first + length - 1).any()


def test_a_strike_on_an_honouring_group_breaks_its_truce(engine):
    base = _busy()
    base.shocks = [_shock(base, FIRST + 5, kind="strike", scope="militia", group="kh", targets=40)]
    s = _with(base, _window(base, observers=["kh", "nujaba"], obedience=1.0))
    for standdowns in (False, True):
        s.standdown.enabled = standdowns
        r = engine.run(_valid(s), 3, seed=8)
        broken = r.ev[(r.ev["kind"] == "ceasefire") & (r.ev["outcome"] == "broken")]
        assert set(broken["actor"]) == {"kh"} and set(broken["day"]) == {FIRST + 5} and len(broken) == 3
        if not standdowns:
            kh = _attacks(r.ev)[_attacks(r.ev)["actor"] == "kh"]
            assert not kh["day"].between(FIRST, FIRST + 5).any() and kh["day"].between(FIRST + 6, LAST).any()
            assert not _attacks(r.ev)[_attacks(r.ev)["actor"] == "nujaba"]["day"].between(FIRST, LAST).any()
    s.militia.attack.revenge_per_target = s.militia.attack.revenge_per_militant = 0.0  # no blow: no break
    r = engine.run(_valid(s), 3, seed=8)
    assert not (r.ev["outcome"] == "broken").any()
