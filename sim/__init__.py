"""Escalation-dynamics simulator: the United States, Iran and Iran-backed militias since 17 October 2023.

The public names (:data:`__all__`; see ``docs/api.md``) are imported on first use, so
``escalation --help`` does not pay for importing Mesa and pandas.  ``run_sweep`` is not called
``sweep`` because ``sim.sweep`` is the sweep subpackage.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = [
    # run a scenario and get tidy tables (sim.api)
    "load", "change", "parameters", "run", "Run",
    # compare, sweep, discover, plot
    "compare", "Comparison", "run_sweep", "discover", "plot",
    # problems for analysis tools and the EMA Workbench connector
    "salib_problem", "ema_parameters", "ema_model",
    # lower level: the schema, the Mesa model and its runner
    "Scenario", "EscalationModel", "run_replicates", "load_scenario", "__version__",
]

_LAZY = {
    "load": ("sim.api", "load"),
    "change": ("sim.api", "change"),
    "parameters": ("sim.api", "parameters"),
    "run": ("sim.api", "run"),
    "Run": ("sim.api", "Run"),
    "compare": ("sim.api", "compare"),
    "Comparison": ("sim.api", "Comparison"),
    "run_sweep": ("sim.api", "run_sweep"),
    "plot": ("sim.api", "plot"),
    "discover": ("sim.discovery", "discover"),
    "salib_problem": ("sim.problem", "salib_problem"),
    "ema_parameters": ("sim.problem", "ema_parameters"),
    "ema_model": ("sim.ema", "ema_model"),
    "EscalationModel": ("sim.model", "EscalationModel"),
    "Scenario": ("sim.schema", "Scenario"),
    "run_replicates": ("sim.runner", "run_replicates"),
    "load_scenario": ("sim.scenario_io", "load_scenario"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
