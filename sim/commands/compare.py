"""``escalation compare``: run several scenarios with the same seed and overlay their results.

Variants on the command line: ``NAME=SCENARIO`` runs SCENARIO under the label NAME.  Binding of ``--set``:
``--set NAME:PATH=VALUE`` changes variant NAME only; a plain ``--set PATH=VALUE`` changes every named
variant, or every scenario when none is named.  So ``compare baseline slow=baseline --set
us.doctrine.proportionate.delay_days=5`` compares the baseline with a slower-responding baseline.
"""

from __future__ import annotations

import argparse
import logging

from sim.commands._common import (add_output_options, add_simulation_options, check_run_size, choose_engine,
                                  fraction, load, positive_int, positive_real, run_provenance, stream_run)
from sim.errors import InputError

log = logging.getLogger("sim.cli")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="run several scenarios and overlay them (figures and a table)",
        description="Run each SCENARIO with the same seed, replicates and horizon, print a side-by-side table of "
                    "key outcomes and write a folder with comparison.csv, the overlaid figures and one "
                    "sub-folder of tables per scenario. The folder's path is printed on the last line.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="two or more scenario files or names; NAME=SCENARIO makes a named variant, which plain "
                        "--set options change (--set NAME:PATH=VALUE changes variant NAME only; with no named "
                        "variant, --set changes every scenario). Differences are taken from the first")
    add_simulation_options(p)
    g = p.add_argument_group("statistics")
    g.add_argument("--confidence", type=fraction, default=0.95, metavar="C",
                   help="confidence level of the intervals (default 0.95)")
    g.add_argument("--target-se", type=positive_real, metavar="SE",
                   help="run as many replicates as needed for every difference from the first scenario to have a "
                        "standard error of at most SE (absolute for probabilities, e.g. 0.02 = 2 points; relative "
                        "to the first scenario's mean for counts): the -n replicates are a pilot, then all "
                        "scenarios are rerun with ceil((sd/SE)^2) replicates")
    g.add_argument("--max-replicates", type=positive_int, default=5000, metavar="N",
                   help="most replicates --target-se may ask for (default 5000)")
    add_output_options(p)
    p.set_defaults(func=main)


def variants(refs: list[str], overrides: list[str]) -> list[tuple[str | None, str, list[str]]]:
    """(name or None, scenario reference, its overrides) per SCENARIO argument (see the module doc).

    >>> variants(["baseline", "slow=baseline"], ["us.doctrine.proportionate.delay_days=5"])
    [(None, 'baseline', []), ('slow', 'baseline', ['us.doctrine.proportionate.delay_days=5'])]
    """
    import re
    from pathlib import Path

    out: list[tuple[str | None, str, list[str]]] = []
    for ref in refs:
        m = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.+)$", ref)
        out.append((m.group(1), m.group(2), []) if m and not Path(ref).exists() else (None, ref, []))
    named = {name for name, _, _ in out if name is not None}
    for text in overrides:
        m = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*):(.+)$", text)
        if m and m.group(1) not in named:
            raise InputError(f"--set {text}: {m.group(1)!r} is not a named variant", path="--set",
                             allowed=f"PATH=VALUE, or NAME:PATH=VALUE for a variant given as NAME=SCENARIO "
                                     f"({', '.join(sorted(named)) or 'none given'})")
        if m:
            for name, _, own in out:
                if name == m.group(1):
                    own.append(m.group(2))
        else:
            for name, _, own in out:
                if name is not None or not named:
                    own.append(text)
    return out


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
    from sim.differences import differences, format_differences, replicate_table_of, replicates_for
    from sim.engines import get_engine
    from sim.folders import ResultFolder
    from sim.results import default_folder, write_csv, write_json
    from sim.summary import comparison_table, format_comparison

    if len(args.scenarios) < 2:
        raise InputError(f"got one scenario ({args.scenarios[0]})", path="SCENARIO",
                         allowed="two or more scenarios; use 'escalation run' for one")
    parsed = variants(args.scenarios, args.overrides)
    loaded = [load(ref, own, args.days) for _, ref, own in parsed]  # every input error before any run
    loaded = [(s.model_copy(update={"name": name}) if name else s, src) for (name, _, _), (s, src) in zip(parsed, loaded)]
    labels = _unique([s.name for s, _ in loaded])
    engine = choose_engine(args.engine, args.replicates)
    target = args.out if args.out is not None else default_folder("compare-" + "-".join(labels)[:60])
    replicates, rule = args.replicates, None
    csv = check_run_size(args, loaded[0][0].days, engine, target, scenarios=len(loaded))
    with ResultFolder(target, overwrite=args.overwrite, kind="comparison") as tmp:
        if args.target_se is not None:  # a pilot of outcomes at the horizon only (same runs as the tables')
            runner = get_engine(engine)
            pilot = {label: replicate_table_of(runner.outcomes(s, replicates, args.seed))
                     for label, (s, _) in zip(labels, loaded)}
            needed = replicates_for(pilot, args.target_se)
            rule = {"target_se": args.target_se, "pilot_replicates": replicates, "needed": needed,
                    "max_replicates": args.max_replicates,
                    "rule": "replicates = ceil((sd of the paired difference / target)^2), largest over outcomes "
                            "and scenarios; target absolute for probabilities, relative to the first "
                            "scenario's mean for counts"}
            if needed > replicates:
                replicates = min(needed, args.max_replicates)
                if needed > args.max_replicates:
                    log.warning("--target-se %g needs %d replicates; capped at --max-replicates %d",
                                args.target_se, needed, args.max_replicates)
                log.info("--target-se %g: running %d replicates (pilot of %d)", args.target_se, replicates,
                         args.replicates)
                csv = check_run_size(args, loaded[0][0].days, engine, target, scenarios=len(loaded),
                                     replicates=replicates)
            rule["replicates"] = replicates
        summaries, drawn, tables = [], [], {}
        for i, (label, (scenario, source), (_, _, own)) in enumerate(zip(labels, loaded, parsed), start=1):
            head = run_provenance(scenario, source, own, args.seed, replicates, engine)
            sub = tmp / label
            sub.mkdir()
            log.info("scenario %d of %d: %s", i, len(loaded), label)
            summary, stream = stream_run(sub, scenario, head, csv=csv, figures=False, quiet=args.quiet)
            summary["scenario"]["name"] = label
            summaries.append(summary)
            drawn.append((label, stream.days, summary))
            tables[label] = replicate_table_of(stream.horizon())
        diffs = differences(tables, confidence=args.confidence, seed=args.seed)
        write_csv(diffs, tmp / "differences.csv")
        table = comparison_table(summaries)
        write_csv(table, tmp / "comparison.csv")
        files = ["summary.json", "comparison.csv", "differences.csv", *[f"{label}/" for label in labels]]
        if args.figures:
            from sim.plots import RunData, draw_figures

            paths = draw_figures([RunData(label, summary=s, days=days) for label, days, s in drawn], tmp / "figures")
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
            "common_random_numbers": "every scenario runs with the same seed and replicates; differences are "
                                     "paired replicate by replicate",
            "confidence": args.confidence,
            "replicate_rule": rule,
            "differences": diffs.to_dict(orient="records"),
            "files": files,
        })
        text = format_comparison(summaries) + "\n\n" + format_differences(diffs, args.confidence)
    print(text)
    print()
    log.info("results written to %s", target)
    print(target)
    return 0
