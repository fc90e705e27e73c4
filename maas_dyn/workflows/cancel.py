"""Stopping bulk work at once: a per-thread stop signal that every wait listens to.

:func:`~maas_dyn.workflows.bulk.run_bulk` hands each worker thread the run's stop event
(:func:`stop_scope`). Everything in the workflows that waits (waiter polls, retry back-off)
sleeps through :func:`pause`, which returns early and raises
:class:`~maas_dyn.errors.Cancelled` once the event is set. So Ctrl-C ends a run within one
poll instead of after the slowest machine's deploy, without threading a token through every
function's signature. Outside a bulk run :func:`pause` is ``time.sleep``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from maas_dyn.errors import Cancelled

__all__ = ["current_stop", "pause", "stop_scope"]

_local = threading.local()


@contextmanager
def stop_scope(stop: threading.Event) -> Iterator[None]:
    """Make ``stop`` the event that :func:`pause` listens to in this thread, while inside.

    Args:
        stop: Set when the run is to stop.

    Yields:
        Nothing.
    """
    previous = getattr(_local, "stop", None)
    _local.stop = stop
    try:
        yield
    finally:
        _local.stop = previous


def current_stop() -> threading.Event | None:
    """Return the stop event of the bulk run this thread works for, if any."""
    stop: threading.Event | None = getattr(_local, "stop", None)
    return stop


def pause(seconds: float) -> None:
    """Sleep, unless the current bulk run is told to stop.

    Args:
        seconds: How long to sleep.

    Raises:
        Cancelled: The run's stop event is (or becomes) set.
    """
    stop = current_stop()
    if stop is None:
        time.sleep(seconds)
        return
    if stop.wait(max(0.0, seconds)):
        raise Cancelled("stopped: the run was interrupted")
