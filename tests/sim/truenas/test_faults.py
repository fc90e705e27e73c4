"""Fault switches and server restarts."""

from __future__ import annotations

import time

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.faults import Faults
from tests.sim.races import check_stop_ends_a_restart_downtime, port_taker, refuses

from .conftest import TIMEOUT, RpcClient

GROUP = {"name": "faulty"}


def _groups(admin: RpcClient) -> list[str]:
    return [g["name"] for g in admin.call("group.query", [["name", "=", "faulty"]])]


def test_drop_before_the_call_runs(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.drop_connection(method="group.create")
    admin.send("group.create", GROUP)
    assert admin.closed.wait(TIMEOUT)
    assert sim.call_counts["group.create"] == 1
    fresh = RpcClient(sim.url)
    fresh.login(sim)
    assert _groups(fresh) == []
    fresh.call("group.create", GROUP)  # the rule fired once; this one goes through
    assert _groups(fresh) == ["faulty"]
    fresh.close()


def test_drop_after_the_call_ran(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.drop_connection(method="group.create", when="after")
    admin.send("group.create", GROUP)
    assert admin.closed.wait(TIMEOUT)
    fresh = RpcClient(sim.url)
    fresh.login(sim)
    assert _groups(fresh) == ["faulty"]  # it ran; only the reply was lost
    assert sim.call_counts["group.create"] == 1
    fresh.close()


def test_drop_after_a_failing_call(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.drop_connection(method="group.delete", when="after")
    admin.send("group.delete", 999)
    assert admin.closed.wait(TIMEOUT)


def test_other_methods_are_not_dropped(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.drop_connection(count=None, method="group.create")
    assert admin.call("core.ping") == "pong"
    assert not admin.closed.is_set()


def test_probability_is_seeded() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.drop_connection(count=None, probability=0.5)
        return [faults.take_drop("x") is not None for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert 5 < sum(pattern(1)) < 35
    assert pattern(1) != pattern(2)


def test_counted_rules_expire() -> None:
    faults = Faults()
    faults.slow_replies(0.5, count=2)
    faults.fail_jobs("pool.create", count=1, errmsg="disk on fire", errno=5)
    assert [faults.take_delay("a"), faults.take_delay("b"), faults.take_delay("c")] == [
        0.5, 0.5, 0.0]
    assert faults.take_job_failure("pool.scrub") is None
    failure = faults.take_job_failure("pool.create")
    assert failure is not None and str(failure) == "[EIO] disk on fire"
    assert faults.take_job_failure("pool.create") is None
    faults.drop_connection(count=None)
    faults.clear()
    assert faults.take_drop("x") is None


def test_slow_replies(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.slow_replies(0.3, count=1, method="system.version")
    started = time.monotonic()
    assert admin.call("system.version") == "TrueNAS-25.10.0"
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    admin.call("system.version")
    assert time.monotonic() - started < 0.3


def test_failing_jobs(sim: TrueNASSimulator, admin: RpcClient) -> None:
    sim.faults.fail_jobs("disk.wipe", errmsg="wipe refused", errno=16)
    job = admin.wait_job(admin.call("disk.wipe", "sdh", "QUICK"))
    assert (job["state"], job["error"]) == ("FAILED", "[EBUSY] wipe refused")
    assert job["exc_info"]["errno"] == 16


def test_restart_drops_sessions_and_keeps_state(sim: TrueNASSimulator,
                                                admin: RpcClient) -> None:
    port = sim.port
    admin.call("group.create", GROUP)
    other = RpcClient(sim.legacy_url)
    other.ws.send('{"msg": "connect", "version": "1"}')
    assert other.notifications.get(timeout=TIMEOUT)["msg"] == "connected"  # fully served
    sim.restart()
    assert admin.closed.wait(TIMEOUT) and other.closed.wait(TIMEOUT)
    assert sim.port == port
    fresh = RpcClient(sim.url)
    assert fresh.error("group.query")["data"]["errname"] == "ENOTAUTHENTICATED"
    fresh.login(sim)
    assert _groups(fresh) == ["faulty"]
    fresh.close()
    other.close()


def test_restart_needs_a_running_simulator() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        TrueNASSimulator().restart()


def test_restart_with_downtime_refuses_then_serves_the_same_port(
        sim: TrueNASSimulator, admin: RpcClient) -> None:
    port = sim.port
    admin.call("group.create", GROUP)
    probes: list[bool] = []
    sim.restart(downtime=0.2, on_down=lambda: probes.append(refuses(port)))
    assert probes == [True]
    assert admin.closed.wait(TIMEOUT)
    assert sim.port == port
    fresh = RpcClient(sim.url)
    fresh.login(sim)
    assert _groups(fresh) == ["faulty"]  # state kept across the restart
    fresh.close()
    called: list[bool] = []
    sim.restart(on_down=lambda: called.append(True))
    assert called == []  # no downtime: the port never closed
    with pytest.raises(ValueError, match="downtime"):
        sim.restart(-0.1)


def test_stop_during_a_restart_downtime_ends_it_without_serving_again() -> None:
    check_stop_ends_a_restart_downtime(TrueNASSimulator().start(), "sim-truenas-server")


def test_stop_from_on_down_does_not_deadlock() -> None:
    sim = TrueNASSimulator().start()
    port = sim.port
    sim.restart(downtime=30, on_down=sim.stop)  # returns at once: the stop ended it
    assert refuses(port)
    with pytest.raises(RuntimeError, match="not running"):
        sim.restart()


def test_restart_that_cannot_listen_again_names_the_port_and_stays_down() -> None:
    with TrueNASSimulator() as sim:
        port = sim.port
        with port_taker(port) as occupy:  # another process takes it while the server is down
            with pytest.raises(RuntimeError, match=f"port {port}"):
                sim.restart(downtime=0.2, on_down=occupy)
            with pytest.raises(RuntimeError, match="not running"):
                _ = sim.port


def test_fired_counts_each_kind_of_fault() -> None:
    faults = Faults(seed=1)
    faults.drop_connection(1, method="a")
    faults.drop_connection(1, method="b", when="after")
    faults.slow_replies(0.1, 2)
    faults.fail_jobs("job", 1)
    for method in ("a", "b", "a"):
        faults.take_drop(method)
    for _ in range(3):
        faults.take_delay("x")
    faults.take_job_failure("job")
    faults.take_job_failure("job")
    faults.clear()
    assert faults.fired == {"drop-before": 1, "drop-after": 1, "slow": 2, "job-failure": 1}


def test_legacy_endpoint_drops_too(sim: TrueNASSimulator) -> None:
    sim.faults.drop_connection(method="core.ping")
    legacy = RpcClient(sim.legacy_url)
    legacy.ws.send('{"msg": "connect", "version": "1"}')
    assert legacy.notifications.get(timeout=TIMEOUT)["msg"] == "connected"
    legacy.ws.send('{"msg": "method", "id": "x", "method": "core.ping"}')
    assert legacy.closed.wait(TIMEOUT)
    legacy.close()


def test_restart_releases_callers_waiting_for_jobs() -> None:
    with TrueNASSimulator(speed=1.0) as slow:
        client = RpcClient(slow.url)
        client.login(slow)
        client.call("core.set_options", {"legacy_jobs": False})
        client.send("disk.wipe", "sda", "FULL")  # 10 simulated seconds
        deadline = time.monotonic() + TIMEOUT
        while not slow.jobs.active("disk.wipe") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert slow.jobs.active("disk.wipe")
        started = time.monotonic()
        slow.restart()
        assert client.closed.wait(TIMEOUT)
        client.close()
    assert time.monotonic() - started < 5


def test_call_counts_by_parameters_show_a_call_sent_again(sim: TrueNASSimulator,
                                                          admin: RpcClient) -> None:
    admin.call("group.query", [["name", "=", "a"]])
    admin.call("group.query", [["name", "=", "a"]])
    admin.call("group.query", [["name", "=", "b"]])
    counted = sim.call_counts.by_params
    assert counted[("group.query", '[[["name", "=", "a"]]]')] == 2
    assert counted[("group.query", '[[["name", "=", "b"]]]')] == 1
    assert sim.call_counts["group.query"] == 3


def test_call_counts_are_snapshots(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.ping")
    counts = sim.call_counts
    by_params = counts.by_params
    admin.call("core.ping")
    assert counts["core.ping"] == 1 and by_params[("core.ping", "[]")] == 1
    assert sim.call_counts["core.ping"] == 2
    assert sim.call_counts.by_params[("core.ping", "[]")] == 2


def test_a_stopped_simulator_does_not_start_again() -> None:
    sim = TrueNASSimulator()
    sim.start()
    sim.stop()
    with pytest.raises(RuntimeError, match="cannot start again"):
        sim.start()
