"""Tests of maas_dyn/workflows/network.py against the MAAS simulator."""

from __future__ import annotations

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client
from maas_dyn.workflows import network
from tests.workflows.conftest import Recording, ids


def test_vlan_subnet_and_dynamic_range(maas: Client) -> None:
    vlan = network.create_vlan(maas, 1, 300, name="storage", mtu=9000, description="iSCSI")
    assert (vlan["vid"], vlan["name"], vlan["mtu"]) == (300, "storage", 9000)
    setup = network.create_subnet(maas, "10.30.0.0/24", vlan=vlan["id"], name="san",
                                  gateway_ip="10.30.0.1", dns_servers=["10.30.0.2", "1.1.1.1"],
                                  dynamic_range=("10.30.0.100", "10.30.0.199"))
    assert setup.subnet["vlan"]["id"] == vlan["id"]
    assert setup.subnet["dns_servers"] == ["10.30.0.2", "1.1.1.1"]
    assert [(r["type"], r["start_ip"], r["end_ip"]) for r in setup.ranges] == [
        ("dynamic", "10.30.0.100", "10.30.0.199")]
    assert network.create_subnet(maas, "10.31.0.0/24").ranges == []


@pytest.mark.parametrize("vid", [0, 4095])
def test_vlan_ids_are_checked(vid: int) -> None:
    with pytest.raises(errors.InvalidParametersError, match="1-4094"):
        network.create_vlan(Recording(), 0, vid)


@pytest.mark.parametrize(("cidr", "dynamic", "message"), [
    ("10.0.0.0/33", None, "bad CIDR"),
    ("10.0.0.1/24", None, "bad CIDR"),  # host bits set: a typo
    ("10.0.0.0/24", ("10.0.1.1", "10.0.1.9"), "not an ascending range inside"),
    ("10.0.0.0/24", ("10.0.0.9", "10.0.0.1"), "not an ascending range inside"),
    ("10.0.0.0/24", ("10.0.0.1", "nonsense"), "bad address"),
])
def test_addresses_are_checked_before_sending(cidr: str, dynamic: tuple[str, str] | None,
                                              message: str) -> None:
    client = Recording()
    with pytest.raises(errors.InvalidParametersError, match=message):
        network.create_subnet(client, cidr, dynamic_range=dynamic)
    assert client.requests == []


def test_link_boot_interfaces_of_many_machines(maas: Client) -> None:
    setup = network.create_subnet(maas, "10.40.0.0/24", dynamic_range=("10.40.0.50",
                                                                       "10.40.0.60"))
    ready = ids(maas, "ready")
    result = network.link_machines(maas, ready, setup.subnet["id"], mode="static",
                                   concurrency=3)
    assert [i.target for i in result.succeeded] == ready
    addresses = {i.value["links"][-1]["ip_address"] for i in result.succeeded}
    assert len(addresses) == len(ready) and all(a.startswith("10.40.0.") for a in addresses)


def test_link_by_name_or_id_with_modes(maas: Client) -> None:
    machine = ids(maas, "ready")[0]
    subnet = network.create_subnet(maas, "10.50.0.0/24").subnet["id"]
    eth0 = maas.interfaces.read(machine)[0]
    linked = network.link_interface(maas, machine, subnet, mode="STATIC", interface="eth0",
                                    ip_address="10.50.0.7")
    assert linked["links"][-1]["ip_address"] == "10.50.0.7"
    linked = network.link_interface(maas, machine, subnet, mode="dhcp",
                                    interface=str(eth0["id"]))
    assert linked["links"][-1]["mode"] == "dhcp"
    with pytest.raises(errors.InvalidParametersError, match="no interface 'eth9'"):
        network.link_interface(maas, machine, subnet, interface="eth9")


def test_link_modes_are_checked() -> None:
    with pytest.raises(errors.InvalidParametersError, match="mode must be one of"):
        network.link_interface(Recording(), "abc", 1, mode="bridge")
    with pytest.raises(errors.InvalidParametersError, match="ip_address only with static"):
        network.link_interface(Recording(), "abc", 1, mode="dhcp", ip_address="10.0.0.1")


def test_a_machine_without_a_boot_interface_needs_one_named() -> None:
    class NoBoot(Recording):
        class machine:  # noqa: N801 - stands in for the generated handler
            @staticmethod
            def read(system_id: str) -> dict[str, object]:
                return {"boot_interface": None}

    with pytest.raises(errors.InvalidParametersError, match="no boot interface"):
        network.link_interface(NoBoot(), "abc", 1)
