"""Tests of the async TrueNAS facade (maas_dyn/aio/truenas.py) against the simulator."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from maas_dyn import errors
from maas_dyn.aio.truenas import AsyncClient, AsyncJob, connect
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client
from maas_dyn.truenas.messages import Event

MIRROR = {"name": "tank", "topology": {"data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}}


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(speed=500.0) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def nas(sim: TrueNASSimulator) -> AsyncIterator[AsyncClient]:
    async with await connect(sim.url, username=sim.username, password=sim.password,
                             cache=False, job_poll_interval=0.5) as client:
        yield client


@pytest.mark.asyncio
async def test_methods_are_coroutines_with_the_sync_signatures(nas: AsyncClient) -> None:
    assert inspect.iscoroutinefunction(nas.pool.dataset.query)
    assert inspect.signature(nas.pool.dataset.query) == \
        inspect.signature(nas.client.pool.dataset.query)
    assert nas.pool.dataset.query.__doc__ == nas.client.pool.dataset.query.__doc__
    assert await nas.core.ping() == "pong"
    assert await nas.call("core.ping") == "pong"
    assert "AsyncClient ws://127.0.0.1" in repr(nas)


@pytest.mark.asyncio
async def test_calls_run_concurrently_without_blocking_the_loop(
        sim: TrueNASSimulator, nas: AsyncClient) -> None:
    sim.faults.slow_replies(0.3, method="core.ping")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        deadline = time.monotonic() + 30  # cancelled once the calls are done
        while time.monotonic() < deadline:
            ticks += 1
            await asyncio.sleep(0.005)

    def client_threads() -> set[str]:
        # The simulator's call threads do not count, nor the MAAS client's process-wide
        # deadline watchdog, which earlier tests may leave to end on its own.
        return {t.name for t in threading.enumerate()
                if not t.name.startswith(("sim-", "maas_dyn-deadline"))}

    threads = client_threads()
    task = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        replies = await asyncio.gather(*(nas.core.ping() for _ in range(10)))
        elapsed = time.monotonic() - started
    finally:
        task.cancel()
    assert replies == ["pong"] * 10
    assert elapsed < 1.5, elapsed  # ten 0.3 s calls one after the other would take 3 s
    assert ticks >= 20  # the loop kept running while the replies were awaited
    assert client_threads() == threads  # no thread per call


@pytest.mark.asyncio
async def test_more_calls_than_slots_wait_in_the_loop(sim: TrueNASSimulator) -> None:
    async with await connect(sim.url, username=sim.username, password=sim.password,
                             cache=False, max_in_flight=2) as nas:
        assert await asyncio.gather(*(nas.core.ping() for _ in range(25))) == ["pong"] * 25


@pytest.mark.asyncio
async def test_job_wait_follows_progress_to_the_result(nas: AsyncClient) -> None:
    job = await nas.pool.create(MIRROR)
    assert isinstance(job, AsyncJob) and f"AsyncJob {job.id} pool.create" in repr(job)
    seen: list[dict[str, Any]] = []
    pool = await job.wait(timeout=30, on_progress=seen.append)
    assert pool["name"] == "tank" and job.state == "SUCCESS" and job.done
    assert seen and seen[-1]["percent"] == 100
    assert "arguments" not in job.record
    assert repr(job).endswith("SUCCESS>")
    assert await nas.call("pool.query", [["name", "=", "tank"]], {"select": ["name"]}) == \
        [{"name": "tank"}]


@pytest.mark.asyncio
async def test_call_with_job_true_waits_and_validation_failures_are_typed(
        nas: AsyncClient) -> None:
    progress: list[dict[str, Any]] = []
    pool = await nas.call("pool.create", MIRROR, job=True, timeout=30, on_progress=progress.append)
    assert pool["name"] == "tank" and progress
    with pytest.raises(errors.JobValidationFailed) as info:
        await nas.call("pool.create", MIRROR, job=True, timeout=30)
    assert any("already exists" in message for _, message, _ in info.value.errors)
    with pytest.raises(errors.ConfigurationError, match="did not start a job"):
        await nas.call("core.ping", job=True)


@pytest.mark.asyncio
async def test_failed_and_timed_out_jobs(sim: TrueNASSimulator, nas: AsyncClient) -> None:
    sim.faults.fail_jobs("pool.create", count=1, errmsg="disk on fire")
    with pytest.raises(errors.JobFailed, match="disk on fire"):
        await (await nas.pool.create(MIRROR)).wait(timeout=30)
    sim.faults.slow_replies(5.0, method="pool.create")
    started = time.monotonic()
    with pytest.raises(errors.Timeout, match="got no answer within 0.2 s"):
        await nas.call("pool.create", MIRROR, timeout=0.2)
    assert time.monotonic() - started < 2
    sim.faults.clear()
    # The timed-out call gave its slot back: the connection still takes calls.
    assert await asyncio.gather(*(nas.core.ping() for _ in range(10))) == ["pong"] * 10


@pytest.mark.asyncio
async def test_job_timeout_leaves_it_running_and_abort_stops_it() -> None:
    with TrueNASSimulator(speed=5.0) as slow:  # a full wipe takes 2 s here
        async with await connect(slow.url, username=slow.username, password=slow.password,
                                 cache=False) as nas:
            job = await nas.disk.wipe("sdc", "FULL")
            with pytest.raises(errors.Timeout, match="keeps running on the server"):
                await job.wait(timeout=0.05)
            await job.abort()
            with pytest.raises(errors.JobFailed, match="aborted"):
                await job.wait(timeout=30)
            assert job.state == "ABORTED"


@pytest.mark.asyncio
async def test_server_errors_keep_their_types(nas: AsyncClient) -> None:
    with pytest.raises(errors.MethodNotFound):
        await nas.call("no.such.method")
    with pytest.raises(errors.InvalidParametersError):
        await nas.pool.dataset.query("not a filter list")
    with pytest.raises(errors.CallError, match="no job 99999"):
        await AsyncJob(nas, 99999, "pool.create").refresh()


@pytest.mark.asyncio
async def test_polls_when_the_server_offers_no_job_events(
        nas: AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise errors.CallError("no events here", errname="ENOTSUP")

    monkeypatch.setattr(nas.client, "subscribe", refuse)
    pool = await (await nas.pool.create(MIRROR)).wait(timeout=30)
    assert pool["name"] == "tank"


@pytest.mark.asyncio
async def test_reconnects_after_the_server_dropped_the_session(
        sim: TrueNASSimulator, nas: AsyncClient) -> None:
    assert await nas.core.ping() == "pong"
    sim.restart()
    for _ in range(100):  # bounded: the drop is noticed by the reader within moments
        if not nas.client.connected:
            break
        await asyncio.sleep(0.02)
    assert await nas.core.ping() == "pong"


@pytest.mark.asyncio
async def test_a_poll_over_a_dropped_connection_is_retried(
        sim: TrueNASSimulator, nas: AsyncClient) -> None:
    job = await nas.pool.create(MIRROR)
    sim.faults.drop_connection(1, method="core.get_jobs")
    assert (await job.wait(timeout=30))["name"] == "tank"


@pytest.mark.asyncio
async def test_waiting_gives_up_naming_the_job_when_the_server_stays_away() -> None:
    # At speed 1 a FULL wipe takes 50 real seconds, so it cannot end before the server
    # goes away, however slow this machine; the server stays away until the test is done.
    with TrueNASSimulator(speed=1.0) as sim:
        async with await connect(sim.url, username=sim.username, password=sim.password,
                                 cache=False, job_poll_interval=0.05,
                                 retry=RetryPolicy.never()) as nas:
            job = await nas.disk.wipe("sda", "FULL")
            down = threading.Event()
            restarting = threading.Thread(target=sim.restart,
                                          kwargs={"downtime": 120.0, "on_down": down.set})
            restarting.start()
            loop = asyncio.get_running_loop()
            try:
                assert await loop.run_in_executor(None, down.wait, 30), "never went down"
                with pytest.raises(errors.ConnectionClosed) as caught:
                    await job.wait(timeout=30)
            finally:
                sim.stop()  # ends the downtime
                await loop.run_in_executor(None, restarting.join, 10)
    assert not restarting.is_alive()
    assert f"job {job.id} (disk.wipe)" in str(caught.value)
    assert caught.value.method == "disk.wipe"


@pytest.mark.asyncio
async def test_events_of_other_jobs_and_late_events_are_ignored(nas: AsyncClient) -> None:
    job = AsyncJob(nas, 7, "pool.create")
    nas._watch(job)
    nas._job_event(Event("changed", "core.get_jobs", 8, {"state": "RUNNING"}))
    nas._job_event(Event("changed", "core.get_jobs", None, {"id": 7, "state": "SUCCESS"}))
    nas._job_event(Event("changed", "core.get_jobs", 7, {"state": "RUNNING"}))
    nas._job_event(Event("removed", "core.get_jobs", "x", None))
    nas._unwatch(job)
    assert job.state == "SUCCESS" and job.progress == {}


@pytest.mark.asyncio
async def test_wrapping_an_existing_client(sim: TrueNASSimulator) -> None:
    sync = Client(sim.url, username=sim.username, password=sim.password, cache=False)
    client = AsyncClient(sync)
    assert await client.disk.details() == sync.disk.details()
    await client.aclose()
    assert not sync.connected


@pytest.mark.asyncio
async def test_connect_works_in_async_with_without_await(sim: TrueNASSimulator) -> None:
    async with connect(sim.url, username=sim.username, password=sim.password,
                       cache=False) as client:
        assert (await client.call("system.info"))["version"]
    with pytest.raises(errors.ConnectionClosed):  # closed on the way out
        client.client.call("system.info")
