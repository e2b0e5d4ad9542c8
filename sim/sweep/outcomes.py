"""What a sweep records for each run: outcomes at the horizon, and optional time series.

The outcomes are those of the ensemble engine's helpers
(:func:`sim.ensemble.outcomes_at_horizon` for that engine,
:func:`sim.ensemble.outcomes_from_timeseries` for a per-day table of either
engine), renamed for readability: ``attacks`` is ``total_attacks``,
``reached_rung_k`` is ``reached_<rung name>``, and a ``first_fatal_day`` of -1
(no fatal attack) is stored as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.columns import OUTCOME_TOTALS
from sim.rules import RUNG_NAMES

__all__ = ["Outcome", "OUTCOMES", "OUTCOME_NAMES", "REACHED", "DEFAULT_OUTCOMES", "expand_outcomes",
           "standardize", "sample_days"]


@dataclass(frozen=True)
class Outcome:
    name: str
    dtype: str  # pandas dtype of the column: "int64", "Int64" (may be missing) or "bool"
    description: str


REACHED = tuple(f"reached_{name}" for name in RUNG_NAMES[1:])
"""One boolean outcome per rung above calm: the run's highest rung was at least that rung."""

_TOTAL_TEXT = {
    "us_injured": "US personnel injured", "us_killed": "US personnel killed",
    "us_strikes": "Facilities struck by the US (counted once per strike)", "targets_struck": "Aimpoints struck by the US",
    "munitions": "Precision munitions used", "militants_killed": "Militants killed by US strikes",
    "irgc_killed": "IRGC personnel killed by US strikes", "civilian_harm": "Civilian-harm events of US strikes",
    "targets_in_iran": "Aimpoints struck inside Iran", "iran_direct_attacks": "Direct Iranian attacks on US forces",
}

OUTCOMES: tuple[Outcome, ...] = (
    Outcome("total_attacks", "int64", "Militia attacks on US forces over the run"),
    *(Outcome(name, "int64", _TOTAL_TEXT.get(name, name.replace("_", " "))) for name in OUTCOME_TOTALS),
    Outcome("max_rung", "int64", "Highest rung of the escalation ladder (0 calm .. 9 regional war)"),
    Outcome("first_fatal_day", "Int64", "Day of the run (0 = start date) of the first US death; missing if none"),
    *(Outcome(name, "bool", f"The ladder reached rung {j} ({RUNG_NAMES[j]}) or higher")
      for j, name in enumerate(REACHED, start=1)),
)
OUTCOME_NAMES = tuple(o.name for o in OUTCOMES)
OUTCOME_DTYPES = {o.name: o.dtype for o in OUTCOMES}
DEFAULT_OUTCOMES = ("total_attacks", "us_injured", "us_killed", "us_strikes", "targets_struck", "max_rung",
                    "first_fatal_day", "reached")
_RENAME = {"attacks": "total_attacks", **{f"reached_rung_{j}": name for j, name in enumerate(REACHED, start=1)}}


def expand_outcomes(names: list[str] | tuple[str, ...]) -> list[str]:
    """Outcome names as written in a spec (``reached`` = every ``reached_*``), expanded, without repeats."""
    out: list[str] = []
    for n in names:
        for m in (REACHED if n == "reached" else (n,)):
            if m not in out:
                out.append(m)
    return out


def standardize(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The engine helpers' outcome table with this module's names and dtypes, columns ``names``."""
    out = frame.rename(columns=_RENAME)
    if "first_fatal_day" in names:
        out["first_fatal_day"] = out["first_fatal_day"].astype("Int64").mask(lambda s: s < 0)
    return out[names].astype({n: OUTCOME_DTYPES[n] for n in names}).reset_index(drop=True)


def sample_days(days: int, every: int) -> np.ndarray:
    """Days kept in a time series: 0, every, 2*every, ... and the last day."""
    keep = np.arange(0, days, every)
    if keep[-1] != days - 1:
        keep = np.append(keep, days - 1)
    return keep
