"""Shared pieces of the health sources: read-once caching and the server's clock.

A *source* wraps a client and reads each thing the rules need at most once per check;
a failed read is remembered too, so every rule that needs it reports the same error
without asking the server again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from maas_dyn.errors import MaasDynError

__all__ = ["age_text", "http_date", "once"]

T = TypeVar("T")
R = TypeVar("R")


def once(method: Callable[[T], R]) -> Callable[[T], R]:
    """Cache a source's read, or the :class:`MaasDynError` it raised, on the instance.

    The instance needs a ``_cache`` dict.

    Args:
        method: A method without arguments.

    Returns:
        The caching method.
    """
    name = method.__name__

    @functools.wraps(method)
    def read(self: T) -> R:
        cache: dict[str, tuple[bool, Any]] = self._cache  # type: ignore[attr-defined]
        if name not in cache:
            try:
                cache[name] = (True, method(self))
            except MaasDynError as exc:
                cache[name] = (False, exc)
        ok, value = cache[name]
        if not ok:
            raise value
        result: R = value
        return result

    return read


def http_date(headers: Mapping[str, str] | None) -> datetime:
    """The server's clock from a response's ``Date`` header, else this machine's clock.

    Ages are measured against the server's clock so that a skewed client clock does not
    make machines look stuck or events look old.

    Args:
        headers: Response headers (case-insensitive mapping), or ``None``.

    Returns:
        An aware UTC datetime.
    """
    raw = headers.get("Date") if headers is not None else None
    if raw:
        try:
            return parsedate_to_datetime(raw).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass  # a malformed header: fall back to our own clock
    return datetime.now(timezone.utc)


# (seconds per unit, suffix), largest first.
_UNITS = ((86400, "d"), (3600, "h"), (60, "m"), (1, "s"))


def age_text(seconds: float | None) -> str:
    """Format a duration for people, e.g. ``2h 5m``.

    Args:
        seconds: The duration, or ``None`` when unknown.

    Returns:
        The two largest units, ``unknown`` for ``None``.
    """
    if seconds is None:
        return "unknown"
    remaining = max(0, int(seconds))
    parts: list[str] = []
    for size, suffix in _UNITS:
        if remaining >= size or (suffix == "s" and not parts):
            parts.append(f"{remaining // size}{suffix}")
            remaining %= size
    return " ".join(parts[:2])
