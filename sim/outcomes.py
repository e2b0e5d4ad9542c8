"""The outcome registry: every result the model reports at the horizon, defined once.

An outcome, in the EMA Workbench's sense, is one value per replicate that a
run produces: here a reduction of the per-day table (:mod:`sim.columns`) over
the run's days.  Each :class:`Outcome` carries its name, label, unit, dtype, how
it is reduced (:class:`Total`, :class:`Last`, :class:`FirstDay`,
:class:`AtLeast`), how "it never happened" is recorded, and a description.

Everything that reports outcomes reads :data:`OUTCOMES`: the run summary
(``summary.json``) and ``escalation compare`` (:mod:`sim.summary`), sweeps and
their analysis (:mod:`sim.sweep`), the ensemble engine's table-free outcomes
(:func:`from_accumulated`), the web page and the documentation (README's
outcome list, checked by ``tests/test_docs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.columns import OUTCOME_TOTALS
from sim.rules import RUNG_NAMES

__all__ = ["AfterCampaign", "AtLeast", "FIRST_FIGURE_DAYS", "FirstDay", "LONGEST", "Last", "LongestRun", "NAMES",
           "NoneWithin", "OUTCOMES", "Outcome", "QUANTILES", "REACHED", "Reduction", "Total", "from_accumulated",
           "horizon_table", "longest_run", "outcome", "percentiles"]

QUANTILES = (5, 25, 50, 75, 95)
"""Percentiles (over replicates) reported everywhere: summary.json, compare, sweep points, fan charts."""


# --------------------------------------------------------------------------- reductions


@dataclass(frozen=True)
class Reduction:
    """How one per-replicate value is taken from the per-day table (or from an engine's running totals)."""

    column: str

    def of_table(self, ts: pd.DataFrame, by_rep: Any) -> pd.Series:  # pragma: no cover - abstract
        raise NotImplementedError

    def of_accumulated(self, totals: Mapping[str, np.ndarray], last: Mapping[str, np.ndarray],
                       first_day: Mapping[str, np.ndarray]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Total(Reduction):
    """Sum over the run's days of a daily count."""

    def of_table(self, ts, by_rep):
        return by_rep[self.column].sum()

    def of_accumulated(self, totals, last, first_day):
        return totals[self.column]

    @property
    def text(self) -> str:
        return f"sum of `{self.column}` over the days"


@dataclass(frozen=True)
class Last(Reduction):
    """The value on the run's last day."""

    def of_table(self, ts, by_rep):
        return by_rep[self.column].last()

    def of_accumulated(self, totals, last, first_day):
        return last[self.column]

    @property
    def text(self) -> str:
        return f"`{self.column}` on the last day"


@dataclass(frozen=True)
class FirstDay(Reduction):
    """The first day (0 = start date) on which a daily count is positive; -1 in running totals if never."""

    def of_table(self, ts, by_rep):
        first = ts.loc[ts[self.column] > 0].groupby("replicate")["day"].min()
        return first.reindex(by_rep.size().index).fillna(-1)

    def of_accumulated(self, totals, last, first_day):
        return first_day[self.column]

    @property
    def text(self) -> str:
        return f"first day with `{self.column}` > 0"


@dataclass(frozen=True)
class NoneWithin(Reduction):
    """True if a daily count stays 0 on days 0..``days`` (the first day it is positive is later, or never)."""

    days: int = 0

    def _of_first(self, first: Any) -> np.ndarray:
        first = np.asarray(first, dtype=float)
        return (first < 0) | (first > self.days)

    def of_table(self, ts, by_rep):
        return pd.Series(self._of_first(FirstDay(self.column).of_table(ts, by_rep).to_numpy()),
                         index=by_rep.size().index)

    def of_accumulated(self, totals, last, first_day):
        return self._of_first(first_day[self.column])

    @property
    def text(self) -> str:
        return f"no day 0-{self.days} with `{self.column}` > 0"


@dataclass(frozen=True)
class AfterCampaign(Reduction):
    """What follows the first major campaign (:mod:`sim.aftermath`); ``column`` is the outcome's name."""

    def of_table(self, ts, by_rep):
        from sim.aftermath import from_table

        return pd.Series(from_table(ts)[self.column], index=by_rep.size().index)

    def of_accumulated(self, totals, last, first_day):
        return last[self.column]

    @property
    def text(self) -> str:
        return {"days_to_next_attack": "days from the first major campaign to the next attack",
                "pause_after_campaign": "30 attack-free days within 60 after the first major campaign",
                "attacks_after_campaign": "attacks in the 75 days after the first major campaign"}[self.column]


@dataclass(frozen=True)
class AtLeast(Reduction):
    """Whether the value on the last day is at least ``threshold``."""

    threshold: int = 1

    def of_table(self, ts, by_rep):
        return by_rep[self.column].last() >= self.threshold

    def of_accumulated(self, totals, last, first_day):
        return np.asarray(last[self.column]) >= self.threshold

    @property
    def text(self) -> str:
        return f"`{self.column}` on the last day >= {self.threshold}"


def longest_run(on: np.ndarray) -> np.ndarray:
    """Longest run of True along the last axis of a (replicates, days) array, per replicate."""
    on = np.asarray(on, dtype=bool)
    run = np.zeros(on.shape[0], dtype=np.int64)
    best = np.zeros(on.shape[0], dtype=np.int64)
    for d in range(on.shape[1]):
        run = np.where(on[:, d], run + 1, 0)
        np.maximum(best, run, out=best)
    return best


LONGEST = "longest_"
"""Prefix of the running values :class:`LongestRun` reads (``last["longest_<column>"]``)."""


@dataclass(frozen=True)
class LongestRun(Reduction):
    """The longest run of consecutive days on which a daily value is positive (0 if never).

    In running values an engine keeps it as ``last["longest_<column>"]``.
    """

    def of_table(self, ts, by_rep):
        on = ts[self.column].to_numpy() > 0
        rep = ts["replicate"].to_numpy()
        # a run starts where the value turns positive or a new replicate begins; cumulative count inside runs
        start = np.r_[True, (rep[1:] != rep[:-1])]
        run_id = np.cumsum(start | np.r_[True, ~on[:-1]]) * on
        lengths = pd.Series(on.astype(np.int64)).groupby(run_id).transform("sum").to_numpy() * on
        return pd.Series(lengths).groupby(rep).max().reindex(by_rep.size().index).fillna(0)

    def of_accumulated(self, totals, last, first_day):
        return last[LONGEST + self.column]

    @property
    def text(self) -> str:
        return f"longest run of days with `{self.column}` > 0"


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Outcome:
    """One outcome: a value per replicate at the horizon.

    ``dtype`` is the pandas dtype of its column: ``int64``, ``float64``, ``bool``
    or ``Int64`` (whole number that may be missing).  ``never`` says how a
    replicate in which the event never happens is recorded (None: the outcome
    always has a value).
    """

    name: str
    label: str
    unit: str
    dtype: str
    reduce: Reduction
    never: str | None
    description: str

    @property
    def kind(self) -> str:
        """``value`` (numeric, always present), ``event`` (a day, may never happen) or ``probability`` (bool)."""
        if self.dtype == "bool":
            return "probability"
        return "event" if self.never is not None else "value"


_STRIKE_COUNTS = {
    "us_injured": ("US personnel injured", "people", "US personnel injured by militia and Iranian attacks"),
    "us_killed": ("US personnel killed", "people", "US personnel killed by militia and Iranian attacks"),
    "us_strikes": ("Facilities struck by the US", "facility strikes",
                   "Facilities struck by US strikes, counted once per strike"),
    "targets_struck": ("Aimpoints (targets) struck by the US", "targets", "Aimpoints hit by US strikes"),
    "munitions": ("Precision munitions used", "munitions", "Precision munitions expended by US strikes"),
    "militants_killed": ("Militants killed by US strikes", "people", "Militia members killed by US strikes"),
    "irgc_killed": ("IRGC personnel killed by US strikes", "people", "IRGC personnel killed by US strikes"),
    "civilian_harm": ("Civilian-harm events from US strikes", "events", "Strikes that harmed civilians"),
    "targets_in_iran": ("Aimpoints struck inside Iran", "targets", "Aimpoints hit by US strikes inside Iran"),
    "iran_direct_attacks": ("Direct Iranian attacks on US forces", "attacks",
                            "Attacks on US forces launched by Iran itself"),
}
assert tuple(_STRIKE_COUNTS) == OUTCOME_TOTALS

REACHED = tuple(f"reached_{name}" for name in RUNG_NAMES[1:])
"""One boolean outcome per rung above calm: the run's highest rung was at least that rung."""

NEVER_MISSING = "missing (empty in CSV, null in Parquet)"

FIRST_FIGURE_DAYS = 70
"""Days from the start date (17 Oct 2023) to the date of the first seed figure (26 Dec 2023: more than
100 attacks since 17 Oct, none of them fatal; the first US deaths came on 28 Jan 2024).  Checked against
``seeds/events.yaml`` by ``tests/test_outcomes.py``."""

OUTCOMES: tuple[Outcome, ...] = (
    Outcome("cumulative_attacks", "Militia attacks on US forces", "attacks", "int64", Last("cumulative_attacks"),
            None, "Militia attacks on US forces over the run"),
    *(Outcome(name, label, unit, "int64", Total(name), None, text)
      for name, (label, unit, text) in _STRIKE_COUNTS.items()),
    Outcome("militia_capacity", "Militia capacity on the last day, mean of groups", "share of full", "float64",
            Last("militia_capacity"), None, "Launch capacity of the militia groups on the last day (mean of groups)"),
    Outcome("max_rung", "Highest ladder rung reached", "0-9", "int64", Last("max_rung"), None,
            "Highest rung of the escalation ladder (0 calm .. 9 regional war)"),
    Outcome("first_fatal_day", "First US death", "day of the run", "Int64", FirstDay("us_killed"), NEVER_MISSING,
            "Day of the run (0 = start date) of the first US death"),
    Outcome("no_death_by_first_figure", "No US death before the first seed figure", "yes/no", "bool",
            NoneWithin("us_killed", FIRST_FIGURE_DAYS), None,
            f"No US personnel killed on days 0-{FIRST_FIGURE_DAYS} (17 Oct-26 Dec 2023 from the baseline's start: "
            "the record had 100+ attacks and no death)"),
    Outcome("days_to_next_attack", "Days from the first major campaign to the next attack", "days", "float64",
            AfterCampaign("days_to_next_attack"), None,
            "Days from the first major campaign (a day of 30+ aimpoints struck) to the next militia attack; "
            "NaN without a major campaign or without a later attack"),
    Outcome("pause_after_campaign", "A 30-day pause within 60 days of the first major campaign", "yes/no", "bool",
            AfterCampaign("pause_after_campaign"), None,
            "30 consecutive days without militia attacks within the 60 days after the first major campaign "
            "(false without a major campaign)"),
    Outcome("attacks_after_campaign", "Attacks in the 75 days after the first major campaign", "attacks", "float64",
            AfterCampaign("attacks_after_campaign"), None,
            "Militia attacks on the 75 days after the first major campaign (fewer days if the run ends first); "
            "NaN without a major campaign"),
    Outcome("standdowns", "Stand-downs begun (groups)", "stand-downs", "int64", Total("standdowns"), None,
            "Group stand-downs begun: Iran's orders obeyed and the groups' own leaderships' orders"),
    Outcome("standdown_days", "Group-days stood down", "group-days", "int64", Total("groups_stood_down"), None,
            "Days each group spent standing down, summed over the groups"),
    Outcome("longest_standdown", "Longest spell with a group standing down", "days", "int64",
            LongestRun("groups_stood_down"), None,
            "Longest run of consecutive days on which at least one group stood down (cut at the horizon)"),
    *(Outcome(name, f"Reached rung {k} ({RUNG_NAMES[k].replace('_', ' ')})", "yes/no", "bool",
              AtLeast("max_rung", k), None, f"The ladder reached rung {k} ({RUNG_NAMES[k]}) or higher")
      for k, name in enumerate(REACHED, start=1)),
)
"""Every outcome, in display order."""

NAMES = tuple(o.name for o in OUTCOMES)
_BY_NAME = {o.name: o for o in OUTCOMES}


def outcome(name: str) -> Outcome:
    """The outcome called ``name`` (``KeyError`` naming the known outcomes if there is none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown outcome {name!r}; known: {', '.join(NAMES)}") from None


def _typed(cols: dict[str, Any], replicate: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"replicate": np.asarray(replicate, dtype=np.int64)})
    for o in OUTCOMES:
        values = np.asarray(cols[o.name])
        if o.dtype == "Int64":  # the reductions give -1 for "never": stored as missing
            frame[o.name] = pd.array(values.astype(np.int64), dtype="Int64", copy=True)
            frame.loc[values < 0, o.name] = pd.NA
        else:
            frame[o.name] = values.astype(o.dtype)
    return frame


def horizon_table(ts: pd.DataFrame) -> pd.DataFrame:
    """One row per replicate (sorted), a ``replicate`` column and one column per outcome, from a per-day table."""
    by_rep = ts.groupby("replicate", sort=True)
    cols = {o.name: o.reduce.of_table(ts, by_rep).to_numpy() for o in OUTCOMES}
    return _typed(cols, by_rep.size().index.to_numpy())


def from_accumulated(replicate: np.ndarray, totals: Mapping[str, np.ndarray], last: Mapping[str, np.ndarray],
                     first_day: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The :func:`horizon_table` of a run from an engine's running values, without a per-day table.

    ``totals``: sums over the days of the daily counts; ``last``: the state
    columns on the last day; ``first_day``: first day each count was positive
    (-1 if never).  Each maps column names to one value per replicate.
    """
    cols = {o.name: o.reduce.of_accumulated(totals, last, first_day) for o in OUTCOMES}
    return _typed(cols, replicate)


def percentiles(values: Any) -> dict[str, float | None]:
    """Mean and the :data:`QUANTILES` of a set of values (None for all when empty)."""
    arr = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    if arr.size == 0:
        return {"mean": None, **{f"p{q}": None for q in QUANTILES}}
    qs = np.percentile(arr, QUANTILES)
    return {"mean": float(arr.mean()), **{f"p{q}": float(v) for q, v in zip(QUANTILES, qs)}}
