"""The MAAS client: connect, build handlers from the description, and the call funnel.

Every call goes through :meth:`Client._send` (prepare -> sign -> send -> retry ->
check the description hash -> decode -> raise). Hooks, logging and retries live there.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

from maas_dyn._cache import DescriptionCache
from maas_dyn._dynamic import Operation, bind_arguments, closest, unknown_name
from maas_dyn._hooks import Hooks
from maas_dyn._secrets import redact_query
from maas_dyn._shipped import load_shipped, load_shipped_openapi
from maas_dyn._warn import warn_user
from maas_dyn.errors import (
    DescriptionError,
    InvalidParametersError,
    InvalidURLError,
    LimitExceeded,
    MAASAPIError,
    MaasDynError,
    NotAServerError,
    NotFoundError,
    RedirectRefused,
    TransportError,
    UnknownActionError,
    UnknownHandlerError,
    UnknownNameError,
)
from maas_dyn.logging import log_event
from maas_dyn.maas.describe import ActionSpec, Description, HandlerSpec
from maas_dyn.maas.encode import (
    PreparedRequest,
    encode_raw_request,
    encode_request,
    expand_path,
)
from maas_dyn.maas.handlers import Handler, build_handlers
from maas_dyn.maas.oauth import Credentials, parse_api_key
from maas_dyn.maas.openapi import (
    OPENAPI_NAME,
    ActionOverlay,
    Overlay,
    parse_document,
    type_problem,
)
from maas_dyn.maas.resources import Binder, ResourceIndex, handler_class_with_get
from maas_dyn.maas.response import Response, decode_body, error_for
from maas_dyn.maas.transport import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    RawResponse,
    RequestsTransport,
    TimeoutSpec,
    Transport,
)
from maas_dyn.retry import RetryPolicy

__all__ = [
    "Client",
    "DescriptionChangedWarning",
    "ParameterTypeWarning",
    "UndocumentedParameterWarning",
    "connect",
]

_log = logging.getLogger("maas_dyn.maas")

DEFAULT_TIMEOUT: TimeoutSpec = (10.0, 120.0)
HASH_HEADER = "X-MAAS-API-Hash"
# Keyword arguments of the maas-api call style: ``params=`` and ``files=`` dictionaries.
_COMPAT_KEYWORDS = ("params", "files")
# After a failed refresh, wait 1, 2, 4... seconds (at most this many) before the next
# try, so a region serving a broken description is not asked for it on every request.
_REFRESH_BACKOFF_CAP = 60.0
_REFRESH_MAX_DOUBLINGS = 6  # 2 ** 6 > the cap: the exponent never grows past this
# Redirects followed for one call (requests allows 30; a region redirects at most once,
# e.g. http -> https or a missing trailing slash).
DEFAULT_MAX_REDIRECTS = 5
_FOLLOWED = frozenset({301, 302, 303, 307, 308})
# Answers to GET openapi.yaml that mean the region has none (before MAAS 3.3).
_NO_OPENAPI = frozenset({404, 410})
# Errors that another attempt cannot cure: the same answer would come back.
_FINAL_ERRORS = (LimitExceeded, RedirectRefused)


# Process-unique ids of calls, for the request_id log field (cheaper than uuid4).
_REQUEST_IDS = itertools.count(1)


class UndocumentedParameterWarning(UserWarning):
    """A keyword argument the server's description does not document was sent as given."""


class ParameterTypeWarning(UserWarning):
    """A keyword argument's value is not of the type the region's OpenAPI document gives.

    Sent as given, like an undocumented parameter: turn it into an error with
    ``warnings.simplefilter("error", ParameterTypeWarning)`` to refuse before sending.
    """


class DescriptionChangedWarning(UserWarning):
    """The server's API description changed (an upgrade); the client refreshed itself."""


# The API form of a region URL, as `maas login` and `maas-dyn list` show it.
_API_SUFFIX = re.compile(r"api/(?P<version>[0-9]+(?:\.[0-9]+)*)/\Z")


def _normalise_url(url: str) -> tuple[str, str, str | None]:
    """Return ``(base URL ending in /, origin + prefix before handler paths, API version)``.

    The region's URL (``http://region:5240/MAAS/``), its API URL as the official CLI stores
    it (``.../MAAS/api/2.0/``) and a bare origin (``http://region:5240``) all name the same
    region; the API version is returned when the URL names one.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidURLError("the MAAS URL must be text like http://region:5240/MAAS/")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise InvalidURLError(
            f"the MAAS URL must start with http:// or https://, got {url!r}; "
            "e.g. http://region:5240/MAAS/"
        )
    if not parts.hostname:
        raise InvalidURLError(f"the MAAS URL has no host: {url!r}")
    try:
        _ = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"the MAAS URL has an invalid port: {url!r}") from exc
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    named = _API_SUFFIX.search(path)
    if named is not None:
        path = path[: named.start()]
    if path == "/":
        path = "/MAAS/"
    base = f"{parts.scheme}://{parts.netloc}{path}"
    # Handler paths start with /MAAS/; a proxy prefix before it is kept.
    prefix = path[: -len("MAAS/")] if path.endswith("/MAAS/") else path
    return (base, f"{parts.scheme}://{parts.netloc}{prefix.rstrip('/')}",
            named["version"] if named else None)


class Client:
    """A live MAAS client whose handlers come from the server's own description.

    Connecting fetches ``/MAAS/api/2.0/describe/`` (or reuses the cached copy for this
    URL), then exposes one attribute per handler, named like the official CLI with
    dashes as underscores: ``client.machines``, ``client.boot_resources``. Each action
    is a method with a real signature and docstring::

        client = Client("http://region:5240/MAAS/", api_key="consumer:token:secret")
        client.machines.read(hostname=["node-1", "node-2"])
        client.machine.deploy("abc123", distro_series="jammy")
        help(client.machine.deploy)

    The call style of the ``maas-api`` package keeps working:
    ``client.machine.deploy(system_id="abc123")``, ``params={...}`` for GET and
    ``files={...}`` for multipart.

    Args:
        url: The region's URL, e.g. ``http://region:5240/MAAS/``; its API URL
            (``.../MAAS/api/2.0/``, as ``maas-dyn list`` prints it) works too.
        api_key: ``consumer:token:secret``; ``None`` for anonymous use.
        description: A describe document (dict, JSON text or bytes) to use instead of
            fetching one: the client is then built without any network I/O.
        verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
            What is passed here wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``;
            only with ``True`` do those variables (if set) name the trusted CAs.
        timeout: Seconds, or ``(connect, read)`` seconds, for every socket operation.
        deadline: Seconds one request may take in total: connect, headers and the
            whole body (a server dripping bytes cannot hold a call open longer).
        max_body_bytes: Largest response body accepted, after decompression.
        max_header_bytes: Largest total size of a response's headers.
        max_redirects: Same-origin redirects followed per call.
        retry: The retry policy (default: retry idempotent requests 3 times).
        transport: Send requests through this instead of a ``requests`` session.
        cache: ``True`` for the user cache directory, a :class:`DescriptionCache`, or
            ``False`` to never read or write a cached description.
        api_version: The API version in the describe URL (``"2.0"``; ``"1.0"`` for 1.9);
            by default the one the URL names, else ``"2.0"``.
        resources: Return objects that name their location as resources (``dict``
            subclasses with the item's actions as methods, see
            :mod:`maas_dyn.maas.resources`); ``False`` returns plain dicts.
        openapi: Merge the region's v2 OpenAPI document (MAAS 3.3 on) into the handlers:
            required flags, types and per-status answers. ``True`` fetches
            ``openapi.yaml`` with the description (and caches it with it); ``False``
            never does; a parsed document (or an :class:`~maas_dyn.maas.openapi.Overlay`)
            is used as given (with ``description``).

    Raises:
        InvalidURLError: The URL is not an http(s) URL with a host.
        InvalidAPIKeyError: The API key does not have three parts.
        ConnectionFailed: The server cannot be reached.
        NotAServerError: The URL does not serve a MAAS API description.
        DescriptionError: The description is malformed.
        LimitExceeded: The description broke a size limit.
        Timeout: The description did not arrive within the deadline.

    The deadline and the size limits apply to the default transport; a ``transport=``
    of your own brings its own. Redirects are followed (and signed afresh) only within
    the region's origin, and never with a body or credentials elsewhere; any other
    3xx raises :class:`~maas_dyn.errors.RedirectRefused`.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        description: Mapping[str, Any] | str | bytes | None = None,
        verify: bool | str = True,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
        cache: bool | DescriptionCache = True,
        api_version: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        resources: bool = True,
        openapi: Mapping[str, Any] | Overlay | bool = True,
    ):
        self.url, self._origin, named = _normalise_url(url)
        self._binder: Binder | None = None
        self._resources = resources
        if named is not None and api_version is not None and named != api_version:
            raise InvalidURLError(f"the URL names API {named} but api_version={api_version!r}")
        api_version = named or api_version or "2.0"
        self._credentials: Credentials | None = (
            None if api_key is None else parse_api_key(api_key)
        )
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.hooks = Hooks()
        self.max_redirects = max_redirects
        self._transport: Transport = transport or RequestsTransport(
            verify=verify, deadline=deadline, max_body_bytes=max_body_bytes,
            max_header_bytes=max_header_bytes)
        self._cache = DescriptionCache("maas") if cache is True else (cache or None)
        # The OpenAPI overlay is cached beside the description, under its hash.
        self._overlay_cache = None if self._cache is None else DescriptionCache(
            "maas-openapi", root=self._cache.root.parent, max_entries=self._cache.max_entries)
        self._describe_url = f"{self.url}api/{api_version}/describe/"
        self._openapi_url = f"{self.url}api/{api_version}/{OPENAPI_NAME}"
        self._use_openapi = openapi is not False
        self._lock = threading.RLock()
        self._local = threading.local()
        self._refresh_failures = 0
        self._refresh_not_before = 0.0
        self._refresh_lock = threading.Lock()
        self._handler_names: tuple[str, ...] = ()
        self._sleep = time.sleep
        if description is not None:
            document = description if isinstance(description, Mapping) else _loads(description)
            offline = Description(document, _RESERVED)
            offline.apply_overlay(openapi if isinstance(openapi, Overlay) else
                                  Overlay.from_openapi(openapi)
                                  if isinstance(openapi, Mapping) else None)
            self._install(offline, raw=None)
        elif not self._install_cached():
            self.refresh()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_description(
        cls, description: Mapping[str, Any] | str | bytes, url: str = "http://localhost:5240/MAAS/",
        api_key: str | None = None, **options: Any,
    ) -> Client:
        """Build a client from a describe document, with no network I/O.

        Useful to explore any release offline; calls still go to ``url`` if made.

        Args:
            description: The document (dict, JSON text or bytes).
            url: Where calls would go.
            api_key: Key for calls, if any.
            **options: Other :class:`Client` options.

        Returns:
            The client.
        """
        return cls(url, api_key, description=description, **options)

    @classmethod
    def from_release(cls, release: str, url: str = "http://localhost:5240/MAAS/",
                     api_key: str | None = None, **options: Any) -> Client:
        """Build a client from a description shipped with the package (e.g. ``"3.7"``).

        Args:
            release: A name from ``maas_dyn.shipped_releases("maas")``.
            url: Where calls would go.
            api_key: Key for calls, if any.
            **options: Other :class:`Client` options.

        Returns:
            The client.
        """
        options.setdefault("openapi", load_shipped_openapi(release) or True)
        return cls(url, api_key, description=load_shipped("maas", release), **options)

    def _install_cached(self) -> bool:
        if self._cache is None:
            return False
        cached = self._cache.load(self.url)
        if cached is None:
            return False
        try:
            description = Description(_loads(cached[1]), _RESERVED)
        except DescriptionError as exc:
            _log.warning("ignoring a corrupt cached description for %s: %s", self.url, exc)
            return False
        description.apply_overlay(self._cached_overlay(description))
        self._install(description, raw=None)
        _log.debug("using the cached description %s for %s", cached[0], self.url)
        return True

    def refresh(self) -> Description:
        """Fetch the server's description again and rebuild every handler.

        Returns:
            The new description.

        Raises:
            NotAServerError: The URL does not serve a MAAS API description.
            DescriptionError: The description is malformed.
            TransportError: The server cannot be reached.
        """
        description = self._refresh(self.retry)
        self._refresh_failures, self._refresh_not_before = 0, 0.0
        return description

    def _refresh(self, retry: RetryPolicy) -> Description:
        request = PreparedRequest("GET", self._describe_url, unsigned=True)
        try:
            response = self._send(request, internal=True, retry=retry)
        except NotFoundError as exc:
            raise NotAServerError(
                f"{self.url} serves no MAAS API description at {self._describe_url} "
                "(HTTP 404); the URL should be the region's base, e.g. "
                "http://region:5240/MAAS/"
            ) from exc
        if not isinstance(response.data, Mapping):
            media = response.headers.get("Content-Type", "nothing")
            raise NotAServerError(
                f"{self._describe_url} answered with {media}, not a MAAS API description; "
                "the URL should be the region's base, e.g. http://region:5240/MAAS/"
            )
        description = Description(response.data, _RESERVED)
        description.apply_overlay(self._fetch_overlay(description))
        self._install(description, raw=response.content)
        return description

    def _cached_overlay(self, description: Description) -> Overlay | None:
        # A warm connect reads the overlay stored with the description: no round trip.
        # Only a cache written before overlays existed makes it fetch (once).
        assert self._overlay_cache is not None  # only called with a cache
        if not self._use_openapi:
            return None
        cached = self._overlay_cache.load(self.url, description.hash or "unhashed")
        if cached is None:
            return self._fetch_overlay(description)
        try:
            return None if cached[1] == b"null" else Overlay.from_compact(cached[1])
        except (ValueError, TypeError) as exc:
            _log.debug("ignoring a corrupt cached OpenAPI overlay for %s: %s", self.url, exc)
            return self._fetch_overlay(description)

    def _fetch_overlay(self, description: Description) -> Overlay | None:
        if not self._use_openapi:
            return None
        # Anonymous, like describe (maasserver/urls_api.py routes it to a plain view).
        request = PreparedRequest("GET", self._openapi_url, unsigned=True)
        started = time.monotonic()
        try:
            # One attempt: the overlay only adds to the description, and a connect must
            # not wait out retries for it; a failed fetch is tried again next connect.
            response = self._send(request, internal=True, retry=RetryPolicy.never())
        except MAASAPIError as exc:
            # Regions before MAAS 3.3 have no openapi.yaml (404): they work as before,
            # and the cache remembers it so a warm connect does not ask again. Any other
            # status (a region starting, 503) is not an answer for this hash: not cached.
            _log.debug("no OpenAPI overlay from %s (HTTP %s)", self._openapi_url, exc.status)
            if exc.status in _NO_OPENAPI:
                self._store_overlay(description, None)
            return None
        except MaasDynError as exc:
            _log.debug("no OpenAPI overlay from %s: %s", self._openapi_url, exc)
            return None  # not cached: the next connect tries again
        document = parse_document(response.content)
        overlay = Overlay.from_openapi(document) if document is not None else None
        if overlay is not None:
            self._store_overlay(description, overlay)
        _log.debug("OpenAPI overlay of %s: %s actions in %.3f s", self.url,
                   len(overlay) if overlay is not None else 0, time.monotonic() - started)
        return overlay

    def _store_overlay(self, description: Description, overlay: Overlay | None) -> None:
        if self._overlay_cache is not None:
            self._overlay_cache.store(self.url, description.hash or "unhashed",
                                      b"null" if overlay is None else overlay.to_compact())

    def _install(self, description: Description, raw: bytes | None) -> None:
        index = ResourceIndex(description)
        handlers = build_handlers(description, self._invoke, partial(
            handler_class_with_get, index, self.__dict__.__getitem__))
        binder = Binder(index, self.__dict__.__getitem__, waiter_client=self) \
            if self._resources else None
        with self._lock:
            for name in self._handler_names:
                self.__dict__.pop(name, None)
            self.__dict__.update(handlers)
            self._handler_names = tuple(handlers)
            self.description = description
            self._binder = binder
        if raw is not None and self._cache is not None:
            self._cache.store(self.url, description.hash or "unhashed", raw)
        _log.debug("MAAS %s: %d handlers, description %s", self.url, len(handlers),
                    description.hash[:12])

    # -- access ---------------------------------------------------------------------------

    @property
    def handlers(self) -> dict[str, Handler]:
        """Handler objects by Python name."""
        return {name: self.__dict__[name] for name in self._handler_names}

    def __getitem__(self, name: str) -> Handler:
        """Return a handler by Python, CLI or resource name (``"boot-resources"``)."""
        spec = self.description.handler(name)
        if spec is None:
            raise self._unknown(name)
        handler: Handler = self.__dict__[spec.name]
        return handler

    def _unknown(self, name: str) -> UnknownNameError:
        return unknown_name(UnknownHandlerError, f"the MAAS API at {self.url}", name,
                            self._handler_names)

    if TYPE_CHECKING:  # handlers are generated at run time; let type checkers accept them
        def __getattr__(self, name: str) -> Any: ...
    else:
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_") or "description" not in self.__dict__:
                raise AttributeError(name)
            raise self._unknown(name)

    @property
    def last_response(self) -> Response | None:
        """The last response received by this thread (status, headers, body)."""
        last: Response | None = getattr(self._local, "response", None)
        return last

    def call(self, handler: str, action: str, *args: Any, **kwargs: Any) -> Any:
        """Call an action by name, like the CLI: ``client.call("machine", "deploy", "abc")``.

        Args:
            handler: Handler name (Python, CLI or resource form).
            action: Action name (Python, CLI or document form).
            *args: Path parameters.
            **kwargs: Action parameters.

        Returns:
            The decoded response.
        """
        target = self[handler]
        spec = target._spec.action(action)
        if spec is None:
            raise unknown_name(UnknownActionError, f"handler {handler!r}", action,
                               target._spec.actions)
        return getattr(target, spec.name)(*args, **kwargs)

    def request(self, handler: str, action: str, *path_args: Any,
                fields: Iterable[tuple[str, Any]] = ()) -> Response:
        """Call an action with its parameters as ordered ``(name, value)`` pairs.

        The lower-level form of :meth:`call` for tools that must keep the exact order
        of repeated keys (the CLI does) or need status and headers. No parameter is
        checked against the documentation.

        Args:
            handler: Handler name (Python, CLI or resource form).
            action: Action name (Python, CLI or document form).
            *path_args: Path parameters, in the handler's order.
            fields: Parameters as ``(name, value)`` pairs, sent in this order.

        Returns:
            The full response (``data`` is the decoded body).

        Raises:
            InvalidParametersError: Path parameters are missing or too many.
        """
        target = self[handler]
        spec = target._spec
        found = spec.action(action)
        if found is None:
            raise unknown_name(UnknownActionError, f"handler {handler!r}", action, spec.actions)
        if len(path_args) > len(spec.params):
            raise InvalidParametersError(
                f"{spec.cli_name} takes {len(spec.params)} path parameter(s) "
                f"({', '.join(spec.params) or 'none'}), got {len(path_args)}",
                errors={"path": ["too many path parameters"]},
            )
        return self._perform(spec, found, dict(zip(spec.params, path_args, strict=False)),
                             list(fields))

    def send(self, request: PreparedRequest, handler: str = "") -> Response:
        """Send a request prepared elsewhere through the funnel.

        For requests that are not an action call: the CLI's login check before any
        description exists, or the chunked upload to a URL the server returned. The
        request is signed (unless ``request.unsigned``), retried, hooked, checked for a
        new description hash and decoded like every other.

        Args:
            request: e.g. from :func:`maas_dyn.maas.encode.encode_request`.
            handler: CLI name of the handler, to pick the class of a 404 error.

        Returns:
            The response.

        Raises:
            MAASAPIError: The server answered 4xx or 5xx.
            TransportError: The server could not be reached.
        """
        return self._send(request, handler)

    def close(self) -> None:
        """Close pooled connections."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        who = "anonymous" if self._credentials is None else "authenticated"
        count = len(self._handler_names)
        return f"<maas_dyn.maas.Client {self.url} ({who}, {count} handlers)>"

    # -- the funnel -----------------------------------------------------------------------

    def _invoke(self, handler: HandlerSpec, operation: Operation, args: tuple[Any, ...],
                kwargs: dict[str, Any], binder: Binder | bool | None = True) -> Any:
        # ``binder``: True binds answers with this client's resources; the async client
        # passes its own (coroutine methods), False/None returns plain data.
        if binder is True:
            binder = self._binder
        binder = binder or None
        bound = bind_arguments(operation, args, kwargs, reserved=_COMPAT_KEYWORDS)
        fields: list[tuple[str, Any]] = list(bound.keywords.items())
        for name, value in bound.extra.items():
            if name in _COMPAT_KEYWORDS:
                if not isinstance(value, Mapping):
                    raise InvalidParametersError(
                        f"{name}= takes a dict of parameters, not {type(value).__name__}",
                        errors={name: ["must be a dict"]},
                    )
                fields.extend(value.items())
                continue
            hint = closest(name, [p.wire_name for p in operation.details.params])
            warn_user(
                f"{handler.name}.{operation.name}: parameter {name!r} is not documented by "
                "this server's description; it is sent as given"
                + (f" (did you mean {' or '.join(hint)}?)" if hint else ""),
                UndocumentedParameterWarning,
            )
            fields.append((name, value))
        overlay = handler.action_overlay(operation.payload)
        if overlay is not None:
            _check_types(handler, operation, bound.keywords, overlay)
        data = self._perform(handler, operation.payload, bound.positional, fields).data
        return data if binder is None else binder.wrap(handler, bound.positional, data)

    def _perform(self, handler: HandlerSpec, action: ActionSpec, path: Mapping[str, Any],
                 fields: list[tuple[str, Any]]) -> Response:
        url = self._origin + expand_path(handler.path, path)
        encode = encode_raw_request if action.raw_body else encode_request
        request = encode(action.method, url, action.op, fields, unsigned=action.unsigned)
        try:
            return self._send(request, handler.cli_name)
        except MAASAPIError as exc:
            overlay = handler.action_overlay(action)
            said = overlay.raised_text(exc.status) if overlay is not None else ""
            if said:  # the region's own words for this status of this action
                exc.hint = f"{said} ({exc.hint})" if exc.hint else said
            raise

    def _send(self, request: PreparedRequest, handler: str = "", *,
              internal: bool = False, retry: RetryPolicy | None = None) -> Response:
        # ``internal`` marks the client's own describe fetch: no stale-hash check (it
        # is the refresh), and not kept as ``last_response`` (it would pin ~1 MB).
        policy = self.retry if retry is None else retry
        started = time.monotonic()
        attempts = 0
        hops = 0
        request_id = f"{next(_REQUEST_IDS):x}"  # groups the retries of this call in logs
        while True:
            attempts += 1
            self.hooks.emit("before-send", request=request, attempt=attempts)
            authorization = (
                None if request.unsigned or self._credentials is None
                else self._credentials.authorization(request.method, request.url)
            )
            sent = time.monotonic()
            try:
                raw = self._transport.send(request, authorization, self.timeout)
            except _FINAL_ERRORS:
                raise
            except TransportError as exc:
                wait = policy.delay(attempts, request.method, error=exc,
                                        elapsed=time.monotonic() - started)
                if wait is None:
                    raise
                log_event(_log, logging.INFO, "maas.retry",
                          "%s %s failed (%s); retry %d in %.1f s", request.method,
                          redact_query(request.url), exc, attempts, wait,
                          dialect="maas", server=self.url, handler=handler or None,
                          method=request.method, attempt=attempts,
                          error=type(exc).__name__, request_id=request_id)
                self._sleep(wait)
                continue
            if _log.isEnabledFor(logging.DEBUG):  # the hot path: nothing built unless logged
                log_event(_log, logging.DEBUG, "maas.attempt", "%s %s -> %d in %.1f ms",
                          request.method, redact_query(request.url), raw.status,
                          (time.monotonic() - sent) * 1000, dialect="maas", server=self.url,
                          method=request.method, status=raw.status, attempt=attempts,
                          request_id=request_id)
            if 300 <= raw.status < 400 and raw.status in _FOLLOWED and hops < self.max_redirects \
                    and raw.headers.get("Location"):
                hops += 1
                attempts -= 1  # a redirect is not a failed attempt
                request = self._redirected(request, raw)
                continue
            wait = None
            if raw.status >= 400:
                wait = policy.delay(
                    attempts, request.method, status=raw.status,
                    retry_after=raw.headers.get("Retry-After"),
                    elapsed=time.monotonic() - started,
                )
            if wait is None:
                break
            log_event(_log, logging.INFO, "maas.retry", "%s %s answered %d; retry %d in %.1f s",
                      request.method, redact_query(request.url), raw.status, attempts, wait,
                      dialect="maas", server=self.url, handler=handler or None,
                      method=request.method, status=raw.status, attempt=attempts,
                      request_id=request_id)
            self._sleep(wait)
        # The audit trail: INFO for what changes the region, DEBUG for reads.
        level = logging.DEBUG if request.method == "GET" else logging.INFO
        if _log.isEnabledFor(level):
            op = parse_qs(urlsplit(request.url).query).get("op", [None])[0]
            log_event(_log, level, "maas.call", "%s %s %s -> %d", request.method,
                      handler or "-", op or "", raw.status, dialect="maas", server=self.url,
                      handler=handler or None, action=op, method=request.method,
                      status=raw.status, attempt=attempts, request_id=request_id,
                      duration_ms=round((time.monotonic() - started) * 1000, 1))
        if not internal:
            self._check_hash(raw)
        return self._finish(request, raw, handler, remember=not internal)

    def _redirected(self, request: PreparedRequest, raw: RawResponse) -> PreparedRequest:
        """The request a redirect asks for, or :class:`RedirectRefused`.

        Not requests' own redirect handling: it re-sends a 307/308 body (a machine's
        power password) to whatever origin the ``Location`` names, and re-uses the
        signed header. Here a redirect within the region's origin is signed afresh
        (OAuth nonces are single-use); leaving the origin is allowed only for a
        body-less, unsigned request, and never from https to http.
        """
        location = raw.headers.get("Location", "")
        target = urljoin(request.url, location.strip())
        method, body, headers = request.method, request.body, request.headers
        if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
            # What browsers and requests do: the redirect is fetched with GET.
            method, body = "GET", None
            headers = {k: v for k, v in headers.items()
                       if k.lower() not in ("content-type", "content-length")}
        old, new = urlsplit(request.url), urlsplit(target)
        shown = _shown_location(target)
        refuse = ""
        if new.scheme not in ("http", "https") or not new.hostname:
            refuse = "to something that is not an http(s) URL"
        elif old.scheme == "https" and new.scheme == "http":
            refuse = "from https to plain http"
        elif _origin(old) != _origin(new):
            signed = not request.unsigned and self._credentials is not None
            if body is not None or signed:
                what = "the request body" if body is not None else "the OAuth credentials"
                refuse = f"to another origin, which would receive {what}"
        if refuse:
            raise RedirectRefused(
                f"{request.method} {redact_query(request.url)} was redirected ({raw.status}) "
                f"{refuse}: {shown}; if that is the region's address, connect to it "
                "directly", status=raw.status, location=shown, method=request.method,
                url=redact_query(request.url))
        unsigned = request.unsigned or _origin(old) != _origin(new)
        return PreparedRequest(method, target, headers, body, unsigned)

    def _finish(self, request: PreparedRequest, raw: RawResponse, handler: str,
                remember: bool) -> Response:
        if 300 <= raw.status < 400:
            # Not followed (no Location, 304, 300, too many hops): the body is not the
            # answer to this request, so it is not returned as one.
            location = _shown_location(raw.headers.get("Location", "") or "")
            if raw.status in _FOLLOWED and location:
                why = f"more than max_redirects={self.max_redirects} redirects"
            elif raw.status in _FOLLOWED:
                why = "a redirect without a Location header"
            else:
                why = f"HTTP {raw.status}, which the client does not follow"
            raise RedirectRefused(
                f"{request.method} {redact_query(request.url)} was answered with {why}"
                + (f" (to {location})" if location else ""),
                status=raw.status, location=location, method=request.method,
                url=redact_query(request.url))
        data = decode_body(raw) if raw.status < 400 else None
        response = Response(raw.status, raw.headers, raw.content, data, request.method,
                            request.url)
        if remember:
            self._local.response = response
        self.hooks.emit("after-receive", response=response)
        if raw.status >= 400:
            # The key's parts: a server may echo the OAuth header back in its error.
            raise error_for(raw, request.method, redact_query(request.url), handler,
                            self._credentials.secrets() if self._credentials else ())
        return response

    def _check_hash(self, raw: RawResponse) -> None:
        served = raw.headers.get(HASH_HEADER)
        known = self.description.hash
        if not served or not known or served == known:
            return
        # The answer that carried the new hash is the caller's and stands whatever
        # happens here: no waiting on another thread's refresh, no error from this one.
        if time.monotonic() < self._refresh_not_before:
            return  # a recent try failed; the old handlers serve until the back-off ends
        if not self._refresh_lock.acquire(blocking=False):
            return  # another thread is refreshing
        try:
            if self.description.hash != known:
                return  # refreshed meanwhile
            _log.warning("MAAS at %s changed its API description (%s -> %s); refreshing",
                         self.url, known[:12], served[:12])
            try:
                # One attempt: the back-off below is the retry, and no call waits on it.
                self._refresh(RetryPolicy.never())
            except MaasDynError as exc:
                # The request itself succeeded and the region may have acted on it: an
                # error here would be taken for the request's own and invite a resend.
                self._refresh_failed(str(exc))
                return
            if self.description.hash != served:
                # Two regions behind one address mid-upgrade, or a proxy: fetching again
                # at once would bring the same document.
                self._refresh_failed(f"it has hash {self.description.hash[:12]}, not the "
                                     f"{served[:12]} the region announced")
                return
            self._refresh_failures = 0
        finally:
            self._refresh_lock.release()
        warn_user(
            f"MAAS at {self.url} now serves a different API description (hash "
            f"{known[:12]} -> {served[:12]}, e.g. after an upgrade); handlers were refreshed",
            DescriptionChangedWarning,
        )

    def _refresh_failed(self, reason: str) -> None:
        self._refresh_failures += 1
        doublings = min(self._refresh_failures - 1, _REFRESH_MAX_DOUBLINGS)
        delay = min(2.0 ** doublings, _REFRESH_BACKOFF_CAP)
        self._refresh_not_before = time.monotonic() + delay
        _log.warning("could not use the new description of %s (%s); keeping the handlers "
                     "as they are, trying again in %.0f s", self.url, reason, delay)


def _check_types(handler: HandlerSpec, operation: Operation, keywords: Mapping[str, Any],
                 overlay: ActionOverlay) -> None:
    # Warned like an undocumented parameter (and sent as given): the same rule, so a
    # warnings filter that makes one an error makes the other one too.
    for wire_name, value in keywords.items():
        problem = type_problem(value, overlay.types.get(wire_name, ""))
        if problem:
            warn_user(f"{handler.name}.{operation.name}: parameter {wire_name!r}: {problem}, "
                      f"as the server's OpenAPI document types it "
                      f"({overlay.types[wire_name]}); it is sent as given",
                      ParameterTypeWarning)


def _shown_location(url: str) -> str:
    # A Location may carry user:password@ as well as secret query values.
    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    except ValueError:
        return "<unparsable>"
    return redact_query(url)


def _origin(parts: Any) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port


def _loads(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[" nested 100,000 deep
        raise NotAServerError(f"the description is not valid JSON: {exc}") from None


# The public attributes of the client and of its async facade (maas_dyn.aio.maas, which
# cannot be imported here: it imports this module); a handler with one of these names
# gets a trailing "_" (see python_identifier). Names starting with "_" are guarded by
# the naming rule itself. tests/reliability/test_hostile_names.py checks this set
# against both classes by introspection.
_RESERVED = frozenset(
    {name for name in dir(Client) if not name.startswith("_")}
    | {"url", "timeout", "retry", "hooks", "description", "max_redirects"}
    | {"client", "aclose"}
)


def connect(url: str, api_key: str | None = None, **options: Any) -> Client:
    """Connect to a MAAS region and build its client.

    Args:
        url: The region's URL, e.g. ``http://region:5240/MAAS/``; its API URL
            (``.../MAAS/api/2.0/``, as ``maas-dyn list`` prints it) works too.
        api_key: ``consumer:token:secret``; ``None`` for anonymous use.
        **options: See :class:`Client`.

    Returns:
        The connected client.
    """
    return Client(url, api_key, **options)
