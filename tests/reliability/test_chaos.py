"""Chaos run: a bulk deploy against the MAAS simulator with its faults mixed under a seed.

Faults (about 10% of requests): 503 with and without Retry-After, 409, replies slower than
the read timeout, dropped connections; and mid-run, a region upgrade (down for a moment,
back with a new description, so a new hash, whose endpoint is busy at first) and a plain
restart.
CI runs a short version; ``MAAS_DYN_CHAOS_MACHINES`` makes it long (the ``reliability``
tox env sets 500). At the end every machine is accounted for (success or a typed error
naming it), the region acted on no deploy twice (its own per-machine count), the client talked to
the region again after every restart and uses the new description, and no thread or
file descriptor outlives the run.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import Counter
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.errors import MaasDynError
from maas_dyn.maas import Client
from maas_dyn.maas.response import Response
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows.bulk import run_bulk

MACHINES = int(os.environ.get("MAAS_DYN_CHAOS_MACHINES", "60"))
SEED = int(os.environ.get("MAAS_DYN_CHAOS_SEED", "1234"))
UPGRADE_TO = "3.6"
# (share of the machines, what happens when the run reaches that machine): an upgrade
# (down 0.3 s, back with a new hash and a busy describe endpoint), then a plain restart.
SCHEDULE = ((0.35, "upgrade"), (0.7, "restart"))


def _fds() -> dict[str, str]:
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, already closed
            continue
    return found


def _settle(before_threads: int, deadline: float = 5.0) -> int:
    # Pool threads and server threads end shortly after close(); wait a bounded time.
    end = time.monotonic() + deadline
    while threading.active_count() > before_threads and time.monotonic() < end:
        time.sleep(0.05)
    gc.collect()
    return threading.active_count()


class _Ledger:
    """What the client sent and what it heard, from its own hooks (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sends: Counter[str] = Counter()  # deploys tried, by URL (one URL per machine)
        self.answers: list[float] = []  # when any 2xx arrived (to prove reconnects)

    def before(self, request: Any, attempt: int) -> None:
        if "op=deploy" in request.url:
            with self.lock:
                self.sends[request.url] += 1

    def after(self, response: Response) -> None:
        if response.status < 300:
            with self.lock:
                self.answers.append(time.monotonic())


class _Conductor:
    """Upsets the region when the bulk run reaches the scheduled machines (in the worker
    that reaches it, so every event happens once, whatever the timing)."""

    def __init__(self, sim: MAASSimulator, ids: list[str]) -> None:
        self.sim = sim
        self.marks = {ids[int(len(ids) * share)]: event for share, event in SCHEDULE}
        self.restarts: list[float] = []  # when each restart ended
        self.rules: list[Any] = []  # fault rules switched on along the way

    def reached(self, system_id: str) -> None:
        event = self.marks.pop(system_id, None)
        if event == "upgrade":
            # Down for a moment, then back with the new release's description; its
            # describe endpoint answers 503 for a while (a region still starting), so
            # refreshes fail right after deploys the region acted on.
            self.sim.restart(downtime=0.3)
            self.rules.append(self.sim.faults.unavailable(retry_after=0, times=6,
                                                          op="describe"))
            self.sim.swap_description(UPGRADE_TO)
        elif event == "restart":
            self.sim.restart()
        else:
            return
        self.restarts.append(time.monotonic())


@pytest.mark.filterwarnings("ignore::maas_dyn.maas.DescriptionChangedWarning")
def test_bulk_deploy_under_mixed_faults(capsys: pytest.CaptureFixture[str]) -> None:
    gc.collect()
    threads_before, fds_before = threading.active_count(), _fds()
    ledger = _Ledger()
    with MAASSimulator(machines=MACHINES, speed=200, seed=SEED) as sim:
        faults = sim.faults
        rules = [
            faults.unavailable(retry_after=0, probability=0.02),
            faults.unavailable(retry_after=None, probability=0.02, op="deploy"),
            faults.locked(retry_after=0, probability=0.02, op="deploy"),
            faults.slow(0.8, probability=0.015, op="deploy"),  # past the 0.3 s read timeout
            faults.drop(probability=0.025),
        ]
        client = Client(sim.url, api_key=sim.api_key, cache=False, timeout=(2.0, 0.3),
                        retry=RetryPolicy(total=2, backoff_factor=0.01))
        client.hooks.register("before-send", ledger.before)
        client.hooks.register("after-receive", ledger.after)
        with client:
            ids = [m["system_id"] for m in client.machines.read()]
            assert len(ids) == MACHINES
            faults_before = sum(rule.hits for rule in rules)  # the read above may hit some
            conductor = _Conductor(sim, ids)

            def deploy(system_id: str) -> Any:
                conductor.reached(system_id)
                return client.machine.deploy(system_id)

            result = run_bulk(deploy, ids, concurrency=8, retries=2, retry_delay=0.01,
                              label="deploy", progress=False)
            with ledger.lock:  # reconnects are proven by the run's own answers only
                answered_in_run = list(ledger.answers)
            rules += conductor.rules
            faults.clear()
            # After failed refreshes the client waits 1, 2, 4... s before the next try;
            # steady reads pick the new description up within that bound.
            upgraded_hash = load_shipped("maas", UPGRADE_TO)["hash"]
            deadline = time.monotonic() + 10
            while True:
                after_run = client.machines.read()
                if client.description.hash == upgraded_hash or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        counted = sim.request_counts[("POST", "MachineHandler", "deploy")]
        injected = sum(rule.hits for rule in rules)
        by_kind: Counter[str] = Counter()
        for rule in rules:
            kind = f"{rule.kind}{rule.status if rule.kind == 'status' else ''}"
            kind += "" if rule.kind != "status" or rule.retry_after is None else "+Retry-After"
            by_kind[kind + (f" on {rule.op}" if rule.op else "")] += rule.hits
        requests_seen = sum(sim.request_counts.values())
        # The region's own record of the deploys that reached it, per machine: a deploy
        # that arrives after one it acted on (2xx) was sent again.
        handled = {path: statuses for (_, path, op), statuses in sim.handled_writes.items()
                   if op == "deploy"}
        hash_now = client.description.hash
    threads_after = _settle(threads_before)

    # Every machine accounted for: a success, or a typed error that names it.
    assert sorted(item.target for item in result.items) == sorted(ids)
    lost = [item.target for item in result.items
            if not item.ok and not (isinstance(item.error, MaasDynError)
                                      and item.target in str(item.error))]
    duplicates = sorted(path for path, statuses in handled.items()
                        if any(s < 300 for s in statuses[:-1]))
    reconnected = [any(t > at for t in answered_in_run) for at in conductor.restarts]
    figures: dict[str, Any] = dict(
        machines=MACHINES, requests=requests_seen, faults_injected=injected,
        faults_during_bulk=injected - faults_before, faults_by_kind=dict(by_kind),
        restarts=len(conductor.restarts), reconnected_after_each=all(reconnected),
        upgraded=hash_now == upgraded_hash,
        deploys_tried=sum(ledger.sends.values()), server_received=counted,
        server_acted=sum(s < 300 for statuses in handled.values() for s in statuses),
        succeeded=len(result.succeeded), failed_typed=len(result.failed), lost=len(lost),
        duplicates=len(duplicates), leaked_threads=threads_after - threads_before,
        errors=dict(Counter(type(item.error).__name__ for item in result.failed)))
    assert lost == [], [(i.target, repr(i.error)) for i in result.items if i.target in lost]
    assert duplicates == [], (duplicates, figures)
    # Tries refused at connect never reach the region; nothing arrives that was not tried.
    assert counted <= sum(ledger.sends.values())
    assert len(handled) >= len(result.succeeded)
    assert injected > 0 and result.failed and result.succeeded
    assert len(conductor.restarts) == len(SCHEDULE) and all(reconnected), figures
    assert figures["upgraded"] and len(after_run) == MACHINES
    assert threads_after <= threads_before
    # A Timeout's cause chain (requests -> urllib3) keeps its broken socket reachable
    # while the caller keeps the error; once the results go, nothing may stay open.
    del result, lost
    gc.collect()
    figures["leaked_fds"] = len(set(_fds().items()) - set(fds_before.items()))
    with capsys.disabled():
        print(f"\nMAAS chaos: {figures}")
    assert figures["leaked_fds"] == 0, figures
