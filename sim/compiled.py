"""A scenario turned into the numpy arrays both engines read.

Nothing here is random: facility layouts and daily driver series follow from
the scenario alone, so every replicate and both engines see the same world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import rules
from .columns import KIND  # noqa: F401 (re-exported)
from .schema import FACILITY_KINDS, WEAPONS, Scenario, SeriesPoint, Shock

COUNTRIES = ("iraq", "syria", "jordan", "iran")
K = len(FACILITY_KINDS)
W = len(WEAPONS)
IRGC_ABROAD, HOMELAND = "irgc_abroad", "iran_homeland"


def series_by_day(points: list[SeriesPoint], start: dt.date, days: int) -> np.ndarray:
    """Daily values of a driver: linear between points, flat outside them."""
    x = np.array([(p.date - start).days for p in points], dtype=float)
    y = np.array([p.value for p in points], dtype=float)
    return np.interp(np.arange(days, dtype=float), x, y)


@dataclass
class Compiled:
    """Arrays of one scenario.  Shapes use the letters of :mod:`sim.rules`."""

    scenario: Scenario
    days: int
    dates: list[dt.date]
    # drivers (D,)
    tension: np.ndarray
    outside: np.ndarray
    host_exogenous: np.ndarray
    # groups (G,)
    group_ids: list[str]
    group_names: list[str]
    group_country: np.ndarray
    base_rate: np.ndarray
    motivation: np.ndarray
    alignment: np.ndarray
    risk_tolerance: np.ndarray
    stock0: np.ndarray  # (G, W)
    base_probs: np.ndarray  # (G, B)
    # weapons (W,)
    preference: np.ndarray
    interceptable: np.ndarray
    p_injury: np.ndarray
    p_fatal: np.ndarray
    injured_extra: np.ndarray
    killed_extra: np.ndarray
    injured_in_fatal: np.ndarray
    # bases (B,)
    base_ids: list[str]
    base_names: list[str]
    base_country: np.ndarray
    air_defence: np.ndarray
    exposure: np.ndarray
    base_lon: np.ndarray
    base_lat: np.ndarray
    # owners (O,) = groups + IRGC abroad + homeland
    owner_ids: list[str]
    # facilities (F,)
    fac_names: list[str]
    fac_owner: np.ndarray
    fac_kind: np.ndarray
    fac_total: np.ndarray
    fac_lon: np.ndarray
    fac_lat: np.ndarray
    fac_country: np.ndarray
    fac_is_militia: np.ndarray
    fac_is_irgc: np.ndarray
    fac_in_iran: np.ndarray
    membership: np.ndarray  # (F, O*K)
    total_ok: np.ndarray  # (O*K,)
    # retention factors (per day)
    ret: dict[str, float] = field(default_factory=dict)
    shocks_by_day: dict[int, list[Shock]] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return len(self.group_ids)

    @property
    def n_owners(self) -> int:
        return len(self.owner_ids)

    @property
    def n_facilities(self) -> int:
        return len(self.fac_names)

    def owner_kind_health(self, intact: np.ndarray) -> np.ndarray:
        """Health per (owner, kind), shape (.., O, K)."""
        h = rules.health(intact, self.membership, self.total_ok)
        return h.reshape(h.shape[:-1] + (self.n_owners, K))

    def kind_weight_by_facility(self, kind_weights) -> np.ndarray:
        """(F,) weights of each facility's kind under a ``KindWeights`` block, normalised per owner.

        Each owner's facilities share a total weight of 1 (0 if every kind is
        weighted 0), so that multiplying by the owner weights of
        :func:`sim.rules.owner_weights` makes those the owners' shares of a
        strike whatever the number of facilities each owner has.
        """
        w = np.array([getattr(kind_weights, k) for k in FACILITY_KINDS], dtype=float)[self.fac_kind]
        per_owner = np.bincount(self.fac_owner, weights=w, minlength=self.n_owners)[self.fac_owner]
        return np.divide(w, per_owner, out=np.zeros_like(w), where=per_owner > 0)


def _layout(n: int, lon: float, lat: float, radius: float = 0.6) -> list[tuple[float, float]]:
    """Deterministic positions on a golden-angle spiral around a centre (display only)."""
    golden = np.pi * (3 - np.sqrt(5))
    return [(lon + radius * np.sqrt((i + 0.5) / n) * np.cos(i * golden),
             lat + radius * np.sqrt((i + 0.5) / n) * np.sin(i * golden)) for i in range(n)]


def compile_scenario(s: Scenario) -> Compiled:
    """Build the arrays of a validated scenario."""
    days = s.days
    dates = [s.start_date + dt.timedelta(days=d) for d in range(days)]
    tension = series_by_day(s.drivers.regional_tension, s.start_date, days)
    outside = series_by_day(s.drivers.outside_pressure, s.start_date, days)
    host = series_by_day(s.drivers.host_pressure, s.start_date, days)
    shocks_by_day: dict[int, list[Shock]] = {}
    for sh in s.shocks:
        d = (sh.date - s.start_date).days
        if sh.kind in ("tension", "outside_pressure"):
            lo, hi = max(d, 0), min(d + sh.days, days)
            if lo < hi:
                (tension if sh.kind == "tension" else outside)[lo:hi] = sh.value
        if 0 <= d < days:
            shocks_by_day.setdefault(d, []).append(sh)

    groups = s.militia.groups
    wp = s.militia.weapons
    weapons = [getattr(wp, w) for w in WEAPONS]
    bases = s.bases
    cidx = {c: i for i, c in enumerate(COUNTRIES)}
    base_country = np.array([cidx[b.country] for b in bases])
    reach = np.zeros((len(groups), len(COUNTRIES)), dtype=bool)
    for gi, g in enumerate(groups):
        for c in g.reach:
            reach[gi, cidx[c]] = True
    exposure = np.array([b.exposure for b in bases], dtype=float)
    base_probs = rules.target_base_probabilities(exposure, base_country, reach)

    owner_ids = [g.id for g in groups] + [IRGC_ABROAD, HOMELAND]
    n_owner = len(owner_ids)
    fac = dict(names=[], owner=[], kind=[], total=[], lon=[], lat=[], country=[])

    def add_set(owner: int, oid: str, per_kind: int, aim: int, lon: float, lat: float, country: str) -> None:
        spots = _layout(per_kind * K, lon, lat)
        for k, kind in enumerate(FACILITY_KINDS):
            for j in range(per_kind):
                x, y = spots[k * per_kind + j]
                fac["names"].append(f"{oid}:{kind}:{j + 1}")
                fac["owner"].append(owner)
                fac["kind"].append(k)
                fac["total"].append(aim)
                fac["lon"].append(x)
                fac["lat"].append(y)
                fac["country"].append(cidx[country])

    for gi, g in enumerate(groups):
        add_set(gi, g.id, g.facilities_per_kind, g.aimpoints_per_facility, g.lon, g.lat, g.country)
    ia, hm = s.iran.irgc_abroad, s.iran.homeland
    add_set(len(groups), IRGC_ABROAD, ia.facilities_per_kind, ia.aimpoints_per_facility, ia.lon, ia.lat, "syria")
    add_set(len(groups) + 1, HOMELAND, hm.facilities_per_kind, hm.aimpoints_per_facility, hm.lon, hm.lat, "iran")
    f_owner = np.array(fac["owner"], dtype=np.int64)
    f_kind = np.array(fac["kind"], dtype=np.int64)
    f_total = np.array(fac["total"], dtype=float)
    membership = np.zeros((len(f_owner), n_owner * K))
    membership[np.arange(len(f_owner)), f_owner * K + f_kind] = 1.0
    total_ok = f_total @ membership

    us, ir, at = s.us, s.iran, s.militia.attack
    ret = {
        "excitation": float(rules.decay_factor(at.excitation_half_life_days)),
        "revenge": float(rules.decay_factor(at.revenge_half_life_days)),
        "grievance": float(rules.decay_factor(at.grievance_half_life_days)),
        "credibility": float(rules.decay_factor(us.credibility_half_life_days)),
        "domestic": float(rules.decay_factor(us.domestic_half_life_days)),
        "host": float(rules.decay_factor(us.host_half_life_days)),
        "war_risk": float(rules.decay_factor(ir.risk_half_life_days)),
        "hostility": float(rules.decay_factor(ir.hostility_half_life_days)),
        "tempo": float(rules.decay_factor(at.tempo_half_life_days)),
        "recent": float(rules.decay_factor(us.doctrine.triggers.window_days)),
    }
    return Compiled(
        scenario=s, days=days, dates=dates, tension=tension, outside=outside, host_exogenous=host,
        group_ids=[g.id for g in groups], group_names=[g.name for g in groups],
        group_country=np.array([cidx[g.country] for g in groups]),
        base_rate=np.array([g.base_rate for g in groups]), motivation=np.array([g.motivation for g in groups]),
        alignment=np.array([g.alignment for g in groups]), risk_tolerance=np.array([g.risk_tolerance for g in groups]),
        stock0=np.array([[getattr(g.stock, w) for w in WEAPONS] for g in groups], dtype=float),
        base_probs=base_probs,
        preference=np.array([w.preference for w in weapons]), interceptable=np.array([w.interceptable for w in weapons]),
        p_injury=np.array([w.p_injury for w in weapons]), p_fatal=np.array([w.p_fatal for w in weapons]),
        injured_extra=np.array([w.injured_extra_mean for w in weapons]),
        killed_extra=np.array([w.killed_extra_mean for w in weapons]),
        injured_in_fatal=np.array([w.injured_in_fatal_mean for w in weapons]),
        base_ids=[b.id for b in bases], base_names=[b.name for b in bases], base_country=base_country,
        air_defence=np.array([b.air_defence for b in bases]), exposure=exposure,
        base_lon=np.array([b.lon for b in bases]), base_lat=np.array([b.lat for b in bases]),
        owner_ids=owner_ids, fac_names=fac["names"], fac_owner=f_owner, fac_kind=f_kind, fac_total=f_total,
        fac_lon=np.array(fac["lon"]), fac_lat=np.array(fac["lat"]), fac_country=np.array(fac["country"]),
        fac_is_militia=(f_owner < len(groups)).astype(float),
        fac_is_irgc=(f_owner >= len(groups)).astype(float),
        fac_in_iran=(f_owner == len(groups) + 1),
        membership=membership, total_ok=total_ok, ret=ret, shocks_by_day=shocks_by_day,
    )
