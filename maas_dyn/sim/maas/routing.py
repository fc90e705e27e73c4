"""Routing built from the description: path templates -> handlers -> actions.

Nothing here names a handler. Every resource contributes its ``auth`` handler (and its
``anon`` fallback for unauthenticated callers) under its path template; an action is
then chosen like piston does: by ``op`` when one is given, else RESTfully by method.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from maas_dyn.sim.maas.describe import Description, HandlerRef

RESTFUL_ACTIONS = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class Route:
    """One path template and the handlers that answer it.

    Attributes:
        template: The path template from the description.
        params: Placeholder names in order.
        pattern: Compiled matcher; a trailing slash is optional.
        auth: Handler for authenticated callers (None when the resource is anon-only).
        anon: Handler for unauthenticated callers (None when there is none).
    """

    template: str
    params: tuple[str, ...]
    pattern: re.Pattern[str] = field(compare=False)
    auth: dict[str, Any] | None
    anon: dict[str, Any] | None

    @property
    def primary(self) -> dict[str, Any]:
        """The handler an authenticated caller reaches (auth, else anon)."""
        handler = self.auth or self.anon
        assert handler is not None  # a route is only built with at least one handler
        return handler


@dataclass(frozen=True)
class Match:
    """A request path matched to a route.

    Attributes:
        route: The route.
        path_params: Placeholder name -> URL-decoded value.
    """

    route: Route
    path_params: dict[str, str]


class RoutingTable:
    """All routes of one description, most specific template first.

    Args:
        routes: The routes.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        # More literal characters = more specific; try those before looser templates.
        self.routes = sorted(routes, key=lambda route: -len(_PLACEHOLDER.sub("", route.template)))

    @classmethod
    def from_description(cls, description: Description) -> RoutingTable:
        """Build the table from every resource of a description.

        Args:
            description: The served description.

        Returns:
            The table.
        """
        sides: dict[str, dict[str, dict[str, Any]]] = {}
        by_resource: dict[str, dict[str, HandlerRef]] = {}
        for ref in description.handlers():
            by_resource.setdefault(ref.resource, {})[ref.side] = ref
        for refs in by_resource.values():
            auth, anon = refs.get("auth"), refs.get("anon")
            # Every resource has at least one side, else it would not be listed.
            home = auth or refs["anon"]
            entry = sides.setdefault(home.handler["path"], {})
            if auth:
                entry.setdefault("auth", auth.handler)
            if anon:
                # piston falls back to the anonymous handler on the resource's own URL;
                # the anonymous handler also answers on its own path.
                entry.setdefault("anon", anon.handler)
                sides.setdefault(anon.handler["path"], {}).setdefault("anon", anon.handler)
        return cls(_route(template, entry) for template, entry in sides.items())

    def match(self, path: str) -> Match | None:
        """Find the route for a request path.

        Args:
            path: The URL path, still percent-encoded.

        Returns:
            The match, or None when no template fits.
        """
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                values = (unquote(value) for value in found.groups())
                return Match(route, dict(zip(route.params, values, strict=True)))
        return None


def find_action(handler: dict[str, Any], method: str, op: str | None) -> dict[str, Any] | None:
    """Choose the action of a handler for a method and ``op``.

    Args:
        handler: A handler from the description.
        method: The HTTP method.
        op: The ``op`` parameter, or None for a RESTful call.

    Returns:
        The action, or None when the handler has no such signature.
    """
    actions: list[dict[str, Any]] = handler["actions"]
    for action in actions:
        if action["method"] != method:
            continue
        if (op is None and action["restful"]) or (op is not None and action["op"] == op):
            return action
    return None


def allowed_methods(handler: dict[str, Any]) -> list[str]:
    """List the HTTP methods a handler answers.

    Args:
        handler: A handler from the description.

    Returns:
        Sorted method names.
    """
    return sorted({action["method"] for action in handler["actions"]})


def action_label(method: str, op: str | None) -> str:
    """Name a call the way ``request_counts`` keys it: the op, else the RESTful action.

    Args:
        method: The HTTP method.
        op: The ``op`` parameter or None.

    Returns:
        E.g. ``"deploy"`` or ``"read"``.
    """
    return op if op is not None else RESTFUL_ACTIONS.get(method, method.lower())


def _route(template: str, entry: dict[str, dict[str, Any]]) -> Route:
    params = tuple(_PLACEHOLDER.findall(template))
    pieces = _PLACEHOLDER.split(template.rstrip("/"))
    # split() alternates literal text and placeholder names.
    regex = "".join(
        re.escape(piece) if index % 2 == 0 else "([^/]+)" for index, piece in enumerate(pieces)
    )
    return Route(
        template, params, re.compile(f"^{regex}/?$"), entry.get("auth"), entry.get("anon")
    )
