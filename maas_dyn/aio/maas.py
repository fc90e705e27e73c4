"""Async MAAS client: ``await client.machine.deploy(...)``, ``async with``.

The handlers, names, signatures and docstrings are the sync client's; only the
methods are coroutine functions. Each call runs the sync funnel (prepare, sign, send,
retry, decode, raise) in a bounded thread pool, so retries and errors behave exactly as
in the sync client and the event loop is never blocked. The sync client's total
deadline (``deadline=``, docs/limits.md) bounds each call, so a hostile server cannot
hold the pool's threads either.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from maas_dyn._dynamic import Operation, lazy_namespace
from maas_dyn.aio._connecting import Connecting
from maas_dyn.maas.client import Client
from maas_dyn.maas.describe import HandlerSpec
from maas_dyn.maas.resources import Binder, ResourceIndex, handler_class_with_get

__all__ = ["AsyncClient", "connect"]


class AsyncClient:
    """An async view of a :class:`maas_dyn.maas.Client`.

    Args:
        client: The sync client whose funnel the calls go through.
        max_workers: Calls in flight at once (the thread pool's size).

    Example::

        async with maas_dyn.aio.maas.connect(url, api_key=key) as maas:
            machines = await maas.machines.read()
            await asyncio.gather(*(maas.machine.deploy(m["system_id"]) for m in machines))
    """

    def __init__(self, client: Client, max_workers: int = 16):
        self.client = client
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="maas_dyn-aio")
        # Answers become resources with coroutine methods, like the sync client's
        # (unless it was built with resources=False).
        index = ResourceIndex(client.description)
        self._binder = Binder(index, self.__dict__.__getitem__, waiter_client=self,
                              asynchronous=True, module=__name__) \
            if client._resources else None
        for spec in client.description.handlers.values():
            self.__dict__[spec.name] = lazy_namespace(
                partial(handler_class_with_get, index, self.__dict__.__getitem__, spec,
                        asynchronous=True, module=__name__),
                partial(self._invoke, spec), spec.name,
            )

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...

    async def _invoke(self, spec: HandlerSpec, operation: Operation, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        call = partial(self.client._invoke, spec, operation, args, kwargs, self._binder)
        return await loop.run_in_executor(self._executor, call)

    async def call(self, handler: str, action: str, *args: Any, **kwargs: Any) -> Any:
        """Call an action by name (see :meth:`maas_dyn.maas.Client.call`)."""
        loop = asyncio.get_running_loop()
        call = partial(self.client.call, handler, action, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    async def aclose(self) -> None:
        """Wait for calls in flight, stop the pool and close the sync client."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._executor.shutdown)
        # Closing a session closes its pooled sockets: a thread's work, not the loop's.
        await loop.run_in_executor(None, self.client.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<maas_dyn.aio.maas.AsyncClient {self.client.url}>"


def connect(url: str, api_key: str | None = None, *, max_workers: int = 16,
            **options: Any) -> Connecting[AsyncClient]:
    """Connect without blocking the event loop (the describe fetch runs in a thread).

    Args:
        url: The region's URL.
        api_key: ``consumer:token:secret``; ``None`` for anonymous use.
        max_workers: Calls in flight at once.
        **options: See :class:`maas_dyn.maas.Client`.

    Returns:
        The pending client: ``await`` it, or use it in ``async with`` (which closes it).
    """
    return Connecting(partial(_connect, url, api_key, max_workers=max_workers, **options))


async def _connect(url: str, api_key: str | None, *, max_workers: int,
                   **options: Any) -> AsyncClient:
    loop = asyncio.get_running_loop()
    client = await loop.run_in_executor(None, partial(Client, url, api_key, **options))
    return AsyncClient(client, max_workers=max_workers)
