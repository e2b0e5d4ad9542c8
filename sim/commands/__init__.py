"""Subcommands of the ``escalation`` command line, one module per subcommand.

Adding a subcommand
-------------------
1. Write ``sim/commands/<name>.py`` with a function ``register(subparsers)``
   that adds its parser and sets the function to call::

       def register(subparsers):
           p = subparsers.add_parser("sweep", help="one line shown in 'escalation --help'",
                                     description="longer text shown in 'escalation sweep --help'")
           p.add_argument("scenario", metavar="SCENARIO")
           add_simulation_options(p)        # optional, from sim.commands._common
           p.set_defaults(func=main)

       def main(args) -> int:           # returns the exit status (0 = success)
           ...

2. Append ``"<name>"`` to :data:`sim.cli.COMMANDS`.  That is the only edit
   outside the new module.

What the CLI does for every subcommand (so a command module need not):

* adds ``--quiet`` and ``--debug`` to its parser (read them as ``args.quiet``
  and ``args.debug``) and sets up logging to stderr (logger ``sim``);
* turns :class:`sim.errors.ScenarioError` / :class:`sim.errors.InputError`
  raised by ``func`` into its message on stderr and exit status 2, any other
  exception into a one-line message and exit status 1 (the traceback with
  ``--debug``);
* turns argparse usage errors into exit status 2.

Conventions: results go to files (in a folder written through
:class:`sim.folders.ResultFolder`, so a failure leaves nothing behind) and the
result folder's path is printed on stdout; messages go through ``logging``;
progress bars through :func:`sim.commands._common.progress`.  Import heavy
modules (mesa, pandas, matplotlib) inside the function, not at module level, so
``escalation --help`` stays quick.  Shared options and helpers (replicates,
seed, days, --set, --engine, --out, loading a scenario, choosing and running
an engine, writing a run folder, printing tables) are in
:mod:`sim.commands._common`.
"""
