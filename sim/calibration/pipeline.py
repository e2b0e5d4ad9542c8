"""``escalation calibrate``: estimate the baseline's free parameters and write the shipped outputs.

Steps (each documented in docs/CALIBRATION.md):

1. the calibration design: the scenario plus the two provocations the sources
   describe, run to 3 Feb 2024; the targets of ``seeds/events.yaml`` as bands;
2. ABC-SMC over the free parameters' uniform priors -> posterior sample;
3. simulated method of moments with common random numbers, started from the
   schema's defaults -> point estimate;
4. checks: the point estimate and the posterior predictive against every
   target (scripted provocations), the plain scenario (its own provocations),
   and the Mesa engine;
5. outputs: ``baseline_calibrated.yaml``, ``posterior.csv``, ``fit.csv``,
   ``calibration.json``, ``report.md`` and ``figures/``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import yaml

from sim.engines import get_engine
from sim.outcomes import QUANTILES
from sim.scenario_io import load_scenario
from sim.schema import Scenario
from sim.seeds import DEFAULT_PATH as DEFAULT_TARGETS
from sim.seeds import load_targets

from .abc import ABCResult, abc_smc, weighted_quantile
from .arrays import DAY_ARRAYS, day_arrays
from .params import DEFAULT_FREE, FreeParameter, apply_values, check_priors, get_value, values_of
from .posterior import draw_indices, run_with_posterior, write_posterior
from .simulate import Simulator
from .smm import SMMResult, smm_estimate
from .targets import Design, distances, fit_table

log = logging.getLogger("sim.calibration")

__all__ = ["Settings", "Outcome", "calibrate", "CALIBRATED_NAME", "POSTERIOR_NAME", "REPORT_NAME",
           "calibrated_yaml", "fit_runs", "smm_moments", "scripted_statistics"]

CALIBRATED_NAME = "baseline_calibrated.yaml"
POSTERIOR_NAME = "posterior.csv"
REPORT_NAME = "report.md"
FIT_NAME = "fit.csv"
SUMMARY_NAME = "calibration.json"


@dataclass
class Settings:
    """Sizes of the calibration (``--quick`` and ``--budget`` change them)."""

    n_particles: int = 1000
    alpha: float = 0.5
    budget: int = 150_000
    max_generations: int = 14
    min_acceptance: float = 0.01
    kernel: str = "olcm"
    smm_replicates: int = 250
    smm_evaluations: int = 300
    smm_method: str = "nelder-mead"
    ridge: float = 0.05
    smm_reevaluate: int = 5
    draws: int = 1000
    fit_replicates: int = 500
    mesa_replicates: int = 200
    slack: float | None = None  # None: sim.calibration.targets.UPPER_SLACK
    shipped: bool = False  # written into the repository's calibration/ (the one scenarios/baseline.yaml extends)

    @classmethod
    def quick(cls) -> "Settings":
        """A small calibration for smoke tests (about ten times cheaper; coarse)."""
        return cls(n_particles=300, budget=25_000, max_generations=10, smm_replicates=100, smm_evaluations=80,
                   draws=300, fit_replicates=200, mesa_replicates=0)


@dataclass
class Outcome:
    """Everything a calibration produced (the files are written from it)."""

    scenario: Scenario
    calibrated: Scenario
    free: tuple[FreeParameter, ...]
    design: Design
    abc: ABCResult
    smm: SMMResult
    posterior: pd.DataFrame
    fits: dict[str, pd.DataFrame]
    fan: dict[str, Any]
    timings: dict[str, float]
    settings: Settings
    seed: int
    targets_path: Path
    files: list[str] = field(default_factory=list)

    @property
    def point(self) -> dict[str, Any]:
        return values_of(self.smm.theta, self.free)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per free parameter: prior, posterior quantiles, point estimate."""
        g = self.abc.final
        rows = []
        for j, p in enumerate(self.free):
            q = weighted_quantile(g.theta[:, j], g.weights, [0.05, 0.5, 0.95])
            if p.integer:
                q = np.rint(q)
            rows.append({"parameter": p.path, "label": p.label, "prior_low": p.low, "prior_high": p.high,
                         "start": float(self.smm.start[j]) if not p.integer else int(round(self.smm.start[j])),
                         "post_q05": float(q[0]), "post_median": float(q[1]), "post_q95": float(q[2]),
                         "post_mean": float(np.average(g.theta[:, j], weights=g.weights)),
                         "smm": self.point[p.path]})
        return rows


def _seeds(seed: int) -> dict[str, int]:
    """Independent sub-seeds of the run's seed, one per use."""
    state = np.random.SeedSequence(int(seed)).generate_state(6)
    names = ("abc_model", "abc_sampler", "smm", "fit", "draws", "mesa")
    return {n: int(s) for n, s in zip(names, state)}


def calibrate(scenario: Any = "baseline", targets: str | Path | None = None, *, seed: int = 0,
              settings: Settings | None = None, free: Sequence[FreeParameter] = DEFAULT_FREE,
              out: str | Path | None = None, figures: bool = True,
              progress: Callable[[str], None] | None = None,
              on_runs: Callable[[int], None] | None = None) -> Outcome:
    """Calibrate ``scenario`` to the targets; write the outputs to ``out`` (if given).

    ``progress`` gets one line per stage or generation; ``on_runs`` the number of model runs of each batch
    simulated (ABC-SMC and SMM), e.g. a progress bar's ``update``.
    """
    counted = on_runs or (lambda _n: None)
    settings = settings or Settings()
    say = progress or log.info
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    targets_path = Path(targets) if targets is not None else DEFAULT_TARGETS
    target_list = load_targets(targets_path)
    free = tuple(free)
    check_priors(free, base)
    kw = {} if settings.slack is None else {"slack": settings.slack}
    design = Design.for_scenario(target_list, base, **kw)
    sim = Simulator(base, design, free)
    seeds = _seeds(seed)
    lo = np.array([p.lo for p in free])
    hi = np.array([p.hi for p in free])

    # ------------------------------------------------------------------ ABC-SMC
    say(f"ABC-SMC: {settings.n_particles} particles, budget {settings.budget} runs of {design.days} days")
    t0 = time.perf_counter()

    def simulate(theta: np.ndarray, first: int):
        st = sim.stats(theta, seeds["abc_model"], first)
        counted(len(theta))
        return design.distance(st), st

    abc = abc_smc(simulate, lo, hi, n_particles=settings.n_particles, alpha=settings.alpha, eps_min=0.0,
                  max_generations=settings.max_generations, min_acceptance=settings.min_acceptance,
                  budget=settings.budget, kernel=settings.kernel, seed=seeds["abc_sampler"], progress=say)
    timings["abc"] = time.perf_counter() - t0
    say(f"ABC-SMC: final tolerance {abc.final.eps:g} after {abc.simulations} runs ({abc.stop_reason}), "
        f"{timings['abc']:.1f} s")
    rng = np.random.default_rng(seeds["draws"])
    sample = abc.sample(settings.draws, rng)
    posterior = pd.DataFrame({p.path: p.values(sample[:, j]) for j, p in enumerate(free)})

    # ------------------------------------------------------------------ SMM
    say(f"SMM: {settings.smm_method}, {settings.smm_replicates} common-random-number replicates")
    t0 = time.perf_counter()
    defaults = Scenario()
    start = np.array([float(get_value(defaults, p.path)) for p in free])
    def moments(th: np.ndarray, R: int, s: int):
        counted(R)
        return smm_moments(design, *sim.run_at(th, R, s))

    smm = smm_estimate(moments, free, start,
                       replicates=settings.smm_replicates, seed=seeds["smm"], method=settings.smm_method,
                       max_evaluations=settings.smm_evaluations, ridge=settings.ridge,
                       reevaluate=settings.smm_reevaluate, progress=say)
    timings["smm"] = time.perf_counter() - t0
    say(f"SMM: J={smm.objective:.4g} after {smm.evaluations} evaluations, {timings['smm']:.1f} s")
    # the estimate as shipped (4 significant digits), so that every check below runs what baseline.yaml loads
    smm.theta = np.array([float(_round(float(v))) for v in smm.theta])
    calibrated = apply_values(base, values_of(smm.theta, free))

    # ------------------------------------------------------------------ checks
    t0 = time.perf_counter()
    fits, fan = fit_runs(base, calibrated, design, sim, free, smm.theta, posterior, settings, seeds)
    timings["checks"] = time.perf_counter() - t0
    for name, table in fits.items():
        bad = table[~table.reproduced].target.tolist()
        say(f"fit ({name}): " + ("every target reproduced" if not bad else f"NOT reproduced: {', '.join(bad)}"))
    timings["total_before_report"] = time.perf_counter() - t_all

    outcome = Outcome(scenario=base, calibrated=calibrated, free=free, design=design, abc=abc, smm=smm,
                      posterior=posterior, fits=fits, fan=fan, timings=timings, settings=settings, seed=int(seed),
                      targets_path=targets_path)
    if out is not None:
        t0 = time.perf_counter()
        write_outputs(outcome, Path(out), figures=figures)
        timings["report"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_all
    if out is not None:  # rewrite the summary with the final timings
        _write_json(Path(out) / SUMMARY_NAME, summary_json(outcome))
    return outcome


def smm_moments(design: Design, stats: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """The SMM moments: per target, the mean scaled hinge distance over the runs that answered its
    provocation (all runs for the attack count and the no-exchange target)."""
    d = distances(design.bands, stats)
    d = np.where(answered, d, np.nan)
    with np.errstate(invalid="ignore"):
        m = np.nanmean(d, axis=0)
    return np.nan_to_num(m, nan=10.0)  # a target never answered: a large, finite moment


def fit_runs(base: Scenario, calibrated: Scenario, design: Design, sim: Simulator,
             free: Sequence[FreeParameter], theta: np.ndarray, posterior: pd.DataFrame, settings: Settings,
             seeds: dict[str, int]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Fit tables of the point estimate and the posterior, and the fan-chart data."""
    R = settings.fit_replicates
    fits: dict[str, pd.DataFrame] = {}
    # (a) the calibrated scenario, its own parameters, the sources' provocations scripted
    st_point = scripted_statistics(calibrated, design, R, seeds["fit"])
    fits["point"] = fit_table(design.bands, st_point)
    # (b) posterior predictive: each replicate its own posterior draw
    rows = draw_indices(len(posterior), R, seeds["fit"])
    theta_rows = np.column_stack([posterior[p.path].to_numpy(dtype=float)[rows] for p in free])
    st_post = sim.stats(theta_rows, seeds["fit"], 0)
    fits["posterior"] = fit_table(design.bands, st_post)
    # (c) the plain scenario (no scripted provocations), posterior draws: statistics anchored on each run's
    #     own first casualty-producing and first fatal attacks (conditional on those happening)
    natural = Design.for_scenario(design.targets, calibrated, mode="natural", slack=design.slack,
                                  days=calibrated.days)
    ts, ev, _ = run_with_posterior(calibrated, posterior, R, seeds["fit"], events=True, reference=calibrated)
    fits["natural"] = fit_table(natural.bands, natural.statistics(day_arrays(ts, ev)))
    # (d) the reference engine: Mesa, point estimate, scripted provocations
    if settings.mesa_replicates > 0:
        ts_m, ev_m = get_engine("mesa").run(design.scenario(calibrated), settings.mesa_replicates, seeds["mesa"])
        fits["mesa"] = fit_table(design.bands, design.statistics(day_arrays(ts_m, ev_m)))
    # fan chart: cumulative attacks over the plain scenario's horizon
    ts_point, _ = get_engine("ensemble").run(calibrated, R, seeds["fit"], events=False)
    fan = {"posterior": _cumulative_quantiles(ts), "point": _cumulative_quantiles(ts_point),
           "start_date": calibrated.start_date.isoformat(), "replicates": R}
    return fits, fan


def scripted_statistics(scenario: Scenario, design: Design, replicates: int, seed: int) -> np.ndarray:
    """Statistics (R, K) of ``replicates`` runs of ``scenario`` with the design's provocations scripted."""
    from sim.compiled import compile_scenario
    from sim.ensemble import EnsembleEngine, block_rng

    eng = EnsembleEngine(compile_scenario(design.scenario(scenario)), replicates, block_rng(seed, 0, replicates),
                         table=False, record=DAY_ARRAYS).run()
    return design.statistics(eng.recorded_arrays())


def _cumulative_quantiles(ts: pd.DataFrame) -> dict[str, list[float]]:
    wide = ts.pivot(index="day", columns="replicate", values="cumulative_attacks").to_numpy(dtype=float)
    q = np.percentile(wide, QUANTILES, axis=1)
    return {f"q{p:02d}": v.tolist() for p, v in zip(QUANTILES, q)}


# --------------------------------------------------------------------------- outputs


def calibrated_yaml(outcome: Outcome) -> str:
    """The calibrated parameters as a scenario fragment for ``extends:``."""
    point = outcome.point
    data: dict[str, Any] = {}
    base = outcome.calibrated
    for path, value in point.items():
        parts = path.split(".")
        if parts[:2] == ["militia", "groups"]:
            continue
        node = data
        for seg in parts[:-1]:
            node = node.setdefault(seg, {})
        node[parts[-1]] = _round(value)
    group_paths = [p for p in point if p.startswith("militia.groups.")]
    if group_paths:
        # a list is replaced whole by 'extends', so the fragment carries every group in full
        groups = [g.model_dump(mode="json") for g in base.militia.groups]
        for g in groups:
            for path in group_paths:
                field_ = path.split(".")[3]
                g[field_] = _round(g[field_])
        data.setdefault("militia", {})["groups"] = groups
    rows = {r["parameter"]: r for r in outcome.summary_rows()}
    lines = [
        "# Calibrated parameters of the baseline, written by `escalation calibrate` -- do not edit by hand.",
        f"# Targets: {outcome.targets_path.name} (calibration_targets); seed {outcome.seed}; "
        f"written {dt.date.today().isoformat()}.",
        "# Point estimate: simulated method of moments with common random numbers (sim/calibration/smm.py).",
        f"# Posterior sample (ABC-SMC): {POSTERIOR_NAME}; report: {REPORT_NAME}; method: docs/CALIBRATION.md.",
        "# scenarios/baseline.yaml extends this file.  Estimate [posterior median; 90% interval]:",
    ]
    for path, r in rows.items():
        lines.append(f"#   {path}: {_fmt(r['smm'])} [{_fmt(r['post_median'])}; {_fmt(r['post_q05'])}-{_fmt(r['post_q95'])}]")
    if group_paths:
        lines.append("# The full list of groups is written because a list is replaced whole by 'extends'; only the")
        lines.append("# calibrated field(s) (" + ", ".join(p.split(".")[-1] for p in group_paths)
                     + ") differ from the schema's default groups.")
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True)
    return "\n".join(lines) + "\n" + body


def _round(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(f"{float(v):.4g}")
    return v


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float, np.number)) else str(v)


def summary_json(o: Outcome) -> dict[str, Any]:
    a = o.abc
    return {
        "kind": "calibration",
        "scenario": o.scenario.name,
        "targets": str(o.targets_path.name),
        "seed": o.seed,
        "settings": asdict(o.settings),
        "free_parameters": [{"path": p.path, "prior": [p.low, p.high], "integer": p.integer, "why": p.why}
                            for p in o.free],
        "bands": [{"target": b.id, "statistic": b.statistic, "low": b.low, "high": b.high, "scale": b.scale}
                  for b in o.design.bands],
        "design": {"mode": o.design.mode, "days": o.design.days, "slack": o.design.slack,
                   "provocations": [{"name": p.name, "date": p.date.isoformat(), "group": p.group, "base": p.base,
                                     "weapon": p.weapon, "injured": p.injured, "killed": p.killed}
                                    for p in o.design.provocations]},
        "abc": {"stop_reason": a.stop_reason, "simulations": a.simulations, "seconds": a.seconds,
                "settings": a.settings,
                "generations": [{"eps": g.eps, "proposals": g.simulations, "acceptance": g.acceptance, "ess": g.ess,
                                 "seconds": g.seconds} for g in a.generations]},
        "smm": {"theta": {p.path: v for p, v in zip(o.free, o.smm.theta.tolist())}, "objective": o.smm.objective,
                "moments": {b.id: float(m) for b, m in zip(o.design.bands, o.smm.moments)},
                "evaluations": o.smm.evaluations, "replicates": o.smm.replicates, "method": o.smm.method,
                "converged": o.smm.converged, "message": o.smm.message, "seconds": o.smm.seconds,
                "reevaluated": o.smm.reevaluated,
                "start": {p.path: v for p, v in zip(o.free, o.smm.start.tolist())}},
        "parameters": o.summary_rows(),
        "fit": {k: v.to_dict(orient="records") for k, v in o.fits.items()},
        "reproduced": {k: bool(v.reproduced.all()) for k, v in o.fits.items()},
        "timings_seconds": o.timings,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "files": o.files,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (np.ndarray,)):
        return o.tolist()
    if isinstance(o, (dt.date, Path)):
        return str(o)
    raise TypeError(type(o).__name__)


def write_outputs(o: Outcome, out: Path, *, figures: bool = True) -> list[str]:
    """Write every output into ``out`` (files are built in a temporary folder and moved in at the end)."""
    from .report import draw_figures, report_markdown

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".calibrate-", dir=out))
    try:
        files = []
        (tmp / CALIBRATED_NAME).write_text(calibrated_yaml(o), encoding="utf-8")
        files.append(CALIBRATED_NAME)
        write_posterior(o.posterior, tmp / POSTERIOR_NAME)
        files.append(POSTERIOR_NAME)
        fit = pd.concat([t.assign(check=k) for k, t in o.fits.items()], ignore_index=True)
        fit.to_csv(tmp / FIT_NAME, index=False, float_format="%.6g", lineterminator="\n")
        files.append(FIT_NAME)
        fig_files = draw_figures(o, tmp / "figures") if figures else []
        files += fig_files
        files += [REPORT_NAME, SUMMARY_NAME]
        o.files = files
        (tmp / REPORT_NAME).write_text(report_markdown(o, fig_files), encoding="utf-8")
        _write_json(tmp / SUMMARY_NAME, summary_json(o))
        for name in files:
            dest = out / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return files
