"""An in-memory TrueNAS server behind a fake Link: no sockets, fully scripted.

``FakeServer.opener`` is passed to ``Client(opener=...)``. Each frame the client sends is
handled synchronously by a handler per method; replies and events go into the link's
inbox, which the client's reader thread consumes. Both protocols are spoken.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

from maas_dyn.errors import ConnectionClosed
from maas_dyn.truenas.jsonrpc import dumps

NO_REPLY = object()  # a handler returning this leaves the call unanswered
DROP = object()  # a handler returning this drops the connection
RECV_TIMEOUT = 60.0  # seconds a link waits for a frame before it gives up


class FakeError(Exception):
    """Raised by a handler to answer with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def call_error(reason: str, errname: str = "EFAULT", errno: int = 14, extra: Any = None
               ) -> FakeError:
    return FakeError(-32001, "Method call error",
                     {"error": errno, "errname": errname, "reason": reason,
                      "trace": {"formatted": "Traceback..."}, "extra": extra})


def validation_error(*problems: tuple[str, str]) -> FakeError:
    return FakeError(-32602, "Invalid params",
                     {"error": 22, "errname": "EINVAL", "reason": "invalid", "trace": None,
                      "extra": [[attr, msg, 22] for attr, msg in problems]})


class FakeLink:
    """A Link whose peer is a FakeServer."""

    def __init__(self, server: FakeServer, url: str):
        self.server = server
        self.url = url
        self.inbox: queue.Queue[str | None] = queue.Queue()
        self.closed = False
        self.sent: list[str] = []
        self.legacy = url.endswith("/websocket")

    def send(self, text: str) -> None:
        if self.closed:
            raise ConnectionClosed("fake link closed")
        self.sent.append(text)
        self.server.receive(self, text)

    def recv(self) -> str:
        # Like a real link, recv() waits for the server; close(), abort() and drop() wake
        # it. The bound ends the reader thread of a client nobody closed instead of leaving
        # it blocked for ever (no test keeps a connection idle this long).
        try:
            item = self.inbox.get(timeout=RECV_TIMEOUT)
        except queue.Empty:
            self.closed = True
            raise ConnectionClosed(f"the fake server sent nothing for {RECV_TIMEOUT:g} s") \
                from None
        if item is None:
            self.closed = True
            raise ConnectionClosed("the fake server closed the connection")
        return item

    def push(self, message: Any) -> None:
        if not self.closed:
            self.inbox.put(message if isinstance(message, str) else dumps(message))

    def close(self) -> None:
        self.closed = True
        self.inbox.put(None)

    def abort(self) -> None:
        self.closed = True
        self.inbox.put(None)

    def drop(self) -> None:
        """The server side vanishes."""
        self.closed = True
        self.inbox.put(None)


Handler = Callable[..., Any]


class FakeServer:
    """A scripted middleware.

    Args:
        document: The ``core.get_methods`` document served.
        version: What ``system.version`` answers.
    """

    def __init__(self, document: dict[str, Any] | None = None, version: str = "TrueNAS-25.10.0"):
        self.document = document or {}
        self.version = version
        self.links: list[FakeLink] = []
        self.calls: list[tuple[str, list[Any]]] = []
        self.lock = threading.Lock()
        self.subscriptions: dict[str, tuple[FakeLink, str]] = {}
        self._sub_ids = itertools.count(1)
        self.jobs: dict[int, dict[str, Any]] = {}
        self._job_ids = itertools.count(1)
        self.open_failures: list[Exception] = []
        self.login_replies: list[Any] = []
        self.handlers: dict[str, Handler] = {
            "auth.login_ex": self._login_ex,
            "auth.login_ex_continue": self._login_continue,
            "auth.login": lambda u, p, *rest: True,
            "auth.login_with_api_key": lambda key: True,
            "auth.login_with_token": lambda token: True,
            "auth.generate_token": lambda *a: "TOKEN-SECRET-123",
            "core.get_methods": self._get_methods,
            "core.get_services": lambda *a: {name.rpartition(".")[0]: {}
                                             for name in self.document},
            "system.version": lambda: self.version,
            "core.ping": lambda: "pong",
            "core.subscribe": lambda link, name: self._subscribe(link, name),
            "core.unsubscribe": lambda link, sub: self.subscriptions.pop(sub, None) and None,
            "core.get_jobs": self._get_jobs,
            "core.job_abort": self._abort,
        }
        self.link_aware = {"core.subscribe", "core.unsubscribe"}

    # -- the opener ---------------------------------------------------------------------------

    def opener(self, url: str, verify: Any, timeout: float) -> FakeLink:
        if self.open_failures:
            raise self.open_failures.pop(0)
        link = FakeLink(self, url)
        self.links.append(link)
        return link

    @property
    def link(self) -> FakeLink:
        return self.links[-1]

    # -- protocol -----------------------------------------------------------------------------

    def receive(self, link: FakeLink, text: str) -> None:
        message = json.loads(text)
        if link.legacy:
            self._legacy(link, message)
            return
        method, params, id_ = message["method"], message.get("params", []), message.get("id")
        self._dispatch(link, method, params, lambda result: link.push(
            {"jsonrpc": "2.0", "id": id_, "result": result}), lambda error: link.push(
            {"jsonrpc": "2.0", "id": id_, "error": error}))

    def _legacy(self, link: FakeLink, message: dict[str, Any]) -> None:
        kind, id_ = message.get("msg"), message.get("id")
        if kind == "connect":
            link.push({"msg": "connected", "session": "s1"})
        elif kind == "ping":
            link.push({"msg": "pong", "id": id_})
        elif kind == "sub":
            self.subscriptions[id_] = (link, message["name"])
            link.push({"msg": "ready", "subs": [id_]})
        elif kind == "unsub":
            self.subscriptions.pop(id_, None)
            link.push({"msg": "nosub", "id": id_})
        elif kind == "method":
            def ok(result: Any) -> None:
                link.push({"msg": "result", "id": id_, "result": result})

            def fail(error: dict[str, Any]) -> None:
                data = error.get("data") or {}
                link.push({"msg": "result", "id": id_, "error": {
                    "error": data.get("error"), "errname": data.get("errname")
                    or ("ENOMETHOD" if error["code"] == -32601 else None),
                    "type": "VALIDATION" if error["code"] == -32602 else None,
                    "reason": data.get("reason") or error["message"],
                    "trace": data.get("trace"), "extra": data.get("extra")}})

            self._dispatch(link, message["method"], message.get("params", []), ok, fail)

    def _dispatch(self, link: FakeLink, method: str, params: list[Any],
                  ok: Callable[[Any], None], fail: Callable[[dict[str, Any]], None]) -> None:
        with self.lock:
            self.calls.append((method, params))
        handler = self.handlers.get(method)
        if handler is None:
            fail({"code": -32601, "message": "Method does not exist"})
            return
        try:
            args = [link, *params] if method in self.link_aware else params
            result = handler(*args)
        except FakeError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            fail(error)
            return
        if result is NO_REPLY:
            return
        if result is DROP:
            link.drop()
            return
        ok(result)

    # -- built-in methods ----------------------------------------------------------------------

    def _login_ex(self, data: dict[str, Any]) -> Any:
        if self.login_replies:
            return self.login_replies.pop(0)
        return {"response_type": "SUCCESS"}

    def _login_continue(self, data: dict[str, Any]) -> Any:
        if self.login_replies:
            return self.login_replies.pop(0)
        return {"response_type": "SUCCESS"}

    def _get_methods(self, service: str | None = None, target: str = "WS") -> Any:
        if service is None:
            return self.document
        return {k: v for k, v in self.document.items() if k.rpartition(".")[0] == service}

    def _subscribe(self, link: FakeLink, name: str) -> str:
        sub = f"sub-{next(self._sub_ids)}"
        self.subscriptions[sub] = (link, name)
        return sub

    def subscribed(self, name: str) -> list[str]:
        return [sub for sub, (link, n) in self.subscriptions.items()
                if n == name and not link.closed]

    def emit(self, collection: str, msg: str = "added", id_: Any = None,
             fields: Any = None) -> None:
        """Send an event to every live subscriber of ``collection``."""
        for link, name in list(self.subscriptions.values()):
            if name.partition(":")[0] != collection or link.closed:
                continue
            if link.legacy:
                link.push({"msg": msg, "collection": collection, "id": id_, "fields": fields})
            else:
                link.push({"jsonrpc": "2.0", "method": "collection_update",
                           "params": {"msg": msg, "collection": collection, "id": id_,
                                      "fields": fields}})

    # -- jobs ----------------------------------------------------------------------------------

    def start_job(self, method: str, arguments: list[Any] | None = None) -> int:
        job_id = next(self._job_ids)
        self.jobs[job_id] = {"id": job_id, "method": method, "arguments": arguments or [],
                             "state": "RUNNING", "progress": {"percent": 0, "description": "",
                                                              "extra": None},
                             "result": None, "error": None, "exception": None,
                             "exc_info": None, "credentials": {"type": "LOGIN_PASSWORD"}}
        return job_id

    def update_job(self, job_id: int, emit: bool = True, **fields: Any) -> None:
        self.jobs[job_id].update(fields)
        if emit:
            self.emit("core.get_jobs", "changed", job_id, dict(self.jobs[job_id]))

    def _get_jobs(self, filters: list[Any] | None = None, options: Any = None) -> Any:
        wanted = {f[2] for f in filters or [] if f[0] == "id"}
        return [dict(job) for job_id, job in self.jobs.items() if not wanted or job_id in wanted]

    def _abort(self, job_id: int) -> None:
        self.update_job(job_id, state="ABORTED", error="aborted by request")
        return None
