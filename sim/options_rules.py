"""Rules of the US doctrine options of issue 11 item 5: pure functions over numpy arrays.

* :func:`team_strikes` -- self-defence strikes on launch teams: each of a
  group's attacks today draws a strike on its team with chance ``probability``
  (Binomial(attacks, probability));
* :func:`leadership_orders` -- a group whose attacks hurt US personnel today is
  marked for a leadership strike with chance ``probability``;
* :func:`disruption_factor` -- a group whose commander was killed keeps
  ``1 - disruption`` of its attack intensity until ``disrupted_until``.

Sources (public record): US aircraft struck a launch team near Abu Ghraib
after the Ain al-Asad missile attack of 20 Nov 2023 (self-defence); US strikes
in Baghdad killed a Harakat al-Nujaba commander on 4 Jan 2024 and a Kataib
Hezbollah commander on 7 Feb 2024 (leadership strikes).  The effect of
decapitation on violence is disputed in the literature (Jordan 2009, Johnston
2012, Price 2012): hence a short disruption against a lasting revenge
(``docs/ODD.md``, "Doctrine options").
"""

from __future__ import annotations

import numpy as np


def team_strikes(attacks, probability, rng):
    """Self-defence strikes on launch teams: Binomial(attacks, probability) per (replicate, group)."""
    return rng.binomial(np.asarray(attacks), np.broadcast_to(probability, np.shape(attacks)))


def leadership_orders(hurt, probability, uniforms):
    """True where a group that hurt US personnel today is marked for a leadership strike."""
    return np.asarray(hurt) & (np.asarray(uniforms) < probability)


def disruption_factor(day, disrupted_until, disruption):
    """Multiplier on a group's intensity: ``1 - disruption`` while its command is disrupted, else 1."""
    return np.where(np.asarray(disrupted_until) > day, 1.0 - disruption, 1.0)


__all__ = ["disruption_factor", "leadership_orders", "team_strikes"]
