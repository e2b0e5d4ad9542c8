"""Tests of the web page (sim/app.py, sim/app_views.py).

Unit tests check that the controls come from the schema and reach the model.
Browser tests (``-m browser``) start the page's server in a subprocess and
drive Debian's Chromium (/usr/bin/chromium) with Playwright for Python; they
are skipped, with the reason shown, when that browser is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the web page needs the 'app' extra (solara, mesa[rec])")

from sim import app  # noqa: E402  (before Mesa's visualization: it quiets a warning about Mesa's own code)
from sim import app_controls as controls_mod  # noqa: E402
from sim import app_ensemble as ensemble  # noqa: E402
from sim import app_map  # noqa: E402
from sim import app_views as views  # noqa: E402
from sim.scenario_io import load_scenario, scenario_hash  # noqa: E402
from sim.schema import Scenario, iter_parameters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(os.environ.get("ESCALATION_SCREENSHOTS", ROOT / "screenshots"))
"""Where the browser tests leave screenshots (not tracked; copied to docs/img by hand when they should change)."""


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
TENSION = "militia.attack.tension_weight"


def schema_info() -> dict:
    return {info.path: (info, value) for info, value in iter_parameters(Scenario())}


# --------------------------------------------------------------------------- controls (no browser)


def test_controls_equal_the_schema():
    infos = schema_info()
    controls = controls_mod.build_controls(Scenario())
    assert [c.path for c in controls.values()] == list(controls_mod.CONTROL_PATHS)
    assert 12 <= len(controls) <= 32  # a sidebar a student can scan
    for name, c in controls.items():
        info, _ = infos[c.path]
        assert name == controls_mod.control_name(c.path) and controls_mod.control_path(name) == c.path
        assert c.default == info.default, c.path
        if info.choices is not None:
            assert c.kind == "choice" and all(str(x) in c.range_text for x in info.choices)
        elif info.type == "bool":
            assert c.kind == "bool"
        else:
            assert c.kind == info.type, c.path
            assert info.ge is not None and info.le is not None, f"{c.path}: pick a parameter with closed bounds"
            assert (c.low, c.high) == (info.ge, info.le), c.path
            assert c.range_text.startswith(f"{info.ge:g} to {info.le:g}")
            if info.unit not in ("", "1"):
                assert c.range_text.endswith(info.unit)
            steps = (c.default - c.low) / c.step
            assert abs(steps - round(steps)) < 1e-6, f"{c.path}: default is not on the slider's grid"


def test_controls_are_grouped_by_actor_with_levers_first():
    infos = schema_info()
    titles = [title for title, _, _ in controls_mod.GROUPS]
    assert titles == ["US doctrine (levers)", "Militias and Iran (uncertainties)", "Truce (scenario input)",
                      "Run settings"]
    levers, uncertainties, truce, run = (paths for _, _, paths in controls_mod.GROUPS)
    assert {infos[p][0].role for p in levers} == {"lever"} and all(p.startswith("us.") for p in levers)
    assert {infos[p][0].role for p in uncertainties} == {"uncertainty"}
    assert not any(p.startswith("us.doctrine.") for p in uncertainties)  # no US choice among the others' behaviour
    assert all(p.startswith("ceasefire.") for p in truce)  # the one ceasefire window the page can build
    assert run == ("days",)


def test_the_truce_controls_build_a_ceasefire_window_the_model_keeps():
    from sim.dynamics.ceasefire import plan

    s = Scenario(days=60)
    names = {p: controls_mod.control_name(p) for p in ("ceasefire.start_day", "ceasefire.days", "ceasefire.obedience")}
    controls = controls_mod.build_controls(s)
    values = {n: c.default for n, c in controls.items()}
    assert controls_mod.check_value(s, values, controls[names["ceasefire.days"]], "20") == (20, "")
    value, message = controls_mod.check_value(s, {**values, names["ceasefire.start_day"]: 50},
                                              controls[names["ceasefire.days"]], "20")
    assert value is None and "ends after the run's last day (59)" in message
    m = app.AppModel(scenario=s, seed=3, **{names["ceasefire.start_day"]: 5, names["ceasefire.days"]: 20,
                                             names["ceasefire.obedience"]: 1.0})
    try:
        (w,) = plan(m.c)
        assert (w.first, w.last, w.obedience, w.us, w.iran, bool(w.groups.all())) == (5, 24, 1.0, True, True, True)
        m.run()
        attacks = [e for e in m.events if e[2] == "attack"]
        assert attacks and not [e for e in attacks if 5 <= e[0] <= 24]  # every group honours: no attack inside
        assert [e[4] for e in m.events if e[2] == "ceasefire" and e[1] == "scenario"] == ["start", "end"]
    finally:
        app.release_model(m)


def test_labels_come_from_the_path():
    infos = schema_info()
    assert controls_mod.control_label(infos["us.doctrine.campaign.first_wave_targets"][0]) == \
        "US campaign: first wave targets"
    assert controls_mod.control_label(infos[TENSION][0]) == "Militia attacks: tension weight"


def test_check_value_accepts_allowed_values_and_explains_refusals():
    base = Scenario()
    controls = controls_mod.build_controls(base)
    values = {n: c.default for n, c in controls.items()}
    tension = controls[controls_mod.control_name(TENSION)]
    assert controls_mod.check_value(base, values, tension, "2.5") == (2.5, "")
    value, message = controls_mod.check_value(base, values, tension, "99")
    assert value is None and "out of range" in message and "<= 5" in message and TENSION in message
    value, message = controls_mod.check_value(base, values, tension, "lots")
    assert value is None and "not a number" in message and "0 to 5" in message
    days = controls[controls_mod.control_name("days")]
    assert controls_mod.check_value(base, values, days, "3.5")[1].startswith("'3.5' is not a whole number")
    assert controls_mod.check_value(base, values, days, "true")[0] is None  # YAML booleans are not numbers
    restraint = controls[controls_mod.control_name("iran.restraint_max")]
    value, message = controls_mod.check_value(base, values, restraint, "0")
    assert value is None and "restraint_min" in message  # a rule across fields, from the schema
    assert "Traceback" not in message and "File" not in message


def test_check_seed_is_the_command_line_rule():
    assert controls_mod.check_seed("7") == (7, "")
    assert controls_mod.check_seed(" 12 ") == (12, "")
    for bad in ("-1", "x", "1.5", ""):
        seed, message = controls_mod.check_seed(bad)
        assert seed is None and message.startswith("random seed:"), bad


def test_overrides_only_for_changed_values():
    base = Scenario()
    values = {n: c.default for n, c in controls_mod.build_controls(base).items()}
    assert controls_mod.overrides_from_values(base, values) == []
    values[controls_mod.control_name(TENSION)] = 3.0
    values[controls_mod.control_name("us.doctrine.campaign.enabled")] = False
    assert sorted(controls_mod.overrides_from_values(base, values)) == sorted(
        [f"{TENSION}=3.0", "us.doctrine.campaign.enabled=false"])
    with pytest.raises(TypeError):
        controls_mod.overrides_from_values(base, {"no__such__control": 1})


# --------------------------------------------------------------------------- the model behind the page


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
        assert m.scenario.days == 30 and m.base_scenario == s
        m.run()
        assert m.day == 29 and not m.running
    finally:
        app.release_model(m)


def test_same_seed_same_run_and_refused_settings_never_fail():
    s = Scenario()
    runs = []
    for _ in range(2):
        m = app.AppModel(scenario=s, seed=3, days=20)
        m.run()
        runs.append(m.cumulative_attacks)
        app.release_model(m)
    assert runs[0] == runs[1]
    for seed in ("x", -1):
        bad = app.AppModel(scenario=s, seed=seed, **{app.control_name("iran.restraint_max"): 0.0})
        try:
            assert bad.overrides == [] and bad.scenario == s and bad.seed == app.DEFAULT_SEED
            assert "restraint_min" in bad.problem and "random seed" in bad.problem
            bad.step()  # still runs
        finally:
            app.release_model(bad)


def test_live_run_is_replicate_zero_of_the_runner():
    from sim.runner import run_replicates

    m = app.AppModel(scenario=Scenario(), seed=11, days=40, **{app.control_name(TENSION): 1.5})
    try:
        m.run()
        ts, _ = run_replicates(m.scenario, 1, seed=11)
        assert int(ts["cumulative_attacks"].iloc[-1]) == m.cumulative_attacks
        assert ts["max_rung"].iloc[-1] == m.max_rung
    finally:
        app.release_model(m)


def test_downloaded_scenario_loads_back():
    m = app.AppModel(scenario=Scenario(), **{app.control_name(TENSION): 2.0})
    try:
        text = app.scenario_yaml(m)
        assert text.startswith("# Saved from the escalation web page")
        assert load_scenario(text) == m.scenario
    finally:
        app.release_model(m)


def test_pending_changes_say_reset_and_count_refusals():
    m = app.AppModel(scenario=Scenario())
    try:
        values = {n: c.default for n, c in controls_mod.build_controls(Scenario()).items()}
        assert app.pending_changes(m, values, app.DEFAULT_SEED, {}) == ""
        assert "Reset" in app.pending_changes(m, values, 5, {})
        refused = app.pending_changes(m, values, app.DEFAULT_SEED, {"seed": "bad"})
        assert "1 control refused a value" in refused and "Reset" not in refused
        values[app.control_name(TENSION)] = 4.0
        assert "Reset" in app.pending_changes(m, values, app.DEFAULT_SEED, {})
    finally:
        app.release_model(m)


# --------------------------------------------------------------------------- views (no browser)


def test_status_days_match_the_tables():
    m = app.AppModel(scenario=Scenario())
    try:
        assert views.status_lines(m)["day"].startswith("Not started")
        for _ in range(21):
            m.step()
        frame = views.run_frame(m)
        line = views.status_lines(m)["day"]
        last = frame.iloc[-1]
        assert line.startswith(f"{last['date'].date().isoformat()}: day {int(last['day'])} in the tables")
        assert "21 of 365 days run" in line
    finally:
        app.release_model(m)


def test_every_live_figure_draws_whole_and_by_blitting():
    import numpy as np
    from PIL import Image

    m = app.AppModel(scenario=Scenario())
    canvases = {name: views.LiveCanvas(spec) for name, spec in views.LIVE_FIGURES.items()}
    try:
        for name, canvas in canvases.items():
            assert canvas.png(m).startswith(b"\x89PNG"), name  # before the first day
        frame_artists = {name: [len(ax.get_children()) for ax in c.fig.axes] for name, c in canvases.items()}
        for _ in range(60):
            m.step()
            for canvas in canvases.values():
                canvas.png(m)
        for name, spec in views.LIVE_FIGURES.items():
            blit = np.asarray(Image.open(io.BytesIO(canvases[name].png(m))).convert("L"), float)
            whole = np.asarray(Image.open(io.BytesIO(views.render_png(views.draw_live, spec, m))).convert("L"), float)
            assert blit.shape == whole.shape, name
            assert np.abs(blit - whole).mean() < 2.0, name  # same picture (up to anti-aliasing)
            assert canvases[name].frames_drawn <= 12, name  # the frame is not re-drawn every step
        assert canvases["map"].frames_drawn == 1 and canvases["capacity"].frames_drawn == 1
        for name in ("map", "ladder", "capacity"):  # frames kept since the first day: the data drawn were removed
            assert [len(ax.get_children()) for ax in canvases[name].fig.axes] == frame_artists[name], name
        table = views.events_table_html(m)
        assert table.count("<tr>") == 1 + min(views.EVENT_ROWS, len(m.events))
        from types import SimpleNamespace

        hostile = SimpleNamespace(events=[(0, "test", "note", "<b>", "ok", "a & b")], c=m.c)
        assert "&lt;b&gt;" in views.events_table_html(hostile) and "a &amp; b" in views.events_table_html(hostile)
    finally:
        app.release_model(m)


def test_map_data_is_the_natural_earth_extract():
    data = app_map.load_map()
    assert "Natural Earth" in data["source"] and "public domain" in data["licence"]
    names = {c["name"] for c in data["countries"]}
    assert {"Iraq", "Syria", "Jordan", "Iran", "Kuwait", "Saudi Arabia"} <= names
    lon0, lat0, lon1, lat1 = data["box"]
    v0, a0, v1, a1 = app_map.VIEW
    assert lon0 < v0 and lat0 < a0 and lon1 > v1 and lat1 > a1
    points = [p for c in data["countries"] for r in c["rings"] for p in r] + [p for r in data["rivers"] for p in r]
    assert all(lon0 - 1e-6 <= x <= lon1 + 1e-6 and lat0 - 1e-6 <= y <= lat1 + 1e-6 for x, y in points)
    assert len(data["rivers"]) >= 5  # Tigris, Euphrates and tributaries
    assert app_map.MAP_FILE.stat().st_size < 200_000


def test_map_draws_borders_rivers_and_labels_that_do_not_collide():
    m = app.AppModel(scenario=Scenario())
    try:
        for _ in range(80):
            m.step()
        fig = views.draw_map(m)
        fig.canvas.draw()
        ax = fig.axes[0]
        borders = [c for c in ax.collections if c.get_gid() == "borders"]
        rivers = [c for c in ax.collections if c.get_gid() == "rivers"]
        assert len(borders) == 1 and len(borders[0].get_paths()) >= 10
        assert len(rivers) == 1 and len(rivers[0].get_paths()) >= 5
        renderer = fig.canvas.get_renderer()
        labels = [t for t in ax.texts if t.get_gid() == "map-label"]
        assert len(labels) >= len(list(m.bases))
        boxes = [t.get_window_extent(renderer) for t in labels]
        overlaps = [(labels[i].get_text(), labels[j].get_text()) for i in range(len(boxes))
                    for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
        assert overlaps == []
        texts = {t.get_text() for t in labels}
        assert any(b.name in t for b in m.bases for t in texts)
        assert "IRAQ" in texts
    finally:
        app.release_model(m)


def test_label_placement_moves_a_label_off_another():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    items = [{"x": 5, "y": 5, "text": "first label"}, {"x": 5, "y": 5, "text": "second label"},
             {"x": 5, "y": 5, "text": "third label"}]
    placed = app_map.place_labels(ax, items, fig.canvas.get_renderer())
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in placed]
    assert len(placed) == 3
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(3) for j in range(i + 1, 3))


def test_controls_help_lists_every_control():
    rows = app.control_rows(load_scenario({}, [f"{TENSION}=2.0"]))
    infos = schema_info()
    assert [r["path"] for r in rows] == list(app.CONTROL_PATHS)
    for r in rows:
        info, _ = infos[r["path"]]
        assert r["meaning"] == info.description and r["default"] == info.default and r["role"] == info.role
    assert next(r for r in rows if r["path"] == TENSION)["now"] == 2.0
    text = app.controls_html(rows)
    assert text.count('class="esc-ctl"') == len(app.CONTROL_PATHS)
    assert f"<code>{TENSION}</code>" in text


# --------------------------------------------------------------------------- many runs and compare (no browser)


def test_ensemble_figures_and_outcomes():
    s = Scenario().model_copy(update={"days": 60})
    res = ensemble.run_settings(s, 12, seed=1, name="x")
    assert res.replicates == 12 and res.ts["replicate"].nunique() == 12
    assert views.render_png(ensemble.draw_fans, [res]).startswith(b"\x89PNG")
    assert views.render_png(ensemble.draw_ladder, res).startswith(b"\x89PNG")
    text = ensemble.outcomes_html(res)
    assert text.count("<tr>") == 1 + len(ensemble.KEY_OUTCOMES)


def test_compare_pairs_replicates_with_common_random_numbers():
    s = Scenario().model_copy(update={"days": 90})
    a = ensemble.run_settings(s, 20, seed=4, name=ensemble.BASELINE)
    same = ensemble.run_settings(s, 20, seed=4, name=ensemble.VARIANT)
    table = ensemble.difference_table(a, same)
    assert list(table["outcome"]) == list(ensemble.KEY_OUTCOMES)
    assert (table["difference"] == 0).all() and (table["low"] == 0).all() and (table["high"] == 0).all()
    assert not table["clear"].any()
    variant_s = load_scenario(s, [f"{TENSION}=5"])
    b = ensemble.run_settings(variant_s, 20, seed=4, name=ensemble.VARIANT, overrides=[f"{TENSION}=5"])
    table = ensemble.difference_table(a, b)
    row = table.set_index("outcome").loc["cumulative_attacks"]
    a_h, b_h = ensemble.outcome_columns(a.ts), ensemble.outcome_columns(b.ts)
    assert row["difference"] == pytest.approx((b_h["cumulative_attacks"] - a_h["cumulative_attacks"]).mean())
    assert row["low"] <= row["difference"] <= row["high"] and row["difference"] > 0 and row["clear"]
    html_table = ensemble.difference_html(table)
    assert html_table.count("<tr") == 1 + len(table) and "your variant" in html_table
    with pytest.raises(ValueError):
        ensemble.difference_table(a, ensemble.run_settings(s, 10, seed=4, name="other"))
    fig = ensemble.draw_fans([a, b])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert ensemble.BASELINE in labels and ensemble.VARIANT in labels


def test_replicates_are_checked():
    assert ensemble.check_replicates("40") == (40, "")
    for bad in ("0", "-3", "abc", str(ensemble.ENSEMBLE_MAX + 1)):
        n, message = ensemble.check_replicates(bad)
        assert n is None and message.startswith("replicates:"), bad


# --------------------------------------------------------------------------- serving (no browser)


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


def test_the_file_runs_as_solara_run_loads_it():
    """``solara run sim/app.py`` executes the file outside the package: no relative imports."""
    import solara.server.app  # noqa: F401  (loaded by solara's server before it runs the file)

    namespace = runpy.run_path(str(ROOT / "sim" / "app.py"), run_name="__main__")  # as solara runs it
    assert callable(namespace["Page"]) and namespace["Page"] is namespace["page"]


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
        self.context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
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
        self.page.wait_for_selector("img.esc-img-attacks", timeout=90_000)
        self.expect_text("Days run: 0 of 365")
        return self

    def expect_text(self, text: str, timeout: float = 60_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_text(text, exact=True).first).to_be_visible(timeout=timeout)

    def status(self, key: str) -> str:
        return self.page.inner_text(f".esc-status-{key}")

    def image(self, name: str) -> bytes:
        return self.page.locator(f"img.esc-img-{name}").screenshot()

    def image_changed(self, name: str, old: bytes, timeout: float = 60.0) -> bytes:
        """The image once it differs from ``old`` (the server sends it shortly after the day count)."""
        deadline = time.monotonic() + timeout
        new = self.image(name)
        while new == old and time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            new = self.image(name)
        return new

    def steps(self) -> int:
        """Days run so far, as the sidebar shows them ('Days run: N of 365')."""
        return int(self.page.inner_text(".esc-days-run").split()[2])

    def step(self, times: int = 1) -> int:
        """Press Step ``times`` times, waiting for each to finish; returns the days run."""
        n = self.steps()
        for _ in range(times):
            self.page.get_by_role("button", name="Step").click()
            n += app.RENDER_INTERVAL
            self.expect_text(f"Days run: {n} of 365")
            self.expect_status("day", f"{n} of 365 days run")  # the tab is drawn after the day counter
        return n

    def expect_status(self, key: str, text: str, timeout: float = 60_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator(f".esc-status-{key}")).to_contain_text(text, timeout=timeout)

    def type_value(self, css: str, text: str) -> None:
        box = self.page.locator(f"{css} input:not([readonly])").first
        box.fill(text)
        box.press("Enter")

    def no_traceback(self) -> None:
        body = self.page.inner_text("body")
        assert "Traceback" not in body and "Error:" not in body.replace("The ensemble failed", ""), body[:2000]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, server):
    w = Watched(browser, server)
    yield w
    w.close()


def _control_css(path: str) -> str:
    return f".esc-control-{app.control_name(path)}"


@pytest.mark.browser
def test_page_has_named_tabs_and_every_control_with_its_range(watched):
    w = watched.open()
    page = w.page
    assert page.title().startswith("Escalation simulator")
    for name in app.TABS:
        assert page.get_by_role("tab", name=name).count() == 1, name
    body = page.inner_text("body")
    for gone in ("Page 0", "Page 1", "Use Threads", "Render Interval", "Play Interval"):
        assert gone not in body, gone
    for title, _, _ in controls_mod.GROUPS:
        assert page.get_by_text(title, exact=True).count() == 1, title
    for c in controls_mod.build_controls(app.load_base("baseline")[0]).values():
        box = page.locator(_control_css(c.path))
        assert box.count() == 1, c.path
        text = box.inner_text()
        assert c.label in text and c.range_text in text, (c.path, text)
        assert c.info.description in text, c.path
    assert page.locator(".esc-seed input").input_value() == str(app.DEFAULT_SEED)
    for name in ("map", "attacks", "ladder", "strikes", "capacity"):
        assert page.locator(f"img.esc-img-{name}").count() == 1, name
    assert "Not started" in w.status("day")
    page.get_by_role("tab", name=app.TABS[3]).click()
    page.wait_for_selector(".esc-controls .esc-ctl")
    assert page.locator(".esc-controls .esc-ctl").count() == len(app.CONTROL_PATHS)
    for path in app.CONTROL_PATHS:
        assert page.locator(".esc-controls code", has_text=path).count() >= 1, path
    time.sleep(1.0)
    assert w.errors == [], w.errors
    assert w.foreign == [], f"requests left 127.0.0.1: {w.foreign}"


@pytest.mark.browser
def test_bad_seed_and_out_of_range_value_show_messages_and_the_page_keeps_stepping(watched):
    w = watched.open()
    page = w.page
    w.type_value(".esc-control-seed", "-1")
    message = page.locator(".esc-control-seed .esc-message")
    message.wait_for(timeout=60_000)
    assert "random seed" in message.inner_text() and "too small" in message.inner_text()
    tension = _control_css(TENSION)
    w.type_value(tension, "99")
    page.locator(f"{tension} .esc-message").wait_for(timeout=60_000)
    text = page.inner_text(f"{tension} .esc-message")
    assert "out of range" in text and "<= 5" in text
    assert "2 controls refused a value" in page.inner_text(".esc-pending")
    w.no_traceback()
    assert w.step(2) == 2 * app.RENDER_INTERVAL  # the page still steps, with the last accepted values
    page.get_by_role("button", name="Reset").click()
    w.expect_text("Days run: 0 of 365")
    assert "nothing changed" in w.status("settings") and "Random seed 0." in w.status("settings")
    assert w.step() == app.RENDER_INTERVAL
    # a good value clears the message
    w.type_value(".esc-control-seed", "5")
    page.locator(".esc-control-seed .esc-message").wait_for(state="detached", timeout=60_000)
    w.no_traceback()
    assert w.errors == [], w.errors


@pytest.mark.browser
def test_control_reset_and_step_change_the_model_and_the_plots(watched, tmp_path):
    w = watched.open()
    page = w.page
    steps = app.RENDER_INTERVAL
    assert w.step() == steps
    last = dt.date(2023, 10, 17) + dt.timedelta(days=steps - 1)
    assert w.status("day").startswith(f"{last.isoformat()}: day {steps - 1} in the tables")
    before_text, before_img = w.status("attacks"), w.image("attacks")
    assert "nothing changed" in w.status("settings")

    # move a control (tension weight to its maximum) by typing, then Reset and Step
    top = schema_info()[TENSION][0].le
    w.type_value(_control_css(TENSION), f"{top:g}")
    page.locator(".esc-pending").wait_for(timeout=60_000)
    assert "Reset" in page.inner_text(".esc-pending")
    page.get_by_role("button", name="Reset").click()
    w.expect_text("Days run: 0 of 365")
    assert f"{TENSION}={float(top)}" in w.status("settings")
    assert w.step() == steps
    after_img = w.image_changed("attacks", before_img)
    after_text = w.status("attacks")

    attacks = lambda text: int(text.split(",")[1].split()[0])  # "Militia attacks: N today, M in all. ..."
    assert attacks(after_text) > attacks(before_text), (before_text, after_text)
    assert after_img != before_img

    # the download is the scenario the model runs, and loads back
    with page.expect_download() as info:
        page.get_by_text("Download scenario (YAML)").click()
    path = tmp_path / "scenario.yaml"
    info.value.save_as(path)
    loaded = load_scenario(path.read_text(encoding="utf-8"))
    assert scenario_hash(loaded) == scenario_hash(load_scenario("baseline", [f"{TENSION}={float(top)}"]))
    assert w.errors == [], w.errors
    assert w.foreign == [], w.foreign


@pytest.mark.browser
def test_map_renders_borders_and_rivers(watched):
    import numpy as np
    from PIL import Image

    w = watched.open()
    w.step()
    pixels = np.asarray(Image.open(io.BytesIO(w.image("map"))).convert("RGB"), dtype=int).reshape(-1, 3)

    def near(colour: tuple[int, int, int], tolerance: int) -> int:
        return int((np.abs(pixels - np.array(colour)) <= tolerance).all(axis=1).sum())

    land, water, border = near((0xF4, 0xF1, 0xEA), 6), near((0x9C, 0xC3, 0xE6), 12), near((0x8C, 0x8C, 0x8C), 20)
    assert land > 0.25 * len(pixels), land  # countries filled
    assert water > 300 and border > 300, (water, border)  # rivers and borders drawn


@pytest.mark.browser
def test_play_advances_and_pauses(watched):
    w = watched.open()
    page = w.page
    page.get_by_role("button", name="\u25b6").click()
    start = time.monotonic()
    changes, last = 0, w.steps()
    while time.monotonic() - start < 6.0:
        now = w.steps()
        changes += now != last
        last = now
        page.wait_for_timeout(100)
    page.get_by_role("button", name="\u275a\u275a").click()
    assert changes >= 3, changes  # several updates while playing (the rate is measured in benchmarks/)
    page.get_by_role("button", name="\u25b6").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # a step under way when pause was pressed ends
    paused = w.steps()
    page.wait_for_timeout(1500)
    assert w.steps() == paused
    assert w.errors == [], w.errors


@pytest.mark.browser
def test_compare_tab_makes_a_difference_table(watched):
    w = watched.open()
    page = w.page
    page.locator(_control_css("us.doctrine.campaign.enabled")).get_by_role("checkbox").click(force=True)
    page.locator(".esc-pending").wait_for(timeout=60_000)
    page.get_by_role("button", name="Reset").click()
    w.expect_text("Days run: 0 of 365")
    page.get_by_role("tab", name="Compare with baseline").click()
    box = page.locator(".esc-view-compare .esc-replicates input")
    box.wait_for()
    box.fill("0")
    box.press("Enter")
    page.locator(".esc-view-compare .esc-message").wait_for(timeout=60_000)
    assert "out of range" in page.inner_text(".esc-view-compare .esc-message")
    box.fill("30")
    box.press("Enter")
    page.get_by_role("button", name="Compare").click()
    page.locator(".esc-difference-table").wait_for(timeout=180_000)
    rows = page.locator(".esc-difference-table tbody tr")
    assert rows.count() == len(ensemble.KEY_OUTCOMES)
    head = page.inner_text(".esc-difference-table thead")
    assert "baseline" in head and "your variant" in head and "95% interval" in head
    assert "us.doctrine.campaign.enabled=false" in page.inner_text(".esc-compare-done")
    assert page.locator("img.esc-img-compare").count() == 1
    page.wait_for_timeout(500)
    shoot(page, "compare")
    assert w.errors == [], w.errors
    assert w.foreign == [], w.foreign


@pytest.mark.browser
def test_many_runs_tab_draws_a_fan_chart(watched):
    w = watched.open()
    page = w.page
    page.get_by_role("tab", name="Many runs").click()
    box = page.locator(".esc-view-ensemble .esc-replicates input")
    box.wait_for()
    assert box.input_value() == str(ensemble.ENSEMBLE_REPLICATES)
    box.fill("40")
    box.press("Enter")
    page.get_by_role("button", name="Run ensemble").click()
    fan = page.locator("img.esc-img-fan")
    fan.wait_for(timeout=180_000)
    page.locator("img.esc-img-rungprob").wait_for()
    assert "Last ensemble: 40 runs" in page.inner_text(".esc-ensemble-done")
    size = fan.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 300 and size[1] > 200
    assert page.locator(".esc-outcome-table tbody tr").count() == len(ensemble.KEY_OUTCOMES)
    assert w.errors == [], w.errors


@pytest.mark.browser
def test_screenshot_of_a_run(watched):
    """A run of the baseline well under way (for the README: copy from SCREENSHOTS to docs/img by hand)."""
    w = watched.open()
    blank = w.image("attacks")
    assert w.step(12) == 12 * app.RENDER_INTERVAL
    w.image_changed("attacks", blank)
    w.page.wait_for_timeout(1000)
    path = shoot(w.page, "app")
    assert path.stat().st_size > 50_000
    assert w.errors == [], w.errors


def test_docs_describe_the_page_as_it_is():
    text = (ROOT / "docs" / "app.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in app.TABS:
        assert f"### {name}" in text, name
        assert f"**{name}**" in readme, name
    for title, _, _ in controls_mod.GROUPS:
        assert f"*{title}*" in text, title
    for image in re.findall(r"\]\((img/[^)]+)\)", text):
        assert (ROOT / "docs" / image).is_file(), image
    for image in re.findall(r"\]\((docs/img/app[^)]*)\)", readme):
        assert (ROOT / image).is_file(), image
    assert "**Page 0" not in text and "Render Interval" not in text  # the old SolaraViz page


def test_map_shows_the_last_week_of_attacks_and_strikes():
    m = app.AppModel(scenario=Scenario())
    try:
        while not app_map.recently_struck(m) and m.running:
            m.step()
        struck = app_map.recently_struck(m)
        assert struck and all(m.day - m.fac_last_struck[f.index] < app_map.RECENT_DAYS for f in struck)
        attacks = app_map.recent_attacks(m)
        bases = {b.base_id for b in m.bases}
        groups = {g.id for g in m.scenario.militia.groups}
        assert attacks and all(g in groups and b in bases for g, b in attacks)
        fig = views.draw_map(m)
        ax = fig.axes[0]
        rings = [c for c in ax.collections if c.get_gid() == "strikes"]
        assert len(rings) == 1 and len(rings[0].get_offsets()) == len(struck)
        arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
        assert len(arrows) == sum(1 for g, b in attacks)
    finally:
        app.release_model(m)
