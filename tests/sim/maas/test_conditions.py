"""The health fault switches of the MAAS simulator (conditions.py)."""

from __future__ import annotations

import pytest

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.status import Status

from .conftest import Api


def test_switches_change_what_the_api_shows(api: Api, sim: MAASSimulator) -> None:
    machine = next(iter(sim.state.machines))
    sim.conditions.stop_service("tftp", "unknown", controller="maas-controller")
    tftp = next(s for s in api.get("rackcontrollers/").json()[0]["service_set"]
                if s["name"] == "tftp")
    assert tftp == {"name": "tftp", "status": "unknown", "status_info":
                    "tftp is unknown (simulated)"}
    sim.conditions.stop_service("tftp", "running")
    event = sim.conditions.stick_machine(machine, Status.TESTING, for_seconds=600)
    assert api.get(f"machines/{machine}/").json()["status_name"] == "Testing"
    assert event.description == "From 'Ready' to 'Testing'"
    # Sticking a machine in the status it has still dates a fresh status change.
    again = sim.conditions.stick_machine(machine, Status.TESTING, for_seconds=60)
    assert again.id > event.id
    failure = sim.conditions.fail_machine(machine, Status.FAILED_TESTING, "memtest failed")
    shown = api.get(f"machines/{machine}/").json()
    assert shown["status_name"] == "Failed testing" and shown["error_description"] == \
        "memtest failed"
    assert failure.level == "ERROR"
    sim.conditions.start_import(30)
    assert api.get("boot-resources/", op="is_importing").json() is True
    sim.advance(31)
    assert api.get("boot-resources/", op="is_importing").json() is False
    sim.conditions.disable_dhcp()
    assert api.get(f"machines/{machine}/").json()["boot_interface"]["vlan"]["dhcp_on"] is False
    sim.conditions.fill_subnet("10.100.0.0/24", 1.0)
    subnet = next(s for s in api.get("subnets/").json() if s["cidr"] == "10.100.0.0/24")
    stats = api.get(f"subnets/{subnet['id']}/", op="statistics").json()
    assert stats["num_available"] == 0
    event = sim.conditions.error_event("kaboom", machine)
    errors = api.get("events/", op="query", params={"level": "ERROR"}).json()["events"]
    assert errors[0]["description"] == "kaboom" and errors[0]["node"] == machine
    assert event.node == machine


def test_switches_refuse_what_does_not_exist(sim: MAASSimulator) -> None:
    with pytest.raises(KeyError, match="no service 'nope'"):
        sim.conditions.stop_service("nope")
    with pytest.raises(KeyError, match="no controller 'other'"):
        sim.conditions.stop_service("rackd", controller="other")
    with pytest.raises(KeyError, match="no boot resource named 'centos'"):
        sim.conditions.unsync_boot_resource("centos")
    with pytest.raises(KeyError, match="no VLAN 42"):
        sim.conditions.disable_dhcp(0, 42)
    with pytest.raises(KeyError, match="no subnet"):
        sim.conditions.fill_subnet("172.16.0.0/24", 0.5)
    with pytest.raises(ValueError, match="fraction"):
        sim.conditions.fill_subnet("10.100.0.0/24", 0.0)
