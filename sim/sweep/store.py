"""The results folder of a sweep.

Layout::

    DIR/manifest.json                 spec (as run) and its hash, versions, seeding convention, sizes
    DIR/spec.yaml                     the spec file as written
    DIR/design.parquet                the design table (point, values, unit coordinates)
    DIR/runs/chunk-000123.parquet     one row per run of chunk 123 (run, point, replicate, parameters, outcomes)
    DIR/timeseries/chunk-000123.parquet   kept days of chunk 123's runs (if the spec asks for them): run,
                                      point, replicate, day, date (date32), the kept columns and, when
                                      only every k-th day is kept, ``cumulative_<count>`` for each kept
                                      daily count (totals over all days so far, so sums stay right)

Writing is all-or-nothing per chunk: a chunk's tables are written under a
hidden temporary name (``.chunk-000123.parquet.<pid>.tmp``), flushed to disk,
then renamed to their final name; the runs file is renamed last, and its
presence is what marks the chunk done.  A chunk file is therefore either
complete or absent, and since a chunk has one fixed file name, a chunk run
twice (resume after a crash) replaces its file rather than adding rows:
duplicates are impossible by construction.  Readers (``pandas.read_parquet(DIR /
"runs")``, pyarrow datasets) skip hidden files, so they see only finished
chunks, even while a sweep is running.

One process at a time may write a folder: ``DIR/.lock`` is held with
``fcntl.flock`` for the whole sweep (released by the OS if the process dies).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.columns import DAY_COUNTS, INT_STATE_COLUMNS
from sim.errors import InputError

__all__ = ["FORMAT", "Store", "series_columns", "series_frame", "series_schema"]

FORMAT = "escalation-sweep/1"
_CHUNK = re.compile(r"^chunk-(\d{6,})\.parquet$")


_MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "spec_hash": str, "spec": dict, "scenario.hash": str, "seed": int, "replicates": int, "runs": int,
    "chunk_size": int, "design.kind": str, "design.points": int, "design.parameters": list, "outcomes": list,
}
"""What a sweep manifest must hold (dotted keys) to be read, analysed or resumed."""


def _get(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def series_columns(columns: Sequence[str], every: int) -> list[str]:
    """Value columns of a sweep's time series: the kept ones and, if days are subsampled (``every`` > 1),
    ``cumulative_<col>`` for each kept daily count (``cumulative_attacks`` for ``attacks``) not kept already."""
    out = list(columns)
    if every > 1:
        counts = frozenset(DAY_COUNTS)
        out += [f"cumulative_{c}" for c in columns if c in counts and f"cumulative_{c}" not in out]
    return out


def series_schema(columns: Sequence[str], every: int) -> pa.Schema:
    """Arrow schema of a chunk's time series (see the module doc), with each column's unit and description."""
    from sim.tables import column_doc

    whole = frozenset(DAY_COUNTS) | frozenset(INT_STATE_COLUMNS)
    fields = [pa.field(n, pa.int64(), nullable=False) for n in ("run", "point", "replicate", "day")]
    fields.append(pa.field("date", pa.date32(), nullable=False))
    for col in series_columns(columns, every):
        base = col[len("cumulative_"):] if col.startswith("cumulative_") and col != "cumulative_attacks" else col
        typ = pa.int64() if base in whole else pa.float64()
        unit, text = column_doc(base)
        if base != col:
            text = f"Running total over all days so far of: {text}"
        fields.append(pa.field(col, typ, nullable=False, metadata={"unit": unit, "description": text}))
    return pa.schema(fields)


def series_frame(ts: pd.DataFrame, start: dt.date, columns: Sequence[str], every: int, days: int) -> pd.DataFrame:
    """The kept days of a per-day table: ``replicate`` (as given), ``day``, ``date`` and the value columns of
    :func:`series_columns` -- cumulative ones summed over every day before days are dropped."""
    from .outcomes import sample_days

    ts = ts.sort_values(["replicate", "day"], kind="stable")
    mask = ts["day"].isin(sample_days(days, every)).to_numpy()
    keep = ts.loc[mask]
    day = keep["day"].to_numpy(np.int64)
    part = pd.DataFrame({"replicate": keep["replicate"].to_numpy(np.int64), "day": day,
                         "date": np.datetime64(start, "D") + day})
    for col in series_columns(columns, every):
        if col in columns:
            part[col] = keep[col].to_numpy()
        else:
            part[col] = ts.groupby("replicate", sort=False)[col[len("cumulative_"):]].cumsum().to_numpy()[mask]
    return part


class Store:
    """A sweep's results folder (see the module doc)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.ts_dir = self.root / "timeseries"
        self.manifest_path = self.root / "manifest.json"
        self.design_path = self.root / "design.parquet"

    # ------------------------------------------------------------------ folder and lock

    @staticmethod
    def chunk_name(index: int) -> str:
        return f"chunk-{index:06d}.parquet"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def prepare(self) -> list[Path]:
        """Create the folder (and parents); refuse a non-empty folder that is not a sweep.

        Returns what it created (folders, and the lock file to come), for :meth:`discard`.
        """
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"{str(self.root)!r} is a file, not a folder", path="--out")
        if self.root.is_dir() and not self.exists():
            others = [p for p in self.root.iterdir() if p.name != ".lock"]
            if any(p.name not in ("runs", "timeseries") or not p.is_dir() or any(p.iterdir()) for p in others):
                raise InputError(f"the folder {str(self.root)!r} is not empty and holds no sweep (no manifest.json)",
                                 path="--out", allowed="a new or empty folder, or a sweep folder with --resume")
        created = [p for p in (self.runs_dir, self.root, *self.root.parents) if not p.exists()]
        created += [self.root / ".lock"] if not (self.root / ".lock").exists() else []
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.discard(created)
            raise InputError(f"cannot write to {str(self.root)!r}: {exc.strerror or exc}", path="--out") from None
        return created

    def discard(self, created: list[Path]) -> None:
        """Remove what :meth:`prepare` created, if still empty (a sweep that never started leaves nothing)."""
        for p in sorted(created, key=lambda q: len(q.parts), reverse=True):
            try:
                if p.is_dir() and not p.is_symlink():
                    p.rmdir()
                elif p.name == ".lock" and p.is_file() and p.stat().st_size == 0:
                    p.unlink()
            except OSError:
                pass

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold ``DIR/.lock`` (one writer at a time); InputError if another process holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            yield
            return
        with open(self.root / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise InputError(f"another process is writing a sweep to {str(self.root)!r}", path="--out",
                                 allowed="wait for it to finish, or choose another folder") from None
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def clean_temporary(self) -> int:
        """Delete temporary files left by an interrupted write; return how many."""
        n = 0
        for d in (self.root, self.runs_dir, self.ts_dir):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n

    # ------------------------------------------------------------------ manifest and design

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        _atomic_write_bytes(self.manifest_path, text.encode("utf-8"))

    def read_manifest(self) -> dict[str, Any]:
        """The manifest; InputError if it is unreadable or lacks what reading and resuming need."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {str(self.manifest_path)!r}: {exc}", path="DIR") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{str(self.manifest_path)!r} is not a sweep manifest ({FORMAT})", path="DIR")
        missing = [key for key, kind in _MANIFEST_KEYS.items() if not isinstance(_get(data, key), kind)]
        if missing:
            raise InputError(f"{str(self.manifest_path)!r} is damaged: {', '.join(missing)} missing or of the "
                             "wrong type", path="DIR", allowed="a folder written by 'escalation sweep' (or start "
                                                              "the sweep again in a new folder)")
        return data

    def write_design(self, design: pd.DataFrame) -> None:
        self._write_table(self.design_path, pa.Table.from_pandas(design, preserve_index=False))

    def read_design(self) -> pd.DataFrame:
        """The design table; InputError if it is missing or unreadable."""
        try:
            design = pd.read_parquet(self.design_path)
        except FileNotFoundError:
            raise InputError(f"the sweep in {str(self.root)!r} has no design.parquet", path="DIR",
                             allowed="a folder written by 'escalation sweep' (or start the sweep again in a "
                                     "new folder)") from None
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InputError(f"{str(self.design_path)!r} is damaged: {str(exc).splitlines()[0] if str(exc) else exc}",
                             path="DIR", allowed="start the sweep again in a new folder") from None
        if "point" not in design.columns:
            raise InputError(f"{str(self.design_path)!r} is damaged (no 'point' column)", path="DIR")
        return design

    def damaged_chunks(self, runs_in: Callable[[int], int] | None = None, chunks: int | None = None) -> list[int]:
        """Finished chunks whose runs file is unreadable (e.g. truncated) or, given the layout
        (``runs_in(chunk)``, ``chunks``), holds the wrong number of rows or lies outside it."""
        bad = []
        for index in sorted(self.done_chunks()):
            try:
                rows = pq.read_metadata(self.runs_dir / self.chunk_name(index)).num_rows
            except (OSError, pa.ArrowException):
                bad.append(index)
                continue
            if runs_in is not None and chunks is not None and (index >= chunks or rows != runs_in(index)):
                bad.append(index)
        return bad

    def remove_chunk(self, index: int) -> None:
        """Delete one chunk's files (the runs file first: the chunk is then no longer done)."""
        for d in (self.runs_dir, self.ts_dir):
            (d / self.chunk_name(index)).unlink(missing_ok=True)

    def write_text(self, name: str, text: str) -> None:
        _atomic_write_bytes(self.root / name, text.encode("utf-8"))

    # ------------------------------------------------------------------ chunks

    @staticmethod
    def _write_table(path: Path, table: pa.Table) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def write_chunk(self, index: int, runs: pa.Table, series: pa.Table | None = None) -> None:
        """Write one finished chunk (time series first, runs last: the runs file marks it done)."""
        name = self.chunk_name(index)
        if series is not None:
            self.ts_dir.mkdir(exist_ok=True)
            self._write_table(self.ts_dir / name, series)
        self._write_table(self.runs_dir / name, runs)
        _fsync_dir(self.runs_dir)

    def done_chunks(self) -> set[int]:
        """Indices of the finished chunks."""
        if not self.runs_dir.is_dir():
            return set()
        return {int(m.group(1)) for p in self.runs_dir.iterdir() if (m := _CHUNK.match(p.name))}

    def read_runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every finished run, sorted by run number."""
        files = sorted(self.runs_dir.glob("chunk-*.parquet"))
        if not files:
            return pd.DataFrame()
        frame = pq.ParquetDataset(files).read(columns=columns).to_pandas()
        return frame.sort_values("run", ignore_index=True) if "run" in frame.columns else frame

    def read_timeseries(self) -> pd.DataFrame:
        files = sorted(self.ts_dir.glob("chunk-*.parquet")) if self.ts_dir.is_dir() else []
        if not files:
            return pd.DataFrame()
        return pq.ParquetDataset(files).read().to_pandas().sort_values(["run", "day"], ignore_index=True)
