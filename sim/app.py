"""The web page for policy students: a Solara page over the escalation model (a Mesa model).

Serve it with one of::

    escalation app [SCENARIO] [--port 8765]
    python -m sim.app [SCENARIO] [--port 8765] [--host 127.0.0.1]
    solara run sim/app.py            # solara's own runner (also sim.app:page); scenario from $ESCALATION_APP_SCENARIO

and open http://127.0.0.1:8765.  See ``docs/app.md``.

The page is built on Solara with its own sidebar, tabs and play loop rather than
Mesa's ``SolaraViz``: that page names its tabs "Page 0, 1, 2", shows framework
settings ("Use Threads", render and play intervals), cannot show a control's
range, meaning or a message about a refused value, and its play button showed
only the end of the run with the installed Solara (see docs/app.md).  Controls
and Reset/Play/Step come from :mod:`sim.app_controls` (made from the schema and
checked against it); the tabs from :mod:`sim.app_views` (this run) and
:mod:`sim.app_ensemble` (many runs, compare with baseline).
"""

from __future__ import annotations

# absolute imports: `solara run sim/app.py` runs this file outside the package
from sim import app_env  # noqa: F401  isort: skip  (before solara)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import html  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from mesa import Agent  # noqa: E402
from solara.components.head_tag import HeadTag  # noqa: E402  (not exported at the top level)

from sim import app_views as views  # noqa: E402
from sim.app_controls import (CONTROL_PATHS, DEFAULT_SEED, GROUPS, ControlsPanel, RunController,  # noqa: E402
                              build_controls, check_seed, control_name, overrides_from_values, shown)
from sim.app_ensemble import CompareTab, ManyRunsTab  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402
from sim.model import EscalationModel  # noqa: E402
from sim.runner import replicate_seeds  # noqa: E402
from sim.scenario_io import available_scenarios, load_scenario, scenario_to_yaml  # noqa: E402
from sim.schema import Scenario, iter_parameters  # noqa: E402

SCENARIO_ENV = "ESCALATION_APP_SCENARIO"
"""Environment variable naming the scenario of ``page`` when solara imports this module itself."""
APP_MODULE = "sim.app"
"""Module solara imports to find :data:`page` (also when this file runs as ``python -m sim.app``)."""
DEFAULT_SCENARIO = "baseline"
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
DAYS_PER_STEP = (1, 7, 14, 30)
"""Choices of days a press of Step (or one tick of play) advances before the views are re-drawn."""
RENDER_INTERVAL = 7
"""Days per step when the page opens."""
PLAY_INTERVAL = 0.25
"""Shortest time between two updates while the run plays, in seconds (the drawing takes most of it)."""
TABS = ("This run", "Many runs", "Compare with baseline", "What the controls mean")
FAVICON = ("data:image/svg+xml," + "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
           "%3Crect x='1' y='11' width='3' height='4' fill='%230072B2'/%3E%3Crect x='6' y='7' width='3' height='8' "
           "fill='%23E69F00'/%3E%3Crect x='11' y='2' width='3' height='13' fill='%23D55E00'/%3E%3C/svg%3E")
"""Three rising rungs in the page's palette."""


# --------------------------------------------------------------------------- the model behind the page


class AppModel(EscalationModel):
    """The escalation model made from the page's controls.

    Args:
        scenario: the scenario the page was started with (a :class:`Scenario`,
            or anything :func:`sim.scenario_io.load_scenario` accepts).
        seed: the random seed (a whole number >= 0, or its text).
        **kwargs: controls: keywords (:func:`sim.app_controls.control_name` of a
            schema path) and values, as :class:`sim.app_controls.RunController` passes them.

    Controls equal to the scenario's value are left out; the others become
    ``overrides``.  The random generator is seeded like replicate 0 of
    :func:`sim.runner.run_replicates`, so the live run is the run of
    ``escalation run FILE -n 1 --seed SEED`` on the downloaded scenario.  The
    page only passes values it has checked; should the scenario or the seed
    still be refused, the model runs the scenario as loaded (seed 0) and
    ``problem`` says why, rather than failing.
    """

    def __init__(self, scenario: Any = None, seed: Any = DEFAULT_SEED, **kwargs: Any) -> None:
        base = scenario if isinstance(scenario, Scenario) else load_base(scenario or DEFAULT_SCENARIO)[0]
        problems = []
        seed_value, message = check_seed(seed)
        if seed_value is None:
            problems.append(f"{message} (seed {DEFAULT_SEED} used)")
            seed_value = DEFAULT_SEED
        overrides = overrides_from_values(base, kwargs)
        scenario_used = base
        if overrides:
            try:
                scenario_used = load_scenario(base, overrides)
            except ScenarioError as err:
                problems.append(str(err))
                overrides = []
        self.base_scenario: Scenario = base
        self.seed: int = seed_value
        self.overrides: list[str] = overrides
        self.problem: str | None = "; ".join(problems) or None
        self.lock = threading.RLock()
        """Held while the model steps and while the page reads it (play steps in a thread of its own)."""
        super().__init__(scenario=scenario_used, rng=np.random.default_rng(replicate_seeds(seed_value, 1)[0]))


def release_model(model: Any) -> None:
    """Let a model the page no longer shows be garbage-collected (Mesa 3.3 keeps it in ``Agent._ids``)."""
    Agent._ids.pop(model, None)


def scenario_yaml(model: AppModel) -> str:
    """The live run's scenario as YAML that ``escalation run`` accepts (a comment header, then the scenario)."""
    changes = ", ".join(model.overrides) if model.overrides else "none"
    header = (
        f"# Saved from the escalation web page on {dt.date.today().isoformat()}.\n"
        f"# Started from scenario '{model.base_scenario.name}'; changed: {changes}.\n"
        f"# Random seed of the live run: {model.seed}; 'escalation run FILE -n 1 --seed {model.seed}' repeats it.\n"
    )
    return header + scenario_to_yaml(model.scenario)


def control_rows(scenario: Scenario, paths: Sequence[str] = CONTROL_PATHS) -> list[dict[str, Any]]:
    """One row per control for the 'what the controls mean' tab (values of ``scenario``)."""
    now = {info.path: (info, value) for info, value in iter_parameters(scenario)}
    controls = build_controls(scenario, paths)
    group_of = {p: title for title, _, ps in GROUPS for p in ps}
    rows = []
    for path in paths:
        info, value = now[path]
        c = controls[control_name(path)]
        rows.append({"control": c.label, "group": group_of.get(path, ""), "role": info.role, "now": value,
                     "default": info.default, "range": c.range_text, "unit": info.unit,
                     "meaning": info.description, "path": path})
    return rows


def controls_html(rows: Sequence[dict[str, Any]]) -> str:
    """The controls as HTML blocks: label and role, meaning, then value now, default, range and path."""
    blocks = []
    for r in rows:
        facts = [f"now <b>{html.escape(shown(r['now']))}</b>", f"default {html.escape(shown(r['default']))}",
                 f"range {html.escape(str(r['range']))}", f"<code>{html.escape(r['path'])}</code>"]
        details = " \u00b7 ".join(facts)
        blocks.append(
            f'<div class="esc-ctl"><b>{html.escape(r["control"])}</b> <span class="esc-tag esc-tag-{r["role"]}">'
            f'{html.escape(r["role"])}</span> <span class="esc-muted">{html.escape(r["group"])}</span><br>'
            f'{html.escape(r["meaning"])}<br><span class="esc-muted">{details}</span></div>')
    return "".join(blocks)


# --------------------------------------------------------------------------- the page


def load_base(scenario_ref: Any) -> tuple[Scenario, str]:
    """The page's scenario and a note for the page (empty unless something needs saying)."""
    if isinstance(scenario_ref, Scenario):
        return scenario_ref, ""
    if str(scenario_ref) == DEFAULT_SCENARIO and DEFAULT_SCENARIO not in available_scenarios():
        return load_scenario({}), (f"No scenario file '{DEFAULT_SCENARIO}' was found: the page uses the schema's "
                                   "default scenario.")
    return load_scenario(scenario_ref), ""


def pending_changes(model: Any, values: dict[str, Any], seed: int, errors: dict[str, str]) -> str:
    """What the sidebar holds that the live run does not use yet (empty if nothing)."""
    parts = []
    wanted = overrides_from_values(model.base_scenario, values)
    if sorted(wanted) != sorted(model.overrides) or seed != model.seed:
        parts.append("Changed controls take effect when you press Reset.")
    if errors:
        parts.append(f"{len(errors)} control{'s' if len(errors) > 1 else ''} refused a value (see the message "
                     "below the control); the run keeps the last accepted value.")
    return " ".join(parts)


def make_page(scenario_ref: Any = DEFAULT_SCENARIO) -> Callable[[], Any]:
    """The page component for a scenario (a name under ``scenarios/``, a YAML path, or a Scenario).

    Loads and checks the scenario now (a bad reference raises
    :class:`~sim.errors.ScenarioError` here, not in the browser).  Every
    browser session gets its own model.
    """
    base, note = load_base(scenario_ref)
    controls = build_controls(base)
    start = {name: c.default for name, c in controls.items()}
    title = f"Escalation simulator: US, Iran and the militias ({base.name})"
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", base.name).strip("._") + "-from-app.yaml"

    @solara.component
    def Page() -> None:
        first = solara.use_memo(lambda: AppModel(scenario=base, seed=DEFAULT_SEED), [])
        model = solara.use_reactive(first)
        values = solara.use_reactive(dict(start))
        seed = solara.use_reactive(DEFAULT_SEED)
        errors = solara.use_reactive({})
        days_per_step = solara.use_reactive(RENDER_INTERVAL)
        tick = solara.use_memo(lambda: solara.reactive(0), [])  # read only by the views (see ThisRunTab)
        tab = solara.use_reactive(0)
        drawn = solara.use_memo(threading.Event, [])

        def make_model() -> AppModel:
            return AppModel(scenario=base, seed=seed.value, **values.value)

        def forget_when_replaced() -> Callable[[], None]:
            shown_model = model.value
            return lambda: release_model(shown_model)

        solara.use_effect(forget_when_replaced, [model.value])
        solara.Title(title)
        with solara.Head():
            HeadTag("link", key="icon", attributes={"rel": "icon", "href": FAVICON})
        solara.Style(CSS)
        with solara.AppBar():
            solara.AppBarTitle(title)
        with solara.Sidebar():
            with solara.Card("Run", classes=["esc-card"], margin=0):
                RunController(model, make_model, days_per_step, tick, drawn, PLAY_INTERVAL)
                solara.ToggleButtonsSingle(value=days_per_step, values=list(DAYS_PER_STEP),
                                           classes=["esc-days-per-step"])
                solara.Text("days per Step (and per tick of \u25b6)", classes=["esc-range"])
                DaysRun(model.value, tick, drawn)
            ControlsPanel(base, controls, values, seed, errors)
        pending = pending_changes(model.value, values.value, seed.value, errors.value)
        with solara.lab.Tabs(value=tab, lazy=True):
            with solara.lab.Tab(TABS[0]):
                views.ThisRunTab(model.value, tick, pending, note, scenario_yaml, filename)
            with solara.lab.Tab(TABS[1]):
                ManyRunsTab(model.value)
            with solara.lab.Tab(TABS[2]):
                CompareTab(model.value)
            with solara.lab.Tab(TABS[3]):
                ControlsHelp(model.value)

    return Page


@solara.component
def DaysRun(model: Any, ticks: solara.Reactive, drawn: threading.Event) -> None:
    """Days run so far; re-rendered after every step (``ticks``), when it also tells play that the page is drawn."""
    solara.use_effect(drawn.set, [ticks.value])  # effects run once the render is committed
    solara.Text(f"Days run: {model.day + 1} of {model.c.days}", classes=["esc-days-run"])


@solara.component
def ControlsHelp(model: Any) -> None:
    """What every control means, with its unit, range and default (from the schema)."""
    text = solara.use_memo(lambda: controls_html(control_rows(model.scenario)), [model])
    with solara.Div(classes=["esc-view", "esc-view-controls"]):
        solara.Text("Levers are US choices; uncertainties are what the US does not control. 'now' is the value "
                    "in the live run, 'default' the value of the default scenario. Every other parameter keeps "
                    "the value of the scenario being served.", classes=["esc-muted"])
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["esc-controls"])


CSS = (Path(__file__).with_name("app.css")).read_text(encoding="utf-8")
"""The page's style sheet (``sim/app.css``)."""

page = make_page(os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO))
"""The page of the scenario named by ``$ESCALATION_APP_SCENARIO`` (default ``baseline``); :func:`serve` replaces it."""
Page = page
"""The name ``solara run sim/app.py`` looks for."""


# --------------------------------------------------------------------------- serving


def _scenario_arg(scenario_ref: Any) -> str:
    """The scenario reference as text the server process can load (an existing file becomes absolute)."""
    if isinstance(scenario_ref, Scenario):
        raise TypeError("serve() takes a scenario name or path; use make_page() for a Scenario object")
    p = Path(str(scenario_ref)).expanduser()
    return str(p.resolve()) if p.is_file() else str(scenario_ref)


def solara_args(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> list[str]:
    """Arguments of ``solara run`` that serve :data:`page` in production mode without side effects."""
    return ["run", f"{APP_MODULE}:page", "--host", host, "--port", str(int(port)), "--production", "--no-open",
            "--no-check-version", "--log-level", "warning", "--log-level-uvicorn", "warning"]


def serve(scenario_ref: Any = DEFAULT_SCENARIO, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> None:
    """Serve the page for ``scenario_ref`` at ``http://host:port`` until interrupted (blocks).

    The scenario is loaded and checked before the server starts.  The server
    runs in this process (solara's ``run`` command on uvicorn), in production
    mode, offline (see :mod:`sim.app_env`).
    """
    global page
    # solara warns on every page load over plain http from a host other than 'localhost'
    # (about cookies in iframes); it does not concern this page
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    ref = _scenario_arg(scenario_ref)
    page = make_page(ref)
    os.environ[SCENARIO_ENV] = ref
    from solara.__main__ import cli

    print(f"Escalation web page for scenario '{ref}': http://{host}:{int(port)}  (Ctrl+C to stop)", flush=True)
    cli.main(args=solara_args(port, host), prog_name="escalation app", standalone_mode=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.app [SCENARIO] [--port P] [--host H]``."""
    parser = argparse.ArgumentParser(prog="python -m sim.app", description="Serve the escalation web page.")
    parser.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                        help="scenario name under scenarios/ or a YAML file (default: baseline)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    args = parser.parse_args(argv)
    try:
        serve(args.scenario, args.port, args.host)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def run_by_solara() -> bool:
    """True when solara's server executes this file (``solara run sim/app.py`` runs it as ``__main__``)."""
    return "solara.server.app" in sys.modules


if __name__ == "__main__" and not run_by_solara():
    sys.exit(main())
