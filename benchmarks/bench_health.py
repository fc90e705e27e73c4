"""MAAS health-check benchmark: a full check against one raw ``machines read``.

Run: python benchmarks/bench_health.py [--machines N]

Against the MAAS simulator with 10,000 machines, run in its own process on 127.0.0.1
as a real region would be (in this process its threads would compete for our GIL),
prints the time of one raw ``GET machines/`` through requests + requests-oauthlib +
json, the time of one full ``check_maas()`` (every rule: the same machines read, plus
controllers, boot resources, subnets with statistics, ERROR events and the events of
the 1,000 Broken machines), and their ratio (target <= 1.5). A first read of each kind,
not timed, lets the simulator build its cached machine documents.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import maas_dyn
from benchmarks._sim_process import maas_sim_process
from maas_dyn.health import check_maas

TARGET = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=10_000)
    machines = parser.parse_args().machines
    with maas_sim_process("--machines", str(machines)) as (url, key):
        consumer, token, secret = key.split(":")
        session = requests.Session()
        session.auth = OAuth1(consumer, "", token, secret, signature_method="PLAINTEXT")

        def raw_read() -> int:
            return len(json.loads(session.get(url + "api/2.0/machines/", timeout=300).content))

        client = maas_dyn.maas.connect(url, api_key=key, cache=False, timeout=(10, 300))
        assert raw_read() == machines  # warm-up: the simulator caches machine documents
        check_maas(client)

        start = time.perf_counter()
        raw_read()
        raw = time.perf_counter() - start
        start = time.perf_counter()
        report = check_maas(client)
        health = time.perf_counter() - start
        client.close()
        session.close()

    by_status = {f.labels["status"]: int(f.value or 0)
                 for f in report.result("machines_by_status").findings}
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(by_status.items()))
    print(f"machines: {sum(by_status.values())} ({statuses})")
    print(f"report: {report.status.name}, {sum(len(r.findings) for r in report.results)} findings")
    print(f"raw machines read (requests + json)  {raw:8.3f} s")
    print(f"full health check (check_maas)       {health:8.3f} s")
    ratio = health / raw
    print(f"health / raw read                    ratio={ratio:6.3f}  target <= {TARGET}  "
          f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
