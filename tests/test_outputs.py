"""Results that scale: streamed run folders, typed self-describing Parquet, CSV on request, size checks,
per-day aggregates for the figures, sweep time series with dates and cumulative columns."""

from __future__ import annotations

import datetime as dt
import io
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.ensemble
import sim.stream
from sim.aggregates import FLOAT_RESOLUTION, SAMPLE_PATHS, DayAggregates, iter_replicate_blocks
from sim.cli import main as cli
from sim.dynamics.events import concat_events
from sim.plots import FIGURES
from sim.outcomes import QUANTILES, horizon_table
from sim.results import read_timeseries, write_json
from sim.summary import summarize
from sim.rules import RUNG_NAMES
from sim.sizing import CSV_AUTO_ROWS, LARGE_SECONDS, check_size, estimate, want_csv
from sim.tables import read_metadata

RUN = ["run", "baseline", "-n", "7", "--days", "40", "--seed", "3", "-q"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_blocks():
    """Engine blocks of 3 replicates (both the engine and the writer read sim.ensemble.BLOCK)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(sim.ensemble, "BLOCK", 3)
    yield
    mp.undo()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_blocks):
    out = tmp_path_factory.mktemp("out") / "run"
    assert cli([*RUN, "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- self-describing Parquet


def test_parquet_metadata_names_the_run_and_every_column(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    for name in ("timeseries", "events"):
        meta = read_metadata(run_dir / f"{name}.parquet")
        assert meta["table"] == name
        assert meta["scenario"] == "baseline" and meta["scenario_hash"] == summary["scenario"]["hash"]
        assert (meta["seed"], meta["replicates"], meta["days"]) == (3, 7, 40)
        assert meta["engine"] == summary["engine"] == "ensemble" and meta["version"] == summary["version"]
        assert meta["start_date"] == "2023-10-17"
        schema = pq.read_schema(run_dir / f"{name}.parquet")
        assert set(meta["columns"]) == set(schema.names)
    schema = pq.read_schema(run_dir / "timeseries.parquet")
    assert schema.field("us_killed").metadata == {b"unit": b"people", b"description": b"US service members killed that day"}
    assert b"Kataib Hezbollah" in schema.field("capacity_kh").metadata[b"description"]
    assert schema.field("date").type == pa.date32()
    assert schema.field("replicate").type == pa.int32() and schema.field("attacks").type == pa.int32()
    assert schema.field("tension").type == pa.float64()
    for col in ("rung", "max_rung"):
        typ = schema.field(col).type
        assert pa.types.is_dictionary(typ) and typ.ordered
    rung = pq.read_table(run_dir / "timeseries.parquet", columns=["max_rung"]).column(0).chunk(0)
    assert rung.dictionary.to_pylist() == list(RUNG_NAMES)  # index = rung number


def test_parquet_files_are_byte_reproducible(run_dir, tmp_path, small_blocks):
    again = tmp_path / "again"
    assert cli([*RUN, "--out", str(again)]) == 0
    for name in ("timeseries.parquet", "events.parquet", "timeseries.csv", "events.csv"):
        assert (again / name).read_bytes() == (run_dir / name).read_bytes(), name


def test_every_column_is_described_and_units_agree_with_the_outcome_registry(run_dir):
    from sim.columns import TIMESERIES_COLUMNS
    from sim.outcomes import OUTCOMES
    from sim.tables import COLUMN_DOCS

    assert set(COLUMN_DOCS) == {"replicate", "day", "date", *TIMESERIES_COLUMNS}
    for name in ("timeseries", "events"):
        for field in pq.read_schema(run_dir / f"{name}.parquet"):
            assert field.metadata[b"description"], (name, field.name)
    for o in OUTCOMES:  # a per-day column summed or taken last into an outcome of the same name
        if o.name == o.reduce.column and o.name in COLUMN_DOCS and o.name != "max_rung":  # rungs: names
            assert COLUMN_DOCS[o.name][0] == o.unit, o.name


def test_pandas_reads_typed_columns(run_dir):
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert ts["max_rung"].dtype == pd.CategoricalDtype(list(RUNG_NAMES), ordered=True)
    assert (ts["max_rung"] >= "harassment").any()  # ladder order, by name
    assert isinstance(ts["date"].iloc[0], dt.date) and ts["date"].iloc[0] == dt.date(2023, 10, 17)
    assert str(ts["us_killed"].dtype) == "int32"
    typed = pd.read_parquet(run_dir / "timeseries.parquet", dtype_backend="pyarrow")
    assert str(typed["date"].dtype) == "date32[day][pyarrow]"
    ev = pd.read_parquet(run_dir / "events.parquet")
    assert isinstance(ev["kind"].dtype, pd.CategoricalDtype) and "attack" in set(ev["kind"])
    assert len(ts) == 7 * 40 and ts["replicate"].is_monotonic_increasing


def test_duckdb_reads_run_tables_with_types(run_dir):
    con = duckdb.connect()
    ts = str(run_dir / "timeseries.parquet")
    types = dict(con.execute(f"select column_name, column_type from (describe select * from '{ts}')").fetchall())
    assert types["date"] == "DATE" and types["replicate"] == "INTEGER" and types["tension"] == "DOUBLE"
    assert types["max_rung"] == "VARCHAR"
    killed, first = con.execute(f"select sum(us_killed), min(date) from '{ts}'").fetchone()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert killed == pytest.approx(summary["outcomes"]["us_killed"]["mean"] * 7, rel=1e-5)
    assert first == dt.date(2023, 10, 17)
    kv = dict(con.execute(f"select decode(key), decode(value) from parquet_kv_metadata('{ts}')").fetchall())
    assert kv["escalation.scenario"] == "baseline"
    ev = str(run_dir / "events.parquet")
    n, kinds = con.execute(f"select count(*), count(distinct kind) from '{ev}' where date >= DATE '2023-10-17'").fetchone()
    assert n == len(pd.read_parquet(ev)) and kinds > 1


# --------------------------------------------------------------------------- streaming


def plain(table: pa.Table) -> pa.Table:
    """The table with dictionary columns decoded (each row group has its own dictionary)."""
    return pa.table({n: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c)
                     for n, c in zip(table.column_names, table.columns)})


def test_blocks_give_the_same_tables_as_one_call(small_blocks):
    """Writing block by block reproduces the engine's all-at-once tables (same per-replicate seeds)."""
    from sim.scenario_io import load_scenario

    s = load_scenario("baseline").model_copy(update={"days": 30})
    whole_ts, whole_ev = sim.ensemble.run_ensemble(s, 8, 5, events=True)
    parts = list(sim.stream.simulate_blocks(s, 8, 5, "ensemble", quiet=True))
    assert len(parts) == 3  # 3 + 3 + 2
    ts = pd.concat([p[0] for p in parts], ignore_index=True)
    ev = concat_events(frame for p in parts for frame in p[1])  # each block's events, frame by frame
    pd.testing.assert_frame_equal(ev, whole_ev)
    # the streamed per-day table is in the files' narrower integer types, with the same values
    assert (ts.dtypes == np.int32).sum() > 15 and (whole_ts.dtypes == np.int32).sum() == 0
    pd.testing.assert_frame_equal(ts, whole_ts, check_dtype=False)


def test_mesa_blocks_and_summary_from_the_stream_are_exact(tmp_path, monkeypatch, capsys):
    args = ["run", "baseline", "-n", "5", "--days", "25", "--engine", "mesa", "-q", "--no-figures"]
    assert run_cli(capsys, *args, "--out", tmp_path / "one")[0] == 0
    monkeypatch.setattr(sim.stream, "MESA_BLOCK", 2)
    assert run_cli(capsys, *args, "--out", tmp_path / "three")[0] == 0
    for name in ("timeseries.csv", "events.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / name).read_bytes()
    for name in ("timeseries.parquet", "events.parquet"):  # same rows; row groups follow the blocks
        assert plain(pq.read_table(tmp_path / "one" / name)).equals(plain(pq.read_table(tmp_path / "three" / name)))
    streamed = json.loads((tmp_path / "three" / "summary.json").read_text())
    ts = read_timeseries(tmp_path / "three")
    ts["max_rung"] = ts["max_rung"].cat.codes.astype(int)
    ts["date"] = pd.to_datetime(ts["date"])
    write_json(tmp_path / "whole.json", summarize(ts, dt.date(2023, 10, 17)))
    whole = json.loads((tmp_path / "whole.json").read_text())
    for key in ("outcomes", "rung_probability", "first_fatal_day"):
        assert streamed[key] == whole[key]


def test_only_one_block_is_held_while_the_next_is_simulated(tmp_path, monkeypatch, capsys):
    """Flat memory: block k is released before block k+1 is simulated (by the generator and by the writer)."""
    import gc
    import weakref

    from sim.engines import MesaRunner

    refs, alive = [], []
    real = MesaRunner.run

    def run(self, *args, **kwargs):
        gc.collect()
        alive.append(sum(r() is not None for r in refs))
        ts, ev = real(self, *args, **kwargs)
        refs.append(weakref.ref(ts))
        return ts, ev

    monkeypatch.setattr(MesaRunner, "run", run)
    monkeypatch.setattr(sim.stream, "MESA_BLOCK", 2)
    args = ["run", "baseline", "-n", "6", "--days", "10", "--engine", "mesa", "-q", "--no-figures"]
    assert run_cli(capsys, *args, "--out", tmp_path / "r")[0] == 0
    assert alive == [0, 0, 0]


def test_block_horizon_equals_the_registry_horizon_table():
    from sim.runner import run_replicates
    from sim.stream import block_horizon

    ts, _ = run_replicates("baseline", 6, seed=9, days=60)
    pd.testing.assert_frame_equal(block_horizon(ts, 60), horizon_table(ts))
    shuffled = ts.sample(frac=1, random_state=1)  # not replicate-major: falls back to the registry
    pd.testing.assert_frame_equal(block_horizon(shuffled, 60), horizon_table(shuffled))


def test_csv_by_default_only_for_small_runs(tmp_path, capsys):
    assert want_csv(None, CSV_AUTO_ROWS // 365, 365) and not want_csv(None, CSV_AUTO_ROWS // 365 + 1, 365)
    assert want_csv(True, 10**6, 365) and not want_csv(False, 1, 1)
    base = ["run", "baseline", "-n", "2", "--days", "10", "-q", "--no-figures"]
    assert run_cli(capsys, *base, "--no-csv", "--out", tmp_path / "a")[0] == 0
    assert not list((tmp_path / "a").glob("*.csv")) and (tmp_path / "a" / "events.parquet").is_file()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "timeseries.csv" not in summary["files"] and "timeseries.parquet" in summary["files"]
    assert run_cli(capsys, *base, "--out", tmp_path / "b")[0] == 0
    csv = pd.read_csv(tmp_path / "b" / "timeseries.csv")
    pq_ = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    assert list(csv.columns) == list(pq_.columns)
    assert list(csv["max_rung"]) == [str(v) for v in pq_["max_rung"]]
    assert np.array_equal(csv["militia_capacity"].to_numpy(), pq_["militia_capacity"].to_numpy())  # round trip


def test_plot_redraws_the_same_figures_from_parquet_row_groups(tmp_path, capsys, monkeypatch):
    import sim.tables

    monkeypatch.setattr(sim.tables, "ROW_GROUP_REPLICATES", 2)  # several row groups to stitch
    out = tmp_path / "r"
    assert run_cli(capsys, "run", "baseline", "-n", "5", "--days", "30", "-q", "--no-csv", "--out", out)[0] == 0
    assert pq.ParquetFile(out / "timeseries.parquet").num_row_groups >= 3
    before = {p.name: p.read_bytes() for p in (out / "figures").glob("*.png")}
    assert run_cli(capsys, "plot", out)[0] == 0
    after = {p.name: p.read_bytes() for p in (out / "figures").glob("*.png")}
    assert before == after
    assert sorted(before) == sorted(f"{stem}.png" for stem in FIGURES)


# --------------------------------------------------------------------------- per-day aggregates


def _table(values: np.ndarray, caps: np.ndarray, rungs: np.ndarray) -> pd.DataFrame:
    R, D = values.shape
    return pd.DataFrame({"replicate": np.repeat(np.arange(R), D), "day": np.tile(np.arange(D), R),
                         "date": np.tile(pd.date_range("2024-01-01", periods=D).to_numpy(), R),
                         "cumulative_attacks": values.ravel(), "munitions": values.ravel() % 7,
                         "capacity_g": caps.ravel(), "max_rung": rungs.ravel(),
                         "groups_stood_down": (values.ravel() % 3 == 0).astype(np.int64) * 2})


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_day_aggregates_match_numpy_percentiles_whatever_the_blocks(R, D, seed, cut):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 60, (R, D))
    caps = rng.random((R, D))
    rungs = np.maximum.accumulate(rng.integers(0, len(RUNG_NAMES), (R, D)), axis=1)
    ts = _table(values, caps, rungs)
    blocks = [ts[ts["replicate"] >= min(cut, R)], ts[ts["replicate"] < min(cut, R)]]  # later replicates first
    agg = DayAggregates.from_blocks(blocks, dt.date(2024, 1, 1), D)
    assert agg.n == R
    assert np.allclose(agg.bands("cumulative_attacks"), np.percentile(values, QUANTILES, axis=0))
    cum = np.cumsum(values % 7, axis=1)
    assert np.allclose(agg.bands("munitions", cumulative=True), np.percentile(cum, QUANTILES, axis=0))
    assert np.abs(agg.bands("capacity_g") - np.percentile(caps, QUANTILES, axis=0)).max() <= FLOAT_RESOLUTION / 2 + 1e-12
    for k in range(len(RUNG_NAMES)):
        assert np.array_equal(agg.reached(k), (rungs >= k).mean(axis=0))
    assert agg.dates[0] == np.datetime64("2024-01-01")
    assert np.array_equal(agg.paused_share(), (values % 3 == 0).mean(axis=0))
    ids, paths = agg.samples("cumulative_attacks")
    keep = min(R, SAMPLE_PATHS)
    assert ids == list(range(keep))  # the lowest replicate numbers, whatever order the blocks came in
    assert np.array_equal(paths, values[:keep])
    assert np.array_equal(agg.samples("groups_stood_down")[1], ((values % 3 == 0) * 2)[:keep])


def test_replicate_blocks_are_never_split():
    frame = pd.DataFrame({"replicate": [0, 0, 1, 1, 1, 2, 2, 3]})
    pieces = [frame.iloc[:3], frame.iloc[3:4], frame.iloc[4:7], frame.iloc[7:]]
    blocks = list(iter_replicate_blocks(pieces))
    assert pd.concat(blocks)["replicate"].tolist() == frame["replicate"].tolist()
    for b in blocks:
        for r in b["replicate"].unique():
            assert (b["replicate"] == r).sum() == (frame["replicate"] == r).sum()


# --------------------------------------------------------------------------- sizes


@pytest.fixture()
def no_simulation(monkeypatch):
    """A run that should be refused must not start simulating (keeps a failing test short)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the run should have been refused before simulating")

    monkeypatch.setattr(sim.stream, "simulate_blocks", refuse)


def test_absurd_run_is_refused_with_estimates_and_writes_nothing(tmp_path, capsys, no_simulation):
    out = tmp_path / "huge"
    code, _, err = run_cli(capsys, "run", "baseline", "--replicates", "1000000000000", "--out", out)
    assert code == 2 and "Traceback" not in err
    assert "1,000,000,000,000 replicates" in err and "years" in err and "PB" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_large_run_needs_yes_and_a_run_larger_than_the_disk_never_goes(tmp_path, capsys, monkeypatch,
                                                                         no_simulation):
    import sim.errors
    import sim.sizing

    n = int(LARGE_SECONDS / (365 * sim.sizing.SECONDS_PER_REPLICATE_DAY["ensemble"])) + 1000
    code, _, err = run_cli(capsys, "run", "baseline", "-n", n, "--out", tmp_path / "big")
    assert code == 2 and "--yes" in err and "hour" in err and not (tmp_path / "big").exists()
    est = estimate(n, 365, "ensemble", csv=False)
    check_size(est, n, tmp_path, yes=True)  # merely large: goes ahead with --yes
    monkeypatch.setattr(sim.sizing, "_free_bytes", lambda target: est.bytes / 2)
    with pytest.raises(sim.errors.InputError, match="free"):
        check_size(est, n, tmp_path, yes=True)


def test_compare_counts_every_scenario_in_its_estimate(tmp_path, capsys, no_simulation):
    import sim.sizing

    n = int(LARGE_SECONDS / (365 * 2 * sim.sizing.SECONDS_PER_REPLICATE_DAY["ensemble"]))  # 1 scenario: fine; 3: not
    code, _, err = run_cli(capsys, "compare", "baseline", "restraint", "baseline", "-n", n, "--out", tmp_path / "c")
    assert code == 2 and "--yes" in err


# --------------------------------------------------------------------------- progress


def test_progress_bar_on_a_terminal_only_and_never_with_quiet(monkeypatch):
    from sim.scenario_io import load_scenario

    s = load_scenario("baseline").model_copy(update={"days": 5})

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for quiet, tty, shown in ((False, True, True), (True, True, False), (False, False, False)):
        err = Terminal() if tty else io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        list(sim.stream.simulate_blocks(s, 3, 0, "mesa", quiet=quiet))
        assert ("/3 [" in err.getvalue()) == shown, (quiet, tty)


# --------------------------------------------------------------------------- sweeps


SWEEP = """\
scenario: baseline
days: 25
parameters:
  - path: us.doctrine.campaign.first_wave_targets
    role: lever
    range: [20, 120]
design: {kind: grid, levels: 2}
replicates: 3
seed: 4
engine: ensemble
timeseries: {columns: [attacks, us_killed, militia_capacity], every: 7}
"""


def test_sweep_time_series_have_dates_and_cumulative_columns(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "sweep"
    assert run_cli(capsys, "sweep", spec, "--out", out, "--workers", "0", "-q")[0] == 0
    series = pd.read_parquet(out / "timeseries").sort_values(["run", "day"], ignore_index=True)
    assert sorted(series["day"].unique()) == [0, 7, 14, 21, 24]
    assert (pd.to_datetime(series["date"]) - pd.Timestamp("2023-10-17")).dt.days.tolist() == series["day"].tolist()
    assert {"cumulative_attacks", "cumulative_us_killed"} <= set(series.columns)
    assert "cumulative_militia_capacity" not in series.columns
    runs = pd.read_parquet(out / "runs").set_index("run")
    last = series[series["day"] == 24].set_index("run")
    assert (last["cumulative_us_killed"] == runs.loc[last.index, "us_killed"]).all()  # totals stay right
    con = duckdb.connect()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from "
                             f"'{out}/timeseries/*.parquet')").fetchall())
    assert types["date"] == "DATE" and types["cumulative_us_killed"] == "BIGINT"
    field = pq.read_schema(next((out / "timeseries").glob("*.parquet"))).field("cumulative_us_killed")
    assert field.metadata[b"unit"] == b"people"
    runs_types = dict(con.execute(f"select column_name, column_type from (describe select * from "
                                  f"'{out}/runs/*.parquet')").fetchall())
    assert runs_types["run"] == "BIGINT" and runs_types["us_killed"] == "BIGINT"
