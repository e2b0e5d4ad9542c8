"""Scenario sweeps: spec validation, designs, seeding, executors, the store, resume after a kill, analysis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main as cli
from sim.errors import ScenarioError
from sim.schema import Precision, Scope
from sim.sweep.designs import UNIT, build_design
from sim.sweep.executors import _bounded
from sim.sweep.run import run_sweep
from sim.sweep.spec import load_spec
from sim.sweep.store import Store
from sim.sweep.work import Layout

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = sorted(p for p in (ROOT / "experiments").glob("*.yaml") if p.name != "findings.yaml")  # findings: a report spec

SMALL = """\
# a small sweep for the tests
scenario: baseline
days: 40
parameters:
  - path: us.doctrine.campaign.first_wave_targets
    role: lever
    range: [20, 120]
  - path: us.doctrine.precision.collateral_per_target
    role: lever
    values: [0.002, 0.05]
design: {kind: grid, levels: 2}
replicates: 5
seed: 11
chunk_size: 3          # 5 replicates > 3: every point is split into two batches (3 + 2)
engine: ensemble
timeseries: {columns: [attacks, rung], every: 10}
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def runs_of(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "runs").sort_values("run", ignore_index=True)


def series_of(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "timeseries").sort_values(["run", "day"], ignore_index=True)


def cli_subprocess(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def refused(tmp_path: Path, capsys, text: str) -> str:
    """Run 'escalation sweep' on a spec text; it must exit 2; return stderr."""
    path = write(tmp_path, text)
    assert cli(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "0"]) == 2
    assert not (tmp_path / "out" / "manifest.json").exists()
    return capsys.readouterr().err


# --------------------------------------------------------------------------- spec validation


def test_experiment_specs_are_valid_and_begin_with_their_question():
    assert len(EXPERIMENTS) >= 3
    for path in EXPERIMENTS:
        assert path.read_text(encoding="utf-8").startswith("# Question"), path.name
        rs = load_spec(path)
        assert rs.spec.question and rs.factors


def test_unknown_key_is_refused_with_a_suggestion_and_line(tmp_path, capsys):
    err = refused(tmp_path, capsys, SMALL.replace("replicates: 5", "replicats: 5"))
    assert "spec.yaml:12: replicats: unknown key 'replicats'; did you mean 'replicates'?" in err
    err = refused(tmp_path, capsys, SMALL.replace("    range: [20, 120]", "    rnage: [20, 120]"))
    assert "spec.yaml:7: parameters[0].rnage: unknown key 'rnage'; did you mean 'range'?" in err


def test_bad_parameter_path_is_refused_with_a_suggestion(tmp_path, capsys):
    text = SMALL.replace("precision.collateral_per_target", "precision.colateral_per_target")
    err = refused(tmp_path, capsys, text)
    assert "spec.yaml:8: parameters[1].path: unknown parameter 'us.doctrine.precision.colateral_per_target'; " \
           "did you mean 'us.doctrine.precision.collateral_per_target'?" in err


def test_range_outside_the_schema_bounds_is_refused_with_the_bounds(tmp_path, capsys):
    text = SMALL.replace("values: [0.002, 0.05]", "range: [0.5, 1.5]").replace("collateral_per_target", "p_destroy")
    err = refused(tmp_path, capsys, text)
    meta = Precision.model_fields["p_destroy"].metadata
    lo = next(m.ge for m in meta if getattr(m, "ge", None) is not None)
    hi = next(m.le for m in meta if getattr(m, "le", None) is not None)
    assert "spec.yaml:10: parameters[1].range: [0.5, 1.5] goes outside the schema's bounds of " \
           f"us.doctrine.precision.p_destroy (allowed: [{lo:g}, {hi:g}])" in err


def test_bad_design_name_is_refused_with_a_suggestion(tmp_path, capsys):
    err = refused(tmp_path, capsys, SMALL.replace("kind: grid", "kind: sobel"))
    assert "spec.yaml:11: design.kind: unknown design 'sobel'; did you mean 'sobol'? " \
           "(allowed: grid, lhs, sobol, morris)" in err


@pytest.mark.parametrize("change, message", [
    (("role: lever\n    range: [20, 120]", "role: uncertainty\n    range: [20, 120]"),
     "parameters[0].role: us.doctrine.campaign.first_wave_targets is a lever in the schema, not an uncertainty"),
    (("us.doctrine.campaign.first_wave_targets", "militia.groups.kh.lon"),
     "militia.groups.kh.lon is a run setting, not a lever or an uncertainty"),
    (("design: {kind: grid, levels: 2}", "design: {kind: sobol, samples: 12}"),
     "design.samples: 12 is not a power of two"),
    (("design: {kind: grid, levels: 2}", "design: {kind: lhs, points: 8, samples: 8}"),
     "design.samples: 'samples' does not apply to a lhs design (allowed: kind, points)"),
    (("design: {kind: grid, levels: 2}", "design: {kind: morris}"), "a morris design needs 'trajectories'"),
    (("seed: 11", "seed: 11\noutcomes: [us_kiled]"), "unknown outcome 'us_kiled'; did you mean 'us_killed'?"),
    (("columns: [attacks, rung]", "columns: [attack, rung]"), "unknown column 'attack'; did you mean 'attacks'?"),
    (("range: [20, 120]", "range: [20.5, 120]"), "the range ends must be whole numbers"),
    (("values: [0.002, 0.05]", "values: [0.002, 0.002]"), "0.002 is listed twice"),
    (("values: [0.002, 0.05]", "values: [0.002, 1.5]"),
     "spec.yaml:10: parameters[1].values[1]: 1.5 is outside the schema's bounds of "
     "us.doctrine.precision.collateral_per_target (allowed: [0, 1])"),
    (("us.doctrine.precision.collateral_per_target\n    role: lever\n    values: [0.002, 0.05]",
      "us.doctrine.direct_response.target\n    role: lever\n    values: [none, everywhere]"),
     "everywhere is not one of the choices of us.doctrine.direct_response.target "
     "(allowed: none | irgc_facilities | inside_iran)"),
    (("days: 40", "days: 0"), "spec.yaml:3: days: 0 is out of range"),
    (("scenario: baseline", "scenario: baseline\nset: [us.doctrine.scope.irgc_shar=0.5]"),
     "spec.yaml:3: set[0]: us.doctrine.scope.irgc_shar: us.doctrine.scope has no setting 'irgc_shar'; "
     "did you mean 'irgc_share'?"),
])
def test_other_mistakes_are_refused(tmp_path, capsys, change, message):
    old, new = change
    assert old in SMALL
    err = refused(tmp_path, capsys, SMALL.replace(old, new))
    assert message in err, err


def test_rules_across_fields_are_checked_at_the_corners_of_the_design(tmp_path, capsys):
    scope = Scope()
    text = SMALL.replace("us.doctrine.precision.collateral_per_target", "us.doctrine.scope.irgc_share") \
        .replace("values: [0.002, 0.05]", f"range: [0, {1 - scope.iran_share + 0.05:g}]") \
        .replace("scenario: baseline", "scenario: baseline\nset: [us.doctrine.scope.inside_iran=true]")
    err = refused(tmp_path, capsys, text)
    assert "the scenario is invalid at a corner of the design" in err and "irgc_share + iran_share" in err


def test_cli_sizes_override_the_spec(tmp_path):
    path = write(tmp_path, SMALL.replace("design: {kind: grid, levels: 2}", "design: {kind: lhs, points: 50}"))
    rs = load_spec(path, points=6, replicates=2)
    assert (rs.spec.design.points, rs.spec.replicates) == (6, 2)
    grid = load_spec(write(tmp_path, SMALL), points=9)  # one range (levels) x two values: 4 levels -> 8 points
    assert len(build_design(grid)) == 8
    with pytest.raises(ScenarioError) as info:
        load_spec(path, points=6, replicates=0)
    assert str(info.value).startswith("--replicates: replicates:")


def test_design_points_set_drivers_choices_booleans_and_group_parameters():
    from sim.schema import Scenario
    from sim.sweep.spec import Factor, scenario_at

    factors = [Factor("drivers.outside_pressure", "uncertainty", "driver", lo=0.0, hi=1.0),
               Factor("us.doctrine.direct_response.target", "lever", "choice", values=("none", "inside_iran")),
               Factor("militia.groups.kh.base_rate", "uncertainty", "float", lo=0.0, hi=2.0),
               Factor("us.doctrine.scope.inside_iran", "lever", "bool", values=(False, True))]
    s = scenario_at(Scenario().model_dump(mode="json"), factors, (0.4, "none", 1.5, True))
    assert [(p.date, p.value) for p in s.drivers.outside_pressure] == [(s.start_date, 0.4)]
    assert s.us.doctrine.direct_response.target == "none" and s.us.doctrine.scope.inside_iran is True
    assert next(g for g in s.militia.groups if g.id == "kh").base_rate == 1.5
    assert factors[1].from_unit([0.0, 0.49, 0.5, 1.0]) == ["none", "none", "inside_iran", "inside_iran"]
    assert Factor("x", "lever", "int", lo=1, hi=3).from_unit([0.0, 0.34, 0.67, 1.0]) == [1, 2, 3, 3]


# --------------------------------------------------------------------------- designs


def _spec(tmp_path, design: str, extra: str = "") -> object:
    text = SMALL.replace("design: {kind: grid, levels: 2}", design) + extra
    text = text.replace("values: [0.002, 0.05]", "values: [0.002, 0.02, 0.05]")
    return load_spec(write(tmp_path, text))


def test_designs_have_the_documented_sizes_and_stay_within_the_ranges(tmp_path):
    grid = build_design(_spec(tmp_path, "design: {kind: grid, levels: 3}"))
    assert len(grid) == 9 and grid["point"].tolist() == list(range(9))
    assert grid["us.doctrine.campaign.first_wave_targets"].tolist()[:3] == [20, 20, 20]  # first parameter slowest
    lhs = build_design(_spec(tmp_path, "design: {kind: lhs, points: 20}"))
    u = lhs[UNIT + "us.doctrine.campaign.first_wave_targets"].to_numpy()
    assert sorted(np.floor(u * 20).astype(int).tolist()) == list(range(20))  # one point per stratum
    assert lhs["us.doctrine.campaign.first_wave_targets"].between(20, 120).all()
    assert set(lhs["us.doctrine.precision.collateral_per_target"]) <= {0.002, 0.02, 0.05}
    sobol = build_design(_spec(tmp_path, "design: {kind: sobol, samples: 8}"))
    assert len(sobol) == 8 * (2 + 2)
    sobol2 = build_design(_spec(tmp_path, "design: {kind: sobol, samples: 8, second_order: true}"))
    assert len(sobol2) == 8 * (2 * 2 + 2)
    morris = build_design(_spec(tmp_path, "design: {kind: morris, trajectories: 5, levels: 4}"))
    assert len(morris) == 5 * 3
    assert set(np.round(morris[UNIT + "us.doctrine.campaign.first_wave_targets"], 6)) <= {0, 1 / 3, 2 / 3, 1} | {
        round(1 / 3, 6), round(2 / 3, 6)}


def test_random_designs_depend_on_the_seed_only(tmp_path):
    a = build_design(_spec(tmp_path, "design: {kind: lhs, points: 10}"))
    b = build_design(_spec(tmp_path, "design: {kind: lhs, points: 10}"))
    pd.testing.assert_frame_equal(a, b)
    c = build_design(load_spec(write(tmp_path, SMALL.replace("design: {kind: grid, levels: 2}",
                                                             "design: {kind: lhs, points: 10}")
                                     .replace("seed: 11", "seed: 12"))))
    assert not a[UNIT + "us.doctrine.campaign.first_wave_targets"].equals(
        c[UNIT + "us.doctrine.campaign.first_wave_targets"])


def test_layout_cuts_runs_into_whole_points_or_near_equal_blocks():
    small = Layout(points=7, replicates=4, chunk_size=10)  # 2 points per chunk
    assert small.chunks == 4 and small.batches(3) == ((6, 0, 4),)
    big = Layout(points=2, replicates=10, chunk_size=4)  # 3 blocks of 4, 3, 3
    assert big.chunks == 6 and [big.batches(c) for c in range(3)] == [((0, 0, 4),), ((0, 4, 8),), ((0, 8, 10),)]
    for lay in (small, big, Layout(5, 3, 3), Layout(3, 1, 100)):
        runs = [(p, r) for c in range(lay.chunks) for p, r0, r1 in lay.batches(c) for r in range(r0, r1)]
        assert sorted(runs) == [(p, r) for p in range(lay.points) for r in range(lay.replicates)]


def test_bounded_executor_loop_keeps_few_tasks_in_flight():
    from concurrent.futures import Future

    in_flight = []

    def submit(chunk):
        f = Future()
        f.set_result(chunk * 10)
        return f

    def wait_first(fs):
        in_flight.append(len(fs))
        first = next(iter(fs))
        return {first}, set(fs) - {first}

    out = list(_bounded(submit, wait_first, iter(range(20)), limit=3))
    assert sorted(r for _, r in out) == [c * 10 for c in range(20)]
    assert max(in_flight) == 3


# --------------------------------------------------------------------------- seeds and executors


def test_same_results_in_process_and_in_two_processes_and_seeding_is_documented(tmp_path):
    from sim.ensemble import outcomes_at_horizon
    from sim.sweep.spec import scenario_at

    rs = load_spec(write(tmp_path, SMALL))
    a = run_sweep(rs, tmp_path / "a", workers=0)
    b = run_sweep(rs, tmp_path / "b", workers=2)
    assert (a.executor, b.executor, b.workers) == ("in-process", "processes", 2)
    ra, rb = runs_of(tmp_path / "a"), runs_of(tmp_path / "b")
    pd.testing.assert_frame_equal(ra, rb)
    pd.testing.assert_frame_equal(series_of(tmp_path / "a"), series_of(tmp_path / "b"))
    assert ra["run"].tolist() == list(range(4 * 5)) and len(list((tmp_path / "a" / "runs").iterdir())) == 8
    # the seeding convention: a batch (point 1, replicates 3..4) = one ensemble call from run k0 = 1*5+3
    design = build_design(rs)
    values = tuple(design.loc[1, [f.path for f in rs.factors]].tolist())
    ref = outcomes_at_horizon(scenario_at(rs.base.model_dump(mode="json"), rs.factors, values), 2, 11,
                              first_replicate=8)
    got = ra[ra["run"].isin([8, 9])]
    assert got["cumulative_attacks"].tolist() == ref["cumulative_attacks"].tolist()
    assert got["us_killed"].tolist() == ref["us_killed"].tolist()


def test_mesa_runs_do_not_depend_on_chunking(tmp_path):
    text = SMALL.replace("engine: ensemble", "engine: mesa").replace("days: 40", "days: 20") \
        .replace("replicates: 5", "replicates: 2")
    a = run_sweep(load_spec(write(tmp_path, text)), tmp_path / "a", workers=0)
    b = run_sweep(load_spec(write(tmp_path, text.replace("chunk_size: 3", "chunk_size: 8"), "b.yaml")),
                  tmp_path / "b", workers=0)
    assert a.chunks != b.chunks
    pd.testing.assert_frame_equal(runs_of(tmp_path / "a"), runs_of(tmp_path / "b"))


# --------------------------------------------------------------------------- store, resume, kill


def test_manifest_design_and_spec_are_saved(tmp_path):
    path = write(tmp_path, SMALL)
    assert cli(["-q", "sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 0
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    rs = load_spec(path)
    assert m["spec_hash"] == rs.spec_hash() and m["spec"]["chunk_size"] == 3 and m["runs"] == 20
    assert m["package"]["version"] and "SeedSequence" in m["seeding"] and m["design"]["points"] == 4
    assert (tmp_path / "o" / "spec.yaml").read_text() == SMALL
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o" / "design.parquet"), build_design(rs))


def test_existing_sweep_needs_resume_and_the_same_spec(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    out = tmp_path / "o"
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0"]) == 0
    before = runs_of(out)
    capsys.readouterr()
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0"]) == 2
    assert "already holds a sweep" in capsys.readouterr().err
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0", "--resume", "-n", "6"]) == 2
    err = capsys.readouterr().err
    assert "holds a sweep of a different spec" in err and "replicates: 5 in the folder, 6 now" in err
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0", "--resume"]) == 0  # nothing to do
    pd.testing.assert_frame_equal(runs_of(out), before)


def test_a_sweep_killed_midway_and_resumed_equals_an_uninterrupted_one(tmp_path):
    text = SMALL.replace("engine: ensemble", "engine: mesa").replace("replicates: 5", "replicates: 3") \
        .replace("levels: 2", "levels: 6").replace("days: 40", "days: 30")
    path = write(tmp_path, text)  # 12 points x 3 replicates, one point per chunk: 12 chunks
    killed = tmp_path / "killed"
    proc = cli_subprocess("-q", "sweep", str(path), "--out", str(killed), "--workers", "2", cwd=tmp_path,
                          start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not list((killed / "runs").glob("chunk-*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no chunk file appeared"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # the driver only; its worker processes must notice and exit
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    done = Store(killed).done_chunks()
    assert 0 < len(done) < 12
    import psutil

    sid = proc.pid  # the session started with the driver
    deadline = time.monotonic() + 10
    while [p for p in psutil.process_iter(["pid"]) if _sid(p.pid) == sid]:
        assert time.monotonic() < deadline, "worker processes outlived the killed driver"
        time.sleep(0.1)
    # resume (in this process: the executor does not matter) and compare with an uninterrupted run
    assert cli(["-q", "sweep", str(path), "--out", str(killed), "--workers", "0", "--resume"]) == 0
    assert cli(["-q", "sweep", str(path), "--out", str(tmp_path / "whole"), "--workers", "0"]) == 0
    a, b = runs_of(killed), runs_of(tmp_path / "whole")
    assert a["run"].is_unique and len(a) == 36
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(series_of(killed), series_of(tmp_path / "whole"))
    assert not list(killed.rglob(".*.tmp"))


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def test_interrupted_chunk_writes_leave_no_partial_file(tmp_path):
    store = Store(tmp_path / "s")
    store.prepare()
    (store.runs_dir / ".chunk-000004.parquet.123.tmp").write_bytes(b"partial")
    assert store.done_chunks() == set()
    assert store.clean_temporary() == 1 and not list(store.runs_dir.iterdir())


# --------------------------------------------------------------------------- analysis


SENSITIVITY = """\
# sensitivity test sweep
scenario: baseline
days: 45
parameters:
  - {path: militia.attack.tension_weight, role: uncertainty, range: [0.2, 2.0]}
  - {path: us.doctrine.campaign.first_wave_targets, role: lever, range: [10, 200]}
  - {path: us.doctrine.scope.irgc_facilities, role: lever, values: [false, true]}
  - {path: iran.red_line_irgc_killed, role: uncertainty, range: [1, 30]}
DESIGN
replicates: 10
seed: 3
outcomes: [cumulative_attacks, us_killed, max_rung, first_fatal_day, reached]
"""


def test_analyze_sobol_gives_indices_with_confidence_intervals_and_all_outputs(tmp_path):
    path = write(tmp_path, SENSITIVITY.replace("DESIGN", "design: {kind: sobol, samples: 16}"))
    out = tmp_path / "sobol"
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0"]) == 0
    assert cli(["-q", "analyze", str(out)]) == 0
    a = out / "analysis"
    sobol = pd.read_csv(a / "sobol.csv")
    assert list(sobol.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    att = sobol[sobol.outcome == "cumulative_attacks"].set_index("parameter")
    assert len(att) == 4 and (att["S1_conf"] > 0).all() and (att["ST_conf"] > 0).all()
    assert att["ST"].idxmax() == "militia.attack.tension_weight"  # tension drives the attack count
    for stem in ("sobol_cumulative_attacks", "tornado_cumulative_attacks", "heatmap_cumulative_attacks"):
        assert (a / f"{stem}.png").stat().st_size > 1000 and (a / f"{stem}.svg").is_file()
    points = pd.read_csv(a / "points.csv")
    assert len(points) == 16 * 6 and {"runs", "cumulative_attacks_mean", "cumulative_attacks_p5", "cumulative_attacks_p95",
                                      "first_fatal_day_p50"} <= set(points.columns)
    assert (points["runs"] == 10).all()
    rungs = pd.read_csv(a / "rungs.csv")
    assert {"p_reached_harassment", "p_reached_regional_war"} <= set(rungs.columns)
    assert rungs["p_reached_harassment"].between(0, 1).all()
    tornado = pd.read_csv(a / "tornado.csv")
    assert tornado.iloc[0]["parameter"] == "militia.attack.tension_weight" and tornado.iloc[0]["swing"] > 0
    heat = pd.read_csv(a / "heatmap.csv")  # default axes: the first two levers
    assert {"us.doctrine.campaign.first_wave_targets", "us.doctrine.scope.irgc_facilities", "mean"} <= set(heat.columns)


def test_analyze_morris_and_chosen_heatmap_axes(tmp_path, capsys):
    path = write(tmp_path, SENSITIVITY.replace("DESIGN", "design: {kind: morris, trajectories: 6, levels: 4}"))
    out = tmp_path / "morris"
    assert cli(["-q", "sweep", str(path), "--out", str(out), "--workers", "0"]) == 0
    assert cli(["-q", "analyze", str(out), "--outcome", "us_killed", "--x", "militia.attack.tension_weight",
                "--y", "iran.red_line_irgc_killed"]) == 0
    a = out / "analysis"
    morris = pd.read_csv(a / "morris.csv")
    assert list(morris.columns) == ["outcome", "parameter", "mu", "mu_star", "sigma", "mu_star_conf"]
    assert (morris["mu_star"] >= 0).all() and len(morris[morris.outcome == "cumulative_attacks"]) == 4
    assert (a / "morris_us_killed.png").is_file() and (a / "heatmap_us_killed.svg").is_file()
    heat = pd.read_csv(a / "heatmap.csv")
    assert {"militia.attack.tension_weight", "iran.red_line_irgc_killed"} <= set(heat.columns)
    capsys.readouterr()
    assert cli(["-q", "analyze", str(out), "--outcome", "us_kiled"]) == 2
    assert "did not record the outcome 'us_kiled'" in capsys.readouterr().err


BATCHED = """\
# design points that differ in per-run parameters share one engine call
scenario: baseline
days: 40
set: [militia.groups.nujaba.motivation=0, militia.groups.kss.motivation=0,
      militia.groups.syria_affiliates.motivation=0, militia.attack.excitation_jump=0]
parameters:
  - {path: militia.groups.kh.motivation, role: uncertainty, values: [0.0, 3.0]}
  - {path: us.doctrine.scope.inside_iran, role: lever, values: [false, true]}
design: {kind: grid, levels: 2}
replicates: 3
seed: 5
chunk_size: 12
engine: ensemble
"""


def test_points_differing_in_numeric_parameters_run_as_one_engine_call(tmp_path):
    from sim.compiled import compile_scenario
    from sim.ensemble import EnsembleEngine, block_rng
    from sim.sweep.spec import scenario_at

    rs = load_spec(write(tmp_path, BATCHED))
    run_sweep(rs, tmp_path / "out", workers=0)
    runs = runs_of(tmp_path / "out")
    assert len(runs) == 12 and len(list((tmp_path / "out" / "runs").iterdir())) == 1
    quiet = runs["militia.groups.kh.motivation"] == 0.0
    assert (runs.loc[quiet, "cumulative_attacks"] == 0).all() and (runs.loc[~quiet, "cumulative_attacks"] > 0).all()
    # the points with inside_iran = false form one group: one engine call seeded from its first run
    design = build_design(rs)
    group = design[~design["us.doctrine.scope.inside_iran"].astype(bool)]
    ids = np.concatenate([np.arange(p * 3, p * 3 + 3) for p in group["point"]])
    values = tuple(group.iloc[0][[f.path for f in rs.factors]].tolist())
    c = compile_scenario(scenario_at(rs.base.model_dump(mode="json"), rs.factors, values))
    motivation = np.repeat(group["militia.groups.kh.motivation"].to_numpy(float), 3)
    ref = EnsembleEngine(c, ids.size, block_rng(5, int(ids[0]), ids.size), table=False,
                         params={"militia.groups.kh.motivation": motivation}).run().outcomes()
    got = runs.set_index("run").loc[ids]
    assert got["cumulative_attacks"].tolist() == ref["cumulative_attacks"].tolist()
    assert got["us_strikes"].tolist() == ref["us_strikes"].tolist()


def test_every_batched_design_point_is_validated(tmp_path):
    from sim.sweep.spec import Factor
    from sim.sweep.work import Context, _check_points

    base = load_spec(write(tmp_path, SMALL)).base.model_dump(mode="json")
    factors = (Factor("us.doctrine.scope.irgc_share", "lever", "float", lo=0.0, hi=0.9),)
    ctx = Context(base_data=base, factors=factors, engine="ensemble", seed=1, replicates=1, outcomes=())
    _check_points(ctx, [0], [(0.1,), (0.5,)])
    with pytest.raises(ScenarioError, match="irgc_share"):
        _check_points(ctx, [0], [(0.1,), (0.95,)])
