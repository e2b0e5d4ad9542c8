"""What follows the first major US campaign of a run (issue 11 item 8): one tracker for both engines.

A **major campaign** day is a day on which US strikes hit at least :data:`MAJOR_CAMPAIGN_TARGETS`
aimpoints (seed 000: 85+ targets in one night; a proportionate strike of seed 002 hit three
facilities, a handful of aimpoints).  From the first such day ``F`` of a run,
:class:`CampaignAftermath` follows the militia attacks of the days after it, day by day (attacks of
day ``F`` itself come before the day's strikes, so they do not count):

* ``days_to_next_attack`` -- days from ``F`` to the first later day with an attack;
* ``pause_after_campaign`` -- some 30 consecutive days (:data:`PAUSE_DAYS`) without attacks lie
  within the 60 days after ``F`` (:data:`PAUSE_WINDOW`);
* ``attacks_after_campaign`` -- attacks on days ``F+1 .. F+75`` (:data:`AFTER_DAYS`; fewer days if
  the horizon comes first).

Runs without a major campaign have NaN for the two counts and False for the pause.  The ensemble
engine updates a tracker as it steps (:meth:`CampaignAftermath.update`); a per-day table of either
engine is replayed through the same tracker (:func:`from_table`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AFTER_DAYS", "CampaignAftermath", "MAJOR_CAMPAIGN_TARGETS", "NAMES", "PAUSE_DAYS", "PAUSE_WINDOW",
           "from_arrays", "from_table"]

MAJOR_CAMPAIGN_TARGETS = 30
"""Aimpoints struck in one day that make a major campaign (between a proportionate strike and seed 000's 85)."""
PAUSE_DAYS = 30
PAUSE_WINDOW = 60
AFTER_DAYS = 75
NAMES = ("days_to_next_attack", "pause_after_campaign", "attacks_after_campaign")


class CampaignAftermath:
    """Running values, one per replicate (see the module doc)."""

    def __init__(self, replicates: int) -> None:
        R = int(replicates)
        self.first = np.full(R, -1, dtype=np.int64)
        self.next_attack = np.full(R, -1, dtype=np.int64)
        self.attacks_after = np.zeros(R, dtype=np.int64)
        self.run = np.zeros(R, dtype=np.int64)
        self.longest = np.zeros(R, dtype=np.int64)

    def update(self, day: int, attacks: np.ndarray, targets: np.ndarray) -> None:
        """Day ``day``'s militia attacks and aimpoints struck, (R,) each."""
        f = self.first
        if (f >= 0).any():
            since = day - f
            after = (f >= 0) & (since > 0)
            self.attacks_after += np.where(after & (since <= AFTER_DAYS), attacks, 0)
            hit = after & (self.next_attack < 0) & (attacks > 0)
            self.next_attack[hit] = since[hit]
            inside = after & (since <= PAUSE_WINDOW)
            self.run = np.where(inside, np.where(attacks == 0, self.run + 1, 0), self.run)
            np.maximum(self.longest, self.run, out=self.longest)
        new = (f < 0) & (np.asarray(targets) >= MAJOR_CAMPAIGN_TARGETS)
        f[new] = day

    def values(self) -> dict[str, np.ndarray]:
        """The three outcomes, (R,) each (NaN / False without a major campaign)."""
        had = self.first >= 0
        return {
            "days_to_next_attack": np.where(had & (self.next_attack >= 0), self.next_attack, np.nan),
            "pause_after_campaign": had & (self.longest >= PAUSE_DAYS),
            "attacks_after_campaign": np.where(had, self.attacks_after, np.nan),
        }


def from_arrays(attacks: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """The outcomes from (replicates x days) arrays of daily attacks and aimpoints struck, days 0..D-1."""
    tracker = CampaignAftermath(attacks.shape[0])
    for day in range(attacks.shape[1]):
        tracker.update(day, attacks[:, day], targets[:, day])
    return tracker.values()


def from_table(ts: pd.DataFrame) -> dict[str, np.ndarray]:
    """The outcomes of a per-day table (replicates sorted), replayed through :class:`CampaignAftermath`."""
    attacks = ts.pivot(index="replicate", columns="day", values="attacks").sort_index()
    targets = ts.pivot(index="replicate", columns="day", values="targets_struck").sort_index()
    a, t = attacks.to_numpy(dtype=np.int64), targets.to_numpy(dtype=np.int64)
    tracker = CampaignAftermath(a.shape[0])
    for j, day in enumerate(attacks.columns):
        tracker.update(int(day), a[:, j], t[:, j])
    return tracker.values()
