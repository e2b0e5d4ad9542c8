"""Tests for the seed record (seeds/events.yaml) and its loader sim/seeds.py."""

from pathlib import Path

import pandas as pd
import pytest

from sim.seeds import CalibrationTarget, load_events, load_targets, plot_points

SEED_FILES = {"000_039fde656b95bd57.txt", "002_bedeb0dfb863675e.txt"}
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _attacks_target() -> CalibrationTarget:
    matches = [t for t in load_targets() if t.statistic == "cumulative_attacks"]
    assert len(matches) == 1
    return matches[0]


def test_events_file_loads():
    df = load_events()
    assert len(df) >= 10
    assert df["id"].is_unique
    for col in ("date", "start", "end"):
        assert pd.api.types.is_datetime64_any_dtype(df[col])
    assert set(df["source"]) <= SEED_FILES
    # every event is dated by a day or by a period end
    assert (df["date"].notna() | df["end"].notna()).all()


def test_key_figures_recorded():
    df = load_events().set_index("id")
    assert df.loc["erbil_attack_us_injured", "value"] == 3
    assert df.loc["us_strikes_2023_12_26_facilities", "value"] == 3
    assert df.loc["us_strikes_2024_02_02_targets", "bound"] == "more_than"
    assert df.loc["us_strikes_2024_02_02_targets", "value"] == 85
    assert df.loc["us_strikes_2024_02_02_munitions", "value"] == 125
    assert df.loc["jordan_drone_attack", "bound"] == "none"
    assert pd.isna(df.loc["jordan_drone_attack", "value"])


def test_explicit_path_matches_default():
    default = Path(__file__).resolve().parents[1] / "seeds" / "events.yaml"
    assert load_events(default).equals(load_events())


def test_over_100_attacks_target():
    t = _attacks_target()
    assert t.bound == "more_than"
    assert t.value == 100
    assert t.start == pd.Timestamp("2023-10-17").date()
    assert t.end == pd.Timestamp("2023-12-26").date()
    events = load_events().set_index("id")
    sources = {events.loc[s, "source"] for s in t.sources}
    assert sources and sources <= SEED_FILES


def test_attacks_target_source_file_exists():
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"shared seed folder absent: {SHARED_SEEDS}")
    events = load_events().set_index("id")
    for s in _attacks_target().sources:
        assert (SHARED_SEEDS / events.loc[s, "source"]).is_file()


def _target(bound, value):
    return CalibrationTarget(
        id="t", statistic="s", date="2024-01-01", value=value, bound=bound, sources=["e"]
    )


def test_satisfied_by_known_answers():
    assert _target("more_than", 100).satisfied_by(100) is False
    assert _target("more_than", 100).satisfied_by(101) is True
    assert _target("at_least", 1).satisfied_by(1) is True
    assert _target("at_least", 1).satisfied_by(0) is False
    assert _target("at_most", 3).satisfied_by(3) is True
    assert _target("at_most", 3).satisfied_by(4) is False
    assert _target("exact", 0).satisfied_by(0) is True
    assert _target("exact", 0).satisfied_by(1) is False
    assert _target("none", None).satisfied_by(-1e9) is True


def test_file_targets_satisfied_by_observed_figures():
    by_stat = {t.statistic: t for t in load_targets()}
    assert by_stat["cumulative_attacks"].satisfied_by(101)
    assert by_stat["facilities_first_proportionate_strike"].satisfied_by(3)
    assert by_stat["campaign_first_wave_targets"].satisfied_by(86)
    assert not by_stat["campaign_first_wave_munitions"].satisfied_by(125)
    assert by_stat["direct_exchange_by_date"].satisfied_by(0)


def test_plot_points_has_over_100_marker():
    pts = plot_points()
    row = pts[pts["date"] == pd.Timestamp("2023-12-26")]
    assert len(row) == 1
    assert row["cumulative_attacks"].iloc[0] == 100
    assert isinstance(row["label"].iloc[0], str) and row["label"].iloc[0]


def test_unknown_key_raises_value_error_naming_file(tmp_path):
    bad = tmp_path / "broken_events.yaml"
    bad.write_text(
        "events:\n"
        "  - id: x\n"
        "    date: 2024-01-01\n"
        "    actors: [us]\n"
        "    kind: us_strike\n"
        "    quantity: targets\n"
        "    value: 1\n"
        "    bound: exact\n"
        "    location: [iraq]\n"
        "    source: 000_039fde656b95bd57.txt\n"
        "    note: n\n"
        "    colour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="broken_events.yaml") as exc:
        load_events(bad)
    assert "colour" in str(exc.value)


@pytest.mark.parametrize(
    "text",
    [
        "- just a list\n",
        "events: [\n",  # not YAML
        "events:\n  - {id: x, date: 2024-01-01, actors: [us], kind: no_such_kind,"
        " value: 1, quantity: q, bound: exact, location: [iraq], source: a.txt, note: n}\n",
        "events:\n  - {id: x, date: 2024-01-01, actors: [us], kind: us_strike,"
        " value: null, quantity: q, bound: exact, location: [iraq], source: a.txt, note: n}\n",
    ],
)
def test_other_bad_files_raise_value_error(tmp_path, text):
    bad = tmp_path / "bad_seed.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="bad_seed.yaml"):
        load_targets(bad)
