"""The calibration report: figures (posterior marginals, pairs, fan chart, fit) and ``report.md``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Outcome

__all__ = ["draw_figures", "report_markdown"]

DPI = 130
BLUE, ORANGE, GREY, RED = "#1f77b4", "#d95f02", "#777777", "#b2182b"


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, folder: Path, stem: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{stem}.png", bbox_inches="tight")
    return f"{folder.name}/{stem}.png"


def draw_figures(o: "Outcome", folder: Path) -> list[str]:
    """Draw every figure into ``folder``; return their paths relative to its parent."""
    return [marginals(o, folder), pairs(o, folder), fan_chart(o, folder), fit_chart(o, folder),
            tolerance_chart(o, folder)]


def marginals(o: "Outcome", folder: Path) -> str:
    free = o.free
    n = len(free)
    cols = 3
    rows = int(np.ceil(n / cols))
    fig = _figure(4.0 * cols, 2.8 * rows)
    summary = {r["parameter"]: r for r in o.summary_rows()}
    for j, p in enumerate(free):
        ax = fig.add_subplot(rows, cols, j + 1)
        x = o.posterior[p.path].to_numpy(dtype=float)
        bins = np.arange(p.low - 0.5, p.high + 1.5, max(1, round((p.high - p.low) / 40))) if p.integer else 30
        ax.hist(x, bins=bins, range=None if p.integer else (p.low, p.high), density=True, color=BLUE, alpha=0.75,
                label="posterior (ABC-SMC)")
        ax.axhline(1.0 / (p.hi - p.lo), color=GREY, lw=1, ls="--", label="prior (uniform)")
        r = summary[p.path]
        ax.axvspan(r["post_q05"], r["post_q95"], color=BLUE, alpha=0.08, label="90% credible interval")
        ax.axvline(r["smm"], color=ORANGE, lw=2, label="point estimate (SMM)")
        ax.axvline(r["start"], color=GREY, lw=1, ls=":", label="schema default")
        ax.set_xlim(p.lo, p.hi)
        ax.set_title(p.label, fontsize=9)
        ax.set_yticks([])
        ax.tick_params(labelsize=8)
        if j == 0:
            ax.legend(fontsize=6.5, loc="upper right")
    fig.suptitle("Posterior marginals of the free parameters", fontsize=11)
    fig.tight_layout()
    return _save(fig, folder, "posterior_marginals")


def pairs(o: "Outcome", folder: Path) -> str:
    free = o.free
    n = len(free)
    fig = _figure(1.9 * n, 1.9 * n)
    data = o.posterior
    point = o.point
    for i, pi in enumerate(free):
        for j, pj in enumerate(free):
            ax = fig.add_subplot(n, n, i * n + j + 1)
            ax.tick_params(labelsize=6)
            if i == j:
                ax.hist(data[pi.path], bins=25, range=(pi.lo, pi.hi), color=BLUE, alpha=0.75)
                ax.set_yticks([])
            elif i > j:
                ax.scatter(data[pj.path], data[pi.path], s=3, alpha=0.35, color=BLUE, linewidths=0)
                ax.scatter([point[pj.path]], [point[pi.path]], s=25, color=ORANGE, marker="x")
                ax.set_ylim(pi.lo, pi.hi)
            else:
                x, y = data[pj.path].to_numpy(dtype=float), data[pi.path].to_numpy(dtype=float)
                r = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else np.nan
                ax.text(0.5, 0.5, f"r = {r:.2f}", ha="center", va="center", fontsize=9,
                        color=RED if abs(r) >= 0.3 else "black", transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
            if i != j or i == j:
                ax.set_xlim(pj.lo, pj.hi)
            if i == n - 1:
                ax.set_xlabel(pj.label, fontsize=7)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(pi.label, fontsize=7)
            elif i != j:
                ax.set_yticklabels([])
    fig.suptitle("Posterior sample, pairwise (x: point estimate; r: correlation)", fontsize=11)
    fig.tight_layout()
    return _save(fig, folder, "posterior_pairs")


def fan_chart(o: "Outcome", folder: Path) -> str:
    from sim.seeds import plot_points

    fan = o.fan
    start = pd.Timestamp(fan["start_date"])
    post, point = fan["posterior"], fan["point"]
    dates = start + pd.to_timedelta(np.arange(len(post["q50"])), unit="D")
    fig = _figure(9, 4.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.fill_between(dates, post["q05"], post["q95"], color=BLUE, alpha=0.18, lw=0,
                    label="posterior predictive, 90% of runs")
    ax.fill_between(dates, post["q25"], post["q75"], color=BLUE, alpha=0.35, lw=0, label="50% of runs")
    ax.plot(dates, post["q50"], color=BLUE, lw=1.8, label="median (posterior predictive)")
    ax.plot(dates, point["q50"], color=ORANGE, lw=1.3, ls="--", label="median (point estimate)")
    ax.plot(dates, point["q05"], color=ORANGE, lw=0.8, ls=":", label="90% of runs (point estimate)")
    ax.plot(dates, point["q95"], color=ORANGE, lw=0.8, ls=":")
    pts = plot_points(o.targets_path)
    for _, row in pts.iterrows():
        ax.scatter([row["date"]], [row["cumulative_attacks"]], marker="^", s=70, color=RED, zorder=5)
        ax.annotate(f"seed: {row['label']}", (row["date"], row["cumulative_attacks"]), textcoords="offset points",
                    xytext=(8, -14), fontsize=8, color=RED)
        if pd.notna(row.get("start")):
            ax.hlines(row["cumulative_attacks"], row["start"], row["date"], color=RED, lw=0.8, ls=":")
    ax.set_ylabel("cumulative militia attacks on US forces")
    ax.set_title(f"Cumulative attacks: calibrated baseline, {fan['replicates']} replicates", fontsize=11)
    ax.legend(fontsize=7.5, loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _save(fig, folder, "fan_chart")


def fit_chart(o: "Outcome", folder: Path) -> str:
    tables = [(k, v) for k, v in o.fits.items() if k in ("point", "posterior", "mesa")]
    ids = list(o.fits["point"].target)
    fig = _figure(9, 0.9 + 0.75 * len(ids))
    axes = [fig.add_subplot(len(ids), 1, i + 1) for i in range(len(ids))]
    colors = {"point": ORANGE, "posterior": BLUE, "mesa": GREY}
    for i, tid in enumerate(ids):
        ax = axes[i]
        band = next(b for b in o.design.bands if b.id == tid)
        lo_all, hi_all = [], []
        for k, (name, t) in enumerate(tables):
            row = t[t.target == tid].iloc[0]
            y = -k
            ax.plot([row.q_lo, row.q_hi], [y, y], color=colors[name], lw=3, solid_capstyle="butt",
                    label=f"{name}: 90% interval" if i == 0 else None)
            ax.plot([row["median"]], [y], "o", color="black", ms=3.5, label="median" if i == 0 and k == 0 else None)
            lo_all += [row.q_lo]
            hi_all += [row.q_hi]
        lo = min(lo_all + [band.low if np.isfinite(band.low) else np.inf])
        hi = max(hi_all + [band.high if np.isfinite(band.high) else -np.inf])
        pad = 0.08 * max(hi - lo, 1)
        blo = band.low if np.isfinite(band.low) else lo - pad
        bhi = band.high if np.isfinite(band.high) else hi + pad
        ax.axvspan(blo, bhi, color="#4daf4a", alpha=0.18, label="band (target)" if i == 0 else None)
        ax.axvline(band.target.value, color=RED, lw=1)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(-len(tables) + 0.4, 0.6)
        ax.set_yticks([])
        ax.set_title(f"{tid}  ({band.target.bound.replace('_', ' ')} {band.target.value:g})", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    fig.legend(loc="lower center", ncol=5, fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(fig, folder, "fit")


def tolerance_chart(o: "Outcome", folder: Path) -> str:
    g = o.abc.generations
    fig = _figure(7, 3.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(range(len(g)), [x.eps for x in g], "o-", color=BLUE)
    ax.set_xlabel("generation")
    ax.set_ylabel("tolerance (largest scaled miss)")
    ax.grid(alpha=0.3)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(range(len(g)), [x.acceptance for x in g], "o-", color=ORANGE, label="acceptance rate")
    ax2.plot(range(len(g)), [x.ess / len(x.weights) for x in g], "s-", color=GREY, label="ESS / particles")
    ax2.set_xlabel("generation")
    ax2.set_ylim(0, 1.05)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.suptitle("ABC-SMC tolerance schedule", fontsize=10)
    fig.tight_layout()
    return _save(fig, folder, "abc_schedule")


# --------------------------------------------------------------------------- markdown


def _md_table(df: pd.DataFrame, columns: Sequence[str], headers: Sequence[str] | None = None) -> str:
    headers = list(headers or columns)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in df.to_dict(orient="records"):
        cells = []
        for c in columns:
            v = r[c]
            if isinstance(v, (bool, np.bool_)):
                cells.append("yes" if v else "**no**")
            elif isinstance(v, (int, np.integer)):
                cells.append(f"{int(v):,}" if abs(int(v)) >= 10_000 else str(int(v)))
            elif isinstance(v, (float, np.floating)):
                cells.append("" if not np.isfinite(v) else f"{v:.4g}")
            else:
                cells.append(str(v).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fit_md(t: pd.DataFrame) -> str:
    return _md_table(t, ["target", "figure", "band", "n", "median", "q_lo", "q_hi", "p_satisfied", "p_in_band",
                         "reproduced"],
                     ["target", "seed figure", "band", "runs", "median", "5%", "95%", "P(figure holds)",
                      "P(in band)", "reproduced"])


def report_markdown(o: "Outcome", figures: Sequence[str]) -> str:
    from .pipeline import CALIBRATED_NAME, POSTERIOR_NAME

    s, a, smm = o.settings, o.abc, o.smm
    rows = pd.DataFrame(o.summary_rows())
    gens = pd.DataFrame([{"generation": i, "tolerance": g.eps, "proposals": g.simulations,
                          "acceptance": g.acceptance, "ESS": g.ess, "seconds": g.seconds}
                         for i, g in enumerate(a.generations)])
    t = o.timings
    verdict = {k: bool(v.reproduced.all()) for k, v in o.fits.items()}
    fig = {Path(f).stem: f for f in figures}
    shipped = getattr(s, "shipped", False)
    # only the shipped folder sits next to docs/ and is the one scenarios/baseline.yaml extends
    docs = "[docs/CALIBRATION.md](../docs/CALIBRATION.md)" if shipped else "`docs/CALIBRATION.md` in the repository"
    use = ("used by `scenarios/baseline.yaml` through `extends`." if shipped else
           "not the shipped calibration: a scenario uses it through `extends: PATH/TO/" + CALIBRATED_NAME + "`.")
    out = [
        "# Calibration of the baseline to the seed figures",
        "",
        f"Written by `escalation calibrate --seed {o.seed}` on {dt.date.today().isoformat()} "
        f"({'quick settings' if s.n_particles < 1000 else 'full settings'}). Method, choices and their reasons: "
        f"{docs}.",
        "",
        "## Result",
        "",
        f"* Point estimate (simulated method of moments): [`{CALIBRATED_NAME}`]({CALIBRATED_NAME}), {use}",
        f"* Posterior sample (ABC-SMC, {len(o.posterior)} equally weighted draws): [`{POSTERIOR_NAME}`]"
        f"({POSTERIOR_NAME}); `escalation run SCENARIO --posterior` with this file gives each replicate its own draw.",
        "* Every seed figure reproduced (fit tables below): "
        + ", ".join(f"{k}: {'yes' if v else '**no**'}" for k, v in verdict.items()) + ".",
        f"* Run time on this machine ({_cpus()} CPUs): ABC-SMC {t.get('abc', 0):.0f} s, SMM {t.get('smm', 0):.0f} s, "
        f"checks {t.get('checks', 0):.0f} s; {t.get('total_before_report', 0):.0f} s before this report and its "
        "figures were written (the total is in `calibration.json`).",
        "",
        "## Free parameters",
        "",
        _md_table(rows, ["parameter", "prior_low", "prior_high", "start", "post_median", "post_q05", "post_q95",
                         "smm"],
                  ["parameter", "prior low", "prior high", "schema default", "posterior median", "5%", "95%",
                   "point estimate"]),
        "",
        f"![posterior marginals]({fig.get('posterior_marginals', '')})",
        "",
        f"![pairwise posterior]({fig.get('posterior_pairs', '')})",
        "",
        "## Fit to the seed figures",
        "",
        "Each row: the target's statistic over the runs (median and 5%-95% range), the share of runs in which "
        "the seed's own inequality holds, and the share inside the band (the figure plus the soft ceiling "
        f"`slack = {o.design.slack:g}` for one-sided figures). *Reproduced*: an exact figure lies in the 90% "
        "interval; for a one-sided figure, the median meets the inequality and the interval reaches into the band.",
        "",
        f"### {'Shipped' if shipped else 'Calibrated'} baseline (point estimate), the sources' provocations "
        f"scripted, {o.fits['point'].n.max()} runs",
        "",
        _fit_md(o.fits["point"]),
        "",
        f"### Posterior predictive (each run its own posterior draw), provocations scripted",
        "",
        _fit_md(o.fits["posterior"]),
        "",
        "### Plain baseline with posterior draws (the runs' own provocations)",
        "",
        "No scripted events: the strike statistics are anchored on each run's first casualty-producing and "
        "first fatal attack and computed over the runs that have one (*runs*). This checks that the calibrated "
        "doctrine answers the model's own attacks as it answers the scripted ones; the first-wave figures then "
        "depend on the toll of whichever fatal attack comes first.",
        "",
        _fit_md(o.fits["natural"]),
        "",
    ]
    if "mesa" in o.fits:
        out += ["### Reference engine (Mesa), point estimate, provocations scripted", "",
                _fit_md(o.fits["mesa"]), ""]
    out += [
        f"![fit]({fig.get('fit', '')})",
        "",
        f"![fan chart]({fig.get('fan_chart', '')})",
        "",
        "## ABC-SMC",
        "",
        f"{s.n_particles} particles, tolerance = the {s.alpha:g}-quantile of the previous generation's distances, "
        f"final tolerance 0 (every band met), kernel `{s.kernel}`, budget {s.budget} runs. Stopped: "
        f"**{a.stop_reason}** after {a.simulations} runs of {o.design.days} days; final tolerance {a.final.eps:g}.",
        "",
        _md_table(gens, ["generation", "tolerance", "proposals", "acceptance", "ESS", "seconds"]),
        "",
        f"![ABC schedule]({fig.get('abc_schedule', '')})",
        "",
        "## Simulated method of moments",
        "",
        f"{smm.method}, {smm.replicates} common-random-number replicates per evaluation, {smm.evaluations} "
        f"evaluations ({smm.message}); criterion J = {smm.objective:.4g}. Moments at the estimate (mean scaled "
        "hinge distance per target):",
        "",
        _md_table(pd.DataFrame({"target": [b.id for b in o.design.bands], "moment": smm.moments}),
                  ["target", "moment"]),
        "",
        "## Reproduce",
        "",
        "```",
        f"escalation calibrate --seed {o.seed}" + (" --quick" if s.n_particles < 1000 else "")
        + f" --budget {s.budget}",
        "```",
        "",
    ]
    return "\n".join(out)


def _cpus() -> Any:
    import os

    return os.cpu_count()
