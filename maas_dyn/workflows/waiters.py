"""Waiters described as data, in the spirit of botocore's waiter models.

A waiter polls one generated operation until a field of its result reaches a success
state or a failure state, or its timeout passes. Each named waiter is a row of
:data:`WAITERS`: which handler and action to poll, which field to read, the success,
failure and (for progress display) transitional states, the poll interval and the
timeout. Nothing here knows a machine by heart beyond that table, and the table is
only the MAAS status names and TrueNAS job states PROTOCOLS.md lists; a server that adds
states keeps working (unknown states are waited through until the timeout).

How a row's poll is spelled for its dialect is data too (:data:`REQUESTS`): MAAS polls
``client.call(handler, action, *path)``, TrueNAS ``client.call("core.get_jobs",
[["id", "=", id]], {"get": True})``. The same waiter works with the sync clients
(:meth:`Waiter.wait`) and the async ones (:meth:`Waiter.wait_async`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from maas_dyn._waiter_registry import register_waiters
from maas_dyn.errors import (
    Cancelled,
    ConnectionClosed,
    ConnectionFailed,
    GatewayTimeoutError,
    ServiceUnavailableError,
    Timeout,
    WaiterError,
    WaiterTimeoutError,
)
from maas_dyn.workflows.cancel import pause as interruptible_sleep

__all__ = ["POLL_SURVIVES", "REQUESTS", "WAITERS", "Progress", "Waiter", "WaiterSpec",
           "get_waiter"]

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
        request: Key of :data:`REQUESTS`: how the poll is called in this dialect.
        detail_field: Field whose text a failure message quotes.
        private_fields: Fields dropped from every polled result before it is shown,
            logged or kept in an error (a job's arguments may hold passwords).
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
    request: str = "maas"
    detail_field: str = "status_message"
    private_fields: tuple[str, ...] = ()


# How each dialect's client is asked for the polled object: the positional arguments of
# ``client.call`` built from the row and the waiter's arguments.
REQUESTS: Mapping[str, Callable[[WaiterSpec, tuple[Any, ...]], tuple[Any, ...]]] = {
    "maas": lambda spec, args: (spec.handler, spec.action, *args),
    "truenas_get": lambda spec, args: (f"{spec.handler}.{spec.action}",
                                       [["id", "=", args[0]]], {"get": True}),
}


# Errors a poll survives: the server is restarting or briefly unreachable. A poll is a
# read, so polling again is safe; the wait goes on until its own timeout.
POLL_SURVIVES: tuple[type[Exception], ...] = (
    ConnectionFailed, ConnectionClosed, Timeout, ServiceUnavailableError, GatewayTimeoutError,
)

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
    # A TrueNAS job by id (Job.wait follows events; this polls, for tools built on waiters).
    "truenas_job": WaiterSpec(
        "core", "get_jobs", "state",
        success=frozenset({"SUCCESS"}), failure=frozenset({"FAILED", "ABORTED"}),
        transitional=frozenset({"WAITING", "RUNNING"}),
        interval=2.0, timeout=3600.0, description="the job to finish",
        request="truenas_get", detail_field="error",
        private_fields=("arguments", "credentials"),
    ),
}
"""The named waiters, as data: name -> :class:`WaiterSpec`.

MAAS machines (polling ``machine.read`` for ``status_name``, or
``machine.query_power_state`` for ``state``):

| Name | Waits until | Gives up on |
| --- | --- | --- |
| ``machine_commissioned`` | Ready | Failed commissioning, Failed testing, Broken, Missing |
| ``machine_tested`` | Ready, Allocated or Deployed | Failed testing, Broken, Missing |
| ``machine_deployed`` | Deployed | Failed deployment, Broken, Missing |
| ``machine_released`` | Ready | Failed releasing, Failed disk erasing, Broken, Missing |
| ``machine_rescue_mode`` | Rescue mode | Failed to enter rescue mode, Broken, Missing |
| ``machine_rescue_exited`` | Deployed, Ready, Allocated or Broken | Failed to exit rescue mode |
| ``machine_settled`` | any status in which MAAS is not working on it | Broken, any Failed status |
| ``machine_powered_on`` | power state ``on`` | ``error`` |
| ``machine_powered_off`` | power state ``off`` | ``error`` |

TrueNAS: ``truenas_job`` polls ``core.get_jobs`` until the job's state is SUCCESS
(FAILED or ABORTED fail it). Get one bound to a client with :func:`get_waiter`.
"""


@dataclass(frozen=True)
class Progress:
    """One observation while waiting, passed to ``on_progress``.

    Attributes:
        target: What is waited on (e.g. the system_id).
        state: The state just read.
        elapsed: Seconds since the wait began.
        polls: Polls made so far.
        result: The full result of the last poll.
        error: Why this poll got no answer (the server restarting...), or ``""``;
            ``state`` and ``result`` are then the last ones seen.
    """

    target: str
    state: str
    elapsed: float
    polls: int
    result: Any
    error: str = ""


@dataclass(frozen=True)
class _Seen:
    state: str = ""
    result: Any = None
    elapsed: float = 0.0
    done: bool = False
    error: str = ""  # why the last poll got no answer


class Waiter:
    """Polls an operation of a client until its spec's success or failure state.

    Args:
        client: A generated client (anything with ``call(...)`` in the row's dialect;
            an async client for :meth:`wait_async`).
        spec: The waiter's row.
        sleep: How to wait between polls (tests pass a fake). The default returns at once
            when the bulk run this thread works for is stopped (see
            :mod:`maas_dyn.workflows.cancel`).
        clock: Monotonic clock (tests pass a fake).
        async_sleep: How :meth:`wait_async` waits between polls.
        name: The waiter's name in :data:`WAITERS`, for its repr and messages.
    """

    def __init__(self, client: Any, spec: WaiterSpec, *,
                 sleep: Callable[[float], None] = interruptible_sleep,
                 clock: Callable[[], float] = time.monotonic,
                 async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 name: str = ""):
        self.client = client
        self.spec = spec
        self.name = name
        self._sleep = sleep
        self._clock = clock
        self._async_sleep = async_sleep

    def __repr__(self) -> str:
        spec = self.spec
        goal = ", ".join(sorted(spec.success)) or "a settled state"
        return (f"<Waiter {self.name or spec.description!r}: polls {spec.handler}.{spec.action} "
                f"every {spec.interval:g} s until {spec.field} is {goal}, up to "
                f"{spec.timeout:g} s>")

    def wait(self, *args: Any, timeout: float | None = None, interval: float | None = None,
             on_progress: Callable[[Progress], None] | None = None) -> Any:
        """Poll until success; return the last result.

        Args:
            *args: Path parameters of the polled action (e.g. the system_id), or the
                TrueNAS job id.
            timeout: Override of the spec's timeout, in seconds.
            interval: Override of the spec's poll interval, in seconds.
            on_progress: Called after every poll with a :class:`Progress`.

        Returns:
            The result of the poll that saw a success state.

        Raises:
            WaiterError: A failure state was reached (``reason="failure"``) or the
                timeout passed (``reason="timeout"``, a :class:`WaiterTimeoutError`,
                also a ``TimeoutError``); ``last_state`` says where.
            Cancelled: The bulk run this wait belongs to was stopped (Ctrl-C);
                ``last_state`` says where the object was last seen.
        """
        limit, pause, max_polls = self._plan(timeout, interval)
        target, started, seen = self._target(args), self._clock(), _Seen()
        request = REQUESTS[self.spec.request](self.spec, args)
        for polls in range(1, max_polls + 1):
            try:
                answer = self.client.call(*request)
            except POLL_SURVIVES as exc:
                seen = self._unanswered(exc, seen, target, started, polls=polls,
                                        on_progress=on_progress)
            else:
                seen = self._see(answer, target, started, polls, on_progress)
            if seen.done:
                return seen.result
            if seen.elapsed + pause > limit:
                break
            try:
                self._sleep(pause)
            except Cancelled as exc:
                raise Cancelled(f"{target}: stopped waiting for {self.spec.description}; "
                                f"last state {seen.state!r}", sent=True,
                                last_state=seen.state) from exc
        raise self._gave_up(target, limit, seen)

    async def wait_async(self, *args: Any, timeout: float | None = None,
                         interval: float | None = None,
                         on_progress: Callable[[Progress], None] | None = None) -> Any:
        """:meth:`wait` for an async client: polls with ``await``, sleeps without blocking.

        Args:
            *args: As for :meth:`wait`.
            timeout: Override of the spec's timeout, in seconds.
            interval: Override of the spec's poll interval, in seconds.
            on_progress: Called after every poll with a :class:`Progress`.

        Returns:
            The result of the poll that saw a success state.

        Raises:
            WaiterError: As for :meth:`wait`.
        """
        limit, pause, max_polls = self._plan(timeout, interval)
        target, started, seen = self._target(args), self._clock(), _Seen()
        request = REQUESTS[self.spec.request](self.spec, args)
        for polls in range(1, max_polls + 1):
            try:
                result = await self.client.call(*request)
            except POLL_SURVIVES as exc:
                seen = self._unanswered(exc, seen, target, started, polls=polls,
                                        on_progress=on_progress)
            else:
                seen = self._see(result, target, started, polls, on_progress)
            if seen.done:
                return seen.result
            if seen.elapsed + pause > limit:
                break
            await self._async_sleep(pause)
        raise self._gave_up(target, limit, seen)

    # -- the shared decisions ---------------------------------------------------------

    def _plan(self, timeout: float | None, interval: float | None) -> tuple[float, float, int]:
        limit = self.spec.timeout if timeout is None else timeout
        pause = self.spec.interval if interval is None else interval
        # Bounds the loop even with a clock that does not move.
        return limit, pause, int(limit / pause) + 2 if pause > 0 else 10_000

    def _target(self, args: tuple[Any, ...]) -> str:
        return "/".join(str(a) for a in args) or self.spec.handler

    def _see(self, raw: Any, target: str, started: float, polls: int,
             on_progress: Callable[[Progress], None] | None) -> _Seen:
        """Judge one poll: done, failed (raises) or still waiting."""
        spec = self.spec
        result = ({k: v for k, v in raw.items() if k not in spec.private_fields}
                  if isinstance(raw, Mapping) else raw)
        state = str(result.get(spec.field, "")) if isinstance(result, Mapping) else ""
        elapsed = self._clock() - started
        _log.debug("waiter %s: %s is %s after %.1f s", spec.description, target, state,
                   elapsed, extra={"event": "waiter.poll", "target": target, "status": state,
                                   "duration_ms": round(elapsed * 1000, 1)})
        if on_progress is not None:
            on_progress(Progress(target, state, elapsed, polls, result))
        if state in spec.failure or (state and state.startswith(spec.failure_prefixes)):
            detail = result.get(spec.detail_field) if isinstance(result, Mapping) else None
            raise WaiterError(
                f"{target}: waiting for {spec.description}, reached {state!r}"
                + (f" ({detail})" if detail else ""),
                last_state=state, reason="failure", result=result, elapsed=elapsed,
            )
        done = state in spec.success if spec.success else state not in spec.transitional
        return _Seen(state, result, elapsed, done)

    def _unanswered(self, error: Exception, seen: _Seen, target: str, started: float, *,
                    polls: int, on_progress: Callable[[Progress], None] | None) -> _Seen:
        """A poll that got no answer: keep the last state, and wait on."""
        elapsed = self._clock() - started
        reason = f"{type(error).__name__}: {error}"
        _log.info("waiter %s: no answer for %s after %.1f s (%s); polling again",
                  self.spec.description, target, elapsed, type(error).__name__,
                  extra={"event": "waiter.unanswered", "target": target, "status": seen.state,
                         "error": type(error).__name__,
                         "duration_ms": round(elapsed * 1000, 1)})
        if on_progress is not None:
            on_progress(Progress(target, seen.state, elapsed, polls, seen.result, reason))
        return _Seen(seen.state, seen.result, elapsed, False, reason)

    def _gave_up(self, target: str, limit: float, seen: _Seen) -> WaiterError:
        unreachable = f" (the last poll got no answer: {seen.error})" if seen.error else ""
        return WaiterTimeoutError(
            f"{target}: gave up waiting for {self.spec.description} after {limit:.0f} s; "
            f"last state {seen.state!r}{unreachable}",
            last_state=seen.state, reason="timeout", result=seen.result, elapsed=seen.elapsed,
        )


def get_waiter(client: Any, name: str, **overrides: Any) -> Waiter:
    """Return a named waiter of :data:`WAITERS` bound to a client.

    Args:
        client: The client to poll through.
        name: A key of :data:`WAITERS`, e.g. ``"machine_deployed"``.
        **overrides: Spec fields to change (``interval=1``, ``timeout=60``...), or
            ``sleep``/``clock``/``async_sleep`` for tests.

    Returns:
        The waiter.

    Raises:
        KeyError: No such waiter; the message lists the known ones.
    """
    if name not in WAITERS:
        raise KeyError(f"no waiter {name!r}; known: {', '.join(sorted(WAITERS))}")
    hooks = {k: overrides.pop(k) for k in ("sleep", "clock", "async_sleep") if k in overrides}
    return Waiter(client, replace(WAITERS[name], **overrides), name=name, **hooks)


def _resource_waiter(client: Any, name: str) -> Waiter | None:
    return get_waiter(client, name) if name in WAITERS else None


# Resources' wait(name) finds the waiters of this table through the registry
# (maas_dyn/_waiter_registry.py): machine.wait("deployed") runs "machine_deployed".
register_waiters(WAITERS.keys, _resource_waiter)
