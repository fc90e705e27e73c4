"""MAAS simulator benchmarks, each a ratio against a baseline measured in the same run.

Run: python benchmarks/bench_maas_sim.py [--quick]

The simulator runs in its own process, seeded with 10,000 machines (MAAS-sized
documents, about 12 KB each). Prints:
- `machines read` of all of them through the client / a raw requests GET + json.loads
  of the same URL with requests-oauthlib (median of interleaved rounds)
- requests per second the simulator sustains for `users whoami` from 1 and 8 client
  threads sharing one client
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._sim_process import join_all, maas_sim_process
from maas_dyn.maas import Client

QUICK = "--quick" in sys.argv
MACHINES = 2000 if QUICK else 10_000
ROUNDS = 2 if QUICK else 4
CALLS = 400 if QUICK else 2000


def rps(client: Client, threads: int) -> float:
    per_thread = CALLS // threads
    start_gate = threading.Barrier(threads + 1, timeout=60)

    def work() -> None:
        start_gate.wait()
        for _ in range(per_thread):
            client.users.whoami()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start_gate.wait()
    began = time.perf_counter()
    join_all(workers)
    return per_thread * threads / (time.perf_counter() - began)


def main() -> int:
    with maas_sim_process("--machines", str(MACHINES), "--speed", "100") as (url, key):
        client = Client(url, key, cache=False, timeout=(10, 300))
        consumer, token, secret = key.split(":")
        session = requests.Session()
        session.auth = OAuth1(consumer, "", token, secret, signature_method="PLAINTEXT")
        target = url + "api/2.0/machines/"

        def raw() -> int:
            return len(json.loads(session.get(target, timeout=300).content))

        assert len(client.machines.read()) == MACHINES  # warms the simulator's cache
        ours, theirs = [], []
        for _ in range(ROUNDS):
            began = time.perf_counter()
            count = len(client.machines.read())
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            assert raw() == count
            theirs.append(time.perf_counter() - began)
        mine, base = statistics.median(ours), statistics.median(theirs)
        size = len(client.last_response.content) / 1e6 if client.last_response else 0
        print(f"machines read of {MACHINES} machines ({size:.0f} MB): client {mine:.2f} s, "
              f"raw requests+json {base:.2f} s, ratio {mine / base:.2f}")
        one = rps(client, 1)
        eight = rps(client, 8)
        print(f"simulator throughput, users whoami: 1 thread {one:.0f} req/s, "
              f"8 threads {eight:.0f} req/s (ratio {eight / one:.2f})")
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
