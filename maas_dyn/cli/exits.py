"""Exit codes of ``maas-dyn`` (one table) and the errors that carry them.

Every way the CLI can end maps to one row of :data:`EXIT_CODES`; ``maas-dyn -h``
prints the same table, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from maas_dyn._dynamic import closest
from maas_dyn.errors import ConfigurationError, InvalidParametersError

__all__ = ["EXIT_CODES", "CLIError", "ExitCode", "UsageError", "exit_code_for", "unknown"]


class ExitCode(IntEnum):
    """How ``maas-dyn`` ended; see :data:`EXIT_CODES` for the meaning of each."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    WAIT_FAILED = 3
    WAIT_TIMEOUT = 4
    INTERRUPTED = 130


EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success: the server answered 2xx"),
    (ExitCode.FAILURE, "the server answered an error (its message is printed on stderr), "
                       "could not be reached, or a local file could not be read or written"),
    (ExitCode.USAGE, "usage error: unknown profile, handler, action or option, missing path "
                     "parameter, malformed key=value, unreadable key@=FILE (argparse's code)"),
    (ExitCode.WAIT_FAILED, "--wait: the machine ended in a failed status (Failed ..., Broken)"),
    (ExitCode.WAIT_TIMEOUT, "--wait: the machine was still busy when --timeout ran out"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)


class CLIError(Exception):
    """A reason to stop, with the exit code to stop with and a one-line message."""

    code: ExitCode = ExitCode.FAILURE


class UsageError(CLIError):
    """The command line cannot be carried out as typed (exit code 2)."""

    code = ExitCode.USAGE


def unknown(what: str, name: str, options: Iterable[str], extra: str = "") -> UsageError:
    """Build the usage error for a name that does not exist, with the closest valid ones.

    Args:
        what: What was looked up, e.g. ``"handler"``.
        name: What the user typed.
        options: The valid names.
        extra: A hint appended to the message.

    Returns:
        The error, ready to raise.
    """
    hint = closest(name, options)
    suggestion = f"; did you mean {', '.join(hint)}?" if hint else ""
    tail = f" ({extra})" if extra else ""
    return UsageError(f"unknown {what} {name!r}{suggestion}{tail}")


# Library errors that mean "the command line was wrong" rather than "the call failed".
_USAGE_ERRORS: tuple[type[Exception], ...] = (ConfigurationError, InvalidParametersError)


def exit_code_for(error: Exception) -> ExitCode:
    """Return the exit code for an error that ended a command.

    Args:
        error: A :class:`CLIError` or an error raised by the library.

    Returns:
        Its exit code: usage errors (bad URL or key given on the command line, bad
        parameters) are 2, everything else (server answers, transport) is 1.
    """
    if isinstance(error, CLIError):
        return error.code
    return ExitCode.USAGE if isinstance(error, _USAGE_ERRORS) else ExitCode.FAILURE
