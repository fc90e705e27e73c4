"""Chaos run: mixed TrueNAS calls and jobs from 8 threads under about 10% injected faults.

Faults: connections dropped before a call runs and after it ran (a WebSocket gone
mid-call, no close frame), replies slower than the call timeout, jobs that end FAILED,
and three middleware restarts (one with the port closed for a while). Every call ends in
a result or a typed error that names it; the simulator's per-call counts prove no call
was sent twice; the client reconnects after every restart; no thread or socket outlives
the run. CI runs 296 calls; the ``reliability`` tox env sets ``MAAS_DYN_CHAOS_CALLS=2000``.
"""

from __future__ import annotations

import gc
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from maas_dyn.errors import MaasDynError
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client

SEED = 4321
CALLS = int(os.environ.get("MAAS_DYN_CHAOS_CALLS", "296"))
MIX = ("system.info", "pool.query", "user.create", "disk.wipe")
# (share of the calls, seconds the port stays closed): when the run reaches that call.
RESTARTS = ((0.25, 0.0), (0.5, 0.3), (0.75, 0.0))
JOB_TIMEOUT = 10.0


def _sockets() -> set[str]:
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, already closed
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _params(method: str, index: int) -> list[Any]:
    if method == "user.create":
        return [{"username": f"chaos{index}", "full_name": "Chaos", "password": "chaos-pw",
                 "group_create": True}]
    if method == "disk.wipe":
        return ["sdh", "QUICK"]
    return []


class _Run:
    """The calls of one run and what became of them (thread-safe)."""

    def __init__(self, sim: TrueNASSimulator, client: Client) -> None:
        rng = random.Random(SEED)
        self.plan = [rng.choice(MIX) for _ in range(CALLS)]
        self.sim, self.client = sim, client
        self.lock = threading.Lock()
        self.outcomes: list[tuple[str, str]] = []
        self.answered: list[float] = []  # when a call succeeded (to prove reconnects)
        self.restarts: list[float] = []  # when each restart ended
        self.marks = {int(CALLS * share): downtime for share, downtime in RESTARTS}

    def one(self, index: int) -> None:
        if index in self.marks:
            self.sim.restart(downtime=self.marks[index])
            with self.lock:
                self.restarts.append(time.monotonic())
        method = self.plan[index]
        try:
            self.client.call(method, *_params(method, index), job=method == "disk.wipe",
                             timeout=JOB_TIMEOUT if method == "disk.wipe" else 0.4)
            outcome = "ok"
        except MaasDynError as exc:
            # A typed error that names the call it ended (also when a reconnect failed).
            outcome = type(exc).__name__ if method in str(exc) else f"unnamed: {exc!r}"
        with self.lock:
            self.outcomes.append((method, outcome))
            if outcome == "ok":
                self.answered.append(time.monotonic())


def test_mixed_calls_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    gc.collect()
    threads_before, sockets_before = threading.active_count(), _sockets()
    with TrueNASSimulator(seed=SEED) as sim:
        sim.faults.drop_connection(None, probability=0.025)
        sim.faults.drop_connection(None, probability=0.02, when="after")
        sim.faults.slow_replies(0.6, None, probability=0.03)  # past the 0.4 s call timeout
        sim.faults.fail_jobs("disk.wipe", probability=0.1)
        with Client(sim.url, username=sim.username, api_key=sim.api_key, cache=False,
                    call_timeout=0.4, ping_interval=0) as client:
            run = _Run(sim, client)
            with ThreadPoolExecutor(8) as workers:
                list(workers.map(run.one, range(CALLS)))
            sim.faults.clear()
            reconnected_at_end = client.call("system.info") is not None
        counts = dict(sim.call_counts)
        resent = {key: n for key, n in sim.call_counts.by_params.items()
                  if key[0] == "user.create" and n > 1}
        fired = sim.faults.fired
    end = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < end:
        time.sleep(0.05)
    gc.collect()
    planned = Counter(run.plan)
    figures = {
        "calls": CALLS, "accounted": len(run.outcomes), "planned": dict(planned),
        "server_calls": sum(counts.values()), "faults_injected": sum(fired.values()),
        "faults_by_kind": fired, "restarts": len(run.restarts),
        "reconnected_after_each": all(any(t > at for t in run.answered)
                                      for at in run.restarts) and reconnected_at_end,
        "outcomes": dict(Counter(outcome for _, outcome in run.outcomes)),
        "creates_sent": planned["user.create"],
        "creates_received": counts.get("user.create", 0), "creates_resent": len(resent),
        "leaked_threads": threading.active_count() - threads_before,
        "leaked_sockets": len(_sockets() - sockets_before),
    }
    with capsys.disabled():
        print(f"\nTrueNAS chaos: {figures}")
    assert len(run.outcomes) == CALLS
    assert not [o for _, o in run.outcomes if o.startswith("unnamed")], figures
    assert resent == {}, resent  # the server never received the same create twice
    # No call of any planned method reached the server more often than it was made (the
    # disk.wipe calls all carry the same parameters, so only their count can tell).
    extra = Counter({"system.info": 1})  # the check after the run
    assert all(counts.get(m, 0) <= planned[m] + extra[m] for m in planned), (counts, planned)
    assert fired.get("job-failure", 0) > 0 and fired.get("drop-after", 0) > 0, figures
    assert len(run.restarts) == len(RESTARTS) and figures["reconnected_after_each"], figures
    assert figures["leaked_threads"] <= 0, figures
    assert figures["leaked_sockets"] == 0, figures
