"""What the async ``connect()`` functions return: await it, or enter it with ``async with``.

``client = await connect(...)`` and ``async with connect(...) as client:`` both work, as
with aiohttp's ``session.get()``; the second closes the client on the way out. Without
this, ``async with connect(...)`` raised ``TypeError`` and users had to write
``async with await connect(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Connecting"]


class _Closable(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class Connecting(Generic[C]):
    """A pending connection: awaitable, and an async context manager that closes it.

    Args:
        opening: Returns the coroutine that connects and returns the client; called only
            when the connection is awaited or entered, so one never used warns of nothing.
    """

    def __init__(self, opening: Callable[[], Coroutine[Any, Any, C]]):
        self._opening = opening
        self._client: C | None = None

    def __await__(self) -> Generator[Any, None, C]:
        return self._opening().__await__()

    async def __aenter__(self) -> C:
        self._client = await self._opening()
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def __repr__(self) -> str:
        return "<maas_dyn.aio connection: await it, or use it in `async with`>"
