"""Tests of the async MAAS facade (maas_dyn/aio/maas.py)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.aio.maas import AsyncClient, connect
from maas_dyn.maas import Client, MockTransport, RawResponse
from maas_dyn.maas.encode import PreparedRequest

JSON = {"Content-Type": "application/json"}


def make_client(handler: Any) -> Client:
    return Client.from_release("3.7", url="http://127.0.0.1:5240/MAAS/", api_key="c:t:s",
                               transport=MockTransport(handler))


@pytest.mark.asyncio
async def test_methods_are_coroutines_with_the_same_signature() -> None:
    sync = make_client(lambda r, a: RawResponse(200, JSON, b"{}"))
    async with AsyncClient(sync) as client:
        assert inspect.iscoroutinefunction(client.machine.deploy)
        assert inspect.signature(client.machine.deploy) == inspect.signature(sync.machine.deploy)
        assert "distro_series" in client.machine.deploy.__doc__
        assert await client.machine.deploy("abc", distro_series="jammy") == {}
        assert await client.call("users", "whoami") == {}


@pytest.mark.asyncio
async def test_fan_out_runs_in_parallel_without_blocking_the_loop() -> None:
    barrier = threading.Barrier(8, timeout=10)

    def handler(request: PreparedRequest, authorization: str | None) -> RawResponse:
        barrier.wait()  # only passes if 8 calls are in flight at once
        return RawResponse(200, JSON, b'{"status_name": "Deploying"}')

    async with AsyncClient(make_client(handler), max_workers=8) as client:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            deadline = time.monotonic() + 30  # cancelled once the calls are done
            while time.monotonic() < deadline:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        try:
            results = await asyncio.gather(*(client.machine.deploy(f"m{i}") for i in range(8)))
        finally:
            task.cancel()
        assert all(r == {"status_name": "Deploying"} for r in results)
        assert ticks > 0


@pytest.mark.asyncio
async def test_errors_are_the_sync_clients() -> None:
    async with AsyncClient(make_client(lambda r, a: RawResponse(404, {}, b""))) as client:
        with pytest.raises(errors.MachineNotFoundError):
            await client.machine.read("nope")
        with pytest.raises(errors.UnknownHandlerError):
            await client.call("nope", "read")


@pytest.mark.asyncio
async def test_connect_runs_the_fetch_off_the_loop() -> None:
    with pytest.raises(errors.ConnectionFailed):
        await connect("http://127.0.0.1:9/MAAS/", cache=False,
                      retry=__import__("maas_dyn").RetryPolicy.never())
    assert "AsyncClient" in repr(AsyncClient(make_client(lambda r, a: RawResponse(200))))


@pytest.mark.asyncio
async def test_connect_works_in_async_with_and_closes_on_the_way_out() -> None:
    from maas_dyn.sim.maas import MAASSimulator

    with MAASSimulator(machines=2) as sim:
        async with connect(sim.url, api_key=sim.api_key, cache=False) as maas:
            assert isinstance(maas, AsyncClient)
            assert len(await maas.machines.read()) == 2
        assert maas._executor._shutdown  # aclose ran
        client = await connect(sim.url, api_key=sim.api_key, cache=False)  # plain await too
        async with client:
            assert (await client.users.whoami())["username"]
    assert "async with" in repr(connect("http://127.0.0.1:9/MAAS/"))
