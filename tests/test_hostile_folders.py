"""Regression tests of issue 10, item 1 (data loss) and item 5 (temporary folders): what the tool may
replace or delete.  Every test runs the CLI end to end in a temporary folder and compares the folder's
contents before and after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile_helpers import run_cli, snapshot
from sim.folders import MANIFEST, TMP_MARKER, ownership_problems, sweep_stale

ROOT = Path(__file__).resolve().parent.parent
TINY = ["-n", "1", "--days", "5", "--engine", "mesa", "--no-figures", "-q"]




def dead_pid() -> int:
    """The pid of a process that has finished."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- --overwrite


def test_overwrite_refuses_a_folder_with_a_summary_json_and_the_users_files(tmp_path, capsys, monkeypatch):
    """The issue's example: a folder holding a summary.json next to a thesis must survive --overwrite."""
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "summary.json").write_text("x\n")
    (mine / "thesis.tex").write_text("work\n")
    before = snapshot(tmp_path)
    for command in (["run", "baseline"], ["compare", "baseline", "restraint"]):
        code, out, err = run_cli(capsys, *command, *TINY, "--out", "mine", "--overwrite")
        assert code == 2 and out == ""
        assert "refusing to overwrite 'mine'" in err and MANIFEST in err and "Traceback" not in err
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("change", ["add a file", "add a folder", "edit a file", "edit the manifest",
                                    "replace a file by a link"])
def test_overwrite_refuses_an_earlier_result_that_was_changed(change, tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(capsys, "run", "baseline", *TINY, "--out", out)[0] == 0
    assert json.loads((out / MANIFEST).read_text())["files"].keys() >= {"summary.json", "events.csv"}
    if change == "add a file":
        (out / "notes.txt").write_text("mine")
        expected = "'notes.txt', which escalation did not write"
    elif change == "add a folder":
        (out / "drafts").mkdir()
        expected = "'drafts/', which escalation did not write"
    elif change == "edit a file":
        with open(out / "events.csv", "a") as fh:
            fh.write("my own row\n")
        expected = "'events.csv' has changed since escalation wrote it"
    elif change == "edit the manifest":
        data = json.loads((out / MANIFEST).read_text())
        data["files"]["notes.txt"] = "0" * 64
        (out / MANIFEST).write_text(json.dumps(data))
        expected = "has been edited"
    else:
        (out / "events.csv").unlink()
        (out / "events.csv").symlink_to(tmp_path / "elsewhere.csv")
        (tmp_path / "elsewhere.csv").write_text("precious\n")
        expected = "'events.csv', which is not a plain file"
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "run", "baseline", *TINY, "--seed", "3", "--out", out, "--overwrite")
    assert code == 2 and expected in err, err
    assert snapshot(tmp_path) == before


def test_overwrite_replaces_an_unchanged_result_and_tolerates_deleted_files(tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(capsys, "compare", "baseline", "restraint", *TINY, "--out", out)[0] == 0
    (out / "comparison.csv").unlink()  # deleting one of our own files loses nothing
    assert run_cli(capsys, "compare", "baseline", "restraint", *TINY, "--seed", "4", "--out", out,
                   "--overwrite")[0] == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert ownership_problems(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_out_dot_and_the_root_are_refused_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("keep")
    before = snapshot(tmp_path)
    for target, expected in ((".", "current folder"), ("/", "root of the file system"), ("..", "holds it")):
        code, _, err = run_cli(capsys, "run", "baseline", *TINY, "--out", target, "--overwrite")
        assert code == 2 and expected in err and "Traceback" not in err
    assert snapshot(tmp_path) == before


def test_plot_keeps_the_manifest_true_and_refuses_foreign_figures(tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(capsys, "run", "baseline", *TINY, "--out", out)[0] == 0
    assert run_cli(capsys, "plot", out, "--format", "png", "-q")[0] == 0
    assert ownership_problems(out) == []  # the figures plot drew are listed, so --overwrite still works
    (out / "figures" / "my_edit.png").write_bytes(b"mine")
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "plot", out, "-q")
    assert code == 2 and "'figures/my_edit.png', which escalation did not write" in err
    assert snapshot(tmp_path) == before


def test_plot_refuses_a_figures_link_and_a_damaged_summary(tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(capsys, "run", "baseline", *TINY, "--out", out)[0] == 0
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "precious.txt").write_text("keep")
    (out / "figures").symlink_to(tmp_path / "elsewhere")
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "plot", out, "-q")
    assert code == 2 and "symbolic link" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before
    (out / "figures").unlink()
    summary = json.loads((out / "summary.json").read_text())
    del summary["scenario"]
    (out / "summary.json").write_text(json.dumps(summary))
    code, _, err = run_cli(capsys, "plot", out, "-q")
    assert code == 2 and "summary.json" in err and "damaged" in err and "'scenario'" in err
    assert not (out / "figures").exists()


# --------------------------------------------------------------------------- analyze and calibrate --out


def test_calibrate_out_refuses_a_folder_of_the_users_files(tmp_path, capsys):
    out = tmp_path / "cal"
    out.mkdir()
    (out / "posterior.csv").write_text("my own posterior\n")
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "calibrate", "--quick", "--out", out, "-q")
    assert code == 2 and "refusing to overwrite" in err and "did not write it" in err
    assert snapshot(tmp_path) == before


def test_the_shipped_calibration_folder_is_recognised_as_the_tools(tmp_path):
    assert ownership_problems(ROOT / "calibration") == []


SWEEP = """\
scenario: baseline
days: 10
parameters:
  - {path: us.doctrine.campaign.first_wave_targets, role: lever, values: [20, 60]}
design: {kind: grid}
replicates: 2
engine: ensemble
"""


def test_analyze_out_refuses_the_users_files_and_replaces_its_own(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SWEEP)
    sweep = tmp_path / "sweep"
    assert run_cli(capsys, "-q", "sweep", spec, "--out", sweep, "--workers", "0")[0] == 0
    assert run_cli(capsys, "-q", "analyze", sweep)[0] == 0
    assert ownership_problems(sweep / "analysis") == []
    assert run_cli(capsys, "-q", "analyze", sweep)[0] == 0  # its own earlier analysis is replaced
    mine = tmp_path / "report"
    mine.mkdir()
    (mine / "points.csv").write_text("my table\n")
    before = snapshot(tmp_path)
    code, out, err = run_cli(capsys, "-q", "analyze", sweep, "--out", mine)
    assert code == 2 and out == "" and "refusing to overwrite" in err
    assert snapshot(tmp_path) == before
# --------------------------------------------------------------------------- temporary folders (item 5)


def test_stale_temporary_folders_of_dead_processes_are_swept_and_nothing_else(tmp_path, capsys):
    pid = dead_pid()
    ours = tmp_path / f".res.tmp-{pid}"
    ours.mkdir()
    (ours / TMP_MARKER).write_text(json.dumps({"pid": pid, "name": "res"}))
    (ours / "timeseries.csv").write_text("half written\n")
    no_marker = tmp_path / f".other.tmp-{pid}"  # same naming, not our marker: someone else's
    no_marker.mkdir()
    (no_marker / "data").write_text("keep")
    alive = tmp_path / f".busy.tmp-{os.getpid()}"  # a live process (this one): still writing
    alive.mkdir()
    (alive / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "name": "busy"}))
    assert run_cli(capsys, "run", "baseline", *TINY, "--out", tmp_path / "new")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["new", no_marker.name, alive.name])
    assert sweep_stale(tmp_path) == []
    killed_plot = tmp_path / "new" / f".figures.tmp-{pid}"  # a plot killed while drawing
    killed_plot.mkdir()
    (killed_plot / TMP_MARKER).write_text(json.dumps({"pid": pid, "name": "figures"}))
    assert run_cli(capsys, "plot", tmp_path / "new", "--format", "svg", "-q")[0] == 0
    assert not killed_plot.exists() and ownership_problems(tmp_path / "new") == []


def test_sigterm_removes_the_temporary_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", "baseline", "-n", "400", "--days", "3000",
                             "--engine", "ensemble", "--no-figures", "--out", str(tmp_path / "res")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(p.name.startswith(".res.tmp-") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
