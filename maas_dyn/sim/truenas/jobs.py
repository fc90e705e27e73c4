"""The jobs engine: WAITING -> RUNNING (progress) -> SUCCESS | FAILED | ABORTED.

Jobs run on a bounded pool of worker threads. Every change of a job is published on the
``core.get_jobs`` collection, with the record shape of the middleware's ``Job.__encode__``
(see the wire fixture ``wire-core.get_jobs-collection_update-api-client-ts.json``).
Finished jobs are kept (the newest 1000) so that ``core.get_jobs`` can report results
and errors.

Timing and order follow the middleware's ``job.py`` (``Job.run``, ``__run_body``):
ADDED when the job is queued, CHANGED for RUNNING and each progress change, a CHANGED
with ``SUCCESS`` and percent 100 when the body returns, then the caller's reply (with
``legacy_jobs`` off), then the final CHANGED after the finish callbacks. No real job
finishes within a millisecond of its call: each job spends
:data:`MIN_JOB_SECONDS` simulated seconds at least (half of it queued in WAITING), so
that clients which attach their job callback after the call's answer (the official
client's ``Job``, aiotruenas-client) see later events, as they do on a real server.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.clock import SimClock
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.exceptions import CallError, JobAborted, ValidationErrors
from maas_dyn.sim.truenas.faults import Faults

__all__ = ["FINISHED", "MIN_JOB_SECONDS", "Job", "JobManager"]

FINISHED = frozenset({"SUCCESS", "FAILED", "ABORTED"})
_COLLECTION = "core.get_jobs"
# How often a job waiting for its lock checks for an abort.
_LOCK_POLL = 0.05
# Shortest simulated duration of any job: queueing, the body's thread hop and the event
# sends of a real middleware job take a fraction of a second, never microseconds.
MIN_JOB_SECONDS = 0.5
# Real seconds a finished job waits for its caller's reply before the final CHANGED
# goes out anyway (a caller that vanished must not hold a worker).
_REPLY_WAIT = 2.0


def _exc_info(exc: BaseException) -> dict[str, Any]:
    # Same classification as the middleware's Job.__encode__.
    if isinstance(exc, ValidationErrors):
        return {"repr": repr(exc), "type": "VALIDATION", "errno": None,
                "extra": [list(item) for item in exc.errors]}
    if isinstance(exc, CallError):
        return {"repr": repr(exc), "type": type(exc).__name__, "errno": exc.errno,
                "extra": exc.extra}
    return {"repr": repr(exc), "type": type(exc).__name__, "errno": None, "extra": None}


class Job:
    """One job.

    Args:
        job_id: Its id.
        method: The job method.
        arguments: The validated arguments.
        credentials: ``Credentials.dump()`` of the caller, or ``None``.
        abortable: Whether the method declares itself abortable.
        message_id: The JSON-RPC id of the call that started it, if any.
        lock: Name of the lock the job holds while it runs (``None``: none).
    """

    def __init__(self, job_id: int, method: str, arguments: list[Any], *,
                 credentials: dict[str, Any] | None, abortable: bool,
                 message_id: object = None, lock: str | None = None):
        self.id = job_id
        self.method = method
        self.lock = lock
        self.arguments = arguments
        self.credentials = credentials
        self.abortable = abortable
        self.message_ids = [message_id] if message_id is not None else []
        self.state = "WAITING"
        self.progress: dict[str, Any] = {"percent": 0, "description": "", "extra": None}
        self.result: Any = None
        self.error: str | None = None
        self.exception: str | None = None
        self.exc_info: dict[str, Any] | None = None
        self.failure: BaseException | None = None
        self.time_started = datetime.now(timezone.utc)
        self.time_finished: datetime | None = None
        self.abort_requested = threading.Event()
        self.finished = threading.Event()
        self.input: bytes | None = None
        self.output: bytearray | None = None
        # Set by a caller that waits for the job (legacy_jobs off); the final CHANGED
        # is published once that caller's reply went out (``replied``).
        self.awaited = False
        self.replied = threading.Event()

    def encode(self) -> dict[str, Any]:
        """Describe the job as ``core.get_jobs`` does.

        Returns:
            The job record.
        """
        return {
            "id": self.id,
            "message_ids": list(self.message_ids),
            "method": self.method,
            "arguments": self.arguments,
            "transient": False,
            "description": None,
            "abortable": self.abortable,
            "logs_path": None,
            "logs_excerpt": None,
            "progress": dict(self.progress),
            "result": self.result if self.state == "SUCCESS" else None,
            "result_encoding_error": None,
            "error": self.error,
            "exception": self.exception,
            "exc_info": self.exc_info,
            "state": self.state,
            "time_started": self.time_started,
            "time_finished": self.time_finished,
            "credentials": self.credentials,
        }


JobBody = Callable[[Job], Any]


class JobManager:
    """Creates, runs, aborts and remembers jobs.

    Args:
        events: Where job events are published.
        faults: Fault switches (``fail_jobs``).
        workers: Jobs that may run at once; more wait in WAITING.
        keep: Jobs remembered; the oldest finished ones are forgotten first.
        clock: Simulated time; without it jobs take no minimum time.
        min_seconds: Shortest simulated duration of a job.
    """

    def __init__(self, events: EventHub, faults: Faults, workers: int = 4, keep: int = 1000,
                 *, clock: SimClock | None = None, min_seconds: float = MIN_JOB_SECONDS):
        self._events = events
        self._faults = faults
        self._clock = clock
        self._min_seconds = min_seconds if clock is not None else 0.0
        self._keep = keep
        self._lock = threading.Lock()
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._last_id = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim-job")
        self._locks: dict[str, threading.Lock] = {}

    def submit(self, method: str, arguments: list[Any], body: JobBody, *,
               credentials: dict[str, Any] | None = None, abortable: bool = False,
               message_id: object = None, prepare: Callable[[Job], None] | None = None,
               inline: bool = False, lock: str | None = None) -> Job:
        """Create a job and queue it.

        Args:
            method: The job method.
            arguments: Its validated arguments.
            body: Runs the job; its return value becomes the result.
            credentials: ``Credentials.dump()`` of the caller.
            abortable: Whether the method declares itself abortable.
            message_id: JSON-RPC id of the call.
            prepare: Called with the job before it is queued (e.g. to attach pipes).
            inline: Run the job in the calling thread and return it finished.
            lock: Jobs with the same lock name run one at a time.

        Returns:
            The job: WAITING, or finished when ``inline``.
        """
        with self._lock:
            self._last_id += 1
            job = Job(self._last_id, method, arguments, credentials=credentials,
                      abortable=abortable, message_id=message_id, lock=lock)
            self._jobs[job.id] = job
            self._forget_old()
        if prepare is not None:
            prepare(job)
        self._publish("ADDED", job)
        if inline:
            self._run(job, body)
        else:
            self._pool.submit(self._run, job, body)
        return job

    def _forget_old(self) -> None:
        if len(self._jobs) <= self._keep:
            return
        oldest = next((j for j in self._jobs.values() if j.state in FINISHED), None)
        if oldest is not None:
            del self._jobs[oldest.id]

    def get(self, job_id: int) -> Job | None:
        """Find a job.

        Args:
            job_id: The id.

        Returns:
            The job, or ``None`` if unknown (or forgotten).
        """
        with self._lock:
            return self._jobs.get(job_id)

    def active(self, method: str) -> list[Job]:
        """List the jobs of a method that have not finished.

        Args:
            method: The job method.

        Returns:
            WAITING and RUNNING jobs, oldest first.
        """
        with self._lock:
            return [job for job in self._jobs.values()
                    if job.method == method and job.state not in FINISHED]

    def records(self) -> list[dict[str, Any]]:
        """Describe every remembered job.

        Returns:
            Job records, oldest first.
        """
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.encode() for job in jobs]

    def set_progress(self, job: Job, percent: float | None = None,
                     description: str | None = None, extra: object = None) -> None:
        """Update a job's progress and publish it when it changed.

        Args:
            job: The job.
            percent: 0-100; rounded down like the middleware.
            description: What the job is doing.
            extra: Job-specific progress data.
        """
        before = dict(job.progress)
        if percent is not None:
            job.progress["percent"] = int(percent)
        if description:
            job.progress["description"] = description
        if extra:
            job.progress["extra"] = extra
        if job.progress != before:
            self._publish("CHANGED", job)

    def abort(self, job: Job) -> None:
        """Ask a job to stop (a WAITING job never starts, a RUNNING one stops at its next step).

        Args:
            job: The job.
        """
        job.abort_requested.set()

    def shutdown(self) -> None:
        """Abort every job and wait for the workers to finish."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.abort_requested.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for job in jobs:
            if job.state not in FINISHED:
                self._finish(job, "ABORTED")

    def _publish(self, msg: str, job: Job) -> None:
        self._events.publish(_COLLECTION, msg, item_id=job.id, fields=job.encode())

    def _finish(self, job: Job, state: str, failure: BaseException | None = None) -> None:
        # The state changes last: a reader that sees FAILED also sees the error.
        job.time_finished = datetime.now(timezone.utc)
        if failure is not None:
            job.failure = failure
            job.error = str(failure)
            job.exception = "".join(traceback.format_exception(
                type(failure), failure, failure.__traceback__))
            job.exc_info = _exc_info(failure)
        job.state = state
        if state == "SUCCESS" and job.progress["percent"] != 100:
            # __run_body: set_state('SUCCESS') then set_progress(100, '') sends a CHANGED.
            job.progress["percent"] = 100
            self._publish("CHANGED", job)
        job.finished.set()
        if job.awaited:
            # Job.run sets _finished (the waiting call replies) before its last event.
            job.replied.wait(_REPLY_WAIT)
        self._publish("CHANGED", job)

    def _named_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(name, threading.Lock())

    def _run(self, job: Job, body: JobBody) -> None:
        lock = self._named_lock(job.lock) if job.lock else None
        held = False
        # A job waits (WAITING) while another job holds its lock, as middleware jobs do;
        # an abort ends the wait.
        while lock is not None and not (held := lock.acquire(timeout=_LOCK_POLL)):
            if job.abort_requested.is_set():
                break
        try:
            self._execute(job, body)
        finally:
            if held and lock is not None:
                lock.release()

    def _pause(self, job: Job, sim_seconds: float) -> bool:
        # False when the job was aborted (or the simulator stops) during the pause.
        if self._clock is None or sim_seconds <= 0:
            return not job.abort_requested.is_set()
        return self._clock.sleep(sim_seconds, job.abort_requested)

    def _execute(self, job: Job, body: JobBody) -> None:
        started = time.monotonic()
        if not self._pause(job, self._min_seconds / 2):
            self._finish(job, "ABORTED")
            return
        job.state = "RUNNING"
        self._publish("CHANGED", job)
        injected = self._faults.take_job_failure(job.method)
        try:
            if injected is not None:
                raise injected
            result = body(job)
            if self._clock is not None:
                spent = (time.monotonic() - started) * self._clock.speed
                if not self._pause(job, self._min_seconds - spent):
                    raise JobAborted()
        except JobAborted:
            self._finish(job, "ABORTED")
        except Exception as exc:  # a job may fail in any way; its error is its result
            self._finish(job, "FAILED", exc)
        else:
            job.result = result
            self._finish(job, "SUCCESS")
