"""Sweeps on a real Dask cluster: a scheduler and two workers started as subprocesses of the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main as cli
from sim.sweep.run import run_sweep
from sim.sweep.spec import load_spec

from test_sweep import SMALL, cli_subprocess, runs_of, series_of, write

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DASK = BIN / "dask"

pytestmark = pytest.mark.skipif(not DASK.is_file(), reason="the 'dask' command is not installed next to python")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the workers, then the scheduler (SIGTERM, then SIGKILL after a few seconds)."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and two single-thread ``dask worker`` processes (no nanny, so a killed worker stays
    dead); yields (address, worker processes)."""
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(tmp / "cluster.log", "w")
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--name", f"w{i}", "--local-directory", str(tmp),
                                           "--death-timeout", "60"],
                                          cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address, procs[1:]
    finally:
        _stop(procs)
        log.close()


def test_same_results_on_a_dask_cluster_as_in_process(tmp_path, cluster):
    address, _ = cluster
    rs = load_spec(write(tmp_path, SMALL))
    run_sweep(rs, tmp_path / "here", workers=0)
    result = run_sweep(rs, tmp_path / "dask", scheduler=address)
    assert (result.executor, result.workers) == ("dask", 2)
    pd.testing.assert_frame_equal(runs_of(tmp_path / "here"), runs_of(tmp_path / "dask"))
    pd.testing.assert_frame_equal(series_of(tmp_path / "here"), series_of(tmp_path / "dask"))


def test_a_killed_dask_worker_loses_no_run(tmp_path, cluster):
    """Kill -9 one worker while the sweep runs: the scheduler re-runs its chunk on the other worker, and the
    dataset equals an uninterrupted in-process run (no run lost, none twice)."""
    address, workers = cluster
    text = SMALL.replace("engine: ensemble", "engine: mesa").replace("replicates: 5", "replicates: 4") \
        .replace("levels: 2", "levels: 5").replace("chunk_size: 3", "chunk_size: 4").replace("days: 40", "days: 60")
    path = write(tmp_path, text)  # 10 points x 4 replicates, one point per chunk
    out = tmp_path / "dask"
    proc = cli_subprocess("-q", "sweep", str(path), "--out", str(out), "--scheduler", address, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 90
        while not list((out / "runs").glob("chunk-*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no chunk file appeared"
            time.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert cli(["-q", "sweep", str(path), "--out", str(tmp_path / "here"), "--workers", "0"]) == 0
    a = runs_of(out)
    assert a["run"].is_unique and len(a) == 40
    pd.testing.assert_frame_equal(a, runs_of(tmp_path / "here"))
