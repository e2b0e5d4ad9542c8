"""Tests of the web page (sim/app.py, sim/app_views.py).

Unit tests check that the controls come from the schema and reach the model.
Browser tests (``-m browser``) start the page's server in a subprocess and
drive Debian's Chromium (/usr/bin/chromium) with Playwright for Python; they
are skipped, with the reason shown, when that browser is missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the web page needs the 'app' extra (solara, mesa[rec])")

from sim import app  # noqa: E402  (before Mesa's visualization: it quiets a warning about Mesa's own code)
from sim import app_views as views  # noqa: E402
from mesa.visualization.solara_viz import _check_model_params  # noqa: E402  isort: skip
from sim.scenario_io import load_scenario, scenario_hash  # noqa: E402
from sim.schema import Scenario, iter_parameters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "docs" / "img" / "app.png"
TENSION = "militia.attack.tension_weight"


def schema_info() -> dict:
    return {info.path: (info, value) for info, value in iter_parameters(Scenario())}


# --------------------------------------------------------------------------- controls and model (no browser)


def test_controls_equal_the_schema():
    infos = schema_info()
    controls = app.build_controls(Scenario())
    assert [c.path for c in controls.values()] == list(app.CONTROL_PATHS)
    assert 12 <= len(controls) <= 24
    for name, c in controls.items():
        info, _ = infos[c.path]
        assert name == app.control_name(c.path) and app.control_path(name) == c.path
        spec = c.spec
        assert spec["value"] == info.default, c.path
        if info.choices is not None:
            assert spec["type"] == "Select" and spec["values"] == info.choices
        elif info.type == "bool":
            assert spec["type"] == "Checkbox"
        else:
            assert spec["type"] == {"int": "SliderInt", "float": "SliderFloat"}[info.type], c.path
            assert info.ge is not None and info.le is not None, f"{c.path}: pick a parameter with closed bounds"
            assert spec["min"] == info.ge and spec["max"] == info.le, c.path
            assert spec["min"] <= spec["value"] <= spec["max"]
            steps = (spec["value"] - spec["min"]) / spec["step"]
            assert abs(steps - round(steps)) < 1e-6, f"{c.path}: default is not on the slider's grid"
        assert spec["label"] == app.control_label(info)
    roles = {infos[p][0].role for p in app.CONTROL_PATHS}
    assert {"lever", "uncertainty"} <= roles


def test_controls_start_at_the_scenario_values_within_schema_bounds():
    s = load_scenario({}, [f"{TENSION}=2.5", "us.doctrine.campaign.enabled=false"])
    controls = app.build_controls(s)
    tension = controls[app.control_name(TENSION)].spec
    info, _ = schema_info()[TENSION]
    assert tension["value"] == 2.5 and (tension["min"], tension["max"]) == (info.ge, info.le)
    assert controls[app.control_name("us.doctrine.campaign.enabled")].spec["value"] is False


def test_labels_come_from_the_path():
    infos = schema_info()
    assert app.control_label(infos["us.doctrine.campaign.first_wave_targets"][0]) == \
        "US campaign: first wave targets [targets]"
    assert app.control_label(infos[TENSION][0]) == "Militia attacks: tension weight"


def test_solaraviz_accepts_the_model_params():
    params = app.model_params(Scenario())
    _check_model_params(app.AppModel.__init__, params)  # raises if SolaraViz could not make the model
    assert params["scenario"] == Scenario()
    assert params["seed"]["type"] == "InputText"


def test_unchanged_controls_make_no_overrides():
    s = Scenario()
    values = {name: spec["value"] for name, spec in app.model_params(s).items() if isinstance(spec, dict)}
    seed = values.pop("seed")
    m = app.AppModel(scenario=s, seed=seed, **values)
    try:
        assert m.overrides == [] and m.problem is None and m.seed == app.DEFAULT_SEED
        assert m.scenario == s
    finally:
        app.release_model(m)


def test_changed_controls_become_overrides():
    s = Scenario()
    m = app.AppModel(scenario=s, seed="7", **{
        app.control_name(TENSION): 3.0,
        app.control_name("us.doctrine.campaign.enabled"): False,
        app.control_name("us.doctrine.direct_response.target"): "none",
        app.control_name("days"): 30,
    })
    try:
        assert sorted(m.overrides) == sorted([f"{TENSION}=3.0", "us.doctrine.campaign.enabled=false",
                                              "us.doctrine.direct_response.target=none", "days=30"])
        assert m.seed == 7 and m.problem is None
        assert m.scenario.militia.attack.tension_weight == 3.0
        assert m.scenario.us.doctrine.campaign.enabled is False
        assert m.scenario.us.doctrine.direct_response.target == "none"
        assert m.scenario.days == 30 and m.base_scenario == s
        m.run()
        assert m.day == 29 and not m.running
    finally:
        app.release_model(m)


def test_same_seed_same_run_and_rejected_settings_are_reported():
    s = Scenario()
    runs = []
    for _ in range(2):
        m = app.AppModel(scenario=s, seed=3, days=20)
        m.run()
        runs.append(m.cumulative_attacks)
        app.release_model(m)
    assert runs[0] == runs[1]
    bad = app.AppModel(scenario=s, seed="x", **{app.control_name("iran.restraint_max"): 0.0})
    try:
        # restraint_max below the default restraint_min is refused by the schema
        assert bad.overrides == [] and bad.scenario == s and bad.seed == app.DEFAULT_SEED
        assert "restraint_min" in bad.problem and "seed" in bad.problem
    finally:
        app.release_model(bad)
    with pytest.raises(TypeError):
        app.AppModel(scenario=s, no__such__control=1)


def test_live_run_is_replicate_zero_of_the_runner():
    from sim.runner import run_replicates

    m = app.AppModel(scenario=Scenario(), seed=11, days=40, **{app.control_name(TENSION): 1.5})
    try:
        m.run()
        ts, _ = run_replicates(m.scenario, 1, seed=11)
        assert int(ts["cumulative_attacks"].iloc[-1]) == m.cumulative_attacks
        assert ts["max_rung"].iloc[-1] == m.max_rung and int(ts["targets_struck"].sum()) == sum(
            m.datacollector.model_vars["targets_struck"])
    finally:
        app.release_model(m)


def test_downloaded_scenario_loads_back():
    m = app.AppModel(scenario=Scenario(), **{app.control_name(TENSION): 2.0})
    try:
        text = app.scenario_yaml(m)
        assert text.startswith("# Saved from the escalation web page")
        assert load_scenario(text) == m.scenario
        assert load_scenario(text).militia.attack.tension_weight == 2.0
    finally:
        app.release_model(m)


def test_views_draw_every_figure():
    m = app.AppModel(scenario=Scenario())
    try:
        for draw in (views.draw_cumulative, views.draw_rungs, views.draw_strikes, views.draw_capacity,
                     views.draw_map):
            assert views.render_png(draw, m).startswith(b"\x89PNG"), draw.__name__  # before the first day
        for _ in range(40):
            m.step()
        for draw in (views.draw_cumulative, views.draw_rungs, views.draw_strikes, views.draw_capacity,
                     views.draw_map):
            assert views.render_png(draw, m).startswith(b"\x89PNG"), draw.__name__
        table = views.events_table_html(m)
        assert table.count("<tr>") == 1 + min(views.EVENT_ROWS, len(m.events))
        m.state.log(m.state.all, actor="test", kind="note", target="<b>", outcome="ok", weapon="a & b")
        assert "&lt;b&gt;" in views.events_table_html(m) and "a &amp; b" in views.events_table_html(m)
        lines = views.status_lines(m)
        assert lines["day"].startswith("Day 40 of ") and str(m.cumulative_attacks) in lines["attacks"]
    finally:
        app.release_model(m)


def test_controls_help_lists_every_control():
    m = app.AppModel(scenario=Scenario(), **{app.control_name(TENSION): 2.0})
    try:
        rows = app.control_rows(m)
        infos = schema_info()
        assert [r["path"] for r in rows] == list(app.CONTROL_PATHS)
        for r in rows:
            info, _ = infos[r["path"]]
            assert r["meaning"] == info.description and r["default"] == info.default and r["role"] == info.role
        assert next(r for r in rows if r["path"] == TENSION)["now"] == 2.0
        text = views.controls_html(rows)
        assert text.count('class="esc-ctl"') == len(app.CONTROL_PATHS)
        assert f"<code>{TENSION}</code>" in text
    finally:
        app.release_model(m)


def test_ensemble_summary_and_figures():
    s = Scenario().model_copy(update={"days": 60})
    res = views.run_ensemble_summary(s, 12, seed=1)
    assert res.replicates == 12 and len(res.dates) == 60
    assert res.dates[0].date() == s.start_date
    q = res.quantiles
    assert list(q.columns) == list(views.BANDS)
    assert (q.diff(axis=1).iloc[:, 1:] >= 0).all().all()  # quantiles ordered
    r = res.rung_reached
    assert ((r >= 0) & (r <= 1)).all().all()
    assert (r.diff().iloc[1:] >= 0).all().all()  # 'reached by date' never decreases
    assert (r.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()  # higher rungs are never more likely
    assert views.render_png(views.draw_fan, res).startswith(b"\x89PNG")
    assert views.render_png(views.draw_rung_probability, res).startswith(b"\x89PNG")


def test_solara_runs_offline_and_without_telemetry():
    assert os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    import solara.server.settings as server_settings
    import solara.settings

    assert solara.settings.assets.proxy is True
    assert server_settings.telemetry.mixpanel_enable is False
    # the assets solara-assets installed are where the proxy serves them from
    assert (server_settings.assets.proxy_cache_dir / "@widgetti").is_dir()
    args = app.solara_args(9999)
    assert "--production" in args and "--no-check-version" in args and "--no-open" in args
    assert args[1] == "sim.app:page"


def test_make_page_checks_the_scenario_first():
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError):
        app.make_page("no_such_scenario_here")
    assert callable(app.make_page(Scenario()))


# --------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser tests skipped")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("app_server") / "server.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", "baseline", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, proc)
    except RuntimeError as err:
        proc.kill()
        proc.wait(10)
        pytest.fail(f"{err}\n--- server log ---\n{log.read_text(errors='replace')}")
    yield url
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser(server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page that records console errors, page errors and requests to other hosts."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.context = browser.new_context(viewport={"width": 1500, "height": 1900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("request", self._request)

    def _request(self, request) -> None:
        u = request.url
        if not (u.startswith(self.url) or u.startswith(self.url.replace("http", "ws", 1)) or
                u.startswith(("data:", "blob:"))):
            self.foreign.append(u)

    def open(self) -> "Watched":
        self.page.goto(self.url)
        self.page.wait_for_selector("img.esc-img-cumulative", timeout=90_000)
        self.expect_text("Step: 0")
        return self

    def expect_text(self, text: str, timeout: float = 60_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_text(text, exact=True).first).to_be_visible(timeout=timeout)

    def status(self, key: str) -> str:
        return self.page.inner_text(f".esc-status-{key}")

    def image(self, name: str) -> bytes:
        return self.page.locator(f"img.esc-img-{name}").screenshot()

    def image_changed(self, name: str, old: bytes, timeout: float = 20.0) -> bytes:
        """The image once it differs from ``old`` (the server sends it shortly after the step count)."""
        deadline = time.monotonic() + timeout
        new = self.image(name)
        while new == old and time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            new = self.image(name)
        return new

    def steps(self) -> int:
        """The model's step count, as SolaraViz shows it ('Step: N')."""
        return int(self.page.get_by_text(re.compile(r"^Step: \d+$")).first.inner_text().split()[1])

    def step(self, times: int = 1) -> int:
        """Press Step ``times`` times, waiting for each to finish; returns the step count."""
        n = self.steps()
        for _ in range(times):
            self.page.get_by_role("button", name="Step").click()
            n += app.RENDER_INTERVAL
            self.expect_text(f"Step: {n}")
        return n

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, server):
    w = Watched(browser, server)
    yield w
    w.close()


@pytest.mark.browser
def test_page_loads_without_errors(watched):
    w = watched.open()
    page = w.page
    assert "Escalation simulator" in page.title() or page.get_by_text("Escalation simulator").count()
    for label in ("Reset", "Step"):
        assert page.get_by_role("button", name=label).count() == 1
    for c in app.build_controls(app.load_base("baseline")[0]).values():
        assert page.get_by_text(c.spec["label"], exact=True).count() >= 1, c.spec["label"]
    for name in ("cumulative", "rungs", "strikes", "capacity", "map"):
        assert page.locator(f"img.esc-img-{name}").count() == 1, name
    assert "Not started" in w.status("day")
    page.get_by_role("tab", name="Page 2").click()
    page.wait_for_selector(".esc-controls .esc-ctl")
    assert page.locator(".esc-controls .esc-ctl").count() == len(app.CONTROL_PATHS)
    for path in app.CONTROL_PATHS:
        assert page.locator(".esc-controls code", has_text=path).count() >= 1, path
    time.sleep(1.0)
    assert w.errors == [], w.errors
    assert w.foreign == [], f"requests left 127.0.0.1: {w.foreign}"


@pytest.mark.browser
def test_control_reset_and_step_change_the_model_and_the_plots(watched, tmp_path):
    w = watched.open()
    page = w.page
    steps = app.RENDER_INTERVAL
    # a run with the scenario's settings
    assert w.step() == steps
    w.expect_text(f"Day {steps} of 365: {(dt.date(2023, 10, 17) + dt.timedelta(days=steps - 1)).isoformat()}")
    before_text, before_img = w.status("attacks"), w.image("cumulative")
    assert "nothing changed" in w.status("settings")

    # move a control (tension weight to its maximum), then Reset and Step
    slider = page.get_by_role("slider", name=app.control_label(schema_info()[TENSION][0]))
    slider.focus()
    slider.press("End")
    top = schema_info()[TENSION][0].le
    assert float(slider.get_attribute("aria-valuenow")) == top
    page.get_by_role("button", name="Reset").click()
    w.expect_text("Step: 0")
    assert f"{TENSION}={top}" in w.status("settings")
    assert w.step() == steps
    after_img = w.image_changed("cumulative", before_img)
    after_text = w.status("attacks")

    attacks = lambda text: int(text.split(",")[1].split()[0])  # "Militia attacks: N today, M in all. ..."
    assert attacks(after_text) > attacks(before_text), (before_text, after_text)
    assert after_img != before_img
    assert f"{TENSION}={top}" in w.status("settings")

    # the download is the scenario the model runs, and loads back
    with page.expect_download() as info:
        page.get_by_text("Download scenario (YAML)").click()
    path = tmp_path / "scenario.yaml"
    info.value.save_as(path)
    loaded = load_scenario(path.read_text(encoding="utf-8"))
    assert scenario_hash(loaded) == scenario_hash(load_scenario("baseline", [f"{TENSION}={top}"]))

    assert w.errors == [], w.errors
    assert w.foreign == [], w.foreign


@pytest.mark.browser
def test_ensemble_panel_draws_a_fan_chart(watched, tmp_path):
    w = watched.open()
    page = w.page
    page.get_by_role("tab", name="Page 1").click()
    box = page.locator(".esc-replicates input")
    box.wait_for()
    assert box.input_value() == str(views.ENSEMBLE_REPLICATES)
    box.fill("40")
    box.press("Enter")
    page.get_by_role("button", name="Run ensemble").click()
    fan = page.locator("img.esc-img-fan")
    fan.wait_for(timeout=180_000)
    page.locator("img.esc-img-rungprob").wait_for()
    assert "Last ensemble: 40 runs" in page.inner_text(".esc-ensemble-done")
    size = fan.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 300 and size[1] > 200
    assert page.locator(".esc-rung-table tr").count() == len(views.RUNG_NAMES)  # header + rungs 1..9
    page.screenshot(path=str(tmp_path / "app-ensemble.png"))
    assert w.errors == [], w.errors
    assert w.foreign == [], w.foreign


@pytest.mark.browser
def test_screenshot_of_a_run(watched, tmp_path):
    """A run of the baseline well under way, for docs/img/app.png (also kept in the test's tmp folder)."""
    w = watched.open()
    blank = w.image("cumulative")
    assert w.step(15) == 15 * app.RENDER_INTERVAL
    w.image_changed("cumulative", blank)
    w.page.wait_for_timeout(1000)
    w.page.screenshot(path=str(tmp_path / "app.png"))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000
    assert w.errors == [], w.errors
    assert w.foreign == [], w.foreign
