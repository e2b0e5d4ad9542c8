"""Errors about user input (scenario files, ``--set`` overrides, options).

Every mistake a user can make in their input is raised as a
:class:`ScenarioError`, which holds one or more :class:`Problem` records.  The
CLI prints ``str(err)`` (one problem per line, no traceback) and exits with
status 2.  A problem reads::

    scenarios/mine.yaml:12: us.doctrine.proportionate.delai_days: unknown key 'delai_days'; did you mean 'delay_days'? (allowed: delay_days, ...)

Parts that are not known (file, line, path, allowed values) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Problem", "ScenarioError", "InputError", "RunFailure"]

MAX_PATH = 80
"""Longest setting path quoted in a message (a key from a stray file is cut, not echoed whole)."""


@dataclass(frozen=True)
class Problem:
    """One mistake in the input, and where it is."""

    file: str | None
    line: int | None
    path: str
    message: str
    allowed: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        path = self.path if len(self.path) <= MAX_PATH else self.path[: MAX_PATH - 3] + "..."
        text = f"{where}{path}: {self.message}" if path else f"{where}{self.message}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text


class ScenarioError(Exception):
    """A user-input error carrying every problem found (not just the first).

    Build it from a list of :class:`Problem` objects, or from a single message::

        raise ScenarioError([Problem(...), Problem(...)])
        raise ScenarioError("the horizon must be positive", path="days")
        raise ScenarioError.single("no such scenario 'x'", allowed="baseline")
    """

    def __init__(
        self,
        problems: Iterable[Problem] | Problem | str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str = "",
        allowed: str | None = None,
    ) -> None:
        if isinstance(problems, str):
            items = [Problem(file, line, path, problems, allowed)]
        elif isinstance(problems, Problem):
            items = [problems]
        else:
            items = list(problems)
        if not items:
            items = [Problem(None, None, "", "invalid input")]
        self.problems: list[Problem] = items
        super().__init__(items)  # keeps the error picklable (re-built from args)

    @classmethod
    def single(
        cls,
        message: str,
        file: str | None = None,
        line: int | None = None,
        path: str = "",
        allowed: str | None = None,
    ) -> "ScenarioError":
        """An error with one problem (the common simple case)."""
        return cls(message, file=file, line=line, path=path, allowed=allowed)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class InputError(ScenarioError):
    """A user-input error that is not about a scenario (e.g. a bad CLI option).

    Same constructor and rendering as :class:`ScenarioError`; catching
    ``ScenarioError`` catches it too.
    """


class RunFailure(Exception):
    """A run that failed for a reason outside the input (a killed worker, a lost cluster) and whose
    remedy is known: the CLI prints the message (with the remedy) on one line or two, exit status 1,
    no traceback."""
