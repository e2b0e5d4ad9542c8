"""Options and helpers shared by the subcommands (not a subcommand itself)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import logging
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sim.engines import ENGINE_CHOICES, get_engine, prepare_with_source

if TYPE_CHECKING:  # pragma: no cover

    from sim.schema import Scenario

log = logging.getLogger("sim.cli")

DEFAULT_REPLICATES = 100
DEFAULT_SEED = 0
TABLE_FORMATS = ("table", "csv", "markdown")


# --------------------------------------------------------------------------- option types


def at_least(minimum: int) -> Any:
    """argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        allowed = f"(allowed: a whole number of at least {minimum})"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {allowed}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small {allowed}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


positive_int = at_least(1)
seed_int = at_least(0)


def real_number(*, above: float = 0.0, below: float = float("inf")) -> Any:
    """argparse type: a real number strictly between ``above`` and ``below``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not above < value < below:
            limit = "a positive number" if below == float("inf") else f"strictly between {above:g} and {below:g}"
            raise argparse.ArgumentTypeError(f"{text} is not {limit}")
        return value

    parse.__name__ = "number"
    return parse


fraction = real_number(above=0.0, below=1.0)
positive_real = real_number(above=0.0)


def whole_number(text: str) -> int:
    """argparse type: any whole number (range checked later, against the schema)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def add_simulation_options(parser: argparse.ArgumentParser, *, replicates: int = DEFAULT_REPLICATES) -> None:
    """``--replicates --seed --days --set --engine``."""
    g = parser.add_argument_group("simulation")
    g.add_argument("-n", "--replicates", type=positive_int, default=replicates, metavar="N",
                   help=f"number of independent runs (default {replicates})")
    g.add_argument("--seed", type=seed_int, default=DEFAULT_SEED, metavar="S",
                   help=f"root random seed: the same seed gives the same tables (default {DEFAULT_SEED})")
    g.add_argument("--days", type=whole_number, metavar="D",
                   help="horizon in days (default: the scenario's 'days')")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="change one parameter, e.g. --set us.doctrine.proportionate.delay_days=3 "
                        "(repeatable; see 'escalation params' for the paths)")
    g.add_argument("--engine", choices=ENGINE_CHOICES, default="auto",
                   help="simulation engine: 'mesa' (agent by agent) or 'ensemble' (all replicates at once, "
                        "faster); 'auto' (default) uses ensemble for more than one replicate, Mesa for one")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--out --overwrite --no-figures``."""
    g = parser.add_argument_group("output")
    g.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="result folder (default results/<name>-<YYYYmmdd-HHMMSS>/); must be new or empty")
    g.add_argument("--overwrite", action="store_true",
                   help="replace DIR if it is an earlier result folder that escalation wrote and nobody changed "
                        "(checked against its escalation-manifest.json; anything else is refused)")
    g.add_argument("--no-figures", dest="figures", action="store_false",
                   help="skip the figures (faster); 'escalation plot DIR' can draw them later")
    g.add_argument("--csv", action=argparse.BooleanOptionalAction, default=None,
                   help="also write timeseries.csv and events.csv next to the Parquet files (default: only when "
                        "replicates x days is at most 200,000, e.g. 547 replicates of 365 days)")
    g.add_argument("-y", "--yes", action="store_true",
                   help="go ahead with a run estimated to take more than an hour or 20 GB of files")


def check_run_size(args: argparse.Namespace, days: int, engine: str, target: Path, scenarios: int = 1,
                   replicates: int | None = None) -> bool:
    """Refuse an absurd run (exit 2, with time and disk estimates; see sim.sizing); return whether to write CSV.
    ``replicates``: if not ``--replicates`` (e.g. raised by compare's --target-se)."""
    from sim.sizing import check_size, estimate, want_csv

    n = args.replicates if replicates is None else replicates
    csv_on = want_csv(args.csv, n, days)
    est = estimate(n, days, engine, csv=csv_on, scenarios=scenarios)
    check_size(est, n, target, yes=args.yes)
    log.info("estimated: %s", est.text())
    return csv_on


# --------------------------------------------------------------------------- scenarios


def load(ref: str, overrides: Sequence[str] = (), days: int | None = None) -> tuple["Scenario", Path | None]:
    """Load a scenario (file or name), apply ``--set`` overrides and ``--days``; validate everything."""
    scenario, source = prepare_with_source(ref, days, overrides)
    if overrides:  # a variant: named and labelled as such (folder, figures, resolved YAML, summary)
        note = f"[variant of {scenario.name} with --set {', '.join(overrides)}] "
        scenario = scenario.model_copy(update={"name": variant_name(scenario.name, overrides),
                                               "question": (note + scenario.question)[:2000]})
    return scenario, source


def variant_name(name: str, overrides: Sequence[str]) -> str:
    """The name of a scenario changed by ``--set``: ``baseline+delay_days=5`` (the last part of each path),
    or ``baseline+set-<hash>`` when that would be longer than the schema allows.

    >>> variant_name("baseline", ["us.doctrine.proportionate.delay_days=5"])
    'baseline+delay_days=5'
    """
    import hashlib

    parts = []
    for text in overrides:
        path, _, value = text.partition("=")
        parts.append(f"{path.strip().split('.')[-1]}={value.strip()}")
    full = "+".join([name, *parts])
    if len(full) <= 80:
        return full
    digest = hashlib.sha256("\n".join(overrides).encode("utf-8")).hexdigest()[:8]
    return f"{name[:66]}+set-{digest}"


# --------------------------------------------------------------------------- engines


def choose_engine(requested: str, replicates: int) -> str:
    """The name of the engine ``--engine`` picks for ``replicates`` runs (see :func:`sim.engines.get_engine`)."""
    return get_engine(requested, replicates).name


# --------------------------------------------------------------------------- run folders


def run_provenance(scenario: "Scenario", source: Path | None, overrides: Sequence[str], seed: int,
                   replicates: int, engine: str) -> dict[str, Any]:
    """What summary.json says about a run besides its results (no outcome yet; ``ceasefires`` only if the
    scenario declares windows)."""
    from sim import __version__
    from sim.dynamics.ceasefire import summary as ceasefire_summary
    from sim.scenario_io import scenario_hash

    return {
        "kind": "run",
        "tool": "escalation-sim",
        "version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "scenario": {
            "name": scenario.name,
            "hash": scenario_hash(scenario),
            "source": str(source) if source is not None else None,
            "overrides": list(overrides),
            "question": scenario.question,
        },
        "seed": seed,
        "replicates": replicates,
        "days": scenario.days,
        "start_date": scenario.start_date.isoformat(),
        "end_date": scenario.end_date.isoformat(),
        "engine": engine,
        "groups": {g.id: g.name for g in scenario.militia.groups},
        **({"ceasefires": windows} if (windows := ceasefire_summary(scenario)) else {}),
    }


def file_provenance(head: dict[str, Any]) -> dict[str, Any]:
    """The Parquet files' metadata: the run's provenance without the creation time (files stay reproducible)."""
    sc = head["scenario"]
    return {"tool": head["tool"], "version": head["version"], "scenario": sc["name"], "scenario_hash": sc["hash"],
            "overrides": sc["overrides"], "seed": head["seed"], "replicates": head["replicates"],
            "days": head["days"], "start_date": head["start_date"], "end_date": head["end_date"],
            "engine": head["engine"]}


def stream_run(folder: Path, scenario: "Scenario", head: dict[str, Any], *, csv: bool, figures: bool,
               quiet: bool = False, blocks: Iterable | None = None) -> tuple[dict[str, Any], Any]:
    """Simulate (or take ``blocks`` of (per-day table, events)) and write a complete run folder block by block:
    tables, resolved scenario, summary.json and figures.  Return (summary, the :class:`sim.stream.RunStream`:
    its per-day aggregates ``days`` and its ``horizon()`` table)."""
    from sim.results import write_json
    from sim.summary import summarize_horizon
    from sim.scenario_io import scenario_to_yaml
    from sim.stream import RunStream, simulate_blocks

    seed, replicates, engine = head["seed"], head["replicates"], head["engine"]
    if blocks is None:
        log.info("running %s: %d replicate%s of %d days on the %s engine (seed %d)", scenario.name, replicates,
                 "" if replicates == 1 else "s", scenario.days, engine, seed)
        blocks = simulate_blocks(scenario, replicates, seed, engine, quiet=quiet)
    stream = RunStream(folder, scenario, file_provenance(head), csv=csv)
    for ts, ev in blocks:
        stream.add(ts, ev)
        del ts, ev  # let the block go before the next one is simulated
    files = stream.close()
    summary = {**head, **summarize_horizon(stream.horizon(), scenario.start_date)}
    (folder / "scenario.resolved.yaml").write_text(scenario_to_yaml(scenario), encoding="utf-8")
    files.append("scenario.resolved.yaml")
    if figures:
        from sim.plots import RunData, draw_figures

        paths = draw_figures([RunData(head["scenario"]["name"], summary=summary, days=stream.days)],
                             folder / "figures")
        files += [f"figures/{p.name}" for p in paths]
    summary["files"] = ["summary.json", *files]
    write_json(folder / "summary.json", summary)
    return summary, stream


def describe_outcomes(summary: dict[str, Any]) -> list[str]:
    """A few lines on the key outcomes, for the log."""
    out = summary["outcomes"]
    lines = []
    for key in ("cumulative_attacks", "us_killed", "targets_struck"):
        if key in out:
            q = out[key]
            lines.append(f"{q['label']}: median {q['p50']:g} (90% of runs between {q['p5']:g} and {q['p95']:g})")
    ffd = summary["first_fatal_day"]
    lines.append(f"Runs with at least one US fatality: {100 * ffd['probability']:.0f}%")
    return lines


# --------------------------------------------------------------------------- tables on stdout


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str = "table", *,
                 wrap: str | None = None, below: str | None = None,
                 max_width: dict[str, int] | None = None) -> str:
    """Rows as an aligned text table, CSV or a Markdown table.

    In the text table, ``wrap`` names the last column, wrapped to the terminal
    width; ``below`` names a column printed, wrapped and indented, on the lines
    under each row instead of as a column; ``max_width`` cuts long cells.  CSV
    and Markdown keep every column in full.
    """
    cells = [[format_cell(r.get(c)) for c in columns] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        return buf.getvalue().rstrip("\n")
    if fmt == "markdown":
        def esc(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in cells]
        return "\n".join(lines)
    shown = [c for c in columns if c != below]
    idx = {c: i for i, c in enumerate(columns)}
    limits = max_width or {}
    for row in cells:
        for c, limit in limits.items():
            if c in idx and len(row[idx[c]]) > limit:
                row[idx[c]] = row[idx[c]][: limit - 3] + "..."
    widths = {c: max([len(c)] + [len(row[idx[c]]) for row in cells]) for c in shown}
    term = shutil.get_terminal_size((120, 24)).columns
    indent = sum(widths[c] + 2 for c in shown if c != wrap)
    wrap_width = max(30, term - indent - 1)

    def line(values: dict[str, str]) -> list[str]:
        parts, extra = [], []
        for c in shown:
            if c == wrap:
                chunks = textwrap.wrap(values[c], wrap_width) or [""]
                parts.append(chunks[0])
                extra = [" " * indent + chunk for chunk in chunks[1:]]
            else:
                parts.append(values[c].ljust(widths[c]))
        return ["  ".join(parts).rstrip(), *extra]

    lines = line({c: c for c in shown})
    lines.append("  ".join("-" * (min(widths[c], wrap_width) if c == wrap else widths[c]) for c in shown))
    for row in cells:
        values = {c: row[idx[c]] for c in columns}
        lines += line(values)
        if below and values[below]:
            lines += textwrap.wrap(values[below], max(40, term - 5), initial_indent="    ",
                                   subsequent_indent="    ")
    return "\n".join(lines)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=TABLE_FORMATS, default="table",
                        help="output format: aligned text (default), CSV or a Markdown table")
