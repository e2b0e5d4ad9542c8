"""Regression tests of issue 10, items 2, 3, 6, 7, 8 and 9: each bad input found by the hostile-input
review exits with status 2 and one clear message, writes nothing and leaves the folder as it was.
Every test runs the CLI end to end (in-process through ``sim.cli.main``) in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hostile_helpers import run_cli, snapshot

ROOT = Path(__file__).resolve().parent.parent
TINY = ["-n", "1", "--days", "5", "--engine", "mesa", "--no-figures", "-q"]




def refused(capsys, tmp_path: Path, *args: object) -> str:
    """Run the CLI; it must exit 2 with no traceback, print nothing on stdout and change nothing; return stderr."""
    before = snapshot(tmp_path)
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err and "unexpected error" not in err
    assert snapshot(tmp_path) == before
    return err


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- item 3: strict types


STRICT_CASES = {
    "days: true": ("days: true\n", "x.yaml:2: days: wrong type: true is not a whole number"),
    "days: '30'": ("days: '30'\n", "x.yaml:2: days: wrong type: '30' is not a whole number"),
    "days: 30.0": ("days: 30.0\n", "x.yaml:2: days: wrong type: 30.0 is not a whole number"),
    "p_destroy: true": ("us: {doctrine: {precision: {p_destroy: true}}}\n",
                        "us.doctrine.precision.p_destroy: wrong type: true is not a number"),
    "p_destroy: '0.5'": ("us:\n  doctrine:\n    precision:\n      p_destroy: '0.5'\n",
                         "x.yaml:5: us.doctrine.precision.p_destroy: wrong type: '0.5' is not a number"),
    "on_injury: 'off'": ("us: {doctrine: {triggers: {on_injury: 'off'}}}\n",
                         "us.doctrine.triggers.on_injury: wrong type: 'off' is not true or false"),
    "on_injury: off (YAML 1.1)": ("us: {doctrine: {triggers: {on_injury: off}}}\n",
                                  "us.doctrine.triggers.on_injury: wrong type: 'off' is not true or false"),
    "on_injury: yes (YAML 1.1)": ("us: {doctrine: {triggers: {on_injury: yes}}}\n",
                                  "wrong type: 'yes' is not true or false"),
    "on_injury: 1": ("us: {doctrine: {triggers: {on_injury: 1}}}\n", "wrong type: 1 is not true or false"),
    "days: 0o17 (octal)": ("days: 0o17\n", "days: wrong type: '0o17' is not a whole number"),
    "days: 1_000": ("days: 1_000\n", "days: wrong type: '1_000' is not a whole number"),
    "days: 1:30 (sexagesimal)": ("days: 1:30\n", "days: wrong type: '1:30' is not a whole number"),
}


@pytest.mark.parametrize("case", list(STRICT_CASES))
def test_wrong_types_are_refused_where_the_schema_wants_a_number_or_a_switch(case, here, capsys):
    text, expected = STRICT_CASES[case]
    (here / "x.yaml").write_text("extends: baseline\n" + text)
    err = refused(capsys, here, "run", "x.yaml", *TINY, "--out", "res")
    assert expected in err, err
    err = refused(capsys, here, "validate", "x.yaml")
    assert expected in err


def test_strict_types_in_set_and_the_yaml_12_forms_that_stay_accepted(here, capsys):
    err = refused(capsys, here, "run", "baseline", *TINY, "--set", "days=true", "--set",
                  "us.doctrine.triggers.on_injury=no")
    assert "--set: days: wrong type: true is not a whole number" in err
    assert "--set: us.doctrine.triggers.on_injury: wrong type: 'no' is not true or false" in err
    (here / "ok.yaml").write_text("extends: baseline\ndays: 12\nname: yes\nus: {doctrine: {precision: "
                                  "{p_destroy: 5e-1}, triggers: {on_injury: False}}}\nstart_date: '2023-10-20'\n")
    code, out, err = run_cli(capsys, "run", "ok.yaml", *TINY[:-2], "-q", "--out", "res")
    assert code == 0, err
    resolved = (here / "res" / "scenario.resolved.yaml").read_text()
    assert "name: 'yes'" in resolved and "p_destroy: 0.5" in resolved and "on_injury: false" in resolved


# --------------------------------------------------------------------------- item 2: exit 1 that must be exit 2


def test_a_start_date_past_the_calendar_is_refused(here, capsys):
    (here / "late.yaml").write_text("extends: baseline\nstart_date: 9999-12-01\n")
    err = refused(capsys, here, "run", "late.yaml", "-n", "2", "--out", "res")
    assert "late.yaml:2: start_date: 9999-12-01 is outside the calendar" in err and "2200-12-31" in err


SWEEP = """\
scenario: baseline
days: 8
parameters:
  - {path: us.doctrine.campaign.first_wave_targets, role: lever, values: [20, 60, 90]}
design: {kind: grid}
replicates: 2
chunk_size: 2
engine: ensemble
"""


@pytest.fixture
def sweep(here, capsys) -> Path:
    (here / "spec.yaml").write_text(SWEEP)
    assert run_cli(capsys, "-q", "sweep", "spec.yaml", "--out", "sw", "--workers", "0")[0] == 0
    return here / "sw"


def test_a_manifest_without_spec_hash_is_refused_by_resume_and_analyze(sweep, here, capsys):
    manifest = json.loads((sweep / "manifest.json").read_text())
    del manifest["spec_hash"]
    (sweep / "manifest.json").write_text(json.dumps(manifest))
    err = refused(capsys, here, "sweep", "spec.yaml", "--out", "sw", "--resume", "--workers", "0")
    assert "manifest.json' is damaged: spec_hash missing" in err
    assert "spec_hash missing" in refused(capsys, here, "analyze", "sw")


def test_a_sweep_without_design_parquet_is_refused(sweep, here, capsys):
    (sweep / "design.parquet").unlink()
    assert "has no design.parquet" in refused(capsys, here, "sweep", "spec.yaml", "--out", "sw", "--resume",
                                              "--workers", "0")
    assert "has no design.parquet" in refused(capsys, here, "analyze", "sw")


def test_a_truncated_chunk_is_refused_by_analyze_and_run_again_by_resume(sweep, here, capsys):
    first = pd.read_parquet(sweep / "runs").sort_values("run", ignore_index=True)
    chunk = sweep / "runs" / "chunk-000001.parquet"
    chunk.write_bytes(chunk.read_bytes()[:200])
    err = refused(capsys, here, "analyze", "sw")
    assert "damaged chunks (chunk-000001.parquet)" in err and "--resume" in err
    code, _, err = run_cli(capsys, "sweep", "spec.yaml", "--out", "sw", "--resume", "--workers", "0")
    assert code == 0 and "chunk 1 of" in err and "damaged" in err
    again = pd.read_parquet(sweep / "runs").sort_values("run", ignore_index=True)
    pd.testing.assert_frame_equal(first, again)
    assert run_cli(capsys, "-q", "analyze", "sw")[0] == 0


# --------------------------------------------------------------------------- item 6: sweeps that hang or litter


def test_a_sweep_spec_that_is_a_fifo_is_refused_at_once(here):
    os.mkfifo(here / "spec.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "sim", "sweep", "spec.yaml", "--out", "sw"], cwd=here, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in here.iterdir()) == ["spec.yaml"]


def test_an_unreachable_or_malformed_scheduler_leaves_nothing_behind(here, capsys, monkeypatch):
    import sim.sweep.executors

    monkeypatch.setattr(sim.sweep.executors, "CONNECT_TIMEOUT", 1.0)
    (here / "spec.yaml").write_text(SWEEP)
    err = refused(capsys, here, "sweep", "spec.yaml", "--out", "sw", "--scheduler", "tcp://127.0.0.1:1")
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in err
    err = refused(capsys, here, "sweep", "spec.yaml", "--out", "deep/sw", "--scheduler", "127.0.0.1")
    assert "'127.0.0.1' is not a Dask scheduler address" in err and "tcp://HOST:PORT" in err


def test_a_killed_worker_ends_with_a_hint_to_resume_and_resume_finishes(here):
    psutil = pytest.importorskip("psutil")  # a dependency of distributed
    (here / "spec.yaml").write_text(SWEEP.replace("values: [20, 60, 90]", "range: [20, 60]").replace(
        "{kind: grid}", "{kind: lhs, points: 6}").replace("engine: ensemble", "engine: mesa").replace("days: 8",
                                                                                                   "days: 30"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "sim", "sweep", "spec.yaml", "--out", "sw", "--workers", "1"]
    proc = subprocess.Popen(args, cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while True:
        assert proc.poll() is None and time.time() < deadline
        workers = [k for k in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(k.cmdline())]
        if workers:
            break
        time.sleep(0.05)
    workers[0].kill()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err and "BrokenProcessPool" not in err
    assert "a worker process died" in err and "escalation sweep spec.yaml --resume --out sw" in err
    done = subprocess.run(args + ["--resume", "-q"], cwd=here, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(here / "sw" / "runs")) == 6 * 2  # points x replicates


@pytest.mark.slow  # starts a Dask scheduler and worker (about 20 s)
def test_a_killed_dask_scheduler_ends_in_one_line_with_a_hint_to_resume(here):
    import socket

    dask = Path(sys.executable).parent / "dask"
    if not dask.is_file():
        pytest.skip("the 'dask' command is not installed next to python")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": here, "env": env}
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], **quiet)
    worker = subprocess.Popen([str(dask), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                               "--death-timeout", "10"], **quiet)
    (here / "spec.yaml").write_text(SWEEP.replace("values: [20, 60, 90]", "range: [20, 60]").replace(
        "{kind: grid}", "{kind: lhs, points: 60}").replace("days: 8", "days: 300").replace("engine: ensemble",
                                                                                        "engine: mesa"))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", "spec.yaml", "--out", "sw", "--scheduler",
                                 address], cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.time() + 120
        while not list((here / "sw" / "runs").glob("chunk-*.parquet")) if (here / "sw" / "runs").is_dir() else True:
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.05)
        scheduler.kill()
        _, err = proc.communicate(timeout=120)
    finally:
        for p in (worker, scheduler):
            p.kill()
            p.wait()
    assert proc.returncode == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 4, err
    assert "lost the Dask cluster" in err and "escalation sweep spec.yaml --resume --out sw" in err


# --------------------------------------------------------------------------- item 7: no excerpts of other files


def test_extends_of_a_non_yaml_file_quotes_none_of_it(here, capsys):
    secret = here / "secret.txt"
    secret.write_text("root:$6$saltsalt$SECRETHASHVALUE:19000:0:99999:7:::\n" * 25)
    (here / "x.yaml").write_text(f"extends: {secret}\n")
    err = refused(capsys, here, "run", "x.yaml", *TINY, "--out", "res")
    assert "SECRETHASH" not in err and "saltsalt" not in err
    assert "x.yaml:1: extends:" in err and "not a scenario file" in err
    assert len(err.splitlines()) <= 3


def test_an_unreadable_extends_target_is_named_not_shown(here, capsys):
    (here / "x.yaml").write_text("extends: /etc/shadow\n")
    err = refused(capsys, here, "run", "x.yaml", *TINY, "--out", "res")
    assert "x.yaml:1: extends:" in err and "root:" not in err and len(err.splitlines()) <= 3


def test_a_yaml_syntax_error_quotes_at_most_a_short_excerpt(here, capsys):
    (here / "x.yaml").write_text("name: ok\nquestion: [" + "very long text " * 40 + "\n")
    err = refused(capsys, here, "validate", "x.yaml")
    assert "x.yaml" in err and "YAML syntax error" in err
    assert max(len(line) for line in err.splitlines()) < 300


# --------------------------------------------------------------------------- item 8: every --set problem at once


def test_every_set_problem_is_reported_at_once(here, capsys):
    err = refused(capsys, here, "run", "baseline", *TINY, "--set", "days=0", "--set", "foo=1", "--set", "nope",
                  "--out", "res")
    assert "days: 0 is out of range" in err
    assert "no setting 'foo'" in err
    assert "expected PATH=VALUE, got 'nope'" in err


# --------------------------------------------------------------------------- item 9: newcomer friction


def test_a_copied_baseline_still_finds_its_parent_by_name(here, capsys):
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", here / "mine.yaml")
    code, out, err = run_cli(capsys, "validate", "mine.yaml")
    assert code == 0, err


def test_a_missing_parent_suggests_the_scenario_names(here, capsys):
    (here / "x.yaml").write_text("extends: ../nowhere/baselin.yaml\n")
    err = refused(capsys, here, "run", "x.yaml", *TINY, "--out", "res")
    assert "x.yaml:1: extends:" in err and "did you mean 'baseline'?" in err


def test_an_abbreviated_option_points_to_the_commands_help(here, capsys):
    err = refused(capsys, here, "run", "baseline", "--rep", "3")
    assert "escalation run --help" in err


def test_the_seed_record_names_the_shared_folder_relative_to_the_repository():
    head = (ROOT / "seeds" / "events.yaml").read_text().split("\n\n")[0]
    assert "../shared/seeds/" in head and "/work/" not in head
