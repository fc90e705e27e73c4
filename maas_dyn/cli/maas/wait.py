"""``--wait``: poll a machine until its status settles, with a progress display.

The status rules are the ``machine_settled`` row of the waiter table
(:data:`maas_dyn.workflows.waiters.WAITERS`): a busy status means keep polling, a
failed one (Failed ..., Broken) ends the wait with a failure, any other has settled.
A poll the region does not answer (a restart, a 503) is shown and polled again until
``--timeout``: the action goes on in the region whatever happens to the connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from maas_dyn.errors import WaiterError
from maas_dyn.maas.client import Client
from maas_dyn.maas.describe import HandlerSpec
from maas_dyn.maas.response import Response
from maas_dyn.workflows.waiters import Progress as WaitProgress
from maas_dyn.workflows.waiters import get_waiter

__all__ = ["Outcome", "Progress", "wait_until_settled", "waitable"]


def waitable(handler: HandlerSpec) -> bool:
    """Whether ``--wait`` can poll objects of this handler (a node: ``system_id`` + read)."""
    return "system_id" in handler.params and handler.action("read") is not None


@dataclass(frozen=True)
class Outcome:
    """How a wait ended.

    Attributes:
        response: The last ``read`` response.
        status: The last status name.
        reason: ``"settled"``, ``"failure"`` or ``"timeout"``.
        elapsed: Seconds waited.
    """

    response: Response
    status: str
    reason: str
    elapsed: float


class Progress:
    """Shows the status while waiting: one updating line on a terminal, else a line per change.

    Args:
        stream: Normally stderr.
        label: What is waited for, e.g. ``"machine abc123"``.
    """

    def __init__(self, stream: TextIO, label: str):
        self.stream = stream
        self.label = label
        self.terminal = stream.isatty()
        self._last = ""
        self._shown = ""
        self._started = False

    @property
    def last(self) -> str:
        """The status shown last ("" before the first poll)."""
        return self._last

    def update(self, machine: Mapping[str, Any], status: str, elapsed: float,
               error: str = "") -> None:
        """Show the current status, or that the server did not answer this poll."""
        name = machine.get("hostname") or ""
        who = f"{self.label} ({name})" if name else self.label
        shown = f"{status or '?'} (no answer from the server; polling on)" if error else status
        if self.terminal:
            if not self._started:
                # Whatever the terminal's line held (a prompt, the command's own output)
                # must not run into the status line.
                self.stream.write("\n")
                self._started = True
            # \r and "erase line" keep the display to one line however often it changes.
            self.stream.write(f"\r\x1b[K{who}: {shown}  {elapsed:.0f}s")
            self.stream.flush()
        elif shown != self._shown:
            print(f"{who}: {shown} after {elapsed:.0f}s", file=self.stream)
        self._shown = shown
        self._last = status or self._last

    def finish(self) -> None:
        """End the updating line."""
        if self.terminal and self._shown:
            self.stream.write("\n")


def wait_until_settled(
    client: Client,
    handler: HandlerSpec,
    path_args: tuple[str, ...],
    *,
    timeout: float,
    interval: float,
    progress: Progress,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Poll the node until its status settles, with the ``machine_settled`` waiter.

    Args:
        client: The client.
        handler: The node's handler (machine, device, rack-controller...).
        path_args: Its path parameters (the system_id).
        timeout: Seconds before giving up.
        interval: Seconds between polls.
        progress: Shows each status.
        clock: Monotonic time source.
        sleep: Waits between polls.

    Returns:
        The outcome; the first poll happens at once.
    """
    read = handler.action("read")
    assert read is not None  # checked by waitable()
    waiter = get_waiter(client, "machine_settled", handler=handler.name, action=read.name,
                        interval=interval, timeout=timeout, sleep=sleep, clock=clock)

    def show(seen: WaitProgress) -> None:
        node = seen.result if isinstance(seen.result, Mapping) else {}
        progress.update(node, seen.state, seen.elapsed, seen.error)

    try:
        result = waiter.wait(*path_args, on_progress=show)
        reason, status, elapsed = "settled", str(result.get("status_name", "")), 0.0
    except WaiterError as error:
        reason, status, elapsed = error.reason, error.last_state, error.elapsed
    finally:
        progress.finish()
    response = client.last_response
    assert response is not None  # the waiter polled at least once
    return Outcome(response, status, reason, elapsed)
