"""The call funnel: every call, from any endpoint, goes through :class:`Dispatcher`.

Order of checks as in the middleware: count the call, apply faults, look the method up
(-32601), check authentication ("Not authenticated"), validate the parameters against the
description (-32602, every problem), check query filters and options, then run the
handler, as a job when the description says so. A method of the description without a
handler answers ENOTSUP; nothing fakes success.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maas_dyn.sim.truenas.catalog import Catalog, MethodSpec
from maas_dyn.sim.truenas.exceptions import (
    ENOMETHOD,
    ENOTAUTHENTICATED,
    CallError,
    MethodNotFound,
    ValidationErrors,
)
from maas_dyn.sim.truenas.filters import validate_filters, validate_options
from maas_dyn.sim.truenas.jobs import Job
from maas_dyn.sim.truenas.registry import Call, Entry
from maas_dyn.sim.truenas.runtime import Runtime
from maas_dyn.sim.truenas.schema import validate_params
from maas_dyn.sim.truenas.session import Session

__all__ = ["ConnectionDropped", "Dispatcher", "Pipes", "method_not_found"]

# How often a caller waiting for a job (legacy_jobs off) checks that its session lives.
_JOB_POLL = 0.05

_FILTER_ARGS = ("filters", "query-filters")
_OPTION_ARGS = ("options", "query-options")

# Methods older releases hide (private in 25.04) but that every client needs.
_HIDDEN = {
    "core.get_methods": MethodSpec(
        "core.get_methods",
        accepts=[{"_name_": "service", "anyOf": [{"type": "string"}, {"type": "null"}],
                  "default": None, "_required_": False},
                 {"_name_": "target", "enum": ["WS", "CLI", "REST"], "default": "WS",
                  "_required_": False}],
        returns=[{"type": "object"}], job=False, no_auth_required=False, filterable=False,
        pipes=()),
    "core.get_services": MethodSpec(
        "core.get_services",
        accepts=[{"_name_": "target", "enum": ["WS", "CLI", "REST"], "default": "WS",
                  "_required_": False}],
        returns=[{"type": "object"}], job=False, no_auth_required=False, filterable=False,
        pipes=()),
}


def method_not_found(catalog: Catalog, method: str) -> CallError:
    """Build the error the middleware's ``get_method`` raises for an unknown name.

    The JSON-RPC endpoint answers -32601 instead; this wording is what the legacy
    endpoint and methods that call other methods (``core.download``) report.

    Args:
        catalog: The served description.
        method: The unknown name.

    Returns:
        The error (ENOMETHOD, or EBADMSG for a name without a dot).
    """
    if "." not in method:
        return CallError("Invalid method name", errno.EBADMSG)
    service, name = method.rsplit(".", 1)
    if not any(other.startswith(f"{service}.") for other in catalog.methods):
        return CallError(f"Service {service!r} not found", ENOMETHOD)
    return CallError(f"Method {name!r} not found in {service!r}", ENOMETHOD)


class ConnectionDropped(Exception):
    """A fault dropped the connection; no reply must be sent."""


@dataclass(frozen=True)
class Pipes:
    """Pipes a caller opened for a job.

    Attributes:
        input: The uploaded file (``POST /_upload``).
        output: Whether the caller will download the job's output (``core.download``).
    """

    input: bytes | None = None
    output: bool = False

    def opened(self) -> set[str]:
        """Name the open pipes (``"input"``, ``"output"``)."""
        names = {"input"} if self.input is not None else set()
        return names | ({"output"} if self.output else set())


class Dispatcher:
    """Runs calls against the modelled methods.

    Args:
        rt: The simulator's parts.
        handlers: Modelled methods.
    """

    def __init__(self, rt: Runtime, handlers: Mapping[str, Entry]):
        self._rt = rt
        self._handlers = handlers
        self._lock = threading.Lock()
        # (session id, repr of the request id) -> the job a caller waits for.
        self._awaiting: dict[tuple[str, str], Job] = {}

    def spec(self, method: str) -> MethodSpec:
        """Look a method up in the served description.

        Args:
            method: The method name.

        Returns:
            Its spec.

        Raises:
            MethodNotFound: The release has no such method.
        """
        spec = self._rt.catalog.get(method) or _HIDDEN.get(method)
        if spec is None:
            raise MethodNotFound(method)
        return spec

    def call(self, session: Session, method: str, params: list[Any], *,
             message_id: object = None, job_id_only: bool = False) -> Any:
        """Run one call received on a connection.

        Args:
            session: The calling session.
            method: The method name.
            params: The positional parameters as received.
            message_id: The request id.
            job_id_only: Answer job methods with the job id even when the session turned
                ``legacy_jobs`` off (the legacy endpoint always does).

        Returns:
            The method's result (or a job id).

        Raises:
            ConnectionDropped: A fault cut the connection; send nothing.
        """
        faults = self._rt.faults
        self._rt.counts.bump(method, params)
        delay = faults.take_delay(method)
        if delay:
            session.closed.wait(delay)
        drop = faults.take_drop(method)
        if drop == "before":
            self._drop(session)
        try:
            result = self._run(session, method, params, message_id, job_id_only)
        except Exception:
            if drop == "after":
                self._drop(session)
            raise
        if drop == "after":
            self._drop(session)
        return result

    @staticmethod
    def _drop(session: Session) -> None:
        session.transport.drop()
        session.closed.set()
        raise ConnectionDropped()

    def _prepare(self, session: Session, method: str, params: list[Any], *,
                 nested: bool = False) -> tuple[MethodSpec, list[Any], Entry]:
        try:
            spec = self.spec(method)
        except MethodNotFound:
            if nested:
                raise method_not_found(self._rt.catalog, method) from None
            raise
        if not spec.no_auth_required and not session.authenticated:
            raise CallError("Not authenticated", ENOTAUTHENTICATED)
        args, problems = validate_params(spec.accepts, params)
        if problems:
            raise ValidationErrors(problems)
        if spec.filterable:
            _check_query(spec, args)
        entry = self._handlers.get(method)
        if entry is None:
            raise CallError(f"{method} is not modelled by the maas_dyn simulator",
                            errno.ENOTSUP)
        return spec, args, entry

    def _run(self, session: Session, method: str, params: list[Any], message_id: object,
             job_id_only: bool) -> Any:
        spec, args, entry = self._prepare(session, method, params)
        if not spec.job:
            return entry.handler(Call(self._rt, session, method, args, self,
                                      params=list(params)))
        awaited = not (job_id_only or session.legacy_jobs)
        job = self._submit(session, spec, args, entry, pipes=Pipes(), message_id=message_id,
                           awaited=awaited, params=params)
        if not awaited:
            return job.id
        with self._lock:
            self._awaiting[(session.id, repr(message_id))] = job
        return self._await(session, job)

    def reply_sent(self, session: Session, message_id: object) -> None:
        """Tell a job its caller's reply went out, so its final CHANGED may follow.

        Args:
            session: The calling session.
            message_id: The request id of the call (its reply was sent or never will be).
        """
        with self._lock:
            job = self._awaiting.pop((session.id, repr(message_id)), None)
        if job is not None:
            job.replied.set()

    @staticmethod
    def _await(session: Session, job: Job) -> Any:
        while not job.finished.wait(_JOB_POLL):
            if session.closed.is_set():
                raise CallError("The connection closed while waiting for the job")
        if job.failure is not None:
            raise job.failure
        return job.result

    def run_nested(self, session: Session, method: str, params: list[Any]
                   ) -> tuple[int | None, Any]:
        """Run a method from inside another one (``core.bulk``) and wait for it.

        A job method runs in the calling thread, so nested jobs never wait for a free
        worker that their parent occupies.

        Args:
            session: The calling session.
            method: The method.
            params: Its parameters.

        Returns:
            ``(job id or None, result)``.
        """
        self._rt.counts.bump(method, params)
        spec, args, entry = self._prepare(session, method, params, nested=True)
        if not spec.job:
            return None, entry.handler(Call(self._rt, session, method, args, self,
                                            params=list(params)))
        job = self._submit(session, spec, args, entry, pipes=Pipes(), inline=True,
                           params=params)
        return job.id, self._await(session, job)

    def start_job(self, session: Session, method: str, params: list[Any], pipes: Pipes) -> Job:
        """Start a job method with pipes (``core.download``, ``POST /_upload``).

        Args:
            session: The calling session.
            method: A job method.
            params: Its parameters.
            pipes: The pipes the caller opened.

        Returns:
            The job.

        Raises:
            CallError: The method is not a job.
        """
        self._rt.counts.bump(method, params)
        spec, args, entry = self._prepare(session, method, params, nested=True)
        if not spec.job:
            raise CallError(f"{method} is not a job method", errno.EINVAL)
        return self._submit(session, spec, args, entry, pipes=pipes, params=params)

    def _submit(self, session: Session, spec: MethodSpec, args: list[Any], entry: Entry, *,
                pipes: Pipes, message_id: object = None, inline: bool = False,
                awaited: bool = False, params: list[Any] | None = None) -> Job:
        missing = [pipe for pipe in spec.pipes if pipe not in pipes.opened()]
        if missing:
            raise ValueError(f"Pipe {missing[0]!r} is not open")

        def attach(job: Job) -> None:
            job.input = pipes.input
            job.output = bytearray() if pipes.output else None
            job.awaited = awaited

        def body(job: Job) -> Any:
            return entry.handler(Call(self._rt, session, spec.name, args, self, job,
                                      params=list(args if params is None else params)))

        credentials = session.credentials.dump() if session.credentials else None
        return self._rt.jobs.submit(spec.name, args, body, credentials=credentials,
                                    abortable=entry.abortable, message_id=message_id,
                                    prepare=attach, inline=inline, lock=entry.lock)


def _check_query(spec: MethodSpec, args: list[Any]) -> None:
    # The middleware validates filters and options in pydantic validators, so a bad one
    # is an "Invalid params" error on the argument, with pydantic's "Value error, " prefix.
    checks = ((_FILTER_ARGS, validate_filters), (_OPTION_ARGS, validate_options))
    for index, schema in enumerate(spec.accepts):
        name = schema.get("_name_")
        for names, check in checks:
            if name in names:
                try:
                    check(args[index])
                except ValueError as exc:
                    raise ValidationErrors([(name, f"Value error, {exc}", errno.EINVAL)]
                                           ) from None
