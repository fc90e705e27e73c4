"""Tests of maas_dyn/workflows/power.py: power settings without leaking secrets."""

from __future__ import annotations

import logging

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import power
from maas_dyn.workflows.power import MASK, PowerSettings
from tests.workflows.conftest import FAST, ids

SECRET = "pa55-w0rd-never-shown"


def test_settings_check_the_driver_and_its_required_parameters() -> None:
    with pytest.raises(errors.InvalidParametersError, match="unknown power type 'amt'"):
        PowerSettings("amt", {})
    with pytest.raises(errors.InvalidParametersError, match="redfish needs power_pass"):
        PowerSettings.redfish("10.0.0.1", "root", "")
    with pytest.raises(errors.InvalidParametersError, match="ipmi needs power_address"):
        PowerSettings.ipmi("")


def test_secrets_never_appear_in_reprs() -> None:
    ipmi = PowerSettings.ipmi("10.0.0.1", "admin", SECRET, k_g="kg-" + SECRET)
    for text in (repr(ipmi), str(ipmi), repr([ipmi]), f"{ipmi!r}"):
        assert SECRET not in text and MASK in text
    assert ipmi.masked()["power_address"] == "10.0.0.1"
    assert PowerSettings.ipmi("10.0.0.1").masked()["power_pass"] == ""  # nothing to mask


def test_set_power_logs_and_errors_hold_no_secret(sim: MAASSimulator, maas: Client,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="maas_dyn")
    machine = ids(maas, "ready")[0]
    updated = power.set_power(maas, machine, PowerSettings.ipmi("10.0.0.9", "admin", SECRET))
    assert updated["power_type"] == "ipmi"
    assert maas.machine.power_parameters(machine)["power_pass"] == SECRET  # stored as sent
    masked = power.get_power_parameters(maas, machine)
    assert masked["power_pass"] == MASK and masked["power_address"] == "10.0.0.9"
    bad = PowerSettings.ipmi("10.0.0.9", "admin", SECRET, driver="LAN_9")
    with pytest.raises(errors.BadRequestError) as info:
        power.set_power(maas, machine, bad)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.args)
    redfish = PowerSettings.redfish("https://bmc", "root", SECRET, node_id="1")
    assert power.set_power(maas, machine, redfish, skip_check=True)["power_type"] == "redfish"
    logged = [r.getMessage() + repr(r.__dict__) for r in caplog.records]
    assert logged and not any(SECRET in line for line in logged)


def test_power_parameters_of_other_drivers_are_masked_too(maas: Client) -> None:
    virsh = next(m for m in maas.machines.read() if m["power_type"] == "virsh")
    assert power.get_power_parameters(maas, virsh["system_id"]).get("power_pass") in (
        MASK, "")


def test_power_on_off_cycle_with_confirmation(maas: Client) -> None:
    deployed = ids(maas, "deployed")[0]
    assert power.power(maas, deployed, "off", wait=True, **FAST) == "off"
    assert power.power(maas, deployed, "on") == "on"
    assert power.power(maas, deployed, "cycle", **FAST) == "on"
    with pytest.raises(errors.InvalidParametersError, match="on, off, cycle"):
        power.power(maas, deployed, "reboot")


def test_power_many_and_query_across_machines(maas: Client) -> None:
    everything = [m["system_id"] for m in maas.machines.read()]
    owned = [*ids(maas, "deployed"), *ids(maas, "allocated")]
    result = power.power_many(maas, everything, "on", wait=True, concurrency=4, **FAST)
    assert sorted(i.target for i in result.succeeded) == sorted(owned)
    assert all(isinstance(i.error, errors.ConflictError) for i in result.failed)
    states = power.query_power(maas, everything, concurrency=8)
    assert {i.target: i.value for i in states.items} == {
        m: ("on" if m in owned else "off") for m in everything}
