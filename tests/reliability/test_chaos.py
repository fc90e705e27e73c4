"""Chaos runs: a bulk deploy against the MAAS simulator with its faults mixed under a seed.

CI runs a short version; ``MAAS_DYN_CHAOS_MACHINES`` makes it long (the ``reliability``
tox env sets 500). At the end every machine is accounted for (success or a typed error
naming it), no deploy the server may have acted on was sent twice, and no thread or file
descriptor outlives the run.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import Counter
from typing import Any

import pytest

from maas_dyn.errors import MaasDynError
from maas_dyn.maas import Client
from maas_dyn.maas.response import Response
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows.bulk import run_bulk

MACHINES = int(os.environ.get("MAAS_DYN_CHAOS_MACHINES", "60"))
SEED = int(os.environ.get("MAAS_DYN_CHAOS_SEED", "1234"))
FIGURES: dict[str, Any] = {}


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


def test_bulk_deploy_under_mixed_faults(capsys: pytest.CaptureFixture[str]) -> None:
    gc.collect()
    threads_before, fds_before = threading.active_count(), _fds()
    sends: Counter[str] = Counter()  # deploy requests sent, by URL (one URL per machine)
    answered: dict[str, list[int]] = {}  # statuses answered to them
    with MAASSimulator(machines=MACHINES, speed=200, seed=SEED) as sim:
        faults = sim.faults
        rules = [
            faults.unavailable(retry_after=0, probability=0.04, op="deploy"),
            faults.unavailable(retry_after=None, probability=0.03, op="deploy"),
            faults.locked(retry_after=0, probability=0.04, op="deploy"),
            faults.slow(0.8, probability=0.03, op="deploy"),  # past the 0.3 s read timeout
            faults.drop(probability=0.06, op="deploy"),
        ]
        client = Client(sim.url, api_key=sim.api_key, cache=False, timeout=(2.0, 0.3),
                        retry=RetryPolicy(total=2, backoff_factor=0.01))

        def before(request: Any, attempt: int) -> None:
            if "op=deploy" in request.url:
                sends[request.url] += 1

        def after(response: Response) -> None:
            if "op=deploy" in response.url:
                answered.setdefault(response.url, []).append(response.status)

        client.hooks.register("before-send", before)
        client.hooks.register("after-receive", after)
        with client:
            ids = [m["system_id"] for m in client.machines.read()]
            assert len(ids) == MACHINES
            result = run_bulk(lambda sid: client.machine.deploy(sid), ids, concurrency=8,
                              retries=2, retry_delay=0.01, label="deploy", progress=False)
        counted = sim.request_counts[("POST", "MachineHandler", "deploy")]
        injected = sum(rule.hits for rule in rules)
        by_kind = {f"{r.kind}{r.status if r.kind == 'status' else ''}"
                   f"{'' if r.kind != 'status' or r.retry_after is None else '+Retry-After'}": 0
                   for r in rules}
        for rule in rules:
            kind = f"{rule.kind}{rule.status if rule.kind == 'status' else ''}"
            kind += "" if rule.kind != "status" or rule.retry_after is None else "+Retry-After"
            by_kind[kind] += rule.hits
    threads_after = _settle(threads_before)
    fds_held = len(set(_fds().items()) - set(fds_before.items()))

    # Every machine accounted for: a success, or a typed error that names it.
    assert sorted(item.target for item in result.items) == sorted(ids)
    lost = [item.target for item in result.items
            if not item.ok and not (isinstance(item.error, MaasDynError)
                                      and item.target in str(item.error))]
    # A deploy the server may have acted on (2xx, or no answer: timeout or drop) is never
    # sent again; 409/503 answers mean it did nothing, so a retry is not a duplicate.
    duplicates = []
    for url, count in sends.items():
        statuses = answered.get(url, [])
        maybe_acted = sum(1 for s in statuses if s < 400) + (count - len(statuses))
        if maybe_acted > 1:
            duplicates.append(url)
    FIGURES.update(machines=MACHINES, faults_injected=injected, faults_by_kind=by_kind, deploys_sent=sum(sends.values()),
                   server_counted=counted, succeeded=len(result.succeeded),
                   failed_typed=len(result.failed), lost=len(lost),
                   duplicates=len(duplicates), leaked_threads=threads_after - threads_before,
                   fds_held_by_kept_errors=fds_held)
    FIGURES["errors"] = dict(Counter(type(item.error).__name__ for item in result.failed))
    assert lost == [], [(i.target, repr(i.error)) for i in result.items if i.target in lost]
    assert duplicates == []
    assert counted == sum(sends.values())  # the server saw exactly what was sent
    assert injected > 0 and result.failed and result.succeeded
    assert threads_after <= threads_before
    # A Timeout's cause chain (requests -> urllib3) keeps its broken socket reachable
    # while the caller keeps the error; once the results go, nothing may stay open.
    del result, lost
    gc.collect()
    FIGURES["leaked_fds"] = len(set(_fds().items()) - set(fds_before.items()))
    with capsys.disabled():
        print(f"\nMAAS chaos: {FIGURES}")
    assert FIGURES["leaked_fds"] == 0, FIGURES
