"""The table of modelled actions: (handler name, action name) -> implementation.

Handler modules register their functions with :func:`action`; anything the description
offers that is not in this table answers HTTP 501. The table is also what
``MODELLED.md`` is generated from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from maas_dyn.sim.maas.models import User
from maas_dyn.sim.maas.request import ApiRequest, Params
from maas_dyn.sim.maas.responses import NotModelled
from maas_dyn.sim.maas.state import State

ADMIN_ONLY = "This method is reserved for admin users."


@dataclass(frozen=True)
class Context:
    """Everything an action implementation may use.

    Attributes:
        state: The region (its lock is held while the action runs).
        request: The decoded request.
        path: Path parameters by placeholder name.
        user: The authenticated user, None for anonymous calls.
        handler: Handler name from the description.
        action: Action name from the description.
        op: The ``op`` of the call, None for RESTful calls.
    """

    state: State
    request: ApiRequest
    path: dict[str, str]
    user: User | None
    handler: str
    action: str
    op: str | None

    @property
    def params(self) -> Params:
        """Parameters of the call: the body for POST/PUT, the query string otherwise."""
        return self.request.data

    @property
    def username(self) -> str:
        """Name of the caller, "" when anonymous."""
        return self.user.username if self.user else ""

    @property
    def is_admin(self) -> bool:
        """True when the caller is a superuser."""
        return bool(self.user and self.user.is_superuser)

    def arg(self, name: str) -> str:
        """Return a path parameter by the name MAAS 3.x gives it.

        Older descriptions name some placeholders differently (``{interface_id}`` for
        ``{id}``); an action reached through such a path is not modelled.

        Args:
            name: Placeholder name.

        Returns:
            The URL-decoded value.

        Raises:
            NotModelled: The description has no placeholder of that name.
        """
        value = self.path.get(name)
        if value is None:
            raise self.not_modelled(
                f"path parameter {name!r} (this description has {sorted(self.path)})"
            )
        return value

    def not_modelled(self, detail: str) -> NotModelled:
        """Build the 501 error for a part of this action the simulator lacks.

        Args:
            detail: What is missing, e.g. ``"storage layout 'vmfs6'"``.

        Returns:
            The error, to be raised.
        """
        return NotModelled(self.handler, self.action, self.op, detail)


ActionFunc = Callable[[Context], Any]
F = TypeVar("F", bound=ActionFunc)


@dataclass(frozen=True)
class ActionSpec:
    """One modelled action.

    Attributes:
        handler: Handler name.
        action: Action name.
        func: The implementation.
        admin: Whether only superusers may call it.
    """

    handler: str
    action: str
    func: ActionFunc
    admin: bool


class Registry:
    """Modelled actions by (handler, action)."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str], ActionSpec] = {}

    def register(
        self, handlers: str | tuple[str, ...], name: str, *, admin: bool = False
    ) -> Callable[[F], F]:
        """Register a function for an action of one or several handlers.

        Args:
            handlers: A handler name or several sharing the implementation.
            name: The action name.
            admin: Whether only superusers may call it.

        Returns:
            A decorator that registers and returns the function.

        Raises:
            ValueError: The pair is registered twice.
        """
        names = (handlers,) if isinstance(handlers, str) else handlers

        def decorate(func: F) -> F:
            for handler in names:
                key = (handler, name)
                if key in self._specs:
                    raise ValueError(f"{handler}.{name} is registered twice")
                self._specs[key] = ActionSpec(handler, name, func, admin)
            return func

        return decorate

    def lookup(self, handler: str, name: str) -> ActionSpec | None:
        """Return the implementation of an action.

        Args:
            handler: Handler name.
            name: Action name.

        Returns:
            The spec or None when the action is not modelled.
        """
        return self._specs.get((handler, name))

    def modelled(self) -> list[ActionSpec]:
        """List every modelled action, sorted by handler then action.

        Returns:
            The specs.
        """
        return [self._specs[key] for key in sorted(self._specs)]


REGISTRY = Registry()
action = REGISTRY.register
