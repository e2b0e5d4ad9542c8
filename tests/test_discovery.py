"""Scenario discovery: the --where condition, PRIM and CART on planted boxes, and `escalation discover`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ema_workbench", reason="the 'ema' extra (part of the 'test' extra) is not installed")

from sim import cli  # noqa: E402
from sim.discovery import cart_boxes, prim_boxes, where_mask  # noqa: E402
from sim.errors import InputError  # noqa: E402


def test_where_reads_outcomes_rung_names_and_logic():
    t = pd.DataFrame({"max_rung": [3, 7, 8, 9], "us_killed": [0, 2, 0, 1],
                      "reached_major_campaign": [False, True, True, True],
                      "first_fatal_day": pd.array([None, 5, None, 40], dtype="Int64")})
    assert where_mask("max_rung >= direct_exchange", t).tolist() == [False, False, True, True]
    assert where_mask("us_killed > 0 and not reached_major_campaign", t).tolist() == [False, False, False, False]
    assert where_mask("(us_killed + 1) * 2 >= 4 or max_rung == 3", t).tolist() == [True, True, False, True]
    assert where_mask("sponsor_territory <= max_rung < regional_war", t).tolist() == [False, True, True, False]
    assert where_mask("first_fatal_day < 30", t).tolist() == [False, True, False, False]  # missing never holds
    assert where_mask("reached_major_campaign", t).tolist() == [False, True, True, True]


@pytest.mark.parametrize("expr, message", [
    ("max_rugn >= 3", "did you mean 'max_rung'"),
    ("max_rung +", "cannot read"),
    ("us_killed + 1", "a number, not true or false"),
    ("__import__('os').system('true')", "may not contain"),
    ("max_rung.real > 1", "may not contain"),
])
def test_where_refuses_what_it_cannot_evaluate(expr, message):
    t = pd.DataFrame({"max_rung": [3], "us_killed": [1]})
    with pytest.raises(InputError, match=message):
        where_mask(expr, t)


def _planted(n=4000, noise=0.03, seed=1):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 10, n), "c": rng.integers(0, 20, n),
                      "d": rng.choice(["none", "irgc", "iran"], n), "e": rng.choice([False, True], n)})
    y = (x["a"] > 0.6) & (x["b"] < 3.0)
    flip = rng.uniform(size=n) < noise
    return x, np.where(flip, ~y, y)


def test_prim_finds_a_planted_box():
    x, y = _planted()
    boxes, limits, trajectory = prim_boxes(x, y, threshold=0.8)
    first = boxes.iloc[0]
    assert first["method"] == "prim" and set(first["restricted"].split("; ")) == {"a", "b"}
    assert first["coverage"] > 0.8 and first["density"] > 0.8
    lim = limits[limits["box"] == 1].set_index("parameter")
    assert lim.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and lim.loc["a", "high"] == pytest.approx(1, abs=0.01)
    assert 2.9 < lim.loc["b", "high"] < 3.8 and lim.loc["b", "low"] == pytest.approx(0, abs=0.01)
    steps = trajectory[trajectory["box"] == 1].reset_index(drop=True)
    assert steps["coverage"].iloc[0] == 1 and steps["density"].iloc[0] == pytest.approx(y.mean())
    # the chosen box is the least restricted step that reaches the density threshold
    chosen = int(np.flatnonzero(steps["chosen"])[0])
    assert steps["chosen"].sum() == 1 and steps["density"].iloc[chosen] >= 0.8 > steps["density"].iloc[:chosen].max()


def test_prim_and_cart_find_a_planted_choice():
    x, _ = _planted(seed=2)
    y = (x["d"] == "iran").to_numpy() & (x["a"] > 0.3).to_numpy()
    _, limits, _ = prim_boxes(x, y, threshold=0.9)
    row = limits[(limits["box"] == 1) & (limits["parameter"] == "d")].iloc[0]
    assert row["values"] == "iran"
    boxes, climits = cart_boxes(x, y)
    top = climits[climits["box"] == 1].set_index("parameter")
    assert boxes.iloc[0]["density"] > 0.95 and top.loc["d", "values"] == "iran"
    assert top.loc["a", "low"] == pytest.approx(0.3, abs=0.05)
    assert boxes["mass"].sum() == pytest.approx(1.0)  # the leaves partition the runs


SPEC = """name: tiny
scenario: baseline
days: 120
parameters:
  - {path: us.doctrine.scope.inside_iran, role: lever}
  - {path: iran.direct_propensity, role: uncertainty}
  - {path: militia.attack.deterrence_weight, role: uncertainty}
design: {kind: lhs, points: 24}
replicates: 4
seed: 3
outcomes: [max_rung, us_killed, cumulative_attacks, reached]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discover")
    (folder / "tiny.yaml").write_text(SPEC, encoding="utf-8")
    assert cli.main(["sweep", str(folder / "tiny.yaml"), "--out", str(folder / "sw"), "--quiet"]) == 0
    return folder / "sw"


def test_discover_command_writes_boxes_tables_and_figures(sweep_dir, tmp_path, capsys):
    out = tmp_path / "disc"
    code = cli.main(["discover", str(sweep_dir), "--where", "max_rung >= sponsor_territory", "--out", str(out),
                     "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0 and printed.strip().splitlines()[-1] == str(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "discovery" and summary["runs"] == 96 and 0 < summary["cases"] < 96
    boxes = pd.read_csv(out / "boxes.csv")
    prim = boxes[boxes["method"] == "prim"].iloc[0]
    # a strike inside Iran is the sponsor-territory rung: only runs with inside_iran in scope reach it
    assert "us.doctrine.scope.inside_iran" in prim["restricted"] and prim["density"] > 0.9
    limits = pd.read_csv(out / "limits.csv")
    kept = limits.query("method == 'prim' and parameter == 'us.doctrine.scope.inside_iran'")["values"].iloc[0]
    assert str(kept) == "True"
    assert set(pd.read_csv(out / "trajectory.csv").columns) >= {"coverage", "density", "mass", "res_dim"}
    assert (out / "prim_trajectory.png").stat().st_size > 10_000 and (out / "prim_box_1.svg").is_file()
    assert "PRIM box 1" in printed and "CART box 1" in printed


def test_discover_refuses_bad_input_and_keeps_earlier_results(sweep_dir, tmp_path, capsys):
    out = tmp_path / "disc"
    assert cli.main(["discover", str(sweep_dir), "--where", "max_rung >= 7", "--out", str(out), "-q"]) == 0
    before = (out / "boxes.csv").read_bytes()
    assert cli.main(["discover", str(sweep_dir), "--where", "max_rung >= 7", "--out", str(out), "-q"]) == 2
    assert cli.main(["discover", str(sweep_dir), "--where", "max_rang >= 7", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "did you mean 'max_rung'" in err
    assert (out / "boxes.csv").read_bytes() == before and not (tmp_path / "x").exists()
    assert cli.main(["discover", str(tmp_path), "--where", "max_rung >= 7"]) == 2
