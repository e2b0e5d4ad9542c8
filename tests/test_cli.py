"""End-to-end tests of the ``escalation`` command line (in-process through ``sim.cli.main``,
plus one ``python -m sim`` subprocess and one console-script call)."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from sim import cli
from sim.columns import EVENT_COLUMNS, TIMESERIES_COLUMNS
from sim.plots import FIGURES
from sim.outcomes import OUTCOMES, QUANTILES
from sim.rules import RUNG_NAMES
from sim.schema import Scenario, iter_parameters

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
GROUPS = [g.id for g in Scenario().militia.groups]
TS_COLUMNS = ["replicate", "day", "date", *TIMESERIES_COLUMNS, *[f"capacity_{g}" for g in GROUPS]]
EV_COLUMNS = ["replicate", "day", "date", *[c for c in EVENT_COLUMNS if c != "day"]]
FAST = ["--replicates", "3", "--days", "40", "--seed", "7", "--engine", "mesa"]
CSV_FILES = ("timeseries.csv", "events.csv")


def run_cli(capsys, *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    """Everything under ``folder`` except the inputs a test wrote there itself."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix != ".yaml" and p.name != "afile")


def assert_png(path: Path, min_kb: int = 10) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > min_kb * 1024, f"{path} is only {len(data)} bytes"


def assert_svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), path
    assert path.stat().st_size > 5 * 1024
    return root


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One full run (with figures) shared by the read-only tests."""
    out = tmp_path_factory.mktemp("run") / "baseline-run"
    assert cli.main(["run", "baseline", *FAST, "--out", str(out), "--quiet"]) == 0
    return out


# --------------------------------------------------------------------------- registry and help


def test_every_registered_command_has_a_module_and_help(capsys):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == cli.COMMANDS
    for name in cli.COMMANDS:
        assert callable(importlib.import_module(f"sim.commands.{name}").register)
        code, out, _ = run_cli(capsys, name, "--help")
        assert code == 0 and "--quiet" in out and "--debug" in out
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and "escalation" in out


def test_no_command_prints_help_and_exits_2(capsys):
    code, _, err = run_cli(capsys)
    assert code == 2 and "run" in err and "compare" in err


# --------------------------------------------------------------------------- run


def test_run_writes_every_documented_output(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"timeseries.csv", "timeseries.parquet", "events.csv", "summary.json", "scenario.resolved.yaml",
            "figures"} <= names
    ts = pd.read_csv(run_dir / "timeseries.csv")
    assert list(ts.columns) == TS_COLUMNS
    assert len(ts) == 3 * 40 and sorted(ts["replicate"].unique()) == [0, 1, 2]
    assert ts["date"].iloc[0] == "2023-10-17"
    pq = pd.read_parquet(run_dir / "timeseries.parquet")
    assert list(pq.columns) == TS_COLUMNS and len(pq) == len(ts)
    assert (pq["cumulative_attacks"].to_numpy() == ts["cumulative_attacks"].to_numpy()).all()
    ev = pd.read_csv(run_dir / "events.csv")
    assert list(ev.columns) == EV_COLUMNS and len(ev) > 0


def test_summary_holds_provenance_and_outcome_distributions(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["scenario"]["name"] == "baseline" and len(s["scenario"]["hash"]) == 16
    assert (s["seed"], s["replicates"], s["days"], s["engine"]) == (7, 3, 40, "mesa")
    assert s["version"] and s["created"]
    assert list(s["outcomes"]) == [o.name for o in OUTCOMES if o.kind == "value"]
    for o in OUTCOMES:
        stats = s[o.name]["day"] if o.kind == "event" else s["outcomes"].get(o.name)
        if stats is not None and stats["p50"] is not None:
            assert [stats[f"p{q}"] for q in QUANTILES] == sorted(stats[f"p{q}"] for q in QUANTILES)
    assert list(s["rung_probability"]) == list(RUNG_NAMES)
    assert s["rung_probability"]["calm"] == 1.0
    assert 0 <= s["first_fatal_day"]["probability"] <= 1
    assert all((run_dir / f).exists() for f in s["files"])


def test_run_figures_are_real_images(run_dir):
    for stem in FIGURES:
        assert_png(run_dir / "figures" / f"{stem}.png")
        root = assert_svg(run_dir / "figures" / f"{stem}.svg")
        text = "".join(root.itertext())
        assert "seed 7" in text and "3 replicates" in text  # the caption line


def test_same_seed_gives_byte_identical_csv_files(tmp_path, run_dir):
    out = tmp_path / "again"
    assert cli.main(["run", "baseline", *FAST, "--out", str(out), "--quiet", "--no-figures"]) == 0
    for name in CSV_FILES:
        assert (out / name).read_bytes() == (run_dir / name).read_bytes(), name
    other = tmp_path / "other-seed"
    assert cli.main(["run", "baseline", *FAST, "--seed", "8", "--out", str(other), "-q", "--no-figures"]) == 0
    assert (other / "timeseries.csv").read_bytes() != (run_dir / "timeseries.csv").read_bytes()


def test_rerunning_the_resolved_scenario_gives_identical_files(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["--replicates", "2", "--seed", "3", "--engine", "mesa", "--quiet", "--no-figures"]
    assert cli.main(["run", "tit_for_tat", "--days", "30", "--set", "us.doctrine.proportionate.delay_days=3",
                     *args, "--out", str(first)]) == 0
    assert cli.main(["run", str(first / "scenario.resolved.yaml"), *args, "--out", str(second)]) == 0
    for name in CSV_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    a, b = (json.loads((d / "summary.json").read_text()) for d in (first, second))
    assert a["scenario"]["hash"] == b["scenario"]["hash"] and a["days"] == b["days"] == 30


def test_default_engine_and_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "run", "baseline", "--replicates", "2", "--days", "20", "--no-figures")
    assert code == 0
    folders = list((tmp_path / "results").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("baseline-")
    assert out.strip() == str(Path("results") / folders[0].name)
    assert "results written to" in err  # info log on stderr
    summary = json.loads((folders[0] / "summary.json").read_text())
    assert summary["engine"] == "ensemble"  # auto: the ensemble engine for more than one replicate
    code, out, err = run_cli(capsys, "run", "baseline", "-n", "2", "--days", "20", "--no-figures", "--quiet",
                             "--out", "again")
    assert code == 0 and err == ""
    for name in CSV_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (folders[0] / name).read_bytes()


def test_overwrite_replaces_an_earlier_result_only(tmp_path, capsys):
    out = tmp_path / "res"
    base = ["run", "baseline", "-n", "1", "--days", "10", "--engine", "mesa", "-q", "--no-figures", "--out", out]
    assert run_cli(capsys, *base)[0] == 0
    code, _, err = run_cli(capsys, *base)
    assert code == 2 and "already exists" in err
    assert run_cli(capsys, *base, "--seed", "5", "--overwrite")[0] == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    stranger = tmp_path / "notes"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("keep me")
    code, _, err = run_cli(capsys, *base[:-1], stranger, "--overwrite")
    assert code == 2 and "refusing to overwrite" in err and "did not write it" in err
    assert (stranger / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "res"]


# --------------------------------------------------------------------------- bad input


BAD_KEY = "name: typo\nus:\n  doctrine:\n    proportionate:\n      delai_days: 3\n"
BAD_RANGE = "name: neg\nmilitia:\n  attack:\n    max_rate: -4\n"

BAD_INPUTS = {
    "missing scenario file": (["run", "nothere.yaml"], ["'nothere.yaml' not found", "allowed: baseline"]),
    "misspelt key": (["run", "typo.yaml"], ["typo.yaml:5", "delai_days", "did you mean 'delay_days'"]),
    "out-of-range value": (["run", "neg.yaml"], ["neg.yaml:4", "militia.attack.max_rate", "-4 is out of range",
                                                 "> 0 and <= 100"]),
    "bad --set path": (["run", "baseline", "--set", "us.doctrine.proportionate.delai_days=3"],
                       ["--set", "no setting 'delai_days'", "did you mean 'delay_days'"]),
    "bad --set value": (["run", "baseline", "--set", "us.doctrine.proportionate.delay_days=soon"],
                        ["--set", "us.doctrine.proportionate.delay_days", "'soon' is not a whole number"]),
    "--set without =": (["run", "baseline", "--set", "days"], ["expected PATH=VALUE"]),
    "--set out of range": (["run", "baseline", "--set", "days=0"], ["days: 0 is out of range", ">= 1"]),
    "non-writable --out": (["run", "baseline", "--out", "afile/res"], ["--out", "cannot write results",
                                                                       "Not a directory"]),
    "--out is a file": (["run", "baseline", "--out", "afile"], ["--out", "is a file"]),
    "--replicates 0": (["run", "baseline", "--replicates", "0"], ["--replicates", "at least 1"]),
    "--replicates text": (["run", "baseline", "--replicates", "many"], ["--replicates", "'many' is not a whole"]),
    "--days 0": (["run", "baseline", "--days", "0"], ["--days", "out of range", ">= 1 and <= 3650"]),
    "--seed -1": (["run", "baseline", "--seed", "-1"], ["--seed", "-1 is too small", "at least 0"]),
    "unknown engine": (["run", "baseline", "--engine", "warp"], ["--engine", "invalid choice", "mesa"]),
    "unknown option": (["run", "baseline", "--replicate", "3"], ["unrecognized arguments", "--help"]),
    "compare one scenario": (["compare", "baseline"], ["two or more"]),
    "compare a bad scenario": (["compare", "baseline", "typo.yaml"], ["delai_days"]),
    "plot a non-result folder": (["plot", "."], ["no summary.json"]),
    "params of a missing scenario": (["params", "nothere"], ["'nothere' not found"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "typo.yaml").write_text(BAD_KEY)
    (tmp_path / "neg.yaml").write_text(BAD_RANGE)
    (tmp_path / "afile").write_text("a file, not a folder")
    args, expected = BAD_INPUTS[case]
    code, out, err = run_cli(capsys, *args, "--days", "5") if args[0] == "run" and "--days" not in args \
        else run_cli(capsys, *args)
    assert code == 2, (out, err)
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    assert "Traceback" not in err
    assert out == ""
    assert leftovers(tmp_path) == []


def test_a_failure_midway_leaves_no_folder_and_points_to_debug(tmp_path, monkeypatch, capsys):
    import sim.plots

    def broken(*args, **kwargs):
        raise RuntimeError("the plotting library exploded")

    monkeypatch.setattr(sim.plots, "draw_figures", broken)
    out = tmp_path / "res"
    code, stdout, err = run_cli(capsys, "run", "baseline", "-n", "1", "--days", "5", "--engine", "mesa", "--out", out)
    assert code == 1 and stdout == ""
    last = err.strip().splitlines()[-1]
    assert "unexpected error: RuntimeError: the plotting library exploded" in last and "--debug" in last
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run_cli(capsys, "run", "baseline", "-n", "1", "--days", "5", "--engine", "mesa", "--out", out,
                           "--debug")
    assert code == 1 and "Traceback" in err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- compare and plot


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "cmp"
    args = ["compare", str(ROOT / "scenarios/baseline.yaml"), str(ROOT / "scenarios/restraint.yaml"),
            "--replicates", "2", "--days", "30", "--engine", "mesa", "--out", str(out), "--quiet"]
    buf = io.StringIO()
    stdout, sys.stdout = sys.stdout, buf
    try:
        assert cli.main(args) == 0
    finally:
        sys.stdout = stdout
    (out.parent / "stdout.txt").write_text(buf.getvalue())
    return out


def test_compare_prints_and_writes_a_side_by_side_table(compare_dir):
    printed = (compare_dir.parent / "stdout.txt").read_text()
    header = printed.splitlines()[0]
    assert "baseline" in header and "restraint" in header
    assert "Militia attacks on US forces" in printed and "P(reached rung 9 (regional war))" in printed
    assert "P(First US death by the horizon)" in printed
    assert printed.strip().splitlines()[-1] == str(compare_dir)
    with open(compare_dir / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["outcome", "statistic", "baseline", "restraint"]
    by_key = {(r["outcome"], r["statistic"]): r for r in rows}
    assert float(by_key[("targets_struck", "p95")]["restraint"]) == 0  # restraint never strikes
    assert ("reached_regional_war", "probability") in by_key


def test_compare_writes_overlaid_figures_and_one_folder_per_scenario(compare_dir):
    for name in ("baseline", "restraint"):
        assert (compare_dir / name / "timeseries.csv").is_file()
        assert json.loads((compare_dir / name / "summary.json").read_text())["scenario"]["name"] == name
    for stem in FIGURES:
        assert_png(compare_dir / "figures" / f"{stem}.png")
        text = "".join(assert_svg(compare_dir / "figures" / f"{stem}.svg").itertext())
        assert "baseline" in text and "restraint" in text  # one legend entry per scenario
    assert json.loads((compare_dir / "summary.json").read_text())["kind"] == "comparison"


def test_plot_redraws_figures_from_saved_results(run_dir, compare_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "figures")
    (copy / "timeseries.parquet").unlink()  # falls back to the CSV
    code, out, _ = run_cli(capsys, "plot", copy, "--format", "png", "-q")
    assert code == 0 and out.strip() == str(copy / "figures")
    assert sorted(p.name for p in (copy / "figures").iterdir()) == sorted(f"{s}.png" for s in FIGURES)
    assert_png(copy / "figures" / "escalation_fan.png")
    cmp_copy = tmp_path / "cmp"
    shutil.copytree(compare_dir, cmp_copy)
    shutil.rmtree(cmp_copy / "figures")
    assert run_cli(capsys, "plot", cmp_copy, "--format", "svg", "-q")[0] == 0
    text = "".join(assert_svg(cmp_copy / "figures" / "ladder.svg").itertext())
    assert "baseline" in text and "restraint" in text
    assert not [p for p in cmp_copy.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- validate, params, list


def test_validate_lists_every_error_of_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nus:\n  doctrine:\n    proportionate:\n      delai_days: 3\n"
                   "militia:\n  attack:\n    max_rate: -4\niran:\n  resupply_rate: 2\n")
    code, out, err = run_cli(capsys, "validate", bad, ROOT / "scenarios/baseline.yaml")
    assert code == 2
    assert "bad.yaml: 3 problems" in err
    for text in ("bad.yaml:5", "delai_days", "bad.yaml:8", "max_rate", "bad.yaml:10", "resupply_rate"):
        assert text in err
    assert out.startswith("OK ") and "baseline" in out
    code, out, err = run_cli(capsys, "validate", *SCENARIOS)
    assert code == 0 and out.count("OK ") == len(SCENARIOS) and err == ""


def test_params_shows_paths_values_bounds_units_roles(capsys):
    info = next(i for i, _ in iter_parameters() if i.path == "us.doctrine.proportionate.delay_days")
    code, out, _ = run_cli(capsys, "params")
    assert code == 0
    line = next(l for l in out.splitlines() if l.startswith("us.doctrine.proportionate.delay_days "))
    assert info.bounds in line and info.unit in line and "lever" in line
    assert info.description in out
    code, out, _ = run_cli(capsys, "params", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == sum(1 for _ in iter_parameters())
    code, out, _ = run_cli(capsys, "params", "restraint", "--format", "csv", "--match", "triggers")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["path", "value", "default", "bounds", "plausible", "unit", "role", "description", "why"]
    on_injury = next(r for r in rows if r["path"] == "us.doctrine.triggers.on_injury")
    assert (on_injury["value"], on_injury["default"], on_injury["bounds"]) == ("false", "true", "true | false")
    code, out, _ = run_cli(capsys, "params", "--format", "markdown", "--role", "lever")
    assert out.startswith("| path | value |") and "| uncertainty |" not in out


def test_list_shows_every_scenario_with_its_question(capsys):
    from sim.scenario_io import load_scenario

    code, out, _ = run_cli(capsys, "list", "--format", "csv")
    assert code == 0
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    for path in SCENARIOS:
        assert rows[path.stem]["question"] == " ".join(load_scenario(path).question.split())
        assert rows[path.stem]["question"]
    code, out, _ = run_cli(capsys, "list")
    assert all(p.stem in out for p in SCENARIOS)


# --------------------------------------------------------------------------- real processes


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_python_m_sim_runs_in_a_subprocess(tmp_path):
    out = tmp_path / "sub"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "scenarios/baseline.yaml", "-n", "2", "--days", "20",
                           "--engine", "mesa", "--seed", "7", "--out", str(out), "--no-figures"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    assert "results written to" in proc.stderr
    assert list(pd.read_csv(out / "timeseries.csv").columns) == TS_COLUMNS
    bad = subprocess.run([sys.executable, "-m", "sim", "run", "baseline", "--replicates", "0"],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--replicates" in bad.stderr and "Traceback" not in bad.stderr


def _console_script() -> str | None:
    here = Path(sys.executable).parent / "escalation"
    return str(here) if here.exists() else shutil.which("escalation")


@pytest.mark.skipif(_console_script() is None, reason="the escalation console script is not installed")
def test_escalation_console_script(tmp_path):
    out = tmp_path / "script"
    proc = subprocess.run([_console_script(), "run", "baseline", "-n", "1", "--days", "10", "--out", str(out),
                           "--no-figures", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (out / "summary.json").is_file()
    proc = subprocess.run([_console_script(), "validate", "nothere.yaml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "not found" in proc.stderr


# --------------------------------------------------------------------------- README and CI


def test_readme_documents_every_scenario_command_column_and_figure():
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f"`{p.stem}`" for p in SCENARIOS if f"| `{p.stem}` |" not in text]
    missing += [f"escalation {c}" for c in cli.COMMANDS if f"`escalation {c}" not in text]
    missing += [c for c in [*TIMESERIES_COLUMNS, *EVENT_COLUMNS, "capacity_<group>"] if f"`{c}`" not in text]
    missing += [f"figures/{s}" for s in FIGURES if f"`figures/{s}" not in text]
    missing += [f for f in ("timeseries.csv", "timeseries.parquet", "events.csv", "summary.json",
                            "scenario.resolved.yaml") if f"`{f}`" not in text]
    missing += [n for n in RUNG_NAMES if f"`{n}`" not in text]
    assert not missing, f"README.md does not document: {missing}"
    for image in re.findall(r"\]\((docs/img/[^)]+)\)", text):
        assert (ROOT / image).is_file(), image


def test_readme_quick_start_is_two_commands_and_ci_runs_the_same_tests():
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1).strip().splitlines()
    assert block == ["pip install -e . && escalation run scenarios/baseline.yaml",
                     "pip install -e '.[test]' && pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert block[1] in commands  # the README's test command, exactly (the fast default run) ...
    assert commands[commands.index(block[1]) + 1:] == ["pytest -m slow"]  # ... then the slow tests
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert opts["addopts"][opts["addopts"].index("-m") + 1] == "not slow"  # the default run is the fast one
    assert "pytest -m slow" in section  # and the README says how to run the slow ones
    assert "set -euo pipefail" in commands
    assert not any("playwright install" in c for c in commands)  # the system Chromium only
