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
    WARM_UP_MINUTE,
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


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled(threads: int, fds: int) -> tuple[int, int]:
    # Once the client is closed and the child stopped, threads and descriptors go back to
    # what they were; closed threads may take a moment to end, so wait a bounded time.
    end = time.monotonic() + 5
    while (threading.active_count() > threads or _open_fds() > fds) and time.monotonic() < end:
        time.sleep(0.05)
    return threading.active_count() - threads, _open_fds() - fds


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


@pytest.mark.timeout(TIMEOUT)
def test_maas_client_soak(capsys: pytest.CaptureFixture[str],
                          tmp_path_factory: pytest.TempPathFactory) -> None:
    """One MAAS client: reads, events and a deploy/release lifecycle for 30 minutes."""
    counters = Counters()
    statuses: dict[str, str] = {}
    lifecycle = {"deploys": 0, "releases": 0, "deployed": 0, "ready_again": 0}
    before = threading.active_count(), _open_fds()

    def observe(machines: object) -> None:
        # Status changes seen between two reads: the simulator's clock moving machines on.
        for machine in machines if isinstance(machines, list) else ():
            old, new = statuses.get(machine["system_id"]), machine["status_name"]
            if old == "Deploying" and new == "Deployed":
                lifecycle["deployed"] += 1
            if old == "Releasing" and new == "Ready":
                lifecycle["ready_again"] += 1
            statuses[machine["system_id"]] = new

    with sim_process("maas", SPEED, MAAS_BANNER) as banner:
        client = MAASClient(banner["url"], api_key=banner["api_key"], cache=False)
        try:
            observe(counters.call(client.machines.read))
            ids = sorted(statuses)

            def cycle(index: int) -> None:
                observe(counters.call(client.machines.read))
                counters.call(client.machine.read, ids[index % len(ids)])
                counters.call(client.events.query, limit="20")
                counters.call(client.tags.read)

            def each_minute(minute: int) -> None:
                # A steady lifecycle: one release and one deploy a simulated minute; a
                # deploy takes 5 simulated minutes, a release 30 seconds.
                observe(counters.call(client.machines.read))
                deployed = sorted(s for s, status in statuses.items() if status == "Deployed")
                ready = sorted(s for s, status in statuses.items() if status == "Ready")
                if deployed and counters.call(client.machine.release, deployed[0]):
                    lifecycle["releases"] += 1
                if ready and counters.call(client.machine.deploy, ready[0]):
                    lifecycle["deploys"] += 1

            result = run_soak(counters, cycle, each_minute, CYCLE_SECONDS, SPEED)
        finally:
            client.close()
    _report_and_check("maas", result, counters, before, tmp_path_factory, capsys,
                      **lifecycle)
    # Deploys and releases went through along simulated time (the simulator's clock ran
    # at the speed the soak paced itself by): ~30 started, ~25 finished.
    assert lifecycle["deploys"] >= 20 and lifecycle["releases"] >= 15, lifecycle
    assert lifecycle["deployed"] >= 15 and lifecycle["ready_again"] >= 10, lifecycle


@pytest.mark.timeout(TIMEOUT)
def test_truenas_client_soak(capsys: pytest.CaptureFixture[str],
                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """One TrueNAS client: calls, a job a minute and a job subscription for 30 minutes."""
    counters = Counters()
    jobs = {"wipes": 0}
    lock = threading.Lock()
    before = threading.active_count(), _open_fds()

    def on_job_event(event: Event) -> None:  # on the client's event thread
        with lock:
            counters.events += 1

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
    _report_and_check("truenas", result, counters, before, tmp_path_factory, capsys, **jobs)
    assert jobs["wipes"] == SOAK_MINUTES
    # Events kept coming: more in every 5 simulated minutes after warm-up.
    events = [sample.events for sample in result.samples]
    assert events[-1] > 0 and _grows(events, since=WARM_UP_MINUTE), events


def _report(name: str, result: SoakResult, counters: Counters,
            tmp_path_factory: pytest.TempPathFactory, **figures: int) -> str:
    return report(name, result, tmp_path_factory.getbasetemp(), calls=counters.calls,
                  failures=counters.failures, events=counters.events,
                  errors=counters.errors, **figures)
