"""What a sweep records for each run: outcomes at the horizon, and optional time series.

The outcomes are those of the registry (:data:`sim.outcomes.OUTCOMES`), with
the registry's names and dtypes; a spec may write ``reached`` for every
``reached_<rung>`` outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.outcomes import NAMES, OUTCOMES, REACHED

__all__ = ["OUTCOME_NAMES", "OUTCOME_DTYPES", "REACHED", "DEFAULT_OUTCOMES", "expand_outcomes", "standardize",
           "sample_days"]

OUTCOME_NAMES = NAMES
OUTCOME_DTYPES = {o.name: o.dtype for o in OUTCOMES}
DEFAULT_OUTCOMES = ("cumulative_attacks", "us_injured", "us_killed", "us_strikes", "targets_struck", "max_rung",
                    "first_fatal_day", "reached")


def expand_outcomes(names: list[str] | tuple[str, ...]) -> list[str]:
    """Outcome names as written in a spec (``reached`` = every ``reached_*``), expanded, without repeats."""
    out: list[str] = []
    for n in names:
        for m in (REACHED if n == "reached" else (n,)):
            if m not in out:
                out.append(m)
    return out


def standardize(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The columns ``names`` of a registry horizon table, with the registry's dtypes."""
    return frame[names].astype({n: OUTCOME_DTYPES[n] for n in names}).reset_index(drop=True)


def sample_days(days: int, every: int) -> np.ndarray:
    """Days kept in a time series: 0, every, 2*every, ... and the last day."""
    keep = np.arange(0, days, every)
    if keep[-1] != days - 1:
        keep = np.append(keep, days - 1)
    return keep
