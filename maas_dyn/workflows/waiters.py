"""Waiters described as data, in the spirit of botocore's waiter models.

A waiter polls one generated operation until a field of its result reaches a success
state or a failure state, or its timeout passes. Each named waiter is a row of
:data:`WAITERS`: which handler and action to poll, which field to read, the success,
failure and (for progress display) transitional states, the poll interval and the
timeout. Nothing here knows a machine by heart beyond that table, and the table is
only the MAAS status names PROTOCOLS.md lists; a server that adds states keeps working
(unknown states are waited through until the timeout).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from maas_dyn.errors import WaiterError

__all__ = ["WAITERS", "Progress", "Waiter", "WaiterSpec", "get_waiter"]

_log = logging.getLogger("maas_dyn.workflows")


@dataclass(frozen=True)
class WaiterSpec:
    """One named waiter.

    Attributes:
        handler: Handler to poll (CLI or Python name), e.g. ``"machine"``.
        action: Its action, e.g. ``"read"``.
        field: Field of the result holding the state, e.g. ``"status_name"``.
        success: States that end the wait successfully; empty means "any state that is
            neither transitional nor a failure" (the machine has settled).
        failure: States that end it with :class:`~maas_dyn.errors.WaiterError`.
        transitional: States that mean "still working".
        failure_prefixes: A state starting with one of these is a failure too, so
            failure states a newer server adds are recognised.
        interval: Seconds between polls.
        timeout: Seconds before giving up.
        description: What the waiter waits for, for messages.
    """

    handler: str
    action: str
    field: str
    success: frozenset[str]
    failure: frozenset[str] = frozenset()
    transitional: frozenset[str] = frozenset()
    failure_prefixes: tuple[str, ...] = ()
    interval: float = 5.0
    timeout: float = 1800.0
    description: str = ""


_FAILED_ANYWAY = frozenset({"Broken", "Missing"})
# Every status in which MAAS is still working on a node.
_BUSY = frozenset({"Commissioning", "Deploying", "Releasing", "Disk erasing", "Testing",
                   "Entering rescue mode", "Exiting rescue mode"})

# The waiter table. Timeouts follow MAAS's own 30-minute node timeout.
WAITERS: Mapping[str, WaiterSpec] = {
    "machine_commissioned": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Ready"}),
        failure=frozenset({"Failed commissioning", "Failed testing"}) | _FAILED_ANYWAY,
        transitional=frozenset({"Commissioning", "Testing"}),
        description="commissioning to finish (Ready)",
    ),
    "machine_tested": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Ready", "Deployed", "Allocated"}),
        failure=frozenset({"Failed testing"}) | _FAILED_ANYWAY,
        transitional=frozenset({"Testing"}),
        description="testing to finish",
    ),
    "machine_deployed": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Deployed"}),
        failure=frozenset({"Failed deployment"}) | _FAILED_ANYWAY,
        transitional=frozenset({"Deploying", "Allocated"}),
        description="deployment to finish (Deployed)",
    ),
    "machine_released": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Ready"}),
        failure=frozenset({"Failed releasing", "Failed disk erasing"}) | _FAILED_ANYWAY,
        transitional=frozenset({"Releasing", "Disk erasing"}),
        description="release to finish (Ready)",
    ),
    "machine_rescue_mode": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Rescue mode"}),
        failure=frozenset({"Failed to enter rescue mode"}) | _FAILED_ANYWAY,
        transitional=frozenset({"Entering rescue mode"}),
        description="rescue mode to be entered",
    ),
    "machine_rescue_exited": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset({"Deployed", "Ready", "Allocated", "Broken"}),
        failure=frozenset({"Failed to exit rescue mode"}),
        transitional=frozenset({"Exiting rescue mode", "Rescue mode"}),
        description="rescue mode to be left",
    ),
    "machine_settled": WaiterSpec(
        "machine", "read", "status_name",
        success=frozenset(),
        failure=frozenset({"Broken"}),
        transitional=_BUSY,
        failure_prefixes=("Failed",),
        description="the status to settle",
    ),
    "machine_powered_on": WaiterSpec(
        "machine", "query_power_state", "state",
        success=frozenset({"on"}), failure=frozenset({"error"}),
        interval=2.0, timeout=300.0, description="power on",
    ),
    "machine_powered_off": WaiterSpec(
        "machine", "query_power_state", "state",
        success=frozenset({"off"}), failure=frozenset({"error"}),
        interval=2.0, timeout=300.0, description="power off",
    ),
}


@dataclass(frozen=True)
class Progress:
    """One observation while waiting, passed to ``on_progress``.

    Attributes:
        target: What is waited on (e.g. the system_id).
        state: The state just read.
        elapsed: Seconds since the wait began.
        polls: Polls made so far.
        result: The full result of the last poll.
    """

    target: str
    state: str
    elapsed: float
    polls: int
    result: Any


class Waiter:
    """Polls an operation of a client until its spec's success or failure state.

    Args:
        client: A generated client (anything with ``call(handler, action, *args)``).
        spec: The waiter's row.
        sleep: How to wait between polls (tests pass a fake).
        clock: Monotonic clock (tests pass a fake).
    """

    def __init__(self, client: Any, spec: WaiterSpec, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.spec = spec
        self._sleep = sleep
        self._clock = clock

    def wait(self, *args: Any, timeout: float | None = None, interval: float | None = None,
             on_progress: Callable[[Progress], None] | None = None) -> Any:
        """Poll until success; return the last result.

        Args:
            *args: Path parameters of the polled action (e.g. the system_id).
            timeout: Override of the spec's timeout, in seconds.
            interval: Override of the spec's poll interval, in seconds.
            on_progress: Called after every poll with a :class:`Progress`.

        Returns:
            The result of the poll that saw a success state.

        Raises:
            WaiterError: A failure state was reached (``reason="failure"``) or the
                timeout passed (``reason="timeout"``); ``last_state`` says where.
        """
        spec = self.spec
        limit = spec.timeout if timeout is None else timeout
        pause = spec.interval if interval is None else interval
        target = "/".join(str(a) for a in args) or spec.handler
        started = self._clock()
        state = ""
        max_polls = int(limit / pause) + 2 if pause > 0 else 10_000
        result: Any = None
        elapsed = 0.0
        for polls in range(1, max_polls + 1):
            result = self.client.call(spec.handler, spec.action, *args)
            state = str(result.get(spec.field, "")) if isinstance(result, Mapping) else ""
            elapsed = self._clock() - started
            _log.debug("waiter %s: %s is %s after %.1f s", spec.description, target, state,
                       elapsed, extra={"target": target, "state": state, "elapsed": elapsed})
            if on_progress is not None:
                on_progress(Progress(target, state, elapsed, polls, result))
            if state in spec.failure or (state and state.startswith(spec.failure_prefixes)):
                detail = result.get("status_message") if isinstance(result, Mapping) else None
                raise WaiterError(
                    f"{target}: waiting for {spec.description}, reached {state!r}"
                    + (f" ({detail})" if detail else ""),
                    last_state=state, reason="failure", result=result, elapsed=elapsed,
                )
            if state in spec.success if spec.success else state not in spec.transitional:
                return result
            if elapsed + pause > limit:
                break
            self._sleep(pause)
        raise WaiterError(
            f"{target}: gave up waiting for {spec.description} after {limit:.0f} s; "
            f"last state {state!r}",
            last_state=state, reason="timeout", result=result, elapsed=elapsed,
        )


def get_waiter(client: Any, name: str, **overrides: Any) -> Waiter:
    """Return a named waiter of :data:`WAITERS` bound to a client.

    Args:
        client: The client to poll through.
        name: A key of :data:`WAITERS`, e.g. ``"machine_deployed"``.
        **overrides: Spec fields to change (``interval=1``, ``timeout=60``...), or
            ``sleep``/``clock`` for tests.

    Returns:
        The waiter.

    Raises:
        KeyError: No such waiter; the message lists the known ones.
    """
    if name not in WAITERS:
        raise KeyError(f"no waiter {name!r}; known: {', '.join(sorted(WAITERS))}")
    hooks = {k: overrides.pop(k) for k in ("sleep", "clock") if k in overrides}
    return Waiter(client, replace(WAITERS[name], **overrides), **hooks)
