"""The ``escalation`` command line (also ``python -m sim``).

The parser is built from :data:`COMMANDS`: each name is a module
``sim.commands.<name>`` with a ``register(subparsers)`` function (see
:mod:`sim.commands`).  :func:`main` runs the chosen command and maps errors to
exit statuses:

* 0: success;
* 2: an input error (a bad scenario, ``--set``, option or folder): the message
  on stderr, no traceback, nothing written;
* 1: anything else (a bug or an environment problem): a one-line message and a
  hint to rerun with ``--debug``, which shows the traceback;
* 130: interrupted with Ctrl-C; 143: terminated (SIGTERM).  Both delete the
  folder being written (see :mod:`sim.folders`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Iterator, Sequence

from sim.errors import InputError, RunFailure, ScenarioError

COMMANDS = ["run", "compare", "plot", "validate", "params", "list", "sweep", "analyze", "discover", "report", "calibrate", "app"]
"""Subcommand modules under :mod:`sim.commands`, in the order ``--help`` lists them."""

PROG = "escalation"


class UsageError(InputError):
    """A command-line usage error found by argparse (unknown option, bad value, missing argument)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: {message}\n(see '{prog} --help')")
        self.prog, self.message = prog, message


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises :class:`UsageError` instead of printing and exiting.

    Abbreviated long options (``--rep`` for ``--replicates``) are refused: a
    script written today must not change meaning when an option is added.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(self.prog, message)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that every ``with`` block cleans up as for Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for one command (main thread only); restore the old handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--quiet`` and ``--debug``, accepted before or after the subcommand."""
    # On a subcommand the default is SUPPRESS, so it does not overwrite a value given before the subcommand.
    default = False if top else argparse.SUPPRESS
    g = parser.add_argument_group("general")
    g.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no progress bar and no information messages (warnings and errors still show)")
    g.add_argument("--debug", action="store_true", default=default,
                   help="debug messages, and the full traceback of an unexpected error")


def build_parser() -> argparse.ArgumentParser:
    """The full parser: global options plus one subparser per module in :data:`COMMANDS`."""
    from sim import __version__

    parser = _Parser(
        prog=PROG,
        description="Agent-based simulator of escalation between the United States, Iran and Iran-backed "
                    "militias since 17 October 2023.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sim.commands.{name}")
        except ImportError as exc:  # one broken command must not take the others down
            logging.getLogger("sim.cli").warning("command %r is unavailable: %s", name, exc)
            continue
        module.register(subparsers)
    seen: set[int] = set()
    for sub in subparsers.choices.values():
        if id(sub) not in seen:
            seen.add(id(sub))
            _global_options(sub, top=False)
    return parser


@contextlib.contextmanager
def _logging_to_stderr(quiet: bool, debug: bool) -> Iterator[None]:
    """Send the ``sim`` loggers to stderr for one command; restore the logger afterwards.

    Restoring matters when :func:`main` is called in-process (tests, notebooks):
    the ``sim`` logger is left as it was found.
    """
    logger = logging.getLogger("sim")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO))
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args, extra = parser.parse_known_args(argv)
        except SystemExit as exc:  # --help, --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        if extra:  # name the subcommand, whose --help lists the options it knows
            prog = f"{PROG} {args.command}" if getattr(args, "command", None) else PROG
            raise UsageError(prog, f"unrecognized arguments: {' '.join(extra)}")
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        debug = args.debug
        with _logging_to_stderr(args.quiet, args.debug), _sigterm_as_exception():
            return int(args.func(args) or 0)
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return 2
    except RunFailure as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return 1
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. 'escalation params | head'
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        hint = "" if debug else " (rerun with --debug to see the traceback)"
        print(f"{PROG}: unexpected error: {type(exc).__name__}: {first}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
