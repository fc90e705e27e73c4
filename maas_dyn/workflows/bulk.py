"""Bulk operations: one action over many targets, bounded concurrency, nothing lost.

Every target ends up in the result, as a success with its value or a failure with
its typed error; one failure never hides another target's result. Failed items can be
retried, but only when the error says the server did not act on the request (the
:data:`RETRYABLE` table): a deploy whose connection broke mid-way is reported, not
re-sent.

Ctrl-C stops a run at once: nothing new is started, every wait inside the running items
returns within a poll (:mod:`maas_dyn.workflows.cancel`), and :class:`BulkInterrupted`
carries every target's outcome so far: done, stopped while waiting (the request was
sent), or never started.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any, Generic, TextIO, TypeVar

from maas_dyn.errors import (
    Cancelled,
    ConflictError,
    ConnectionFailed,
    MaasDynError,
    ServiceUnavailableError,
    TooManyConcurrentCalls,
)
from maas_dyn.logging import log_event
from maas_dyn.workflows.cancel import stop_scope

__all__ = ["RETRYABLE", "BulkInterrupted", "BulkResult", "ItemResult", "run_bulk"]

_log = logging.getLogger("maas_dyn.workflows")

T = TypeVar("T")

# Errors after which the server did not act, so an item may be tried again.
RETRYABLE: tuple[type[BaseException], ...] = (
    ConflictError, ServiceUnavailableError, ConnectionFailed, TooManyConcurrentCalls,
)
"""The errors after which ``run_bulk(retries=...)`` tries an item again, because the server
did not act: a 409, a 503, a connection never opened, too many calls in flight.
"""


@dataclass
class ItemResult(Generic[T]):
    """The outcome for one target.

    Attributes:
        target: The target (e.g. a system_id).
        value: What the call returned, on success.
        error: The exception raised, on failure.
        attempts: How many times the call was made.
        seconds: Time spent on this target, all attempts included.
    """

    target: T
    value: Any = None
    error: BaseException | None = None
    attempts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None


@dataclass
class BulkResult(Generic[T]):
    """Every target's outcome, in the order the targets were given.

    Attributes:
        items: One :class:`ItemResult` per target.
        seconds: Wall time of the whole run.
    """

    items: list[ItemResult[T]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def succeeded(self) -> list[ItemResult[T]]:
        """The items that succeeded."""
        return [item for item in self.items if item.ok]

    @property
    def failed(self) -> list[ItemResult[T]]:
        """The items that failed, each with its error."""
        return [item for item in self.items if not item.ok]

    def summary(self) -> str:
        """One line per failure and a total, for people."""
        lines = [f"{item.target}: {type(item.error).__name__}: {item.error}"
                 for item in self.failed]
        lines.append(f"{len(self.succeeded)} succeeded, {len(self.failed)} failed "
                     f"of {len(self.items)} in {self.seconds:.1f} s")
        return "\n".join(lines)


class _Progress:
    """A one-line progress bar on a terminal, occasional plain lines otherwise."""

    def __init__(self, total: int, label: str, stream: TextIO | None):
        self.total, self.label, self.stream = total, label, stream
        self.done = self.failed = 0
        self._lock = threading.Lock()
        self._tty = bool(stream is not None and stream.isatty())

    def update(self, ok: bool) -> None:
        with self._lock:
            self.done += 1
            self.failed += 0 if ok else 1
            if self.stream is None:
                return
            text = f"{self.label}: {self.done}/{self.total} done, {self.failed} failed"
            if self._tty:
                filled = int(30 * self.done / max(self.total, 1))
                self.stream.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {text}")
                if self.done == self.total:
                    self.stream.write("\n")
            elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
                self.stream.write(text + "\n")
            self.stream.flush()


class BulkInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a bulk run; :attr:`result` holds every target's outcome so far.

    It is a ``KeyboardInterrupt``, so code that does not know bulk runs still stops.
    Targets that were never started, or whose wait was cut short, fail with
    :class:`~maas_dyn.errors.Cancelled` (``sent`` says whether the request went out).

    Attributes:
        result: The partial result, one item per target in the order given.
    """

    def __init__(self, result: BulkResult[Any]):
        super().__init__("interrupted")
        self.result = result


# How often the main thread wakes while waiting, so Ctrl-C is seen whichever thread the
# signal reached.
_WAKE_EVERY = 0.2


def run_bulk(
    call: Callable[[T], Any],
    targets: Iterable[T],
    *,
    concurrency: int = 8,
    retries: int = 0,
    retry_delay: float = 1.0,
    label: str = "bulk",
    progress: TextIO | bool | None = None,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
    grace: float = 1.0,
) -> BulkResult[T]:
    """Run ``call(target)`` for every target with bounded concurrency.

    Args:
        call: What to do with one target; its return value is kept.
        targets: The targets.
        concurrency: Calls in flight at once.
        retries: Extra attempts for items whose error is in :data:`RETRYABLE`.
        retry_delay: Seconds before a retry (doubled each time).
        label: Name shown in progress and logs.
        progress: A stream for progress, ``True`` for stderr, ``None``/``False`` for none.
        sleep: How to wait between retries (tests pass a fake); by default a wait that
            ends when the run is stopped.
        stop: Set it to stop the run as Ctrl-C would (a new event by default).
        grace: Seconds an interrupted run waits for calls in flight to return.

    Returns:
        Every target's outcome.

    Raises:
        BulkInterrupted: Ctrl-C (``KeyboardInterrupt`` in the calling thread) stopped the
            run; it carries the outcomes so far. ``stop`` being set from elsewhere does
            not raise: the remaining targets fail with ``Cancelled``.
    """
    stream = sys.stderr if progress is True else (progress or None)
    targets = list(targets)
    run = _Run(call, targets, retries=retries, retry_delay=retry_delay, label=label,
               bar=_Progress(len(targets), label, stream), sleep=sleep,
               halt=stop if stop is not None else threading.Event())
    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="maas_dyn-bulk")
    futures: list[Future[ItemResult[T]]] = []
    try:
        futures += (pool.submit(run.one, index) for index in range(len(targets)))
        for future in futures:
            while not wait_futures([future], timeout=_WAKE_EVERY).done:
                pass
    except KeyboardInterrupt:
        run.halt.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise BulkInterrupted(run.interrupted(grace)) from None
    pool.shutdown()
    return BulkResult([future.result() for future in futures], run.elapsed())


class _Run(Generic[T]):
    """One bulk run's shared state: the items, who started and finished, the stop event.

    The ledger of started and finished items (not the futures) is what an interrupt
    reads, so "sent" and "never started" are told apart whatever line the main thread was
    on when Ctrl-C reached it.
    """

    def __init__(self, call: Callable[[T], Any], targets: Sequence[T], *, retries: int,
                 retry_delay: float, label: str, bar: _Progress,
                 sleep: Callable[[float], None] | None, halt: threading.Event):
        self.call, self.targets, self.retries = call, targets, retries
        self.retry_delay, self.label, self.bar = retry_delay, label, bar
        self.sleep, self.halt = sleep, halt
        self.began = time.monotonic()
        self.ledger = threading.Condition()
        self.started: dict[int, ItemResult[T]] = {}
        self.finished: set[int] = set()

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def nap(self, seconds: float) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        elif self.halt.wait(seconds):
            raise Cancelled("stopped before a retry", sent=False)

    def attempts(self, outcome: ItemResult[T]) -> None:
        for attempt in range(1, self.retries + 2):
            if self.halt.is_set():
                outcome.error = outcome.error or Cancelled("not started: the run was stopped")
                return
            outcome.attempts = attempt
            try:
                outcome.value, outcome.error = self.call(outcome.target), None
                return
            except Exception as exc:  # every failure is reported per item, none is lost
                outcome.error = exc
                if not isinstance(exc, RETRYABLE) or attempt > self.retries:
                    return
                try:
                    self.nap(self.retry_delay * 2 ** (attempt - 1))
                except Cancelled:
                    return  # the item keeps its last real error

    def one(self, index: int) -> ItemResult[T]:
        outcome: ItemResult[T] = ItemResult(self.targets[index])
        with self.ledger:
            if self.halt.is_set():
                outcome.error = Cancelled("not started: the run was stopped; nothing was sent")
                return outcome
            self.started[index] = outcome
        began = time.monotonic()
        with stop_scope(self.halt):
            self.attempts(outcome)
        outcome.seconds = time.monotonic() - began
        log_event(_log, logging.INFO if outcome.ok else logging.WARNING, "bulk.item",
                  "%s %s: %s after %d attempt(s)", self.label, outcome.target,
                  "ok" if outcome.ok else f"{type(outcome.error).__name__}: {outcome.error}",
                  outcome.attempts, target=str(outcome.target), action=self.label,
                  status="ok" if outcome.ok else "failed", attempt=outcome.attempts,
                  error=None if outcome.ok else type(outcome.error).__name__,
                  duration_ms=round(outcome.seconds * 1000, 1))
        self.bar.update(outcome.ok)
        with self.ledger:
            self.finished.add(index)
            self.ledger.notify_all()
        return outcome

    def interrupted(self, grace: float) -> BulkResult[T]:
        """Wait up to ``grace`` seconds for calls in flight, then account for every item."""
        deadline = time.monotonic() + grace
        with self.ledger:
            while set(self.started) - self.finished and time.monotonic() < deadline:
                self.ledger.wait(max(0.0, deadline - time.monotonic()))
            results: list[ItemResult[T]] = []
            for index, target in enumerate(self.targets):
                if index in self.finished:
                    results.append(self.started[index])
                elif index in self.started:
                    results.append(ItemResult(target, error=Cancelled(
                        "still in flight when the run was interrupted; its outcome is "
                        "unknown", sent=True), attempts=self.started[index].attempts))
                else:
                    results.append(ItemResult(target, error=Cancelled(
                        "not started: the run was interrupted; nothing was sent")))
        return BulkResult(results, self.elapsed())


def describe_error(error: BaseException) -> str:
    """Name an item's error for a table: the class, plus the status for API errors."""
    status = getattr(error, "status", 0)
    name = type(error).__name__
    if isinstance(error, MaasDynError) and status:
        return f"{name} ({status})"
    return name
