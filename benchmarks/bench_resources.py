"""Resources vs plain dicts: reading 1,000 machines, as a ratio measured in this run.

Run: python benchmarks/bench_resources.py [--quick]

Serves 1,000 copies of a machine as the MAAS simulator renders it (every field, the
nested interface and block device sets) from a local HTTP server on 127.0.0.1, and reads
them with two clients of the same description, interleaved: ``resources=False`` (the
dict floor) and the default (each machine a resource bound to the ``machine`` handler).
Prints:
- machines.read of 1,000 as resources / as dicts               target <= 1.10
- (info) binding alone, per machine, in microseconds
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import serve
from maas_dyn._shipped import load_shipped
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator

KEY = "benchconsumer:benchtoken:benchsecret"
QUICK = "--quick" in sys.argv
COUNT = 1000


def interleaved(a: Callable[[], object], b: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median times of a and b, alternating so machine noise hits both alike."""
    a()
    b()
    ta, tb = [], []
    for _ in range(runs):
        start = time.perf_counter()
        a()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        b()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def a_real_machine() -> dict[str, object]:
    """One machine exactly as the simulator renders it."""
    with MAASSimulator(machines=1) as sim, Client(sim.url, sim.api_key, cache=False,
                                                  resources=False) as client:
        (machine,) = client.machines.read()
    return dict(machine)


def main() -> int:
    runs = 5 if QUICK else 21
    document = load_shipped("maas", "3.7")
    template = a_real_machine()
    machines = []
    for i in range(COUNT):
        system_id = f"m{i:05d}"
        machines.append({**template, "system_id": system_id, "hostname": f"node-{i}",
                         "resource_uri": f"/MAAS/api/2.0/machines/{system_id}/"})
    body = json.dumps(machines).encode()
    print(f"  ({COUNT} machines of {len(template)} fields, {len(body) / 1e6:.1f} MB of JSON)")
    routes = {
        "/MAAS/api/2.0/describe/": lambda: (200, "application/json",
                                            json.dumps(document).encode()),
        "/MAAS/api/2.0/machines/": lambda: (200, "application/json", body),
    }
    with serve(routes, {"X-MAAS-API-Hash": document["hash"]}) as origin:
        url = origin + "/MAAS/"
        with Client(url, KEY, cache=False) as bound, \
                Client(url, KEY, cache=False, resources=False) as plain:
            assert type(bound.machines.read()[0]).__name__ == "Machine"
            assert type(plain.machines.read()[0]) is dict
            t_bound, t_plain = interleaved(bound.machines.read, plain.machines.read, runs)
            ratio = t_bound / t_plain
            print(f"  (resources {t_bound * 1000:.1f} ms, dicts {t_plain * 1000:.1f} ms)")
            print(f"{'1,000 machines: resources / dicts':<34} ratio={ratio:8.3f}  target <= 1.10"
                  f"     {'PASS' if ratio <= 1.10 else 'FAIL'}")
            binder = bound._binder
            assert binder is not None
            spec = bound.description.handlers["machines"]
            decoded = json.loads(body)
            start = time.perf_counter()
            binder.wrap(spec, {}, decoded)
            per_item = (time.perf_counter() - start) / COUNT * 1e6
            print(f"{'(info) binding alone, per machine':<34} us={per_item:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
