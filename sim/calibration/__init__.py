"""Calibration of a scenario to the seed figures (``escalation calibrate``).

* :mod:`.params`    free parameters (schema paths, uniform priors inside the schema's bounds);
* :mod:`.targets`   the seed figures as bands, the summary statistics, the distance, the fit table;
* :mod:`.arrays`    the per-day arrays the statistics read (engine records or run tables);
* :mod:`.simulate`  statistics for many parameter vectors at once;
* :mod:`.abc`       ABC-SMC (population Monte Carlo) -> posterior sample;
* :mod:`.smm`       simulated method of moments with common random numbers -> point estimate;
* :mod:`.posterior` posterior files and runs whose replicates draw their parameters from one;
* :mod:`.pipeline`  the whole calibration and its outputs; :mod:`.report` figures and report.

Method and choices: docs/CALIBRATION.md.
"""

from .params import DEFAULT_FREE, FreeParameter
from .posterior import load_posterior, posterior_overrides, run_with_posterior

__all__ = ["DEFAULT_FREE", "FreeParameter", "load_posterior", "posterior_overrides", "run_with_posterior",
           "calibrate"]


def calibrate(*args, **kwargs):
    """See :func:`sim.calibration.pipeline.calibrate`."""
    from .pipeline import calibrate as _calibrate

    return _calibrate(*args, **kwargs)
