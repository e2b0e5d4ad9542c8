"""``escalation plot``: redraw the figures of a result folder from its saved tables."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plot", help="redraw the figures of a result folder without rerunning",
        description="Redraw DIR/figures from the tables saved in DIR (timeseries.parquet read row group by row "
                    "group, else timeseries.csv, "
                    "and summary.json). DIR is a folder written by 'escalation run' or 'escalation compare' "
                    "(overlaid figures). An existing DIR/figures is replaced only if escalation wrote it.")
    p.add_argument("folder", metavar="DIR", type=Path, help="result folder")
    p.add_argument("--format", dest="formats", action="append", choices=("png", "svg", "pdf"),
                   help="figure format (repeatable; default png and svg)")
    p.set_defaults(func=main)


def _runs(folder: Path) -> list:
    """The runs to draw, read back from the folder; InputError if a summary lacks what the figures need."""
    from sim.errors import InputError
    from sim.plots import RunData
    from sim.results import read_day_aggregates, read_summary

    summary = read_summary(folder)
    try:
        if summary["kind"] == "comparison":
            runs = []
            for label in summary["runs"]:
                sub = read_summary(folder / str(label))
                sub["scenario"]["name"] = str(label)
                runs.append(RunData(str(label), summary=sub, days=read_day_aggregates(folder / str(label))))
            return runs
        return [RunData(str(summary["scenario"]["name"]), summary=summary, days=read_day_aggregates(folder))]
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"the summary.json in {str(folder)!r} is damaged: it lacks {exc}", path="DIR",
                         allowed="a folder written by 'escalation run' or 'escalation compare'") from None


def main(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.folders import (MANIFEST, TMP_MARKER, file_sha256, ownership_problems, read_manifest, sweep_stale,
                             write_manifest)
    from sim.plots import FORMATS, draw_figures

    folder: Path = args.folder
    runs = _runs(folder)
    sweep_stale(folder)  # a .figures.tmp-PID of an earlier plot that was killed
    final = folder / "figures"
    manifest = read_manifest(folder)
    if final.is_symlink() or final.exists():
        problems = ownership_problems(folder, within="figures") if not final.is_symlink() else \
            ["'figures/' is a symbolic link"]
        if problems:
            raise InputError(f"refusing to replace {str(final)!r}: " + "; ".join(problems), path="DIR",
                             allowed="a result folder whose figures/ escalation wrote (or no figures/: "
                                     "move yours away first)")
    formats = tuple(dict.fromkeys(args.formats)) if args.formats else FORMATS
    tmp = folder / f".figures.tmp-{os.getpid()}"
    try:
        tmp.mkdir()
        (tmp / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "name": "figures"}), encoding="utf-8")
        try:
            paths = draw_figures(runs, tmp, formats)
        except (KeyError, TypeError) as exc:
            raise InputError(f"the summary.json in {str(folder)!r} is damaged: it lacks {exc}", path="DIR") from None
        (tmp / TMP_MARKER).unlink()
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if manifest is not None and MANIFEST in os.listdir(folder):  # keep the manifest true (user files stay unlisted)
        files = {k: v for k, v in manifest["files"].items() if not k.startswith("figures/")}
        files.update({f"figures/{p.name}": file_sha256(final / p.name) for p in paths})
        write_manifest(folder, manifest["kind"], files)
    for p in paths:
        log.info("wrote %s", final / p.name)
    print(final)
    return 0
