"""From a decoded request to a response: counting, faults, authentication, routing.

The order mirrors a MAAS region behind piston: the request is counted and exposed to
fault injection first (faults model the network and the front end), then OAuth is
checked, then the handler and action are chosen from the description and the modelled
implementation runs under the state lock.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from maas_dyn.sim.maas.describe import OPENAPI_MEDIA_TYPE, Description
from maas_dyn.sim.maas.faults import Faults
from maas_dyn.sim.maas.models import Machine
from maas_dyn.sim.maas.oauth import OAuthVerifier, parse_authorization
from maas_dyn.sim.maas.registry import ADMIN_ONLY, Context, Registry
from maas_dyn.sim.maas.request import ApiRequest
from maas_dyn.sim.maas.responses import (
    ApiError,
    BadRequest,
    Forbidden,
    NotModelled,
    Response,
)
from maas_dyn.sim.maas.routing import (
    Match,
    RoutingTable,
    action_label,
    allowed_methods,
    find_action,
)
from maas_dyn.sim.maas.state import State

CountKey = tuple[str, str, str]
DESCRIBE = "describe"
OPENAPI = "openapi"
# Clients choose the ``op`` text, so the number of distinct counter keys is capped.
MAX_COUNT_KEYS = 100_000
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Dispatcher:
    """Answers requests for one simulated region.

    Args:
        state: The region.
        faults: The fault switches.
        registry: The modelled actions.
        verifier: OAuth verification.
        description: The description served at first.
        stopping: Set when the simulator stops; cuts injected delays short.
    """

    def __init__(
        self,
        state: State,
        *,
        faults: Faults,
        registry: Registry,
        verifier: OAuthVerifier,
        description: Description,
        stopping: threading.Event,
    ) -> None:
        self._state = state
        self._faults = faults
        self._registry = registry
        self._verifier = verifier
        self._stopping = stopping
        self._lock = threading.Lock()
        # Written by the server's threads under _lock; read through the snapshots below.
        self._request_counts: Counter[CountKey] = Counter()
        self._handled_writes: dict[CountKey, list[int]] = {}
        self._description = description
        self._routes = RoutingTable.from_description(description)

    @property
    def description(self) -> Description:
        """The description currently served."""
        with self._lock:
            return self._description

    def request_counts(self) -> Counter[CountKey]:
        """Take a snapshot of the requests received.

        Returns:
            Requests per (HTTP method, handler name, op or action name), copied under
            the lock so that iterating it races no server thread.
        """
        with self._lock:
            return Counter(self._request_counts)

    def handled_writes(self) -> dict[CountKey, list[int]]:
        """Take a snapshot of the statuses answered to non-idempotent requests.

        Returns:
            Statuses in order per (HTTP method, path, op or action name), the lists
            copied too (a server thread appends to the originals).
        """
        with self._lock:
            return {key: list(statuses) for key, statuses in self._handled_writes.items()}

    def use(self, description: Description) -> None:
        """Serve another description from the next request on.

        Args:
            description: The new description.
        """
        routes = RoutingTable.from_description(description)
        with self._lock:
            self._description, self._routes = description, routes

    def handle(self, request: ApiRequest, origin: str) -> Response | None:
        """Answer one request.

        Args:
            request: The decoded request.
            origin: ``http://127.0.0.1:<port>``, for the URIs of the describe document.

        Returns:
            The response, or None to close the connection without answering.
        """
        with self._lock:
            description, routes = self._description, self._routes
        if request.path.rstrip("/") == description.describe_path.rstrip("/"):
            verdict = self._faulted(request.method, DESCRIBE, DESCRIBE)
            if verdict is None:
                return self._describe(request, description, origin)
            return None if isinstance(verdict, _Drop) else verdict
        if request.path == description.openapi_path and description.openapi is not None:
            verdict = self._faulted(request.method, OPENAPI, OPENAPI)
            if verdict is None:
                return self._openapi(request, description.openapi)
            return None if isinstance(verdict, _Drop) else verdict
        match = routes.match(request.path)
        if match is None:
            return Response.text("Not Found", 404)
        label = action_label(request.method, request.op)
        verdict = self._faulted(request.method, match.route.primary["name"], label)
        if verdict is not None:
            return None if isinstance(verdict, _Drop) else verdict
        try:
            response = self._dispatch(request, match)
        except ApiError as error:
            response = error.to_response()
        if request.method not in _SAFE_METHODS:
            self._log_write((request.method, request.path, label), response.status)
        return response

    def _log_write(self, key: CountKey, status: int) -> None:
        with self._lock:
            if key in self._handled_writes or len(self._handled_writes) < MAX_COUNT_KEYS:
                self._handled_writes.setdefault(key, []).append(status)

    def _count(self, counter: Counter[CountKey], key: CountKey) -> None:
        with self._lock:
            if key in counter or len(counter) < MAX_COUNT_KEYS:
                counter[key] += 1

    def _faulted(self, method: str, handler: str, label: str) -> Response | _Drop | None:
        self._count(self._request_counts, (method, handler, label))
        for rule in self._faults.fire(method, handler, label):
            if rule.kind == "delay":
                if self._stopping.wait(rule.delay):
                    return _DROP
            elif rule.kind == "drop":
                return _DROP
            else:
                headers = (
                    (("Retry-After", f"{rule.retry_after:g}"),)
                    if rule.retry_after is not None
                    else ()
                )
                return Response(rule.status, rule.message.encode(), headers=headers)
        return None

    def _describe(self, request: ApiRequest, description: Description, origin: str) -> Response:
        if request.method != "GET":
            return Response(405, b"", "", (("Allow", "GET"),))
        return Response.raw_json(description.served(origin))

    def _openapi(self, request: ApiRequest, document: bytes) -> Response:
        if request.method != "GET":
            return Response(405, b"", "", (("Allow", "GET"),))
        return Response(200, document, OPENAPI_MEDIA_TYPE)

    def _dispatch(self, request: ApiRequest, match: Match) -> Response:
        # One lock for authentication and the action: tokens and users change too.
        with self._state.lock:
            return self._dispatch_locked(request, match)

    def _dispatch_locked(self, request: ApiRequest, match: Match) -> Response:
        route = match.route
        oauth = parse_authorization(request.headers.get("authorization"))
        user = None
        if oauth is not None:
            token = self._verifier.verify(oauth)
            user = self._state.users[token.username]
            handler = route.primary
        elif route.anon is not None and find_action(route.anon, request.method, request.op):
            handler = route.anon
        elif route.auth is not None:
            # piston answers an unauthenticated call with rc.FORBIDDEN, which is a 401.
            # Unlike piston, a call the anonymous handler lacks but the authenticated
            # one has also gets a 401 (piston would say "Unrecognised signature").
            raise ApiError(401, "Forbidden")
        else:
            handler = route.primary
        methods = allowed_methods(handler)
        if request.method not in methods:
            return Response(405, b"", "", (("Allow", ", ".join(methods)),))
        found = find_action(handler, request.method, request.op)
        if found is None:
            raise BadRequest(f"Unrecognised signature: method={request.method} op={request.op}")
        spec = self._registry.lookup(handler["name"], found["name"])
        if spec is None:
            if is_generic_read(handler, found):
                return Response.json([])
            raise NotModelled(handler["name"], found["name"], found["op"])
        if spec.admin and not (user and user.is_superuser):
            raise Forbidden(ADMIN_ONLY)
        context = Context(
            self._state, request, match.path_params, user, handler["name"], found["name"],
            found["op"],
        )
        self._state.settle()
        try:
            result = spec.func(context)
        finally:
            self._touch_target(request, match)
        return _to_response(result)

    def _touch_target(self, request: ApiRequest, match: Match) -> None:
        # Any change to a node through its own URL invalidates its cached JSON, so
        # action implementations cannot forget to.
        system_id = match.path_params.get("system_id")
        if request.method != "GET" and system_id is not None:
            node = self._state.machines.get(system_id)
            if isinstance(node, Machine):
                self._state.touch(node)


class _Drop:
    """Marker for "close the connection without answering"."""


_DROP = _Drop()


def is_generic_read(handler: dict[str, Any], action: dict[str, Any]) -> bool:
    """Tell whether an unmodelled action is a collection's RESTful ``read``.

    Such a read answers an empty list: the simulated region holds none of a kind it
    does not model, which is what a real region with none of them answers. This is how
    a description the package has never seen (``--description``) still lists every
    collection; anything else unmodelled answers 501.

    Args:
        handler: The handler object from the description.
        action: One of its actions.

    Returns:
        True for ``GET`` without ``op`` on a path that does not end in a placeholder.
    """
    path = str(handler.get("path", "")).rstrip("/")
    return (action.get("name") == "read" and action.get("op") is None
            and action.get("method") == "GET" and not path.endswith("}"))


def _to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response.no_content()
    if isinstance(result, bytes):
        return Response.raw_json(result)
    return Response.json(result)
