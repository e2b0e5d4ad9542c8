"""``escalation list``: the named scenarios and the question each answers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands._common import add_format_option, render_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "list", help="list the scenarios and the question each answers",
        description="List the scenarios in ./scenarios and in the package's scenarios/ folder, with the question "
                    "each one answers. Run one with 'escalation run NAME'.")
    add_format_option(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.errors import ScenarioError
    from sim.scenario_io import available_scenarios, load_scenario_with_source

    rows = []
    for name in available_scenarios():
        try:
            scenario, source = load_scenario_with_source(name)
            question = " ".join(scenario.question.split()) or "(no question given)"
            file = _relative(source) if source else ""
        except ScenarioError as err:
            question, file = f"(invalid: {err.problems[0]})", ""
        rows.append({"name": name, "file": file, "question": question})
    if args.format == "table":
        print(render_table(rows, ("name", "question"), "table", wrap="question"))
    else:
        print(render_table(rows, ("name", "file", "question"), args.format))
    return 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
