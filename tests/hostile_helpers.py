"""Helpers shared by the hostile-input tests (tests/test_hostile_*.py): in-process CLI calls and
snapshots of a folder's contents, to compare before and after."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sim import cli


def run_cli(capsys, *args: object) -> tuple[int, str, str]:
    """``escalation ARGS`` in this process; return (exit status, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (hidden ones too): relative path -> content hash ('dir' for folders)."""
    return {p.relative_to(folder).as_posix(): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}
