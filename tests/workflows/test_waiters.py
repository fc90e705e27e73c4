"""Tests of maas_dyn/workflows/waiters.py with a scripted fake client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from maas_dyn.errors import WaiterError
from maas_dyn.workflows.waiters import WAITERS, Progress, get_waiter


class FakeClient:
    """Answers `call()` with one scripted result after another."""

    def __init__(self, results: list[Any]):
        self.results: Iterator[Any] = iter(results)
        self.calls: list[tuple[Any, ...]] = []

    def call(self, handler: str, action: str, *args: Any) -> Any:
        self.calls.append((handler, action, *args))
        return next(self.results)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def status(name: str, message: str = "") -> dict[str, str]:
    return {"status_name": name, "status_message": message}


def waiter(name: str, results: list[Any], **overrides: Any) -> tuple[Any, FakeClient, FakeClock]:
    client, clock = FakeClient(results), FakeClock()
    return get_waiter(client, name, sleep=clock.sleep, clock=clock, **overrides), client, clock


def test_waits_through_transitional_states() -> None:
    w, client, clock = waiter("machine_deployed", [status("Allocated"), status("Deploying"),
                                                   status("Deployed")], interval=10)
    seen: list[Progress] = []
    assert w.wait("abc", on_progress=seen.append)["status_name"] == "Deployed"
    assert client.calls == [("machine", "read", "abc")] * 3
    assert [p.state for p in seen] == ["Allocated", "Deploying", "Deployed"]
    assert seen[-1].polls == 3 and seen[-1].target == "abc"
    assert clock.now == 20


def test_failure_state_says_where_it_stopped() -> None:
    w, _, _ = waiter("machine_deployed", [status("Deploying"),
                                          status("Failed deployment", "curtin failed")])
    with pytest.raises(WaiterError, match="reached 'Failed deployment' \\(curtin failed\\)") as info:
        w.wait("abc")
    assert info.value.last_state == "Failed deployment"
    assert info.value.reason == "failure"


def test_timeout_says_the_last_state() -> None:
    w, client, clock = waiter("machine_commissioned", [status("Commissioning")] * 100,
                              interval=10, timeout=35)
    with pytest.raises(WaiterError, match="gave up .* after 35 s; last state 'Commissioning'") as info:
        w.wait("abc")
    assert info.value.reason == "timeout"
    assert len(client.calls) == 4 and clock.now == 30


def test_power_waiter_reads_its_own_field() -> None:
    w, client, _ = waiter("machine_powered_on", [{"state": "off"}, {"state": "on"}])
    assert w.wait("abc", interval=0.5) == {"state": "on"}
    assert client.calls[0] == ("machine", "query_power_state", "abc")


def test_unknown_states_and_non_mapping_results_are_waited_through() -> None:
    w, _, _ = waiter("machine_released", ["garbage", status("Quantum"), status("Ready")])
    assert w.wait("abc", interval=1)["status_name"] == "Ready"


def test_unknown_waiter_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="machine_deployed"):
        get_waiter(FakeClient([]), "machine_exploded")


def test_every_waiter_has_disjoint_success_and_failure() -> None:
    for name, spec in WAITERS.items():
        assert not spec.success & spec.failure, name
        assert spec.interval > 0 and spec.timeout > spec.interval, name


@pytest.mark.parametrize(("states", "outcome"), [
    (["Deploying", "Deployed"], "Deployed"),
    (["Releasing", "Disk erasing", "Ready"], "Ready"),
    (["Testing", "A status from a future release"], "A status from a future release"),
    (["Commissioning", "Failed to frobnicate"], "failure"),
    (["Deploying", "Broken"], "failure"),
])
def test_settled_waiter(states: list[str], outcome: str) -> None:
    w, _, _ = waiter("machine_settled", [status(s) for s in states], interval=1)
    if outcome == "failure":
        with pytest.raises(WaiterError) as info:
            w.wait("abc")
        assert info.value.last_state == states[-1]
        assert info.value.result == status(states[-1])
    else:
        assert w.wait("abc")["status_name"] == outcome


def test_every_waiter_row_names_a_known_request_shape() -> None:
    from maas_dyn.workflows.waiters import REQUESTS

    assert {spec.request for spec in WAITERS.values()} <= set(REQUESTS)


def test_truenas_job_waiter_polls_core_get_jobs_and_drops_arguments() -> None:
    job = {"id": 4, "state": "RUNNING", "arguments": ["secret"], "credentials": {"k": 1}}
    w, client, _ = waiter("truenas_job", [job, {**job, "state": "SUCCESS", "result": 5}],
                          interval=1)
    seen: list[Progress] = []
    result = w.wait(4, on_progress=seen.append)
    assert result == {"id": 4, "state": "SUCCESS", "result": 5}
    assert client.calls[0] == ("core.get_jobs", [["id", "=", 4]], {"get": True})
    assert all("arguments" not in p.result and "credentials" not in p.result for p in seen)


def test_truenas_job_failure_quotes_the_jobs_error() -> None:
    failed = {"id": 4, "state": "FAILED", "error": "disk on fire", "arguments": ["pw"]}
    w, _, _ = waiter("truenas_job", [failed])
    with pytest.raises(WaiterError, match=r"reached 'FAILED' \(disk on fire\)") as info:
        w.wait(4)
    assert "arguments" not in info.value.result


def test_truenas_job_waiter_against_the_simulator() -> None:
    from maas_dyn.sim.truenas import TrueNASSimulator
    from maas_dyn.truenas import Client

    with TrueNASSimulator(speed=1000.0) as sim, Client(
            sim.url, username=sim.username, password=sim.password, cache=False) as nas:
        job = nas.pool.create({"name": "tank", "topology": {"data": [
            {"type": "MIRROR", "disks": ["sda", "sdb"]}]}})
        done = get_waiter(nas, "truenas_job", interval=0.02, timeout=10).wait(job.id)
        assert done["state"] == "SUCCESS" and done["result"]["name"] == "tank"
        assert "arguments" not in done


class AsyncFakeClient(FakeClient):
    async def call(self, handler: str, action: str, *args: Any) -> Any:  # type: ignore[override]
        return FakeClient.call(self, handler, action, *args)


@pytest.mark.asyncio
async def test_wait_async_polls_without_blocking() -> None:
    client = AsyncFakeClient([status("Deploying"), status("Deployed")])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    w = get_waiter(client, "machine_deployed", interval=3, async_sleep=sleep)
    assert (await w.wait_async("abc"))["status_name"] == "Deployed"
    assert slept == [3] and client.calls == [("machine", "read", "abc")] * 2


@pytest.mark.asyncio
async def test_wait_async_failure_and_timeout() -> None:
    w = get_waiter(AsyncFakeClient([status("Failed deployment")]), "machine_deployed")
    with pytest.raises(WaiterError, match="reached 'Failed deployment'"):
        await w.wait_async("abc")
    clock = FakeClock()

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    w = get_waiter(AsyncFakeClient([status("Deploying")] * 10), "machine_deployed",
                   interval=1, timeout=2, clock=clock, async_sleep=sleep)
    with pytest.raises(WaiterError, match="gave up") as info:
        await w.wait_async("abc")
    assert info.value.reason == "timeout" and info.value.last_state == "Deploying"


@pytest.mark.asyncio
async def test_wait_async_with_the_async_maas_client() -> None:
    from maas_dyn.aio.maas import AsyncClient
    from maas_dyn.maas import Client
    from maas_dyn.sim.maas import MAASSimulator

    with MAASSimulator(machines=4, speed=20_000.0) as sim:
        sync = Client.from_release("3.7", url=sim.url, api_key=sim.api_key, cache=False)
        async with AsyncClient(sync) as maas:
            ready = [m["system_id"] for m in await maas.machines.read(status="ready")]
            await asyncio.gather(*(maas.machine.deploy(i) for i in ready))
            waiter = get_waiter(maas, "machine_deployed", interval=0.01, timeout=10)
            done = await asyncio.gather(*(waiter.wait_async(i) for i in ready))
    assert ready and {m["status_name"] for m in done} == {"Deployed"}


def test_a_timeout_is_also_a_timeout_error_and_waiters_read_well() -> None:
    from maas_dyn.errors import WaiterTimeoutError
    from maas_dyn.workflows.waiters import get_waiter

    class Stuck:
        def call(self, *args: object) -> dict[str, str]:
            return {"status_name": "Deploying"}

    waiter = get_waiter(Stuck(), "machine_deployed", interval=1, timeout=2,
                        sleep=lambda s: None, clock=iter(range(100)).__next__)
    assert repr(waiter) == ("<Waiter 'machine_deployed': polls machine.read every 1 s until "
                            "status_name is Deployed, up to 2 s>")
    with pytest.raises(TimeoutError) as caught:
        waiter.wait("abc")
    assert isinstance(caught.value, WaiterTimeoutError) and caught.value.reason == "timeout"
    assert caught.value.last_state == "Deploying"


def test_polls_that_get_no_answer_are_waited_through_until_the_timeout() -> None:
    from maas_dyn.errors import ConnectionFailed, ServiceUnavailableError, WaiterTimeoutError

    answers: list[Any] = [{"status_name": "Deploying"}, ConnectionFailed("refused"),
                          ServiceUnavailableError("starting", status=503),
                          {"status_name": "Deployed"}]

    class Restarting:
        def call(self, *args: object) -> Any:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    seen: list[tuple[str, str]] = []
    waiter = get_waiter(Restarting(), "machine_deployed", interval=1, timeout=60,
                        sleep=lambda s: None, clock=iter(range(100)).__next__)
    assert waiter.wait("abc", on_progress=lambda p: seen.append((p.state, p.error[:17])))[
        "status_name"] == "Deployed"
    assert seen == [("Deploying", ""), ("Deploying", "ConnectionFailed:"),
                    ("Deploying", "ServiceUnavailabl"), ("Deployed", "")]

    class Gone:
        def call(self, *args: object) -> Any:
            raise ConnectionFailed("refused")

    with pytest.raises(WaiterTimeoutError, match="the last poll got no answer"):
        get_waiter(Gone(), "machine_deployed", interval=1, timeout=3, sleep=lambda s: None,
                   clock=iter(range(100)).__next__).wait("abc")
