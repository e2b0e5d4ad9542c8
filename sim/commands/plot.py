"""``escalation plot``: redraw the figures of a result folder from its saved tables."""

from __future__ import annotations

import argparse
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
                    "(overlaid figures).")
    p.add_argument("folder", metavar="DIR", type=Path, help="result folder")
    p.add_argument("--format", dest="formats", action="append", choices=("png", "svg", "pdf"),
                   help="figure format (repeatable; default png and svg)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.plots import FORMATS, RunData, draw_figures
    from sim.results import read_day_aggregates, read_summary

    folder: Path = args.folder
    summary = read_summary(folder)
    if summary["kind"] == "comparison":
        runs = []
        for label in summary.get("runs", []):
            sub = read_summary(folder / label)
            sub["scenario"]["name"] = label
            runs.append(RunData(label, summary=sub, days=read_day_aggregates(folder / label)))
    else:
        runs = [RunData(summary["scenario"]["name"], summary=summary, days=read_day_aggregates(folder))]
    formats = tuple(dict.fromkeys(args.formats)) if args.formats else FORMATS
    final = folder / "figures"
    tmp = folder / f".figures.tmp-{os.getpid()}"
    try:
        paths = draw_figures(runs, tmp, formats)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for p in paths:
        log.info("wrote %s", final / p.name)
    print(final)
    return 0
