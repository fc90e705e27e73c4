"""Event hooks on a dialect's call funnel.

Recording, the stubber, fault injection and custom logging attach here instead of
being sprinkled over call sites. Events of the MAAS funnel: ``before-send`` (the
prepared request and the attempt number, before signing) and ``after-receive`` (the
response, before errors are raised).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Hooks"]


class Hooks:
    """A small registry of callbacks per event name."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {}

    def register(self, event: str, handler: Callable[..., Any]) -> None:
        """Call ``handler(**payload)`` each time ``event`` is emitted.

        Args:
            event: Event name, e.g. ``"before-send"``.
            handler: Callable taking the event's keyword arguments.
        """
        self._handlers.setdefault(event, []).append(handler)

    def unregister(self, event: str, handler: Callable[..., Any]) -> None:
        """Stop calling ``handler`` for ``event`` (no error if it was not registered)."""
        handlers = self._handlers.get(event, [])
        if handler in handlers:
            handlers.remove(handler)

    def emit(self, event: str, **payload: Any) -> None:
        """Call every handler of ``event`` with ``payload``, in registration order."""
        for handler in tuple(self._handlers.get(event, ())):
            handler(**payload)
