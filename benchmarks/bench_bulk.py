"""Bulk deploy benchmark: 1,000 simulated machines, concurrency 32, every outcome reported.

Run: python benchmarks/bench_bulk.py [--machines N] [--sample N] [--latency SECONDS]

One run, one embedded MAAS simulator (real HTTP on 127.0.0.1), three measurements of the
same call, ``POST /machines/{id}/?op=deploy``:

1. bulk: ``run_bulk`` over every machine with concurrency 32 (retries=1) - measured in full;
2. sequential through maas_dyn, one machine after the other;
3. sequential single calls through raw ``requests.Session`` + ``requests_oauthlib.OAuth1``
   (PLAINTEXT), the floor a hand-written script gets.

2 and 3 are timed on a sample of machines and extrapolated to the full count (the output
says so), to keep the run short. Before each phase every machine is made Ready again.

The simulator models what makes bulk worth it: a region takes time to answer a deploy
(it allocates, writes the config and starts power-on through the rack), here
``--latency`` seconds of wall time per deploy. Failures are injected: 2% of deploy
requests answer 409 (retried once by the bulk run: the server did not act on them), and
``deploy_failure_rate=0.05`` makes 5% of deployments end in "Failed deployment", which the
optional wait phase (timed separately) reports per machine. Every machine's outcome is
written to a JSON file whose path is printed; failures are listed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maas_dyn.errors import WaiterError
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.status import Status
from maas_dyn.workflows import get_waiter, run_bulk

CONCURRENCY = 32
CONFLICT_RATE = 0.02
DEPLOY_FAILURE_RATE = 0.05
TARGET = 10.0


def make_all_ready(sim: MAASSimulator) -> None:
    """Put every machine back to Ready, unowned (setup, not measured)."""
    with sim.state.lock:
        for machine in sim.state.machines.values():
            machine.owner = None
            sim.state.set_status(machine, Status.READY)


def timed(label: str, fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<52} {seconds:8.2f} s")
    return seconds, value


def sequential(call: Any, targets: list[str]) -> int:
    failed = 0
    for target in targets:
        try:
            call(target)
        except Exception:  # counted, like the bulk run counts them
            failed += 1
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=100,
                        help="machines timed in each sequential run (then extrapolated)")
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the simulated region takes to answer a deploy")
    parser.add_argument("--outcomes", type=Path, default=None,
                        help="where to write every machine's outcome (JSON)")
    args = parser.parse_args()
    sample = min(args.sample, args.machines)
    # Every failure is reported below, per machine; the per-item warnings would repeat them.
    logging.getLogger("maas_dyn.workflows").setLevel(logging.ERROR)

    with MAASSimulator(machines=args.machines, speed=20_000.0, seed=7,
                       deploy_failure_rate=DEPLOY_FAILURE_RATE) as sim:
        sim.faults.slow(args.latency, probability=1.0, handler="MachineHandler", op="deploy")
        sim.faults.locked(probability=CONFLICT_RATE, retry_after=0, handler="MachineHandler",
                          op="deploy")
        client = Client(sim.url, api_key=sim.api_key, cache=False)
        ids = sorted(m["system_id"] for m in client.machines.read())
        print(f"MAAS simulator {sim.version}: {len(ids)} machines, deploy latency "
              f"{args.latency * 1000:.0f} ms, {CONFLICT_RATE:.0%} of deploys answer 409, "
              f"{DEPLOY_FAILURE_RATE:.0%} of deployments fail")

        make_all_ready(sim)
        seq_time, seq_failed = timed(
            f"sequential maas_dyn, {sample} machines (sample)",
            lambda: sequential(client.machine.deploy, ids[:sample]))

        make_all_ready(sim)
        consumer, token, secret = sim.api_key.split(":")
        session = requests.Session()
        session.auth = OAuth1(consumer, "", token, secret, signature_method="PLAINTEXT")
        base = f"{sim.url}api/2.0/machines/"

        def raw_deploy(system_id: str) -> Any:
            # The client's default timeout, so both sides are bounded alike.
            response = session.post(f"{base}{system_id}/", params={"op": "deploy"},
                                    timeout=(10, 120))
            response.raise_for_status()
            return response.json()

        raw_time, raw_failed = timed(f"sequential raw requests, {sample} machines (sample)",
                                     lambda: sequential(raw_deploy, ids[:sample]))

        make_all_ready(sim)
        bulk_time, result = timed(
            f"bulk maas_dyn, concurrency {CONCURRENCY}, all {len(ids)} machines",
            lambda: run_bulk(client.machine.deploy, ids,
                             concurrency=CONCURRENCY, retries=1, retry_delay=0.05,
                             label="deploy"))

        waiter = get_waiter(client, "machine_deployed", interval=0.02, timeout=60)
        deploying = [item.target for item in result.succeeded]
        _, waited = timed(
            f"(separate) wait for {len(deploying)} deployments, concurrency {CONCURRENCY}",
            lambda: run_bulk(lambda sid: waiter.wait(sid)["status_name"], deploying,
                             concurrency=CONCURRENCY, label="wait"))

    scale = len(ids) / sample
    seq_full, raw_full = seq_time * scale, raw_time * scale
    print()
    print(f"sequential maas_dyn, extrapolated to {len(ids)}: {seq_full:8.2f} s "
          f"(measured on {sample}, x{scale:g}; {seq_failed} of the sample failed)")
    print(f"raw requests, extrapolated to {len(ids)}:       {raw_full:8.2f} s "
          f"(measured on {sample}, x{scale:g}; {raw_failed} of the sample failed)")
    print(f"bulk, measured:                          {bulk_time:8.2f} s")
    speedup = seq_full / bulk_time
    print(f"bulk vs sequential maas_dyn: {speedup:5.1f}x faster "
          f"(target >= {TARGET:g}x: {'met' if speedup >= TARGET else 'NOT met'})")
    print(f"bulk vs {len(ids)} raw requests calls: {raw_full / bulk_time:5.1f}x faster")
    print("  (bulk overlaps the region's answer time; with --latency 0 this in-process "
          "simulator shares the client's CPU and GIL, so nothing is left to overlap)")

    finals = {item.target: item.value for item in waited.succeeded}
    finals.update({item.target: item.error.last_state for item in waited.failed
                   if isinstance(item.error, WaiterError)})
    rows = [{"system_id": item.target, "deploy": "ok" if item.ok else "failed",
             "attempts": item.attempts,
             "error": "" if item.ok else f"{type(item.error).__name__}: {item.error}",
             "final_status": finals.get(item.target, "")} for item in result.items]
    retried = sum(1 for item in result.items if item.attempts > 1)
    print()
    print(f"outcomes of all {len(rows)} machines: deploy accepted {len(result.succeeded)}, "
          f"refused {len(result.failed)} (409s injected and retried: {retried} machines)")
    print("  final status after the wait: "
          + ", ".join(f"{status or 'not deployed'} {count}"
                      for status, count in Counter(r["final_status"] for r in rows).items()))
    for row in rows:
        if row["deploy"] != "ok" or row["final_status"] != "Deployed":
            print(f"  {row['system_id']}: {row['error'] or row['final_status']}")
    path = args.outcomes or Path(tempfile.gettempdir()) / "bench_bulk_outcomes.json"
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"every machine's outcome: {path}")
    return 0 if speedup >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
