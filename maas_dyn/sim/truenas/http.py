"""HTTP endpoints next to the WebSockets: ``/api/versions``, ``/_download``, ``/_upload``.

Status codes and texts follow the middleware's ``FileApplication`` and ``restful``
credential parsing: ``Basic`` (username/password, refused for two-factor users),
``Bearer`` (API key; a login token is accepted too), ``Token`` and ``?auth_token=``
(login token).

``GET`` requests go through the ``process_request`` hook of ``websockets``. Its HTTP parser
takes no request body, so ``POST /_upload`` is read off the socket by
:func:`upload_connection_class` before ``websockets`` sees it. Its credentials (header or
``?auth_token=``) are checked from the head, before a byte of the body is read or parsed;
the body is then bounded in size, in time and, across uploads, in total bytes
(:class:`~maas_dyn.sim.truenas.limits.ServerLimits`).
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import http
import json
import re
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from maas_dyn.sim.truenas.auth import Credentials
from maas_dyn.sim.truenas.dispatch import Dispatcher, Pipes
from maas_dyn.sim.truenas.exceptions import ENOMETHOD, CallError
from maas_dyn.sim.truenas.limits import Budget, ServerLimits, refuse_if_over_capacity
from maas_dyn.sim.truenas.runtime import Runtime
from maas_dyn.sim.truenas.services.accounts import find_user
from maas_dyn.sim.truenas.services.auth import api_key_owner
from maas_dyn.sim.truenas.session import NullTransport, Session

__all__ = ["HttpEndpoints", "upload_connection_class"]

_MAX_HEAD = 16384
_HEAD_TIMEOUT = 10.0
_PEEK_PAUSE = 0.005
# How long a download waits for its job to finish, in real seconds.
_DOWNLOAD_WAIT = 60.0
# How often waits (for a job, for a request head) look whether the server stops.
_POLL = 0.05
_DOWNLOAD_PATH = re.compile(r"/_download/([0-9]{1,18})")


@dataclass(frozen=True)
class Reply:
    """An HTTP reply before it is serialised.

    Attributes:
        status: Status code.
        body: Body bytes.
        content_type: Content-Type header.
        headers: Further headers.
    """

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def text(cls, status: int, text: str = "") -> Reply:
        """Build a plain-text reply.

        Args:
            status: Status code.
            text: Body.

        Returns:
            The reply.
        """
        return cls(status, text.encode())

    @classmethod
    def json(cls, value: object) -> Reply:
        """Build a 200 JSON reply.

        Args:
            value: The JSON value.

        Returns:
            The reply.
        """
        return cls(200, json.dumps(value).encode(), "application/json")

    def to_response(self) -> Response:
        """Convert to a ``websockets`` response.

        Returns:
            The response.
        """
        headers = Headers([("Content-Type", self.content_type),
                           ("Content-Length", str(len(self.body))), *self.headers])
        return Response(self.status, http.HTTPStatus(self.status).phrase, headers, self.body)

    def to_bytes(self) -> bytes:
        """Serialise as an HTTP/1.1 message that closes the connection.

        Returns:
            The raw bytes.
        """
        lines = [f"HTTP/1.1 {self.status} {http.HTTPStatus(self.status).phrase}",
                 f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}",
                 "Connection: close", *(f"{k}: {v}" for k, v in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class HttpEndpoints:
    """The simulator's HTTP side.

    Args:
        rt: The simulator's parts.
        dispatcher: The call funnel (uploads start jobs through it).
        websocket_paths: Paths that upgrade to a WebSocket.
        stopping: Set when the simulator stops (ends download waits).
    """

    def __init__(self, rt: Runtime, dispatcher: Dispatcher, websocket_paths: frozenset[str],
                 stopping: Callable[[], bool]):
        self._rt = rt
        self._dispatcher = dispatcher
        self._websocket_paths = websocket_paths
        self._stopping = stopping

    # --- GET, through websockets' process_request ------------------------------------

    def process_request(self, connection: ServerConnection, request: Request
                        ) -> Response | None:
        """Answer HTTP requests; let WebSocket upgrades of known paths through.

        Args:
            connection: The connection being opened.
            request: The request.

        Returns:
            A response, or ``None`` to go on with the WebSocket handshake.
        """
        url = urlsplit(request.path)
        peer = connection.remote_address
        origin = str(peer[0]) if isinstance(peer, tuple) and peer else "127.0.0.1"
        # websockets < 17 (all Python 3.10 gets) has no Request.method: its parser refuses
        # every method but GET before this hook runs, so a request seen here is a GET.
        method: str = getattr(request, "method", "GET")
        if url.path in self._websocket_paths and method == "GET":
            return None
        if url.path == "/api/versions" and method == "GET":
            return Reply.json(self._rt.catalog.listed_api_versions).to_response()
        if url.path.startswith("/_download") and method == "GET":
            return self.download(url.path, url.query, origin).to_response()
        if url.path.startswith("/_upload"):
            return Reply.text(405, "No part found on payload").to_response()
        return Reply.text(404, "Not Found").to_response()

    def download(self, path: str, query: str, origin: str) -> Reply:
        """Serve ``GET /_download/<job id>?auth_token=...``.

        Args:
            path: URL path.
            query: URL query string.
            origin: Peer address.

        Returns:
            The job's output once it finished, or the middleware's error status.
        """
        found = _DOWNLOAD_PATH.fullmatch(path)
        if found is None:  # "/_download/a1" is no job id (int() would raise: a 500)
            return Reply.text(404)
        job_id = int(found.group(1))
        values = parse_qs(query).get("auth_token")
        token = self._rt.tokens.find(values[0], origin) if values else None
        if token is None or token.attributes.get("job") != job_id:
            return Reply.text(401)
        self._rt.tokens.destroy(token)
        job = self._rt.jobs.get(job_id)
        # Download tokens are only issued for jobs with an output; a forgotten job is gone.
        if job is None or job.output is None:
            return Reply.text(404)
        deadline = time.monotonic() + _DOWNLOAD_WAIT
        while not job.finished.wait(_POLL):
            if self._stopping() or time.monotonic() > deadline:
                break
        filename = token.attributes.get("filename")
        return Reply(200, bytes(job.output), "application/octet-stream",
                     (("Content-Disposition", f'attachment; filename="{filename}"'),))

    # --- POST /_upload, read off the socket ---------------------------------------------

    def authenticate_head(self, head: bytes, origin: str) -> Credentials | Reply:
        """Check an upload's credentials from its head alone (before its body is read).

        Args:
            head: Request line and headers.
            origin: Peer address.

        Returns:
            The credentials, or the middleware's error reply.
        """
        target, headers = _parse_head(head)
        return self._authenticate(headers.get("authorization"), urlsplit(target).query, origin)

    def upload(self, head: bytes, body: bytes, origin: str,
               credentials: Credentials | None = None) -> Reply:
        """Serve ``POST /_upload``.

        Args:
            head: Request line and headers.
            body: Request body (multipart/form-data).
            origin: Peer address.
            credentials: From :meth:`authenticate_head` when already checked.

        Returns:
            ``{"job_id": N}`` or the middleware's error status.
        """
        target, headers = _parse_head(head)
        parts = _multipart(headers.get("content-type", ""), body)
        if not parts:
            return Reply.text(405, "No part found on payload")
        if parts[0][0] != "data":
            return Reply.text(405, '"data" part must be the first on payload')
        try:
            data = json.loads(parts[0][1])
        except ValueError as error:
            return Reply.text(400, str(error))
        if not isinstance(data, dict) or "method" not in data:
            return Reply.text(422)
        if credentials is None:
            checked = self._authenticate(headers.get("authorization"),
                                         urlsplit(target).query, origin)
            if isinstance(checked, Reply):
                return checked
            credentials = checked
        if len(parts) < 2 or parts[1][0] != "file":
            return Reply.text(405, '"file" not found as second part on payload')
        session = Session(NullTransport(), dict, origin, credentials=credentials)
        try:
            job = self._dispatcher.start_job(session, str(data["method"]),
                                             list(data.get("params") or []),
                                             Pipes(input=parts[1][1]))
        except CallError as error:
            return Reply.text(422 if error.errno == ENOMETHOD else 412, str(error))
        except Exception as error:  # the middleware answers 500 with the text
            return Reply.text(500, str(error))
        return Reply.json({"job_id": job.id})

    def _authenticate(self, authorization: str | None, query: str, origin: str
                      ) -> Credentials | Reply:
        state = self._rt.state
        if authorization is None:
            values = parse_qs(query).get("auth_token")
            if not values:
                return Reply.text(401)
            return self._token(values[0], origin)
        scheme, _, value = authorization.partition(" ")
        if scheme == "Basic":
            try:
                username, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return Reply.text(400)
            if username in state.otp_secrets:
                return Reply.text(401, "HTTP Basic Auth is unavailable when OTP is enabled")
            user = find_user(state, username)
            if user is None or user["locked"] or state.passwords.get(username) != password:
                return Reply.text(401, "Bad username or password")
            return Credentials("LOGIN_PASSWORD", username)
        if scheme == "Bearer":
            key = api_key_owner(state, value)
            if key is not None:
                return Credentials("API_KEY", key["username"],
                                   api_key={"id": key["id"], "name": key["name"]})
            return self._token(value, origin)
        if scheme == "Token":
            return self._token(value, origin)
        return Reply.text(401)

    def _token(self, value: str, origin: str) -> Credentials | Reply:
        token = self._rt.tokens.find(value, origin)
        if token is None or token.attributes:
            return Reply.text(403, "Invalid token")
        if token.single_use:
            self._rt.tokens.destroy(token)
        return Credentials("TOKEN", token.parent.root.username, parent=token.parent)


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    # (request target, headers with lower-case names)
    lines = head.decode("latin-1").split("\r\n")
    target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:] if ":" in line)}
    return target, headers


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    # The stdlib MIME parser reads multipart/form-data once given its Content-Type.
    if not content_type.lower().startswith("multipart/"):
        return []
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name or ""), payload if isinstance(payload, bytes) else b""))
    return parts


def _peek_head(sock: socket.socket, stopping: Callable[[], bool],
               timeout: float = _HEAD_TIMEOUT) -> bytes:
    """Look at the request head without consuming it (bounded in size and time)."""
    deadline = time.monotonic() + timeout
    seen = b""
    while b"\r\n\r\n" not in seen and len(seen) < _MAX_HEAD:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or stopping():
            break
        if not select.select([sock], [], [], min(remaining, _POLL))[0]:
            continue
        peeked = sock.recv(_MAX_HEAD, socket.MSG_PEEK)
        if not peeked:
            break
        if len(peeked) == len(seen):
            # Nothing new yet; the socket stays readable, so pause instead of spinning.
            time.sleep(_PEEK_PAUSE)
        seen = peeked
    return seen.split(b"\r\n\r\n", 1)[0]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return 0


def _read_exact(sock: socket.socket, size: int, timeout: float = _HEAD_TIMEOUT) -> bytes:
    # Bounded in total time, not per recv: a trickling client cannot hold the thread.
    chunks = []
    remaining = size
    deadline = time.monotonic() + timeout
    while remaining > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request body not received in time")
        sock.settimeout(left)
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _receive_upload(endpoints: HttpEndpoints, sock: socket.socket, head: bytes, length: int,
                    *, timeout: float, origin: str, credentials: Credentials) -> Reply:
    try:
        _read_exact(sock, len(head) + 4)
        body = _read_exact(sock, length, timeout)
    except OSError:  # TimeoutError included
        return Reply.text(408, "Upload not received in time")
    if len(body) < length:
        return Reply.text(400, "Upload body shorter than its Content-Length")
    return endpoints.upload(head, body, origin, credentials)


class _AnsweredOverHttp(Exception):
    """The request was a plain HTTP upload, answered before any WebSocket handshake."""


def upload_connection_class(endpoints: HttpEndpoints, stopping: Callable[[], bool],
                            limits: ServerLimits | None = None) -> type[ServerConnection]:
    """Make the ``create_connection`` class that intercepts uploads.

    ``websockets`` builds one connection per accepted socket through this class. A request
    with a body is an upload: it is read and answered here, and raising from the
    constructor makes ``websockets`` close the socket without logging.

    Args:
        endpoints: Where uploads are served.
        stopping: Tells when the server stops (ends the wait for a request head).
        limits: Upload size, time and total-bytes limits (defaults when None).

    Returns:
        A ``ServerConnection`` subclass.
    """
    bounds = limits or ServerLimits()
    budget = Budget(bounds.max_inflight_upload_bytes)

    class _Connection(ServerConnection):
        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any):
            if refuse_if_over_capacity(sock):
                raise _AnsweredOverHttp()
            if isinstance(sock, ssl.SSLSocket):
                # A TLS socket cannot be peeked (no MSG_PEEK): over TLS (served for SCRAM
                # channel binding) uploads are not intercepted; WebSockets and GETs work.
                super().__init__(sock, *args, **kwargs)
                return
            head = _peek_head(sock, stopping, bounds.open_timeout)
            length = _content_length(head)
            if length:
                _answer_upload(endpoints, sock, head, length, limits=bounds, budget=budget)
                raise _AnsweredOverHttp()
            if head and not head.startswith(b"GET "):
                # websockets < 17 closes the socket on any other method without a word;
                # answer it here as process_request does on 17+, on every version.
                _answer_not_get(sock, head)
                raise _AnsweredOverHttp()
            super().__init__(sock, *args, **kwargs)

    return _Connection


def _answer_not_get(sock: socket.socket, head: bytes) -> None:
    _read_exact(sock, len(head) + 4)
    target = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
    reply = (Reply.text(405, "No part found on payload") if target.startswith(b"/_upload")
             else Reply.text(404, "Not Found"))
    try:
        sock.sendall(reply.to_bytes())
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return


def _answer_upload(endpoints: HttpEndpoints, sock: socket.socket, head: bytes, length: int,
                   *, limits: ServerLimits, budget: Budget) -> None:
    peer = sock.getpeername()
    origin = str(peer[0]) if isinstance(peer, tuple) else "127.0.0.1"
    # Credentials first: an anonymous client gets nothing read or parsed on its behalf.
    credentials = endpoints.authenticate_head(head, origin)
    if isinstance(credentials, Reply):
        reply = credentials
    elif length > limits.max_upload_bytes:
        reply = Reply.text(413, f"Upload larger than {limits.max_upload_bytes} bytes")
    elif not budget.reserve(length):
        reply = Reply.text(503, "Too many uploads in progress; retry later")
    else:
        try:  # the budget covers the body until its parsed copies are gone too
            reply = _receive_upload(endpoints, sock, head, length, timeout=limits.upload_timeout,
                                    origin=origin, credentials=credentials)
        finally:
            budget.release(length)
    try:
        sock.sendall(reply.to_bytes())
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return
