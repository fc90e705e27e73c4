"""The machine lifecycle on the simulated clock, its refusals, and failure injection."""

from __future__ import annotations

import time

import pytest

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.clock import SimClock
from maas_dyn.sim.maas.lifecycle import Lifecycle
from maas_dyn.sim.maas.models import Machine
from maas_dyn.sim.maas.status import Status

from .conftest import Api, machines_in, ready_machine


def _status(api: Api, system_id: str) -> str:
    return str(api.get(f"machines/{system_id}/").json()["status_name"])


def test_full_lifecycle_of_a_new_machine(sim: MAASSimulator, api: Api, anon: Api) -> None:
    system_id = machines_in(api, "new")[0]["system_id"]
    commissioning = api.post(f"machines/{system_id}/", op="commission")
    assert commissioning.json()["status_name"] == "Commissioning"
    assert commissioning.json()["power_state"] == "on"
    sim.advance(120)
    assert _status(api, system_id) == "Testing"
    sim.advance(60)
    ready = api.get(f"machines/{system_id}/").json()
    assert ready["status_name"] == "Ready" and ready["power_state"] == "off"
    assert ready["commissioning_status_name"] == "Passed"
    deploying = api.post(f"machines/{system_id}/", op="deploy",
                         data={"distro_series": "jammy", "hwe_kernel": "ga-22.04"})
    assert deploying.status_code == 200, deploying.text
    body = deploying.json()
    assert body["status_name"] == "Deploying" and body["owner"] == "admin"
    assert body["distro_series"] == "jammy" and body["osystem"] == "ubuntu"
    # is_action_in_progress exists on the anonymous handler only.
    mac = {"mac_address": body["interface_set"][0]["mac_address"]}
    assert anon.get("machines/", op="is_action_in_progress", params=mac).json() is True
    assert api.get("machines/", op="is_action_in_progress", params=mac).status_code == 400
    sim.advance(299)
    assert _status(api, system_id) == "Deploying"
    sim.advance(1)
    deployed = api.get(f"machines/{system_id}/").json()
    assert deployed["status_name"] == "Deployed" and deployed["power_state"] == "on"
    assert deployed["ip_addresses"]
    released = api.post(f"machines/{system_id}/", op="release")
    assert released.json()["status_name"] == "Releasing"
    sim.advance(30)
    final = api.get(f"machines/{system_id}/").json()
    assert final["status_name"] == "Ready" and final["owner"] is None
    assert final["power_state"] == "off" and final["ip_addresses"] == []
    events = api.get("events/", op="query", params={"id": system_id, "limit": 50}).json()
    changes = [e["description"] for e in reversed(events["events"])]
    assert changes[:3] == [
        "From 'New' to 'Commissioning'",
        "From 'Commissioning' to 'Testing'",
        "From 'Testing' to 'Ready'",
    ]
    assert "From 'Deploying' to 'Deployed'" in changes


def test_wall_time_is_scaled_by_speed() -> None:
    with MAASSimulator(machines=10, speed=1000.0) as sim:
        api = Api(sim, sim.api_key)
        try:
            system_id = ready_machine(api)
            api.post(f"machines/{system_id}/", op="deploy")
            deadline = time.monotonic() + 5
            while _status(api, system_id) != "Deployed" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _status(api, system_id) == "Deployed"
        finally:
            api.close()


def test_invalid_transitions_are_refused_like_maas(api: Api) -> None:
    new = machines_in(api, "new")[0]["system_id"]
    deploy = api.post(f"machines/{new}/", op="deploy")
    assert deploy.status_code == 409
    assert deploy.text == "Can't deploy a machine that is in the 'New' state"
    release = api.post(f"machines/{new}/", op="release")
    assert release.status_code == 409
    assert release.text == "Machine cannot be released in its current state ('New')."
    deployed = machines_in(api, "deployed")[0]["system_id"]
    commission = api.post(f"machines/{deployed}/", op="commission")
    assert commission.status_code == 400
    assert commission.json() == {
        "__all__": ["Commission is not available because of the current state of the node."]
    }
    abort = api.post(f"machines/{deployed}/", op="abort")
    assert abort.status_code == 409
    assert abort.text == (
        f"Cannot abort in current state: node {deployed} is in state Deployed."
    )
    fixed = api.post(f"machines/{deployed}/", op="mark_fixed")
    assert fixed.status_code == 409 and fixed.text == "Can't mark a non-broken node as 'Ready'."
    exit_rescue = api.post(f"machines/{deployed}/", op="exit_rescue_mode")
    assert exit_rescue.status_code == 409
    assert exit_rescue.text == "Invalid transition: Deployed -> Exiting rescue mode."
    override = api.post(f"machines/{deployed}/", op="override_failed_testing")
    assert override.status_code == 409
    ready = ready_machine(api)
    assert api.post(f"machines/{ready}/", op="lock").text == (
        "Can't lock, node is not deployed or deploying"
    )
    assert api.post(f"machines/{ready}/", op="power_on").status_code == 409
    assert api.post(f"machines/{ready}/", op="unlock").text == "Machine is not locked"
    testing_new = api.post(f"machines/{new}/", op="test")
    assert testing_new.status_code == 200


def test_release_is_idempotent_and_can_erase(sim: MAASSimulator, api: Api) -> None:
    ready = ready_machine(api)
    assert api.post(f"machines/{ready}/", op="release").json()["status_name"] == "Ready"
    deployed = machines_in(api, "deployed")[0]["system_id"]
    erasing = api.post(f"machines/{deployed}/", op="release", data={"erase": "true"})
    assert erasing.json()["status_name"] == "Disk erasing"
    sim.advance(120)
    assert _status(api, deployed) == "Ready"


def test_deploy_on_ready_allocates_and_respects_other_owners(
    sim: MAASSimulator, api: Api, user_api: Api
) -> None:
    ready = ready_machine(api)
    deploying = user_api.post(f"machines/{ready}/", op="deploy")
    assert deploying.json()["owner"] == "alice"
    allocated = machines_in(api, "allocated")[0]["system_id"]
    assert user_api.post(f"machines/{allocated}/", op="deploy").status_code == 404
    bad_series = api.post(f"machines/{allocated}/", op="deploy",
                          data={"distro_series": "warty"})
    assert bad_series.status_code == 400
    assert "distro_series" in bad_series.json()
    rackd = api.post(f"machines/{allocated}/", op="deploy", data={"install_rackd": "true"})
    assert rackd.status_code == 400
    kvm = api.post(f"machines/{allocated}/", op="deploy", data={"install_kvm": "true"})
    assert kvm.status_code == 501


def test_abort_returns_to_the_status_maas_picks(sim: MAASSimulator, api: Api) -> None:
    new = machines_in(api, "new")[0]["system_id"]
    api.post(f"machines/{new}/", op="commission")
    assert api.post(f"machines/{new}/", op="abort").json()["status_name"] == "New"
    ready = ready_machine(api)
    api.post(f"machines/{ready}/", op="deploy")
    assert api.post(f"machines/{ready}/", op="abort").json()["status_name"] == "Allocated"
    api.post(f"machines/{new}/", op="commission")
    sim.advance(121)
    assert _status(api, new) == "Testing"
    assert api.post(f"machines/{new}/", op="abort").json()["status_name"] == "Ready"
    api.post(f"machines/{new}/", op="test")
    assert api.post(f"machines/{new}/", op="abort").json()["status_name"] == "Ready"
    sim.advance(1000)  # the aborted timers must not fire later
    assert _status(api, new) == "Ready"
    deployed = machines_in(api, "deployed")[0]["system_id"]
    api.post(f"machines/{deployed}/", op="release", data={"erase": "1"})
    assert api.post(f"machines/{deployed}/", op="abort").json()["status_name"] == (
        "Failed disk erasing"
    )


def test_commission_without_tests_and_test_returns(sim: MAASSimulator, api: Api) -> None:
    ready = ready_machine(api)
    api.post(f"machines/{ready}/", op="commission", data={"testing_scripts": "none"})
    sim.advance(120)
    assert _status(api, ready) == "Ready"
    deployed = machines_in(api, "deployed")[0]["system_id"]
    assert api.post(f"machines/{deployed}/", op="test").json()["status_name"] == "Testing"
    sim.advance(60)
    assert _status(api, deployed) == "Deployed"


def test_rescue_mode_round_trip(sim: MAASSimulator, api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]["system_id"]
    entering = api.post(f"machines/{deployed}/", op="rescue_mode")
    assert entering.json()["status_name"] == "Entering rescue mode"
    sim.advance(60)
    assert _status(api, deployed) == "Rescue mode"
    assert api.post(f"machines/{deployed}/", op="exit_rescue_mode").json()["status_name"] == (
        "Exiting rescue mode"
    )
    sim.advance(30)
    assert _status(api, deployed) == "Deployed"


def test_lock_blocks_changes_until_unlocked(api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]["system_id"]
    locked = api.post(f"machines/{deployed}/", op="lock")
    assert locked.json()["locked"] is True
    again = api.post(f"machines/{deployed}/", op="lock")
    assert again.status_code == 409 and again.text == "Machine is already locked"
    refused = api.post(f"machines/{deployed}/", op="release")
    assert refused.status_code == 403
    assert "locked" in refused.text
    assert api.put(f"machines/{deployed}/", data={"description": "x"}).status_code == 403
    assert api.post(f"machines/{deployed}/", op="unlock").json()["locked"] is False
    assert api.post(f"machines/{deployed}/", op="release").status_code == 200


def test_mark_broken_and_fixed(api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]["system_id"]
    broken = api.post(f"machines/{deployed}/", op="mark_broken", data={"comment": "fan"})
    assert broken.json()["status_name"] == "Broken"
    assert broken.json()["error_description"] == "fan"
    fixed = api.post(f"machines/{deployed}/", op="mark_fixed")
    assert fixed.json()["status_name"] == "Deployed"
    seeded_broken = machines_in(api, "broken")[0]["system_id"]
    assert api.post(f"machines/{seeded_broken}/", op="mark_fixed").json()["status_name"] == \
        "Ready"
    ready = ready_machine(api)
    api.post(f"machines/{ready}/", op="mark_broken")
    assert api.post(f"machines/{ready}/", op="mark_broken").status_code == 409


def test_power_actions(api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]
    system_id = deployed["system_id"]
    assert api.get(f"machines/{system_id}/", op="query_power_state").json() == {"state": "on"}
    assert api.post(f"machines/{system_id}/", op="power_off",
                    data={"stop_mode": "soft"}).json()["power_state"] == "off"
    assert api.post(f"machines/{system_id}/", op="power_on").json()["power_state"] == "on"
    bad = api.post(f"machines/{system_id}/", op="power_off", data={"stop_mode": "gently"})
    assert bad.status_code == 400


def test_failure_rates_are_deterministic_and_changeable(sim: MAASSimulator, api: Api) -> None:
    sim.deploy_failure_rate = 1.0
    ready = ready_machine(api)
    api.post(f"machines/{ready}/", op="deploy")
    sim.advance(300)
    assert _status(api, ready) == "Failed deployment"
    sim.deploy_failure_rate = 0.0
    sim.commission_failure_rate = 1.0
    new = machines_in(api, "new")[0]["system_id"]
    api.post(f"machines/{new}/", op="commission")
    sim.advance(120)
    assert _status(api, new) == "Failed commissioning"
    sim.set_failure_rate("test", 1.0)
    other = ready_machine(api)
    api.post(f"machines/{other}/", op="test")
    sim.advance(60)
    assert _status(api, other) == "Failed testing"
    assert api.post(f"machines/{other}/", op="override_failed_testing").json()[
        "status_name"
    ] == "Ready"
    with pytest.raises(ValueError, match="within"):
        sim.deploy_failure_rate = 2.0
    with pytest.raises(ValueError, match="unknown operation"):
        sim.set_failure_rate("dance", 0.5)


def test_partial_failure_rate_depends_only_on_seed() -> None:
    def outcomes(seed: int) -> list[Status]:
        clock = SimClock(1.0, monotonic=lambda: 0.0)
        engine = Lifecycle(clock, seed, lambda m, old, new: None, {"deployed": lambda m: None})
        engine.failure_rates["deploy"] = 0.5
        machines = {
            f"m{i}": Machine(i, f"m{i}", f"h{i}", 0, 1, 0, "amd64/generic", 1, 1,
                             status=Status.ALLOCATED)
            for i in range(40)
        }
        for machine in machines.values():
            engine.start(machine, "deploy")
        clock.advance(300)
        assert engine.settle(machines) == 40
        return [m.status for m in machines.values()]

    first = outcomes(3)
    assert first == outcomes(3)
    assert first != outcomes(4)
    assert {Status.DEPLOYED, Status.FAILED_DEPLOYMENT} == set(first)


def test_clock_speed_and_advance() -> None:
    now = [0.0]
    clock = SimClock(2.0, monotonic=lambda: now[0])
    now[0] = 10.0
    assert clock.now() == 20.0
    clock.speed = 1.0
    now[0] = 15.0
    assert clock.now() == 25.0
    assert clock.advance(5) == 30.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        SimClock(0)
    assert clock.epoch(0.0) < clock.epoch()


def test_durations_are_adjustable(sim: MAASSimulator, api: Api) -> None:
    sim.durations["deploy"] = 5
    ready = ready_machine(api)
    api.post(f"machines/{ready}/", op="deploy")
    sim.advance(5)
    assert _status(api, ready) == "Deployed"
    assert sim.speed == 1.0
    sim.speed = 3.0
    assert sim.speed == 3.0
