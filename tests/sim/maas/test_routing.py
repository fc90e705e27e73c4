"""Routing by the description: templates, op vs RESTful, 400/404/405/501."""

from __future__ import annotations

import requests

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.describe import Description
from maas_dyn.sim.maas.routing import RoutingTable, action_label, allowed_methods, find_action

from .conftest import Api


def test_table_matches_templates_and_decodes_params() -> None:
    table = RoutingTable.from_description(Description.shipped("3.7"))
    match = table.match("/MAAS/api/2.0/nodes/abc/blockdevices/5/partition/7")
    assert match is not None
    assert match.route.primary["name"] == "PartitionHandler"
    assert match.path_params == {"system_id": "abc", "device_id": "5", "id": "7"}
    vlan = table.match("/MAAS/api/2.0/fabrics/1/vlans/100/")
    assert vlan is not None and vlan.route.primary["name"] == "VlanHandler"
    zone = table.match("/MAAS/api/2.0/zones/my%20zone/")
    assert zone is not None and zone.path_params == {"name": "my zone"}
    assert table.match("/MAAS/api/2.0/nope/") is None


def test_anonymous_handlers_get_their_own_path_and_the_resource_path() -> None:
    table = RoutingTable.from_description(Description.shipped("3.7"))
    devices = table.match("/MAAS/api/2.0/devices/")
    assert devices is not None
    assert devices.route.auth is not None and devices.route.auth["name"] == "DevicesHandler"
    assert devices.route.anon is not None and devices.route.anon["name"] == "AnonNodesHandler"
    version = table.match("/MAAS/api/2.0/version/")
    assert version is not None and version.route.auth is None
    assert version.route.primary["name"] == "VersionHandler"


def test_action_selection() -> None:
    table = RoutingTable.from_description(Description.shipped("3.7"))
    match = table.match("/MAAS/api/2.0/machines/x/")
    assert match is not None
    handler = match.route.primary
    deploy = find_action(handler, "POST", "deploy")
    assert deploy is not None and deploy["name"] == "deploy"
    read = find_action(handler, "GET", None)
    assert read is not None and read["name"] == "read"
    assert find_action(handler, "POST", None) is None
    assert find_action(handler, "GET", "deploy") is None
    assert allowed_methods(handler) == ["DELETE", "GET", "POST", "PUT"]
    assert action_label("PUT", None) == "update"
    assert action_label("POST", "deploy") == "deploy"
    assert action_label("PATCH", None) == "patch"


def test_http_errors_of_routing(sim: MAASSimulator, api: Api) -> None:
    unknown_op = api.post("machines/", op="frobnicate")
    assert unknown_op.status_code == 400
    assert unknown_op.text == "Unrecognised signature: method=POST op=frobnicate"
    not_allowed = api.put("version/")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["Allow"] == "GET"
    patched = requests.patch(sim.url + "api/2.0/machines/", timeout=10,
                             auth=api.session.auth)
    assert patched.status_code == 405
    assert api.get("no/such/path/").status_code == 404


def test_unmodelled_action_answers_501_with_json(api: Api) -> None:
    # Adding a chassis would need a real BMC to talk to, so it stays unmodelled.
    response = api.post("machines/", op="add_chassis")
    assert response.status_code == 501
    assert response.json() == {
        "handler": "MachinesHandler",
        "action": "add_chassis",
        "op": "add_chassis",
        "message": "MachinesHandler.add_chassis is not modelled by the maas_dyn simulator",
    }


def test_partially_modelled_action_names_what_is_missing(api: Api) -> None:
    response = api.get("machines/", params={"vlans": "5001"})
    assert response.status_code == 501
    body = response.json()
    assert body["handler"] == "MachinesHandler" and body["action"] == "read"
    assert "node filter 'vlans'" in body["message"]


def test_op_in_form_body_is_honoured(sim: MAASSimulator, api: Api) -> None:
    response = api.session.post(
        sim.url + "api/2.0/users/", data={"op": "whoami"}, timeout=10
    )
    # POST with op=whoami in the body: routed, but whoami is a GET action.
    assert response.status_code == 400
    assert "op=whoami" in response.text


def test_request_counts_key_by_method_handler_and_op(sim: MAASSimulator, api: Api,
                                                     anon: Api) -> None:
    api.get("machines/")
    api.get("machines/")
    api.get("users/", op="whoami")
    anon.get("machines/", op="is_registered", params={"mac_address": "52:54:00:00:00:01"})
    counts = sim.request_counts
    assert counts[("GET", "MachinesHandler", "read")] == 2
    assert counts[("GET", "UsersHandler", "whoami")] == 1
    assert counts[("GET", "MachinesHandler", "is_registered")] == 1
