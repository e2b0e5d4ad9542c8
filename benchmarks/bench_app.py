"""How fast the web page plays: updates a second in Chromium, and the server's drawing time per update.

Usage: PYTHONPATH=. python benchmarks/bench_app.py [--seconds 20] [--days-per-step 7]

1. Serves the baseline page (``python -m sim.app``) on a free local port,
   opens it in the system's Chromium (Playwright), presses play and counts
   how often the day counter changes, until ``--seconds`` have passed or the
   run ends: the updates a student sees each second.
   The server's CPU time per update (from /proc) does not depend on what
   else the machine is doing, unlike the rate.
2. Times, in this process, what the server does for one update: the model's
   days and the five live figures of 'This run' (blitted, as the page draws
   them), CPU time (``time.process_time``), over a whole baseline run.

Reports the machine's load average too: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def updates_per_second(seconds: float) -> tuple[float, int, float]:
    """(updates a second seen in the browser while playing, days run, server CPU seconds per update)."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "sim.app", "baseline", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url)
            page.wait_for_selector("img.esc-img-attacks", timeout=120_000)
            page.wait_for_timeout(2000)
            cpu0 = cpu_seconds(server.pid)
            page.get_by_role("button", name="\u25b6").click()
            start = time.monotonic()
            last, changes = page.inner_text(".esc-days-run"), 0
            while time.monotonic() - start < seconds:
                now = page.inner_text(".esc-days-run")
                if now != last:
                    changes, last = changes + 1, now
                    if now.startswith("Days run: 365"):
                        break
                page.wait_for_timeout(20)
            elapsed = time.monotonic() - start
            cpu = cpu_seconds(server.pid) - cpu0
            days = int(last.split()[2])
            browser.close()
        return changes / elapsed, days, cpu / max(changes, 1)
    finally:
        server.terminate()
        server.wait(20)


def server_cost(days_per_step: int) -> tuple[float, float, float]:
    """Median CPU seconds per update: (days stepped, figures drawn, both), over a whole baseline run."""
    from sim import app, app_views

    model = app.AppModel(scenario="baseline")
    canvases = [app_views.LiveCanvas(spec) for spec in app_views.LIVE_FIGURES.values()]
    for canvas in canvases:
        canvas.png(model)
    step, draw = [], []
    while model.running:
        t0 = time.process_time()
        for _ in range(days_per_step):
            model.step()
        t1 = time.process_time()
        for canvas in canvases:
            canvas.png(model)
        t2 = time.process_time()
        step.append(t1 - t0)
        draw.append(t2 - t1)
    app.release_model(model)
    both = [a + b for a, b in zip(step, draw)]
    return statistics.median(step), statistics.median(draw), statistics.median(both)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--days-per-step", type=int, default=7)
    args = ap.parse_args()
    load = os.getloadavg()
    step, draw, both = server_cost(args.days_per_step)
    print(f"server, per update of {args.days_per_step} days (median CPU): model {step * 1000:.0f} ms, "
          f"five figures {draw * 1000:.0f} ms, together {both * 1000:.0f} ms")
    rate, days, cpu = updates_per_second(args.seconds)
    print(f"browser: {rate:.2f} updates per second while playing ({days} days run); server CPU per update "
          f"{cpu * 1000:.0f} ms (at most {1 / cpu:.1f} updates per second on one free core); "
          f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
