"""Resources: returned objects with their own actions, for MAAS and TrueNAS.

``client.machines.get(system_id)`` is a machine: a ``dict`` of its fields whose methods
are the ``machine`` handler's actions with the system_id filled in. TrueNAS items of a
CRUD service (``pool.dataset.query()``...) are bound to their service the same way.
``python examples/resources.py``
"""

import asyncio

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator


async def deploy(maas_url: str, api_key: str, system_id: str, os: str) -> dict:
    """The seed of issue 22, with this package's names."""
    async with maas_dyn.aio.maas.connect(maas_url, api_key=api_key, cache=False) as client:
        machine = await client.machines.get(system_id)
        await machine.deploy(distro_series=os)
        return await machine.wait("deployed", interval=0.05)


def tour_maas(url: str, api_key: str) -> str:
    """The sync form: the same objects, the same names."""
    with maas_dyn.maas.connect(url, api_key=api_key, cache=False) as maas:
        machine = next(m for m in maas.machines.read() if m["status_name"] == "Ready")
        print(repr(machine))                               # <machine abc123 node-1 Ready>
        interfaces = machine.interfaces.read()             # /nodes/{system_id}/interfaces/
        print(f"{machine['hostname']}: {len(interfaces)} interfaces, e.g. {interfaces[0]!r}")
        machine.update_(description="storage node")        # PUT /machines/{system_id}/
        print("description:", machine.refresh()["description"])
        fabric = maas.fabrics.read()[0]
        print(f"{fabric!r} has VLANs {[v['vid'] for v in fabric.vlans.read()]}")
        return str(machine["system_id"])


def tour_truenas(url: str, username: str, password: str) -> None:
    """TrueNAS items: update_ (dict keeps its own update), delete, refresh."""
    with maas_dyn.truenas.connect(url, username=username, password=password,
                                  cache=False) as nas:
        disks = [d["name"] for d in nas.disk.details()["unused"]]
        nas.pool.create({"name": "tank", "topology": {"data": [
            {"type": "MIRROR", "disks": disks[:2]}]}}).wait(timeout=60)
        nas.pool.dataset.create({"name": "tank/vms"})
        (dataset,) = nas.pool.dataset.query([["id", "=", "tank/vms"]])
        dataset.update_({"comments": "virtual machines"})  # pool.dataset.update("tank/vms", ...)
        print(f"{dataset!r} comments: {dataset.refresh()['comments']['value']!r}")


def main() -> None:
    """Both simulators; the sync tour, then the async seed."""
    with MAASSimulator(machines=3, speed=5000) as maas_sim:
        system_id = tour_maas(maas_sim.url, maas_sim.api_key)
        done = asyncio.run(deploy(maas_sim.url, maas_sim.api_key, system_id, "noble"))
        print(f"async: {done!r}")
    with TrueNASSimulator(speed=500) as nas_sim:
        tour_truenas(nas_sim.url, nas_sim.username, nas_sim.password)


main()
