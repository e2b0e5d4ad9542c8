"""The ensemble engine with per-replicate parameters.

:class:`sim.ensemble.EnsembleEngine` runs R replicates of one scenario.  A
calibration needs R replicates of R *different* parameter vectors (one ABC
particle per replicate), and ``escalation run --posterior`` needs each replicate
to carry its own posterior draw.  :class:`CalibrationEngine` adds that without
copying the engine's day loop:

* attack-process parameters (group ``base_rate``, ``motivation``, ``alignment``,
  ``risk_tolerance``; the shared ``militia.attack`` weights named in
  :data:`PER_REPLICATE_ATTACK`) are read by the engine every day from its own
  attributes in full ``(R, G)`` broadcasts, as its module documentation
  promises, so they are simply replaced by ``(R, G)`` / ``(R, 1)`` arrays;
* the three doctrine parameters in :data:`PER_REPLICATE_DOCTRINE` are used by the
  engine on replicate subsets.  They are corrected right after the engine's own
  step, from the same inputs and with the same rule functions:
  ``first_wave_targets`` -- the first wave of every campaign ordered today is
  recomputed with ``rules.campaign_first_wave``; ``facilities_per_casualty`` --
  the aimpoints of every proportionate order placed today are recomputed with
  ``rules.proportionate_facilities``; ``munitions_per_target`` (campaign and
  scripted strikes) -- a strike's munitions are redrawn from its aimpoints with
  ``rules.munitions_used`` (a sum of per-facility binomials with one success
  probability has the law of one binomial on the total, so this is exact in
  law).  The event log's ``detail`` text is patched to match.

Where all per-replicate values equal the scenario's, nothing is corrected and
the engine's output is bit-for-bit the plain engine's (tested).  The clean
long-term home of this is ``sim/ensemble.py`` itself (see docs/CALIBRATION.md,
"Wiring").
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim import rules
from sim.compiled import Compiled
from sim.ensemble import CAMPAIGN, ORDER_RING, SCRIPTED, EnsembleEngine

__all__ = [
    "PER_REPLICATE_ATTACK",
    "PER_REPLICATE_GROUP",
    "PER_REPLICATE_DOCTRINE",
    "per_replicate_supported",
    "CalibrationEngine",
    "DAY_ARRAYS",
    "day_arrays",
]

PER_REPLICATE_ATTACK = ("tension_weight", "outside_pressure_weight", "revenge_weight", "grievance_weight",
                        "deterrence_weight", "excitation_jump", "max_rate", "stock_half_saturation",
                        "command_floor", "intelligence_floor")
"""``militia.attack.*`` fields the engine reads only in full (R, G) broadcasts."""

PER_REPLICATE_GROUP = ("base_rate", "motivation", "alignment", "risk_tolerance")
"""``militia.groups.<id>.*`` fields the engine keeps as (G,) attributes of its own."""

PER_REPLICATE_DOCTRINE = ("us.doctrine.proportionate.facilities_per_casualty",
                          "us.doctrine.campaign.first_wave_targets",
                          "us.doctrine.campaign.munitions_per_target")
"""Doctrine fields corrected per replicate by :class:`CalibrationEngine`."""

DAY_ARRAYS = ("attacks", "us_injured", "us_killed", "us_strikes", "targets_struck", "munitions",
              "iran_direct_attacks", "prop_order_facilities", "campaign_order_targets")
"""Per-day arrays the calibration statistics read: day counts of the per-day table, and
``prop_order_facilities`` -- facilities of the proportionate strike ordered that day (0 if none) --
and ``campaign_order_targets`` -- first-wave aimpoints of a campaign ordered that day (0 if none):
both are in the event log's ``order`` rows but not in the per-day table."""


def per_replicate_supported(path: str) -> bool:
    """True if :class:`CalibrationEngine` can vary ``path`` (concrete or ``*``) across replicates."""
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["militia", "groups"] and parts[3] in PER_REPLICATE_GROUP:
        return True
    if len(parts) == 3 and parts[:2] == ["militia", "attack"] and parts[2] in PER_REPLICATE_ATTACK:
        return True
    return path in PER_REPLICATE_DOCTRINE


_ORDER_CAMPAIGN = re.compile(r"targets=\d+")
_ORDER_PROP = re.compile(r"facilities=\d+")


class CalibrationEngine(EnsembleEngine):
    """:class:`~sim.ensemble.EnsembleEngine` whose replicates may each have their own parameters.

    Construct as the plain engine, then call :meth:`set_parameters` before :meth:`run`.
    """

    def __init__(self, compiled: Compiled, replicates: int, rng: np.random.Generator, *,
                 record: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(compiled, replicates, rng, **kw)
        # With one replicate the plain engine's initial state arrays are read-only broadcast views
        # (np.ascontiguousarray returns the view itself when it is already contiguous): copy them.
        for name, arr in list(vars(self).items()):
            if isinstance(arr, np.ndarray) and not arr.flags.writeable:
                setattr(self, name, arr.copy())
        self._fpc: np.ndarray | None = None
        self._fw: np.ndarray | None = None
        self._mpt: np.ndarray | None = None
        self._record = tuple(record)
        self.recorded = {name: np.zeros((compiled.days, self.R), dtype=np.int64) for name in self._record}
        """Day counts kept by :meth:`step` for the names in ``record`` (D, R), without the per-day table."""

    def step(self) -> bool:
        before = self.day
        if self._record:
            self._orders_today = np.zeros(self.R, dtype=np.int64)
            self._campaign_today = np.zeros(self.R, dtype=np.int64)
        running = super().step()
        if self._record and self.day != before:
            for name in self._record:
                if name == "cumulative_attacks":
                    src = self.cumulative_attacks
                elif name == "prop_order_facilities":
                    src = self._orders_today
                elif name == "campaign_order_targets":
                    src = self._campaign_today
                else:
                    src = getattr(self, "n_" + name)
                self.recorded[name][self.day] = src
        return running

    def recorded_arrays(self) -> dict[str, np.ndarray]:
        """The recorded day counts as (R, D) arrays (the layout of :func:`day_arrays`)."""
        return {k: v[: self.day + 1].T for k, v in self.recorded.items()}

    # ------------------------------------------------------------------ parameters

    def set_parameters(self, values: Mapping[str, Any]) -> None:
        """Give each replicate its own value: ``{path: array (R,) or scalar}``.

        Paths are schema paths; ``militia.groups.*.<field>`` sets the field of
        every group.  Only paths accepted by :func:`per_replicate_supported`.
        """
        R, G = self.R, self.G
        ids = self.c.group_ids
        for path, raw in values.items():
            v = np.broadcast_to(np.asarray(raw, dtype=float), (R,)).astype(float)
            if not per_replicate_supported(path):
                raise ValueError(f"{path!r} cannot vary across replicates of one engine")
            parts = path.split(".")
            if parts[:2] == ["militia", "groups"]:
                name = parts[3]
                cur = np.asarray(getattr(self, name), dtype=float)
                arr = np.array(np.broadcast_to(cur, (R, G)), dtype=float)
                if parts[2] == "*":
                    arr[:] = v[:, None]
                else:
                    if parts[2] not in ids:
                        raise ValueError(f"{path!r}: no group {parts[2]!r}; groups are {', '.join(ids)}")
                    arr[:, ids.index(parts[2])] = v
                setattr(self, name, arr)
            elif parts[:2] == ["militia", "attack"]:
                setattr(self.attack, parts[2], v[:, None])
            elif path.endswith("facilities_per_casualty"):
                self._fpc = v
            elif path.endswith("first_wave_targets"):
                self._fw = np.rint(v)
            else:
                self._mpt = v

    # ------------------------------------------------------------------ doctrine corrections

    def _us_decide(self) -> None:
        fw, fpc = self._fw, self._fpc
        doc, us = self.s.us.doctrine, self.s.us
        pp, cp = doc.proportionate, doc.campaign
        if fw is not None and np.all(fw == cp.first_wave_targets):
            fw = None
        if fpc is not None and np.all(fpc == pp.facilities_per_casualty):
            fpc = None
        watch = "prop_order_facilities" in self.recorded
        watch_camp = "campaign_order_targets" in self.recorded
        if fw is None and fpc is None and not watch and not watch_camp:
            super()._us_decide()
            return
        d = self.day
        start_before = self.camp_start.copy()
        order_before = self.last_prop_order.copy()
        n_ev = len(self._ev)
        super()._us_decide()
        inj, kil = self.n_militia_injured, self.n_militia_killed
        fixes: dict[str, dict[int, int]] = {}
        ci = np.flatnonzero(self.camp_start != start_before)
        if ci.size and fw is not None:
            pressure = self.domestic[ci] + self.outside
            self.camp_first[ci] = rules.campaign_first_wave(kil[ci], pressure, fw[ci], cp.targets_per_fatality,
                                                            us.size_gain)
            fixes["campaign"] = dict(zip(ci.tolist(), self.camp_first[ci].tolist()))
        if ci.size and watch_camp:
            self._campaign_today[ci] = np.maximum(self.camp_first[ci], 1)
        pi = np.flatnonzero((self.last_prop_order == d) & (order_before != d))
        if pi.size and (fpc is not None or watch):
            pressure = self.domestic[pi] + self.outside
            score = rules.casualty_score(inj[pi], kil[pi])
            nominal = rules.proportionate_facilities(score, pressure, pp.facilities_base,
                                                     pp.facilities_per_casualty, pp.max_facilities, us.size_gain)
            mine = nominal
            if fpc is not None:
                mine = rules.proportionate_facilities(score, pressure, pp.facilities_base, fpc[pi],
                                                      pp.max_facilities, us.size_gain)
                slot = (d + pp.delay_days) % ORDER_RING
                self.pend_targets[slot, pi] += (mine - nominal) * pp.targets_per_facility
                fixes["proportionate"] = dict(zip(pi.tolist(), mine.tolist()))
            if watch:
                self._orders_today[pi] = mine
        if self.events_on and fixes:
            for k in range(n_ev, len(self._ev)):
                idx, day, actor, kind, target, outcome, detail = self._ev[k]
                if kind != "order" or target not in fixes:
                    continue
                new = fixes[target]
                pat, key = (_ORDER_CAMPAIGN, "targets") if target == "campaign" else (_ORDER_PROP, "facilities")
                details = list(np.broadcast_to(np.asarray(detail, dtype=object), np.shape(idx)))
                details = [pat.sub(f"{key}={new[r]}", t) if r in new else t
                           for r, t in zip(np.asarray(idx).tolist(), details)]
                self._ev[k] = (idx, day, actor, kind, target, outcome, details)

    def _strike(self, label: Any, idx: np.ndarray, n_targets: Any, per_facility: Any, weight: np.ndarray,
                munitions_per_target: Any) -> None:
        m = self._mpt
        if m is not None:
            lab = np.broadcast_to(np.asarray(label), np.shape(idx))
            use = (lab == CAMPAIGN) | (lab == SCRIPTED)
            if use.any():
                mpt = np.array(np.broadcast_to(np.asarray(munitions_per_target, dtype=float), np.shape(idx)))
                mpt[use] = m[np.asarray(idx)[use]]
                munitions_per_target = mpt
        super()._strike(label, idx, n_targets, per_facility, weight, munitions_per_target)


def day_arrays(ts: pd.DataFrame, events: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """:data:`DAY_ARRAYS` as (R, D) arrays from a run's tables (either engine).

    ``prop_order_facilities`` and ``campaign_order_targets`` come from the event
    log's ``order`` rows; without ``events`` they are left out.
    """
    ts = ts.sort_values(["replicate", "day"], kind="stable")
    reps = ts["replicate"].unique()
    R = reps.size
    D = len(ts) // max(R, 1)
    if R * D != len(ts):
        raise ValueError("timeseries is not rectangular (every replicate must have every day)")
    out = {c: ts[c].to_numpy().reshape(R, D) for c in DAY_ARRAYS if c in ts.columns}
    if events is not None:
        for name, target, key in (("prop_order_facilities", "proportionate", "facilities"),
                                  ("campaign_order_targets", "campaign", "targets")):
            orders = np.zeros((R, D), dtype=np.int64)
            ev = events[(events["kind"] == "order") & (events["target"] == target)]
            if len(ev):
                val = ev["detail"].str.extract(key + r"=(\d+)")[0].astype(np.int64).to_numpy()
                row = np.searchsorted(reps, ev["replicate"].to_numpy())
                np.add.at(orders, (row, ev["day"].to_numpy()), np.maximum(val, 1))
            out[name] = orders
    return out
