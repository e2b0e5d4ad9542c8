"""Mesa agents of the escalation model.

Each agent holds its own slice of the model's one-replicate
:class:`sim.dynamics.State` (its attributes are views on it) and acts by calling
the phase functions of :mod:`sim.dynamics` on that slice, so the Mesa engine and
the ensemble engine run the same day:

* :class:`Iran` -- :func:`sim.dynamics.iran_step`;
* :class:`MilitiaGroup` -- :func:`sim.dynamics.militia_attacks` for its own index
  (the model activates the groups in random order with ``shuffle_do``);
* :class:`UnitedStates` -- :func:`sim.dynamics.us_decide`, then
  :func:`sim.dynamics.us_act`;
* stand-downs: :meth:`Iran.order_standdown` (:func:`sim.dynamics.iran_orders`), then
  :meth:`MilitiaGroup.stand_down` (:func:`sim.dynamics.group_standdowns` for its own index);
* :class:`USBase` and :class:`Facility` decide nothing and are never stepped:
  they hold their tallies and aimpoints for display and for the others' rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from . import dynamics, rules
from .columns import C2, INTEL, LOGI, RM_STORE, STORAGE_OF_WEAPON, UAV_STORE  # noqa: F401 (re-exported)
from .schema import FACILITY_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from .model import EscalationModel


class MilitiaGroup(Agent):
    """An Iran-backed militia group: decides how many attacks to launch, with what, at whom."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.group_id = c.group_ids[index]
        self.name = c.group_names[index]
        self.full_stock = c.stock0[index].copy()

    def _v(self, name: str) -> float:
        return float(getattr(self.model.state, name)[0, self.index])

    stock = property(lambda self: self.model.state.stock[0, self.index], doc="Weapons held (W,).")
    revenge = property(lambda self: self._v("revenge"))
    grievance = property(lambda self: self._v("grievance"))
    excitation = property(lambda self: self._v("excitation"))
    recent_attacks = property(lambda self: self._v("recent_attacks"))
    intensity = property(lambda self: self._v("intensity"))
    attacks = property(lambda self: int(self.model.state.g_attacks[0, self.index]), doc="Attacks today.")

    @property
    def capacity(self) -> float:
        """Reported capacity in [0, 1]: launch capacity times coordination."""
        return float(self.model.state.reported_capacity()[0, self.index])

    standing_down = property(lambda self: bool(self.model.state.standing_down[0, self.index]))

    def step(self) -> None:
        dynamics.militia_attacks(self.model.state, np.array([self.index]))

    def stand_down(self) -> None:
        """Its leadership's stand-down decision, the end or break of its stand-down, its answer to Iran's order."""
        dynamics.group_standdowns(self.model.state, np.array([self.index]))


class USBase(Agent):
    """A US base: a target.  Never stepped; its tallies are its slice of the state."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.base_id = c.base_ids[index]
        self.name = c.base_names[index]
        self.lon, self.lat = float(c.base_lon[index]), float(c.base_lat[index])

    attacks = property(lambda self: int(self.model.state.base_attacks[0, self.index]))
    injured = property(lambda self: int(self.model.state.base_injured[0, self.index]))
    killed = property(lambda self: int(self.model.state.base_killed[0, self.index]))
    last_attacked_day = property(lambda self: int(self.model.state.base_last_attacked[0, self.index]))


class Facility(Agent):
    """A strikeable militia or IRGC facility: a view on the state's aimpoint arrays."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel", index: int) -> None:
        super().__init__(model)
        c = model.c
        self.index = index
        self.name = c.fac_names[index]
        self.owner = c.owner_ids[c.fac_owner[index]]
        self.kind = FACILITY_KINDS[c.fac_kind[index]]
        self.lon, self.lat = float(c.fac_lon[index]), float(c.fac_lat[index])
        self.in_iran = bool(c.fac_in_iran[index])

    @property
    def total(self) -> float:
        return float(self.model.c.fac_total[self.index])

    @property
    def intact(self) -> float:
        return float(self.model.state.intact[0, self.index])

    @property
    def last_struck_day(self) -> int:
        return int(self.model.state.fac_last_struck[0, self.index])

    @property
    def state(self) -> str:
        """'intact', 'damaged' or 'destroyed' (fewer than one aimpoint standing)."""
        i = self.intact
        return "destroyed" if i < 1.0 else ("damaged" if i < self.total - 0.5 else "intact")


class Iran(Agent):
    """Iran (IRGC Quds Force): resupplies and rebuilds, restrains its proxies, acts past its red lines."""

    model: "EscalationModel"

    restraint = property(lambda self: float(self.model.state.restraint[0]))
    war_risk = property(lambda self: float(self.model.state.war_risk[0]))
    hostility = property(lambda self: float(self.model.state.hostility[0]))
    irgc_killed_total = property(lambda self: int(self.model.state.irgc_killed_total[0]))
    territory_struck = property(lambda self: bool(self.model.state.territory_struck[0]))

    @property
    def red_line_crossed(self) -> bool:
        st = self.model.state
        return bool(rules.red_line_crossed(st.irgc_killed_total, st.territory_struck, st.p.iran.red_line_irgc_killed,
                                           st.red_line_territory)[0])

    def step(self) -> None:
        dynamics.iran_step(self.model.state)

    def order_standdown(self) -> None:
        """Its stand-down decision of the day (after the US has acted)."""
        dynamics.iran_orders(self.model.state)


class UnitedStates(Agent):
    """The United States (CENTCOM): applies its doctrine to the day's events."""

    model: "EscalationModel"

    credibility = property(lambda self: float(self.model.state.credibility[0]))
    domestic = property(lambda self: float(self.model.state.domestic[0]))
    host_endogenous = property(lambda self: float(self.model.state.host_endogenous[0]))

    def campaign_active(self, day: int) -> bool:
        st = self.model.state
        return bool(rules.campaign_active(day, st.camp_start[0], st.camp_end[0]))

    def step(self) -> None:
        dynamics.us_decide(self.model.state)
        dynamics.us_act(self.model.state)
        dynamics.us_options(self.model.state)


__all__ = ["MilitiaGroup", "USBase", "Facility", "Iran", "UnitedStates", "STORAGE_OF_WEAPON"]
