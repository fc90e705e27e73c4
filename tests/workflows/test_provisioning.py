"""Tests of maas_dyn/workflows/provisioning.py against the MAAS simulator."""

from __future__ import annotations

import base64
import logging

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import provisioning
from maas_dyn.workflows.waiters import Progress
from tests.workflows.conftest import FAST, Recording, ids


def test_provision_runs_commission_test_deploy_and_logs_each_step(
        maas: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="maas_dyn.workflows")
    new = ids(maas, "new")[0]
    seen: list[Progress] = []
    outcome = provisioning.provision(maas, new, distro_series="noble", hwe_kernel="hwe-24.04",
                                     user_data="#cloud-config\n", on_progress=seen.append,
                                     **FAST)
    assert outcome.status == "Deployed" and outcome.system_id == new
    assert outcome.machine["distro_series"] == "noble"
    assert outcome.machine["hwe_kernel"] == "hwe-24.04"
    assert [(s.action, s.state) for s in outcome.steps] == [
        ("commission", "Ready"), ("test", "Ready"), ("deploy", "Deployed")]
    assert seen and seen[-1].state == "Deployed"
    steps = [r for r in caplog.records if getattr(r, "target", None) == new
             and getattr(r, "event", None) == "workflow.step"]
    assert [(r.action, r.status) for r in steps] == [
        ("commission", "Ready"), ("test", "Ready"), ("deploy", "Deployed")]
    assert all(r.duration_ms >= 0 for r in steps)


def test_step_parameters_and_user_data_encoding() -> None:
    client = Recording({("machine", "deploy"): {"status_name": "Deploying"},
                        ("machine", "read"): {"status_name": "Ready"}})
    outcome = provisioning.provision(client, "abc", steps=("deploy",), wait=False,
                                     user_data=b"\x00binary", distro_series="jammy")
    assert outcome.status == "Deploying"
    handler, action, args, sent = client.requests[0]
    assert (handler, action, args) == ("machine", "deploy", ("abc",))
    assert ("distro_series", "jammy") in sent
    assert dict(sent)["user_data"] == base64.b64encode(b"\x00binary").decode()
    provisioning.provision(client, "abc", steps=("commission",), wait=False)
    assert client.requests[-1][3] == []  # tests not skipped when no test step follows
    provisioning.provision(client, "abc", steps=("commission", "test"), wait=False)
    assert client.requests[-2][3] == [("testing_scripts", "none")]


def test_unknown_or_no_steps_are_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="known: commission, test"):
        provisioning.provision(Recording(), "abc", steps=("deploy", "dance"))
    with pytest.raises(errors.ConfigurationError):
        provisioning.provision(Recording(), "abc", steps=())


def test_without_wait_the_last_step_returns_at_once(maas: Client) -> None:
    ready = ids(maas, "ready")[0]
    outcome = provisioning.provision(maas, ready, steps=("deploy",), wait=False)
    assert outcome.status == "Deploying"


def test_a_failed_deployment_raises_with_the_status_reached(sim: MAASSimulator,
                                                            maas: Client) -> None:
    sim.deploy_failure_rate = 1.0
    with pytest.raises(errors.WaiterError, match="reached 'Failed deployment'") as info:
        provisioning.provision(maas, ids(maas, "ready")[0], steps=("deploy",), **FAST)
    assert info.value.last_state == "Failed deployment" and info.value.reason == "failure"


def test_provision_many_reports_every_machine(maas: Client) -> None:
    targets = [*ids(maas, "ready"), *ids(maas, "broken")]
    result = provisioning.provision_many(maas, targets, steps=("deploy",), concurrency=4,
                                         **FAST)
    assert [i.target for i in result.items] == targets
    assert {i.value.status for i in result.succeeded} == {"Deployed"}
    assert len(result.succeeded) == len(targets) - 1
    assert isinstance(result.failed[0].error, errors.ConflictError)


def test_release_with_erase_and_release_many(maas: Client) -> None:
    deployed = ids(maas, "deployed")[0]
    outcome = provisioning.release(maas, deployed, erase=True, comment="done", **FAST)
    assert outcome.status == "Ready" and outcome.steps[0].action == "release"
    provisioning.provision(maas, deployed, steps=("deploy",), **FAST)
    result = provisioning.release_many(maas, [deployed], quick_erase=True, **FAST)
    assert result.items[0].value.status == "Ready"


def test_release_sends_the_erase_options() -> None:
    client = Recording()
    provisioning.release(client, "abc", secure_erase=True, wait=False)
    assert client.requests[0][3] == [("erase", True), ("secure_erase", True)]
    provisioning.release(client, "abc", wait=False)
    assert client.requests[1][3] == []
