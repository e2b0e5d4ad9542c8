"""Typed, self-describing tables of a run folder, written block by block.

The per-day table and the event log leave the engines as pandas frames, one
block of replicates at a time.  This module turns each block into an Arrow
table with fixed types and writes it to Parquet (the primary format: zstd
compression, floats byte-stream-split rather than dictionary-encoded, one row
group per slice of :data:`ROW_GROUP_REPLICATES` replicates) and, when asked, to CSV through pyarrow's CSV writer.  Nothing
here holds more than one slice of a block beyond what the engine made.

Types: ``replicate``, ``day`` and every whole-number column as ``int32``;
floats as ``float64``; ``date`` as ``date32``; ``rung`` and ``max_rung`` as an
ordered dictionary whose values are the rung names in ladder order (index =
rung number); the event log's text columns as dictionaries, except ``detail``
(free text) which stays a string.

Self-describing: every Parquet file carries key-value metadata (``escalation.*``
keys: scenario name and hash, seed, replicates, days, start date, engine,
version, table) and a JSON ``escalation.columns`` map column -> unit and
description; each Arrow field also carries its own ``unit`` and
``description`` (``pyarrow.parquet.read_schema(path).field("us_killed").metadata``).

CSV bytes are reproducible: the same table gives the same bytes (floats in
shortest round-trip form, dates ``YYYY-MM-DD``, rung names as text).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.rules import RUNG_NAMES

__all__ = ["COLUMN_DOCS", "EVENT_DOCS", "META_PREFIX", "ROW_GROUP_REPLICATES", "RUNG_COLUMNS", "TableWriter",
           "column_doc", "file_metadata", "read_metadata", "rung_numbers", "to_arrow"]

META_PREFIX = "escalation."
ROW_GROUP_REPLICATES = 1_000
"""Replicates per Parquet row group (and per conversion slice: bounds the writer's extra memory)."""
COMPRESSION = "zstd"
RUNG_COLUMNS = ("rung", "max_rung")
RUNG_TYPE = pa.dictionary(pa.int8(), pa.string(), ordered=True)
_RUNG_DICTIONARY = pa.array(RUNG_NAMES, pa.string())
FREE_TEXT = ("detail",)
"""Text columns kept as plain strings (every other text column is dictionary-encoded)."""

COLUMN_DOCS: dict[str, tuple[str, str]] = {
    "replicate": ("run", "Number of the run, 0 to N-1"),
    "day": ("day", "Day of the run, 0 being the scenario's start_date"),
    "date": ("date", "Calendar date of that day"),
    "attacks": ("attacks", "Militia attacks (launches) on US forces that day, scripted ones included"),
    "cumulative_attacks": ("attacks", "Militia attacks since the start of the run, that day included"),
    "intercepted": ("attacks", "Attacks of that day stopped by air defence"),
    "us_injured": ("people", "US service members injured that day (by militias or by Iran)"),
    "us_killed": ("people", "US service members killed that day"),
    "us_strikes": ("facility strikes", "Facilities struck by the US that day (a facility hit twice counts twice)"),
    "targets_struck": ("targets", "Aimpoints (targets) struck that day"),
    "munitions": ("munitions", "Precision-guided munitions used that day"),
    "militants_killed": ("people", "Militants killed by US strikes that day"),
    "irgc_killed": ("people", "IRGC personnel killed by US strikes that day"),
    "civilian_harm": ("events", "Aimpoints struck that day whose strike harmed civilians"),
    "targets_in_iran": ("targets", "Aimpoints struck inside Iran that day"),
    "iran_direct_attacks": ("attacks", "Direct Iranian attacks on US forces that day"),
    "militia_capacity": ("share of full", "Mean of the groups' capacities, 0 to 1"),
    "iran_restraint": ("index 0-1", "How strongly Iran holds its proxies back, 0 (not at all) to 1"),
    "us_credibility": ("index", "US deterrent credibility: rises with strikes, fades with time"),
    "iran_war_risk": ("index", "Iran's perceived risk of a direct war: raised by US strikes and casualties"),
    "tension": ("index 0-1", "Regional tension that day, 0 (calm) to 1 (extreme)"),
    "rung": ("rung", "Rung of the escalation ladder that day (names in ladder order, calm = 0)"),
    "max_rung": ("rung", "Highest rung reached so far in the run (names in ladder order, calm = 0)"),
    "standdowns": ("stand-downs", "Militia groups that began a stand-down that day (docs/ODD.md 7.11)"),
    "groups_stood_down": ("groups", "Militia groups standing down at the end of that day"),
}
"""Unit and description of each column of the per-day table (``capacity_<group>``: see :func:`column_doc`)."""

EVENT_DOCS: dict[str, tuple[str, str]] = {
    "replicate": COLUMN_DOCS["replicate"],
    "day": ("day", "Day of the run of the event"),
    "date": ("date", "Calendar date of the event"),
    "actor": ("", "Who acted: a militia group id, US, Iran, scenario (a scripted shock or a ceasefire window) or ladder (a rung change)"),
    "kind": ("", "attack, scripted_attack, order, a strike label, direct_attack, shock, rung, standdown_order, "
                 "standdown, standdown_end, self_defence, leadership or ceasefire"),
    "target": ("", "The base attacked, the facility or owners struck, or the new rung"),
    "outcome": ("", "Result: attack outcome, struck/destroyed/damaged/no_target, scheduled, up/down; "
                    "stand-downs: ordered, obeyed, defied, expired, broken; ceasefires: start, end, honoured, "
                    "defied, broken"),
    "weapon": ("", "Weapon used (attacks)"),
    "previous": ("rung", "Previous rung (rung changes)"),
    "detail": ("", "key=value figures of the event"),
    "launches": ("attacks", "Launches of an attack row"),
    "intercepted": ("attacks", "Launches intercepted"),
    "injured": ("people", "US personnel injured"),
    "killed": ("people", "US personnel killed"),
    "facilities": ("facilities", "Facilities struck or ordered"),
    "aimpoints": ("targets", "Aimpoints of a strike or an order"),
    "munitions": ("munitions", "Precision munitions used"),
    "destroyed": ("targets", "Aimpoints destroyed"),
    "militants_killed": ("people", "Militants killed"),
    "irgc_killed": ("people", "IRGC personnel killed"),
    "civilian_harm": ("events", "Civilian-harm events"),
    "in_iran": ("targets", "Aimpoints inside Iran"),
    "due_day": ("day", "Day an order falls due (-1 if none)"),
    "value": ("", "A shock's value (tension, outside pressure)"),
}
"""Unit and description of the event log's columns (the engines' typed columns included)."""


def column_doc(name: str, table: str = "timeseries", groups: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(unit, description) of a column; ``capacity_<group>`` columns name their group."""
    docs = EVENT_DOCS if table == "events" else COLUMN_DOCS
    if name in docs:
        return docs[name]
    if name.startswith("capacity_"):
        gid = name[len("capacity_"):]
        label = (groups or {}).get(gid, gid)
        return ("share of full", f"Capacity of {label} to launch, 0 to 1 (launch capacity x coordination)")
    return ("", "")


# --------------------------------------------------------------------------- conversion


def rung_numbers(column: Any) -> np.ndarray:
    """Rung numbers (0-9) of a rung column read back: names (dictionary, categorical or text) or numbers."""
    if isinstance(column, (pa.ChunkedArray, pa.Array)):
        column = column.to_pandas()
    s = pd.Series(column)
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        lookup = {name: k for k, name in enumerate(RUNG_NAMES)}
        return s.astype(str).map(lookup).to_numpy(dtype=np.int64)
    return s.to_numpy(dtype=np.int64)


def _dates(days: np.ndarray, start: dt.date) -> pa.Array:
    offset = (start - dt.date(1970, 1, 1)).days
    return pa.array(np.asarray(days, dtype=np.int32) + np.int32(offset), pa.int32()).cast(pa.date32())


def _arrow_type(name: str, values: Any, table: str) -> pa.DataType:
    """The Arrow type a column gets (see the module doc); ``values`` is None for ``date``."""
    if name == "date":
        return pa.date32()
    if table == "timeseries" and name in RUNG_COLUMNS:
        return RUNG_TYPE
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.bool_()
    if pd.api.types.is_integer_dtype(dtype):
        return pa.int32()
    if pd.api.types.is_float_dtype(dtype):
        return pa.float64()
    return pa.string() if name in FREE_TEXT else pa.dictionary(pa.int32(), pa.string())


def _convert(values: Any, typ: pa.DataType, start: dt.date, days: np.ndarray) -> pa.Array:
    if typ == pa.date32():
        return _dates(days, start)
    if typ == RUNG_TYPE:
        if pd.api.types.is_integer_dtype(values.dtype):
            idx = np.asarray(values, dtype=np.int8)
        else:
            idx = rung_numbers(values).astype(np.int8)
        return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int8()), _RUNG_DICTIONARY, ordered=RUNG_TYPE.ordered)
    if pa.types.is_dictionary(typ) and isinstance(values.dtype, pd.CategoricalDtype):
        return _from_categorical(values, typ)
    if pa.types.is_dictionary(typ) or typ == pa.string():
        text = pa.array(values, from_pandas=True)
        if pa.types.is_dictionary(text.type):  # a categorical: decode, then encode again below
            text = text.cast(text.type.value_type)
        text = text.cast(pa.string())
        return text.dictionary_encode().cast(typ) if pa.types.is_dictionary(typ) else text
    return pa.Array.from_pandas(values).cast(typ)


def _from_categorical(values: pd.Series, typ: pa.DataType) -> pa.Array:
    """A categorical text column as the dictionary array ``dictionary_encode`` gives its texts -- the texts
    present, in order of first appearance -- computed on the codes (no text per row is made)."""
    codes = values.cat.codes.to_numpy()
    if codes.size and codes.min() < 0:  # missing values: the general path keeps them null
        text = pa.array(values.astype(object), from_pandas=True).cast(pa.string())
        return text.dictionary_encode().cast(typ)
    used = pd.unique(codes)  # in order of first appearance
    index = np.zeros(len(values.cat.categories), dtype=np.int64)
    index[used] = np.arange(used.size)
    texts = pa.array(np.asarray(values.cat.categories, dtype=object)[used], pa.string())
    indices = pa.array(index[codes], typ.index_type)
    return pa.DictionaryArray.from_arrays(indices, texts.cast(typ.value_type))


def to_arrow(frame: pd.DataFrame, start: dt.date, schema: pa.Schema | None = None,
             table: str = "timeseries") -> pa.Table:
    """One block (or slice) of a run's table as typed Arrow (types as in the module doc).

    ``date`` is rebuilt from ``day`` and the start date (no per-row timestamp
    parsing).  With ``schema`` the columns and types follow it (fields missing
    from ``frame`` are an error); without, they are inferred from ``frame``.
    """
    days = frame["day"].to_numpy()
    names = schema.names if schema is not None else list(frame.columns)
    arrays = []
    for name in names:
        if name not in frame.columns and name != "date":
            raise KeyError(f"the block has no column {name!r}")
        values = frame[name] if name in frame.columns else None
        typ = schema.field(name).type if schema is not None else _arrow_type(name, values, table)
        arrays.append(_convert(values, typ, start, days))
    if schema is None:
        return pa.Table.from_arrays(arrays, names=names)
    return pa.Table.from_arrays(arrays, schema=schema)


# --------------------------------------------------------------------------- metadata


def file_metadata(provenance: Mapping[str, Any], table: str, columns: Sequence[str],
                  groups: Mapping[str, str] | None = None) -> dict[bytes, bytes]:
    """Key-value metadata of one Parquet file: ``escalation.<key>`` for each provenance item, the table's
    name, and ``escalation.columns`` (JSON: column -> {unit, description})."""
    meta = {f"{META_PREFIX}{k}": (v if isinstance(v, str) else json.dumps(v)) for k, v in provenance.items()}
    meta[f"{META_PREFIX}table"] = table
    cols = {}
    for c in columns:
        unit, text = column_doc(c, table, groups)
        cols[c] = {"unit": unit, "description": text}
    meta[f"{META_PREFIX}columns"] = json.dumps(cols, ensure_ascii=False)
    return {k.encode(): v.encode("utf-8") for k, v in meta.items()}


def _described(schema: pa.Schema, table: str, metadata: dict[bytes, bytes],
               groups: Mapping[str, str] | None) -> pa.Schema:
    fields = []
    for f in schema:
        unit, text = column_doc(f.name, table, groups)
        fields.append(f.with_metadata({"unit": unit, "description": text}))
    return pa.schema(fields, metadata=metadata)


def read_metadata(path: Path | str) -> dict[str, Any]:
    """The ``escalation.*`` metadata of a Parquet file, JSON values decoded (keys without the prefix)."""
    raw = pq.read_schema(path).metadata or {}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        key = k.decode()
        if not key.startswith(META_PREFIX):
            continue
        text = v.decode("utf-8")
        try:
            out[key[len(META_PREFIX):]] = json.loads(text)
        except ValueError:
            out[key[len(META_PREFIX):]] = text
    return out


# --------------------------------------------------------------------------- writing


class TableWriter:
    """One table of a run folder: ``<stem>.parquet`` and optionally ``<stem>.csv``, written block by block.

    The schema is fixed by the first block.  Rows go to Parquet in row groups of
    at most :data:`ROW_GROUP_REPLICATES` replicates; ``close()`` finishes the
    files (an empty table still gets both files, with a header).
    """

    def __init__(self, folder: Path, stem: str, table: str, start: dt.date, provenance: Mapping[str, Any], *,
                 csv: bool, groups: Mapping[str, str] | None = None) -> None:
        self.folder, self.stem, self.table, self.start = Path(folder), stem, table, start
        self.provenance, self.csv, self.groups = dict(provenance), csv, groups
        self.schema: pa.Schema | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self.rows = 0

    @property
    def files(self) -> list[str]:
        return [f"{self.stem}.parquet", *([f"{self.stem}.csv"] if self.csv else [])]

    def _open(self, schema: pa.Schema) -> None:
        meta = file_metadata(self.provenance, self.table, schema.names, self.groups)
        self.schema = _described(schema, self.table, meta, self.groups)
        floats = [f.name for f in schema if pa.types.is_floating(f.type)]
        self._parquet = pq.ParquetWriter(self.folder / f"{self.stem}.parquet", self.schema, compression=COMPRESSION,
                                         use_dictionary=[f.name for f in schema if f.name not in floats],
                                         use_byte_stream_split=floats or False)
        if self.csv:
            self._csv = pacsv.CSVWriter(self.folder / f"{self.stem}.csv", self.schema.remove_metadata(),
                                        write_options=pacsv.WriteOptions(quoting_style="needed"))

    def write(self, frame: pd.DataFrame) -> None:
        """Append one block (replicate-major rows), converted slice by slice."""
        if frame is None or len(frame) == 0:
            return
        reps = frame["replicate"].to_numpy()
        cuts = np.flatnonzero(np.diff(reps // ROW_GROUP_REPLICATES)) + 1
        bounds = [0, *cuts.tolist(), len(frame)]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            part = frame.iloc[lo:hi]
            arrow = to_arrow(part, self.start, self.schema, self.table)
            if self._parquet is None:
                self._open(arrow.schema)
                arrow = arrow.cast(self.schema)
            self._parquet.write_table(arrow, row_group_size=len(part))
            if self._csv is not None:
                self._csv.write_table(arrow.replace_schema_metadata(None))
            self.rows += hi - lo

    def close(self, empty: pd.DataFrame | None = None) -> None:
        """Finish the files; ``empty`` (a frame with the columns and dtypes) types a table that got no rows."""
        if self._parquet is None:
            frame = empty if empty is not None else pd.DataFrame({"replicate": pd.Series(dtype="int64"),
                                                                  "day": pd.Series(dtype="int64")})
            self._open(to_arrow(frame, self.start, None, self.table).schema)
        self._parquet.close()
        if self._csv is not None:
            self._csv.close()
