"""Every MAAS health rule fires against the simulator through its fault switch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import maas_dyn
from maas_dyn.health import Status, Threshold, check_maas
from maas_dyn.health.maas_rules import RULES, THRESHOLDS
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.status import Status as MachineStatus
from tests.health.promtext import parse_exposition


@pytest.fixture
def sim() -> Iterator[MAASSimulator]:
    # Eight machines: the seed's status cycle puts none in Broken before the ninth.
    with MAASSimulator(machines=8) as running:
        yield running


@pytest.fixture
def client(sim: MAASSimulator) -> Iterator[Client]:
    with maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as connected:
        yield connected


def _first(sim: MAASSimulator) -> str:
    return next(iter(sim.state.machines))


# rule -> (fault switch, expected status of the rule, text its problem message contains)
Switch = Callable[[MAASSimulator], Any]
FAULTS: dict[str, tuple[Switch, Status, str]] = {
    "stuck_machines": (lambda s: s.conditions.stick_machine(_first(s), for_seconds=2 * 3600),
                       Status.CRITICAL, "Deploying for 2h"),
    "failed_machines": (lambda s: s.conditions.fail_machine(_first(s), reason="curtin failed"),
                        Status.CRITICAL, "Failed deployment: "),
    "controller_services": (lambda s: s.conditions.stop_service("dhcpd", "degraded"),
                            Status.WARNING, "maas-controller: dhcpd degraded"),
    "boot_resources": (lambda s: s.conditions.unsync_boot_resource("ubuntu/jammy", 25),
                       Status.WARNING, "ubuntu/jammy amd64/ga-22.04: syncing, 25% on the region"),
    "boot_import": (lambda s: s.conditions.start_import(), Status.WARNING,
                    "image import running"),
    "dhcp_vlans": (lambda s: s.conditions.disable_dhcp(), Status.WARNING,
                   "fabric-0.untagged: 8 machines boot here, DHCP OFF"),
    "subnet_usage": (lambda s: s.conditions.fill_subnet("192.168.10.0/24", 0.85),
                     Status.WARNING, "192.168.10.0/24: 85% used, 37 free"),
    "recent_errors": (lambda s: s.conditions.error_event("power driver crashed"),
                      Status.WARNING, "1 ERROR events in the last 1h; newest: region: "
                      "power driver crashed"),
}


def test_the_seeded_region_is_healthy(client: Client) -> None:
    report = check_maas(client)
    assert report.status == Status.OK and report.exit_code == 0, report.to_text()
    assert [r.name for r in report.results] == [r.name for r in RULES]
    by_status = report.result("machines_by_status")
    assert {f.labels["status"]: f.value for f in by_status.findings} == {
        "Allocated": 1, "Deployed": 1, "New": 1, "Ready": 5}
    assert len(report.result("controller_services").findings) == 14


def test_every_rule_has_a_fault_switch() -> None:
    assert set(FAULTS) == {r.name for r in RULES} - {"machines_by_status"}


@pytest.mark.parametrize("rule", sorted(FAULTS))
def test_each_rule_fires(sim: MAASSimulator, client: Client, rule: str) -> None:
    switch, expected, text = FAULTS[rule]
    switch(sim)
    report = check_maas(client)
    result = report.result(rule)
    assert result.status == expected, report.to_text()
    assert any(text in f.message for f in result.problems), [f.message for f in result.findings]
    others = [r for r in report.results if r.name != rule and r.status != Status.OK]
    assert not others or rule == "failed_machines", report.to_text()  # its ERROR event counts
    assert report.status == expected or rule == "failed_machines"
    assert report.exit_code == int(report.status)
    document = json.loads(report.to_json())
    assert document["status"] == report.status.name
    rule_json = next(r for r in document["rules"] if r["name"] == rule)
    assert rule_json["status"] == expected.name
    assert any(text in f["message"] for f in rule_json["findings"])
    families = parse_exposition(report.to_prometheus())
    assert families["maas_health_rule_status"][(("rule", rule),)] == int(expected)
    assert f"maas_{rule}" in families
    assert text in report.to_text()


def test_stuck_thresholds_and_unknown_age(sim: MAASSimulator, client: Client) -> None:
    machine = _first(sim)
    sim.conditions.stick_machine(machine, MachineStatus.DISK_ERASING, for_seconds=3600)
    assert check_maas(client).result("stuck_machines").status == Status.OK  # erasing takes hours
    tighter = {"stuck.disk_erasing": Threshold(600, 1800)}
    assert check_maas(client, thresholds=tighter).result("stuck_machines").status == \
        Status.CRITICAL
    with sim.state.lock:  # a status-change event that MAAS no longer keeps
        sim.state.events.clear()
    result = check_maas(client).result("stuck_machines")
    assert result.status == THRESHOLDS["stuck.disk_erasing"].missing
    assert "an unknown time (no status-change event)" in result.findings[0].message
    assert "NaN" in check_maas(client).to_prometheus()


def test_broken_is_a_warning_with_its_reason(sim: MAASSimulator, client: Client) -> None:
    machine = _first(sim)
    with sim.state.lock:
        sim.state.set_status(sim.state.machine(machine), MachineStatus.BROKEN, "PSU")
        sim.state.machine(machine).error_description = "PSU died"
        sim.state.events.clear()
    result = check_maas(client).result("failed_machines")
    assert result.status == Status.WARNING
    assert result.findings[0].message.endswith("Broken: PSU died")


def test_no_rack_controller_and_no_images_are_critical(sim: MAASSimulator,
                                                        client: Client) -> None:
    with sim.state.lock:
        sim.state.controllers.clear()
        sim.state.boot_resources.clear()
    report = check_maas(client)
    assert report.result("controller_services").status == Status.CRITICAL
    assert "no rack controller is registered" in report.to_text()
    assert report.result("boot_resources").status == Status.CRITICAL


def test_relayed_dhcp_is_fine(sim: MAASSimulator, client: Client) -> None:
    sim.conditions.disable_dhcp()
    with sim.state.lock:
        vlan = sim.state.fabric_vlan(0, 0)
        assert vlan is not None
        vlan.relay_vlan_id = sim.state.fabric_vlan(0, 100).id  # type: ignore[union-attr]
        sim.state.touch_all()
    result = check_maas(client).result("dhcp_vlans")
    assert result.status == Status.OK and "DHCP relayed" in result.findings[0].message


def test_a_forbidden_read_makes_only_that_rule_unknown(sim: MAASSimulator,
                                                       client: Client) -> None:
    sim.faults.status(403, "nope", handler="SubnetsHandler", times=5)
    report = check_maas(client)
    assert report.result("subnet_usage").status == Status.UNKNOWN
    assert report.result("subnet_usage").error is not None
    assert report.status == Status.UNKNOWN
    assert "could not check" in report.to_text()


def test_unreachable_region_is_unknown_with_one_clear_line() -> None:
    with MAASSimulator(machines=1) as gone:
        url, key = gone.url, gone.api_key
        client = maas_dyn.maas.connect(url, api_key=key, cache=False,
                                       retry=maas_dyn.RetryPolicy(total=0))
    report = check_maas(client)
    assert report.status == Status.UNKNOWN and report.exit_code == 3
    assert report.results == ()
    assert report.reason == f"cannot reach MAAS at {url}: connection refused"
    assert key not in report.to_json() and key not in report.to_prometheus()
    families = parse_exposition(report.to_prometheus())
    assert families["maas_health_up"][(("target", url),)] == 0


def test_a_rejected_key_is_unknown(sim: MAASSimulator) -> None:
    consumer, token, _ = sim.api_key.split(":")
    client = maas_dyn.maas.connect(sim.url, api_key=f"{consumer}:{token}:wrong", cache=False)
    report = check_maas(client)
    assert report.status == Status.UNKNOWN
    assert report.reason is not None and "refused the credentials" in report.reason
    assert "wrong" not in report.reason
