"""A stubber for TrueNAS clients: queued results, errors and jobs instead of a server.

Queue the calls a script is expected to make, with what to answer::

    client = maas_dyn.truenas.Client.from_release("25.10")
    with TrueNASStubber(client) as stub:
        stub.add_response("pool.query", [{"name": "tank"}],
                          expected_params=[[["name", "=", "tank"]]])
        stub.add_job("pool.create", {"name": "tank"}, progress=[10, 50, 90])
        my_script(client)          # queries, then pool.create(...).wait(on_progress=...)
    # leaving the block asserts every queued answer was used

Each expectation is checked against the client's method document when it is added: an
unknown method fails at once (with the closest names), parameters invalid against the
method's ``accepts`` schemas fail, and a job method must be queued with
:meth:`~TrueNASStubber.add_job`. Each call is then checked against the next expectation.

Only the socket is replaced (through :attr:`maas_dyn.truenas.Client.opener`): the
client's validation, framing, login, reader thread and job following all run. The
session's plumbing is answered without expectations: logins succeed, subscriptions are
accepted and keep-alive pings answered, unless an expectation for that method is next
in the queue. A stubbed job reports one progress step per poll of ``core.get_jobs``
(the stubber makes the client poll without pausing), so ``on_progress`` sees every
step, in order, and no test waits.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maas_dyn.testing._peer import PeerLink
from maas_dyn.testing.errors import StubAssertionError
from maas_dyn.truenas.client import Client, Opener
from maas_dyn.truenas.jobs import JOBS_COLLECTION
from maas_dyn.truenas.jsonrpc import CALL_ERROR, INVALID_PARAMS, dumps, loads
from maas_dyn.truenas.methods import MethodSpec
from maas_dyn.truenas.schema import validate_params

__all__ = ["PLUMBING", "Progress", "TrueNASStubber"]

Progress = float | Mapping[str, Any]
"""A progress step: a percentage, or ``{"percent", "description", "extra"}``."""

_EINVAL = 22
_ERRNOS: Mapping[str, int] = {"EFAULT": 14, "ENOENT": 2, "EEXIST": 17, "EBUSY": 16,
                              "EACCES": 13, "EPERM": 1, "EINVAL": _EINVAL}

# Calls a session makes on its own, answered when no expectation for them is queued next.
PLUMBING: Mapping[str, Callable[[TrueNASStubber, list[Any]], Any]] = {
    "auth.login_ex": lambda stub, params: {"response_type": "SUCCESS", "user_info": None,
                                           "authenticator": "LEVEL_1"},
    "auth.login_ex_continue": lambda stub, params: {"response_type": "SUCCESS"},
    "auth.login": lambda stub, params: True,
    "auth.login_with_api_key": lambda stub, params: True,
    "auth.login_with_token": lambda stub, params: True,
    "core.subscribe": lambda stub, params: f"stub-subscription-{next(stub._subscriptions)}",
    "core.unsubscribe": lambda stub, params: None,
    "core.ping": lambda stub, params: "pong",
}


@dataclass
class _Job:
    """A stubbed job: the records its polls answer, one after another."""

    records: list[dict[str, Any]]
    polls: int = 0

    def next_record(self) -> dict[str, Any]:
        record = self.records[min(self.polls, len(self.records) - 1)]
        self.polls += 1
        return record


@dataclass
class _Expected:
    method: str
    params: list[Any] | None
    result: Any = None
    error: Mapping[str, Any] | None = None
    job: _Job | None = None


def _progress(step: Progress) -> dict[str, Any]:
    if isinstance(step, Mapping):
        return {"percent": step.get("percent"), "description": step.get("description", ""),
                "extra": step.get("extra")}
    return {"percent": step, "description": "", "extra": None}


def _wire(value: Any) -> Any:
    # What the server would see: tuples become lists, datetimes ejson objects.
    return loads(dumps(value))


class TrueNASStubber:
    """Replaces a TrueNAS client's server with queued, checked answers.

    Args:
        client: The client to stub, e.g. ``Client.from_release("25.10")`` (no network).
    """

    def __init__(self, client: Client):
        self.client = client
        self._queue: deque[_Expected] = deque()
        self._jobs: dict[int, _Job] = {}
        self._job_ids = itertools.count(1)
        self._subscriptions: Iterator[int] = itertools.count(1)
        self._lock = threading.Lock()
        self._saved: tuple[Opener, float] | None = None

    # -- expectations ---------------------------------------------------------------------------

    def _spec(self, method: str, params: Sequence[Any] | None) -> MethodSpec:
        spec: MethodSpec = self.client.operation(method).payload
        if params is not None:
            problems = validate_params(spec.accepts, _wire(list(params)))
            if problems:
                listed = "; ".join(f"{where}: {', '.join(what)}"
                                   for where, what in problems.items())
                raise StubAssertionError(f"expected parameters of {method} are invalid against "
                                         f"its accepts schemas: {listed}")
        return spec

    def _queue_call(self, method: str, params: Sequence[Any] | None, *, is_job: bool,
                    **answer: Any) -> None:
        spec = self._spec(method, params)
        if spec.job != is_job:
            use = "add_job" if spec.job else "add_response or add_client_error"
            raise StubAssertionError(f"{method} {'is' if spec.job else 'is not'} a job method; "
                                     f"queue it with {use}")
        expected = _Expected(method, None if params is None else _wire(list(params)), **answer)
        with self._lock:
            self._queue.append(expected)

    def add_response(self, method: str, result: Any = None, *,
                     expected_params: Sequence[Any] | None = None) -> None:
        """Queue a result.

        Args:
            method: Dotted method name (must be in the client's document, not a job).
            result: What the call returns (JSON-like; datetimes and sets travel as ejson).
            expected_params: The positional parameters the call must send (``None``: do
                not check them); checked against the method's schemas now.

        Raises:
            UnknownMethodError: The document has no such method.
            StubAssertionError: The parameters are invalid, or the method is a job.
        """
        self._queue_call(method, expected_params, is_job=False, result=result)

    def add_client_error(self, method: str, reason: str = "", *, errname: str = "EFAULT",
                         problems: Sequence[tuple[str, str]] = (),
                         expected_params: Sequence[Any] | None = None) -> None:
        """Queue an error answer; the client raises its typed error for it.

        Args:
            method: Dotted method name (a job method too: its call fails at once).
            reason: The error's text.
            errname: The errno name of a call error (``CallError.errname``).
            problems: ``(attribute, message)`` pairs: answer a validation error
                (``ValidationError.errors``) instead of a call error.
            expected_params: The parameters the call must send.

        Raises:
            UnknownMethodError: The document has no such method.
            StubAssertionError: The parameters are invalid.
        """
        if problems:
            error = {"code": INVALID_PARAMS, "message": "Invalid params", "data": {
                "error": _EINVAL, "errname": "EINVAL", "reason": reason or "invalid params",
                "trace": None, "extra": [[attr, text, _EINVAL] for attr, text in problems]}}
        else:
            error = {"code": CALL_ERROR, "message": "Method call error", "data": {
                "error": _ERRNOS.get(errname, 0), "errname": errname, "reason": reason,
                "trace": None, "extra": None}}
        self._spec(method, expected_params)
        with self._lock:
            self._queue.append(_Expected(method, None if expected_params is None
                                         else _wire(list(expected_params)), error=error))

    def add_job(self, method: str, result: Any = None, *,
                expected_params: Sequence[Any] | None = None,
                progress: Sequence[Progress] = (), error: str | None = None,
                problems: Sequence[tuple[str, str]] = ()) -> int:
        """Queue a job: the call returns a job id, and waiting for it sees each step.

        Args:
            method: Dotted name of a job method.
            result: The job's result when it succeeds.
            expected_params: The parameters the call must send.
            progress: Steps reported while it runs, in order.
            error: Make the job end FAILED with this error text (``JobFailed``).
            problems: ``(attribute, message)`` pairs: make it fail validation
                (``JobValidationFailed``).

        Returns:
            The job id the call will answer.

        Raises:
            UnknownMethodError: The document has no such method.
            StubAssertionError: The parameters are invalid, or the method is no job.
        """
        job_id = next(self._job_ids)
        base: dict[str, Any] = {"id": job_id, "method": method, "result": None, "error": None,
                                "exception": None, "exc_info": None}
        records = [{**base, "state": "RUNNING", "progress": _progress(step)}
                   for step in progress]
        last = records[-1]["progress"] if records else _progress(0)
        if error is None and not problems:
            final = {**base, "state": "SUCCESS", "result": result,
                     "progress": {**last, "percent": 100}}
        else:
            exc_info = ({"type": "VALIDATION", "errname": "EINVAL",
                         "extra": [[attr, text, _EINVAL] for attr, text in problems]}
                        if problems else {"type": "CallError", "errname": "EFAULT", "extra": None})
            final = {**base, "state": "FAILED", "progress": last, "exc_info": exc_info,
                     "error": error or "; ".join(f"{attr}: {text}" for attr, text in problems)}
        job = _Job([*records, final])
        self._queue_call(method, expected_params, is_job=True, result=job_id, job=job)
        return job_id

    # -- the peer -------------------------------------------------------------------------------

    def _open(self, url: str, verify: bool | str, timeout: float) -> PeerLink:
        return PeerLink(self._answer)

    def _job_poll(self, method: str, params: list[Any]) -> _Job | None:
        # A job's own poll is exactly core.get_jobs([["id", "=", N]]) (see Job.refresh).
        if method != JOBS_COLLECTION:
            return None
        return next((job for job_id, job in self._jobs.items()
                     if params == [[["id", "=", job_id]]]), None)

    def _answer(self, link: PeerLink, request_id: Any, method: str, params: list[Any]) -> None:
        with self._lock:
            job = self._job_poll(method, params)
            if job is not None:
                link.reply(request_id, [job.next_record()])
                return
            head = self._queue[0] if self._queue else None
            if (head is None or head.method != method) and method in PLUMBING:
                link.reply(request_id, PLUMBING[method](self, params))
                return
            if head is None:
                raise StubAssertionError(f"unexpected call {method}: no answer is queued")
            if head.method != method:
                raise StubAssertionError(f"unexpected call {method}: expected {head.method}")
            if head.params is not None and head.params != params:
                raise StubAssertionError(f"{method} was called with {params}, expected "
                                         f"{head.params}")
            self._queue.popleft()
            if head.job is not None:
                self._jobs[head.result] = head.job
        if head.error is not None:
            link.fail(request_id, head.error)
        else:
            link.reply(request_id, head.result)

    # -- activation -----------------------------------------------------------------------------

    def activate(self) -> None:
        """Route the client's connections to the stubber (closing any open one)."""
        if self._saved is None:
            self._saved = (self.client.opener, self.client.job_poll_interval)
            # Each wait for a stubbed job's next step becomes an immediate poll.
            self.client.job_poll_interval = 0.0
            self.client.opener = self._open

    def deactivate(self) -> None:
        """Give the client its own opener back (closing the stub's connection)."""
        if self._saved is not None:
            opener, interval = self._saved
            self._saved = None
            self.client.opener = opener
            self.client.job_poll_interval = interval

    def assert_no_pending_responses(self) -> None:
        """Fail if queued answers were not used.

        Raises:
            StubAssertionError: Naming the unused expectations.
        """
        with self._lock:
            pending = [expected.method for expected in self._queue]
        if pending:
            raise StubAssertionError(f"{len(pending)} expected call(s) not made: "
                                     + ", ".join(pending))

    def __enter__(self) -> TrueNASStubber:
        self.activate()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.deactivate()
        if exc_type is None:
            self.assert_no_pending_responses()
