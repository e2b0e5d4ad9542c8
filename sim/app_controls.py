"""The web page's controls: made from the schema, grouped by actor, every value checked before it is used.

Each control is one parameter of :mod:`sim.schema` (default, bounds, unit and
description come from there).  A numeric control is a slider with a box to
type an exact value; what is typed is checked by loading the scenario with
the value as an override (:func:`sim.scenario_io.load_scenario`), so the
schema's types, bounds and cross-field rules decide, and its message is shown
next to the control.  A refused value is never used: the model keeps the last
accepted one, and the page keeps running.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import threading
import time
from typing import Any, Callable, Mapping, Sequence

import solara
import yaml

from .errors import ScenarioError
from .scenario_io import load_scenario
from .schema import ParamInfo, Scenario, iter_parameters

DEFAULT_SEED = 0

GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("US doctrine (levers)", "What the United States chooses: when it answers attacks and how hard.", (
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
        "us.doctrine.leadership.probability",
        "us.doctrine.self_defence.probability",
    )),
    ("Militias and Iran (uncertainties)", "What the United States does not control: how the others behave.", (
        "militia.attack.tension_weight",
        "militia.attack.revenge_weight",
        "militia.attack.deterrence_weight",
        "us.credibility_dose_scale",
        "militia.attack.tempo_per_militant_killed",
        "militia.attack.injury_dispersion",
        "militia.attack.diagnosis_delayed_share",
        "standdown.enabled",
        "iran.restraint_max",
        "iran.red_line_territory",
        "iran.direct_propensity",
    )),
    ("Truce (scenario input)", "A ceasefire window in days of the run, observed by the groups, Iran and the US "
     "(length 0: no truce).", (
        "ceasefire.start_day",
        "ceasefire.days",
        "ceasefire.obedience",
    )),
    ("Run settings", "How long the run lasts; the random seed is below.", ("days",)),
)
"""Sidebar cards: title, one line, schema paths in order."""

CONTROL_PATHS: tuple[str, ...] = tuple(p for _, _, paths in GROUPS for p in paths)
"""Every schema path offered as a control, in sidebar order."""

_CONTEXT_WORDS = {"us": "US", "iran": "Iran", "militia": "Militia", "doctrine": None, "attack": "attacks",
                  "ceasefire": "Truce"}


@dataclasses.dataclass(frozen=True)
class Control:
    """One control: its keyword for the model, schema path and info, kind, range and step."""

    name: str
    path: str
    info: ParamInfo
    kind: str  # "int", "float", "bool" or "choice"
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None

    @property
    def label(self) -> str:
        return control_label(self.info)

    @property
    def range_text(self) -> str:
        """'0 to 5 attacks', 'yes or no', 'one of: a, b'."""
        if self.kind == "bool":
            return "on or off"
        if self.kind == "choice":
            return "one of: " + ", ".join(str(c) for c in self.info.choices or ())
        unit = "" if self.info.unit in ("", "1") else f" {self.info.unit}"
        return f"{shown(self.low)} to {shown(self.high)}{unit}"


def control_name(path: str) -> str:
    """Keyword argument of the model for a schema path (``a.b.c`` -> ``a__b__c``)."""
    return path.replace(".", "__")


def control_path(name: str) -> str:
    """Schema path of a control keyword (inverse of :func:`control_name`)."""
    return name.replace("__", ".")


def control_label(info: ParamInfo) -> str:
    """A short label from the path: ``US campaign: first wave targets``."""
    *context, field = info.path.split(".")
    words = [w for w in (_CONTEXT_WORDS.get(c, c.replace("_", " ")) for c in context) if w]
    where = " ".join(words) if words else "Run"
    return f"{where}: {field.replace('_', ' ')}"


def shown(value: Any) -> str:
    """A value as the page shows it (``true``/``false``, floats without trailing zeros)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def slider_step(lo: float, hi: float, *values: float) -> float:
    """A round step for a float slider over [lo, hi] that every given value lies on."""
    span = hi - lo
    step = 10.0 ** (math.floor(math.log10(span)) - 2) if span > 0 else 0.01
    while step > 1e-6 and any(abs(v / step - round(v / step)) > 1e-6 for v in (lo, *values)):
        step /= 10.0
    return step


def make_control(info: ParamInfo, value: Any) -> Control:
    """The control of one schema parameter (bounds as the schema gives them; exclusive ones move a step in)."""
    name = control_name(info.path)
    if info.choices is not None:
        return Control(name, info.path, info, "choice", value)
    if info.type == "bool":
        return Control(name, info.path, info, "bool", bool(value))
    lo = info.ge if info.ge is not None else info.gt
    hi = info.le if info.le is not None else info.lt
    if lo is None or hi is None or info.type not in ("int", "float"):
        raise ValueError(f"{info.path}: a control needs a number with a lower and an upper bound in the schema")
    if info.type == "int":
        return Control(name, info.path, info, "int", int(value), int(lo) + (info.ge is None),
                       int(hi) - (info.le is None), 1)
    step = slider_step(float(lo), float(hi), float(value), float(info.default))
    return Control(name, info.path, info, "float", float(value), float(lo) + (step if info.ge is None else 0.0),
                   float(hi) - (step if info.le is None else 0.0), step)


def build_controls(scenario: Scenario, paths: Sequence[str] = CONTROL_PATHS) -> dict[str, Control]:
    """Controls for ``paths``, starting at ``scenario``'s values, keyed by model keyword."""
    known = {info.path: (info, value) for info, value in iter_parameters(scenario)}
    missing = [p for p in paths if p not in known]
    if missing:
        raise KeyError(f"not scalar scenario parameters: {', '.join(missing)}")
    return {c.name: c for c in (make_control(*known[p]) for p in paths)}


# --------------------------------------------------------------------------- checking values


def format_value(value: Any) -> str:
    """A value as the text of a ``path=value`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def overrides_from_values(base: Scenario, values: Mapping[str, Any]) -> list[str]:
    """``path=value`` overrides for the controls whose value differs from ``base``."""
    current = {info.path: value for info, value in iter_parameters(base)}
    out = []
    for name, value in values.items():
        path = control_path(name)
        if path not in current:
            raise TypeError(f"unknown control {name!r} (no scenario parameter {path!r})")
        if not _same(value, current[path]):
            out.append(f"{path}={format_value(value)}")
    return out


def parse_value(control: Control, text: Any) -> Any:
    """The typed text as the control's kind of value (a ValueError says what is allowed)."""
    if control.kind in ("bool", "choice") or not isinstance(text, str):
        return text
    try:
        number = yaml.safe_load(text.strip())
    except yaml.YAMLError:
        number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or (
            control.kind == "int" and not float(number).is_integer()):
        what = "a whole number" if control.kind == "int" else "a number"
        raise ValueError(f"{text.strip()!r} is not {what} (allowed: {control.range_text})")
    return int(number) if control.kind == "int" else float(number)


def check_value(base: Scenario, values: Mapping[str, Any], control: Control, text: Any) -> tuple[Any, str]:
    """(value, "") if the typed value is allowed with the other controls' values, else (None, message).

    The check is the schema's: the scenario is loaded with every control's
    override, so bounds, types and rules across fields (``restraint_min`` at
    most ``restraint_max``) give their usual message.
    """
    try:
        value = parse_value(control, text)
    except ValueError as err:
        return None, str(err)
    trial = {**values, control.name: value}
    try:
        load_scenario(base, overrides_from_values(base, trial))
    except ScenarioError as err:
        return None, _short_message(str(err), control.path)
    return value, ""


def _short_message(message: str, path: str) -> str:
    """The scenario error's line about ``path`` (else the whole message), without the file's name."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    about = [ln for ln in lines if path in ln or path.rsplit(".", 1)[-1] in ln]
    text = " ".join(about or lines)
    return re.sub(r"^--set:\s*", "", text).strip()


def check_seed(text: Any) -> tuple[int | None, str]:
    """(seed, "") for a whole number >= 0 (the CLI's ``--seed`` rule), else (None, message)."""
    from .commands._common import seed_int

    try:
        return seed_int(str(text).strip()), ""
    except argparse.ArgumentTypeError as err:
        return None, f"random seed: {err}"


# --------------------------------------------------------------------------- solara components


def range_line(control: Control) -> str:
    """'0 to 20 facilities/person · default 0.67 · this scenario 0.4671' (the last part only if it differs)."""
    text = f"{control.range_text} \u00b7 default {shown(control.info.default)}"
    if not _same(control.default, control.info.default):
        text += f" \u00b7 this scenario {shown(control.default)}"
    return text



@solara.component
def ControlInput(control: Control, value: Any, on_value: Callable[[Any], None], error: str,
                 on_error: Callable[[str], None], check: Callable[[Control, Any], tuple[Any, str]]) -> None:
    """One control: label, slider (or box), a box for an exact value, range, default, meaning, message."""
    text, set_text = solara.use_state(shown(value), key=f"text-{control.name}")

    def accept(raw: Any) -> None:
        new, message = check(control, raw)
        on_error(message)
        if not message:
            set_text(shown(new))
            on_value(new)
        elif isinstance(raw, str):
            set_text(raw)

    css = ["esc-control", f"esc-control-{control.name}"] + (["esc-control-bad"] if error else [])
    with solara.Div(classes=css):
        if control.kind == "bool":
            solara.Checkbox(label=control.label, value=bool(value), on_value=accept)
        elif control.kind == "choice":
            solara.Select(label=control.label, values=list(control.info.choices or ()), value=value, on_value=accept,
                          dense=True)
        else:
            slider = solara.SliderInt if control.kind == "int" else solara.SliderFloat
            with solara.Row(classes=["esc-control-row"], gap="6px"):
                slider(control.label, value=value, min=control.low,
                       max=control.high, step=control.step, on_value=accept, thumb_label=False)
                solara.InputText("value", value=text if error else shown(value), on_value=accept, dense=True,
                                 classes=["esc-value"], error=bool(error))
        solara.Text(range_line(control), classes=["esc-range"])
        solara.Text(control.info.description, classes=["esc-meaning"])
        if error:
            solara.Text(error, classes=["esc-message"])


@solara.component
def SeedInput(seed: int, on_value: Callable[[int], None], error: str, on_error: Callable[[str], None]) -> None:
    """The random seed box (a whole number >= 0) with its message."""
    text, set_text = solara.use_state(str(seed))

    def accept(raw: str) -> None:
        set_text(raw)
        value, message = check_seed(raw)
        on_error(message)
        if value is not None:
            on_value(value)

    with solara.Div(classes=["esc-control", "esc-control-seed"] + (["esc-control-bad"] if error else [])):
        solara.InputText("Random seed", value=text, on_value=accept, dense=True, classes=["esc-seed"],
                         error=bool(error))
        solara.Text("whole number, 0 or more \u00b7 the same seed and settings give the same run",
                    classes=["esc-range"])
        if error:
            solara.Text(error, classes=["esc-message"])


@solara.component
def ControlsPanel(base: Scenario, controls: Mapping[str, Control], values: solara.Reactive,
                  seed: solara.Reactive, errors: solara.Reactive) -> None:
    """The sidebar cards of controls, grouped by actor; accepted values go to ``values`` and ``seed``."""

    def check(control: Control, raw: Any) -> tuple[Any, str]:
        return check_value(base, values.value, control, raw)

    def setter(name: str) -> Callable[[Any], None]:
        return lambda v: values.set({**values.value, name: v})

    def error_setter(name: str) -> Callable[[str], None]:
        def set_error(message: str) -> None:
            now = {k: v for k, v in errors.value.items() if k != name}
            errors.set({**now, name: message} if message else now)
        return set_error

    for title, line, paths in GROUPS:
        with solara.Card(title, classes=["esc-card"], margin=0):
            solara.Text(line, classes=["esc-muted"])
            for path in paths:
                c = controls[control_name(path)]
                ControlInput(c, values.value[c.name], setter(c.name), errors.value.get(c.name, ""),
                             error_setter(c.name), check)
            if paths == ("days",):
                SeedInput(seed.value, seed.set, errors.value.get("seed", ""), error_setter("seed"))


# --------------------------------------------------------------------------- running the model


def advance(model: Any, days: int) -> int:
    """Step the model ``days`` days (fewer at the end of the run) under its lock; return the days stepped."""
    done = 0
    with model.lock:
        while done < days and model.running:
            model.step()
            done += 1
    return done


@solara.component
def RunController(model: solara.Reactive, make_model: Callable[[], Any], days_per_step: solara.Reactive,
                  tick: solara.Reactive, drawn: threading.Event, play_interval: float) -> None:
    """Reset, play/pause and Step; ``tick`` goes up after every step so the views re-draw.

    Play runs in a thread of its own (:func:`solara.use_thread`): a step, then
    it waits until the page has been drawn (``drawn``, set by an effect of the
    page) and for the rest of ``play_interval`` seconds.  Waiting for the
    drawing matters: a state change during a render makes reacton start the
    render again, so stepping faster than the page draws would starve it (Mesa
    3.3's ModelController plays that way, and the page would only show the end).
    """
    playing = solara.use_reactive(False)

    def step() -> None:
        if advance(model.value, days_per_step.value):
            tick.set(tick.value + 1)

    def play(cancel: threading.Event) -> None:
        while playing.value and model.value.running and not cancel.is_set():
            start = time.monotonic()
            drawn.clear()
            step()
            # wait in short slices: pausing re-renders this component, and solara stops this thread then
            # (it may wait for it), so a long wait here would hold the pause up
            while not drawn.wait(0.05) and not cancel.is_set() and time.monotonic() - start < 30.0:
                pass
            cancel.wait(max(0.01, play_interval - (time.monotonic() - start)))
        if not cancel.is_set():
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, model.value])

    def reset() -> None:
        playing.set(False)
        model.set(make_model())
        tick.set(tick.value + 1)

    running = model.value.running
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset)
        solara.Button("\u275a\u275a" if playing.value else "\u25b6", color="primary", disabled=not running,
                      on_click=lambda: playing.set(not playing.value))
        solara.Button("Step", color="primary", on_click=step, disabled=playing.value or not running)
