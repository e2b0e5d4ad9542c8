"""Calibration targets as bands, the summary statistics that meet them, and the distance.

A seed figure (:class:`sim.seeds.CalibrationTarget`) is an inequality, not a
point: "more than 100 attacks".  Each becomes a :class:`Band` -- the set of
values of its statistic that agree with it -- and a simulated statistic is
scored by how far it falls outside that band (a hinge), divided by a scale:

* ``exact v``      band ``[v, v]``
* ``at_most v``    band ``(-inf, v]``
* ``at_least v``   band ``[v, v (1 + slack)]``
* ``more_than v``  band ``[v + 1, v (1 + slack)]`` (the statistics are counts)

``slack`` (:data:`UPPER_SLACK`) is the one assumption added to the sources: a
press figure "more than 100" is not said of 300, so values above ``v (1 +
slack)`` are penalised too.  Without it the one-sided figures put no ceiling
on attack levels or strike sizes and the posterior would just copy the prior's
upper edge.  ``slack = inf`` gives the purely one-sided hinge.

Statistics are computed per replicate from per-day arrays (day counts, and the
sizes of the proportionate and campaign orders placed each day; see
:data:`sim.calibration.arrays.DAY_ARRAYS` and :meth:`Design.statistics`).  In the
``scripted`` design the two provocations the sources
describe (the Erbil attack of 25 Dec 2023, the Jordan attack of late January
2024) are forced as scripted shocks, and the doctrine statistics measure the
model's answer to them; in the ``natural`` design the same statistics are
anchored on the run's own first casualty-producing and first fatal attacks
(NaN where the run has none: those replicates are left out).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from sim.schema import Scenario, Shock
from sim.seeds import CalibrationTarget

__all__ = [
    "UPPER_SLACK",
    "Band",
    "Provocation",
    "SEED_PROVOCATIONS",
    "Design",
    "SUPPORTED_STATISTICS",
    "make_bands",
    "distances",
    "fit_table",
    "RESPONSE_WINDOW",
]

UPPER_SLACK = 0.5
"""Soft ceiling of a "more than / at least v" figure, as a share of v (see the module doc)."""

SUPPORTED_STATISTICS = (
    "cumulative_attacks",
    "facilities_first_proportionate_strike",
    "response_lag_days",
    "campaign_first_wave_targets",
    "campaign_first_wave_munitions",
    "direct_exchange_by_date",
)

RESPONSE_WINDOW = 7
"""Days after a casualty-producing provocation in which the order answering it is looked for.
With no order in the window the lag is ``RESPONSE_WINDOW + 1 + strike_delay`` and the facilities 0."""


@dataclass(frozen=True)
class Band:
    """The values of one statistic that agree with one target."""

    target: CalibrationTarget
    low: float
    high: float
    scale: float

    @property
    def id(self) -> str:
        return self.target.id

    @property
    def statistic(self) -> str:
        return self.target.statistic

    def distance(self, x: np.ndarray) -> np.ndarray:
        """Hinge distance to the band, in units of ``scale`` (0 inside; NaN stays NaN)."""
        x = np.asarray(x, dtype=float)
        return (np.maximum(self.low - x, 0.0) + np.maximum(x - self.high, 0.0)) / self.scale

    def inside(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return (x >= self.low) & (x <= self.high)

    def satisfied(self, x: np.ndarray) -> np.ndarray:
        """The seed's own (one-sided) condition, as :meth:`CalibrationTarget.satisfied_by`."""
        x = np.asarray(x, dtype=float)
        t = self.target
        if t.bound == "none":
            return np.ones(x.shape, dtype=bool)
        return {"more_than": x > t.value, "at_least": x >= t.value, "at_most": x <= t.value,
                "exact": x == t.value}[t.bound]

    def describe(self) -> str:
        lo = "" if self.low == -math.inf else f"{self.low:g}"
        hi = "" if self.high == math.inf else f"{self.high:g}"
        if lo == hi:
            return f"= {lo}"
        if not lo:
            return f"<= {hi}"
        if not hi:
            return f">= {lo}"
        return f"[{lo}, {hi}]"


def make_bands(targets: Sequence[CalibrationTarget], slack: float = UPPER_SLACK) -> list[Band]:
    """One band per target with a value (targets with bound ``none`` are skipped)."""
    out = []
    for t in targets:
        if t.bound == "none" or t.value is None:
            continue
        v = float(t.value)
        scale = max(abs(v), 1.0)
        ceiling = v * (1.0 + slack) if math.isfinite(slack) else math.inf
        if t.bound == "exact":
            lo, hi = v, v
        elif t.bound == "at_most":
            lo, hi = -math.inf, v
        elif t.bound == "at_least":
            lo, hi = v, max(ceiling, v)
        else:  # more_than, on integer counts
            lo, hi = math.floor(v) + 1.0, max(ceiling, math.floor(v) + 1.0)
        out.append(Band(t, lo, hi, scale))
    return out


# --------------------------------------------------------------------------- provocations


@dataclass(frozen=True)
class Provocation:
    """A provocation the sources describe, forced as a scripted attack in the ``scripted`` design."""

    name: str
    date: dt.date
    group: str
    base: str
    weapon: Literal["uav", "rocket", "missile"]
    injured: int
    killed: int
    source: str

    def shock(self) -> Shock:
        return Shock(date=self.date, kind="attack", group=self.group, base=self.base, weapon=self.weapon,
                     injured=self.injured, killed=self.killed)


SEED_PROVOCATIONS = (
    Provocation("erbil", dt.date(2023, 12, 25), "kh", "erbil", "uav", injured=3, killed=0,
                source="seed 002: drone attack on Erbil Air Base by Kataib Hezbollah and allies, three US "
                       "service members injured (event erbil_attack_us_injured)"),
    Provocation("jordan", dt.date(2024, 1, 28), "kh", "tower_22", "uav", injured=30, killed=3,
                source="seed 000: the drone attack in Jordan that the 2 Feb strikes answered; the seed gives "
                       "neither its date nor its toll.  Date: five days before 2 Feb, the campaign delay the "
                       "baseline already assumes; toll: the model's own mean for a fatal drone attack "
                       "(1 + killed_extra_mean = 3 killed, injured_in_fatal_mean = 30 injured)"),
)
"""The two provocations of the seeds, as scripted in the calibration design."""


# --------------------------------------------------------------------------- design


@dataclass
class Design:
    """How the statistics of the targets are computed from a run.

    Args:
        targets: the seed targets (with values).
        start_date: first day of the runs.
        mode: ``scripted`` (provocations forced, see :data:`SEED_PROVOCATIONS`) or
            ``natural`` (anchored on the run's own first casualty / fatality).
        provocations: the scripted provocations (``scripted`` mode).
        slack: see :data:`UPPER_SLACK`.
        days: horizon; defaults to the last date any target refers to.
        strike_delay: days from a proportionate order to its strike (the scenario's
            ``us.doctrine.proportionate.delay_days``; :meth:`for_scenario` fills it in).
    """

    targets: Sequence[CalibrationTarget]
    start_date: dt.date
    mode: Literal["scripted", "natural"] = "scripted"
    provocations: Sequence[Provocation] = SEED_PROVOCATIONS
    slack: float = UPPER_SLACK
    days: int | None = None
    strike_delay: int = 1
    bands: list[Band] = field(init=False)

    def __post_init__(self) -> None:
        self.bands = make_bands(self.targets, self.slack)
        unknown = sorted({b.statistic for b in self.bands} - set(SUPPORTED_STATISTICS))
        if unknown:
            raise ValueError(f"no statistic is defined for {', '.join(unknown)}; "
                             f"supported: {', '.join(SUPPORTED_STATISTICS)}")
        last = max(self._day(t.date or t.end) for t in self.targets if (t.date or t.end) is not None)
        if self.days is None:
            self.days = last + 1
        if self.mode == "scripted":
            for p in self.provocations:
                if not 0 <= self._day(p.date) < self.days:
                    raise ValueError(f"provocation {p.name} on {p.date} is outside the horizon")

    @classmethod
    def for_scenario(cls, targets: Sequence[CalibrationTarget], scenario: Scenario, **kw) -> "Design":
        """A design for runs of ``scenario`` (start date and strike delay taken from it)."""
        return cls(targets, scenario.start_date, strike_delay=scenario.us.doctrine.proportionate.delay_days, **kw)

    # ------------------------------------------------------------------ helpers

    def _day(self, date: dt.date) -> int:
        return (date - self.start_date).days

    @property
    def ids(self) -> list[str]:
        return [b.id for b in self.bands]

    def _provocation(self, fatal: bool) -> Provocation:
        for p in self.provocations:
            if (p.killed > 0) == fatal:
                return p
        raise ValueError(f"the scripted design needs a {'fatal' if fatal else 'casualty-producing'} provocation")

    def scenario(self, base: Scenario) -> Scenario:
        """The calibration variant of ``base``: its horizon, plus the scripted provocations."""
        update: dict = {"days": int(self.days)}
        if base.start_date != self.start_date:
            raise ValueError(f"scenario starts {base.start_date}, the design {self.start_date}")
        if self.mode == "scripted":
            update["shocks"] = list(base.shocks) + [p.shock() for p in self.provocations]
        s = base.model_copy(update=update)
        return Scenario.model_validate(s.model_dump())

    # ------------------------------------------------------------------ statistics

    def statistics(self, a: dict[str, np.ndarray]) -> np.ndarray:
        """Statistics (R, K) in band order from per-day arrays (R, D) (see :func:`.arrays.day_arrays`)."""
        R, D = a["attacks"].shape
        out = np.full((R, len(self.bands)), np.nan)
        for k, band in enumerate(self.bands):
            t = band.target
            if t.statistic == "cumulative_attacks":
                lo = self._day(t.start) if t.start else 0
                hi = min(self._day(t.end or t.date), D - 1)
                out[:, k] = a["attacks"][:, max(lo, 0):hi + 1].sum(axis=1)
            elif t.statistic in ("facilities_first_proportionate_strike", "response_lag_days"):
                anchor = self._anchor(a, fatal=False, target=t)
                lag, fac = _first_order(a["prop_order_facilities"], anchor, RESPONSE_WINDOW)
                out[:, k] = fac if t.statistic.startswith("facilities") else lag + self.strike_delay
            elif t.statistic in ("campaign_first_wave_targets", "campaign_first_wave_munitions"):
                anchor = self._anchor(a, fatal=True, target=t)
                width = self._campaign_window(t)
                tg, mu = _largest_strike(a["targets_struck"], a["munitions"], anchor, width)
                out[:, k] = tg if t.statistic.endswith("targets") else mu
            elif t.statistic == "direct_exchange_by_date":
                hi = min(self._day(t.end or t.date), D - 1)
                out[:, k] = a["iran_direct_attacks"][:, :hi + 1].sum(axis=1)
        return out

    def answered(self, a: dict[str, np.ndarray]) -> np.ndarray:
        """(R, K) True where the provocation a strike statistic refers to was answered.

        A casualty-producing provocation is answered when a proportionate strike
        is ordered within :data:`RESPONSE_WINDOW` days; a fatal one when a campaign
        is ordered before the figure's date.  Counts and the no-exchange target
        are always "answered".  Whether an answer comes at all turns on approval
        and cooldown, not on the sizes being estimated, so the point estimate's
        moments of the strike sizes are taken over the answered runs
        (:func:`sim.calibration.pipeline.smm_moments`).
        """
        R, D = a["attacks"].shape
        out = np.ones((R, len(self.bands)), dtype=bool)
        for k, band in enumerate(self.bands):
            t = band.target
            if t.statistic in ("facilities_first_proportionate_strike", "response_lag_days"):
                anchor = self._anchor(a, fatal=False, target=t)
                _, fac = _first_order(a["prop_order_facilities"], anchor, RESPONSE_WINDOW)
                out[:, k] = fac > 0
            elif t.statistic in ("campaign_first_wave_targets", "campaign_first_wave_munitions"):
                anchor = self._anchor(a, fatal=True, target=t)
                width = self._campaign_window(t)
                _, fac = _first_order(a["campaign_order_targets"], anchor, width - 1)
                out[:, k] = fac > 0
        return out

    def _anchor(self, a: dict[str, np.ndarray], fatal: bool, target: CalibrationTarget) -> np.ndarray:
        R, D = a["attacks"].shape
        if self.mode == "scripted":
            return np.full(R, self._day(self._provocation(fatal).date))
        col = a["us_killed"] if fatal else a["us_injured"]
        hit = col > 0
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        return first

    def _campaign_window(self, t: CalibrationTarget) -> int:
        """Days from the fatal provocation to the figure's date, plus one."""
        if self.mode == "scripted":
            p = self._provocation(True)
            return max(self._day(t.date or t.end) - self._day(p.date) + 1, 1)
        # natural: the same width as the scripted design would use
        p = next((q for q in self.provocations if q.killed > 0), None)
        if p is None:
            return RESPONSE_WINDOW
        return max(((t.date or t.end) - p.date).days + 1, 1)

    def distance(self, stats: np.ndarray) -> np.ndarray:
        """ABC distance (R,): the largest scaled hinge distance over the targets."""
        return distances(self.bands, stats).max(axis=1)


def distances(bands: Sequence[Band], stats: np.ndarray) -> np.ndarray:
    """Per-target scaled hinge distances (R, K)."""
    return np.column_stack([b.distance(stats[:, k]) for k, b in enumerate(bands)])


def _first_order(orders: np.ndarray, anchor: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Days from the anchor to the first proportionate order in ``[anchor, anchor + window]``, and its size.

    No order in the window: ``window + 1`` days and 0 facilities.  No anchor (-1): NaN.
    """
    R, D = orders.shape
    lag = np.full(R, float(window + 1))
    fac = np.zeros(R)
    cols = anchor[:, None] + np.arange(window + 1)[None, :]
    valid = (anchor[:, None] >= 0) & (cols < D)
    vals = np.where(valid, orders[np.arange(R)[:, None], np.clip(cols, 0, D - 1)], 0)
    has = (vals > 0).any(axis=1)
    first = (vals > 0).argmax(axis=1)
    lag[has] = first[has]
    fac[has] = vals[has, first[has]]
    none = anchor < 0
    lag[none] = np.nan
    fac[none] = np.nan
    return lag, fac


def _largest_strike(targets: np.ndarray, munitions: np.ndarray, anchor: np.ndarray, width: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Aimpoints and munitions of the largest strike day in ``[anchor, anchor + width)``."""
    R, D = targets.shape
    cols = anchor[:, None] + np.arange(width)[None, :]
    valid = (anchor[:, None] >= 0) & (cols < D)
    rows = np.arange(R)[:, None]
    cc = np.clip(cols, 0, D - 1)
    tv = np.where(valid, targets[rows, cc], -1)
    best = tv.argmax(axis=1)
    tg = np.maximum(tv[np.arange(R), best], 0).astype(float)
    mu = np.where(tv[np.arange(R), best] > 0, munitions[np.arange(R), cc[np.arange(R), best]], 0).astype(float)
    none = anchor < 0
    tg[none] = np.nan
    mu[none] = np.nan
    return tg, mu


# --------------------------------------------------------------------------- fit table


def fit_table(bands: Sequence[Band], stats: np.ndarray, level: float = 0.9):
    """Per target: simulated median and central ``level`` interval, share satisfying, verdict.

    A target is *reproduced* when -- for an exact figure -- the figure lies in
    the interval, or -- for a one-sided figure -- the median meets the seed's
    inequality and the interval reaches into the band.  Replicates where the
    statistic is undefined (NaN, ``natural`` design) are left out and counted.
    """
    import pandas as pd

    a = (1.0 - level) / 2.0
    rows = []
    for k, b in enumerate(bands):
        x = stats[:, k]
        x = x[~np.isnan(x)]
        t = b.target
        if x.size == 0:
            rows.append({"target": b.id, "statistic": b.statistic, "figure": _figure(t), "band": b.describe(),
                         "n": 0, "median": np.nan, "q_lo": np.nan, "q_hi": np.nan, "p_satisfied": np.nan,
                         "p_in_band": np.nan, "reproduced": False})
            continue
        med = float(np.median(x))
        lo, hi = (float(v) for v in np.quantile(x, [a, 1.0 - a]))
        if t.bound == "exact":
            ok = lo <= t.value <= hi
        elif t.bound == "at_most":
            ok = bool(b.satisfied(med)) and lo <= t.value
        else:
            ok = bool(b.satisfied(med)) and hi >= b.low and lo <= b.high
        rows.append({"target": b.id, "statistic": b.statistic, "figure": _figure(t), "band": b.describe(),
                     "n": int(x.size), "median": med, "q_lo": lo, "q_hi": hi,
                     "p_satisfied": float(b.satisfied(x).mean()), "p_in_band": float(b.inside(x).mean()),
                     "reproduced": bool(ok)})
    return pd.DataFrame(rows)


def _figure(t: CalibrationTarget) -> str:
    sign = {"more_than": ">", "at_least": ">=", "at_most": "<=", "exact": "=", "none": ""}[t.bound]
    return f"{sign} {t.value:g}" if t.value is not None else "-"
