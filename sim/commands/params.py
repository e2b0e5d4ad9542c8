"""``escalation params``: every parameter of a scenario, read from the schema."""

from __future__ import annotations

import argparse
import fnmatch

from sim.commands._common import add_format_option, format_cell, render_table

COLUMNS = ("path", "value", "default", "bounds", "plausible", "unit", "role", "description", "why")
TABLE_COLUMNS = tuple(c for c in COLUMNS if c != "why")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "params", help="list every parameter: value, default, bounds, unit, role, description",
        description="List every parameter of SCENARIO (default: the default scenario) with its path (as used "
                    "by --set), value, default, bounds (legal values), plausible range (what sweeps use by default; 'why' "
                    "gives its source or reasoning), unit, role (lever: a US policy choice; uncertainty: "
                    "outside US control; setting: run settings and fixed facts) and description.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or name (default: the schema's "
                   "defaults)")
    add_format_option(p)
    p.add_argument("--role", choices=("lever", "uncertainty", "setting"), action="append",
                   help="only parameters of this role (repeatable)")
    p.add_argument("--match", metavar="PATTERN",
                   help="only paths containing PATTERN (or matching it, with * and ?), e.g. doctrine or '*.kh.*'")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.schema import Scenario, iter_parameters

    if args.scenario:
        from sim.scenario_io import load_scenario_with_source

        scenario, _ = load_scenario_with_source(args.scenario)
    else:
        scenario = Scenario()
    rows = []
    for info, value in iter_parameters(scenario):
        if args.role and info.role not in args.role:
            continue
        if args.match and not (args.match in info.path or fnmatch.fnmatchcase(info.path, args.match)):
            continue
        if args.format == "table":  # shortened, with a mark when the scenario changes the default
            value = _short(format_cell(value)) + (" *" if value != info.default else "")
        row = {"path": info.path, "value": value, "default": info.default, "bounds": info.allowed,
               "plausible": info.plausible_text, "unit": info.unit, "role": info.role,
               "description": info.description, "why": info.why}
        if args.format == "table" and info.why:
            row["description"] = f"{info.description}. Plausible: {info.why}"
        rows.append(row)
    if args.format == "table":
        title = f"scenario {scenario.name}" if args.scenario else "the default scenario"
        print(f"{len(rows)} parameters of {title}; * marks a value that differs from the default.")
        print(render_table(rows, TABLE_COLUMNS, "table", below="description",
                           max_width={"default": 24, "bounds": 40, "plausible": 40}))
    else:
        print(render_table(rows, COLUMNS, args.format))
    return 0


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
