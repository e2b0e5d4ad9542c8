"""``escalation validate``: check scenario files against the schema."""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate", help="check scenario files and list every error",
        description="Read each FILE (with the scenarios it extends) and check it against the schema. Prints "
                    "'OK' for each good file on stdout and every problem of each bad file on stderr (file, line, "
                    "setting, what is wrong, what is allowed). Exit status 2 if any file is bad.")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (or names)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.errors import ScenarioError
    from sim.scenario_io import load_scenario_with_source, scenario_hash

    bad = 0
    for ref in args.files:
        try:
            scenario, source = load_scenario_with_source(ref)
        except ScenarioError as err:
            bad += 1
            n = len(err.problems)
            print(f"{ref}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
            for problem in err.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        print(f"OK {ref} (scenario {scenario.name}, {scenario.days} days, hash {scenario_hash(scenario)})")
    if bad:
        print(f"{bad} of {len(args.files)} file{'s' if len(args.files) != 1 else ''} "
              f"{'has' if bad == 1 else 'have'} errors", file=sys.stderr)
        return 2
    return 0
