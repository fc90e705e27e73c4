"""The seed of issue 22 against the simulators: resources on a live server."""

from __future__ import annotations

import asyncio
from typing import Any

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator


async def _deploy(maas_url: str, api_key: str, system_id: str, os: str) -> Any:
    # The seed, with this package's names (docs/resources.md shows it too).
    async with maas_dyn.aio.maas.connect(maas_url, api_key=api_key, cache=False) as client:
        machine = await client.machines.get(system_id)
        await machine.deploy(distro_series=os)
        return await machine.wait("deployed", interval=0.05, timeout=30)


def test_the_seed_deploys_a_machine_through_its_resource() -> None:
    with MAASSimulator(machines=2, speed=5000) as sim:
        with maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as maas:
            ready = [m for m in maas.machines.read() if m["status_name"] == "Ready"]
            system_id = ready[0]["system_id"]
            assert repr(ready[0]).startswith(f"<machine {system_id} ")
            plain = maas.machine.read(system_id)
        done = asyncio.run(_deploy(sim.url, sim.api_key, system_id, "noble"))
        assert done["status_name"] == "Deployed" and done["system_id"] == system_id
        assert done.keys() == plain.keys()


def test_sync_resources_read_relations_and_refresh_on_the_simulator() -> None:
    with MAASSimulator(machines=1, speed=5000) as sim, \
            maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as maas:
        (machine,) = maas.machines.read()
        assert machine.interfaces.read() == maas.interfaces.read(machine["system_id"])
        machine.update_(description="from a resource")
        assert machine.refresh()["description"] == "from a resource"
        fabric = maas.fabrics.read()[0]
        assert fabric.vlans.read() == maas.vlans.read(fabric["id"])


def test_truenas_dataset_resource_on_the_simulator() -> None:
    with TrueNASSimulator(speed=500) as sim, \
            maas_dyn.truenas.connect(sim.url, username=sim.username, password=sim.password,
                                     cache=False) as nas:
        disks = [d["name"] for d in nas.disk.details()["unused"]]
        nas.pool.create({"name": "tank", "topology": {"data": [
            {"type": "MIRROR", "disks": disks[:2]}]}}).wait(timeout=60)
        nas.pool.dataset.create({"name": "tank/vms"})
        dataset = nas.pool.dataset.get_instance("tank/vms")
        assert repr(dataset) == "<pool.dataset tank/vms>"
        dataset.update_({"comments": "vms"})
        assert dataset.refresh()["comments"]["value"] == "vms"
        dataset.delete()
        assert nas.pool.dataset.query([["id", "=", "tank/vms"]]) == []
