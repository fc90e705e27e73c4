"""Exit codes of ``maas-dyn`` (one table) and the errors that carry them.

Every way the CLI can end maps to one row of :data:`EXIT_CODES`; ``maas-dyn -h``
prints the same table, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from maas_dyn._dynamic import closest
from maas_dyn.errors import BadRequestError, ConfigurationError, InvalidParametersError

__all__ = ["EXIT_CODES", "CLIError", "ExitCode", "UsageError", "closed_pipe", "error_text",
           "exit_code_for", "unknown"]


class ExitCode(IntEnum):
    """How ``maas-dyn`` ended; see :data:`EXIT_CODES` for the meaning of each."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    WAIT_FAILED = 3
    # health's UNKNOWN: monitoring plugins' 3 (the same number as WAIT_FAILED).
    UNKNOWN = 3
    WAIT_TIMEOUT = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away


EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success: the server answered 2xx"),
    (ExitCode.FAILURE, "the server answered an error (its message is printed on stderr), "
                       "could not be reached, or a local file could not be read or written"),
    (ExitCode.USAGE, "usage error: unknown profile, handler, action or option, missing path "
                     "parameter, malformed key=value, unreadable key@=FILE (argparse's code)"),
    (ExitCode.WAIT_FAILED, "--wait: the machine ended in a failed status (Failed ..., "
                           "Broken); for `health`: UNKNOWN (unreachable, or a usage error)"),
    (ExitCode.WAIT_TIMEOUT, "--wait: the machine was still busy when --timeout ran out"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
    (ExitCode.BROKEN_PIPE, "the reader of the output went away (e.g. `... | head`); quietly"),
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


def error_text(error: Exception) -> str:
    """Render an error that ended a command for stderr (without the program name).

    A 400 with several field errors lists one field per line, as a form would show them,
    instead of one long line.

    Args:
        error: The error.

    Returns:
        The text, possibly several lines.
    """
    if not isinstance(error, BadRequestError) or len(error.field_errors) < 2:
        return f"error: {error}"
    fields = error.field_errors
    where = f" ({error.method} {error.url})" if error.method or error.url else ""
    lines = [f"error: {error.status}: the server rejected {len(fields)} parameters{where}"]
    lines += [f"  {name}: {' '.join(messages)}" for name, messages in fields.items()]
    return "\n".join(lines)


def closed_pipe() -> ExitCode:
    """End quietly after the reader of stdout went away (``maas-dyn ... | head``).

    Python would otherwise print a ``BrokenPipeError`` traceback when it flushes stdout at
    exit; pointing stdout at ``/dev/null`` first is the remedy the ``signal`` module's
    documentation gives.

    Returns:
        :attr:`ExitCode.BROKEN_PIPE`.
    """
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (tests, embedding)
        pass
    return ExitCode.BROKEN_PIPE
