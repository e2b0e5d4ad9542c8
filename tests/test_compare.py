"""compare answers: variants from the command line, paired differences with intervals, the replicates rule."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import cli
from sim.commands._common import variant_name
from sim.commands.compare import variants
from sim.differences import differences, replicate_table, replicates_for
from sim.errors import InputError

QUICK = ["-n", "40", "--days", "90", "--engine", "ensemble", "--no-figures", "--quiet"]


def run_cli(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_binds_to_named_variants_or_to_all_when_none_is_named():
    s = "us.doctrine.proportionate.delay_days=5"
    assert variants(["baseline", "slow=baseline"], [s]) == [(None, "baseline", []), ("slow", "baseline", [s])]
    assert variants(["baseline", "restraint"], [s]) == [(None, "baseline", [s]), (None, "restraint", [s])]
    got = variants(["a=baseline", "b=baseline"], ["b:" + s, "iran.direct_salvo=3"])
    assert got == [("a", "baseline", ["iran.direct_salvo=3"]), ("b", "baseline", [s, "iran.direct_salvo=3"])]
    with pytest.raises(InputError, match="'c' is not a named variant"):
        variants(["a=baseline", "baseline"], ["c:" + s])


def test_variant_names_say_what_was_set():
    assert variant_name("baseline", ["us.doctrine.proportionate.delay_days=5", "iran.direct_salvo=3"]) == \
        "baseline+delay_days=5+direct_salvo=3"
    long = variant_name("baseline", [f"militia.groups.kh.stock.uav={i}" for i in range(20)])
    assert len(long) <= 80 and long.startswith("baseline+set-")


def test_identical_variant_gives_exactly_zero_differences(tmp_path, capsys):
    """Common random numbers: the same scenario under another name repeats every replicate exactly."""
    out = tmp_path / "cmp"
    code, printed, _ = run_cli(capsys, "compare", "baseline", "same=baseline", *QUICK, "--out", out)
    assert code == 0
    d = pd.read_csv(out / "differences.csv")
    rows = d[d["scenario"] == "same"]
    assert len(rows) == d["outcome"].nunique() and (rows["difference"] == 0).all() and rows["covers_zero"].all()
    assert "same - baseline" in printed


def test_compare_with_a_set_variant_names_labels_and_measures_it(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, printed, _ = run_cli(capsys, "compare", "baseline", "quiet=baseline", "--set",
                               "us.doctrine.triggers.on_injury=false", "--set", "us.doctrine.campaign.enabled=false",
                               *QUICK, "--out", out)
    assert code == 0
    resolved = yaml.safe_load((out / "quiet" / "scenario.resolved.yaml").read_text())
    assert resolved["name"] == "quiet" and resolved["question"].startswith("[variant of baseline with --set")
    assert resolved["us"]["doctrine"]["campaign"]["enabled"] is False
    sub = json.loads((out / "quiet" / "summary.json").read_text())
    assert sub["scenario"]["overrides"] == ["us.doctrine.triggers.on_injury=false", "us.doctrine.campaign.enabled=false"]
    assert json.loads((out / "baseline" / "summary.json").read_text())["scenario"]["overrides"] == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == ["baseline", "quiet"]
    strikes = next(r for r in summary["differences"] if r["scenario"] == "quiet" and r["outcome"] == "us_strikes")
    # no response to injuries and no campaign: far fewer US strikes, an interval clear of zero
    assert strikes["difference"] < 0 and strikes["difference_high"] < 0 and not strikes["covers_zero"]
    base = next(r for r in summary["differences"] if r["scenario"] == "baseline" and r["outcome"] == "us_strikes")
    assert base["se"] > 0 and base["low"] < base["value"] < base["high"]


def test_run_with_set_is_named_as_a_variant(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "run", "baseline", "--set", "us.doctrine.proportionate.delay_days=5",
                           "-n", "2", "--days", "10", "--no-figures", "--quiet")
    assert code == 0
    folder = tmp_path / out.strip().splitlines()[-1]
    assert folder.name.startswith("baseline+delay_days=5-")
    assert json.loads((folder / "summary.json").read_text())["scenario"]["name"] == "baseline+delay_days=5"


def test_target_se_reruns_with_the_replicates_the_rule_gives(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, _, _ = run_cli(capsys, "compare", "baseline", "restraint", "-n", "10", "--days", "60", "--engine",
                         "ensemble", "--no-figures", "--quiet", "--target-se", "0.1", "--max-replicates", "200",
                         "--out", out)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    rule = summary["replicate_rule"]
    assert rule["pilot_replicates"] == 10 and rule["needed"] > 10
    assert summary["replicates"] == rule["replicates"] == min(rule["needed"], 200)
    assert len(pd.read_csv(out / "baseline" / "timeseries.csv")["replicate"].unique()) == summary["replicates"]


def test_replicates_for_follows_the_sd_rule():
    a = pd.DataFrame({"us_killed": np.zeros(50), "any_us_killed": np.zeros(50, bool)})
    b = pd.DataFrame({"us_killed": np.tile([0.0, 2.0], 25), "any_us_killed": np.tile([False, True], 25)})
    # probability: sd of the paired difference ~0.505, target 0.05 -> ceil(0.505^2 / 0.0025) = 103
    # count: first mean 0 -> scale 1, sd ~1.01, target 0.05 -> 409
    assert replicates_for({"a": a, "b": b}, 0.05) == 409
    assert replicates_for({"a": a, "b": a}, 0.05) == 2


def test_bad_compare_options_exit_2(capsys):
    code, _, err = run_cli(capsys, "compare", "baseline", "a=baseline", "--set", "b:iran.direct_salvo=3", *QUICK)
    assert code == 2 and "'b' is not a named variant" in err
    code, _, err = run_cli(capsys, "compare", "baseline", "restraint", "--target-se", "-1")
    assert code == 2 and "--target-se: -1 is not a positive number" in err


def test_differences_table_uses_the_stats_of_each_kind():
    a = pd.DataFrame({"us_killed": [0.0, 1, 0, 2], "any_us_killed": [False, True, False, True]})
    d = differences({"a": a, "b": a + 0}, n_boot=100)
    p = d[(d.outcome == "any_us_killed") & (d.scenario == "a")].iloc[0]
    assert p["kind"] == "probability" and p["value"] == 0.5 and 0 < p["low"] < 0.5 < p["high"] < 1
    m = d[(d.outcome == "us_killed") & (d.scenario == "a")].iloc[0]
    assert m["value"] == 0.75 and m["se"] == pytest.approx(np.std([0, 1, 0, 2], ddof=1) / 2)
