"""The outer shell both command lines share: options every command takes, and how a run ends.

``--log-format``/``--log-level`` (anywhere) and a leading ``--record FILE`` are taken off
the line; the command runs with the library's messages on stderr and the session
recorded if asked; then every way a run can end maps to an exit code: a closed pipe ends
quietly (141), Ctrl-C says what it interrupted (130), an argparse exit keeps its code, and
the CLI's own errors are reported by the dialect's ``on_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from maas_dyn.cli._common.exits import ExitCode, closed_pipe
from maas_dyn.cli._common.recording import take_record_option
from maas_dyn.cli._common.runtime import Runtime, take_log_options

__all__ = ["run_entry"]


def run_entry(runtime: Runtime, argv: Sequence[str],
              dispatch: Callable[[list[str], Runtime], int],
              recording: Callable[[str | None], AbstractContextManager[object]], *,
              errors: tuple[type[Exception], ...],
              on_error: Callable[[Exception], int],
              interrupted: str) -> int:
    """Run one command line of a CLI and turn how it ended into an exit code.

    Args:
        runtime: The run's streams, profiles and transport.
        argv: The command line after the program name.
        dispatch: Runs the command: ``dispatch(args, runtime) -> exit code``.
        recording: The dialect's ``--record`` context (``None``: no recording).
        errors: The errors ``on_error`` reports (the CLI's and the library's).
        on_error: Prints one of them and returns its exit code.
        interrupted: What to say on Ctrl-C.

    Returns:
        The exit code.
    """
    try:
        log, given = take_log_options(argv)
        record, args = take_record_option(given)
        with runtime.library_messages(log), recording(record):
            return int(dispatch(args, runtime))
    except BrokenPipeError:  # `... | head`: the reader went away
        return closed_pipe()
    except errors as exc:
        return on_error(exc)
    except KeyboardInterrupt:
        runtime.note(interrupted)
        return ExitCode.INTERRUPTED
    except SystemExit as exc:  # argparse's -h, or an external command's own exit
        if isinstance(exc.code, str):
            runtime.note(exc.code)
            return ExitCode.FAILURE
        return int(exc.code or 0)
