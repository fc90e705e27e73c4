"""The TrueNAS client: connect, log in, build namespaces from ``core.get_methods``, call.

Every call goes through one funnel, :meth:`Client._call`: validate -> connect (and log
in again after a drop) -> send -> decode -> raise. Hooks (``before-call``,
``after-call``) and logging live there. A connection that dropped is replaced on the
next call; calls that were in flight on it fail with
:class:`~maas_dyn.errors.ConnectionClosed` and are never re-sent.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Literal

import requests

from maas_dyn._cache import DescriptionCache
from maas_dyn._dynamic import Operation, bind_arguments, unknown_name
from maas_dyn._hooks import Hooks
from maas_dyn._secrets import SecretMask
from maas_dyn._shipped import load_shipped
from maas_dyn._warn import warn_user
from maas_dyn.errors import (
    ConfigurationError,
    ConnectionClosed,
    ConnectionFailed,
    InvalidParametersError,
    LimitExceeded,
    RedirectRefused,
    Timeout,
    TooManyConcurrentCalls,
    TransportError,
    TrueNASAPIError,
    UnknownMethodError,
)
from maas_dyn.logging import log_event
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas.discovery import Discovery, MethodsCache, fetch_methods, server_version
from maas_dyn.truenas.endpoint import Endpoint, parse_endpoint
from maas_dyn.truenas.events import EventHub, EventStream, Subscription
from maas_dyn.truenas.files import FileSource, FileTarget, download, upload
from maas_dyn.truenas.jobs import JOBS_COLLECTION, Job, JobTracker, ProgressCallback
from maas_dyn.truenas.jsonrpc import Framing, JSONRPCFraming, LegacyFraming, MaskedFraming
from maas_dyn.truenas.login import (
    Credentials,
    LoginChannel,
    OTPSource,
    check_api_key_transport,
    login,
)
from maas_dyn.truenas.messages import Event
from maas_dyn.truenas.methods import Methods, MethodSpec, Tree, build_tree
from maas_dyn.truenas.resources import Binder
from maas_dyn.truenas.schema import validate_params
from maas_dyn.truenas.scram import DerivedApiKey
from maas_dyn.truenas.transport import (
    CallLimits,
    Connection,
    ConnectTimeout,
    HandshakeRejected,
    Link,
    WireLimits,
    open_link,
)

__all__ = ["Client", "MethodsChangedWarning", "Opener", "connect"]

_log = logging.getLogger("maas_dyn.truenas")

Opener = Callable[[str, "bool | str", float], Link]
"""How a client opens its WebSocket: ``opener(url, verify, timeout) -> Link``.

``verify`` is ``True``/``False`` or a CA bundle path, ``timeout`` the connect timeout in
seconds. Pass one as ``Client(..., opener=...)`` to reach the server another way (a
proxy, a test double); the default opens a ``websocket-client`` connection.
"""
ProtocolChoice = Literal["auto", "jsonrpc", "legacy"]

DEFAULT_CALL_TIMEOUT = 60.0
TOKEN_TTL = 300  # seconds a file-transfer token lives
_UNSET: Any = object()


class MethodsChangedWarning(UserWarning):
    """The server's version changed across a reconnect; the methods were reloaded."""


def _default_opener(url: str, verify: bool | str, timeout: float) -> Link:
    return open_link(url, verify=verify, timeout=timeout)


class _NotConnected(ConnectionFailed):
    """There is no open connection and the caller must not open one on its thread."""


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _sooner(deadline: float | None, seconds: float | None) -> float | None:
    if seconds is None:
        return deadline
    other = time.monotonic() + seconds
    return other if deadline is None or other < deadline else deadline


_FRAMINGS: Mapping[str, Callable[[], Framing]] = {
    "jsonrpc": JSONRPCFraming,
    "legacy": LegacyFraming,
}

# Methods that only read: logged at DEBUG; everything else changes the server (INFO).
_READS = re.compile(r"(?:^|\.)(?:query|get_instance|config|info|ping|version|"
                    r"get_\w+|\w+_choices|choices|summary|status)$")


class Client:
    """A live TrueNAS client whose namespaces come from the server's ``core.get_methods``.

    Connecting logs in, fetches the method document (or reuses the cached copy for this
    server version) and exposes it as nested namespaces with real signatures and
    docstrings::

        nas = Client("wss://nas/api/current", username="admin", api_key="1-...")
        nas.pool.dataset.query([["name", "^", "tank"]], {"order_by": ["name"]})
        nas.call("pool.dataset.query", [["name", "^", "tank"]])   # by name, like midclt
        job = nas.pool.create({...}); job.wait(on_progress=print)
        help(nas.pool.dataset.query)

    Args:
        url: ``wss://HOST/api/current`` (the default for a bare host name), a pinned
            ``/api/vXX.YY.Z``, or the legacy ``/websocket``.
        username: User to log in as.
        password: Password login.
        api_key: API key login (with ``username``), or a :class:`DerivedApiKey` (the
            SCRAM keys a profile keeps instead of the raw key). By SCRAM-SHA-512 where
            the server offers it (TrueNAS 26.0+), channel-bound to the TLS certificate
            on ``wss://``; see ``api_key_mechanism``.
        api_key_mechanism: ``"auto"`` (default): SCRAM when the server offers it;
            otherwise the key is sent in plain (``API_KEY_PLAIN``) only over
            ``wss://`` with certificate verification or to this machine, where no one
            in between could have hidden SCRAM from the mechanism list. ``"SCRAM"``:
            never plain. ``"API_KEY_PLAIN"``: send the key itself (pre-26 servers
            over channels ``"auto"`` does not trust). Once a client logged in by SCRAM,
            its reconnects use SCRAM too.
        token: Token login (``auth.generate_token``).
        otp: One-time password for two-factor logins, or a callable returning one.
        methods: A ``core.get_methods`` document to use instead of fetching one; the
            client is then built without any network I/O and connects on first call.
        verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
            What is passed wins over environment variables (``REQUESTS_CA_BUNDLE``,
            ``CURL_CA_BUNDLE``, ``WEBSOCKET_CLIENT_CA_BUNDLE``) for the WebSocket and
            for file transfers; with ``True`` file transfers use requests' default
            trust (which those variables may set).
        connect_timeout: Seconds to open a connection, in total: TCP, TLS, the
            WebSocket upgrade and the protocol handshake. Logging in then gets
            ``call_timeout`` in total, loading the method document another.
        call_timeout: Default seconds for each call, in total: reconnecting and
            logging in again when the connection had dropped, waiting for a slot,
            sending and the reply (``None``: no limit; sending is still bounded by
            ``send_timeout``).
        validate: Check parameters against the method's schema before sending.
        cache: ``True`` for the user cache directory, a :class:`DescriptionCache`, or
            ``False`` to never read or write cached method documents.
        protocol: ``"auto"`` (JSON-RPC, or the legacy protocol when ``/api/...`` does
            not exist), ``"jsonrpc"`` or ``"legacy"``.
        api_version: Pin an API version, e.g. ``"25.10.0"``.
        discovery: ``"full"`` or ``"per-service"`` loading of the method document.
        allow_insecure_api_key: Send an API key over ``ws://`` to a remote host anyway
            (the server will revoke it).
        ping_interval: Seconds of silence before a keep-alive ping (0 disables).
        limits: Client-side limits of calls in flight on the connection.
        job_poll_interval: Seconds between safety-net polls of a job being waited for.
        retry: When opening a connection fails before anything was sent (refused, or
            a status of its ``retry_statuses`` such as 503 to the WebSocket upgrade),
            how often and how long to try again, for any call; default
            :class:`~maas_dyn.retry.RetryPolicy` (3 retries with 3.5 s of waits between
            them, each attempt bounded by ``connect_timeout``). A call already sent is
            never re-sent. ``RetryPolicy.never()`` fails at once.
        opener: Opens the WebSocket (a seam for tests); ``opener(url, verify, timeout)``.
        http: The ``requests`` session for file transfers.
        send_timeout: Seconds any frame may take to be written; a server that reads
            nothing for this long is dropped (a call's own timeout may end it sooner).
        close_timeout: :meth:`close` returns within about twice this, whatever the
            server does.
        max_frame_bytes: Largest WebSocket frame accepted from the server.
        max_message_bytes: Largest WebSocket message (summed over its frames).
        max_header_bytes: Largest answer to the WebSocket upgrade.
        max_queued_events: Events waiting for subscription callbacks (or an
            :meth:`events` iterator) before the oldest are dropped and counted.
        resources: Return the items of CRUD services (``X.query``,
            ``X.get_instance``...) as resources, ``dict`` subclasses with the item's
            methods (see :mod:`maas_dyn.truenas.resources`); ``False``: plain dicts.

    Raises:
        InvalidURLError: The URL cannot be used.
        ConfigurationError: Conflicting credentials, or an API key over ``ws://``.
        ConnectionFailed: The server cannot be reached.
        AuthenticationError: The server refused the credentials.
        DescriptionError: The method document cannot be used.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | DerivedApiKey | None = None,
        token: str | None = None,
        otp: OTPSource | None = None,
        api_key_mechanism: str = "auto",
        methods: Mapping[str, Any] | None = None,
        verify: bool | str = True,
        connect_timeout: float = 10.0,
        call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
        validate: bool = True,
        cache: bool | DescriptionCache = True,
        protocol: ProtocolChoice = "auto",
        api_version: str | None = None,
        discovery: Discovery = "full",
        allow_insecure_api_key: bool = False,
        ping_interval: float = 20.0,
        limits: CallLimits | None = None,
        job_poll_interval: float = 5.0,
        retry: RetryPolicy | None = None,
        opener: Opener | None = None,
        http: requests.Session | None = None,
        send_timeout: float = 30.0,
        close_timeout: float = 1.0,
        max_frame_bytes: int = WireLimits.max_frame_bytes,
        max_message_bytes: int = WireLimits.max_message_bytes,
        max_header_bytes: int = WireLimits.max_header_bytes,
        max_queued_events: int = 10_000,
        resources: bool = True,
    ):
        self._resources = resources
        self._binder: Binder | None = None
        self.endpoint: Endpoint = parse_endpoint(url, api_version)
        if protocol == "legacy":
            self.endpoint = self.endpoint.legacy()
        secrets = (password, api_key, token)
        # Hidden from every error built from a server's answer (a server may echo them).
        self.secret_mask = SecretMask(s for s in secrets if not isinstance(s, DerivedApiKey))
        self._credentials = Credentials(username, password, api_key, token, otp,
                                        api_key_mechanism=api_key_mechanism) \
            if any(secrets) else None
        check_api_key_transport(self.endpoint, self._credentials, allow_insecure_api_key)
        self.username = username
        self.validate = validate
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.job_poll_interval = job_poll_interval
        self.retry = retry if retry is not None else RetryPolicy()
        self.hooks = Hooks()
        self.jobs = JobTracker()
        self.version: str | None = None
        self._verify = verify
        self._protocol = protocol
        self._discovery: Discovery = discovery
        self._ping_interval = ping_interval
        self._limits = limits or CallLimits()
        self.send_timeout = send_timeout
        self.close_timeout = close_timeout
        self._wire = WireLimits(max_frame_bytes, max_message_bytes, max_header_bytes)
        self._opener: Opener = opener or self._open_link
        self._http = http
        self._cache = DescriptionCache("truenas") if cache is True else (cache or None)
        self._conn: Connection | None = None
        self._connect_lock = threading.RLock()
        # Set by close() before it takes the connect lock: cuts a retry wait short.
        self._closing = threading.Event()
        # When the last round of connect attempts gave up, and why: callers that waited
        # for that round fail with it instead of starting rounds of their own.
        self._connect_failed: tuple[float, str] | None = None
        self._jobs_lock = threading.Lock()
        self._jobs_subscription: Subscription | None = None
        self._closed = False
        self._from_server = methods is None
        self._tree = Tree({}, {}, {})
        self.methods: Methods | None = None
        self._hub = EventHub(self._connection, timeout=call_timeout,
                             max_queued=max_queued_events, close_timeout=close_timeout)
        if methods is not None:
            self._install(methods)
        else:
            if self._credentials is None:
                raise ConfigurationError(
                    "core.get_methods needs a logged-in session: pass password=, api_key= or "
                    "token=, or build offline with Client.from_methods(document)")
            try:
                self._connection()
            except BaseException:
                self.close()  # no thread may outlive a failed construction
                raise

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_methods(cls, document: Mapping[str, Any],
                     url: str = "wss://localhost/api/current", **options: Any) -> Client:
        """Build a client from a ``core.get_methods`` document, with no network I/O.

        Useful to explore any release offline; calls still go to ``url`` if made.

        Args:
            document: The document, ``{method name: metadata}``.
            url: Where calls would go.
            **options: Other :class:`Client` options (credentials for calls).

        Returns:
            The client.
        """
        return cls(url, methods=document, **options)

    @classmethod
    def from_release(cls, release: str, url: str = "wss://localhost/api/current",
                     **options: Any) -> Client:
        """Build a client from a document shipped with the package (e.g. ``"25.10"``).

        Args:
            release: A name from ``maas_dyn.shipped_releases("truenas")``.
            url: Where calls would go.
            **options: Other :class:`Client` options.

        Returns:
            The client.
        """
        return cls(url, methods=load_shipped("truenas", release), **options)

    def _install(self, document: Mapping[str, Any]) -> None:
        methods = Methods(document)
        tree = build_tree(methods, self._invoke, _RESERVED)
        binder = Binder(methods, tree.operations, tree.by_name.__getitem__,
                        waiter_client=self) if self._resources else None
        with self._connect_lock:
            for name in self._tree.top:
                self.__dict__.pop(name, None)
            self.__dict__.update(tree.top)
            self._tree = tree
            self._binder = binder
            self.methods = methods
        _log.debug("TrueNAS %s: %d methods", self.endpoint.url, len(methods))

    def _open_link(self, url: str, verify: bool | str, timeout: float) -> Link:
        return open_link(url, verify=verify, timeout=timeout, limits=self._wire,
                         send_timeout=self.send_timeout)

    def _load_methods(self, connection: Connection, *, version: str | None = None,
                      use_cache: bool = True, deadline: float | None = None) -> None:
        # Each step gets call_timeout (a full get_methods that times out falls back to
        # per-service calls), all within the deadline of a call that triggered the load.
        def call(method: str, params: list[Any]) -> Any:
            return connection.call(method, params,
                                   deadline=_sooner(deadline, self.call_timeout))

        version = self.version = version or server_version(call)
        cache = None
        if self._cache is not None and version:
            who = self.username or (self._credentials.mechanism.name if self._credentials
                                    else "")
            cache = MethodsCache(self._cache, self.endpoint.url, who)
        document = cache.load(version) if cache is not None and use_cache and version else None
        if document is None:
            document = fetch_methods(call, self._discovery)
            if cache is not None and version:
                cache.store(version, document)
        else:
            _log.debug("using the cached methods of %s for %s", version, self.endpoint.url)
        self._install(document)

    def refresh_methods(self) -> Methods:
        """Fetch the method document again (ignoring the cache) and rebuild namespaces.

        Returns:
            The new document.
        """
        self._load_methods(self._connection(), use_cache=False)
        self._from_server = True
        assert self.methods is not None
        return self.methods

    # -- the connection -----------------------------------------------------------------------

    def _connection(self, deadline: float | None = None) -> Connection:
        connection = self._conn
        if connection is not None and not connection.closed:
            return connection
        asked = time.monotonic()
        wait = _left(deadline)
        if not self._connect_lock.acquire(timeout=-1 if wait is None else wait):
            raise ConnectTimeout(f"another thread was still connecting to {self.endpoint.url} "
                                 "when the call's timeout ran out", url=self.endpoint.url)
        try:
            if self._conn is not None and not self._conn.closed:
                return self._conn
            if self._closed:
                raise ConnectionClosed(f"the client for {self.endpoint.url} was closed",
                                       url=self.endpoint.url)
            failed = self._connect_failed
            if failed is not None and failed[0] > asked:
                # This caller waited for a round of attempts that failed: say so, at once.
                raise ConnectionFailed(failed[1], url=self.endpoint.url)
            again = self._conn is not None
            connection = self._open_retrying(deadline)
            if self._closing.is_set():  # close() gave up waiting for this connect
                connection.close(self.close_timeout)
                raise ConnectionClosed(f"the client for {self.endpoint.url} was closed",
                                       url=self.endpoint.url)
            self._conn = connection
            if self._from_server and (again or self.methods is None):
                self._reload_if_changed(connection, deadline)
            self._hub.attach(connection)
            return connection
        finally:
            self._connect_lock.release()

    def _connection_for(self, method: str, deadline: float | None = None) -> Connection:
        try:
            return self._connection(deadline)
        except (TransportError, TooManyConcurrentCalls) as exc:
            if self._closing.is_set():
                raise
            if isinstance(exc, (RedirectRefused, LimitExceeded)):
                exc.method = method  # its own type: retrying or reconnecting cannot help
                raise
            if isinstance(exc, Timeout):
                raise ConnectTimeout(f"{method} was not sent: {exc}", method=method,
                                     url=exc.url) from exc
            # A failed (re)connect step (open, login, version check) names its own method,
            # and may be a drop, a timeout or a busy server; what matters to the caller is
            # that *its* call was certainly not sent, so it may be sent again.
            message = f"{method} was not sent: {exc}"
            if isinstance(exc, HandshakeRejected):
                rejected = HandshakeRejected(message, status=exc.status, url=exc.url)
                rejected.method = method
                raise rejected from exc
            raise ConnectionFailed(message, method=method, url=exc.url) from exc

    def _open_retrying(self, deadline: float | None = None) -> Connection:
        # The WebSocket upgrade is an HTTP GET: when it fails, nothing of any call was
        # sent, so every call may wait (bounded by the policy) for the server to return.
        started, attempts = time.monotonic(), 0
        while True:
            attempts += 1
            try:
                connection = self._open(deadline)
            except ConnectionFailed as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    # The caller's time is up; another caller may try again at once.
                    raise ConnectTimeout(f"could not reconnect to {self.endpoint.url} "
                                         f"within the call's timeout ({exc})",
                                         url=self.endpoint.url) from None
                rejected = exc.status if isinstance(exc, HandshakeRejected) else None
                wait = self.retry.delay(attempts, "GET", status=rejected,
                                        error=None if rejected else exc,
                                        elapsed=time.monotonic() - started)
                left = _left(deadline)
                if wait is not None and left is not None and wait >= left:
                    raise ConnectTimeout(f"could not reconnect to {self.endpoint.url} "
                                         f"within the call's timeout ({exc})",
                                         url=self.endpoint.url) from None
                if wait is None:
                    # Only the text is kept: the error itself would pin its traceback.
                    self._connect_failed = (time.monotonic(), str(exc))
                    raise
                _log.info("could not connect to %s (%s); retry %d in %.1f s",
                          self.endpoint.url, exc, attempts, wait)
                if self._closing.wait(wait):
                    raise ConnectionClosed(f"the client for {self.endpoint.url} was closed",
                                           url=self.endpoint.url) from exc
                continue
            self._connect_failed = None
            return connection

    def _open(self, deadline: float | None = None) -> Connection:
        endpoint = self.endpoint
        opening = _sooner(deadline, self.connect_timeout)
        assert opening is not None

        def left() -> float:
            remaining = opening - time.monotonic()
            if remaining <= 0:
                raise ConnectTimeout(f"could not connect to {endpoint.url} in time",
                                     url=endpoint.url)
            return remaining

        try:
            link = self._opener(endpoint.url, self._verify, left())
        except HandshakeRejected as exc:
            if self._protocol != "auto" or endpoint.protocol != "jsonrpc" or exc.status != 404:
                raise
            endpoint = endpoint.legacy()
            _log.info("%s has no JSON-RPC API (HTTP 404); using the legacy protocol at %s",
                      self.endpoint.url, endpoint.url)
            link = self._opener(endpoint.url, self._verify, left())
            self.endpoint = endpoint
        connection = Connection(
            link, MaskedFraming(_FRAMINGS[endpoint.protocol](), self.secret_mask),
            url=endpoint.url, limits=self._limits,
            ping_interval=self._ping_interval, on_notice=self._hub.on_notice,
            on_close=self._on_close, send_timeout=self.send_timeout)
        try:
            connection.start(left())
        except Timeout:
            raise ConnectTimeout(f"{endpoint.url} did not finish the handshake in time",
                                 url=endpoint.url) from None
        if self._credentials is not None:
            logging_in = _sooner(deadline, self.call_timeout)
            try:
                login(lambda method, params: connection.call(method, params,
                                                             deadline=logging_in),
                      self._credentials, endpoint.url,
                      LoginChannel.of(endpoint, self._verify, connection.peer_certificate()))
            except BaseException:
                connection.close()
                raise
        return connection

    def _reload_if_changed(self, connection: Connection, deadline: float | None = None) -> None:
        before = self.version
        version = None
        if self.methods is not None:
            version = server_version(lambda method, params: connection.call(
                method, params, deadline=_sooner(deadline, self.call_timeout)))
            if version == before:
                return
        self._load_methods(connection, version=version, deadline=deadline)
        if before is not None and self.version != before:
            _log.warning("%s now runs %s (was %s); methods reloaded", self.endpoint.url,
                         self.version, before)
            warn_user(f"{self.endpoint.url} now runs {self.version} (was {before}); its "
                      "methods were reloaded", MethodsChangedWarning)

    def _on_close(self, reason: str) -> None:
        self.jobs.wake()
        if not self._closed:
            self._hub.connection_lost()

    @property
    def login_mechanism(self) -> str | None:
        """How the last login went: ``SCRAM``, ``API_KEY_PLAIN``, ``PASSWORD_PLAIN``, ...

        ``None`` before the first login. A profile keeps it to refuse a later downgrade.
        """
        return self._credentials.used if self._credentials is not None else None

    @property
    def derived_api_key(self) -> DerivedApiKey | None:
        """The SCRAM keys derived from the API key at the last SCRAM login, if any.

        What a profile may keep instead of the raw key: enough to log in by SCRAM to this
        server, useless for ``API_KEY_PLAIN``. Still a secret.
        """
        return self._credentials.derived if self._credentials is not None else None

    @property
    def connected(self) -> bool:
        """Whether a connection is open now (the next call reconnects if not)."""
        return self._conn is not None and not self._conn.closed

    @property
    def opener(self) -> Opener:
        """How connections are opened: ``opener(url, verify, timeout) -> Link``.

        The seam the stubber and cassette recording plug into. Setting it closes the
        current connection (calls in flight on it fail with ConnectionClosed); the next
        call opens a connection with the new opener and logs in again.
        """
        return self._opener

    @opener.setter
    def opener(self, opener: Opener) -> None:
        with self._connect_lock:
            self._opener = opener
            # Forgotten first: a connection that is gone is not a "reconnect", which
            # would re-read the server's version and method document.
            connection, self._conn = self._conn, None
        if connection is not None:
            connection.close()

    # -- access by name -------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        """Return a method (or namespace) by its dotted name: ``client["pool.query"]``."""
        found = self._tree.by_name.get(name)
        if found is None:
            raise unknown_name(UnknownMethodError, f"the TrueNAS API at {self.endpoint.url}",
                               name, self._tree.by_name)
        return found

    def operation(self, name: str) -> Operation:
        """Return the engine operation of a method (its details, signature, docstring).

        Args:
            name: Dotted method name.

        Returns:
            The operation.

        Raises:
            UnknownMethodError: No such method in the document.
        """
        found = self._tree.operations.get(name)
        if found is None:
            raise unknown_name(UnknownMethodError, f"the TrueNAS API at {self.endpoint.url}",
                               name, self._tree.operations)
        return found

    if TYPE_CHECKING:  # namespaces are generated at run time; let type checkers accept them
        def __getattr__(self, name: str) -> Any: ...
    else:
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_") or "_tree" not in self.__dict__:
                raise AttributeError(name)
            raise unknown_name(UnknownMethodError, f"the TrueNAS API at {self.endpoint.url}",
                               name, self._tree.top)

    # -- calls ----------------------------------------------------------------------------------

    def call(self, method: str, *params: Any, job: bool = False, timeout: Any = _UNSET,
             on_progress: ProgressCallback | None = None) -> Any:
        """Call a method by name with positional parameters, like ``midclt call``.

        Args:
            method: Dotted method name (also one the document does not list, such as a
                private method; it is then sent unchecked).
            *params: Positional parameters.
            job: For a job method, wait for the job and return its result (like
                ``midclt call -j``) instead of returning the job id.
            timeout: Seconds to wait for the reply, and for the job with ``job=True``;
                default: the client's ``call_timeout`` for the reply, no limit for the job.
            on_progress: With ``job=True``, called with each new progress object.

        Returns:
            The result (the job id for a job method without ``job=True``).

        Raises:
            InvalidParametersError: The parameters do not match the schema.
            TrueNASAPIError: The server answered with an error (typed subclass).
            JobFailed: With ``job=True``, the job failed or was aborted.
            ConnectionClosed: The connection dropped before the reply (not re-sent).
        """
        spec = self.methods.get(method) if self.methods is not None else None
        reply_timeout = self.call_timeout if timeout is _UNSET else timeout
        result = self._call(method, list(params), spec, (), reply_timeout)
        if not job:
            return result
        if not isinstance(result, int) or isinstance(result, bool):
            raise ConfigurationError(f"{method} did not start a job (it answered "
                                     f"{type(result).__name__}); call it without job=True")
        return Job(self, result, method).wait(None if timeout is _UNSET else timeout,
                                              on_progress)

    def _invoke(self, operation: Operation, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        spec: MethodSpec = operation.payload
        params, filled = _positional(operation, args, kwargs)
        result = self._call(spec.name, params, spec, filled, self.call_timeout)
        if spec.job and isinstance(result, int) and not isinstance(result, bool):
            return Job(self, result, spec.name)
        binder = self._binder
        return result if binder is None else binder.wrap(spec.name, result)

    def submit(self, method: str, *params: Any) -> Future[Any]:
        """Send a call by name and return at once: the non-blocking form of :meth:`call`.

        The reader thread completes the future with the result (a job method's is the
        job id) or with the typed error :meth:`call` would raise. Parameters are
        checked, hooks run and calls are logged as for :meth:`call`; the ``after-call``
        hook then runs on the reader thread, so it must not block. This is the seam of
        :mod:`maas_dyn.aio.truenas` (``asyncio.wrap_future``).

        Args:
            method: Dotted method name.
            *params: Positional parameters.

        Returns:
            The future.

        Raises:
            InvalidParametersError: The parameters do not match the schema.
            TooManyConcurrentCalls: Every call slot of the connection is busy; not sent.
            ConnectionFailed: There was no connection and none could be made (making
                one blocks; async callers reconnect off the loop first).
        """
        spec = self.methods.get(method) if self.methods is not None else None
        return self._submit(method, list(params), spec, ())

    def submit_operation(self, operation: Operation, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Future[Any]:
        """:meth:`submit` for a generated method: arguments bound as the method binds them.

        Args:
            operation: The method's operation (``client.operation("pool.query")``).
            args: Positional arguments.
            kwargs: Keyword arguments.

        Returns:
            The future (of the job id, for a job method).
        """
        spec: MethodSpec = operation.payload
        params, filled = _positional(operation, args, kwargs)
        return self._submit(spec.name, params, spec, filled)

    def _check(self, method: str, params: list[Any], spec: MethodSpec | None,
               filled: set[int] | tuple[()]) -> None:
        if self.validate and spec is not None:
            problems = validate_params(spec.accepts, params, filled)
            if problems:
                listed = "; ".join(f"{where}: {', '.join(what)}"
                                   for where, what in problems.items())
                raise InvalidParametersError(f"invalid parameters for {method}: {listed}",
                                             errors=problems)

    def _submit(self, method: str, params: list[Any], spec: MethodSpec | None,
                filled: set[int] | tuple[()], *, deadline: float | None = None,
                connect: bool = True) -> Future[Any]:
        if not connect:
            # The async facade: connecting blocks, so it is done off the loop instead.
            current = self._conn
            if current is None or current.closed:
                raise _NotConnected(f"{method} was not sent: not connected",
                                    method=method, url=self.endpoint.url)
        self._check(method, params, spec, filled)
        self.hooks.emit("before-call", method=method, params=params)
        started = time.monotonic()
        try:
            future = self._connection_for(method, deadline).submit(method, params,
                                                                   deadline=deadline)
        except TrueNASAPIError as exc:
            self._log_call(method, started, type(exc).__name__)
            self.hooks.emit("after-call", method=method, result=None, error=exc)
            raise

        def finished(done: Future[Any]) -> None:
            # Same outcomes as _call: only server answers reach the after-call hook.
            if done.cancelled():
                self._log_call(method, started, "cancelled")
                return
            error = done.exception()
            if error is None:
                self._log_call(method, started, "ok")
                self.hooks.emit("after-call", method=method, result=done.result(), error=None)
            elif isinstance(error, TrueNASAPIError):
                self._log_call(method, started, type(error).__name__)
                self.hooks.emit("after-call", method=method, result=None, error=error)

        future.add_done_callback(finished)
        return future

    def _call(self, method: str, params: list[Any], spec: MethodSpec | None,
              filled: set[int] | tuple[()], timeout: float | None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._check(method, params, spec, filled)
        self.hooks.emit("before-call", method=method, params=params)
        connection = self._connection_for(method, deadline)
        started = time.monotonic()
        try:
            result = connection.call(method, params, deadline=deadline)
        except TrueNASAPIError as exc:
            self._log_call(method, started, type(exc).__name__)
            self.hooks.emit("after-call", method=method, result=None, error=exc)
            raise
        self._log_call(method, started, "ok")
        self.hooks.emit("after-call", method=method, result=result, error=None)
        return result

    def _log_call(self, method: str, started: float, outcome: str) -> None:
        # The audit trail: INFO for what changes the server, DEBUG for reads.
        level = logging.DEBUG if _READS.search(method) else logging.INFO
        if _log.isEnabledFor(level):
            elapsed = (time.monotonic() - started) * 1000
            namespace, _, _ = method.rpartition(".")
            log_event(_log, level, "truenas.call", "%s -> %s in %.1f ms", method, outcome,
                      elapsed, dialect="truenas", server=self.endpoint.url,
                      namespace=namespace or None, method=method,
                      status=outcome if outcome == "ok" else None,
                      error=None if outcome == "ok" else outcome,
                      duration_ms=round(elapsed, 1))

    def ping(self, timeout: float | None = None) -> float:
        """Check the server answers, and measure the round trip.

        Args:
            timeout: Seconds to wait (default: the call timeout).

        Returns:
            Seconds the round trip took.
        """
        started = time.monotonic()
        limit = self.call_timeout if timeout is None else timeout
        deadline = None if limit is None else started + limit
        self._connection(deadline).ping(_left(deadline))
        return time.monotonic() - started

    # -- jobs -----------------------------------------------------------------------------------

    def follow_jobs(self) -> bool:
        """Subscribe to job events on the current connection (once per connection).

        Returns:
            Whether job events are coming; if not, jobs are followed by polling.
        """
        with self._jobs_lock:
            try:
                if self._jobs_subscription is None:
                    self._jobs_subscription = self._hub.listen_inline(
                        JOBS_COLLECTION, self.jobs.on_event)
                else:
                    self._hub.recover()
            except TrueNASAPIError as exc:
                _log.info("no job events from %s (%s); polling jobs instead",
                          self.endpoint.url, exc)
                return False
        return self._hub.is_subscribed(JOBS_COLLECTION, self._connection())

    # -- events ---------------------------------------------------------------------------------

    def subscribe(self, name: str, callback: Callable[[Event], Any]) -> Subscription:
        """Call ``callback(event)`` for each event of ``name`` (on the client's event thread).

        Args:
            name: Event name, e.g. ``"alert.list"`` or ``"core.get_jobs"``.
            callback: Receives :class:`~maas_dyn.truenas.messages.Event` objects.

        Returns:
            A handle; ``.unsubscribe()`` (or leaving its ``with`` block) stops it.
        """
        return self._hub.subscribe(name, callback)

    def events(self, name: str, timeout: float | None = None) -> EventStream:
        """Iterate over the events of ``name``.

        Args:
            name: Event name.
            timeout: Seconds of silence that end the iteration (``None``: never).

        Returns:
            An iterator of events (also a context manager).
        """
        return EventStream(self._hub, name, timeout)

    # -- files ----------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._http is None:
            self._http = requests.Session()
            self._http.verify = self._verify
        return self._http

    def _transfer_token(self) -> str:
        # Straight on the connection: a token must not reach the call hooks.
        accepts = self.methods.get("auth.generate_token") if self.methods else None
        single_use = accepts is not None and len(accepts.accepts) >= 4
        params: list[Any] = [TOKEN_TTL, {}, True, True] if single_use else [TOKEN_TTL]
        return str(self._connection().call("auth.generate_token", params, self.call_timeout))

    def upload(self, method: str, params: list[Any], source: FileSource, *,
               filename: str | None = None, wait: bool = True,
               timeout: float | None = None) -> Any:
        """Run a method that takes a file (``POST /_upload``).

        Args:
            method: e.g. ``"filesystem.put"``.
            params: Its parameters.
            source: A path or a binary file object.
            filename: Name sent with the file (default: the path's name).
            wait: Wait for the job and return its result; else return the :class:`Job`.
            timeout: Seconds for the upload, and for the job.

        Returns:
            The job's result, or the job.
        """
        job_id = upload(self._session(), self.endpoint.http_base, self._transfer_token(),
                        method, list(params), source=source, filename=filename,
                        timeout=timeout)
        job = Job(self, job_id, method)
        return job.wait(timeout) if wait else job

    def download(self, method: str, params: list[Any], filename: str, target: FileTarget, *,
                 timeout: float | None = None) -> int:
        """Run a method that produces a file (``core.download``) and save the file.

        Args:
            method: e.g. ``"config.save"``.
            params: Its parameters.
            filename: The name the server gives the file.
            target: A path or a binary file object to write to.
            timeout: Seconds for the transfer, and for the job.

        Returns:
            The number of bytes written.

        Raises:
            JobFailed: The job producing the file failed.
        """
        job_id, path = self.call("core.download", method, list(params), filename,
                                 timeout=self.call_timeout if timeout is None else timeout)
        written = download(self._session(), self.endpoint.http_base, str(path), target,
                           timeout=timeout)
        Job(self, int(job_id), method).wait(timeout)
        return written

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection, stop event delivery and join every thread."""
        self._closing.set()  # first: a connect round waiting to retry gives up now
        # A connect in progress is bounded by connect_timeout; close() does not wait
        # for it longer than close_timeout, and that connect closes what it opened.
        locked = self._connect_lock.acquire(timeout=self.close_timeout)
        try:
            self._closed = True
            connection, self._conn = self._conn, None
        finally:
            if locked:
                self._connect_lock.release()
        self._hub.close()
        if connection is not None:
            connection.close(self.close_timeout)
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        who = self.username or ("token" if self._credentials else "anonymous")
        count = len(self.methods) if self.methods is not None else 0
        state = "connected" if self.connected else "not connected"
        version = f", {self.version}" if self.version else ""
        return (f"<maas_dyn.truenas.Client {self.endpoint.url} ({who}, {count} methods"
                f"{version}, {state})>")


def _positional(operation: Operation, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> tuple[list[Any], set[int]]:
    """Bind a generated method's arguments into the positional list the server takes.

    Parameters left out before one that was given are filled with their schema
    default (a copy); trailing ones are left out so the server applies its own.

    Returns:
        ``(params, positions filled with defaults)``.
    """
    params = operation.details.params
    given = len(args)
    # The common case, positional arguments only: nothing to bind. (A required
    # parameter never follows an optional one, so checking the next one suffices.)
    if not kwargs and given <= len(params) and (given == len(params)
                                                or not params[given].required):
        return list(args), set()
    bound = bind_arguments(operation, args, kwargs)
    present = [i for i, p in enumerate(params) if p.wire_name in bound.positional]
    values: list[Any] = []
    filled: set[int] = set()
    for index, param in enumerate(params[: present[-1] + 1] if present else ()):
        if param.wire_name in bound.positional:
            values.append(bound.positional[param.wire_name])
        else:
            values.append(copy.deepcopy(param.default))
            filled.add(index)
    return values, filled


# The client's own attributes; a top-level namespace with one of these names gets a "_".
_RESERVED = frozenset(
    {name for name in dir(Client) if not name.startswith("_")}
    | {"endpoint", "username", "validate", "call_timeout", "connect_timeout",
       "job_poll_interval", "retry", "hooks", "jobs", "version", "methods",
       "send_timeout", "close_timeout"}
)


def connect(url: str, **options: Any) -> Client:
    """Connect to a TrueNAS server, log in and build its client.

    Args:
        url: ``"nas.example"`` (meaning ``wss://nas.example/api/current``) or a full URL.
        **options: Credentials and other options; see :class:`Client`.

    Returns:
        The connected client.
    """
    return Client(url, **options)
