"""Async TrueNAS client: ``await nas.pool.query()``, ``async with``, awaitable jobs.

The namespaces, names, signatures and docstrings are the sync client's; only the methods
are coroutine functions. A call is sent at once on the sync client's connection and its
reply completes a future on the connection's reader thread
(:meth:`maas_dyn.truenas.Client.submit`); ``asyncio.wrap_future`` makes that future
awaitable. So there is no thread per call and the event loop never blocks: hundreds of
coroutines can wait on one WebSocket, at most ``max_in_flight`` of them on the wire.

Nothing that can block runs on the loop: connecting and logging in again run in the
default executor, and a frame that cannot be written at once (a large one, or a server
that is not reading) is written by the connection's sender thread. A call's ``timeout``
covers all of it (reconnect, login, send and reply).

Jobs come back as :class:`AsyncJob`; ``await job.wait()`` follows the ``core.get_jobs``
events (delivered to the loop with ``call_soon_threadsafe``) and polls as a safety net,
like the sync :class:`~maas_dyn.truenas.Job`, and fails with the same typed errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any

from maas_dyn._dynamic import Operation
from maas_dyn.aio._connecting import Connecting
from maas_dyn.errors import (
    CallError,
    ConfigurationError,
    Timeout,
    TransportError,
    TrueNASAPIError,
)
from maas_dyn.truenas.client import Client, _NotConnected, _positional
from maas_dyn.truenas.events import Subscription
from maas_dyn.truenas.jobs import (
    JOBS_COLLECTION,
    LOST_POLL_ERRORS,
    JobRecord,
    ProgressCallback,
    job_outcome,
)
from maas_dyn.truenas.jsonrpc import CALL_ERROR
from maas_dyn.truenas.messages import Event
from maas_dyn.truenas.methods import MethodSpec, build_tree
from maas_dyn.truenas.resources import Binder

__all__ = ["AsyncClient", "AsyncJob", "connect"]

_log = logging.getLogger("maas_dyn.truenas")

_UNSET: Any = object()


class AsyncJob(JobRecord):
    """A handle on a job running on the server, for coroutines.

    Args:
        client: The async client that started it.
        job_id: The job id the server answered.
        method: The job's method, for messages.
    """

    _ABORT = "await job.abort()"

    def __init__(self, client: AsyncClient, job_id: int, method: str = ""):
        super().__init__(job_id, method)
        self._client = client
        self._changed = asyncio.Event()

    def _merge(self, record: Mapping[str, Any]) -> bool:
        merged = super()._merge(record)
        if merged:
            self._changed.set()
        return merged

    async def refresh(self) -> dict[str, Any]:
        """Ask the server for the job's record now.

        Returns:
            The record (without arguments and credentials).

        Raises:
            CallError: The server knows no job with this id.
        """
        found = await self._client.call(JOBS_COLLECTION, [["id", "=", self.id]])
        if not isinstance(found, list) or not found or not isinstance(found[0], Mapping):
            raise CallError(f"the server has no job {self.id} ({self.method or 'unknown method'})",
                            errname="ENOENT", status=CALL_ERROR, method=JOBS_COLLECTION)
        self._merge(found[0])
        return self.record

    async def _poll(self) -> None:
        try:
            await self.refresh()
        except LOST_POLL_ERRORS as exc:
            # The next call reconnects (and job events are subscribed again).
            self._polled(exc)
            return
        self._polled(None)

    async def wait(self, timeout: float | None = None,
                   on_progress: ProgressCallback | None = None) -> Any:
        """Wait for the job to end, without blocking the event loop.

        Args:
            timeout: Seconds to wait; ``None`` waits until the job ends.
            on_progress: Called with the progress object each time it changes.

        Returns:
            The job's result.

        Raises:
            JobFailed: The job ended FAILED or ABORTED (:class:`JobValidationFailed`
                when its parameters were invalid).
            Timeout: The job did not end in time; it keeps running on the server.
            ConnectionClosed: ``MAX_LOST_POLLS`` polls in a row did not get through; the
                job may still be running on the server.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._client._watch(self)
        self._lost_polls = 0
        try:
            evented = await self._client._follow_jobs()
            await self._poll()
            shown: dict[str, Any] | None = None
            # Ends when the job does, or at the deadline; each turn waits for an event
            # or polls, so it never spins.
            while True:
                shown = self._report(on_progress, shown)
                wait = self._next_wait(deadline, loop.time(),
                                       self._client.client.job_poll_interval, evented)
                if wait is None:
                    break
                self._changed.clear()  # no await since the check above: no event is lost
                try:
                    await asyncio.wait_for(self._changed.wait(), wait)
                except asyncio.TimeoutError:
                    await self._poll()
        finally:
            self._client._unwatch(self)
        if self.state == "FAILED" and not self._record.get("exc_info"):
            # Seen failing before its error fields arrived; they decide the error's type.
            # If they cannot be read now, the failure is still reported, untyped.
            with contextlib.suppress(TransportError):
                await self.refresh()
        try:
            return job_outcome(self.id, self.method, self._record)
        except TrueNASAPIError as exc:
            # The record is the server's: it may quote the job's (secret) arguments.
            raise self._client.client.secret_mask.error(exc) from None

    async def abort(self) -> None:
        """Ask the server to abort the job (``core.job_abort``)."""
        await self._client.call("core.job_abort", self.id)

    def __repr__(self) -> str:
        percent = self.progress.get("percent")
        shown = f" {percent}%" if isinstance(percent, (int, float)) and not self.done else ""
        return f"<AsyncJob {self.id} {self.method} {self.state or 'started'}{shown}>"


class AsyncClient:
    """An async view of a connected :class:`maas_dyn.truenas.Client`.

    Args:
        client: The sync client whose connection, login and method document are used.
        max_in_flight: Calls on the wire at once; more wait in the event loop. At most
            the client's ``limits.running`` (its default), which the server enforces.

    Example::

        async with maas_dyn.aio.truenas.connect(url, username="admin", api_key=key) as nas:
            pools, disks = await asyncio.gather(nas.pool.query(), nas.disk.query())
            job = await nas.pool.create({...})
            await job.wait(on_progress=print)
    """

    def __init__(self, client: Client, *, max_in_flight: int | None = None):
        methods = client.methods
        assert methods is not None  # a client always has its document once constructed
        self.client = client
        self._slots = asyncio.Semaphore(max_in_flight or client._limits.running)
        self._watched: dict[int, list[AsyncJob]] = {}
        self._job_events: Subscription | None = None
        self._subscribing = asyncio.Lock()
        tree = build_tree(methods, self._invoke, _RESERVED, asynchronous=True)
        self.__dict__.update(tree.top)
        # CRUD items become resources with coroutine methods (unless resources=False).
        self._binder = Binder(methods, tree.operations, tree.by_name.__getitem__,
                              waiter_client=self, asynchronous=True, module=__name__) \
            if client._resources else None

    if TYPE_CHECKING:  # namespaces are generated at run time; let type checkers accept them
        def __getattr__(self, name: str) -> Any: ...

    # -- calls ----------------------------------------------------------------------------

    async def _send(self, submit: Callable[[float | None], Future[Any]], method: str,
                    timeout: float | None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        client = self.client
        async with self._slots:
            reply: asyncio.Future[Any] | None = None
            # Two turns at most: a connection that drops between the check and the send
            # is reopened once (nothing was sent), off the loop.
            for turn in range(2):
                if not client.connected:
                    await self._reconnect(method, deadline)
                try:
                    reply = asyncio.wrap_future(submit(deadline))
                    break
                except _NotConnected:
                    if turn:
                        raise
            assert reply is not None
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                return await asyncio.wait_for(reply, left)
            except asyncio.TimeoutError:
                # wait_for cancelled the future, which freed its call slot.
                raise Timeout(f"{method} got no answer within {timeout:g} s; it may still "
                              "run on the server", method=method,
                              url=client.endpoint.url) from None

    async def _reconnect(self, method: str, deadline: float | None) -> None:
        # Connecting and logging in block: off the loop, within the call's deadline.
        client = self.client
        work = asyncio.get_running_loop().run_in_executor(
            None, partial(client._connection_for, method, deadline))
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            await asyncio.wait_for(work, left)
        except asyncio.TimeoutError:
            raise Timeout(f"{method} was not sent: reconnecting to {client.endpoint.url} "
                          "took longer than the call's timeout", method=method,
                          url=client.endpoint.url) from None

    async def _invoke(self, operation: Operation, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        spec: MethodSpec = operation.payload
        params, filled = _positional(operation, args, kwargs)

        def submit(deadline: float | None) -> Future[Any]:
            return self.client._submit(spec.name, params, spec, filled, deadline=deadline,
                                       connect=False)

        result = await self._send(submit, spec.name, self.client.call_timeout)
        if spec.job and isinstance(result, int) and not isinstance(result, bool):
            return AsyncJob(self, result, spec.name)
        binder = self._binder
        return result if binder is None else binder.wrap(spec.name, result)

    async def call(self, method: str, *params: Any, job: bool = False, timeout: Any = _UNSET,
                   on_progress: ProgressCallback | None = None) -> Any:
        """Call a method by name (see :meth:`maas_dyn.truenas.Client.call`).

        Args:
            method: Dotted method name.
            *params: Positional parameters.
            job: For a job method, wait for the job and return its result.
            timeout: Seconds for the reply, and for the job with ``job=True``.
            on_progress: With ``job=True``, called with each new progress object.

        Returns:
            The result (the job id for a job method without ``job=True``).
        """
        reply_timeout = self.client.call_timeout if timeout is _UNSET else timeout
        methods = self.client.methods
        spec = methods.get(method) if methods is not None else None

        def submit(deadline: float | None) -> Future[Any]:
            return self.client._submit(method, list(params), spec, (), deadline=deadline,
                                       connect=False)

        result = await self._send(submit, method, reply_timeout)
        if not job:
            return result
        if not isinstance(result, int) or isinstance(result, bool):
            raise ConfigurationError(f"{method} did not start a job (it answered "
                                     f"{type(result).__name__}); call it without job=True")
        return await AsyncJob(self, result, method).wait(
            None if timeout is _UNSET else timeout, on_progress)

    # -- job events -----------------------------------------------------------------------

    async def _follow_jobs(self) -> bool:
        """Subscribe to job events once; False when the server offers none (then poll)."""
        async with self._subscribing:
            if self._job_events is None:
                loop = asyncio.get_running_loop()

                def deliver(event: Event) -> None:  # on the client's event thread
                    loop.call_soon_threadsafe(self._job_event, event)

                try:
                    self._job_events = await loop.run_in_executor(
                        None, self.client.subscribe, JOBS_COLLECTION, deliver)
                except (TrueNASAPIError, TransportError) as exc:
                    _log.info("no job events from %s (%s); polling jobs instead",
                              self.client.endpoint.url, exc)
                    return False
        return self._job_events.active

    def _job_event(self, event: Event) -> None:
        fields = event.fields if isinstance(event.fields, Mapping) else {}
        job_id = event.id if isinstance(event.id, int) else fields.get("id")
        for job in self._watched.get(job_id, ()) if isinstance(job_id, int) else ():
            job._merge(fields)

    def _watch(self, job: AsyncJob) -> None:
        self._watched.setdefault(job.id, []).append(job)

    def _unwatch(self, job: AsyncJob) -> None:
        jobs = self._watched.get(job.id, [])
        jobs.remove(job)
        if not jobs:
            del self._watched[job.id]

    # -- closing --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop job events and close the sync client (its threads are joined off the loop)."""
        if self._job_events is not None:
            self._job_events.unsubscribe()
        await asyncio.get_running_loop().run_in_executor(None, self.client.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<maas_dyn.aio.truenas.AsyncClient {self.client.endpoint.url}>"


# The async client's own attributes; a top-level namespace with one of these names gets a "_".
_RESERVED = frozenset({name for name in dir(AsyncClient) if not name.startswith("_")}
                      | {"client"})


def connect(url: str, *, max_in_flight: int | None = None,
            **options: Any) -> Connecting[AsyncClient]:
    """Connect and log in without blocking the event loop (the handshake runs in a thread).

    Args:
        url: See :class:`maas_dyn.truenas.Client`.
        max_in_flight: Calls on the wire at once (see :class:`AsyncClient`).
        **options: Credentials and other options of :class:`maas_dyn.truenas.Client`.

    Returns:
        The pending client: ``await`` it, or use it in ``async with`` (which closes it).
    """
    return Connecting(partial(_connect, url, max_in_flight=max_in_flight, **options))


async def _connect(url: str, *, max_in_flight: int | None, **options: Any) -> AsyncClient:
    loop = asyncio.get_running_loop()
    client = await loop.run_in_executor(None, partial(Client, url, **options))
    return AsyncClient(client, max_in_flight=max_in_flight)
