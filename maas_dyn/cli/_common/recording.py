"""``--record FILE`` for both command lines: one command's session, into a cassette.

``maas-dyn --record FILE PROFILE ...`` records the HTTP session (a vcrpy YAML cassette)
and ``truenas-dyn --record FILE PROFILE ...`` the WebSocket session, login included
(JSON lines); secrets are redacted in both (see :mod:`maas_dyn.testing`). The option
comes first, before the profile, so it never clashes with an action's parameters.
Nothing of the recording machinery is imported unless the option is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from maas_dyn._optional import MissingExtraError, require
from maas_dyn.errors import ConfigurationError

if TYPE_CHECKING:
    from maas_dyn.testing.ws_cassette import WSRecorder

__all__ = ["OPTION", "maas_recording", "recorded", "take_record_option", "truenas_recording"]

OPTION = "--record"

# The TrueNAS recording of the running command; clients made meanwhile join it.
_RECORDER: ContextVar[WSRecorder | None] = ContextVar("maas_dyn_cli_recorder", default=None)

ClientT = TypeVar("ClientT")


def take_record_option(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """Split a leading ``--record FILE`` (or ``--record=FILE``) off the arguments.

    Args:
        argv: The command line after the program name.

    Returns:
        ``(FILE or None, the other arguments)``.

    Raises:
        ConfigurationError: ``--record`` without a file name.
    """
    args = list(argv)
    if args and args[0].startswith(OPTION + "="):
        path, rest = args[0].partition("=")[2], args[1:]
    elif args and args[0] == OPTION:
        path, rest = (args[1] if len(args) > 1 else ""), args[2:]
    else:
        return None, args
    if not path:
        raise ConfigurationError(f"{OPTION} needs a file name: {OPTION} FILE PROFILE ...")
    return path, rest


@contextmanager
def maas_recording(path: str | None) -> Iterator[None]:
    """Record the HTTP requests made inside the block into ``path`` (if not ``None``).

    Args:
        path: The cassette, or ``None`` to record nothing.

    Yields:
        Nothing; the cassette is written when the block ends.
    """
    if path is None:
        yield
        return
    try:
        require("record", f"maas-dyn {OPTION}")
    except MissingExtraError as exc:  # a one-line error on stderr, not a traceback
        raise ConfigurationError(str(exc)) from exc
    from maas_dyn.testing.http_cassette import http_cassette

    with http_cassette(path, "record"):
        yield


@contextmanager
def truenas_recording(path: str | None) -> Iterator[None]:
    """Record the sessions of clients passed to :func:`recorded` inside the block.

    Args:
        path: The cassette, or ``None`` to record nothing.

    Yields:
        Nothing; the cassette is written when the block ends, even after an error.
    """
    if path is None:
        yield
        return
    from maas_dyn.testing.ws_cassette import WSRecorder

    recorder = WSRecorder(path)
    token = _RECORDER.set(recorder)
    try:
        yield
    finally:
        _RECORDER.reset(token)
        recorder.save()


def recorded(client: ClientT) -> ClientT:
    """Make a TrueNAS client's connections from now on part of the running recording.

    Args:
        client: A ``maas_dyn.truenas.Client``; an open connection is closed, so the
            recording starts with a fresh login.

    Returns:
        The same client.
    """
    recorder = _RECORDER.get()
    if recorder is not None:
        target: Any = client
        target.opener = recorder.wrap(target.opener)
    return client
