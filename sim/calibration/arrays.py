"""The per-day arrays the calibration statistics read, from a run's tables or from the engine.

:data:`DAY_ARRAYS` are day counts of the per-day table plus two order records
the table does not hold: ``prop_order_facilities`` -- facilities of the
proportionate strike ordered that day (0 if none) -- and
``campaign_order_targets`` -- first-wave aimpoints (at least 1) of a campaign
ordered that day (0 if none).  The ensemble engine records them directly
(``EnsembleEngine(record=DAY_ARRAYS)``); :func:`day_arrays` rebuilds them from
the per-day table and the typed ``order`` rows of the event log of either engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.ensemble import ORDER_COUNTS

__all__ = ["DAY_ARRAYS", "day_arrays"]

DAY_ARRAYS = ("attacks", "us_injured", "us_killed", "us_strikes", "targets_struck", "munitions",
              "iran_direct_attacks", *ORDER_COUNTS)
"""Per-day arrays of the calibration statistics (see the module doc)."""


def day_arrays(ts: pd.DataFrame, events: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """:data:`DAY_ARRAYS` as (R, D) arrays from a run's tables (either engine).

    The order records come from the event log's ``order`` rows (``facilities`` of a
    proportionate order, ``aimpoints`` of a campaign order); without ``events``
    they are left out.
    """
    ts = ts.sort_values(["replicate", "day"], kind="stable")
    reps = ts["replicate"].unique()
    R = reps.size
    D = len(ts) // max(R, 1)
    if R * D != len(ts):
        raise ValueError("timeseries is not rectangular (every replicate must have every day)")
    out = {c: ts[c].to_numpy().reshape(R, D) for c in DAY_ARRAYS if c in ts.columns}
    if events is not None:
        for name, target, column in (("prop_order_facilities", "proportionate", "facilities"),
                                     ("campaign_order_targets", "campaign", "aimpoints")):
            orders = np.zeros((R, D), dtype=np.int64)
            ev = events[(events["kind"] == "order") & (events["target"] == target)]
            if len(ev):
                row = np.searchsorted(reps, ev["replicate"].to_numpy())
                np.add.at(orders, (row, ev["day"].to_numpy()), np.maximum(ev[column].to_numpy(np.int64), 1))
            out[name] = orders
    return out
