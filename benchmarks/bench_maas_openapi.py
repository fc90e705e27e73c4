"""Connect time with the v2 OpenAPI overlay (issue 24): what openapi.yaml costs.

Run: python benchmarks/bench_maas_openapi.py [--quick]

A local HTTP server on 127.0.0.1 serves the real 3.7 describe document and, as a 3.3+
region does, /MAAS/api/2.0/openapi.yaml: once as the real YAML (needs PyYAML; skipped
without it) and once as JSON text (what the simulator serves). Prints medians of:
- cold connect without the overlay (openapi=False), and with it (one more round trip,
  the document parsed and reduced)
- warm connect (cached) without and with it             target: no request, <= 15 ms
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import serve
from maas_dyn._cache import DescriptionCache
from maas_dyn._optional import optional_module
from maas_dyn._shipped import load_shipped, load_shipped_openapi
from maas_dyn.maas import Client

KEY = "benchconsumer:benchtoken:benchsecret"
QUICK = "--quick" in sys.argv


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    runs = 3 if QUICK else 11
    document = load_shipped("maas", "3.7")
    describe = json.dumps(document).encode()
    openapi = load_shipped_openapi("3.7")
    yaml = optional_module("record", "yaml")
    bodies = {"JSON": json.dumps(openapi).encode()}
    if yaml is not None:
        bodies["YAML"] = yaml.safe_dump(openapi).encode()
    ok = True
    for kind, body in bodies.items():
        routes = {
            "/MAAS/api/2.0/describe/": lambda: (200, "application/json", describe),
            "/MAAS/api/2.0/openapi.yaml": partial(
                tuple, (200, "application/openapi+yaml", body)),
        }
        with serve(routes, {"X-MAAS-API-Hash": document["hash"]}) as origin:
            url = origin + "/MAAS/"
            for overlay in (False, True):
                cold = median_ms(partial(Client, url, KEY, cache=False, openapi=overlay), runs)
                with tempfile.TemporaryDirectory() as folder:
                    cache = DescriptionCache("maas", Path(folder))
                    warm_client = partial(Client, url, KEY, cache=cache, openapi=overlay)
                    warm_client()  # fills the cache
                    warm = median_ms(warm_client, runs)
                ok = ok and warm <= 15
                print(f"openapi.yaml as {kind}, overlay={overlay!s:5}: cold {cold:7.1f} ms, "
                      f"warm {warm:5.1f} ms")
    print("PASS" if ok else "FAIL: a warm connect took more than 15 ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
