"""Escalation-dynamics simulator: the United States, Iran and Iran-backed militias since 17 October 2023."""

from .model import EscalationModel
from .runner import run_replicates
from .schema import Scenario

__version__ = "0.1.0"
__all__ = ["EscalationModel", "Scenario", "run_replicates", "__version__"]
