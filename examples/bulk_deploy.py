"""Bulk deploy: every machine with a tag, 16 at a time, one outcome per machine.

Failures are injected into the simulator: some deploy requests answer 409 (the server did
not act, so they are retried) and some deployments fail later ("Failed deployment").
The same from a shell: ``maas-dyn PROFILE machines deploy --all-matching tags=k8s --wait``.
``python examples/bulk_deploy.py``
"""

import logging

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import get_waiter, run_bulk, select_machines

logging.getLogger("maas_dyn.workflows").setLevel(logging.ERROR)  # we print every outcome

with MAASSimulator(machines=60, speed=5000, seed=3, deploy_failure_rate=0.1) as sim:
    sim.faults.locked(probability=0.2, retry_after=0, handler="MachineHandler", op="deploy")
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)

    # Tag the Ready machines k8s, then select by the tag like the CLI's --all-matching.
    maas.tags.create(name="k8s", comment="Kubernetes workers")
    ready = [m["system_id"] for m in select_machines(maas, {"status": "ready"})]
    maas.tag.update_nodes("k8s", add=ready)
    targets = [m["system_id"] for m in select_machines(maas, {"tags": "k8s"})]

    waiter = get_waiter(maas, "machine_deployed", interval=0.05)

    def deploy(system_id: str) -> str:
        """Deploy one machine and wait for its final status (run on many threads)."""
        maas.machine.deploy(system_id, distro_series="noble")
        return waiter.wait(system_id)["status_name"]

    result = run_bulk(deploy, targets, concurrency=16, retries=3, retry_delay=0.05,
                      label="deploy", progress=True)
    for item in result.items:
        outcome = item.value if item.ok else f"{type(item.error).__name__}: {item.error}"
        print(f"{item.target}  attempts={item.attempts}  {outcome}")
    print(result.summary().splitlines()[-1])
