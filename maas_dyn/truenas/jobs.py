"""Jobs: a handle on a long-running method, followed by events with a polling fallback.

A job method answers with a job id at once. :class:`Job` follows it through the
``core.get_jobs`` events (``collection_update``; the client subscribes once per
connection, the first time a job is waited for) and polls ``core.get_jobs`` as a safety
net: right after it starts watching (the job may have ended before the subscription),
whenever no event came for a while, and all the time if events are unavailable.
Waiting survives a dropped connection: the next poll reconnects, and the job was never
re-sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from maas_dyn.errors import (
    CallError,
    ConnectionClosed,
    JobFailed,
    JobValidationFailed,
    Timeout,
    TooManyConcurrentCalls,
    TransportError,
)
from maas_dyn.truenas.jsonrpc import CALL_ERROR, INVALID_PARAMS, problems_of
from maas_dyn.truenas.messages import Event

__all__ = [
    "FINISHED",
    "JOBS_COLLECTION",
    "LOST_POLL_ERRORS",
    "MAX_LOST_POLLS",
    "STATES",
    "Job",
    "JobHost",
    "JobTracker",
    "JobValidationFailed",
    "job_outcome",
    "public_record",
]

_log = logging.getLogger("maas_dyn.truenas")

JOBS_COLLECTION = "core.get_jobs"

# Job states and whether each one is final.
STATES: Mapping[str, bool] = {
    "WAITING": False,
    "RUNNING": False,
    "SUCCESS": True,
    "FAILED": True,
    "ABORTED": True,
}
FINISHED = frozenset(state for state, final in STATES.items() if final)

# Fields of a job record that may hold secrets (the call's arguments, the caller's
# credentials); they are never kept in errors or reprs.
_PRIVATE_FIELDS = ("arguments", "credentials")

# Polls in a row that may fail to reach the server (a restart, a dropped connection)
# before waiting for a job gives up; the job itself keeps running on the server.
MAX_LOST_POLLS = 5
# A poll that failed with one of these did not get through (the server did nothing):
# it counts as lost, and the next turn polls again.
LOST_POLL_ERRORS = (TransportError, TooManyConcurrentCalls)
# Without job events a wait polls this much more often (a share of job_poll_interval).
_UNEVENTED_POLLS = 0.2
# A poll made at the very end of a wait still gets this long to be answered.
_MIN_POLL_TIMEOUT = 0.05

ProgressCallback = Callable[[Mapping[str, Any]], None]


class JobHost(Protocol):
    """What a job needs from its client."""

    jobs: JobTracker
    job_poll_interval: float
    call_timeout: float | None

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""

    def call(self, method: str, *params: Any, job: bool = False,
             timeout: float | None = None) -> Any:
        """Call a method by name."""

    def follow_jobs(self) -> bool:
        """Subscribe to job events on the current connection; False if unavailable."""


class JobTracker:
    """Job records kept up to date by ``core.get_jobs`` events, for watched jobs only."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._records: dict[int, dict[str, Any]] = {}
        self._versions: dict[int, int] = {}
        self._watchers: dict[int, int] = {}

    def watch(self, job_id: int) -> None:
        """Start keeping the record of a job (counted: one per waiter)."""
        with self._changed:
            self._watchers[job_id] = self._watchers.get(job_id, 0) + 1
            self._versions.setdefault(job_id, 0)

    def unwatch(self, job_id: int) -> None:
        """Stop keeping a job's record once its last waiter is gone."""
        with self._changed:
            left = self._watchers.get(job_id, 1) - 1
            if left > 0:
                self._watchers[job_id] = left
                return
            self._watchers.pop(job_id, None)
            self._records.pop(job_id, None)
            self._versions.pop(job_id, None)

    def update(self, job_id: int, fields: Mapping[str, Any]) -> None:
        """Merge fields into a watched job's record and wake its waiters.

        A record that reached a final state keeps it: a late event or poll answer
        cannot make a finished job look running again.

        Args:
            job_id: The job.
            fields: New fields (a full record or a part of one).
        """
        with self._changed:
            if job_id not in self._watchers:
                return
            record = self._records.setdefault(job_id, {})
            if record.get("state") in FINISHED and fields.get("state") not in FINISHED:
                return
            record.update(fields)
            self._versions[job_id] = self._versions.get(job_id, 0) + 1
            self._changed.notify_all()

    def on_event(self, event: Event) -> None:
        """Take a ``core.get_jobs`` event (called on the reader thread)."""
        fields = event.fields if isinstance(event.fields, Mapping) else {}
        job_id = event.id if isinstance(event.id, int) else fields.get("id")
        if isinstance(job_id, int) and fields:
            self.update(job_id, fields)

    def wake(self) -> None:
        """Wake every waiter (the connection dropped: they should poll)."""
        with self._changed:
            self._changed.notify_all()

    def snapshot(self, job_id: int) -> tuple[int, dict[str, Any]]:
        """Return ``(version, copy of the record)`` of a watched job."""
        with self._changed:
            return self._versions.get(job_id, 0), dict(self._records.get(job_id, {}))

    def wait_change(self, job_id: int, version: int, timeout: float) -> bool:
        """Wait until a job's record changes past ``version``.

        Args:
            job_id: The job.
            version: The version already seen.
            timeout: Seconds to wait at most.

        Returns:
            True if it changed, False on timeout or wake-up without change.
        """
        with self._changed:
            if self._versions.get(job_id, 0) == version:
                self._changed.wait(timeout)
            return self._versions.get(job_id, 0) != version


def public_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return a job record without the fields that may hold secrets (its arguments).

    Args:
        record: A ``core.get_jobs`` record.

    Returns:
        A copy without ``arguments`` and ``credentials``.
    """
    return {k: v for k, v in record.items() if k not in _PRIVATE_FIELDS}


def job_outcome(job_id: int, method: str, record: Mapping[str, Any]) -> Any:
    """Return a finished job's result, or raise the typed error of its failure.

    Shared by :class:`Job` and the async facade's job, so both fail the same way.

    Args:
        job_id: The job.
        method: Its method, for messages.
        record: Its last record (``state`` SUCCESS, FAILED or ABORTED).

    Returns:
        The job's result, on SUCCESS.

    Raises:
        JobValidationFailed: It failed because its parameters were invalid.
        JobFailed: It failed or was aborted.
    """
    record = public_record(record)
    state = str(record.get("state") or "")
    if state == "SUCCESS":
        return record.get("result")
    exc_info = record.get("exc_info")
    exc_info = exc_info if isinstance(exc_info, Mapping) else {}
    reason = str(record.get("error") or f"job {job_id} ({method}) ended {state}")
    common: dict[str, Any] = {
        "job_id": job_id, "state": state, "method": method, "data": record,
        "reason": reason, "trace": record.get("exception"),
        "errname": str(exc_info.get("errname") or ""),
    }
    if exc_info.get("type") == "VALIDATION":
        raise JobValidationFailed(
            reason, errors=problems_of(exc_info.get("extra")), status=INVALID_PARAMS,
            hint="see the error's .errors for every invalid field", **common)
    hint = "the job was aborted" if state == "ABORTED" else ""
    raise JobFailed(reason, status=CALL_ERROR, hint=hint, **common)


class JobRecord:
    """What is known of a job from the last record seen (shared by sync and async jobs).

    Args:
        job_id: The job id the server answered.
        method: The job's method, for messages.
    """

    _ABORT = "job.abort()"  # how to stop the job, as a Timeout's message says it

    def __init__(self, job_id: int, method: str = ""):
        self.id = job_id
        self.method = method
        self._record: dict[str, Any] = {}
        # Events arrive on the reader thread while the caller reads the record.
        self._lock = threading.Lock()
        self._lost_polls = 0

    @property
    def record(self) -> dict[str, Any]:
        """The last job record seen, without its arguments and credentials."""
        with self._lock:
            return public_record(self._record)

    @property
    def state(self) -> str:
        """The last state seen (``WAITING``, ``RUNNING``, ``SUCCESS``...); ``""`` if none."""
        return str(self.record.get("state") or "")

    @property
    def progress(self) -> dict[str, Any]:
        """The last progress seen: ``{"percent", "description", "extra"}``."""
        progress = self.record.get("progress")
        return dict(progress) if isinstance(progress, Mapping) else {}

    @property
    def done(self) -> bool:
        """Whether the job was last seen in a final state."""
        return self.state in FINISHED

    def _polled(self, error: TransportError | TooManyConcurrentCalls | None) -> None:
        """Note whether a poll reached the server; give up after too many that did not.

        Args:
            error: Why the poll did not get through (a transport failure, or the
                server's limit of calls in flight), or ``None`` when it did.

        Raises:
            ConnectionClosed: :data:`MAX_LOST_POLLS` polls in a row failed. It names the
                job and its method (not the internal ``core.get_jobs``), and is not a
                ``ConnectionFailed``: the job was started, so starting it again is no
                safe retry.
        """
        if error is None:
            self._lost_polls = 0
            return
        self._lost_polls += 1
        if self._lost_polls >= MAX_LOST_POLLS:
            raise ConnectionClosed(
                f"lost contact with the server while waiting for job {self.id} "
                f"({self.method}), {self._lost_polls} polls in a row: {error}; the job may "
                "still be running there", method=self.method, url=error.url) from error
        _log.info("could not poll job %s (%s); polling again", self.id, error)

    def _next_wait(self, deadline: float | None, now: float, poll_interval: float,
                   evented: bool) -> float | None:
        """One turn of a wait, after new progress was reported: how long to wait next.

        Args:
            deadline: When the wait ends, on the clock ``now`` comes from; ``None``: never.
            now: The time now.
            poll_interval: The client's ``job_poll_interval``.
            evented: Whether job events arrive (else polls come five times as often).

        Returns:
            Seconds to wait for an event before polling, or ``None``: the job has ended.

        Raises:
            Timeout: The deadline passed; the job keeps running on the server.
        """
        if self.done:
            return None
        remaining = None if deadline is None else deadline - now
        if remaining is not None and remaining <= 0:
            raise Timeout(
                f"job {self.id} ({self.method}) is still {self.state or 'running'}; it keeps "
                f"running on the server ({self._ABORT} stops it)", method=self.method)
        interval = poll_interval * (1 if evented else _UNEVENTED_POLLS)
        return interval if remaining is None else min(interval, remaining)

    def _report(self, on_progress: ProgressCallback | None,
                shown: dict[str, Any] | None) -> dict[str, Any] | None:
        """Call ``on_progress`` if the progress changed since ``shown``; return it."""
        if on_progress is not None and self.progress and self.progress != shown:
            shown = self.progress
            on_progress(shown)
        return shown

    @staticmethod
    def _poll_timeout(call_timeout: float | None, deadline: float | None) -> float | None:
        """How long one poll may wait for its answer: no longer than the wait has left."""
        if deadline is None:
            return call_timeout
        remaining = max(deadline - time.monotonic(), _MIN_POLL_TIMEOUT)
        return remaining if call_timeout is None else min(call_timeout, remaining)

    def _merge(self, record: Mapping[str, Any]) -> bool:
        """Fold a record or event into what is known; False if it was ignored."""
        with self._lock:
            # A finished record keeps its final state: a late event cannot revive it.
            if self._record.get("state") in FINISHED and record.get("state") not in FINISHED:
                return False
            self._record.update(record)
            return True


class Job(JobRecord):
    """A handle on a job running on the server.

    Args:
        host: The client that started it.
        job_id: The job id the server answered.
        method: The job's method, for messages.
    """

    def __init__(self, host: JobHost, job_id: int, method: str = ""):
        super().__init__(job_id, method)
        self._host = host

    def refresh(self, timeout: float | None = None) -> dict[str, Any]:
        """Ask the server for the job's record now.

        Args:
            timeout: Seconds to wait for the answer; default: the client's call timeout.

        Returns:
            The record (without arguments and credentials).

        Raises:
            CallError: The server knows no job with this id.
        """
        found = self._host.call(JOBS_COLLECTION, [["id", "=", self.id]],
                                timeout=self._host.call_timeout if timeout is None else timeout)
        if not isinstance(found, list) or not found or not isinstance(found[0], Mapping):
            raise CallError(f"the server has no job {self.id} ({self.method or 'unknown method'})",
                            errname="ENOENT", status=CALL_ERROR, method=JOBS_COLLECTION)
        self._merge(found[0])
        return self.record

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, timeout: float | None = None,
             on_progress: ProgressCallback | None = None) -> Any:
        """Wait for the job to end and return its result.

        Args:
            timeout: Seconds to wait; ``None`` waits until the job ends.
            on_progress: Called with the progress object each time it changes, in this
                thread.

        Returns:
            The job's result.

        Raises:
            JobFailed: The job ended FAILED or ABORTED (:class:`JobValidationFailed`
                when its parameters were invalid).
            Timeout: The job did not end in time; it keeps running on the server.
            ConnectionClosed: :data:`MAX_LOST_POLLS` polls in a row did not get through;
                the job may still be running on the server.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        tracker = self._host.jobs
        tracker.watch(self.id)
        try:
            self._follow(tracker, deadline, on_progress)
        finally:
            tracker.unwatch(self.id)
        return self._outcome()

    def _follow(self, tracker: JobTracker, deadline: float | None,
                on_progress: ProgressCallback | None) -> None:
        self._lost_polls = 0
        evented = self._host.connected and self._subscribe()
        self._poll(deadline)
        version, shown = -1, None
        # Ends when the job does, or at the deadline; each turn waits for an event or
        # polls, so it never spins.
        while True:
            seen, record = tracker.snapshot(self.id)
            if seen != version:
                version = seen
                self._merge(record)
            shown = self._report(on_progress, shown)
            wait = self._next_wait(deadline, time.monotonic(), self._host.job_poll_interval,
                                   evented)
            if wait is None:
                return
            if not tracker.wait_change(self.id, version, wait):
                # Subscribing while disconnected would be a second reconnect per turn;
                # the poll reconnects, and the next turn subscribes again.
                evented = self._host.connected and self._subscribe()
                self._poll(deadline)

    def _subscribe(self) -> bool:
        try:
            return self._host.follow_jobs()
        except TransportError:
            return False  # the poll that follows tells whether the server is reachable

    def _poll(self, deadline: float | None = None) -> None:
        try:
            record = self.refresh(self._poll_timeout(self._host.call_timeout, deadline))
        except LOST_POLL_ERRORS as exc:
            self._polled(exc)
            return
        self._polled(None)
        self._host.jobs.update(self.id, record)

    def _outcome(self) -> Any:
        if self.state == "FAILED" and not self.record.get("exc_info"):
            self._complete()
        try:
            return job_outcome(self.id, self.method, self.record)
        except JobFailed as exc:
            # The record is the server's: it may quote the job's (secret) arguments.
            mask = getattr(self._host, "secret_mask", None)
            raise mask.error(exc) if mask is not None else exc from None

    def _complete(self) -> None:
        # A failure seen without its details (a record caught between the state change
        # and the error fields): ask once more, the error's type depends on them.
        try:
            self.refresh()
        except (TransportError, CallError):
            _log.debug("could not read the details of failed job %s", self.id)

    def abort(self) -> None:
        """Ask the server to abort the job (``core.job_abort``)."""
        self._host.call("core.job_abort", self.id)

    def __repr__(self) -> str:
        progress = self.progress.get("percent")
        shown = f" {progress}%" if isinstance(progress, (int, float)) and not self.done else ""
        state = self.state or "started"
        return f"<Job {self.id} {self.method} {state}{shown}>"
