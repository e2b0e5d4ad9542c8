"""``escalation analyze``: sensitivity indices, summaries and figures of a finished sweep."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze", help="summarise a sweep: Sobol or Morris indices, tornado, heatmap, CSV tables",
        description="Read the sweep in DIR (written by 'escalation sweep') and write DIR/analysis: points.csv "
                    "(per design point mean and percentiles of each outcome), rungs.csv (probability of reaching "
                    "each rung), sobol.csv (Sobol designs: S1 and ST with 95% confidence intervals) or morris.csv "
                    "(Morris designs: mu*, sigma), tornado.csv and heatmap.csv, and the figures (PNG and SVG). "
                    "The analysis folder's path is printed on stdout.")
    p.add_argument("folder", metavar="DIR", type=Path, help="sweep folder")
    p.add_argument("--outcome", dest="outcomes", action="append", metavar="NAME",
                   help="outcome of the figures (repeatable; default: the spec's first outcome)")
    p.add_argument("--x", metavar="PATH", help="heatmap: parameter across (default: the first lever)")
    p.add_argument("--y", metavar="PATH", help="heatmap: parameter up (default: the second lever)")
    p.add_argument("-o", "--out", type=Path, metavar="OUT",
                   help="analysis folder (default DIR/analysis): new, empty, or an earlier analysis folder, which "
                        "is replaced (a folder holding anything escalation did not write is refused)")
    p.add_argument("--format", dest="formats", action="append", choices=("png", "svg", "pdf"),
                   help="figure format (repeatable; default png and svg)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.folders import ResultFolder
    from sim.sweep.analyze import analyze, load_sweep

    formats = tuple(dict.fromkeys(args.formats)) if args.formats else ("png", "svg")
    load_sweep(args.folder)  # a bad DIR is refused before anything is created
    target = args.out if args.out is not None else args.folder / "analysis"
    with ResultFolder(target, overwrite=True, kind="analysis") as tmp:
        result = analyze(args.folder, out=tmp, outcomes=args.outcomes or (), x=args.x, y=args.y, formats=formats)
    for note in result.notes:
        log.warning(note)
    for path in result.files:
        log.info("wrote %s", target / path.relative_to(tmp))
    print(target)
    return 0
