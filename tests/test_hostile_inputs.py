"""The hostile-input suite (issue 10): hypothesis writes scenario files and command lines as a careless
user or an attacker would, and every one must end with exit status 0 or 2, no traceback, nothing written
on error, and nothing outside ``--out`` touched.  Runs are tiny (one replicate, a few days, in-process
calls of ``sim.cli.main``) so the suite stays well under a minute."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from typing import Iterator

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_helpers import snapshot
from sim import cli

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --------------------------------------------------------------------------- what a hostile user types

PATHS = ["days", "name", "start_date", "question", "extends", "militia.attack.tension_weight",
         "militia.groups[0].base_rate", "militia.groups.kh.alignment", "militia.groups[9].id",
         "us.doctrine.triggers.on_injury", "us.doctrine.precision.p_destroy", "us.doctrine.proportionate.delay_days",
         "iran.restraint_min", "iran.restraint_max", "drivers.regional_tension", "shocks", "bases[0].country",
         "ceasefire.windows", "ceasefire.days", "ceasefire.observers", "ceasefire.windows[0].end",
         "ladder", "nope", "us..doctrine", "militia.groups[-1]", "__class__", "days.x"]

TEXT_VALUES = ["true", "false", "yes", "no", "on", "off", "'30'", "30.0", "1e400", "-1", "0", "1", "0.5", "1_000",
               "0o17", "0x1F", "1:30", ".inf", "-.nan", "null", "~", "[]", "{}", "[1, 2]", "{a: 1}", "!!python/none",
               "&a [*a]", "9999-12-01", "2023-02-30", "'", "\"", "\\x00", "{{{", "- - -", "é😀", "a" * 300]

scalars = st.one_of(
    st.sampled_from([True, False, None, "yes", "off", "30", "1e3", "", " ", "../../etc/passwd", "/etc/shadow",
                     "baseline", "9999-12-01", "2023-10-17"]),
    st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.sampled_from(PATHS + ["id", "date",
                                                                                                 "value"]),
                                                                        inner, max_size=3)), max_leaves=8)


def _nest(path: str, value: object) -> dict:
    out: object = value
    for part in reversed(path.replace("[", ".").replace("]", "").split(".")):
        out = {part: out}
    return out  # type: ignore[return-value]


@st.composite
def scenario_texts(draw) -> str:
    """A scenario file: mostly well-formed YAML with hostile values, sometimes raw hostile text."""
    kind = draw(st.sampled_from(["settings", "settings", "dated", "raw line", "text"]))
    if kind == "dated":  # hypothesis favours the ends of the calendar (0001-01-01, 9999-12-31)
        day = draw(st.one_of(st.sampled_from([dt.date.min, dt.date.max, dt.date(2262, 4, 12)]), st.dates()))
        return f"extends: baseline\nstart_date: {day.isoformat()}\n"
    if kind == "settings":
        doc: dict = {}
        if draw(st.booleans()):
            doc["extends"] = draw(st.sampled_from(["baseline", "restraint", "nothere", "/etc/passwd", "x.yaml",
                                                   "../scenarios/baseline.yaml", 3]))
        for path in draw(st.lists(st.sampled_from(PATHS), max_size=4)):
            doc.update(_nest(path, draw(values)))
        return yaml.safe_dump(doc, allow_unicode=True)
    if kind == "raw line":
        lines = [f"{draw(st.sampled_from(PATHS))}: {draw(st.sampled_from(TEXT_VALUES))}"
                 for _ in range(draw(st.integers(1, 4)))]
        return "extends: baseline\n" + "\n".join(lines) + "\n"
    return draw(st.text(max_size=200))


def option_values() -> st.SearchStrategy[str]:
    return st.sampled_from(["-1", "0", "1", "2", "3", "x", "1e3", "", " ", "999999", "nan", "--", "-q", "."])


@st.composite
def command_lines(draw) -> list[str]:
    """A command line: a command, then options with odd values (never one that would run for long)."""
    command = draw(st.sampled_from(["run", "compare", "validate", "params", "list", "plot", "analyze", "sweep",
                                    "nonsense", ""]))
    args = [command] if command else []
    refs = st.sampled_from(["baseline", "restraint", "x.yaml", "nothere", "/etc/passwd", ".", "", "-", "res",
                            "spec.yaml", "afile"])
    args += draw(st.lists(refs, min_size=0, max_size=2))
    options = {
        "-n": st.sampled_from(["-1", "0", "1", "x", "1.5", ""]),
        "--days": st.sampled_from(["-3", "0", "2", "3", "4000", "x", "2.0"]),
        "--seed": option_values(),
        "--set": st.builds(lambda p, v: f"{p}={v}", st.sampled_from(PATHS), st.sampled_from(TEXT_VALUES)),
        "--engine": st.sampled_from(["mesa", "ensemble", "auto", "warp", ""]),
        "--out": st.sampled_from(["out", "out/deep", ".", "/", "..", "afile", "afile/x", "res", "", "out/../res"]),
        "--format": st.sampled_from(["png", "svg", "csv", "table", "markdown", "jpg"]),
        "--overwrite": st.just(None),
        "--no-figures": st.just(None),
        "--workers": st.sampled_from(["0", "-1", "x"]),
        "--points": st.sampled_from(["2", "0", "x"]),
        "--resume": st.just(None),
        "--rep": st.sampled_from(["1"]),
    }
    for name in draw(st.lists(st.sampled_from(sorted(options)), max_size=5)):
        value = draw(options[name])
        args += [name] if value is None else [name, value]
    if command in ("run", "compare"):  # keep any real run tiny, whatever else was drawn
        args += ["-n", "1", "--days", "3", "--engine", "mesa", "--no-figures"]
    if command == "sweep":
        args += ["--workers", "0", "--points", "2", "-n", "1"]
    return args


# --------------------------------------------------------------------------- running one


SPEC = """\
scenario: baseline
days: 3
parameters:
  - {path: us.doctrine.campaign.first_wave_targets, role: lever, values: [20, 60]}
design: {kind: grid}
replicates: 1
engine: ensemble
"""


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A fresh folder (with a file, a sweep spec and an earlier result) as the working folder."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="hostile-") as top:
        outside = Path(top) / "outside"
        outside.mkdir()
        (outside / "precious.txt").write_text("must survive\n")
        work = Path(top) / "work"
        work.mkdir()
        (work / "afile").write_text("a file, not a folder\n")
        (work / "spec.yaml").write_text(SPEC)
        os.chdir(work)
        try:
            yield work
        finally:
            os.chdir(old)


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _written_by(argv: list[str]) -> set[str]:
    """Where a successful command may write: its --out folder (or DIR/figures, DIR/analysis, the default)."""
    outs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--out"]
    places = {os.path.normpath(outs[-1])} if outs else {"results"}
    if argv and argv[0] in ("plot", "analyze", "sweep"):
        places |= {os.path.normpath(a) for a in argv[1:] if not a.startswith("-")}
    return places


def check(argv: list[str], work: Path) -> None:
    before = snapshot(work)
    outside_before = snapshot(work.parent / "outside")
    code, out, err = call(argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback (most recent call last)" not in err and "escalation: unexpected error" not in err, (argv, err)
    assert snapshot(work.parent / "outside") == outside_before, argv
    after = snapshot(work)
    if code == 2:
        assert after == before, (argv, err)
        assert err.strip(), argv
        return
    places = _written_by(argv)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    stray = [k for k in changed if not any(k == p or k.startswith(p.rstrip("/") + "/") for p in places)]
    assert not stray, (argv, stray)


@SETTINGS
@given(text=scenario_texts())
def test_any_scenario_file_gives_0_or_2_and_writes_only_its_out_folder(text):
    with workspace() as work:
        (work / "x.yaml").write_text(text, encoding="utf-8")
        check(["validate", "x.yaml"], work)
        check(["run", "x.yaml", "-n", "1", "--days", "3", "--engine", "mesa", "--no-figures", "-q",
               "--out", "out"], work)


@SETTINGS
@given(argv=command_lines())
def test_any_command_line_gives_0_or_2_and_touches_nothing_outside_out(argv):
    with workspace() as work:
        check(["run", "baseline", "-n", "1", "--days", "3", "--engine", "mesa", "--no-figures", "-q",
               "--out", "res"], work)
        check(argv, work)
