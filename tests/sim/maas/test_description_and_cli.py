"""Any describe document can be served; the command line reaches every switch."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from maas_dyn._shipped import load_shipped
from maas_dyn.maas.describe import compute_hash
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.cli import _apply, build_parser, main, parse_switch
from maas_dyn.sim.maas.conditions import Conditions
from maas_dyn.sim.maas.faults import Faults
from maas_dyn.sim.maas.status import Status
from tests.sim.maas.conftest import Api


def _future_release() -> dict[str, Any]:
    # A release the package has never seen: 3.7 plus a new collection and item handler.
    document: dict[str, Any] = copy.deepcopy(load_shipped("maas", "3.7"))
    document.pop("hash")
    actions = [{"name": "read", "method": "GET", "op": None, "restful": True, "doc": "List."},
               {"name": "create", "method": "POST", "op": None, "restful": True, "doc": "Add."}]
    document["resources"].append({"name": "WidgetsHandler", "anon": None, "auth": {
        "name": "WidgetsHandler", "doc": "Widgets.", "params": [],
        "path": "/MAAS/api/2.0/widgets/", "actions": actions}})
    document["resources"].append({"name": "WidgetHandler", "anon": None, "auth": {
        "name": "WidgetHandler", "doc": "A widget.", "params": ["id"],
        "path": "/MAAS/api/2.0/widgets/{id}/",
        "actions": [{"name": "read", "method": "GET", "op": None, "restful": True,
                     "doc": "Read."}]}})
    return document


def test_unseen_release_is_served(tmp_path: Path) -> None:
    document = _future_release()
    path = tmp_path / "describe.json.gz"
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    with MAASSimulator(machines=2, description=str(path), version="3.8") as sim:
        api = Api(sim, sim.api_key)
        try:
            served = requests.get(sim.url + "api/2.0/describe/", timeout=10).json()
            assert served["hash"] == compute_hash(document)
            assert api.get("widgets/").json() == []
            created = api.post("widgets/", data={"name": "w"})
            assert created.status_code == 501 and created.json()["handler"] == "WidgetsHandler"
            assert api.get("widgets/1/").status_code == 501
            assert len(api.get("machines/").json()) == 2
            assert api.get("version/").json()["version"] == "3.8"
        finally:
            api.close()


def test_parse_switch_converts_by_signature() -> None:
    assert parse_switch("unavailable:times=3,retry_after=none", Faults) == (
        "unavailable", {"times": 3, "retry_after": None})
    assert parse_switch("fail_machine:system_id=abc,status=broken", Conditions) == (
        "fail_machine", {"system_id": "abc", "status": Status.BROKEN})
    with pytest.raises(ValueError, match="unknown switch"):
        parse_switch("explode", Faults)
    with pytest.raises(ValueError, match="missing delay"):
        parse_switch("slow", Faults)
    with pytest.raises(ValueError, match="key=value"):
        parse_switch("slow:speed=2", Faults)


def test_every_switch_is_in_the_help() -> None:
    text = build_parser().format_help()
    for name in ("unavailable", "locked", "status", "slow", "drop", "stop_service",
                 "stick_machine", "fail_machine", "unsync_boot_resource", "start_import",
                 "disable_dhcp", "fill_subnet", "error_event", "--description", "--seed"):
        assert name in text, name


def test_switches_apply_to_a_simulator() -> None:
    sim = MAASSimulator(machines=1)
    _apply(sim, ["unavailable:times=2,handler=MachinesHandler"],
           ["stop_service:service=dhcpd", "disable_dhcp"])
    assert sim.faults.rules[0].times == 2
    with sim.state.lock:
        services = [s for c in sim.state.controllers.values() for s in c.services
                    if s.name == "dhcpd"]
    assert services and services[0].status == "dead"


def test_bad_switch_or_description_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert main(["--port", "0", "--fault", "explode"]) == 2
    assert "unknown switch" in capsys.readouterr().err
    assert main(["--port", "0", "--description", str(tmp_path / "missing.json")]) == 2
