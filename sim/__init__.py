"""Escalation-dynamics simulator: the United States, Iran and Iran-backed militias since 17 October 2023.

The public names are imported on first use, so ``escalation --help`` does not pay
for importing Mesa and pandas.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["EscalationModel", "Scenario", "run_replicates", "load_scenario", "__version__"]

_LAZY = {
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
