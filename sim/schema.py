"""The scenario schema: the one home of every parameter.

Each parameter is declared once, here, with its default, bounds, unit and a
one-line description.  The CLI (`escalation params`), the docs and the web page
read them from this module through :func:`iter_parameters`.

Vocabulary (after EMA Workbench): *uncertainties* are things the United States
does not control (militia behaviour, Iran, the regional drivers); *levers* are
the US doctrine.  Every field carries ``role`` = ``lever`` or ``uncertainty``
(or ``setting`` for run settings and fixed facts such as base locations).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FACILITY_KINDS = (
    "command_control",
    "intelligence",
    "rocket_missile_storage",
    "uav_storage",
    "logistics",
)
"""The five kinds of strikeable facility named in the 2024-02-03 seed."""

WEAPONS = ("uav", "rocket", "missile")
"""Weapon classes of militia attacks (one-way drones, rockets, missiles)."""

OUTCOMES = ("intercepted", "no_damage", "injuries", "fatalities")
"""Outcome classes of one attack, in the order the outcome rule returns them."""

Country = Literal["iraq", "syria", "jordan"]
GroupCountry = Literal["iraq", "syria"]
Role = Literal["lever", "uncertainty", "setting"]


def times(lo: float, hi: float) -> dict[str, list[float]]:
    """A plausible range relative to the default at each path (for fields of groups, weapons, bases)."""
    return {"times": [lo, hi]}


# Reasons shared by many plausible ranges (a range's own reason is written beside it).
GUESS = "no source measures it: half to double the calibrated default (reasoning)"
GUESS_RANGE = "no source measures it: a range around the default wide enough to matter, narrow enough to stay credible (reasoning)"
STOCKS = "stockpiles are secret: half to double the assumed holdings (reasoning)"
FACILITIES = "seed 000: 85+ targets struck in one night over facilities of five kinds; the count per group is unknown, so half to double"
DEFENCE = "seeds 000 and 002: most attacks caused no casualties; interception is likely but far from certain (reasoning)"
PROVOKE = "the brief's open question (does striking provoke?): from a weak to a strong provocation effect around the default"
MEMORY = "political and militant memory fades over weeks to months, not days or years (reasoning)"
DEGRADE = "brief: each facility kind feeds part of a group's capability; losing it degrades, never ends, the capability (reasoning)"
KINDS = "seed 000 lists five kinds struck together: a tenth to four times an equal weight"
SIZE002 = "seed 002: three facilities struck after three injured; from none to a few times that"
MUNITIONS = "seed 000: 125+ munitions on 85+ targets, about 1.5 per aimpoint; one to 2.5"
RESTRAINT = "brief and seed 000: Iran says it does not seek war and can restrain its proxies; how strongly is unknown (reasoning)"
REDLINE = "brief: Iran's red lines are its personnel and territory; where and how sharply they bind is unknown (reasoning)"
EITHER = "a policy switch: both values are plausible"
EVERY = "a policy choice: every choice is plausible"


def param(
    default: Any,
    description: str,
    *,
    unit: str = "1",
    role: Role = "uncertainty",
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    plausible: tuple[float, float] | dict[str, list[float]] | None = None,
    why: str = "",
) -> Any:
    """Declare a parameter: default, bounds, unit, description, role, and for levers and uncertainties a
    plausible range (absolute, or ``times(lo, hi)`` the default) with ``why`` it is plausible.

    Dates (unit ``date``) are the one exception to strict types: they may be
    given as ``YYYY-MM-DD`` text as well as a YAML date.
    """
    extra: dict[str, Any] = {"unit": unit, "role": role}
    if plausible is not None:
        extra["plausible"] = plausible if isinstance(plausible, dict) else list(plausible)
    if why:
        extra["why"] = why
    return Field(
        default,
        description=description,
        ge=ge,
        le=le,
        gt=gt,
        lt=lt,
        strict=False if unit == "date" else None,
        json_schema_extra=extra,
    )


def lever(default: Any, description: str, **kw: Any) -> Any:
    """A policy choice of the United States (EMA Workbench's 'lever')."""
    return param(default, description, role="lever", **kw)


def setting(default: Any, description: str, **kw: Any) -> Any:
    """A run setting or a fixed fact (dates, places)."""
    return param(default, description, role="setting", **kw)


class Strict(BaseModel):
    """Base of every schema block: unknown keys are errors, and types are strict (pydantic strict mode).

    Strict types: a number must be a number (not ``true``, not ``'30'``), a
    whole number must be whole (``30``, not ``30.0``), a switch must be
    ``true`` or ``false`` (not ``'off'``, not ``1``).  The YAML reader
    (:mod:`sim.yaml_guard`) keeps YAML 1.1's ``yes/no/on/off`` as text, so they
    are refused where the schema wants true or false.
    """

    model_config = ConfigDict(extra="forbid", frozen=False, validate_default=True, strict=True)


# --------------------------------------------------------------------------- drivers


class SeriesPoint(Strict):
    date: dt.date = setting(dt.date(2023, 10, 17), "Date of this point of the series", unit="date")
    value: float = param(0.5, "Value of the driver from this date on (linear to the next point)", ge=0, le=1, plausible=(0.0, 1.0), why="the whole index: a driver level is a scenario input")


def _series(*points: tuple[dt.date, float]) -> Any:
    return [SeriesPoint(date=d, value=v) for d, v in points]


class Drivers(Strict):
    """Exogenous drivers: scenario inputs, not agents.  Piecewise-linear between points,
    constant before the first and after the last."""

    regional_tension: list[SeriesPoint] = Field(
        default_factory=lambda: _series((dt.date(2023, 10, 17), 0.7)),
        description="Regional tension (Gaza war, Israel-Hezbollah clashes), 0 calm to 1 extreme",
        json_schema_extra={"unit": "index 0-1", "role": "uncertainty",
                           "plausible": [0.4, 1.0], "why": "brief: the Gaza war and Israel-Hezbollah clashes kept tension high; it can fall in a truce (level held constant)"},
    )
    outside_pressure: list[SeriesPoint] = Field(
        default_factory=lambda: _series((dt.date(2023, 10, 17), 0.2)),
        description="Outside pressure for escalation (e.g. a third party pushing for US-Iran war), 0-1",
        json_schema_extra={"unit": "index 0-1", "role": "uncertainty",
                           "plausible": [0.0, 0.6], "why": "seed 000 claims Israel pushes for a US-Iran war; the governments said they did not seek one (level held constant)"},
    )
    host_pressure: list[SeriesPoint] = Field(
        default_factory=lambda: _series((dt.date(2023, 10, 17), 0.1)),
        description="Exogenous host-nation political pressure against US strikes, 0-1",
        json_schema_extra={"unit": "index 0-1", "role": "uncertainty",
                           "plausible": [0.0, 0.5], "why": "Iraq protested US strikes on its soil; a full break with the host was not in the sources (reasoning; level held constant)"},
    )

    @field_validator("regional_tension", "outside_pressure", "host_pressure")
    @classmethod
    def _sorted(cls, v: list[SeriesPoint]) -> list[SeriesPoint]:
        if not v:
            raise ValueError("a series needs at least one point")
        dates = [p.date for p in v]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("series points must have strictly increasing dates")
        return v


# --------------------------------------------------------------------------- militias


class Stock(Strict):
    uav: float = param(40.0, "One-way attack drones held (and storage capacity at full health)", unit="weapons", ge=0, le=10000, plausible=times(0.5, 2), why=STOCKS)
    rocket: float = param(60.0, "Rockets held (and storage capacity at full health)", unit="weapons", ge=0, le=10000, plausible=times(0.5, 2), why=STOCKS)
    missile: float = param(6.0, "Short-range missiles held (and storage capacity at full health)", unit="weapons", ge=0, le=10000, plausible=times(0.5, 2), why=STOCKS)


class Group(Strict):
    """One Iran-backed militia group."""

    id: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", description="Short identifier", json_schema_extra={"unit": "", "role": "setting"})
    name: str = Field(..., min_length=1, description="Full name", json_schema_extra={"unit": "", "role": "setting"})
    country: GroupCountry = setting("iraq", "Country the group operates from (iraq or syria)", unit="")
    reach: list[Country] = Field(
        default_factory=lambda: ["iraq", "syria"],
        min_length=1,
        description="Countries whose US bases the group can attack",
        json_schema_extra={"unit": "", "role": "uncertainty",
                           "why": "a set of countries, not a number: it has no range (sweeps cannot vary it)"},
    )
    lon: float = setting(44.0, "Longitude of the group's main area", unit="degrees", ge=30, le=65)
    lat: float = setting(33.0, "Latitude of the group's main area", unit="degrees", ge=24, le=42)
    base_rate: float = param(0.4, "Attack intensity at full capacity under neutral drivers", unit="attacks/day", ge=0, le=20, plausible=times(0.5, 2), why="seed 002: more than 100 attacks in about 70 days (~1.4/day over all groups); a group's share is unknown, so half to double its calibrated value")
    motivation: float = param(1.0, "Multiplier on the group's baseline intensity", ge=0, le=5, plausible=(0.5, 2.0), why=GUESS)
    alignment: float = param(0.8, "How closely the group follows Iranian restraint (0 independent, 1 obedient)", ge=0, le=1, plausible=(0.5, 1.0), why="brief: the groups are Iran-backed and Iran could restrain them; below one half they would hardly be proxies (reasoning)")
    risk_tolerance: float = param(0.5, "How little US deterrence suppresses the group (1 = not at all)", ge=0, le=1, plausible=(0.2, 0.9), why="kept strictly inside (0, 1): no group is wholly indifferent to, or wholly stopped by, US deterrence (reasoning)")
    stock: Stock = Field(default_factory=Stock, description="Initial weapons, equal to storage capacity at full health")
    facilities_per_kind: int = param(2, "Strikeable facilities of each of the five kinds", unit="facilities", ge=0, le=20, plausible=times(0.5, 2), why=FACILITIES)
    aimpoints_per_facility: int = param(6, "Aimpoints ('targets') per facility", unit="targets", ge=1, le=60, plausible=times(0.5, 2), why=FACILITIES)


def _default_groups() -> list[Group]:
    return [
        Group(id="kh", name="Kataib Hezbollah", country="iraq", reach=["iraq", "syria", "jordan"],
              lon=43.5, lat=33.6, base_rate=0.3, alignment=0.85, risk_tolerance=0.6,
              stock=Stock(uav=60, rocket=80, missile=10), facilities_per_kind=3, aimpoints_per_facility=7),
        Group(id="nujaba", name="Harakat al-Nujaba", country="iraq", reach=["iraq", "syria"],
              lon=44.4, lat=33.2, base_rate=0.2, alignment=0.75, risk_tolerance=0.7,
              stock=Stock(uav=40, rocket=60, missile=6), facilities_per_kind=2, aimpoints_per_facility=6),
        Group(id="kss", name="Kataib Sayyid al-Shuhada", country="iraq", reach=["iraq", "syria"],
              lon=44.8, lat=32.6, base_rate=0.12, alignment=0.9, risk_tolerance=0.4,
              stock=Stock(uav=30, rocket=50, missile=4), facilities_per_kind=2, aimpoints_per_facility=6),
        Group(id="syria_affiliates", name="Iran-backed affiliates in eastern Syria", country="syria",
              reach=["syria", "jordan"], lon=40.4, lat=34.6, base_rate=0.18, alignment=0.8, risk_tolerance=0.5,
              stock=Stock(uav=40, rocket=60, missile=2), facilities_per_kind=2, aimpoints_per_facility=6),
    ]


class Weapon(Strict):
    """Outcome parameters of one weapon class."""

    preference: float = param(1.0, "Relative weight of this weapon when a group chooses what to launch", ge=0, le=10, plausible=times(0.5, 2), why=GUESS)
    interceptable: float = param(0.6, "Share of a base's air-defence effectiveness that applies to this weapon", ge=0, le=1, plausible=times(0.6, 1.4), why=DEFENCE)
    p_injury: float = param(0.08, "Chance that a launch not intercepted injures personnel (at exposure 1, full accuracy)", unit="probability", ge=0, le=1, plausible=times(0.5, 2), why="seed 002: three injured in one attack after 100+ attacks, so casualty-producing hits are rare; half to double the calibrated chance")
    p_fatal: float = param(0.005, "Chance that a launch not intercepted kills personnel (at exposure 1, full accuracy)", unit="probability", ge=0, le=1, plausible=times(0.5, 2), why="brief: the first US deaths (Jordan, late January 2024) came after ~100 days of attacks; half to double the calibrated chance")
    injured_extra_mean: float = param(1.5, "Mean injured beyond the first in a casualty-producing attack", unit="people", ge=0, le=100, plausible=times(0.5, 2), why=GUESS)
    killed_extra_mean: float = param(1.0, "Mean killed beyond the first in a fatal attack", unit="people", ge=0, le=100, plausible=times(0.5, 2), why=GUESS)
    injured_in_fatal_mean: float = param(10.0, "Mean injured in a fatal attack", unit="people", ge=0, le=200, plausible=times(0.5, 2), why=GUESS)


class Weapons(Strict):
    uav: Weapon = Field(default_factory=lambda: Weapon(preference=1.5, interceptable=0.55, p_injury=0.06, p_fatal=0.006,
                                                       injured_extra_mean=1.5, killed_extra_mean=2.0, injured_in_fatal_mean=30.0))
    rocket: Weapon = Field(default_factory=lambda: Weapon(preference=1.0, interceptable=0.5, p_injury=0.04, p_fatal=0.002,
                                                          injured_extra_mean=1.0, killed_extra_mean=0.5, injured_in_fatal_mean=5.0))
    missile: Weapon = Field(default_factory=lambda: Weapon(preference=0.3, interceptable=0.35, p_injury=0.15, p_fatal=0.01,
                                                           injured_extra_mean=4.0, killed_extra_mean=1.0, injured_in_fatal_mean=10.0))


class AttackProcess(Strict):
    """Mechanism 1 (attack generation), shared by all groups."""

    tension_weight: float = param(1.0, "Log-intensity gained per unit of regional tension", ge=0, le=5, plausible=(0.5, 1.5), why="brief: regional tension (Gaza, Hezbollah) drives the attacks; the weight is uncertain by about half either way (reasoning)")
    outside_pressure_weight: float = param(0.3, "Log-intensity gained per unit of outside pressure", ge=0, le=5, plausible=(0.0, 0.8), why="seed 000 claims an outside push for war; whether it moves militia attacks at all is disputed, hence from zero")
    revenge_weight: float = param(0.8, "Log-intensity gained per unit of revenge motive", ge=0, le=5, plausible=(0.2, 1.6), why=PROVOKE)
    grievance_weight: float = param(0.5, "Log-intensity gained per unit of grievance from civilian harm", ge=0, le=5, plausible=(0.1, 1.0), why=PROVOKE)
    deterrence_weight: float = param(1.2, "Log-intensity lost per unit of US credibility, scaled by (1 - risk tolerance)", ge=0, le=10, plausible=(0.3, 2.5), why="the brief's open question (does a massive response deter?): from weak to strong deterrence around the default")
    excitation_jump: float = param(0.08, "Intensity added by each attack that gets through (Hawkes self-excitation)", unit="attacks/day", ge=0, le=2, plausible=(0.02, 0.2), why="brief: Hawkes self-excitation of insurgent violence; kept well below the rate at which the process explodes (reasoning)")
    excitation_half_life_days: float = param(4.0, "Half-life of self-excitation", unit="days", gt=0, le=120, plausible=(1.0, 10.0), why="Hawkes models of insurgent attacks decay over days, not months (reasoning)")
    revenge_per_target: float = param(0.02, "Revenge motive added per own aimpoint struck", unit="1/target", ge=0, le=1, plausible=(0.005, 0.05), why=PROVOKE)
    revenge_per_militant: float = param(0.05, "Revenge motive added per own militant killed", unit="1/person", ge=0, le=1, plausible=(0.01, 0.15), why=PROVOKE)
    revenge_half_life_days: float = param(20.0, "Half-life of the revenge motive", unit="days", gt=0, le=365, plausible=(7.0, 60.0), why=MEMORY)
    grievance_per_harm: float = param(0.1, "Grievance added per civilian-harm event in the group's country", unit="1/event", ge=0, le=5, plausible=(0.02, 0.3), why=PROVOKE)
    grievance_half_life_days: float = param(45.0, "Half-life of grievance", unit="days", gt=0, le=365, plausible=(14.0, 120.0), why=MEMORY)
    stock_half_saturation: float = param(15.0, "Weapons held at which launch capacity is half its maximum", unit="weapons", gt=0, le=1000, plausible=(5.0, 40.0), why=GUESS_RANGE)
    command_floor: float = param(0.35, "Share of launch coordination left with all command-and-control destroyed", ge=0, le=1, plausible=(0.1, 0.7), why=DEGRADE)
    intelligence_floor: float = param(0.5, "Share of accuracy left with all intelligence centres destroyed", ge=0, le=1, plausible=(0.2, 0.8), why=DEGRADE)
    tempo_per_militant_killed: float = param(0.005, "Regional tension built per militant killed by US strikes (rising tempo)", unit="1/person", ge=0, le=1, plausible=(0.0, 0.02), why="funerals and calls for revenge spread beyond the group struck (e.g. after the 4 Jan 2024 Baghdad strike); from no effect to a campaign's dead (~40) adding most of the Gaza-war tension level (reasoning)")
    tempo_per_irgc_killed: float = param(0.03, "Regional tension built per IRGC member killed by US strikes (rising tempo)", unit="1/person", ge=0, le=1, plausible=(0.0, 0.1), why="killing a sponsor's officers is an outside event that raises the region's temperature more than a militant's death (reasoning; cf. the Soleimani strike of January 2020)")
    tempo_half_life_days: float = param(60.0, "Half-life of the tension built by the exchange itself", unit="days", gt=0, le=365, plausible=(20.0, 120.0), why=MEMORY)
    injury_dispersion: float = param(0.5, "Negative-binomial dispersion k of the injured per attack (variance mean + mean^2/k; large k = Poisson)", ge=0.01, le=1000, plausible=(0.2, 2.0), why="casualties per attack are heavy-tailed (Clauset, Young and Gleditsch 2007, J. Conflict Resolut. 51:58); 2023-24: most attacks injured none or a few, a handful injured dozens (seed 000, Jordan: 40+ injured); k of 0.2-2 spans strong to mild overdispersion")
    diagnosis_delayed_share: float = param(0.4, "Share of an attack's injured beyond the first who are diagnosed days later (traumatic brain injuries)", unit="probability", ge=0, le=1, plausible=(0.2, 0.7), why="Pentagon counts of early 2024: most of the ~180 injured were traumatic brain injuries, many diagnosed after the attack; the share reported late is not published")
    diagnosis_delay_days: int = param(5, "Days from an attack to the report of its injuries diagnosed late", unit="days", ge=0, le=60, plausible=(2, 14), why="TBI symptoms are screened for over days after a blast; reports of 2023-24 added injuries a few days to two weeks after the attacks (reasoning)")
    max_rate: float = param(12.0, "Cap on one group's intensity", unit="attacks/day", gt=0, le=100, plausible=(6.0, 24.0), why="a cap, not a rate: a group's busiest days are a handful of attacks; half to double the default (reasoning)")


class Militia(Strict):
    groups: list[Group] = Field(default_factory=_default_groups, min_length=1, max_length=12,
                                description="The militia groups (at least one; the baseline has four)")
    attack: AttackProcess = Field(default_factory=AttackProcess)
    weapons: Weapons = Field(default_factory=Weapons)

    @field_validator("groups")
    @classmethod
    def _unique_ids(cls, v: list[Group]) -> list[Group]:
        ids = [g.id for g in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"group ids must be unique; repeated: {', '.join(dup)}")
        return v


# --------------------------------------------------------------------------- bases


class Base(Strict):
    """A US base (coordinates approximate, for display only)."""

    id: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", description="Short identifier", json_schema_extra={"unit": "", "role": "setting"})
    name: str = Field(..., min_length=1, description="Name", json_schema_extra={"unit": "", "role": "setting"})
    country: Country = setting("iraq", "Country of the base", unit="")
    lon: float = setting(44.0, "Longitude", unit="degrees", ge=30, le=65)
    lat: float = setting(33.0, "Latitude", unit="degrees", ge=24, le=42)
    personnel: int = param(500, "US personnel present (for reference; no rule uses it)", unit="people", ge=0, le=100000, plausible=times(0.5, 2), why="no rule uses it; deployments vary by about a factor of two (reasoning)")
    air_defence: float = param(0.4, "Chance that air defence intercepts a fully interceptable weapon", unit="probability", ge=0, le=1, plausible=(0.2, 0.7), why=DEFENCE)
    exposure: float = param(1.0, "Attractiveness as a target and vulnerability of personnel (multiplies hit chances)", ge=0, le=3, plausible=times(0.5, 1.5), why=GUESS)


def _default_bases() -> list[Base]:
    return [
        Base(id="erbil", name="Erbil Air Base", country="iraq", lon=43.96, lat=36.24, personnel=900, air_defence=0.5, exposure=1.0),
        Base(id="ain_al_asad", name="Ain al-Asad Air Base", country="iraq", lon=42.44, lat=33.79, personnel=1500, air_defence=0.5, exposure=1.2),
        Base(id="baghdad_union3", name="Union III, Baghdad", country="iraq", lon=44.40, lat=33.31, personnel=300, air_defence=0.55, exposure=0.6),
        Base(id="al_tanf", name="Al-Tanf Garrison", country="syria", lon=38.63, lat=33.49, personnel=200, air_defence=0.35, exposure=0.9),
        Base(id="conoco", name="Mission Support Site Conoco", country="syria", lon=40.30, lat=35.10, personnel=150, air_defence=0.3, exposure=0.9),
        Base(id="green_village", name="Mission Support Site Green Village", country="syria", lon=40.70, lat=34.70, personnel=150, air_defence=0.3, exposure=0.9),
        Base(id="rumalyn", name="Rumalyn Landing Zone", country="syria", lon=41.90, lat=36.85, personnel=150, air_defence=0.3, exposure=0.8),
        Base(id="tower_22", name="Tower 22", country="jordan", lon=38.70, lat=33.32, personnel=350, air_defence=0.3, exposure=0.7),
    ]


# --------------------------------------------------------------------------- US doctrine


class KindWeights(Strict):
    """Relative weight of each facility kind when choosing what to strike."""

    command_control: float = lever(1.0, "Weight of command-and-control centres", ge=0, le=10, plausible=(0.1, 4.0), why=KINDS)
    intelligence: float = lever(1.0, "Weight of intelligence centres", ge=0, le=10, plausible=(0.1, 4.0), why=KINDS)
    rocket_missile_storage: float = lever(1.0, "Weight of rocket and missile storage", ge=0, le=10, plausible=(0.1, 4.0), why=KINDS)
    uav_storage: float = lever(1.0, "Weight of UAV storage", ge=0, le=10, plausible=(0.1, 4.0), why=KINDS)
    logistics: float = lever(1.0, "Weight of logistics and munitions supply", ge=0, le=10, plausible=(0.1, 4.0), why=KINDS)

    @model_validator(mode="after")
    def _some_weight(self) -> "KindWeights":
        if sum(getattr(self, k) for k in FACILITY_KINDS) <= 0:
            raise ValueError("at least one facility kind needs a positive weight")
        return self


class Triggers(Strict):
    """What makes the US respond."""

    on_injury: bool = lever(True, "A day on which attacks injure US personnel triggers a proportionate strike", unit="", why=EITHER)
    injury_threshold: int = lever(1, "US injured in one day needed to trigger (casualty tolerance)", unit="people", ge=1, le=1000, plausible=(1, 10), why="seed 002: three injured (25 Dec 2023) were answered the next day; a tolerance of up to ten injured in a day is a policy choice (reasoning)")
    on_fatality: bool = lever(True, "A fatal attack triggers a multi-day campaign (or a proportionate strike if campaigns are off)", unit="", why=EITHER)
    attack_count: int = lever(0, "Attacks within the window that trigger a strike on their own (0 = off)", unit="attacks", ge=0, le=1000, plausible=(0, 20), why="seed 002: 100+ attacks in ~70 days without a response to most; 0 (off) to 20 attacks in the window")
    window_days: int = lever(7, "Window for counting attacks", unit="days", ge=1, le=90, plausible=(3, 30), why="a few days to a month: the horizon of a news cycle (reasoning)")
    respond_probability: float = lever(0.8, "Chance a triggered response is approved at zero political pressure", unit="probability", ge=0, le=1, plausible=(0.4, 1.0), why="seeds 000 and 002: casualty attacks were answered; below one half a doctrine would hardly be a doctrine (reasoning)")
    pressure_gain: float = param(0.5, "How domestic and outside pressure raise the approval chance", ge=0, le=5, plausible=(0.0, 1.5), why=GUESS_RANGE)
    host_pressure_weight: float = param(0.5, "How host-nation pressure lowers the approval chance", ge=0, le=1, plausible=(0.0, 1.0), why=GUESS_RANGE)


class Proportionate(Strict):
    """A single 'necessary and proportionate' strike (seed 002: three facilities after three injured)."""

    delay_days: int = lever(1, "Days from the trigger to the strike", unit="days", ge=0, le=30, plausible=(0, 7), why="seed 002: the strike came one day after the attack; a week is a slow but still linked answer (reasoning)")
    facilities_base: float = lever(1.0, "Facilities struck for any triggered response", unit="facilities", ge=0, le=50, plausible=(0.0, 3.0), why=SIZE002)
    facilities_per_casualty: float = lever(0.67, "Extra facilities per US casualty that day (killed count double)", unit="facilities/person", ge=0, le=20, plausible=(0.0, 2.0), why=SIZE002)
    max_facilities: int = lever(6, "Most facilities in one proportionate strike", unit="facilities", ge=1, le=100, plausible=(2, 12), why=SIZE002)
    targets_per_facility: int = lever(2, "Aimpoints hit per facility", unit="targets/facility", ge=1, le=60, plausible=(1, 6), why=SIZE002)
    munitions_per_target: float = lever(1.5, "Precision munitions per aimpoint", unit="munitions/target", ge=1, le=5, plausible=(1.0, 2.5), why=MUNITIONS)
    cooldown_days: int = lever(3, "Least days between two proportionate strikes", unit="days", ge=0, le=90, plausible=(0, 14), why=GUESS_RANGE)


class Campaign(Strict):
    """A 'multitier' multi-day response (seed 000: >85 targets, >125 munitions on the first day)."""

    enabled: bool = lever(True, "Fatal attacks are answered by a multi-day campaign", unit="", why=EITHER)
    delay_days: int = lever(5, "Days from the fatal attack to the first wave", unit="days", ge=0, le=60, plausible=(1, 10), why="seed 000: the Jordan attack (28 Jan 2024) was answered on 2 Feb, five days later")
    first_wave_targets: int = lever(80, "Aimpoints struck in the first wave", unit="targets", ge=0, le=1000, plausible=(20, 160), why="seed 000: more than 85 targets on the first day; a quarter to double that")
    targets_per_fatality: float = lever(3.0, "Extra first-wave aimpoints per US fatality", unit="targets/person", ge=0, le=100, plausible=(0.0, 10.0), why=GUESS_RANGE)
    targets_per_facility: int = lever(12, "Aimpoints hit per facility in the campaign", unit="targets/facility", ge=1, le=60, plausible=(4, 20), why="seed 000: 85+ targets over a few dozen facilities of five kinds (reasoning)")
    munitions_per_target: float = lever(1.5, "Precision munitions per aimpoint", unit="munitions/target", ge=1, le=5, plausible=(1.0, 2.5), why=MUNITIONS)
    days: int = lever(14, "Length of the campaign, first wave included", unit="days", ge=1, le=180, plausible=(3, 42), why="seed 000: a response expected to unfold over days, possibly weeks")
    follow_on_probability: float = lever(0.2, "Chance of a follow-on strike on each later campaign day", unit="probability", ge=0, le=1, plausible=(0.0, 0.6), why=GUESS_RANGE)
    follow_on_targets: int = lever(6, "Aimpoints in a follow-on strike", unit="targets", ge=0, le=500, plausible=(0, 20), why=GUESS_RANGE)


class Preemption(Strict):
    """Optional programme to destroy strike capacity before it is used (seed 002's question)."""

    enabled: bool = lever(False, "Run a preemptive strike programme", unit="", why=EITHER)
    start_day: int = lever(0, "Day of the run on which the programme starts", unit="days", ge=0, le=3650, plausible=(0, 120), why="seed 002 asked for preemption in late December 2023 (day ~70); from the start to day 120")
    interval_days: int = lever(14, "Days between preemptive strikes", unit="days", ge=1, le=365, plausible=(3, 30), why="from twice a week to monthly: a standing programme (reasoning)")
    targets: int = lever(10, "Aimpoints per preemptive strike", unit="targets", ge=0, le=500, plausible=(0, 40), why="seed 002: 'doing more preemptively'; up to half the first wave of seed 000 on every strike")
    targets_per_facility: int = lever(4, "Aimpoints hit per facility", unit="targets/facility", ge=1, le=60, plausible=(1, 12), why=SIZE002)
    munitions_per_target: float = lever(1.5, "Precision munitions per aimpoint", unit="munitions/target", ge=1, le=5, plausible=(1.0, 2.5), why=MUNITIONS)
    kind_weights: KindWeights = Field(default_factory=lambda: KindWeights(
        command_control=0.5, intelligence=0.2, rocket_missile_storage=3.0, uav_storage=3.0, logistics=1.0))


class Scope(Strict):
    """What may be struck."""

    kind_weights: KindWeights = Field(default_factory=KindWeights)
    irgc_facilities: bool = lever(True, "IRGC Quds Force facilities in Iraq and Syria are in scope", unit="", why=EITHER)
    irgc_share: float = lever(0.15, "Share of a strike's weight on IRGC facilities in Iraq and Syria (when in scope)", ge=0, le=1, plausible=(0.0, 0.4), why="seed 000: the strikes hit militia groups and their IRGC sponsors; IRGC targets were a minority (reasoning)")
    inside_iran: bool = lever(False, "Targets inside Iran are in scope for retaliation", unit="", why=EITHER)
    iran_share: float = lever(0.2, "Share of a strike's weight on targets inside Iran (when in scope)", ge=0, le=1, plausible=(0.0, 0.4), why="seed 000: strikes inside Iran were judged unlikely; if in scope, a minority of the weight (reasoning)")
    focus_attacker: float = lever(0.7, "Share of a response aimed at the groups that caused it (the rest spread over all)", ge=0, le=1, plausible=(0.3, 1.0), why="seed 002: the strike hit the group blamed (Kataib Hezbollah) and affiliated groups")

    @model_validator(mode="after")
    def _shares(self) -> "Scope":
        if self.irgc_share + self.iran_share >= 1:
            raise ValueError("irgc_share + iran_share must be below 1 (the rest falls on militia facilities)")
        return self


class Precision(Strict):
    p_destroy: float = lever(0.85, "Chance an aimpoint struck is destroyed", unit="probability", ge=0, le=1, plausible=(0.6, 0.98), why="precision munitions (seeds 000 and 002) usually, not always, destroy an aimpoint (reasoning)")
    collateral_per_target: float = lever(0.02, "Chance that striking one aimpoint harms civilians (1 - precision)", unit="probability", ge=0, le=1, plausible=(0.002, 0.08), why="seed 002: the Pentagon claimed no civilian casualties (precision); Syrian TV reported casualties after seed 000's strikes")
    militants_per_target: float = param(0.15, "Mean militants killed per militia aimpoint struck", unit="people/target", ge=0, le=20, plausible=(0.05, 0.5), why="seed 002: at least one militant killed by a strike on three facilities")
    irgc_per_target: float = param(0.05, "Mean IRGC personnel killed per IRGC aimpoint struck", unit="people/target", ge=0, le=20, plausible=(0.01, 0.2), why=GUESS_RANGE)


class DirectResponse(Strict):
    """The answer to a direct Iranian attack on US forces."""

    target: Literal["none", "irgc_facilities", "inside_iran"] = lever(
        "inside_iran", "What the US strikes after a direct Iranian attack", unit="", why=EVERY)
    delay_days: int = lever(2, "Days from the Iranian attack to the US answer", unit="days", ge=0, le=60, plausible=(0, 7), why=GUESS_RANGE)
    targets: int = lever(40, "Aimpoints struck in the answer", unit="targets", ge=0, le=1000, plausible=(10, 100), why="seed 000: 85+ targets answered the deadliest militia attack; a direct Iranian attack would meet a similar order (reasoning)")
    munitions_per_target: float = lever(1.5, "Precision munitions per aimpoint", unit="munitions/target", ge=1, le=5, plausible=(1.0, 2.5), why=MUNITIONS)


LEADERS = ("US strikes in Baghdad killed a Harakat al-Nujaba commander on 4 Jan 2024 and a Kataib Hezbollah "
           "commander on 7 Feb 2024 (public record): two in about four months of attacks")


class Leadership(Strict):
    """Leadership strikes (issue 11 item 5): targeted killings of militia commanders."""

    probability: float = lever(0.0, "Chance that a group whose attacks hurt US personnel today is marked for a strike on one of its commanders (0 = never)", unit="probability", ge=0, le=1, plausible=(0.0, 0.5), why=LEADERS + "; from never to every other casualty attack")
    delay_days: int = lever(7, "Days from the marking to the strike (finding and fixing the target)", unit="days", ge=0, le=60, plausible=(2, 30), why=LEADERS + ": the 7 Feb strike came ten days after the Tower 22 attack")
    revenge_per_leader: float = param(0.6, "Revenge added to the group per commander killed", ge=0, le=5, plausible=(0.2, 1.5), why="the groups vowed revenge after each killing (public record); ten to thirty militants' worth of revenge (reasoning)")
    disruption: float = param(0.3, "Share of the group's attack intensity lost while its command is disrupted", ge=0, le=1, plausible=(0.0, 0.6), why="decapitation studies disagree (Jordan 2009: little effect on religious groups; Johnston 2012: less violence): from none to a large, short loss")
    disruption_days: int = param(14, "Days the command stays disrupted", unit="days", ge=0, le=365, plausible=(0, 60), why="a successor is named within days to weeks (reasoning)")
    host_per_strike: float = param(0.1, "Host-government pressure added per leadership strike", ge=0, le=1, plausible=(0.02, 0.3), why="the Iraqi government condemned the Baghdad killings and called for the coalition's exit (public record)")


class SelfDefence(Strict):
    """Self-defence strikes on launch teams (issue 11 item 5)."""

    probability: float = lever(0.0, "Chance that a militia attack brings a strike on its launch team the same day (0 = never)", unit="probability", ge=0, le=1, plausible=(0.0, 0.1), why="US aircraft struck a launch team near Abu Ghraib after the Ain al-Asad attack of 20 Nov 2023 (public record): rare against more than a hundred attacks; up to one attack in ten")
    militants_per_strike: float = param(1.5, "Mean militants killed by a strike on a launch team", unit="people", ge=0, le=20, plausible=(0.5, 4.0), why="launch teams are a few people; the Nov 2023 strike reportedly killed several (reasoning)")


class Doctrine(Strict):
    triggers: Triggers = Field(default_factory=Triggers)
    proportionate: Proportionate = Field(default_factory=Proportionate)
    campaign: Campaign = Field(default_factory=Campaign)
    preemption: Preemption = Field(default_factory=Preemption)
    scope: Scope = Field(default_factory=Scope)
    precision: Precision = Field(default_factory=Precision)
    direct_response: DirectResponse = Field(default_factory=DirectResponse)
    leadership: Leadership = Field(default_factory=Leadership)
    self_defence: SelfDefence = Field(default_factory=SelfDefence)


class US(Strict):
    doctrine: Doctrine = Field(default_factory=Doctrine)
    credibility_gain: float = param(0.25, "Most US credibility a strike can add (the share of the gap to full credibility, at a very large relative dose)", ge=0, le=1, plausible=(0.05, 0.5), why=GUESS_RANGE)
    credibility_dose_scale: float = param(20.0, "Aimpoints of a strike that, with no strike before, gives half the largest credibility gain", unit="targets", ge=1, le=1000, plausible=(5.0, 60.0), why="seeds 000 and 002: a 3-facility strike (a few aimpoints) and an 85-target campaign bracket what the parties saw as limited and massive; half effect between them")
    credibility_dose_hill: float = param(1.0, "Steepness (Hill exponent) of credibility's dose-response in the relative dose", ge=0.1, le=5, plausible=(0.5, 2.0), why="deterrence studies find effects of the size of force shown but not its shape (Huth 1988; Rid 2012): from concave to sigmoid")
    credibility_half_life_days: float = param(30.0, "Half-life of US deterrent credibility", unit="days", gt=0, le=365, plausible=(10.0, 90.0), why=MEMORY)
    domestic_per_injured: float = param(0.02, "Domestic pressure added per US injured", unit="1/person", ge=0, le=1, plausible=(0.005, 0.05), why=GUESS_RANGE)
    domestic_per_killed: float = param(0.3, "Domestic pressure added per US killed", unit="1/person", ge=0, le=5, plausible=(0.1, 0.8), why="seed 000: three US deaths (Jordan) brought the largest response of the period")
    domestic_half_life_days: float = param(30.0, "Half-life of domestic pressure", unit="days", gt=0, le=365, plausible=(10.0, 90.0), why=MEMORY)
    size_gain: float = param(0.3, "Response size gained per unit of domestic plus outside pressure", ge=0, le=5, plausible=(0.0, 1.0), why=GUESS_RANGE)
    host_per_harm: float = param(0.1, "Host-nation pressure added per civilian-harm event", unit="1/event", ge=0, le=1, plausible=(0.02, 0.3), why=GUESS_RANGE)
    host_per_facility: float = param(0.01, "Host-nation pressure added per facility struck", unit="1/facility", ge=0, le=1, plausible=(0.0, 0.03), why=GUESS_RANGE)
    host_half_life_days: float = param(30.0, "Half-life of the strike-driven part of host-nation pressure", unit="days", gt=0, le=365, plausible=(10.0, 90.0), why=MEMORY)


# --------------------------------------------------------------------------- Iran


class FacilitySet(Strict):
    """IRGC facilities in one area."""

    facilities_per_kind: int = param(1, "Facilities of each of the five kinds", unit="facilities", ge=0, le=20, plausible=times(0.5, 2), why=FACILITIES)
    aimpoints_per_facility: int = param(8, "Aimpoints per facility", unit="targets", ge=1, le=60, plausible=times(0.5, 2), why=FACILITIES)
    lon: float = setting(40.8, "Longitude of the area", unit="degrees", ge=30, le=65)
    lat: float = setting(34.4, "Latitude of the area", unit="degrees", ge=24, le=42)


class Iran(Strict):
    """Iran (IRGC Quds Force): sponsor, restrainer, and possible direct actor."""

    resupply_rate: float = param(0.02, "Share of a group's missing weapons Iran replaces per day (times logistics health and alignment)", unit="1/day", ge=0, le=1, plausible=(0.005, 0.05), why="brief: Iran resupplies lost capacity over time: weeks to months to refill (reasoning)")
    rebuild_rate: float = param(0.01, "Share of destroyed aimpoints rebuilt per day", unit="1/day", ge=0, le=1, plausible=(0.003, 0.03), why="rebuilding struck sites takes one to a few months (reasoning)")
    restraint_min: float = param(0.05, "Restraint on the proxies when war risk is nil", ge=0, le=1, plausible=(0.0, 0.2), why=RESTRAINT)
    restraint_max: float = param(0.85, "Restraint on the proxies when war risk is extreme", ge=0, le=1, plausible=(0.6, 0.95), why=RESTRAINT)
    restraint_threshold: float = param(1.5, "War-risk index at which restraint is halfway", ge=0, le=20, plausible=(0.75, 3.0), why=RESTRAINT)
    restraint_slope: float = param(2.5, "Steepness of restraint against war risk", gt=0, le=50, plausible=(1.0, 5.0), why=RESTRAINT)
    restraint_speed: float = param(0.15, "Share of the gap to the target restraint closed per day", unit="1/day", ge=0, le=1, plausible=(0.05, 0.4), why=RESTRAINT)
    risk_per_target: float = param(0.02, "War-risk index added per aimpoint the US strikes", unit="1/target", ge=0, le=1, plausible=(0.005, 0.05), why=GUESS_RANGE)
    risk_per_us_killed: float = param(0.35, "War-risk index added per US service member killed", unit="1/person", ge=0, le=5, plausible=(0.1, 0.8), why=GUESS_RANGE)
    risk_per_irgc_killed: float = param(0.3, "War-risk index added per IRGC member killed", unit="1/person", ge=0, le=5, plausible=(0.1, 0.8), why=REDLINE)
    risk_half_life_days: float = param(21.0, "Half-life of the war-risk index", unit="days", gt=0, le=365, plausible=(7.0, 60.0), why=MEMORY)
    hostility_per_irgc_killed: float = param(0.15, "Hostility added per IRGC member killed", unit="1/person", ge=0, le=5, plausible=(0.05, 0.5), why=REDLINE)
    hostility_per_iran_target: float = param(0.05, "Hostility added per aimpoint struck inside Iran", unit="1/target", ge=0, le=5, plausible=(0.01, 0.15), why=REDLINE)
    hostility_half_life_days: float = param(30.0, "Half-life of hostility", unit="days", gt=0, le=365, plausible=(10.0, 90.0), why=MEMORY)
    red_line_irgc_killed: int = param(10, "IRGC members killed (cumulative) that cross Iran's personnel red line", unit="people", ge=1, le=10000, plausible=(3, 30), why=REDLINE)
    red_line_territory: bool = param(True, "Any strike inside Iran crosses a red line", unit="", why=EITHER)
    direct_propensity: float = param(0.05, "Daily hazard of a direct Iranian attack per unit hostility, once a red line is crossed", unit="1/day", ge=0, le=5, plausible=(0.01, 0.2), why="seed 000 and the brief: Iran said it does not seek a direct confrontation, and none happened; a low daily hazard once a red line is crossed")
    direct_salvo: int = param(12, "Missiles in a direct Iranian attack", unit="weapons", ge=1, le=1000, plausible=(4, 30), why=GUESS_RANGE)
    irgc_abroad: FacilitySet = Field(default_factory=lambda: FacilitySet(facilities_per_kind=1, aimpoints_per_facility=8, lon=40.6, lat=34.5))
    homeland: FacilitySet = Field(default_factory=lambda: FacilitySet(facilities_per_kind=1, aimpoints_per_facility=10, lon=47.0, lat=33.5))

    @model_validator(mode="after")
    def _restraint_order(self) -> "Iran":
        if self.restraint_min > self.restraint_max:
            raise ValueError("restraint_min must not exceed restraint_max")
        return self


# --------------------------------------------------------------------------- stand-downs


KH2024 = ("Kataib Hezbollah announced a suspension of its attacks on US forces on 30 Jan 2024, two days after the "
          "Tower 22 attack and before the US campaign of 2 Feb; attacks on US forces in Iraq and Syria then stayed "
          "rare for months (public record)")
TRUCE2020 = ("the Iraqi factions' conditional truce of Oct 2020 held about five weeks before rockets hit Baghdad "
             "again; the 2024 pause lasted months: from weeks to about half a year (public record)")


class StandDown(Strict):
    """Stand-down decisions (issue 11 item 1): Iran or a group's leadership orders attacks on US forces stopped.

    An order is a discrete, announced decision taken when an alarm crosses a threshold; each group
    obeys an Iranian order by its alignment, less so the more revenge and grievance it carries; a
    stand-down ends by a daily hazard or is broken by a new grievance (a leader or militants killed).
    """

    enabled: bool = param(True, "Iran and the groups' leaderships may order stand-downs", unit="", why=EITHER)
    iran_threshold: float = param(1.0, "Iran's alarm (war risk + host weight x host pressure) at which it orders every group to stand down", ge=0, le=20, plausible=(0.5, 2.5), why=KH2024 + "; Iran was reported to have pressed the groups after the US deaths, whose war-risk weight (0.35 per death) puts three deaths near 1")
    host_weight: float = param(1.0, "Weight of host-government pressure (0-1 index) in Iran's and the leaders' alarm", ge=0, le=10, plausible=(0.0, 2.0), why="the 2024 suspension was explained by not wishing to embarrass the Iraqi government; how much that weighs is unknown, from none to double (reasoning)")
    leader_threshold: float = param(0.8, "A group leadership's alarm at which it orders its own stand-down", ge=0, le=20, plausible=(0.4, 2.0), why=KH2024 + ": the group behind the deaths stood down on its own announcement")
    alarm_per_fatal_attack: float = param(2.5, "Alarm added to a group's leadership per fatal attack it made (it expects the US answer), times (1 - risk tolerance)", ge=0, le=20, plausible=(1.0, 5.0), why=KH2024 + ": one fatal attack sufficed for the group behind it")
    alarm_half_life_days: float = param(14.0, "Half-life of a leadership's alarm", unit="days", gt=0, le=365, plausible=(5.0, 45.0), why=MEMORY)
    mean_days: float = param(60.0, "Mean length of a stand-down (its daily end hazard is 1 / mean_days)", unit="days", gt=0, le=1000, plausible=(21.0, 180.0), why=TRUCE2020)
    residual: float = param(0.05, "Share of its attack intensity a group keeps while standing down (splinter cells, cover names)", ge=0, le=1, plausible=(0.0, 0.2), why="attacks on US forces nearly stopped after the 2024 suspension, with a few claimed by other names (public record); from none to a fifth")
    obedience_grievance_weight: float = param(0.5, "How revenge plus grievance lower a group's chance to obey Iran's order (chance = alignment x exp(-w x (revenge + grievance)))", ge=0, le=10, plausible=(0.0, 2.0), why="in 2024 Harakat al-Nujaba said it would keep attacking while Kataib Hezbollah stood down: obedience was partial; how grievance bends it is unknown (reasoning)")
    break_revenge: float = param(0.3, "Revenge added to a standing-down group in one day that breaks its stand-down (a new grievance)", ge=0, le=20, plausible=(0.1, 1.0), why="a leader killed ends a pause (the US strike of 7 Feb 2024 killed a Kataib Hezbollah commander, and the groups vowed revenge); how large a blow it takes is unknown (reasoning)")


# --------------------------------------------------------------------------- ceasefire windows


CEASEFIRE_ACTORS = ("militias", "iran", "us")
"""Observers of a ceasefire window besides group ids: every group, Iran, the United States."""
def _observers(description: str) -> Any:
    """An observers list (group ids or :data:`CEASEFIRE_ACTORS`; all of the latter by default)."""
    return Field(default_factory=lambda: list(CEASEFIRE_ACTORS), min_length=1, max_length=20,
                 description=description, json_schema_extra={"unit": "", "role": "setting"})


PAUSE2023 = ("the Gaza humanitarian pause of 24-30 Nov 2023: attacks on US forces in Iraq and Syria largely "
             "stopped while it held and resumed after it (public record, not in the seeds)")


class CeasefireWindow(Strict):
    """One ceasefire window: the days from ``start`` to ``end`` (both included), who observes it, how well."""

    name: str = Field("ceasefire", min_length=1, max_length=80, description="Label of the window in the event log",
                      json_schema_extra={"unit": "", "role": "setting"})
    start: dt.date = setting(dt.date(2023, 11, 24), "First day of the window (inside the run)", unit="date")
    end: dt.date = setting(dt.date(2023, 11, 30), "Last day of the window, included (on or after start, inside the run)",
                           unit="date")
    observers: list[str] = _observers("Who observes the window: group ids, 'militias' (every group), 'iran', 'us'")
    obedience: float | None = setting(None, "Chance that an observing group honours this window (empty: "
                                            "ceasefire.obedience)", unit="probability", ge=0, le=1)


class Ceasefire(Strict):
    """Ceasefire windows (issue 11 item 2): announced truces that observing actors keep for their whole length.

    An observing group honours a window with chance ``obedience`` (drawn per replicate and group when the
    window opens) and then makes no attacks while it is open, or defies it and attacks as usual; an
    observing Iran makes no direct attack; an observing United States orders and makes no retaliatory,
    campaign, preemptive or leadership strike (orders falling due inside the window are dropped) but
    keeps its self-defence strikes on launch teams that attack.  ``windows`` are dated; ``start_day`` and
    ``days`` give one more window in days of the run (the web page's truce), observed by ``observers``.
    """

    obedience: float = param(0.9, "Chance that an observing group honours a ceasefire window for its whole length "
                                  "(drawn per replicate and group when the window opens)", unit="probability",
                             ge=0, le=1, plausible=(0.5, 1.0),
                             why=PAUSE2023 + "; and on 30 Jan 2024 Kataib Hezbollah suspended its attacks while Harakat "
                                             "al-Nujaba said it would go on: most, not all, groups keep a truce")
    start_day: int = setting(30, "Day of the run on which the truce given in run days opens", unit="days",
                             ge=0, le=3650)
    days: int = setting(0, "Length of the truce given in run days (0 = none)", unit="days", ge=0, le=3650)
    observers: list[str] = _observers(
        "Who observes the truce given in run days: group ids, 'militias' (every group), 'iran', 'us'")
    windows: list[CeasefireWindow] = Field(default_factory=list, max_length=100, description="Dated ceasefire windows, each {name, start, end (days included, inside the "
                                                       "run, end not before start), observers (group ids, militias, iran, "
                                                       "us), obedience (0-1; empty: ceasefire.obedience)}",
                                           json_schema_extra={"unit": "", "role": "setting"})


# --------------------------------------------------------------------------- ladder and shocks


class Ladder(Strict):
    memory_days: int = param(30, "Days an event keeps its rung active", unit="days", ge=1, le=365, plausible=(14, 60), why=MEMORY)
    harassment_days: int = param(14, "Days an attack keeps the 'harassment' rung active", unit="days", ge=1, le=365, plausible=(7, 30), why=MEMORY)
    regional_war_exchanges: int = param(3, "Direct state-on-state exchanges within memory that make a regional war", unit="events", ge=1, le=100, plausible=(2, 5), why="a definition: two to five state-on-state exchanges within the memory make a war (reasoning)")


ShockKind = Literal["attack", "strike", "tension", "outside_pressure", "iran_direct"]


class Shock(Strict):
    """A scripted event forced on a date (counterfactual experiments)."""

    date: dt.date = setting(dt.date(2024, 1, 28), "Date of the shock", unit="date")
    kind: ShockKind = setting("attack", "attack | strike | tension | outside_pressure | iran_direct", unit="")
    group: str | None = setting(None, "Attacking group id (attack) or focus group (strike)", unit="")
    base: str | None = setting(None, "Base attacked (attack, iran_direct)", unit="")
    weapon: Literal["uav", "rocket", "missile"] = setting("uav", "Weapon of a scripted attack", unit="")
    injured: int = setting(0, "US injured by a scripted attack", unit="people", ge=0, le=10000)
    killed: int = setting(0, "US killed by a scripted attack", unit="people", ge=0, le=10000)
    targets: int = setting(0, "Aimpoints of a scripted US strike", unit="targets", ge=0, le=1000)
    scope: Literal["militia", "irgc_facilities", "inside_iran"] = setting("militia", "Where a scripted strike falls", unit="")
    value: float = setting(0.0, "New value of the driver (tension, outside_pressure)", ge=0, le=1)
    days: int = setting(1, "Days the driver override lasts", unit="days", ge=1, le=3650)


# --------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """A complete scenario: one run's every parameter."""

    name: str = Field("scenario", min_length=1, max_length=80, description="Short name of the scenario",
                      json_schema_extra={"unit": "", "role": "setting"})
    question: str = Field("", max_length=2000, description="The question the scenario answers",
                          json_schema_extra={"unit": "", "role": "setting"})
    extends: str | None = Field(None, description="Scenario this one inherits from (resolved on load)",
                                json_schema_extra={"unit": "", "role": "setting"})
    start_date: dt.date = setting(dt.date(2023, 10, 17), "First day of the run (1900-01-01 to 2200-12-31)",
                                  unit="date")
    days: int = setting(365, "Horizon of the run", unit="days", ge=1, le=3650)
    drivers: Drivers = Field(default_factory=Drivers)
    militia: Militia = Field(default_factory=Militia)
    bases: list[Base] = Field(default_factory=_default_bases, min_length=1, max_length=50)
    us: US = Field(default_factory=US)
    iran: Iran = Field(default_factory=Iran)
    ladder: Ladder = Field(default_factory=Ladder)
    standdown: StandDown = Field(default_factory=StandDown)
    ceasefire: Ceasefire = Field(default_factory=Ceasefire)
    shocks: list[Shock] = Field(default_factory=list, max_length=1000, json_schema_extra={
        "unit": "", "role": "uncertainty", "why": "scripted events, not a number: no range (sweeps cannot vary them)"})

    @field_validator("bases")
    @classmethod
    def _unique_bases(cls, v: list[Base]) -> list[Base]:
        ids = [b.id for b in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"base ids must be unique; repeated: {', '.join(dup)}")
        return v

    @field_validator("start_date")
    @classmethod
    def _calendar(cls, v: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= v <= dt.date(2200, 12, 31):
            raise ValueError(f"{v.isoformat()} is outside the calendar the tables can hold "
                             "(1900-01-01 to 2200-12-31)")
        return v

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        groups = {g.id for g in self.militia.groups}
        bases = {b.id for b in self.bases}
        countries = {b.country for b in self.bases}
        for g in self.militia.groups:
            if not set(g.reach) & countries:
                raise ValueError(f"group {g.id!r} can reach no base: reach {g.reach} but bases are in {sorted(countries)}")
        for i, s in enumerate(self.shocks):
            if s.group is not None and s.group not in groups:
                raise ValueError(f"shocks[{i}].group {s.group!r} is not a group id; allowed: {', '.join(sorted(groups))}")
            if s.base is not None and s.base not in bases:
                raise ValueError(f"shocks[{i}].base {s.base!r} is not a base id; allowed: {', '.join(sorted(bases))}")
        self._ceasefire_checks(groups)
        return self

    def _ceasefire_checks(self, groups: set[str]) -> None:
        """Observers that exist; windows inside the run, ending on or after their start."""
        cf = self.ceasefire
        allowed = ", ".join([*CEASEFIRE_ACTORS, *sorted(groups)])
        lists = [("ceasefire.observers", cf.observers)]
        lists += [(f"ceasefire.windows[{i}].observers", w.observers) for i, w in enumerate(cf.windows)]
        for where, observers in lists:
            for j, who in enumerate(observers):
                if who not in CEASEFIRE_ACTORS and who not in groups:
                    raise ValueError(f"{where}[{j}] {who!r} is not an observer; allowed: {allowed}")
        names = [w.name for w in cf.windows] + (["truce"] if cf.days > 0 else [])
        for i, w in enumerate(cf.windows):
            if names.count(w.name) > 1:
                raise ValueError(f"ceasefire.windows[{i}].name {w.name!r} is used by another window (the event "
                                 f"log names windows); allowed: a name no other window has"
                                 + (" ('truce' is the window of ceasefire.days)" if w.name == "truce" else ""))
        first, last = self.start_date, self.end_date
        inside = f"dates from {first.isoformat()} to {last.isoformat()} (the run's days)"
        for i, w in enumerate(cf.windows):
            for key in ("start", "end"):
                day = getattr(w, key)
                if not first <= day <= last:
                    raise ValueError(f"ceasefire.windows[{i}].{key} {day.isoformat()} is outside the run; "
                                     f"allowed: {inside}")
            if w.end < w.start:
                raise ValueError(f"ceasefire.windows[{i}].end {w.end.isoformat()} is before its start "
                                 f"{w.start.isoformat()}; allowed: {w.start.isoformat()} to {last.isoformat()}")
        if cf.days > 0 and cf.start_day + cf.days > self.days:
            raise ValueError(f"ceasefire.days {cf.days} from day {cf.start_day} ends after the run's last day "
                             f"({self.days - 1}); allowed: at most {max(self.days - cf.start_day, 0)} days from "
                             f"day {cf.start_day}, or 0 (no truce)")

    # ------------------------------------------------------------------ derived facts
    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.days - 1)

    def allows_strikes_in_iran(self) -> bool:
        """True if any rule of this scenario may strike inside Iran."""
        d = self.us.doctrine
        return bool(
            (d.scope.inside_iran and d.scope.iran_share > 0)
            or d.direct_response.target == "inside_iran"
            or any(s.kind == "strike" and s.scope == "inside_iran" for s in self.shocks)
        )


# --------------------------------------------------------------------------- introspection


class ParamInfo(BaseModel):
    """One parameter as the CLI, docs and web page show it."""

    path: str
    type: str
    default: Any
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    lt: float | None = None
    unit: str = ""
    role: str = "uncertainty"
    description: str = ""
    choices: list[Any] | None = None
    plausible: tuple[float, float] | None = None
    """Plausible [low, high] of a number (inside the bounds); for a true/false or a choice see ``plausible_values``."""
    plausible_values: list[Any] | None = None
    why: str = ""
    """The source or reasoning of the plausible range."""

    @property
    def plausible_text(self) -> str:
        """The plausible range as text: ``[lo, hi]`` or the plausible values."""
        if self.plausible is not None:
            return f"[{self.plausible[0]:g}, {self.plausible[1]:g}]"
        if self.plausible_values is not None:
            return " | ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in self.plausible_values)
        return ""

    @property
    def bounds(self) -> str:
        lo = f"[{self.ge:g}" if self.ge is not None else (f"({self.gt:g}" if self.gt is not None else "(-inf")
        hi = f"{self.le:g}]" if self.le is not None else (f"{self.lt:g})" if self.lt is not None else "inf)")
        if self.choices is not None:
            return " | ".join(str(c) for c in self.choices)
        return f"{lo}, {hi}"

    @property
    def allowed(self) -> str:
        """The allowed values as shown to users: choices, ``true | false``, or a numeric interval (empty for
        text, dates and lists)."""
        if self.choices is not None:
            return self.bounds
        if self.type == "bool":
            return "true | false"
        if all(getattr(self, k) is None for k in ("ge", "le", "gt", "lt")):
            return ""
        return self.bounds


def _field_info(path: str, finfo: Any, default: Any) -> ParamInfo:
    from typing import get_args, get_origin

    extra = finfo.json_schema_extra or {}
    bounds: dict[str, float | None] = {"ge": None, "le": None, "gt": None, "lt": None}
    for m in finfo.metadata:
        for k in bounds:
            if getattr(m, k, None) is not None:
                bounds[k] = getattr(m, k)
    ann = finfo.annotation
    choices = None
    if get_origin(ann) is Literal:
        choices = list(get_args(ann))
    tname = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
    role = extra.get("role", "uncertainty")
    plausible, values = _plausible(extra.get("plausible"), default, tname, role, choices, bounds)
    return ParamInfo(path=path, type=tname, default=default, unit=extra.get("unit", ""), role=role,
                     description=finfo.description or "", choices=choices, plausible=plausible,
                     plausible_values=values, why=extra.get("why", ""), **bounds)


def _plausible(spec: Any, default: Any, tname: str, role: str, choices: list[Any] | None,
               bounds: dict[str, float | None]) -> tuple[tuple[float, float] | None, list[Any] | None]:
    """Resolve a declared plausible range: ``times`` ranges scale the default at the path and are clipped
    to the bounds; whole-number ranges are rounded; switches and choices are plausible in every value."""
    if role == "setting":
        return None, None
    if choices is not None:
        return None, list(choices)
    if tname == "bool":
        return None, [False, True]
    if spec is None:
        return None, None
    if isinstance(spec, dict):
        lo, hi = (float(default) * k for k in spec["times"])
        floor = bounds["ge"] if bounds["ge"] is not None else bounds["gt"]
        ceiling = bounds["le"] if bounds["le"] is not None else bounds["lt"]
        lo = lo if floor is None else max(lo, floor)
        hi = hi if ceiling is None else min(hi, ceiling)
    else:
        lo, hi = spec
    if tname == "int":
        lo, hi = math.floor(lo), math.ceil(hi)
        if bounds["ge"] is not None:
            lo = max(lo, int(bounds["ge"]))
        return (int(lo), int(hi)), None
    return (float(f"{lo:.6g}"), float(f"{hi:.6g}")), None


def iter_parameters(model: BaseModel | None = None, prefix: str = "",
                    defaults: BaseModel | None = None) -> Iterator[tuple[ParamInfo, Any]]:
    """Yield (info, current value) for every scalar parameter of a scenario.

    Lists of groups and bases are addressed by id (``militia.groups.kh.base_rate``);
    drivers and shocks are listed as whole values.  The default shown is the
    default scenario's value at the same path (so a group's default is the
    default group of that id, not the bare class default).
    """
    model = model if model is not None else Scenario()
    if defaults is None and isinstance(model, Scenario):
        defaults = Scenario()
    for name, finfo in type(model).model_fields.items():
        value = getattr(model, name)
        dvalue = getattr(defaults, name) if defaults is not None else finfo.get_default(call_default_factory=True)
        path = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from iter_parameters(value, path + ".", dvalue if isinstance(dvalue, BaseModel) else None)
        elif isinstance(value, list) and value and isinstance(value[0], (Group, Base)):
            by_id = {d.id: d for d in (dvalue or [])}
            for item in value:
                yield from iter_parameters(item, f"{path}.{item.id}.", by_id.get(item.id))
        else:
            if isinstance(dvalue, list):
                dvalue = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in dvalue]
                value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
            yield _field_info(path, finfo, dvalue), value
