"""``escalation discover``: scenario discovery (PRIM and CART) on a finished sweep."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    from sim.commands._common import fraction, positive_int

    p = subparsers.add_parser(
        "discover", help="scenario discovery: which parameter ranges lead to a condition (PRIM, CART)",
        description="Mark the runs of the sweep in DIR where the --where condition holds and find boxes of "
                    "parameter ranges that hold many of them: PRIM (EMA Workbench) and a CART tree. Writes "
                    "DIR/discovery-<condition>/ (or --out): boxes.csv (coverage, density, mass, restricted "
                    "dimensions), limits.csv (the restricted ranges, with quasi-p values), trajectory.csv (PRIM's "
                    "peeling trajectory), summary.json and figures; prints the boxes and the folder's path. "
                    "Needs the 'ema' extra.")
    p.add_argument("folder", metavar="DIR", type=Path, help="sweep folder (written by 'escalation sweep')")
    p.add_argument("--where", required=True, metavar="CONDITION",
                   help="condition on the outcomes the sweep recorded; rung names stand for their number, e.g. "
                        "\"max_rung >= direct_exchange\" or \"us_killed > 0 and not reached_major_campaign\"")
    p.add_argument("--threshold", type=fraction, default=0.8, metavar="D",
                   help="density a PRIM box should reach (default 0.8); the chosen box is the least restricted "
                        "one on the peeling trajectory that reaches it, else the densest")
    p.add_argument("--peel-alpha", type=fraction, default=0.05, metavar="A",
                   help="share of the runs peeled off at each PRIM step (default 0.05)")
    p.add_argument("--mass-min", type=fraction, default=0.05, metavar="M",
                   help="least share of the runs in a box (PRIM and CART leaves; default 0.05)")
    p.add_argument("--boxes", type=positive_int, default=2, metavar="K", help="most PRIM boxes (default 2)")
    p.add_argument("--parameter", dest="parameters", action="append", metavar="PATH",
                   help="search only these parameters of the sweep (repeatable; default all)")
    p.add_argument("--no-cart", dest="cart", action="store_false", help="skip the CART tree")
    p.add_argument("-o", "--out", type=Path, metavar="OUT", help="output folder (default DIR/discovery-<condition>)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it holds an earlier discovery")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.discovery import discover, format_boxes

    result = discover(args.folder, args.where, out=args.out, threshold=args.threshold, peel_alpha=args.peel_alpha,
                      mass_min=args.mass_min, max_boxes=args.boxes, cart=args.cart, parameters=args.parameters,
                      overwrite=args.overwrite)
    for note in result.notes:
        log.warning(note)
    print(format_boxes(result))
    print()
    print(result.folder)
    return 0
