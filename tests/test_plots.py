"""Tests of sim.plots: every figure is drawn, saved reproducibly, captioned and marked with the seed figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from sim import plot_sources, plots
from sim.plots import FIGURES, RunData, caption, draw_figures
from sim.rules import RUNG_NAMES
from sim.runner import run_replicates


@pytest.fixture(scope="module")
def baseline():
    """130 days of the baseline: covers both seed dates (26 Dec 2023 and 2 Feb 2024)."""
    ts, _ = run_replicates("baseline", replicates=3, seed=2, days=130)
    summary = {"scenario": {"name": "baseline", "hash": "0123456789abcdef", "overrides": []}, "seed": 2,
               "replicates": 3, "start_date": "2023-10-17", "end_date": "2024-02-23", "engine": "mesa",
               "version": "0.1.0", "groups": {"kh": "Kataib Hezbollah"}}
    return RunData("baseline", ts, summary)


@pytest.fixture(scope="module")
def short():
    ts, _ = run_replicates("restraint", replicates=2, seed=2, days=30)
    return RunData("restraint", ts, {"scenario": {"name": "restraint"}, "seed": 2, "replicates": 2})


def svg_text(fig, tmp_path: Path, stem: str = "f") -> str:
    with matplotlib.rc_context(plots.STYLE):
        (path,) = plots.save(fig, tmp_path, stem, ("svg",))
    return "".join(ET.parse(path).getroot().itertext())


def test_draw_figures_writes_png_and_svg_of_every_figure(baseline, tmp_path):
    paths = draw_figures([baseline], tmp_path / "figs")
    assert sorted(p.name for p in paths) == sorted(f"{s}.{f}" for s in FIGURES for f in ("png", "svg"))
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 10_000
        if p.suffix == ".png":
            assert data.startswith(b"\x89PNG")
        else:
            assert ET.fromstring(data).tag.endswith("svg")


def test_figures_are_byte_reproducible(baseline, tmp_path):
    a = draw_figures([baseline], tmp_path / "a", formats=("svg", "png"))
    b = draw_figures([baseline], tmp_path / "b", formats=("svg", "png"))
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_pauses_chart_draws_stand_down_days_thick_on_the_runs_that_stood_down(baseline):
    days = baseline.days
    ids, paused = days.samples("groups_stood_down")
    assert (paused > 0).any(), "the fixture should contain a stand-down"
    fig = plots.pauses_chart([baseline])
    ax = fig.axes[0]
    thick = [line for line in ax.get_lines() if line.get_linewidth() > 4]
    spans = sum(len(plots._spans(row > 0)) for row in paused)
    assert len(thick) == spans
    dates = days.dates
    for line in thick:  # each thick segment lies on days with a stand-down in force in its run
        x = np.asarray(line.get_xdata(), dtype="datetime64[ns]")
        k = [i for i, rep in enumerate(ids) if ax.get_lines()[1 + i].get_color() == line.get_color()][0]
        first = int(np.searchsorted(dates, x[0]))
        assert (paused[k, first:first + len(x)] > 0).all()
    strip = fig.axes[1]
    assert np.allclose(strip.collections[0].get_paths()[0].vertices[:, 1].max(), days.paused_share().max())


def test_spans_finds_each_run_of_days():
    assert plots._spans(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 2), (4, 4), (7, 7)]
    assert plots._spans(np.zeros(4, bool)) == []


def test_caption_names_scenario_seed_replicates_and_dates(baseline, short):
    text = caption([baseline])
    for part in ("Scenario baseline", "0123456789abcdef", "random seed 2", "3 replicates", "2023-10-17 to 2024-02-23",
                 "mesa engine"):
        assert part in text
    assert caption([baseline, short]).startswith("Scenarios baseline, restraint")
    assert "replicates each" in caption([baseline, short])


def test_fan_chart_marks_the_seed_figure_within_the_dates(baseline, short, tmp_path):
    text = svg_text(plots.fan_chart([baseline]), tmp_path, "long")
    assert "more than 100 attacks (source: news report 002)" in text
    assert "middle 50% of runs" in text and "middle 90% of runs" in text
    assert "attacks" in text  # the unit on the y axis
    assert "news report 002" not in svg_text(plots.fan_chart([short]), tmp_path, "short")  # 30 days end in November


def test_strikes_chart_marks_single_strikes_from_the_sources(baseline, tmp_path):
    text = svg_text(plots.strikes_chart([baseline]), tmp_path)
    assert "more than 85 targets struck in one wave (source: news report 000)" in text
    assert "3 facilities struck (source: news report 002)" in text


def test_ladder_chart_has_one_line_or_panel_per_rung(baseline, short, tmp_path):
    single = svg_text(plots.ladder_chart([baseline]), tmp_path, "one")
    overlay = svg_text(plots.ladder_chart([baseline, short]), tmp_path, "two")
    for k, name in enumerate(RUNG_NAMES[1:], start=1):
        label = f"{k} {name.replace('_', ' ')}"
        assert label in single and label in overlay
    assert "baseline" in overlay and "restraint" in overlay


def test_capacity_chart_names_groups(baseline, tmp_path):
    text = svg_text(plots.capacity_chart([baseline]), tmp_path)
    assert "Kataib Hezbollah" in text  # from the summary's group names
    assert "nujaba" in text  # no name given: the id


def test_figures_survive_an_unreadable_seed_file(baseline, tmp_path, monkeypatch, caplog):
    import sim.seeds

    def broken(path=None):
        raise ValueError("events.yaml: invalid seed file")

    monkeypatch.setattr(sim.seeds, "load_targets", broken)
    plot_sources._read_seed_records.cache_clear()
    text = svg_text(plots.fan_chart([baseline]), tmp_path)
    assert "news report 002" not in text
    assert "source figures left out" in caplog.text
    plot_sources._read_seed_records.cache_clear()


def test_no_figure_calls_a_source_document_a_seed(baseline, tmp_path):
    for stem, draw in FIGURES.items():
        text = svg_text(draw([baseline]), tmp_path, stem)
        assert "seed 0" not in text, stem  # 'seed' is the random seed only ('random seed 2' in the caption)
    assert "random seed 2" in svg_text(plots.fan_chart([baseline]), tmp_path)


def test_ladder_heat_strip_shares_match_the_runs(baseline):
    shares = plots.rung_shares(baseline)
    assert shares.shape == (len(RUNG_NAMES) - 1, baseline.ts["day"].nunique())
    assert ((shares >= 0) & (shares <= 1)).all()
    assert (np.diff(shares, axis=0) <= 1e-12).all()  # a higher rung is never reached by more runs
    assert (np.diff(shares, axis=1) >= -1e-12).all()  # 'reached by date' never goes down
    last = baseline.ts[baseline.ts["day"] == baseline.ts["day"].max()]
    for k in range(1, len(RUNG_NAMES)):
        assert shares[k - 1, -1] == pytest.approx((last["max_rung"] >= k).mean()), k
    assert 0 < shares[:, -1].sum() < len(RUNG_NAMES) - 1  # some rungs reached by the end, not all


def test_ladder_has_one_strip_per_run_and_a_whole_colour_bar(baseline, short):
    for runs in ([baseline], [baseline, short]):
        fig = plots.ladder_chart(runs)
        fig.canvas.draw()
        bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
        strips = [ax for ax in fig.axes if ax not in bars and ax.get_visible()]
        assert len(strips) == len(runs) and len(bars) == 1
        renderer = fig.canvas.get_renderer()
        box = bars[0].get_tightbbox(renderer)  # colour bar with its ticks and label
        assert box.x1 <= fig.bbox.x1 + 1 and box.y0 >= -1 and box.y1 <= fig.bbox.y1 + 1


def test_capacity_is_small_multiples_one_panel_per_group(baseline, short):
    fig = plots.capacity_chart([baseline, short])
    panels = [ax for ax in fig.axes if ax.get_visible()]
    groups = plots.group_columns([baseline])
    assert len(panels) == len(groups) == 4
    assert {ax.get_title() for ax in panels} >= {"Kataib Hezbollah", "nujaba"}
    for ax in panels:
        colours = {matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()}
        assert colours == {plots.PALETTE[0].lower(), plots.PALETTE[1].lower()}


def test_palette_is_okabe_ito_and_runs_get_distinct_colours():
    assert plots.colour(0) == "#0072B2" and plots.colour(1) == "#D55E00"
    assert len({plots.colour(i) for i in range(len(plots.PALETTE))}) == len(plots.PALETTE)


def test_sweep_heatmap_colour_bar_is_not_cut_off():
    from types import SimpleNamespace

    import pandas as pd

    from sim.sweep.figures import heatmap_figure

    manifest = {"name": "s", "design": {"kind": "grid", "points": 9}, "replicates": 2, "seed": 0, "engine": "ensemble",
                "scenario": {"days": 30, "start_date": "2023-10-17"}, "package": {"version": "0"}}
    sweep = SimpleNamespace(manifest=manifest, paths=["a.b", "c.d", "e.f"])
    table = pd.DataFrame(np.arange(9.0).reshape(3, 3), index=[0.1, 0.2, 0.3], columns=[1.0, 2.0, 3.0])
    fig = heatmap_figure(sweep, table, "a.b", "c.d", "cumulative_attacks")
    fig.canvas.draw()
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    label = bar.yaxis.label.get_window_extent(fig.canvas.get_renderer())
    assert label.y0 >= 0 and label.y1 <= fig.bbox.y1 and label.x1 <= fig.bbox.x1


def test_fan_chart_shades_the_ceasefire_windows_of_the_summary(baseline, tmp_path):
    window = {"name": "pause", "start": "2023-11-24", "end": "2023-11-30", "days": 7, "observers": ["us"],
              "obedience": 0.9}
    truce = RunData("truce", baseline.ts, {**baseline.summary, "ceasefires": [window]})
    fig = plots.fan_chart([truce])
    spans = [p for p in fig.axes[0].patches if p.get_label() == "ceasefire"]
    assert len(spans) == 1
    left, width = spans[0].get_x(), spans[0].get_width()
    x0, x1 = (matplotlib.dates.num2date(x).date().isoformat() for x in (left, left + width))
    assert (x0, x1) == ("2023-11-24", "2023-12-01")  # the last day included
    assert "ceasefire" in svg_text(fig, tmp_path, "truce")
    assert "ceasefire" not in svg_text(plots.fan_chart([baseline]), tmp_path, "plain")


def test_ceasefire_windows_are_named_by_run_in_a_comparison_and_shaded_in_the_pauses_figure(baseline):
    window = {"name": "pause", "start": "2023-11-24", "end": "2023-11-30", "days": 7, "observers": ["us"],
              "obedience": 0.9}
    truce = RunData("truce", baseline.ts, {**baseline.summary, "ceasefires": [window]})
    labels = [p.get_label() for p in plots.fan_chart([baseline, truce]).axes[0].patches]
    assert "ceasefire (truce)" in labels and "ceasefire" not in labels  # not read as every run's window
    fig = plots.pauses_chart([baseline, truce])
    shaded = [len(ax.patches) for ax in fig.axes]  # runs' panels and strips, in order
    assert shaded == [0, 0, 1, 1]
