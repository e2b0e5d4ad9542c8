"""Posterior sample files, and runs whose replicates each draw their parameters from one.

A posterior file is a CSV (or Parquet) table: one row per draw, one column per
parameter path (``militia.attack.excitation_jump``; ``militia.groups.*.motivation``
sets every group).  ``escalation run SCENARIO --posterior FILE`` gives replicate
``r`` the row ``draw_indices(...)[r]``, drawn with the run's seed from a stream
of its own, so replicate r gets the same draw whatever the number of replicates
run with it.

Which columns apply: the posterior was estimated on the baseline.  A scenario
that sets a parameter to something other than the baseline's value has made a
deliberate choice (``massive_retaliation`` sets ``first_wave_targets: 150``),
so that column is *not* drawn for it; so is a column set with ``--set``.  Every
other column is drawn.  :func:`posterior_plan` reports both lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.compiled import compile_scenario
from sim.errors import InputError
from sim.dynamics import varies_per_replicate
from sim.dynamics.events import concat_events
from sim.engines import prepare_scenario
from sim.ensemble import EnsembleEngine, block_rng, seeding_blocks
from sim.schema import Scenario

from .params import apply_values, expand_path, get_value, schema_bounds, schema_info

__all__ = [
    "POSTERIOR_STREAM",
    "load_posterior",
    "write_posterior",
    "draw_indices",
    "PosteriorPlan",
    "posterior_plan",
    "posterior_overrides",
    "run_with_posterior",
]

POSTERIOR_STREAM = 0x504F5354  # "POST": keeps the draw stream apart from the model's streams


def write_posterior(draws: pd.DataFrame, path: str | Path) -> Path:
    """Write a posterior sample (CSV, or Parquet if the name ends in .parquet)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        draws.to_parquet(path, index=False)
    else:
        draws.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    return path


def load_posterior(path: str | Path, scenario: Scenario | None = None) -> pd.DataFrame:
    """Read and check a posterior file; raise :class:`InputError` naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"posterior file {path} not found")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input error
        raise InputError(f"posterior file {path}: cannot read it ({exc})") from None
    if df.empty or df.shape[1] == 0:
        raise InputError(f"posterior file {path}: no draws")
    s = scenario if scenario is not None else Scenario()
    problems = []
    for col in df.columns:
        try:
            info = schema_info(col, s)
        except ValueError as exc:
            problems.append(f"column {col!r}: {exc}")
            continue
        x = pd.to_numeric(df[col], errors="coerce")
        if x.isna().any() or not np.isfinite(x.to_numpy()).all():
            problems.append(f"column {col!r}: non-numeric or missing values")
            continue
        lo, hi, lo_open, hi_open = schema_bounds(col, s)
        bad = (x < lo) | (x > hi) | ((x == lo) & lo_open) | ((x == hi) & hi_open)
        if bad.any():
            problems.append(f"column {col!r}: {int(bad.sum())} value(s) outside {info.bounds}")
        if info.type == "int":
            if not np.allclose(x, np.rint(x)):
                problems.append(f"column {col!r}: whole numbers expected")
            df[col] = np.rint(x).astype(np.int64)
        else:
            df[col] = x.astype(float)
    if problems:
        raise InputError(f"posterior file {path}:\n  " + "\n  ".join(problems))
    return df.reset_index(drop=True)


def draw_indices(n_draws: int, replicates: int, seed: int, first_replicate: int = 0) -> np.ndarray:
    """Row of the posterior used by replicates ``first_replicate ..``: the same row for replicate r
    whatever the batch it is run in."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), POSTERIOR_STREAM]))
    return rng.integers(0, int(n_draws), size=int(first_replicate) + int(replicates))[int(first_replicate):]


@dataclass
class PosteriorPlan:
    """What a posterior run draws: the columns applied, those left to the scenario, and each
    replicate's draw."""

    applied: list[str]
    kept: list[str]
    rows: np.ndarray
    draws: pd.DataFrame  # one row per replicate: replicate, draw, the applied columns


def _override_paths(overrides: Sequence[str]) -> set[str]:
    return {str(item).partition("=")[0].strip() for item in overrides}


def posterior_plan(scenario: Scenario, posterior: pd.DataFrame, replicates: int, seed: int, *,
                   overrides: Sequence[str] = (), first_replicate: int = 0,
                   reference: Scenario | str | None = "baseline") -> PosteriorPlan:
    """Decide the columns to draw (see the module doc) and each replicate's draw."""
    ref = None
    if reference is not None:
        from sim.scenario_io import load_scenario

        ref = load_scenario(reference) if isinstance(reference, str) else reference
    set_paths = _override_paths(overrides)
    applied, kept = [], []
    for col in posterior.columns:
        concrete = expand_path(col, scenario)
        if any(p in set_paths for p in concrete) or col in set_paths:
            kept.append(col)
            continue
        if ref is not None:
            mine = [get_value(scenario, p) for p in concrete]
            try:
                theirs = [get_value(ref, p) for p in concrete]
            except ValueError:
                theirs = None
            if theirs is None or any(not _same(a, b) for a, b in zip(mine, theirs)):
                kept.append(col)
                continue
        applied.append(col)
    rows = draw_indices(len(posterior), replicates, seed, first_replicate)
    draws = posterior.loc[rows, applied].reset_index(drop=True)
    draws.insert(0, "draw", rows)
    draws.insert(0, "replicate", np.arange(first_replicate, first_replicate + replicates, dtype=np.int64))
    return PosteriorPlan(applied, kept, rows, draws)


def _same(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return a == b


def posterior_overrides(posterior: str | Path | pd.DataFrame, replicates: int, seed: int, *,
                        scenario: Any = "baseline", overrides: Sequence[str] = (),
                        first_replicate: int = 0) -> list[list[str]]:
    """``--set`` style overrides for each replicate (for engines that take one scenario per run)."""
    s = prepare_scenario(scenario, None, overrides)
    post = posterior if isinstance(posterior, pd.DataFrame) else load_posterior(posterior, s)
    plan = posterior_plan(s, post, replicates, seed, overrides=overrides, first_replicate=first_replicate)
    out = []
    for _, row in plan.draws.iterrows():
        items = []
        for col in plan.applied:
            v = row[col]
            text = str(int(v)) if float(v).is_integer() and schema_info(col, s).type == "int" else repr(float(v))
            items += [f"{p}={text}" for p in expand_path(col, s)]
        out.append(list(overrides) + items)
    return out


def run_with_posterior(scenario: Any, posterior: str | Path | pd.DataFrame, replicates: int, seed: int = 0, *,
                       days: int | None = None, overrides: Sequence[str] = (), events: bool = False,
                       first_replicate: int = 0, engine: str = "ensemble", reference: Any = "baseline"
                       ) -> tuple[pd.DataFrame, pd.DataFrame | None, PosteriorPlan]:
    """Run ``replicates`` replicates, each with its own posterior draw; return (timeseries, events, plan).

    ``engine="ensemble"``: one :class:`~sim.ensemble.EnsembleEngine` with per-replicate
    parameters per block of :data:`sim.ensemble.BLOCK` replicates (seeded as
    :func:`sim.ensemble.run_ensemble`), every drawn column varied per replicate;
    columns it cannot vary per replicate are handled by running each distinct
    value combination on its own engine.  ``engine="mesa"``: one Mesa run per
    replicate with its own scenario (seeded as :func:`sim.runner.run_replicates`).
    """
    s = prepare_scenario(scenario, days, overrides)
    post = posterior if isinstance(posterior, pd.DataFrame) else load_posterior(posterior, s)
    plan = posterior_plan(s, post, replicates, seed, overrides=overrides, first_replicate=first_replicate,
                          reference=reference)
    if engine == "mesa":
        return (*_run_mesa(s, plan, seed, events), plan)
    if engine != "ensemble":
        raise ValueError(f"unknown engine {engine!r}")
    vary = [c for c in plan.applied if varies_per_replicate(c)]
    group_cols = [c for c in plan.applied if c not in vary]
    ts_parts, ev_parts = [], []
    for first, n in seeding_blocks(replicates, first_replicate):
        sub = plan.draws[(plan.draws.replicate >= first) & (plan.draws.replicate < first + n)]
        if not group_cols:
            eng = _engine(s, n, block_rng(seed, first, n), events, first, sub, vary)
            ts_parts.append(eng.timeseries())
            if events:
                ev_parts.append(eng.event_log())
            continue
        # columns the engine cannot vary per replicate: one engine per distinct combination
        parts_ts, parts_ev = [], []
        for gi, (key, grp) in enumerate(sub.groupby(group_cols, sort=True)):
            key = key if isinstance(key, tuple) else (key,)
            sg = apply_values(s, dict(zip(group_cols, key)))
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(first), int(n), gi, POSTERIOR_STREAM]))
            eng = _engine(sg, len(grp), rng, events, 0, grp, vary)
            ts = eng.timeseries()
            ids = grp.replicate.to_numpy()
            ts["replicate"] = ids[ts["replicate"].to_numpy()]
            parts_ts.append(ts)
            if events:
                ev = eng.event_log()
                ev["replicate"] = ids[ev["replicate"].to_numpy()]
                parts_ev.append(ev)
        ts_parts.append(pd.concat(parts_ts, ignore_index=True).sort_values(["replicate", "day"], kind="stable"))
        if events:
            ev_parts.append(concat_events(parts_ev).sort_values(["replicate", "day"], kind="stable"))
    ts = pd.concat(ts_parts, ignore_index=True) if len(ts_parts) > 1 else ts_parts[0].reset_index(drop=True)
    ev = None
    if events:
        ev = concat_events(ev_parts) if len(ev_parts) > 1 else ev_parts[0].reset_index(drop=True)
    return ts, ev, plan


def _engine(s: Scenario, n: int, rng: np.random.Generator, events: bool, first: int, draws: pd.DataFrame,
            vary: Sequence[str]) -> EnsembleEngine:
    return EnsembleEngine(compile_scenario(s), n, rng, events=events, table=True, first_replicate=first,
                          params={c: draws[c].to_numpy(dtype=float) for c in vary}).run()


def _run_mesa(s: Scenario, plan: PosteriorPlan, seed: int, events: bool):
    from sim.runner import replicate_seeds, run_one

    n = len(plan.draws)
    first = int(plan.draws.replicate.iloc[0]) if n else 0
    seeds = replicate_seeds(seed, n, first)
    ts_parts, ev_parts = [], []
    for i, row in plan.draws.iterrows():
        sr = apply_values(s, {c: row[c] for c in plan.applied})
        ts, ev = run_one(sr, seeds[i], int(row.replicate))
        ts_parts.append(ts)
        ev_parts.append(ev)
    return pd.concat(ts_parts, ignore_index=True), (concat_events(ev_parts) if events else None)
