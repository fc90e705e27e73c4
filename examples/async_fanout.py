"""Async fan-out: one event loop drives a MAAS region and a TrueNAS box at once.

MAAS calls run the sync funnel in a bounded thread pool; TrueNAS calls ride the
WebSocket's reader thread (no thread per call). ``python examples/async_fanout.py``
"""

import asyncio

from maas_dyn.aio import maas as aio_maas
from maas_dyn.aio import truenas as aio_truenas
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator


async def deploy_all(url: str, api_key: str) -> None:
    """Deploy every Ready machine at once, then wait for all of them together."""
    async with aio_maas.connect(url, api_key, cache=False, max_workers=16) as maas:
        ready = await maas.machines.read(status="ready")   # machines: resources
        await asyncio.gather(*(m.deploy(distro_series="noble") for m in ready))
        # Each wait runs the waiter machine_deployed and updates its machine in place.
        await asyncio.gather(*(m.wait("deployed", interval=0.05) for m in ready))
        print(f"MAAS: {len(ready)} machines {', '.join(sorted({m['status_name'] for m in ready}))}")


async def build_storage(url: str, username: str, password: str) -> None:
    """Query in parallel, then create two pools at once and await both jobs."""
    async with aio_truenas.connect(url, username=username, password=password,
                                   cache=False) as nas:
        disks, pools = await asyncio.gather(nas.disk.details(), nas.pool.query())
        names = [d["name"] for d in disks["unused"]]
        print(f"TrueNAS: {len(names)} unused disks, {len(pools)} pools")
        jobs = await asyncio.gather(
            nas.pool.create({"name": "fast", "topology": {"data": [
                {"type": "MIRROR", "disks": names[:2]}]}}),
            nas.pool.create({"name": "bulk", "topology": {"data": [
                {"type": "RAIDZ1", "disks": names[2:5]}]}}),
        )
        made = await asyncio.gather(*(job.wait(timeout=60) for job in jobs))
        print(f"TrueNAS: pools {', '.join(pool['name'] for pool in made)} created")


async def main() -> None:
    """Both simulators, both clients, one event loop."""
    with MAASSimulator(machines=30, speed=5000) as maas_sim, \
            TrueNASSimulator(speed=500) as nas_sim:
        await asyncio.gather(
            deploy_all(maas_sim.url, maas_sim.api_key),
            build_storage(nas_sim.url, nas_sim.username, nas_sim.password),
        )


asyncio.run(main())
