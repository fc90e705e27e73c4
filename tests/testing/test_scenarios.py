"""The recorded sessions (maas_dyn/testing/scenarios.py), run against stubs."""

from __future__ import annotations

import pytest

from maas_dyn.testing import Stubber, scenarios


def test_deploy_needs_a_ready_machine(maas_stub: Stubber) -> None:
    maas_stub.add_response("machines", "read", [], expected_params={"status": "ready"})
    with pytest.raises(LookupError, match="no machine is Ready"):
        scenarios.maas_deploy(maas_stub.client)


def test_deploy_polls_a_bounded_number_of_times(maas_stub: Stubber,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenarios, "MAX_POLLS", 2)
    deploying = {"system_id": "abc", "status_name": "Deploying"}
    maas_stub.add_response("machines", "read", [deploying])
    maas_stub.add_response("machine", "deploy", deploying, path=("abc",))
    for _ in range(2):
        maas_stub.add_response("machine", "read", deploying, path=("abc",))
    assert scenarios.maas_deploy(maas_stub.client)["status_name"] == "Deploying"
