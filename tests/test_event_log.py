"""The compact event log (sim.dynamics.events) and its way to the files (sim.tables): issue 13's memory.

Known answers against a plain reference (the log as Python rows, the way the
log was kept before it was encoded), memory bounds of a real block, and the
written files' types and values.
"""

from __future__ import annotations

import io

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.ensemble
from sim.cli import main as cli
from sim.columns import EVENT_COLUMNS, EVENT_COUNTS, EVENT_DEFAULTS, EVENT_TEXT
from sim.dynamics.events import EventLog, EventParts, concat_events
from sim.tables import to_arrow

DATES = pd.date_range("2024-01-01", periods=40).date
TEXTS = ["", "US", "kh", "attack", "a+b", "tower_22", "ceasefire"]


# --------------------------------------------------------------------------- a real block


@pytest.fixture(scope="module")
def block():
    s = sim.ensemble.prepare_scenario("baseline", days=120)
    eng = sim.ensemble.EnsembleEngine(sim.ensemble.compile_scenario(s), 300, sim.ensemble.block_rng(0, 0, 300),
                                      events=True).run()
    return eng


def test_a_blocks_event_log_holds_no_python_object_per_event(block):
    log = block.state.events
    assert len(log) > 10_000
    stored = 0
    for idx, _, fields in log._blocks:
        arrays = [idx, *(v for v in fields.values() if isinstance(v, np.ndarray))]
        assert all(a.dtype != object for a in arrays)
        stored += sum(a.nbytes for a in arrays)
    assert stored / len(log) < 40  # bytes per event while the run goes on (a few codes and counts)


def test_a_blocks_event_table_has_compact_types(block):
    ev = block.event_log()
    assert not (ev.dtypes == object).any()
    text = [ev[c].dtype for c in EVENT_TEXT]
    assert all(isinstance(d, pd.CategoricalDtype) for d in text) and all(d == text[0] for d in text)
    assert (ev["actor"] == ev["target"]).dtype == bool  # one dtype: text columns compare with each other
    assert {str(ev[c].dtype) for c in EVENT_COUNTS} == {"int16"}
    assert ev["replicate"].dtype == np.int32 and ev["day"].dtype == np.int16 and ev["value"].dtype == np.float64
    assert ev.memory_usage(deep=True).sum() / len(ev) < 80  # bytes per event (was about 500)


def test_parts_of_whole_replicates_join_into_the_table(block):
    whole = block.event_log()
    parts = list(block.state.events.frames(block.c.dates, 0, per=64))
    assert len(parts) == 5 and all(p["replicate"].nunique() <= 64 for p in parts)
    assert [p["replicate"].min() // 64 for p in parts] == list(range(5))
    pd.testing.assert_frame_equal(concat_events(parts), whole)


def test_released_log_is_empty_and_event_parts_are_read_once(block):
    s = sim.ensemble.prepare_scenario("baseline", days=20)
    eng = sim.ensemble.EnsembleEngine(sim.ensemble.compile_scenario(s), 5, sim.ensemble.block_rng(0, 0, 5),
                                      events=True).run()
    log = eng.state.events
    parts = EventParts([(log, eng.c.dates, 10)], per=2)
    frames = list(parts)
    assert len(log) == 0 and [f["replicate"].min() for f in frames] == [10, 12, 14]
    with pytest.raises(RuntimeError):
        list(parts)


# --------------------------------------------------------------------------- known answers against plain rows


def _reference(adds: list[tuple[np.ndarray, int, dict]], first: int) -> pd.DataFrame:
    """The log as plain Python rows, replicate-major, in the order added (texts as objects, int64/float64)."""
    rows = []
    for idx, day, fields in adds:
        for j, r in enumerate(idx.tolist()):
            row = {"replicate": first + r, "day": day, "date": pd.Timestamp(DATES[day])}
            for k in EVENT_COLUMNS[1:]:
                v = fields.get(k, EVENT_DEFAULTS[k])
                row[k] = v[j] if isinstance(v, (list, np.ndarray)) else v
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["replicate", "day", "date", *EVENT_COLUMNS[1:]])
    return frame.sort_values("replicate", kind="stable", ignore_index=True)


def _plain(ev: pd.DataFrame) -> pd.DataFrame:
    """A compact frame with texts as objects and numbers widened (to compare values with the reference)."""
    out = ev.astype({c: object for c in EVENT_TEXT})
    ints = [c for c in ev.columns if pd.api.types.is_integer_dtype(ev[c].dtype)]
    return out.astype(dict.fromkeys(ints, np.int64)).assign(date=pd.to_datetime(ev["date"]).astype("datetime64[ns]"))


@st.composite
def event_adds(draw):
    adds = []
    for _ in range(draw(st.integers(1, 8))):
        n = draw(st.integers(1, 6))
        idx = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
        fields = {}
        for k in draw(st.sets(st.sampled_from(EVENT_COLUMNS[1:]), max_size=6)):
            one = draw(st.booleans())
            if k in EVENT_TEXT:
                fields[k] = draw(st.sampled_from(TEXTS)) if one else np.array(
                    draw(st.lists(st.sampled_from(TEXTS), min_size=n, max_size=n)), dtype=object)
            elif k == "value":
                fields[k] = draw(st.floats(-5, 5)) if one else np.array(
                    draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
            else:
                big = st.integers(-2 ** 31, 2 ** 31 - 1)
                whole = st.one_of(st.integers(-3, 40), big)
                fields[k] = draw(whole) if one else np.array(draw(st.lists(whole, min_size=n, max_size=n)))
        adds.append((idx, draw(st.integers(0, len(DATES) - 1)), fields))
    return adds


@settings(max_examples=60, deadline=None)
@given(event_adds(), st.integers(0, 1000), st.integers(1, 4))
def test_frames_keep_every_value_of_plain_rows(adds, first, per):
    log = EventLog()
    for idx, day, fields in adds:
        log.add(idx, day, **fields)
    want = _reference(adds, first)
    assert len(log) == len(want)
    for r in set(want["replicate"] - first):  # the display rows of one replicate
        rows = pd.DataFrame(log.rows(r))[list(EVENT_COLUMNS)]
        ref = want[want["replicate"] == first + r][list(EVENT_COLUMNS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, ref, check_dtype=False)
    parts = list(log.frames(DATES, first, per=per))
    assert all(p["replicate"].max() // per == p["replicate"].min() // per for p in parts if len(p))
    whole = log.frame(DATES, first, release=True)
    pd.testing.assert_frame_equal(concat_events(parts), whole)
    pd.testing.assert_frame_equal(_plain(whole), want, check_dtype=False)
    assert len(log) == 0


def test_a_whole_number_beyond_int32_is_refused_not_wrapped():
    log = EventLog()
    log.add([0, 1], 3, launches=np.array([40_000, 2]))  # beyond int16: the block's column widens
    assert log.frame(DATES)["launches"].tolist() == [40_000, 2]
    with pytest.raises(OverflowError):
        EventLog().add([0], 1, killed=np.array([2 ** 31]))
    with pytest.raises(OverflowError):
        EventLog().add([0, 1], 1, killed=-2 ** 31 - 1)


# --------------------------------------------------------------------------- the files


def test_categorical_text_gives_the_arrow_and_parquet_of_plain_text():
    rng = np.random.default_rng(4)
    n = 500
    frame = pd.DataFrame({"replicate": np.repeat(np.arange(5), 100), "day": rng.integers(0, 30, n),
                          **{c: pd.Categorical(rng.choice(TEXTS, n), categories=sorted(TEXTS)) for c in EVENT_TEXT},
                          "launches": rng.integers(0, 9, n).astype(np.int16), "value": rng.random(n)})
    plain = frame.astype(dict.fromkeys(EVENT_TEXT, object))
    start = DATES[0]
    a, b = to_arrow(frame, start, table="events"), to_arrow(plain, start, table="events")
    assert a.equals(b) and a.schema.equals(b.schema)
    for c in EVENT_TEXT:  # the same dictionaries: the texts present, in order of first appearance
        assert a.column(c).chunk(0).dictionary.equals(b.column(c).chunk(0).dictionary)
    files = []
    for table in (a, b):
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        files.append(buf.getvalue())
    assert files[0] == files[1]


def test_written_events_keep_their_types_and_values(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sim.ensemble, "BLOCK", 4)
    out = tmp_path / "run"
    assert cli(["run", "baseline", "-n", "9", "--days", "30", "--seed", "2", "-q", "--csv", "--out", str(out)]) == 0
    schema = pq.read_schema(out / "events.parquet")
    assert all(schema.field(c).type == pa.dictionary(pa.int32(), pa.string()) for c in EVENT_TEXT)
    assert all(schema.field(c).type == pa.int32() for c in ("replicate", "day", *EVENT_COUNTS))
    assert schema.field("date").type == pa.date32() and schema.field("value").type == pa.float64()
    con = duckdb.connect()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from "
                             f"'{out / 'events.parquet'}')").fetchall())
    assert types["kind"] == "VARCHAR" and types["launches"] == "INTEGER" and types["date"] == "DATE"
    _, engine = sim.ensemble.run_ensemble("baseline", 9, 2, days=30, events=True)
    written = pd.read_parquet(out / "events.parquet")
    assert len(written) == len(engine)
    for c in EVENT_TEXT:
        assert written[c].astype(str).tolist() == engine[c].astype(str).tolist()
    for c in ("replicate", "day", *EVENT_COUNTS, "value"):
        assert np.array_equal(written[c].to_numpy(), engine[c].to_numpy()), c
    csv = pd.read_csv(out / "events.csv", keep_default_na=False)
    assert csv["kind"].tolist() == engine["kind"].astype(str).tolist()
    assert csv["launches"].tolist() == engine["launches"].tolist()


def test_the_writers_form_of_a_block_gives_the_same_files(tmp_path, monkeypatch):
    """Per-day table in int32/int16 and events in parts (stream=) vs int64 and one event frame: same bytes."""
    import sim.tables
    from sim.stream import RunStream

    monkeypatch.setattr(sim.tables, "ROW_GROUP_REPLICATES", 2)  # several row groups, and parts, in 7 replicates
    s = sim.ensemble.prepare_scenario("baseline", days=30)
    files = []
    for stream in (None, 2):
        ts, ev = sim.ensemble.run_ensemble(s, 7, 1, events=True, stream=stream)
        assert isinstance(ev, pd.DataFrame) == (stream is None)
        out = tmp_path / f"stream-{stream}"
        out.mkdir()
        writer = RunStream(out, s, {"seed": 1}, csv=True)
        writer.add(ts, ev)
        writer.close()
        files.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert len(files[0]) == 4 and files[0] == files[1]
    assert pq.ParquetFile(tmp_path / "stream-2" / "events.parquet").metadata.num_row_groups == 4


def test_the_compact_per_day_table_refuses_a_value_beyond_int32():
    from sim.compiled import compile_scenario
    from sim.ensemble import EnsembleEngine, block_rng
    from sim.schema import Scenario

    eng = EnsembleEngine(compile_scenario(Scenario(days=5)), 2, block_rng(0, 0, 2), compact=True)
    eng.step()
    eng._stage_int[0, 0, 0] = 2**31  # a count no int32 column can hold: refused, never wrapped
    with pytest.raises(OverflowError, match="int32"):
        eng.run()
    ok = EnsembleEngine(compile_scenario(Scenario(days=5)), 2, block_rng(0, 0, 2), compact=True).run()
    assert ok._tab_int.dtype == np.int32
