"""One day of the model, written once, for R replicates at a time.

Both engines run this code.  The ensemble engine (:mod:`sim.ensemble`) steps a
:class:`State` of many replicates with :func:`run_day`; the Mesa model
(:mod:`sim.model`) keeps a :class:`State` of one replicate and its agents call
the same phase functions on their own slice (a militia group calls
:func:`militia_attacks` for its own index).  Every formula and decision the
phases apply is a function of :mod:`sim.rules`.

The day, in order (``docs/ODD.md``, "Process overview and scheduling"):

====  ==========================  ===================================================
 0    :func:`start_day`           drivers of the day, day counts reset
 1    :func:`apply_shocks`        scripted events (attacks, strikes, direct attacks)
 2    :func:`iran_step`           restraint, rebuilding, resupply, direct attacks
 3    :func:`militia_attacks`     attacks, their outcomes and US casualties
 4    :func:`us_decide`           triggers, approval, orders
 5    :func:`us_act`              the strikes due today (:func:`strike`)
 5a   :func:`us_options`          self-defence strikes on launch teams, leadership strikes
 5b   :func:`standdown_step`      stand-down orders, ends, breaks (:func:`iran_orders`, :func:`group_standdowns`)
 6    :func:`end_of_day`          self-excitation, decay, the escalation ladder
====  ==========================  ===================================================

Parameters (:class:`Params`) may each be one value or one value per replicate.
"""

from .day import apply_shock, apply_shocks, end_of_day, run_day, start_day
from .events import EventLog, describe
from .iran import iran_direct_attack, iran_step
from .militia import militia_attacks, record_scripted_attack
from .params import Params, varies_per_replicate, why_fixed
from .options import us_options
from .standdown import group_standdowns, iran_orders, standdown_step
from .state import NEVER, ORDER_RING, State
from .strike import strike
from .us import us_act, us_decide

PHASES = ("start_day", "apply_shocks", "iran_step", "militia_attacks", "us_decide", "us_act", "us_options", "standdown_step", "end_of_day")
"""Names of the day's phases, in order."""

__all__ = ["EventLog", "NEVER", "ORDER_RING", "PHASES", "Params", "State", "apply_shock", "apply_shocks", "describe",
           "end_of_day", "group_standdowns", "iran_direct_attack", "iran_orders", "iran_step", "militia_attacks", "record_scripted_attack", "run_day",
           "standdown_step", "start_day", "strike", "us_act", "us_decide", "us_options", "varies_per_replicate", "why_fixed"]
