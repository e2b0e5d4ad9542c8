"""Run a scenario for N replicates on the Mesa engine and return tidy tables."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from mesa import Agent

from .dynamics.events import concat_events
from .engines import prepare_scenario
from .model import EscalationModel
from .schema import Scenario


def replicate_seeds(seed: int, replicates: int, first: int = 0) -> list[np.random.SeedSequence]:
    """Seed sequence of each replicate: child ``first + r`` of ``SeedSequence(seed)``.

    Replicate r gets the same stream whatever the number of replicates run with
    it, the engine's worker count or the order of completion.
    """
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(entropy=root.entropy, spawn_key=(first + r,)) for r in range(replicates)]


def run_one(scenario: Scenario, seed_seq: np.random.SeedSequence, replicate: int = 0
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One Mesa run to the horizon: (per-day table, event log), both tagged with ``replicate``."""
    model = EscalationModel(scenario=scenario, rng=np.random.default_rng(seed_seq))
    model.run()
    try:
        ts = tidy_timeseries(model, replicate)
        ev = tidy_events(model, replicate)
    finally:
        Agent._ids.pop(model, None)  # Mesa 3.3 keeps every model alive through this counter
    return ts, ev


def tidy_timeseries(model: EscalationModel, replicate: int = 0) -> pd.DataFrame:
    """The model's DataCollector as a per-day table with replicate, day and date first."""
    data = model.datacollector.model_vars
    n = len(next(iter(data.values()))) if data else 0
    frame = pd.DataFrame(data)
    frame.insert(0, "date", pd.to_datetime(model.c.dates[:n]))
    frame.insert(0, "day", np.arange(n, dtype=np.int64))
    frame.insert(0, "replicate", np.full(n, replicate, dtype=np.int64))
    return frame


def tidy_events(model: EscalationModel, replicate: int = 0) -> pd.DataFrame:
    """The model's typed event log (:mod:`sim.dynamics.events`), tagged with ``replicate``."""
    return model.event_frame(replicate)


def run_replicates(scenario: Any = "baseline", replicates: int = 1, seed: int = 0, *, days: int | None = None,
                   overrides: Sequence[str] = (), progress: Callable[[Iterable], Iterable] | None = None,
                   first_replicate: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``replicates`` Mesa runs of a scenario; return (timeseries, events).

    ``scenario`` is anything :class:`~sim.model.EscalationModel` accepts.  Each
    replicate's generator comes from ``SeedSequence(seed)`` (see
    :func:`replicate_seeds`); ``progress`` may wrap the replicate loop (e.g. tqdm).
    """
    s = prepare_scenario(scenario, days, overrides)
    seeds = replicate_seeds(seed, replicates, first_replicate)
    loop: Iterable = range(replicates)
    if progress is not None:
        loop = progress(loop)
    ts_parts, ev_parts = [], []
    for r in loop:
        ts, ev = run_one(s, seeds[r], first_replicate + r)
        ts_parts.append(ts)
        ev_parts.append(ev)
    return pd.concat(ts_parts, ignore_index=True), concat_events(ev_parts)
