"""The parameters one day of the model reads: one value, or one value per replicate.

:class:`Params` holds every numeric parameter the day uses, taken from a
compiled scenario.  Each may be replaced by an array with one value per
replicate (``Params(compiled, R, {path: values})``), so that R replicates of one
engine call can each run their own parameter vector -- an ABC particle, a
posterior draw or a sweep's design point -- without copying the scenario.

Shapes: a scalar parameter is a Python number or an (R,) array; a parameter per
group, weapon or base is a (G,)/(W,)/(B,) array or an (R, G)/(R, W)/(R, B) array.
The phase code reads them through :func:`at` (values at some replicates),
:func:`col` (a scalar parameter against an (R, G) array) and :func:`row`
(a per-group/weapon/base parameter at some replicates).

What cannot vary per replicate (:data:`FIXED`): the horizon, dates, drivers,
shocks and ceasefire windows (:mod:`sim.dynamics.ceasefire` reads them from the
scenario), the facility layout and initial stocks, base exposure (it sets the
targeting probabilities), weapon preferences, kind weights, the ladder, the
attack-count window, and every boolean or named choice.  Such values are one
per engine call; callers that vary them run one call per distinct value.
"""

from __future__ import annotations

import types
from typing import Any, Mapping

import numpy as np

from .. import rules
from ..compiled import Compiled
from ..schema import WEAPONS

GROUP_FIELDS = ("base_rate", "motivation", "alignment", "risk_tolerance")
WEAPON_FIELDS = ("interceptable", "p_injury", "p_fatal", "injured_extra_mean", "killed_extra_mean",
                 "injured_in_fatal_mean")
_WEAPON_ATTR = {"injured_extra_mean": "injured_extra", "killed_extra_mean": "killed_extra",
                "injured_in_fatal_mean": "injured_in_fatal"}
BASE_FIELDS = ("air_defence",)
DOCTRINE_BLOCKS = ("triggers", "proportionate", "campaign", "preemption", "scope", "precision", "direct_response",
                   "leadership", "self_defence")
HALF_LIVES = {
    "militia.attack.excitation_half_life_days": "excitation",
    "militia.attack.revenge_half_life_days": "revenge",
    "militia.attack.grievance_half_life_days": "grievance",
    "us.credibility_half_life_days": "credibility",
    "us.domestic_half_life_days": "domestic",
    "us.host_half_life_days": "host",
    "iran.risk_half_life_days": "war_risk",
    "iran.hostility_half_life_days": "hostility",
    "militia.attack.tempo_half_life_days": "tempo",
}
"""Half-lives and the retention factor (:attr:`Params.ret`) each one sets."""
FIXED = ("days", "start_date", "drivers", "shocks", "ceasefire", "ladder", "us.doctrine.triggers.window_days",
         "kind_weights", "facilities_per_kind", "aimpoints_per_facility", "stock", "exposure", "preference",
         "lon", "lat", "personnel", "irgc_abroad", "homeland")
"""Parameters (or path parts) that are one value per engine call."""


def at(x: Any, idx: Any) -> Any:
    """A scalar parameter at replicates ``idx``: unchanged if one value, else ``x[idx]``."""
    return x[idx] if isinstance(x, np.ndarray) and x.ndim else x


def col(x: Any) -> Any:
    """A scalar parameter shaped to broadcast against (R, G) arrays."""
    return x[:, None] if isinstance(x, np.ndarray) and x.ndim else x


def row(x: np.ndarray, idx: Any) -> np.ndarray:
    """A per-group/weapon/base parameter at replicates ``idx``: (K,) unchanged, (R, K) -> ``x[idx]``."""
    return x if x.ndim == 1 else x[idx]


def pick(x: np.ndarray, r: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Entry ``j`` of a per-weapon/base parameter for each replicate ``r`` (one per launch)."""
    return x[j] if x.ndim == 1 else x[r, j]


def _block(model: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{k: v for k, v in model.model_dump().items() if not isinstance(v, dict)})


class Params:
    """The numeric parameters of one engine call (see the module doc).

    Args:
        compiled: the scenario's arrays.
        replicates: R.
        values: ``{schema path: value or (R,) values}``; ``militia.groups.*.<field>``
            (or ``bases.*.<field>``, ``militia.weapons.*.<field>``) sets every item.
    """

    def __init__(self, compiled: Compiled, replicates: int, values: Mapping[str, Any] | None = None) -> None:
        c, s = compiled, compiled.scenario
        self.R = int(replicates)
        self.attack = _block(s.militia.attack)
        self.us = _block(s.us)
        doc = s.us.doctrine
        for name in DOCTRINE_BLOCKS:
            setattr(self, name, _block(getattr(doc, name)))
        self.iran = _block(s.iran)
        self.ladder = _block(s.ladder)
        self.standdown = _block(s.standdown)
        self.base_rate, self.motivation = c.base_rate, c.motivation
        self.alignment, self.risk_tolerance = c.alignment, c.risk_tolerance
        self.interceptable, self.p_injury, self.p_fatal = c.interceptable, c.p_injury, c.p_fatal
        self.injured_extra, self.killed_extra, self.injured_in_fatal = c.injured_extra, c.killed_extra, c.injured_in_fatal
        self.air_defence = c.air_defence
        self.ret: dict[str, Any] = dict(c.ret)
        self._c = c
        self.varied: tuple[str, ...] = ()
        for path, v in (values or {}).items():
            self.set(path, v)

    # ------------------------------------------------------------------ per-replicate values

    def set(self, path: str, values: Any) -> None:
        """Give ``path`` one value, or one value per replicate."""
        problem = why_fixed(path)
        if problem:
            raise ValueError(f"{path!r} cannot vary across the replicates of one engine call: {problem}")
        v = np.asarray(values, dtype=float)
        if v.ndim == 0:
            v = np.full(self.R, float(v))
        if v.shape != (self.R,):
            raise ValueError(f"{path!r}: expected one value or {self.R} values, got shape {v.shape}")
        if _numeric_paths()[_generic(path)] == "int":
            v = np.rint(v).astype(np.int64)
        parts = path.split(".")
        c = self._c
        if parts[:2] == ["militia", "groups"]:
            self._set_row(parts[3], parts[2], c.group_ids, v)
        elif parts[:2] == ["militia", "weapons"]:
            self._set_row(_WEAPON_ATTR.get(parts[3], parts[3]), parts[2], list(WEAPONS), v)
        elif parts[0] == "bases":
            self._set_row(parts[2], parts[1], c.base_ids, v)
        else:
            block = {"militia.attack": self.attack, "us": self.us, "iran": self.iran,
                     "standdown": self.standdown}.get(".".join(parts[:-1]))
            if block is None and parts[:2] == ["us", "doctrine"] and len(parts) == 4:
                block = getattr(self, parts[2])
            block.__dict__[parts[-1]] = v  # type: ignore[union-attr]
            if path in HALF_LIVES:
                self.ret[HALF_LIVES[path]] = rules.decay_factor(v)
        self.varied = (*self.varied, path)

    def _set_row(self, attr: str, item: str, ids: list[str], v: np.ndarray) -> None:
        cur = getattr(self, attr)
        arr = np.array(np.broadcast_to(cur, (self.R, cur.shape[-1])), dtype=float)
        if item == "*":
            arr[:] = v[:, None]
        else:
            arr[:, ids.index(item)] = v
        setattr(self, attr, arr)


def why_fixed(path: str) -> str:
    """Why ``path`` cannot vary per replicate ('' if it can)."""
    parts = path.split(".")
    if any(p in FIXED for p in parts) or path in FIXED:
        return "it shapes the run itself (horizon, layout, drivers, shocks, ceasefire windows, targeting or ladder)"
    if _generic(path) not in _numeric_paths():
        return "not a numeric parameter the day reads (booleans and named choices are one per call)"
    return ""


def _generic(path: str) -> str:
    """``path`` with ``*`` in place of a group, weapon or base id."""
    parts = path.split(".")
    return ".".join("*" if (i == 2 and parts[:2] in (["militia", "groups"], ["militia", "weapons"]))
                    or (i == 1 and parts[0] == "bases") else p for i, p in enumerate(parts))


_NUMERIC: dict[str, str] | None = None


def _numeric_paths() -> dict[str, str]:
    """Generic paths (``*`` for list items) of every int/float parameter that may vary per replicate,
    with their type."""
    global _NUMERIC
    if _NUMERIC is None:
        from ..schema import Scenario, iter_parameters

        out = {}
        for info, value in iter_parameters(Scenario()):
            if info.type not in ("int", "float") or isinstance(value, bool):
                continue
            out[_generic(info.path)] = info.type
        rows = {"militia.groups.": GROUP_FIELDS, "militia.weapons.": WEAPON_FIELDS, "bases.": BASE_FIELDS}
        _NUMERIC = {p: t for p, t in out.items() if not any(x in FIXED for x in p.split("."))
                    and all(not p.startswith(pre) or p.split(".")[-1] in keep for pre, keep in rows.items())}
    return _NUMERIC


def varies_per_replicate(path: str) -> bool:
    """True if ``path`` (concrete or with ``*``) may be given one value per replicate."""
    return why_fixed(path) == ""


__all__ = ["FIXED", "Params", "at", "col", "pick", "row", "varies_per_replicate", "why_fixed"]
