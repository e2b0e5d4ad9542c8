"""Rules of stand-down decisions (issue 11 item 1): pure functions over numpy arrays.

A *stand-down* is an announced order to stop attacking US forces.  Iran (the
sponsor) may order every group to stand down; a group's leadership may order
its own.  The rules, in the conventions of :mod:`sim.rules` (inputs broadcast,
random draws from uniforms the caller passes):

* :func:`iran_alarm` -- Iran's alarm ``A_I = war_risk + w_H * host``: the risk of
  a direct war (which US deaths and US strikes raise, ``rules.war_risk_added``)
  plus host-government pressure;
* :func:`leader_alarm` -- a leadership's alarm ``A_g = heat_g + (1 - rt_g) * w_H * host``,
  ``heat_g`` the leaky sum of :func:`heat_added` (its own fatal attacks, which
  call for a US campaign against it, weighted by its aversion to risk);
* :func:`crossed` -- an order is taken on the day an alarm crosses its threshold
  upwards (a discrete decision, not a dial);
* :func:`obey_probability` -- a group obeys Iran's order with chance
  ``alignment * exp(-w_O * (revenge + grievance))``; one that does not defects;
* :func:`ends` -- a stand-down ends by a daily hazard ``1 / mean_days`` (lengths
  geometric with mean ``mean_days``) ...
* :func:`broken` -- ... or at once when a new grievance adds at least
  ``break_revenge`` of revenge in a day (a leader or militants killed);
* :func:`standdown_factor` -- a standing-down group keeps ``residual`` of its
  attack intensity.

Sources: Kataib Hezbollah's announced suspension of attacks on US forces on
30 Jan 2024 (after the Tower 22 attack, citing the Iraqi government), Harakat
al-Nujaba's refusal to follow it, the pause of attacks into mid-2024 and the
Iraqi factions' conditional truce of October 2020 (``docs/ODD.md``, "Stand-downs").
"""

from __future__ import annotations

import numpy as np


def iran_alarm(war_risk, host, host_weight):
    """Iran's alarm: its war-risk index plus ``host_weight`` times host-government pressure."""
    return np.asarray(war_risk) + host_weight * np.asarray(host)


def heat_added(fatal_attacks, risk_tolerance, per_fatal_attack):
    """A leadership's alarm added by its own fatal attacks today, scaled by its aversion to risk."""
    return per_fatal_attack * (1.0 - risk_tolerance) * np.asarray(fatal_attacks)


def leader_alarm(heat, risk_tolerance, host, host_weight):
    """A group leadership's alarm: its heat plus its share of host-government pressure."""
    return heat + (1.0 - risk_tolerance) * host_weight * np.asarray(host)


def crossed(before, now, threshold):
    """True where an alarm crossed its threshold upwards since the last decision."""
    return (np.asarray(before) < threshold) & (np.asarray(now) >= threshold)


def obey_probability(alignment, revenge, grievance, grievance_weight):
    """Chance a group obeys Iran's order: alignment, discounted by its revenge and grievance."""
    return alignment * np.exp(-grievance_weight * (np.asarray(revenge) + np.asarray(grievance)))


def ends(uniforms, mean_days):
    """True where a stand-down ends today by its hazard ``1 / mean_days``."""
    return np.asarray(uniforms) < 1.0 / mean_days


def broken(revenge_added_today, break_revenge):
    """True where today's new revenge is enough to break a stand-down (``break_revenge`` > 0)."""
    return (np.asarray(revenge_added_today) >= break_revenge) & (np.asarray(revenge_added_today) > 0)


def standdown_factor(standing_down, residual):
    """Multiplier on a group's attack intensity: ``residual`` while standing down, else 1."""
    return np.where(standing_down, residual, 1.0)


__all__ = ["broken", "crossed", "ends", "heat_added", "iran_alarm", "leader_alarm", "obey_probability",
           "standdown_factor"]
