"""The web page for policy students: a Mesa SolaraViz page over the escalation model.

Serve it with one of::

    python -m sim.app [SCENARIO] [--port 8765] [--host 127.0.0.1]
    python -c "from sim.app import serve; serve('baseline', 8765)"
    ESCALATION_APP_SCENARIO=baseline solara run sim.app:page --production   # solara's own runner

and open http://127.0.0.1:8765.  See ``docs/app.md`` (also for the environment
solara's own runner needs to stay offline).

The controls in the sidebar are generated from :mod:`sim.schema` (default,
bounds, unit and description come from there; nothing is written twice) for
the curated list :data:`CONTROL_PATHS`.  SolaraViz makes a new model from the
controls when Reset is pressed; :class:`AppModel` turns them into dotted
``path=value`` overrides of the scenario the page was started with.
"""

from __future__ import annotations

# app_views sets solara's environment (no telemetry, local assets): import it before solara
from . import app_views as views  # isort: skip

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import solara
import yaml
from mesa import Agent
from mesa.visualization import SolaraViz

from .errors import ScenarioError
from .model import EscalationModel
from .runner import replicate_seeds
from .scenario_io import available_scenarios, load_scenario, scenario_to_yaml
from .schema import ParamInfo, Scenario, iter_parameters

SCENARIO_ENV = "ESCALATION_APP_SCENARIO"
"""Environment variable naming the scenario of ``page`` when solara imports this module itself."""

APP_MODULE = "sim.app"
"""Module solara imports to find :data:`page` (also when this file runs as ``python -m sim.app``)."""

DEFAULT_SCENARIO = "baseline"
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
DEFAULT_SEED = 0
RENDER_INTERVAL = 7
"""Days a press of Step (or one tick of Play) advances before the views are re-drawn (a slider on the page)."""

CONTROL_PATHS: tuple[str, ...] = (
    # levers: US doctrine
    "us.doctrine.triggers.on_injury",
    "us.doctrine.triggers.on_fatality",
    "us.doctrine.triggers.attack_count",
    "us.doctrine.triggers.respond_probability",
    "us.doctrine.proportionate.facilities_base",
    "us.doctrine.proportionate.facilities_per_casualty",
    "us.doctrine.campaign.enabled",
    "us.doctrine.campaign.first_wave_targets",
    "us.doctrine.preemption.enabled",
    "us.doctrine.preemption.targets",
    "us.doctrine.scope.irgc_facilities",
    "us.doctrine.scope.inside_iran",
    "us.doctrine.precision.collateral_per_target",
    "us.doctrine.direct_response.target",
    # uncertainties: militias and Iran
    "militia.attack.tension_weight",
    "militia.attack.revenge_weight",
    "militia.attack.deterrence_weight",
    "us.credibility_dose_scale",
    "militia.attack.tempo_per_militant_killed",
    "militia.attack.injury_dispersion",
    "iran.restraint_max",
    "iran.red_line_territory",
    "iran.direct_propensity",
    # run setting
    "days",
)
"""Schema paths offered as controls, in sidebar order (levers, uncertainties, run settings)."""

_CONTEXT_WORDS = {"us": "US", "iran": "Iran", "militia": "Militia", "doctrine": None, "attack": "attacks"}


# --------------------------------------------------------------------------- controls from the schema


@dataclasses.dataclass(frozen=True)
class Control:
    """One sidebar control: its keyword for the model, its schema path and info, and the SolaraViz spec."""

    name: str
    path: str
    info: ParamInfo
    spec: dict[str, Any]


def control_name(path: str) -> str:
    """Keyword argument of the model for a schema path (``a.b.c`` -> ``a__b__c``)."""
    return path.replace(".", "__")


def control_path(name: str) -> str:
    """Schema path of a control keyword (inverse of :func:`control_name`)."""
    return name.replace("__", ".")


def control_label(info: ParamInfo) -> str:
    """A short label from the path, with the unit: ``US campaign: first wave targets [targets]``."""
    *context, field = info.path.split(".")
    words = [w for w in (_CONTEXT_WORDS.get(c, c.replace("_", " ")) for c in context) if w]
    where = " ".join(words) if words else "Run"
    label = f"{where}: {field.replace('_', ' ')}"
    if info.unit not in ("", "1"):
        label += f" [{info.unit}]"
    return label


def slider_step(lo: float, hi: float, *values: float) -> float:
    """A round step for a float slider over [lo, hi] that every given value lies on."""
    span = hi - lo
    step = 10.0 ** (math.floor(math.log10(span)) - 2) if span > 0 else 0.01
    while step > 1e-6 and any(abs(v / step - round(v / step)) > 1e-6 for v in (lo, *values)):
        step /= 10.0
    return step


def _bounds(info: ParamInfo) -> tuple[float, float]:
    lo = info.ge if info.ge is not None else info.gt
    hi = info.le if info.le is not None else info.lt
    if lo is None or hi is None:
        raise ValueError(f"{info.path} has no lower and upper bound in the schema; a slider needs both")
    return float(lo), float(hi)


def make_control(info: ParamInfo, value: Any) -> Control:
    """The SolaraViz input for one schema parameter, starting at ``value``."""
    label = control_label(info)
    if info.choices is not None:
        spec = {"type": "Select", "value": value, "values": list(info.choices), "label": label}
    elif info.type == "bool":
        spec = {"type": "Checkbox", "value": bool(value), "label": label}
    elif info.type == "int":
        lo, hi = _bounds(info)
        lo_i = int(lo) + (1 if info.ge is None else 0)  # exclusive bounds move one step in
        hi_i = int(hi) - (1 if info.le is None else 0)
        spec = {"type": "SliderInt", "value": int(value), "label": label, "min": lo_i, "max": hi_i, "step": 1}
    elif info.type == "float":
        lo, hi = _bounds(info)
        step = slider_step(lo, hi, float(value), float(info.default))
        lo_f = lo + (step if info.ge is None else 0.0)
        hi_f = hi - (step if info.le is None else 0.0)
        spec = {"type": "SliderFloat", "value": float(value), "label": label, "min": lo_f, "max": hi_f, "step": step}
    else:
        raise ValueError(f"{info.path}: no control for parameters of type {info.type}")
    return Control(control_name(info.path), info.path, info, spec)


def build_controls(scenario: Scenario, paths: Sequence[str] = CONTROL_PATHS) -> dict[str, Control]:
    """Controls for ``paths``, starting at ``scenario``'s values, keyed by model keyword."""
    known = {info.path: (info, value) for info, value in iter_parameters(scenario)}
    missing = [p for p in paths if p not in known]
    if missing:
        raise KeyError(f"not scalar scenario parameters: {', '.join(missing)}")
    controls = [make_control(*known[p]) for p in paths]
    return {c.name: c for c in controls}


def model_params(scenario: Scenario, seed: int = DEFAULT_SEED,
                 paths: Sequence[str] = CONTROL_PATHS) -> dict[str, Any]:
    """SolaraViz ``model_params``: the scenario (fixed), the seed and the schema controls."""
    params: dict[str, Any] = {
        "scenario": scenario,
        "seed": {"type": "InputText", "value": str(seed), "label": "Random seed (whole number)"},
    }
    params.update({name: c.spec for name, c in build_controls(scenario, paths).items()})
    return params


def format_value(value: Any) -> str:
    """A control's value as the text of a ``path=value`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 10))
    text = str(value)
    try:
        same = yaml.safe_load(text) == text
    except yaml.YAMLError:
        same = False
    return text if same else json.dumps(text)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def overrides_from_controls(base: Scenario, controls: Mapping[str, Any]) -> list[str]:
    """``path=value`` overrides for the controls whose value differs from ``base``."""
    current = {info.path: value for info, value in iter_parameters(base)}
    out = []
    for name, value in controls.items():
        path = control_path(name)
        if path not in current:
            raise TypeError(f"unknown control {name!r} (no scenario parameter {path!r})")
        if not _same(value, current[path]):
            out.append(f"{path}={format_value(value)}")
    return out


# --------------------------------------------------------------------------- the model behind the page


class AppModel(EscalationModel):
    """The escalation model made from the page's controls.

    Args:
        scenario: the scenario the page was started with (a :class:`Scenario`,
            or anything :func:`sim.scenario_io.load_scenario` accepts).
        seed: the random seed (an int, or the text of the seed box).
        **kwargs: controls: keywords (:func:`control_name` of a schema path) and values.
            (Mesa's SolaraViz insists that this catch-all is called ``kwargs``.)

    Controls equal to the scenario's value are left out; the others become
    ``overrides``.  The random generator is seeded like replicate 0 of
    :func:`sim.runner.run_replicates`, so the live run is the run of
    ``escalation run FILE -n 1 --seed SEED`` on the downloaded scenario.  If the scenario rejects them (e.g. ``restraint_min`` above
    ``restraint_max``), the model runs the scenario as loaded and ``problem``
    says why.
    """

    def __init__(self, scenario: Any = None, seed: Any = DEFAULT_SEED, **kwargs: Any) -> None:
        base = scenario if isinstance(scenario, Scenario) else load_base(scenario or DEFAULT_SCENARIO)[0]
        problems = []
        try:
            seed_value = int(str(seed).strip())
        except ValueError:
            problems.append(f"the seed must be a whole number, not {seed!r} (seed {DEFAULT_SEED} used)")
            seed_value = DEFAULT_SEED
        overrides = overrides_from_controls(base, kwargs)
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
        # replicate 0 of the Mesa runner's seeding: the live run is `escalation run FILE -n 1 --seed S`
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


def control_rows(model: AppModel, paths: Sequence[str] = CONTROL_PATHS) -> list[dict[str, Any]]:
    """One row per control for the 'what the controls mean' table."""
    now = {info.path: (info, value) for info, value in iter_parameters(model.scenario)}
    rows = []
    for path in paths:
        info, value = now[path]
        rows.append({"control": control_label(info), "role": info.role, "now": value, "default": info.default,
                     "range": info.bounds if info.type != "bool" else "true | false", "unit": info.unit,
                     "meaning": info.description, "path": path})
    return rows


# --------------------------------------------------------------------------- the page


def load_base(scenario_ref: Any) -> tuple[Scenario, str]:
    """The page's scenario and a note for the page (empty unless something needs saying).

    When the default ``baseline`` scenario file does not exist (yet), the
    schema's default scenario is used instead, and the note says so.
    """
    if isinstance(scenario_ref, Scenario):
        return scenario_ref, ""
    if str(scenario_ref) == DEFAULT_SCENARIO and DEFAULT_SCENARIO not in available_scenarios():
        return load_scenario({}), (f"No scenario file '{DEFAULT_SCENARIO}' was found: the page uses the schema's "
                                   "default scenario.")
    return load_scenario(scenario_ref), ""


def make_page(scenario_ref: Any = DEFAULT_SCENARIO) -> Callable[[], Any]:
    """The page component for a scenario (a name under ``scenarios/``, a YAML path, or a Scenario).

    Loads and checks the scenario now (a bad reference raises
    :class:`~sim.errors.ScenarioError` here, not in the browser).  Every
    browser session gets its own model.
    """
    base, note = load_base(scenario_ref)
    params = model_params(base)
    title = f"Escalation simulator: {base.name}"
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", base.name).strip("._") + "-from-app.yaml"

    @solara.component
    def SummaryPanel(model: Any) -> None:
        views.SummaryView(model, note=note, download=scenario_yaml, filename=filename)

    @solara.component
    def ControlsPanel(model: Any) -> None:
        views.ControlsHelpView(model, control_rows)

    components = [
        (SummaryPanel, 0), (views.CumulativeAttacksView, 0),
        (views.RungView, 0), (views.StrikesView, 0),
        (views.CapacityView, 0), (views.MapView, 0),
        (views.EventLogView, 0),
        (views.EnsembleControls, 1), (views.FanChartView, 1),
        (views.RungProbabilityView, 1),
        (ControlsPanel, 2),
    ]

    @solara.component
    def Page() -> None:
        first = solara.use_memo(lambda: AppModel(scenario=base, seed=DEFAULT_SEED), [])
        model = solara.use_reactive(first)

        def forget_when_replaced() -> Callable[[], None]:
            shown = model.value
            return lambda: release_model(shown)

        solara.use_effect(forget_when_replaced, [model.value])
        solara.Title(title)
        solara.Style(views.CSS)
        SolaraViz(model, components=components, model_params=params, name=title,
                  render_interval=RENDER_INTERVAL)

    return Page


page = make_page(os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO))
"""The page of the scenario named by ``$ESCALATION_APP_SCENARIO`` (default ``baseline``); :func:`serve` replaces it."""


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
    mode, offline: front-end files come from the solara-assets package and
    telemetry is off (see :data:`sim.app_views.SOLARA_ENV`).
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


if __name__ == "__main__":
    sys.exit(main())
