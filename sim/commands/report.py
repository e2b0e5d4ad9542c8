"""``escalation report``: regenerate the findings document from a findings spec."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="regenerate the findings report (docs/FINDINGS.md) from a findings spec",
        description="Run every comparison, sweep and scenario discovery of SPEC (e.g. experiments/findings.yaml) "
                    "and write the Markdown document it names (default docs/FINDINGS.md) with a findings/ folder "
                    "beside it: the figures and findings.json, every number of the document as data. Every number "
                    "in the document comes from this run. The document's path is printed on stdout.")
    p.add_argument("spec", metavar="SPEC", type=Path, help="findings spec (YAML)")
    p.add_argument("--quick", action="store_true",
                   help="a small, fast version with the spec's 'quick' sizes (for drafts and tests)")
    p.add_argument("-o", "--out", type=Path, metavar="FILE",
                   help="the document to write (default: the spec's 'output'); findings/ goes beside it")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.report import report

    command = f"escalation report {args.spec.as_posix()}" + (" --quick" if args.quick else "")
    doc = report(args.spec, out=args.out, quick=args.quick, command=command)
    log.info("wrote %s", doc)
    print(doc)
    return 0
