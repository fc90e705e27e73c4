"""Fault injection: 503/409/any status, slow answers, dropped connections, matching."""

from __future__ import annotations

import time

import pytest
import requests

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.faults import Faults

from .conftest import Api


def test_unavailable_with_and_without_retry_after(sim: MAASSimulator, api: Api) -> None:
    rule = sim.faults.unavailable(times=2)
    first, second, third = (api.get("machines/") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["Retry-After"] == "10"
    assert first.headers["X-MAAS-API-Hash"]
    assert rule.hits == 2 and rule.exhausted and sim.faults.rules == []
    sim.faults.unavailable(retry_after=None)
    bare = api.get("machines/")
    assert bare.status_code == 503 and "Retry-After" not in bare.headers
    # The request was counted even though it never reached the handler.
    assert sim.request_counts[("GET", "MachinesHandler", "read")] == 4


def test_locked_conflict_matches_handler_and_op(sim: MAASSimulator, api: Api) -> None:
    sim.faults.locked(handler="MachineHandler", op="deploy", method="post")
    machine = api.get("machines/", params={"status": "ready"}).json()[0]["system_id"]
    assert api.get(f"machines/{machine}/").status_code == 200
    refused = api.post(f"machines/{machine}/", op="deploy")
    assert refused.status_code == 409 and refused.headers["Retry-After"] == "5"
    assert api.get(f"machines/{machine}/").json()["status_name"] == "Ready"
    assert api.post(f"machines/{machine}/", op="deploy").status_code == 200


def test_any_status_and_probability(sim: MAASSimulator, api: Api) -> None:
    sim.faults.status(504, "Gateway Timeout", times=1, handler="VersionHandler")
    timed_out = api.get("version/")
    assert timed_out.status_code == 504 and timed_out.text == "Gateway Timeout"
    always = sim.faults.unavailable(probability=1.0, op="whoami")
    assert all(api.get("users/", op="whoami").status_code == 503 for _ in range(3))
    assert always.hits == 3 and not always.exhausted
    sim.faults.clear()
    never = sim.faults.unavailable(probability=0.0)
    assert api.get("users/", op="whoami").status_code == 200
    assert never.hits == 0
    sim.faults.clear()
    half = sim.faults.unavailable(probability=0.5)
    codes = [api.get("version/").status_code for _ in range(40)]
    assert 5 < codes.count(503) < 35 and half.hits == codes.count(503)


def test_probability_rules_repeat_with_the_seed() -> None:
    def pattern() -> list[bool]:
        faults = Faults(seed=11)
        faults.drop(probability=0.3)
        return [bool(faults.fire("GET", "H", "read")) for _ in range(50)]

    assert pattern() == pattern()


def test_slow_answers(sim: MAASSimulator, api: Api) -> None:
    sim.faults.slow(0.3, handler="VersionHandler")
    started = time.monotonic()
    assert api.get("version/").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get("version/")
    assert time.monotonic() - started < 0.3


def test_dropped_connection(sim: MAASSimulator, api: Api) -> None:
    sim.faults.drop(times=1, method="GET", handler="DescribeNothing")
    assert api.get("version/").status_code == 200  # filter did not match
    sim.faults.drop(times=1)
    with pytest.raises(requests.ConnectionError):
        api.get("version/")
    assert api.get("version/").status_code == 200


def test_faults_on_describe(sim: MAASSimulator, anon: Api) -> None:
    sim.faults.unavailable(handler="describe")
    assert anon.get("describe/").status_code == 503
    sim.faults.drop(handler="describe")
    with pytest.raises(requests.ConnectionError):
        anon.get("describe/")
    assert anon.get("describe/").status_code == 200
    assert sim.request_counts[("GET", "describe", "describe")] == 3


def test_stop_cuts_a_slow_answer_short(sim: MAASSimulator, api: Api) -> None:
    import threading

    rule = sim.faults.slow(30)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(api.get("version/").status_code)
        except requests.RequestException as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    # The stop comes once the request is being slowed down, not after a guessed head start.
    deadline = time.monotonic() + 30
    while not rule.hits and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rule.hits, "the request never reached the simulator"
    started = time.monotonic()
    sim.stop()
    thread.join(10)
    assert time.monotonic() - started < 5
    assert outcome and isinstance(outcome[0], requests.RequestException)


def test_bad_fault_arguments() -> None:
    faults = Faults()
    with pytest.raises(ValueError):
        faults.unavailable(probability=1.5)
    with pytest.raises(ValueError):
        faults.drop(times=0)
    with pytest.raises(ValueError):
        faults.slow(-1)
