"""Folder safety: what the tool may replace, and how it writes folders atomically.

Rules (also in the README, "Your files are safe"):

* Every folder the tool writes in one piece (``run``, ``compare``, ``analyze``,
  ``calibrate``) gets a manifest, :data:`MANIFEST`, listing every file it wrote
  with its sha256, and the sha256 of the manifest itself.  ``--overwrite`` (and
  the re-analysis or re-calibration into the same folder) may replace a folder
  only when its manifest is intact, every file in it is listed, and no listed
  file has changed.  Anything else is refused with exit status 2: a user's
  file is never deleted.
* Folders are built under a hidden sibling ``.NAME.tmp-PID`` holding the
  marker :data:`TMP_MARKER`, then renamed into place.  On an error, Ctrl-C or
  SIGTERM the temporary folder is deleted; after a hard kill (SIGKILL, power
  loss) the next command writing next to it deletes temporary folders of
  processes that no longer exist, and only those carrying our marker.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from sim.errors import InputError

__all__ = ["MANIFEST", "TMP_MARKER", "file_sha256", "write_manifest", "read_manifest", "ownership_problems",
           "sweep_stale", "ResultFolder"]

MANIFEST = "escalation-manifest.json"
"""The manifest of a folder written by the tool (see the module doc)."""

TMP_MARKER = ".escalation-tmp"
"""Marker file inside a temporary folder the tool is writing."""

_FORMAT = "escalation-manifest/1"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _self_hash(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _walk(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """Relative paths of the files, folders and other entries (links, FIFOs...) under ``folder``."""
    files, dirs, other = [], [], []
    for root, dnames, fnames in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in list(dnames):
            p = base / name
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                other.append(rel)
                dnames.remove(name)
            else:
                dirs.append(rel)
        for name in fnames:
            p = base / name
            rel = p.relative_to(folder).as_posix()
            (files if p.is_file() and not p.is_symlink() else other).append(rel)
    return sorted(files), sorted(dirs), sorted(other)


def write_manifest(folder: Path, kind: str, files: dict[str, str] | None = None) -> dict[str, Any]:
    """Write ``folder/MANIFEST``; return it.

    ``files`` maps relative paths to sha256; by default every file under
    ``folder`` (the folder was just written by the tool, nothing else is in it).
    """
    from sim import __version__

    if files is None:
        names, _, other = _walk(folder)
        if other:
            raise OSError(f"unexpected entries in {folder}: {', '.join(other)}")
        files = {f: file_sha256(folder / f) for f in names if f not in (MANIFEST, TMP_MARKER)}
    body = {"format": _FORMAT, "tool": "escalation-sim", "version": __version__, "kind": kind,
            "files": dict(sorted(files.items()))}
    manifest = {**body, "sha256": _self_hash(body)}
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return manifest


def _read_manifest(folder: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The intact manifest of ``folder``, or None and the reason."""
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None, f"it has no {MANIFEST}, so escalation did not write it"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None, f"its {MANIFEST} is unreadable"
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("files"), dict):
        return None, f"its {MANIFEST} is not an escalation manifest"
    body = {k: v for k, v in data.items() if k != "sha256"}
    if data.get("sha256") != _self_hash(body):
        return None, f"its {MANIFEST} has been edited (its own hash does not match)"
    return data, None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder`` if it is intact (its own hash matches), else None."""
    return _read_manifest(Path(folder))[0]


def ownership_problems(folder: Path, limit: int = 5, *, within: str = "") -> list[str]:
    """Why ``folder`` may not be replaced: empty when escalation wrote all of it and nothing changed.

    ``within`` (a sub-folder such as ``figures``) checks only that part of the folder.
    """
    folder = Path(folder)
    if folder.is_symlink():
        return ["it is a symbolic link"]
    manifest, reason = _read_manifest(folder)
    if manifest is None:
        return [reason or "no manifest"]
    listed: dict[str, str] = manifest["files"]
    parents = {p for f in listed for p in [Path(f).parents[i].as_posix() for i in range(len(Path(f).parents))]}
    if within and (folder / within).is_symlink():
        return [f"{within + '/'!r} is a symbolic link"]
    files, dirs, other = _walk(folder / within if within else folder)
    if within:
        files, dirs, other = ([f"{within}/{r}" for r in group] for group in (files, dirs, other))
    problems = [f"it holds {rel!r}, which is not a plain file or folder" for rel in other]
    problems += [f"it holds the folder {rel + '/'!r}, which escalation did not write"
                 for rel in dirs if rel not in parents]
    for rel in files:
        if rel == MANIFEST:
            continue
        if rel not in listed:
            problems.append(f"it holds {rel!r}, which escalation did not write")
        elif file_sha256(folder / rel) != listed[rel]:
            problems.append(f"{rel!r} has changed since escalation wrote it")
        if len(problems) > limit:
            break
    if len(problems) > limit:
        problems = problems[:limit] + ["..."]
    return problems


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _is_our_leftover(path: Path) -> bool:
    m = _LEFTOVER.match(path.name)
    if m is None or path.is_symlink() or not path.is_dir() or _pid_alive(int(m["pid"])):
        return False
    if m["kind"] == "tmp":
        marker = path / TMP_MARKER
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return False
        return isinstance(data, dict) and data.get("pid") == int(m["pid"]) and data.get("name") == m["name"]
    return not ownership_problems(path)


def sweep_stale(parent: Path) -> list[Path]:
    """Delete ``.NAME.tmp-PID`` / ``.NAME.old-PID`` folders in ``parent`` left by escalation processes that died.

    Only folders carrying our marker (or an intact manifest) of a process that
    no longer runs are deleted; return them.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for path in entries:
        if _LEFTOVER.match(path.name) and _is_our_leftover(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class ResultFolder:
    """Write a result folder atomically, and replace only what escalation wrote.

    ``with ResultFolder(target) as tmp:`` creates the hidden sibling
    ``.<name>.tmp-<pid>`` (and any missing parents) at once, so an unwritable
    target fails before any simulation; on success it writes the manifest and
    renames the folder to ``target``; on any error (or Ctrl-C, SIGTERM) it is
    deleted, with the parents it created.  An existing ``target`` must be
    empty, or, with ``overwrite``, a folder that :func:`ownership_problems`
    finds nothing wrong with.
    """

    def __init__(self, target: Path | str, *, overwrite: bool = False, option: str = "--out",
                 kind: str = "run") -> None:
        self.given = Path(target)
        self.target = Path(os.path.abspath(target))
        self.overwrite = overwrite
        self.option = option
        self.kind = kind
        self.tmp: Path | None = None
        self.created: list[Path] = []

    def _fail(self, message: str, allowed: str) -> InputError:
        return InputError(message, path=self.option, allowed=allowed)

    def _check_target(self) -> None:
        t, shown = self.target, str(self.given)
        if t.parent == t:
            raise self._fail(f"{shown!r} is the root of the file system", "a new or empty folder")
        cwd = Path(os.path.abspath(os.getcwd()))
        if t == cwd or t in cwd.parents:
            raise self._fail(f"{shown!r} is the current folder or holds it", "a new or empty folder")
        if t.is_symlink():
            raise self._fail(f"{shown!r} is a symbolic link", "a new or empty folder (not a link)")
        if t.exists() and not t.is_dir():
            raise self._fail(f"{shown!r} is a file, not a folder", "a new or empty folder")
        if t.is_dir() and any(t.iterdir()):
            if not self.overwrite:
                raise self._fail(f"the folder {shown!r} already exists and is not empty",
                                 "a new or empty folder, or --overwrite to replace an earlier result folder")
            problems = ownership_problems(t)
            if problems:
                raise self._fail(f"refusing to overwrite {shown!r}: " + "; ".join(problems),
                                 "a new or empty folder, or one written by escalation and left unchanged")

    def __enter__(self) -> Path:
        self._check_target()
        parent = self.target.parent
        missing = []
        p = parent
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        try:
            for d in reversed(missing):
                d.mkdir()
                self.created.append(d)
            sweep_stale(parent)
            self.tmp = parent / f".{self.target.name}.tmp-{os.getpid()}"
            if self.tmp.exists():  # ours (same pid): an earlier folder of this process
                shutil.rmtree(self.tmp)
            self.tmp.mkdir()
            (self.tmp / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "name": self.target.name}),
                                               encoding="utf-8")
        except OSError as exc:
            self._cleanup()
            reason = exc.strerror or str(exc)
            raise self._fail(f"cannot write results to {str(self.given)!r}: {reason}",
                             "a folder path you can create and write to") from None
        return self.tmp

    def _cleanup(self) -> None:
        if self.tmp is not None and self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        for d in reversed(self.created):
            try:
                d.rmdir()
            except OSError:
                pass

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._cleanup()
            return
        assert self.tmp is not None
        try:
            self._commit()
        except BaseException:
            self._cleanup()
            raise

    def _commit(self) -> None:
        t, tmp = self.target, self.tmp
        assert tmp is not None
        (tmp / TMP_MARKER).unlink()
        write_manifest(tmp, self.kind)
        old: Path | None = None
        if t.is_dir() and not t.is_symlink():
            if any(t.iterdir()):
                self._check_target()  # again: the folder may have changed while we ran
                old = t.with_name(f".{t.name}.old-{os.getpid()}")
                t.rename(old)
            else:
                t.rmdir()
        tmp.rename(t)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
