"""``escalation compare``: run several scenarios with the same seed and overlay their results."""

from __future__ import annotations

import argparse
import logging

from sim.commands._common import (add_output_options, add_simulation_options, choose_engine, load, run_summary,
                                  simulate, write_run)
from sim.errors import InputError

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="run several scenarios and overlay them (figures and a table)",
        description="Run each SCENARIO with the same seed, replicates and horizon, print a side-by-side table of "
                    "key outcomes and write a folder with comparison.csv, the overlaid figures and one "
                    "sub-folder of tables per scenario. The folder's path is printed on the last line.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario files or names")
    add_simulation_options(p)
    add_output_options(p)
    p.set_defaults(func=main)


def _unique(names: list[str]) -> list[str]:
    from sim.results import safe_name

    out: list[str] = []
    for name in names:
        base, label, n = safe_name(name), safe_name(name), 2
        while label in out:
            label, n = f"{base}-{n}", n + 1
        out.append(label)
    return out


def main(args: argparse.Namespace) -> int:
    from sim import __version__
    from sim.folders import ResultFolder
    from sim.results import default_folder, write_csv, write_json
    from sim.summary import comparison_table, format_comparison

    if len(args.scenarios) < 2:
        raise InputError(f"got one scenario ({args.scenarios[0]})", path="SCENARIO",
                         allowed="two or more scenarios; use 'escalation run' for one")
    loaded = [load(ref, args.overrides, args.days) for ref in args.scenarios]  # every input error before any run
    labels = _unique([s.name for s, _ in loaded])
    engine = choose_engine(args.engine, args.replicates)
    target = args.out if args.out is not None else default_folder("compare-" + "-".join(labels)[:60])
    with ResultFolder(target, overwrite=args.overwrite, kind="comparison") as tmp:
        runs, summaries = [], []
        for label, (scenario, source) in zip(labels, loaded):
            ts, ev = simulate(scenario, args.replicates, args.seed, engine, quiet=args.quiet)
            summary = run_summary(scenario, source, args.overrides, args.seed, args.replicates, engine, ts)
            sub = tmp / label
            sub.mkdir()
            summary = write_run(sub, scenario, ts, ev, summary, figures=False)
            summary["scenario"]["name"] = label
            summaries.append(summary)
            runs.append((label, ts, summary))
        table = comparison_table(summaries)
        write_csv(table, tmp / "comparison.csv")
        files = ["summary.json", "comparison.csv", *[f"{label}/" for label in labels]]
        if args.figures:
            from sim.plots import RunData, draw_figures

            paths = draw_figures([RunData(label, ts, s) for label, ts, s in runs], tmp / "figures")
            files += [f"figures/{p.name}" for p in paths]
        first = summaries[0]
        write_json(tmp / "summary.json", {
            "kind": "comparison",
            "tool": "escalation-sim",
            "version": __version__,
            "created": first["created"],
            "runs": labels,
            "scenarios": [s["scenario"] for s in summaries],
            **{k: first[k] for k in ("seed", "replicates", "days", "start_date", "end_date", "engine")},
            "files": files,
        })
        text = format_comparison(summaries)
    print(text)
    print()
    log.info("results written to %s", target)
    print(target)
    return 0
