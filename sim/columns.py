"""Column names and index constants of the model's tables and arrays.

The data layer shared by both engines, the result writers, sweeps and
calibration: importing it never imports Mesa.  The per-day table has the
columns ``replicate, day, date``, :data:`TIMESERIES_COLUMNS` and one
``capacity_<group>`` per militia group; the event log has ``replicate``,
:data:`EVENT_COLUMNS` and ``date``.
"""

from __future__ import annotations

import numpy as np

from .schema import FACILITY_KINDS, WEAPONS

TIMESERIES_COLUMNS = (
    "attacks", "cumulative_attacks", "intercepted", "us_injured", "us_killed", "us_strikes", "targets_struck",
    "munitions", "militants_killed", "irgc_killed", "civilian_harm", "targets_in_iran", "iran_direct_attacks",
    "militia_capacity", "iran_restraint", "us_credibility", "iran_war_risk", "tension", "rung", "max_rung",
    "standdowns", "groups_stood_down",
)
"""Model-level columns of the per-day table (besides replicate, day, date and ``capacity_<group>``)."""

EVENT_TEXT = ("actor", "kind", "target", "outcome", "weapon", "previous")
"""Text columns of the event log: who, what, at whom, the result, the weapon used (attacks) and the
previous rung (``rung`` rows); empty where they do not apply."""
EVENT_COUNTS = ("launches", "intercepted", "injured", "killed", "facilities", "aimpoints", "munitions", "destroyed",
                "militants_killed", "irgc_killed", "civilian_harm", "in_iran", "due_day")
"""Whole-number columns of the event log (0 where they do not apply; ``due_day`` -1): launches and
interceptions of an attack, US injured and killed, facilities and aimpoints of a strike or an order,
munitions, aimpoints destroyed, militants and IRGC personnel killed, civilian-harm events, aimpoints
inside Iran, and the day an order falls due."""
EVENT_VALUES = ("value",)
"""Float columns of the event log: a shock's value (tension, outside pressure)."""
EVENT_COLUMNS = ("day", "actor", "kind", "target", "outcome", "weapon", *EVENT_COUNTS, "previous", "value")
"""Columns of the event log (besides replicate and date), in table order."""
EVENT_DEFAULTS = {**{k: "" for k in EVENT_TEXT}, **{k: 0 for k in EVENT_COUNTS}, "due_day": -1, "value": 0.0}
"""Value of an event column where it does not apply."""
EVENT_REPLICATE_DTYPE = np.dtype(np.int32)
"""In-memory dtype of the event log's ``replicate`` (the files' type, ``int32``)."""
EVENT_DAY_DTYPE = np.dtype(np.int16)
"""In-memory dtype of the event log's ``day`` (horizons are at most 3,650 days)."""
EVENT_COUNT_DTYPES = (np.dtype(np.int16), np.dtype(np.int32))
"""In-memory dtypes of the whole-number event columns: ``int16``, widened to ``int32`` (the files' type) for a
block whose values need it.  Text columns are categoricals (integer codes and the sorted distinct texts)."""

CAPACITY_PREFIX = "capacity_"
"""Prefix of the per-group capacity columns of the per-day table (``capacity_<group id>``)."""


def capacity_columns(group_ids) -> list[str]:
    """The per-group capacity columns of the per-day table, in group order."""
    return [f"{CAPACITY_PREFIX}{g}" for g in group_ids]


def timeseries_columns(group_ids) -> list[str]:
    """Every value column of the per-day table (besides replicate, day, date), in table order."""
    return [*TIMESERIES_COLUMNS, *capacity_columns(group_ids)]


# ---------------------------------------------------------------- per-day columns by kind
DAY_COUNTS = ("attacks", "intercepted", "us_injured", "us_killed", "us_strikes", "targets_struck", "munitions",
              "militants_killed", "irgc_killed", "civilian_harm", "targets_in_iran", "iran_direct_attacks",
              "militia_injured", "militia_killed", "team_strikes", "leaders_killed", "standdowns", "groups_stood_down")
"""Counts accumulated during a day; the first twelve are per-day table columns, in table order, and so are
:data:`STANDDOWN_COUNTS` (the last two); ``team_strikes`` and ``leaders_killed`` count the doctrine options of
:mod:`sim.dynamics.options`."""
STANDDOWN_COUNTS = ("standdowns", "groups_stood_down")
"""Day counts of stand-downs (:mod:`sim.dynamics.standdown`): group stand-downs begun that day, and groups
standing down at the end of the day."""
FLOAT_COLUMNS = ("militia_capacity", "iran_restraint", "us_credibility", "iran_war_risk")
"""State columns of the per-day table stored as floats (besides ``tension``)."""
INT_STATE_COLUMNS = ("cumulative_attacks", "rung", "max_rung")
"""Whole-number state columns of the per-day table."""
OUTCOME_TOTALS = ("us_injured", "us_killed", "us_strikes", "targets_struck", "munitions", "militants_killed",
                  "irgc_killed", "civilian_harm", "targets_in_iran", "iran_direct_attacks")
"""Day counts summed over the run into horizon totals (besides attacks)."""

assert set(TIMESERIES_COLUMNS) == {*DAY_COUNTS[:12], *INT_STATE_COLUMNS, *FLOAT_COLUMNS, "tension", *STANDDOWN_COUNTS}
assert DAY_COUNTS[-2:] == STANDDOWN_COUNTS

# ---------------------------------------------------------------- array indices
KIND = {k: i for i, k in enumerate(FACILITY_KINDS)}
"""Index of each facility kind on the kind axis of facility arrays."""
C2, INTEL, RM_STORE, UAV_STORE, LOGI = (KIND[k] for k in FACILITY_KINDS)
STORAGE_OF_WEAPON = np.array([UAV_STORE, RM_STORE, RM_STORE])
"""Which storage kind holds each weapon of ``WEAPONS`` (uav, rocket, missile)."""
MISSILE = WEAPONS.index("missile")

STRIKE_LABELS = ("proportionate", "campaign", "direct_response", "preemptive", "scripted")
"""Labels of US strikes, as in the event log (the ensemble engine keeps their index)."""
PROPORTIONATE, CAMPAIGN, DIRECT_RESPONSE, PREEMPTIVE, SCRIPTED = range(len(STRIKE_LABELS))

__all__ = ["C2", "CAMPAIGN", "CAPACITY_PREFIX", "DAY_COUNTS", "DIRECT_RESPONSE", "EVENT_COLUMNS", "EVENT_COUNTS",
           "EVENT_COUNT_DTYPES", "EVENT_DAY_DTYPE", "EVENT_DEFAULTS", "EVENT_REPLICATE_DTYPE", "EVENT_TEXT", "EVENT_VALUES", "FLOAT_COLUMNS",
           "INTEL", "INT_STATE_COLUMNS", "KIND", "LOGI", "MISSILE", "OUTCOME_TOTALS", "PREEMPTIVE", "PROPORTIONATE",
           "RM_STORE", "SCRIPTED", "STANDDOWN_COUNTS", "STORAGE_OF_WEAPON", "STRIKE_LABELS", "TIMESERIES_COLUMNS", "UAV_STORE",
           "capacity_columns", "timeseries_columns"]
