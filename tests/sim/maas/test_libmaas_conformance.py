"""python-libmaas, Canonical's own client, against the simulator: its object API as is.

Every call here is what a libmaas user writes; nothing works around the simulator. The
client sends base64-encoded multipart parts, a headerless part when there are no
parameters, decodes ``details`` as BSON and polls ``machine read`` while it waits.
python-libmaas 0.6.8 installs and imports on Python 3.10 to 3.13; where it is not
installed the module is skipped with that reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from maas_dyn.sim.maas import MAASSimulator

client_module = pytest.importorskip(
    "maas.client", reason="python-libmaas (the test extra) is not installed"
)

# libmaas polls with asyncio.sleep(wait_interval) while a machine is busy; the simulator
# runs long operations fast, so a short interval keeps waits short without a head start.
POLL = 0.02


@pytest.fixture(scope="module")
def sim() -> Iterator[MAASSimulator]:
    with MAASSimulator(version="3.7", machines=6, speed=2000.0, seed=3) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client(sim: MAASSimulator) -> Iterator[Any]:
    # libmaas runs its coroutines on the thread's current event loop, which a fresh
    # script's main thread has; earlier tests in this process ran asyncio.run(), which
    # leaves none set. Give libmaas the fresh-process condition it is written for.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield client_module.connect(sim.url, apikey=sim.api_key)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_machines_list_and_get(client: Any) -> None:
    machines = client.machines.list()
    assert len(machines) == 6
    again = client.machines.get(machines[0].system_id)
    assert again.hostname == machines[0].hostname


def test_allocate_deploy_release_with_wait(client: Any) -> None:
    from maas.client.enum import NodeStatus

    machine = client.machines.allocate()
    assert machine.status == NodeStatus.ALLOCATED
    machine.deploy(distro_series="noble", wait=True, wait_interval=POLL)
    assert machine.status == NodeStatus.DEPLOYED
    config = yaml.safe_load(machine.get_curtin_config())
    assert config["storage"]["version"] == 1
    machine.release(wait=True, wait_interval=POLL)
    assert machine.status == NodeStatus.READY


def test_allocate_by_hostname_and_rename(client: Any) -> None:
    ready = [m for m in client.machines.list() if m.status_name == "Ready"]
    wanted = ready[-1]
    allocated = client.machines.allocate(hostname=wanted.hostname)
    assert allocated.system_id == wanted.system_id
    allocated.hostname = "qa-renamed"
    allocated.save()
    assert client.machines.get(wanted.system_id).hostname == "qa-renamed"
    allocated.release(wait=True, wait_interval=POLL)


def test_machine_details_are_bson(client: Any) -> None:
    machine = client.machines.list()[0]
    details = machine.get_details()
    assert set(details) == {"lshw", "lldp"}
    assert details["lshw"].startswith(b"<?xml")


def test_tags_create_list_delete(client: Any) -> None:
    tag = client.tags.create("qa-tag", comment="made by libmaas")
    assert tag.name == "qa-tag" and tag.comment == "made by libmaas"
    assert "qa-tag" in {t.name for t in client.tags.list()}
    tag.delete()
    assert "qa-tag" not in {t.name for t in client.tags.list()}


def test_network_objects(client: Any) -> None:
    fabric = client.fabrics.get_default()
    assert fabric.vlans and fabric.vlans[0].vid == 0
    made = client.fabrics.create(name="qa-fabric")
    assert made.name == "qa-fabric"
    subnets = client.subnets.list()
    assert subnets and subnets[0].vlan is not None
    assert client.spaces.list()
    assert client.ip_ranges.list() is not None
    made.delete()


def test_zones_pools_domains(client: Any) -> None:
    zone = client.zones.create("qa-zone", description="libmaas zone")
    assert zone.description == "libmaas zone"
    assert "qa-zone" in {z.name for z in client.zones.list()}
    pool = client.resource_pools.create("qa-pool", description="libmaas pool")
    assert pool.name == "qa-pool"
    domain = client.domains.create("qa.example")
    assert domain.authoritative is True
    assert "qa.example" in {d.name for d in client.domains.list()}


def test_devices_controllers_boot_resources_events(client: Any) -> None:
    device = client.devices.create(["52:54:00:aa:bb:cd"], hostname="qa-device")
    assert device.hostname == "qa-device"
    assert "qa-device" in {d.hostname for d in client.devices.list()}
    assert client.rack_controllers.list() and client.region_controllers.list()
    assert client.boot_resources.list() and client.boot_sources.list()
    events = client.events.query()
    assert len(events) > 0


def test_account_users_and_version(client: Any) -> None:
    assert client.users.whoami().is_admin
    credentials = client.account.create_credentials()
    assert credentials.token_secret
    assert client.version.get().version.startswith("3.7")


def test_pods_and_controller_power(client: Any) -> None:
    pod = client.pods.create(type="virsh", power_address="qemu+ssh://qa@host/system")
    assert pod.type == "virsh" and pod.zone.name == "default"
    assert pod.parameters()["power_address"] == "qemu+ssh://qa@host/system"
    assert pod.id in {p.id for p in client.pods.list()}
    pod.delete()
    rack = client.rack_controllers.list()[0]
    assert rack.get_power_parameters() == {}


def test_storage_collections(client: Any) -> None:
    machine = client.machines.list()[0]
    assert len(machine.block_devices) > 0
    assert list(machine.volume_groups) == [] and list(machine.bcaches) == []
    assert list(machine.cache_sets) == [] and list(machine.raids) == []
