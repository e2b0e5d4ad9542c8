"""Scenario sweeps: many runs of one scenario over a design of parameter values.

* :mod:`sim.sweep.spec` reads and strictly validates a sweep spec (YAML).
* :mod:`sim.sweep.designs` turns a spec into a design table (grid, Latin
  hypercube, Saltelli/Sobol, Morris).
* :mod:`sim.sweep.work` runs one chunk of runs and reduces each run to its outcomes.
* :mod:`sim.sweep.executors` runs chunks in-process, in local processes or on Dask.
* :mod:`sim.sweep.store` writes the results (Parquet, one file per chunk) and the manifest.
* :mod:`sim.sweep.run` drives a sweep (new or resumed).
* :mod:`sim.sweep.analyze` reads a finished sweep: Sobol, Morris, heatmap, tornado, summaries.

Seeding: run ``k = point * replicates + replicate`` draws from
``numpy.random.SeedSequence(seed, spawn_key=(k,))`` (see :mod:`sim.sweep.work`),
so results never depend on the executor, the worker count or completion order.
"""

from .spec import SweepSpec, load_spec

__all__ = ["SweepSpec", "load_spec"]
