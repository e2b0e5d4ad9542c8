"""Tests of the batched ensemble engine (sim/ensemble.py) against the Mesa engine.

* Statistical equivalence, per scenario file: key outcomes at the horizon of Mesa
  runs and ensemble runs come from the same distributions (two-sample KS for
  counts and days, chi-square for the highest rung).  Seeds are fixed, so the
  tests are deterministic; the five p-values of a scenario are held to a
  Bonferroni-corrected level (familywise 0.01).  The slow version uses 1,000
  Mesa replicates per scenario (120 days, spread over two processes); the quick
  one 300 replicates of 60 days.
* Known answers of the ensemble's own plumbing: blocks, seeding, outcomes without a table,
  per-replicate parameters, the bulk samplers.  What every engine must do (known answers of
  the day, invariants, regression tests of model fixes) is in tests/test_contract.py.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import ensemble, rules
from sim.dynamics import sampling
from sim.compiled import compile_scenario
from sim.ensemble import (EnsembleEngine, block_rng, mesa_outcomes, outcomes_at_horizon, outcomes_from_timeseries,
                          run_ensemble)
from sim.runner import run_replicates
from sim.schema import Scenario, Shock

ROOT = Path(__file__).resolve().parent.parent
ALPHA = 0.01
"""Familywise level of one scenario's comparison (Bonferroni over its statistics)."""


def _scenario_files() -> list[Path]:
    return sorted((ROOT / "scenarios").glob("*.yaml"))


def _load(path: Path | str | None) -> Scenario:
    if path is None:
        return Scenario()
    if path == "all_paths":
        return _all_paths()
    try:
        from sim.scenario_io import load_scenario
    except ImportError:  # pragma: no cover - the loader is part of the package today
        import yaml

        return Scenario.model_validate(yaml.safe_load(path.read_text()))
    return load_scenario(path)


def _all_paths() -> Scenario:
    """A synthetic scenario exercising what the scenario files leave out: every shock kind, the
    attack-count trigger over a window, preemption and strikes inside Iran together."""
    s = Scenario(days=365)
    doc = s.us.doctrine
    doc.preemption.enabled, doc.preemption.start_day, doc.preemption.interval_days = True, 3, 9
    doc.scope.inside_iran = True
    doc.triggers.attack_count, doc.triggers.window_days = 3, 4
    s.iran.red_line_irgc_killed = 3
    d0 = s.start_date
    s.shocks = [Shock(date=d0 + dt.timedelta(days=5), kind="strike", scope="inside_iran", targets=20),
                Shock(date=d0 + dt.timedelta(days=12), kind="iran_direct", injured=3, killed=1),
                Shock(date=d0 + dt.timedelta(days=14), kind="tension", value=1.0, days=10),
                Shock(date=d0 + dt.timedelta(days=20), kind="attack", group="nujaba", killed=2, injured=5),
                Shock(date=d0 + dt.timedelta(days=25), kind="strike", scope="militia", group="kss", targets=40),
                Shock(date=d0 + dt.timedelta(days=30), kind="outside_pressure", value=0.9, days=20)]
    return Scenario.model_validate(s.model_dump())


SCENARIOS = [*(_scenario_files() or [None]), "all_paths"]
IDS = [p if isinstance(p, str) else (p.stem if p is not None else "default") for p in SCENARIOS]


# --------------------------------------------------------------------------- statistical equivalence


@pytest.fixture(scope="module")
def pool():
    """Two worker processes for Mesa runs (spawned: the workers import the package afresh)."""
    with mp.get_context("spawn").Pool(2) as p:
        yield p


def _mesa(pool, scenario: Scenario, replicates: int, seed: int, days: int) -> pd.DataFrame:
    chunks = 4
    size = -(-replicates // chunks)
    jobs = [(scenario, min(size, replicates - k), seed, days, k) for k in range(0, replicates, size)]
    return pd.concat(pool.starmap(_mesa_chunk, jobs), ignore_index=True)


def _mesa_chunk(scenario: Scenario, n: int, seed: int, days: int, first: int) -> pd.DataFrame:
    return mesa_outcomes(scenario, n, seed, days=days, first_replicate=first)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(np.r_[a, b]) == 0:
        return 1.0
    return float(stats.ks_2samp(a, b).pvalue)


def _chi2(a: np.ndarray, b: np.ndarray) -> float:
    """Chi-square test of equal distributions of a small discrete variable.

    Classes are pooled upwards until each pooled class expects at least 5 in both samples.
    """
    values = np.union1d(a, b)
    table = np.array([[np.sum(a == v), np.sum(b == v)] for v in values], dtype=float)
    share = table.sum(axis=0) / table.sum()
    pooled, acc = [], np.zeros(2)
    for row in table:
        acc = acc + row
        if (acc.sum() * share).min() >= 5:
            pooled.append(acc)
            acc = np.zeros(2)
    if acc.sum() > 0 and pooled:
        pooled[-1] = pooled[-1] + acc
    if len(pooled) < 2:
        return 1.0
    return float(stats.chi2_contingency(np.array(pooled)).pvalue)


def _compare(mesa: pd.DataFrame, ens: pd.DataFrame, days: int) -> dict[str, float]:
    def first_fatal(df: pd.DataFrame) -> np.ndarray:  # "never" counts as the horizon (censored)
        return df["first_fatal_day"].fillna(days).to_numpy(dtype=float)

    return {
        "attacks": _ks(mesa["cumulative_attacks"].to_numpy(), ens["cumulative_attacks"].to_numpy()),
        "us_casualties": _ks((mesa["us_injured"] + mesa["us_killed"]).to_numpy(),
                             (ens["us_injured"] + ens["us_killed"]).to_numpy()),
        "us_strikes": _ks(mesa["us_strikes"].to_numpy(), ens["us_strikes"].to_numpy()),
        "max_rung": _chi2(mesa["max_rung"].to_numpy(), ens["max_rung"].to_numpy()),
        "first_fatal_day": _ks(first_fatal(mesa), first_fatal(ens)),
    }


def _equivalence(pool, path: Path | None, mesa_reps: int, ens_reps: int, days: int, seed: int) -> None:
    s = _load(path)
    mesa = _mesa(pool, s, mesa_reps, seed, days)
    ens = outcomes_at_horizon(s, ens_reps, seed=seed, days=days)
    assert len(mesa) == mesa_reps and len(ens) == ens_reps
    p = _compare(mesa, ens, days)
    level = ALPHA / len(p)
    summary = {k: (round(float(mesa[k].mean()), 3), round(float(ens[k].mean()), 3))
               for k in ("cumulative_attacks", "us_injured", "us_killed", "us_strikes", "max_rung")}
    assert min(p.values()) > level, f"p-values {p} (level {level}); means mesa/ensemble {summary}"


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_engines_agree(pool, path):
    _equivalence(pool, path, mesa_reps=1000, ens_reps=4000, days=120, seed=20241)


# --------------------------------------------------------------------------- known answers


def test_no_attacks_in_outcomes_when_every_replicate_has_zero_motivation():
    zero = np.zeros(50)
    out = outcomes_at_horizon(Scenario(days=60), 50, seed=1, params={"militia.groups.*.motivation": zero,
                                                                     "militia.attack.excitation_jump": zero})
    assert (out["cumulative_attacks"] == 0).all() and out["first_fatal_day"].isna().all()
    assert (out["max_rung"] == 0).all()
    assert (outcomes_at_horizon(Scenario(days=60), 50, seed=1)["cumulative_attacks"] > 0).all()


def test_blocks_follow_first_replicate(monkeypatch):
    monkeypatch.setattr(ensemble, "BLOCK", 40)
    s = Scenario(days=50)
    whole = run_ensemble(s, 100, seed=4)[0]  # blocks of 40, 40, 20
    parts = pd.concat([run_ensemble(s, 80, seed=4)[0],  # blocks 0-39, 40-79
                       run_ensemble(s, 20, seed=4, first_replicate=80)[0]], ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
    assert whole["replicate"].max() == 99


def test_outcomes_helper_matches_the_table():
    s = Scenario(days=120)
    ts, _ = run_ensemble(s, 60, seed=8)
    direct = outcomes_at_horizon(s, 60, seed=8)
    pd.testing.assert_frame_equal(outcomes_from_timeseries(ts), direct)
    assert (direct["reached_harassment"] == (direct["max_rung"] >= 1)).all()


def test_engine_state_and_per_replicate_parameters():
    c = compile_scenario(Scenario(days=60))
    rate = np.ones(30)
    rate[::2] = 0.0  # even replicates: no attacks at all
    eng = EnsembleEngine(c, 30, block_rng(0, 0, 30), table=False,
                         params={"militia.groups.*.motivation": rate, "militia.attack.excitation_jump": rate * 0.08})
    eng.run()
    assert not eng.running and eng.day == 59
    out = eng.outcomes()
    assert (out["cumulative_attacks"].to_numpy()[::2] == 0).all()
    assert (out["cumulative_attacks"].to_numpy()[1::2] > 0).all()
    assert eng.stock.shape == (30, c.n_groups, 3)
    assert eng.intact.shape == (30, c.n_facilities)
    assert eng.last_event.shape == (30, rules.N_EVENTS)
    assert (eng.stock >= 0).all() and (eng.intact <= c.fac_total).all()


def test_single_replicate_runs_and_state_is_writeable():
    c = compile_scenario(Scenario(days=40))
    eng = EnsembleEngine(c, 1, block_rng(0, 0, 1))
    arrays = {k: v for k, v in vars(eng.state).items() if isinstance(v, np.ndarray)}
    assert all(v.flags.writeable for v in arrays.values()), [k for k, v in arrays.items() if not v.flags.writeable]
    eng.run()
    assert len(eng.timeseries()) == 40
    assert len(run_ensemble(Scenario(days=40), 1, seed=2, events=True)[0]) == 40


def test_engines_step_by_step_interface():
    c = compile_scenario(Scenario(days=5))
    eng = EnsembleEngine(c, 4, block_rng(0, 0, 4))
    steps = 0
    while eng.step():
        steps += 1
    assert steps + 1 == 5 and eng.day == 4
    assert not eng.step()
    assert len(eng.timeseries()) == 20


# --------------------------------------------------------------------------- samplers


def test_poisson_sampler_has_the_poisson_law():
    rng = np.random.default_rng(1)
    lam = np.repeat([0.05, 0.7, 3.0, 11.5], 100_000)
    idx, n = sampling.poisson_nonzero(lam, rng)
    draws = np.zeros(lam.size, dtype=np.int64)
    draws[idx] = n
    assert (n > 0).all()
    for mu in np.unique(lam):
        x = draws[lam == mu]
        k = np.arange(x.max() + 1)
        observed = np.bincount(x, minlength=k.size)
        expected = stats.poisson.pmf(k, mu) * x.size
        expected[-1] += stats.poisson.sf(k[-1], mu) * x.size
        keep = expected >= 5
        obs = np.r_[observed[keep], observed[~keep].sum()]
        exp = np.r_[expected[keep], expected[~keep].sum()]
        if exp[-1] < 5:
            obs, exp = obs[:-1], exp[:-1]
        assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 0.001, mu


def test_alias_sampler_has_the_base_law():
    probs = np.array([[0.5, 0.0, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 0.0]])
    accept, alias = sampling.alias_tables(probs)
    rng = np.random.default_rng(2)
    for row in range(3):
        draws = sampling.alias_draw(accept, alias, np.full(200_000, row), rng.random(200_000))
        freq = np.bincount(draws, minlength=4) / draws.size
        assert np.all(freq[probs[row] == 0] == 0)
        assert np.allclose(freq, probs[row], atol=0.005)


def test_accuracy_at_launches_reads_intelligence_health_per_replicate():
    """State.accuracy (computed only where launches are made): ``floor + (1 - floor) * health`` of the
    group's intelligence centres, in the launch's own replicate; command-and-control damage does not
    lower it."""
    from sim.columns import C2, INTEL
    from sim.dynamics import Params, State

    c = compile_scenario(Scenario())
    params = Params(c, 3, {"militia.attack.intelligence_floor": [0.5, 0.5, 0.2]})
    st = State(c, 3, np.random.default_rng(0), params=params)
    st.health[1, 0, INTEL] = 0.0
    st.health[2, 0, INTEL] = 0.5
    st.health[:, 0, C2] = 0.0
    acc = st.accuracy(np.array([0, 1, 2, 1]), np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(acc, [1.0, 0.5, 0.2 + 0.8 * 0.5, 1.0])


def test_nonzero2_equals_numpy_nonzero():
    rng = np.random.default_rng(4)
    for shape in [(1, 1), (1, 4), (7, 1), (300, 4), (50, 55), (0, 3)]:
        for a in (rng.random(shape) < 0.1, rng.integers(0, 3, shape), np.zeros(shape, bool)):
            got, expected = sampling.nonzero2(a), np.nonzero(a)
            for x, y in zip(got, expected):
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y)
            view = np.asarray(a)[:, ::-1]  # not contiguous
            for x, y in zip(sampling.nonzero2(view), np.nonzero(view)):
                np.testing.assert_array_equal(x, y)


def test_every_per_replicate_parameter_at_its_scenario_value_changes_nothing():
    """Each numeric parameter given as one value per replicate (equal to the scenario's) reaches the same
    formulas with the same numbers: the tables are the plain engine's, bit for bit."""
    from sim.dynamics import varies_per_replicate
    from sim.schema import iter_parameters

    s = _all_paths().model_copy(update={"days": 120})
    values = {info.path: value for info, value in iter_parameters(s)
              if info.type in ("int", "float") and not isinstance(value, bool) and varies_per_replicate(info.path)}
    assert len(values) > 80
    R = 12
    plain = EnsembleEngine(compile_scenario(s), R, block_rng(7, 0, R), events=True).run()
    mine = EnsembleEngine(compile_scenario(s), R, block_rng(7, 0, R), events=True,
                          params={p: np.full(R, float(v)) for p, v in values.items()}).run()
    assert plain.timeseries()["us_strikes"].sum() > 0 and plain.timeseries()["targets_in_iran"].sum() > 0
    pd.testing.assert_frame_equal(plain.timeseries(), mine.timeseries())
    pd.testing.assert_frame_equal(plain.event_log(), mine.event_log())


def test_per_replicate_parameters_that_cannot_vary_are_refused_with_the_reason():
    c = compile_scenario(Scenario(days=10))
    with pytest.raises(ValueError, match="shapes the run"):
        EnsembleEngine(c, 3, block_rng(0, 0, 3), params={"days": np.full(3, 5)})
    with pytest.raises(ValueError, match="booleans and named choices"):
        EnsembleEngine(c, 3, block_rng(0, 0, 3), params={"us.doctrine.scope.inside_iran": np.ones(3)})
    with pytest.raises(ValueError, match="expected one value or 3 values"):
        EnsembleEngine(c, 3, block_rng(0, 0, 3), params={"iran.direct_propensity": np.ones(4)})
