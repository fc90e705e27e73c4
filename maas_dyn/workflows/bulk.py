"""Bulk operations: one action over many targets, bounded concurrency, nothing lost.

Every target ends up in the result, as a success with its value or a failure with
its typed error; one failure never hides another target's result. Failed items can be
retried, but only when the error says the server did not act on the request (the
:data:`RETRYABLE` table): a deploy whose connection broke mid-way is reported, not
re-sent.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TextIO, TypeVar

from maas_dyn.errors import (
    ConflictError,
    ConnectionFailed,
    MaasDynError,
    ServiceUnavailableError,
    TooManyConcurrentCalls,
)

__all__ = ["RETRYABLE", "BulkResult", "ItemResult", "run_bulk"]

_log = logging.getLogger("maas_dyn.workflows")

T = TypeVar("T")

# Errors after which the server did not act, so an item may be tried again.
RETRYABLE: tuple[type[BaseException], ...] = (
    ConflictError, ServiceUnavailableError, ConnectionFailed, TooManyConcurrentCalls,
)


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


def run_bulk(
    call: Callable[[T], Any],
    targets: Iterable[T],
    *,
    concurrency: int = 8,
    retries: int = 0,
    retry_delay: float = 1.0,
    label: str = "bulk",
    progress: TextIO | bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
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
        sleep: How to wait between retries (tests pass a fake).

    Returns:
        Every target's outcome. Exceptions other than ``Exception`` subclasses
        (e.g. ``KeyboardInterrupt``) still propagate.
    """
    items: Sequence[T] = list(targets)
    stream = sys.stderr if progress is True else (progress or None)
    bar = _Progress(len(items), label, stream)
    started = time.monotonic()

    def one(target: T) -> ItemResult[T]:
        outcome: ItemResult[T] = ItemResult(target)
        began = time.monotonic()
        for attempt in range(1, retries + 2):
            outcome.attempts = attempt
            try:
                outcome.value, outcome.error = call(target), None
                break
            except Exception as exc:  # every failure is reported per item, none is lost
                outcome.error = exc
                if not isinstance(exc, RETRYABLE) or attempt > retries:
                    break
                sleep(retry_delay * 2 ** (attempt - 1))
        outcome.seconds = time.monotonic() - began
        level = logging.DEBUG if outcome.ok else logging.WARNING
        _log.log(level, "%s %s: %s after %d attempt(s)", label, target,
                 "ok" if outcome.ok else f"{type(outcome.error).__name__}: {outcome.error}",
                 outcome.attempts,
                 extra={"target": str(target), "action": label, "ok": outcome.ok,
                        "duration": outcome.seconds})
        bar.update(outcome.ok)
        return outcome

    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="maas_dyn-bulk") as pool:
        results = list(pool.map(one, items))
    return BulkResult(results, time.monotonic() - started)


def describe_error(error: BaseException) -> str:
    """Name an item's error for a table: the class, plus the status for API errors."""
    status = getattr(error, "status", 0)
    name = type(error).__name__
    if isinstance(error, MaasDynError) and status:
        return f"{name} ({status})"
    return name
