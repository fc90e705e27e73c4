"""Soak runs: one client held for 30 simulated minutes of steady calls (and events).

Each simulator runs in a child process started through the real CLI with ``--speed``, so
the test process holds only the client, and its memory, descriptors and threads are
sampled every simulated minute. After warm-up nothing may grow but a little memory.

CI runs at ``--speed 200`` (~9 s a soak); ``MAAS_DYN_SOAK_SPEED`` slows it down (the
``reliability`` tox env sets 30: a minute of real time each, with the same calls).
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from maas_dyn.maas import Client as MAASClient
from maas_dyn.truenas import Client as TrueNASClient
from maas_dyn.truenas.messages import Event
from tests.reliability.soak import (
    MAAS_BANNER,
    SOAK_MINUTES,
    TRUENAS_BANNER,
    Counters,
    SoakResult,
    real_budget,
    report,
    run_soak,
    sim_process,
    soak_speed,
)

SPEED = soak_speed()
CYCLE_SECONDS = 5.0  # simulated seconds between two rounds of steady calls
# pytest-timeout as a last resort above the soak's own deadline (and the child's start).
TIMEOUT = int(real_budget(SPEED)) + 90
FREE_DISK = "sdh"  # in no pool of the simulator's seed, so disk.wipe may run on it
# Bounds on growth after warm-up. Healthy clients measured ~21 KiB of traced memory over
# the 27 simulated minutes (a third of it the samples themselves, the rest bounded caches
# and free lists filling up: it levels off in longer runs) and 0-200 KiB of RSS. The
# traced bound is >10x that, yet a leak of 256 bytes per call (~1,000-1,400 calls after
# warm-up) would exceed it. RSS moves with the allocator's arenas, so its bound is loose:
# it is there for what tracemalloc cannot see (leaks in C code).
MAX_TRACED_GROWTH = 256 * 1024
MAX_RSS_GROWTH_KIB = 16 * 1024


def _threads() -> int:
    # The MAAS deadline watchdog is one thread for the whole process, not the client's: it
    # ends on its own after 30 idle seconds, so it is not counted as left behind.
    return sum(1 for thread in threading.enumerate() if thread.name != "maas_dyn-deadline")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled(threads: int, fds: int) -> tuple[int, int]:
    # Once the client is closed and the child stopped, threads and descriptors go back to
    # what they were; closed threads may take a moment to end, so wait a bounded time.
    end = time.monotonic() + 5
    while (_threads() > threads or _open_fds() > fds) and time.monotonic() < end:
        time.sleep(0.05)
    return _threads() - threads, _open_fds() - fds


def _report_and_check(name: str, result: SoakResult, counters: Counters,
                      before: tuple[int, int], tmp_path_factory: pytest.TempPathFactory,
                      capsys: pytest.CaptureFixture[str], **extra: int) -> None:
    left = _settled(*before)
    text = _report(name, result, counters, tmp_path_factory, **extra)
    with capsys.disabled():
        print(text)
    _check(result, counters)
    assert max(left) <= 0, f"(threads, fds) left after close: {left}"


def _check(result: SoakResult, counters: Counters) -> None:
    growth = result.growth
    assert len(result.samples) == SOAK_MINUTES + 1
    assert counters.failures == 0, counters.errors
    assert growth["fds"] == 0, (growth, result.samples)
    assert growth["threads"] == 0, (growth, result.samples)
    assert growth["traced_bytes"] < MAX_TRACED_GROWTH, (growth, result.top_growth)
    assert growth["rss_kib"] < MAX_RSS_GROWTH_KIB, (growth, result.top_growth)
    # Steady: calls went on through the whole run, not just at the start.
    assert _grows([sample.calls for sample in result.samples], since=0)


def _grows(values: list[int], since: int) -> bool:
    # Over 5 simulated minutes rather than each: a late cycle may take two samples at once.
    return all(values[m + 5] > values[m] for m in range(since, len(values) - 5))


# Statuses a machine passes through on its own, on the simulator's clock.
_MOVING = ("Deploying", "Releasing", "Disk erasing")


def _settle_maas(client: MAASClient, counters: Counters, deadline: float) -> dict[str, str]:
    """Statuses once no machine is deploying or releasing (on the simulator's clock)."""
    while True:  # bounded by the deadline: each turn is one read
        machines = counters.call(client.machines.read) or []
        statuses = {m["system_id"]: m["status_name"] for m in machines}
        if not any(status in _MOVING for status in statuses.values()):
            return statuses
        assert time.monotonic() < deadline, f"machines still moving: {statuses}"
        time.sleep(0.05)  # a poll interval, not a head start: the clock runs at --speed


@pytest.mark.timeout(TIMEOUT)
def test_maas_client_soak(capsys: pytest.CaptureFixture[str],
                          tmp_path_factory: pytest.TempPathFactory) -> None:
    """One MAAS client: reads, events and a deploy/release lifecycle for 30 minutes."""
    counters = Counters()
    statuses: dict[str, str] = {}
    # The last lifecycle call that succeeded on each machine: what it must end up as.
    expected: dict[str, str] = {}
    lifecycle = {"deploys": 0, "releases": 0}
    before = _threads(), _open_fds()

    def observe(machines: object) -> None:
        for machine in machines if isinstance(machines, list) else ():
            statuses[machine["system_id"]] = machine["status_name"]

    with sim_process("maas", SPEED, MAAS_BANNER) as banner:
        client = MAASClient(banner["url"], api_key=banner["api_key"], cache=False)
        try:
            observe(counters.call(client.machines.read))
            ids = sorted(statuses)
            initial = dict(statuses)

            def cycle(index: int) -> None:
                observe(counters.call(client.machines.read))
                counters.call(client.machine.read, ids[index % len(ids)])
                counters.call(client.events.query, limit="20")
                counters.call(client.tags.read)

            def each_minute(minute: int) -> None:
                # A steady lifecycle: one release and one deploy a simulated minute, on
                # machines the read just before shows Deployed and Ready.
                observe(counters.call(client.machines.read))
                deployed = sorted(s for s, status in statuses.items() if status == "Deployed")
                ready = sorted(s for s, status in statuses.items() if status == "Ready")
                if deployed and counters.call(client.machine.release, deployed[0]):
                    lifecycle["releases"] += 1
                    expected[deployed[0]] = "Ready"
                if ready and counters.call(client.machine.deploy, ready[0]):
                    lifecycle["deploys"] += 1
                    expected[ready[0]] = "Deployed"

            result = run_soak(counters, cycle, each_minute, CYCLE_SECONDS, SPEED)
            final = _settle_maas(client, counters, time.monotonic() + TIMEOUT / 2)
        finally:
            client.close()
    _report_and_check("maas", result, counters, before, tmp_path_factory, capsys,
                      **lifecycle)
    # Invariants, whatever the machine's speed: the lifecycle ran (there is a Deployed or
    # Ready machine at every minute), every accepted deploy and release took effect and
    # nothing happened twice or on its own: the machines are what our last call made them,
    # and the others are as they were (deploying or releasing ones finished).
    assert lifecycle["deploys"] >= 1 and lifecycle["releases"] >= 1, lifecycle
    wrong = {s: (final.get(s), want) for s, want in expected.items() if final.get(s) != want}
    assert not wrong, f"machines not in the status their last call asked for: {wrong}"
    untouched = {s: (initial[s], final.get(s)) for s in ids if s not in expected
                 and initial[s] not in _MOVING and final.get(s) != initial[s]}
    assert not untouched, f"machines changed without a call: {untouched}"


@pytest.mark.timeout(TIMEOUT)
def test_truenas_client_soak(capsys: pytest.CaptureFixture[str],
                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """One TrueNAS client: calls, a job a minute and a job subscription for 30 minutes."""
    counters = Counters()
    jobs = {"wipes": 0}
    # Jobs whose end came as an event: job id -> how many end events. The middleware sends
    # two for a job that succeeds (CHANGED at 100 %, then the final CHANGED after the
    # call's reply; job.py), so each job must have one or two, and none more.
    ended: dict[int, int] = {}
    lock = threading.Condition()
    before = _threads(), _open_fds()

    def on_job_event(event: Event) -> None:  # on the client's event thread
        with lock:
            counters.events += 1
            fields = event.fields if isinstance(event.fields, dict) else {}
            if fields.get("method") == "disk.wipe" and fields.get("state") in _ENDED:
                ended[fields["id"]] = ended.get(fields["id"], 0) + 1
                lock.notify_all()

    # The subscription is held the whole run: every job's progress comes back as
    # core.get_jobs events.
    with sim_process("truenas", SPEED, TRUENAS_BANNER) as banner, \
            TrueNASClient(banner["url"], username=banner["username"],
                          api_key=banner["api_key"], cache=False) as client, \
            client.subscribe("core.get_jobs", on_job_event):

        def cycle(index: int) -> None:
            counters.call(client.call, "system.info")
            counters.call(client.call, "pool.query")
            counters.call(client.call, "user.query")

        def each_minute(minute: int) -> None:
            # A QUICK wipe is a 2-simulated-second job; its timeout is real seconds.
            # It answers None: success is told by the failure count not moving.
            failed = counters.failures
            counters.call(client.call, "disk.wipe", FREE_DISK, "QUICK", job=True, timeout=30)
            jobs["wipes"] += counters.failures == failed

        result = run_soak(counters, cycle, each_minute, CYCLE_SECONDS, SPEED)
        with lock:  # the last job's end event may still be on its way
            lock.wait_for(lambda: len(ended) >= jobs["wipes"], timeout=30)
    _report_and_check("truenas", result, counters, before, tmp_path_factory, capsys,
                      **jobs, ended_events=len(ended))
    # Nothing lost, nothing twice: every minute's job ran, and each one's end came as
    # exactly one event.
    assert jobs["wipes"] == SOAK_MINUTES
    assert len(ended) == SOAK_MINUTES and set(ended.values()) <= {1, 2}, ended


_ENDED = ("SUCCESS", "FAILED", "ABORTED")


def _report(name: str, result: SoakResult, counters: Counters,
            tmp_path_factory: pytest.TempPathFactory, **figures: int) -> str:
    return report(name, result, tmp_path_factory.getbasetemp(), calls=counters.calls,
                  failures=counters.failures, events=counters.events,
                  errors=counters.errors, **figures)
