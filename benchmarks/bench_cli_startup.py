"""CLI start-up time: `maas-dyn PROFILE users whoami` against a profile's cached description.

Run: python benchmarks/bench_cli_startup.py [--quick] [--importtime]

Each figure is the best of N subprocess runs, interleaved with the baseline
`python -c "import requests"` measured in the same run, against a local HTTP server on
127.0.0.1 that answers whoami. The CLI is run the way the `maas-dyn` console script runs
it (import main, call it); `python -m maas_dyn.cli.maas` is shown too (runpy adds a few
ms). Prints `ratio=<x> target<=1.5`. With --importtime, also prints the modules whose
import dominates the CLI's start-up (`python -X importtime`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._server import serve
from maas_dyn._shipped import load_shipped
from maas_dyn.cli._common.profiles import Profile, ProfileStore

KEY = "benchconsumer:benchtoken:benchsecret"
RUNS = 5 if "--quick" in sys.argv else 25
TARGET = 1.5
# What the console script generated for `maas-dyn = maas_dyn.cli.maas:main` runs.
CONSOLE_SCRIPT = "import sys; from maas_dyn.cli.maas import main; sys.exit(main())"


def elapsed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=60)
    return time.perf_counter() - start


def import_profile(command: list[str], env: dict[str, str], top: int = 12) -> list[str]:
    """The slowest imports (cumulative) of one run, from `python -X importtime`."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env, check=True,
                          capture_output=True, text=True, timeout=60)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            # One space, then two more per nesting level.
            rows.append((int(match[2]), (len(match[3]) - 1) // 2, match[4]))
    shown = [row for row in rows if row[1] <= 1]  # top level and their direct children
    return [f"{cumulative / 1000:7.1f} ms  {'  ' * depth}{name}"
            for cumulative, depth, name in sorted(shown, reverse=True)[:top]]


def main() -> None:
    doc = load_shipped("maas", "3.7")
    whoami = json.dumps({"username": "bench", "is_superuser": True}).encode()
    routes = {"/MAAS/api/2.0/users/": lambda: (200, "application/json", whoami)}
    with tempfile.TemporaryDirectory() as config, \
            serve(routes, headers={"X-MAAS-API-Hash": doc["hash"]}) as origin:
        ProfileStore(Path(config) / "profiles").save(
            Profile("bench", f"{origin}/MAAS/api/2.0/", KEY, doc))
        env = {**os.environ, "MAAS_DYN_CONFIG_DIR": config, "PYTHONPATH": str(ROOT)}
        words = ["bench", "users", "whoami"]
        script = [sys.executable, "-c", CONSOLE_SCRIPT, *words]
        module = [sys.executable, "-m", "maas_dyn.cli.maas", *words]
        baseline = [sys.executable, "-c", "import requests"]
        for command in (script, module):
            answer = subprocess.run(command, env=env, check=True, capture_output=True,
                                    timeout=60).stdout
            assert json.loads(answer)["username"] == "bench", answer
        times: dict[str, list[float]] = {"script": [], "module": [], "baseline": []}
        for _ in range(RUNS):  # interleaved, so machine noise hits all alike
            times["script"].append(elapsed(script, env))
            times["module"].append(elapsed(module, env))
            times["baseline"].append(elapsed(baseline, env))
        best = {name: min(samples) * 1000 for name, samples in times.items()}
        print(f"maas-dyn bench users whoami: {best['script']:.1f} ms "
              f"(python -m: {best['module']:.1f} ms)   python -c 'import requests': "
              f"{best['baseline']:.1f} ms   (best of {RUNS})")
        if "--importtime" in sys.argv:
            print("slowest imports of the CLI run (cumulative):")
            print("\n".join(import_profile(script, env)))
    ratio = best["script"] / best["baseline"]
    print(f"ratio={ratio:.2f} target<={TARGET}")


if __name__ == "__main__":
    main()
