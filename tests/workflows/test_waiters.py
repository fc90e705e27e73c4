"""Tests of maas_dyn/workflows/waiters.py with a scripted fake client."""

from __future__ import annotations

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
