"""Provision machines: commission -> test -> deploy -> wait, then release with disk erase.

Runs against the embedded MAAS simulator, so it works anywhere: ``python examples/provision.py``.
Against a real region, connect with its URL and your API key instead, and drop
``interval=`` (the simulator runs 5,000 times faster than real time, so it polls often).
"""

import logging

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import provisioning, select_machines

# Each step is logged with extra={"machine", "action", "state", "duration"}.
logging.basicConfig(level=logging.INFO, format="log: %(message)s")

with MAASSimulator(machines=10, speed=5000) as sim:
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)

    # One new machine through the whole pipeline, with a kernel and cloud-init user data.
    new = select_machines(maas, {"status": "new"})[0]["system_id"]
    outcome = provisioning.provision(
        maas, new, distro_series="noble", hwe_kernel="hwe-24.04",
        user_data="#cloud-config\npackages: [htop]\n", interval=0.05)
    for step in outcome.steps:
        print(f"{new}: {step.action:<10} -> {step.state:<9} ({step.duration:.2f} s)")

    # Every Ready machine at once: deploy only, eight at a time.
    ready = [m["system_id"] for m in select_machines(maas, {"status": "ready"})]
    result = provisioning.provision_many(maas, ready, steps=("deploy",), interval=0.05)
    print(f"deployed {len(result.succeeded)} of {len(ready)} ready machines")

    # And give the first one back, erasing its disks.
    released = provisioning.release(maas, new, erase=True, interval=0.05)
    print(f"{new}: released with disk erase -> {released.status}")
