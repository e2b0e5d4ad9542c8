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
from sim.ensemble import ORDER_RING, EnsembleEngine
from sim.schema import Scenario

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
              "iran_direct_attacks", "cumulative_attacks")
"""Per-day columns the calibration statistics read."""


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
_STRIKE_MUNITIONS = re.compile(r"munitions=\d+")


class CalibrationEngine(EnsembleEngine):
    """:class:`~sim.ensemble.EnsembleEngine` whose replicates may each have their own parameters.

    Construct as the plain engine, then call :meth:`set_parameters` before :meth:`run`.
    """

    def __init__(self, compiled: Compiled, replicates: int, rng: np.random.Generator, **kw: Any) -> None:
        super().__init__(compiled, replicates, rng, **kw)
        self._fpc: np.ndarray | None = None
        self._fw: np.ndarray | None = None
        self._mpt: np.ndarray | None = None

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
        if fw is None and fpc is None:
            super()._us_decide()
            return
        d = self.day
        start_before = self.camp_start.copy()
        order_before = self.last_prop_order.copy()
        n_ev = len(self._ev)
        super()._us_decide()
        inj, kil = self.n_militia_injured, self.n_militia_killed
        fixes: dict[str, dict[int, int]] = {}
        if fw is not None:
            ci = np.flatnonzero(self.camp_start != start_before)
            if ci.size:
                pressure = self.domestic[ci] + self.outside
                self.camp_first[ci] = rules.campaign_first_wave(kil[ci], pressure, fw[ci], cp.targets_per_fatality,
                                                                us.size_gain)
                fixes["campaign"] = dict(zip(ci.tolist(), self.camp_first[ci].tolist()))
        if fpc is not None:
            pi = np.flatnonzero((self.last_prop_order == d) & (order_before != d))
            if pi.size:
                pressure = self.domestic[pi] + self.outside
                score = rules.casualty_score(inj[pi], kil[pi])
                nominal = rules.proportionate_facilities(score, pressure, pp.facilities_base,
                                                         pp.facilities_per_casualty, pp.max_facilities, us.size_gain)
                mine = rules.proportionate_facilities(score, pressure, pp.facilities_base, fpc[pi],
                                                      pp.max_facilities, us.size_gain)
                slot = (d + pp.delay_days) % ORDER_RING
                self.pend_targets[slot, pi] += (mine - nominal) * pp.targets_per_facility
                fixes["proportionate"] = dict(zip(pi.tolist(), mine.tolist()))
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

    def _strike(self, idx: np.ndarray, label: str, n_targets: Any, per_facility: int, owner_w: np.ndarray,
                kind_w: np.ndarray, munitions_per_target: float) -> None:
        m = self._mpt
        if m is None or label not in ("campaign", "scripted") or np.all(m[idx] == munitions_per_target):
            super()._strike(idx, label, n_targets, per_facility, owner_w, kind_w, munitions_per_target)
            return
        idx = np.asarray(idx)
        mun_before = self.n_munitions[idx].copy()
        tgt_before = self.n_targets_struck[idx].copy()
        n_ev = len(self._ev)
        super()._strike(idx, label, n_targets, per_facility, owner_w, kind_w, munitions_per_target)
        total = self.n_targets_struck[idx] - tgt_before
        mine = rules.munitions_used(total, m[idx], self.rng)
        self.n_munitions[idx] = mun_before + mine
        if self.events_on:
            new = dict(zip(idx.tolist(), mine.tolist()))
            for k in range(n_ev, len(self._ev)):
                ridx, day, actor, kind, target, outcome, detail = self._ev[k]
                if kind != label or outcome != "struck":
                    continue
                details = list(np.broadcast_to(np.asarray(detail, dtype=object), np.shape(ridx)))
                details = [_STRIKE_MUNITIONS.sub(f"munitions={new[r]}", t) if r in new else t
                           for r, t in zip(np.asarray(ridx).tolist(), details)]
                self._ev[k] = (ridx, day, actor, kind, target, outcome, details)


def day_arrays(ts: pd.DataFrame, columns=DAY_ARRAYS) -> dict[str, np.ndarray]:
    """Per-day columns of a replicate-major timeseries table as (R, D) arrays (either engine)."""
    ts = ts.sort_values(["replicate", "day"], kind="stable") if not ts["replicate"].is_monotonic_increasing else ts
    R = ts["replicate"].nunique()
    D = len(ts) // max(R, 1)
    if R * D != len(ts):
        raise ValueError("timeseries is not rectangular (every replicate must have every day)")
    return {c: ts[c].to_numpy().reshape(R, D) for c in columns}


def scenario_days(s: Scenario) -> int:
    return int(s.days)
