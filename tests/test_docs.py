"""docs/ODD.md must keep up with the code.

Fails when the ODD description stops naming a parameter path of the schema, a public rule function of
``sim.rules``, a rung of the escalation ladder, an output column, a scenario file or a calibration
target, or when a default in its parameter appendix no longer matches the schema.

Rules for parameter paths: every path of ``sim.schema.iter_parameters()`` must appear in backticks.
Groups and bases are lists addressed by id, so their fields are checked once each, in the form
``militia.groups.<id>.<field>`` and ``bases.<id>.<field>`` (adding a default group with a new id does
not need a doc change; adding a field does).  Rule functions and rung names must also appear in
backticks (``name``, ``rules.name`` or ``name(...)``), since many of them are ordinary words.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from sim import rules
from sim.columns import EVENT_COLUMNS, TIMESERIES_COLUMNS
from sim.schema import FACILITY_KINDS, OUTCOMES, iter_parameters

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
PER_ITEM = re.compile(r"^(militia\.groups|bases)\.([^.]+)\.(.+)$")


@pytest.fixture(scope="module")
def text() -> str:
    assert ODD.is_file(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


def documented_path(path: str) -> str:
    """The form in which a parameter path must appear in the ODD."""
    m = PER_ITEM.match(path)
    return f"{m.group(1)}.<id>.{m.group(3)}" if m else path


def rule_functions() -> list[str]:
    """Public callables defined in sim.rules itself (not imported into it)."""
    return sorted(name for name, obj in vars(rules).items()
                  if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == rules.__name__)


def in_backticks(text: str, name: str) -> bool:
    return re.search(r"`(?:rules\.)?" + re.escape(name) + r"(?:`|\()", text) is not None


def test_every_parameter_path_is_documented(text):
    paths = sorted({documented_path(info.path) for info, _ in iter_parameters()})
    missing = [p for p in paths if f"`{p}`" not in text]
    assert not missing, f"docs/ODD.md does not mention these parameter paths: {missing}"


def test_every_rule_function_is_documented(text):
    names = rule_functions()
    assert len(names) >= 20  # sanity: the introspection found the rules
    missing = [n for n in names if not in_backticks(text, n)]
    assert not missing, f"docs/ODD.md does not mention these rule functions of sim.rules: {missing}"


def test_every_rung_is_documented(text):
    missing = [n for n in rules.RUNG_NAMES if f"`{n}`" not in text]
    assert not missing, f"docs/ODD.md does not mention these rungs: {missing}"
    # and the rung table lists them in ladder order, with their index
    for i, name in enumerate(rules.RUNG_NAMES):
        assert re.search(rf"^\|\s*{i}\s*\|\s*`{name}`\s*\|", text, re.M), f"rung {i} `{name}` missing from the rung table"


def test_outputs_kinds_and_outcomes_are_documented(text):
    names = list(TIMESERIES_COLUMNS) + list(EVENT_COLUMNS) + ["replicate", "date", "capacity_<id>"]
    names += list(FACILITY_KINDS) + list(OUTCOMES)
    missing = [n for n in names if f"`{n}`" not in text]
    assert not missing, f"docs/ODD.md does not mention: {missing}"


def test_scenarios_and_calibration_targets_are_documented(text):
    from sim.seeds import load_targets

    scenarios = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    missing = [s for s in scenarios if f"{s}.yaml" not in text and f"`{s}`" not in text]
    assert not missing, f"docs/ODD.md does not mention these scenarios: {missing}"
    targets = [t.id for t in load_targets()]
    missing = [t for t in targets if f"`{t}`" not in text]
    assert not missing, f"docs/ODD.md does not mention these calibration targets: {missing}"


# ----------------------------------------------------------------------------- appendix defaults


def _appendix_rows(text: str) -> dict[str, str]:
    """``path -> default cell`` for the rows of the parameter tables in Appendix A."""
    start = text.find("## Appendix A")
    assert start >= 0, "docs/ODD.md has no '## Appendix A' (parameter reference)"
    rows = {}
    for line in text[start:].splitlines():
        m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def _same(cell: str, value) -> bool:
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, (int, float)):
        try:
            return float(cell) == pytest.approx(float(value), rel=1e-9, abs=1e-12)
        except ValueError:
            return False
    return True  # text, dates and lists are not compared


def test_appendix_defaults_match_the_schema(text):
    rows = _appendix_rows(text)
    wrong = []
    for info, _ in iter_parameters():
        value = info.default
        if isinstance(value, bool) or isinstance(value, (int, float)):
            m = PER_ITEM.match(info.path)
            key = documented_path(info.path)
            cell = rows.get(key)
            if cell is None:
                wrong.append(f"{key}: no row in Appendix A")
                continue
            if m:  # "kh: 0.3; nujaba: 0.2; ..."
                by_id = dict(part.split(": ", 1) for part in cell.split("; ") if ": " in part)
                got = by_id.get(m.group(2))
                if got is not None and not _same(got, value):  # a new default item may be unlisted
                    wrong.append(f"{info.path}: appendix says {got!r}, schema default is {value!r}")
            elif not _same(cell, value):
                wrong.append(f"{info.path}: appendix says {cell!r}, schema default is {value!r}")
    assert not wrong, "Appendix A of docs/ODD.md is out of date (regenerate it from iter_parameters()):\n" + "\n".join(wrong)


# ----------------------------------------------------------------------------- outcome registry


def _outcome_rows(readme: str) -> list[tuple[str, ...]]:
    start = readme.find("### Outcomes at the horizon")
    assert start >= 0, "README.md has no '### Outcomes at the horizon' section"
    end = readme.find("\n#", start + 1)
    row = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|" + r"\s*([^|]*?)\s*\|" * 5 + r"\s*$", re.M)
    return row.findall(readme[start:end])


def test_readme_lists_every_registry_outcome_as_defined():
    from sim.outcomes import OUTCOMES as REGISTRY

    rows = _outcome_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert [r[0] for r in rows] == [o.name for o in REGISTRY], "README's outcome table is not the registry's list"
    for (name, label, unit, dtype, how, never), o in zip(rows, REGISTRY):
        assert (label, unit, dtype, how, never) == (o.label, o.unit, o.dtype, o.reduce.text, o.never or "-"), name


def test_sweep_guide_names_every_registry_outcome():
    from sim.outcomes import OUTCOMES as REGISTRY

    guide = (ROOT / "experiments" / "README.md").read_text(encoding="utf-8")
    missing = [o.name for o in REGISTRY if f"`{o.name}`" not in guide]
    assert not missing, f"experiments/README.md does not list these outcomes: {missing}"
