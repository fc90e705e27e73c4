"""Single machines (update, delete, owner data, power parameters), nodes and devices."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api, machines_in, ready_machine


def test_machine_update_and_power_parameters(api: Api, user_api: Api) -> None:
    machine = ready_machine(api)
    updated = api.put(f"machines/{machine}/", data={
        "hostname": "renamed", "description": "d", "cpu_count": "12", "memory": "2048",
        "swap_size": "1G", "zone": "zone-east", "power_type": "virsh",
        "power_parameters_power_address": "qemu+ssh://h/system",
        "power_parameters_power_id": "vm1",
    })
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["hostname"] == "renamed" and body["cpu_count"] == 12
    assert body["swap_size"] == 1024**3 and body["power_type"] == "virsh"
    params = api.get(f"machines/{machine}/", op="power_parameters").json()
    assert params["power_id"] == "vm1"
    assert api.get(f"nodes/{machine}/", op="power_parameters").json() == params
    assert user_api.get(f"machines/{machine}/", op="power_parameters").status_code == 403
    missing = api.put(f"machines/{machine}/", data={"power_type": "ipmi"})
    assert missing.status_code == 400
    assert "power_address: This field is required." in missing.json()["power_parameters"]
    skipped = api.put(f"machines/{machine}/", data={"power_type": "ipmi",
                                                    "power_parameters_skip_check": "true"})
    assert skipped.json()["power_type"] == "ipmi"
    unknown = api.put(f"machines/{machine}/", data={"power_type": "smoke-signals"})
    assert unknown.status_code == 400
    choice = api.put(f"machines/{machine}/", data={"power_parameters_power_driver": "LAN_9"})
    assert choice.status_code == 400
    extra = api.put(f"machines/{machine}/", data={"power_parameters_colour": "red"})
    assert "colour: Unknown power parameter." in extra.json()["power_parameters"]
    taken = machines_in(api, "new")[0]["hostname"]
    assert api.put(f"machines/{machine}/", data={"hostname": taken}).status_code == 400
    assert api.put(f"machines/{machine}/", data={"zone": "nowhere"}).status_code == 400
    assert api.put(f"machines/{machine}/", data={"architecture": "z80/generic"}).status_code == 400
    assert user_api.put(f"machines/{machine}/", data={"power_type": "manual"}).status_code == 403
    manual = api.put(f"machines/{machine}/", data={"power_type": "manual"})
    assert manual.json()["power_type"] == "manual"
    assert api.get(f"machines/{machine}/", op="query_power_state").json() == {"state": "unknown"}


def test_owner_data_and_workload_annotations(api: Api, user_api: Api) -> None:
    machine = ready_machine(api)
    first = api.post(f"machines/{machine}/", op="set_owner_data", data={"a": "1", "b": "2"})
    assert first.json()["owner_data"] == {"a": "1", "b": "2"}
    second = api.post(f"machines/{machine}/", op="set_workload_annotations", data={"a": ""})
    assert second.json()["workload_annotations"] == {"b": "2"}
    device = api.get("devices/").json()[0]["system_id"]
    on_device = api.post(f"devices/{device}/", op="set_owner_data", data={"k": "v"})
    assert on_device.json()["owner_data"] == {"k": "v"}
    assert user_api.post(f"devices/{device}/", op="set_owner_data", data={"k": "w"}).status_code \
        == 404


def test_machine_delete(sim: MAASSimulator, api: Api, user_api: Api) -> None:
    machine = ready_machine(api)
    assert user_api.delete(f"machines/{machine}/").status_code == 403
    assert api.delete(f"machines/{machine}/").status_code == 204
    assert api.get(f"machines/{machine}/").status_code == 404
    assert api.get(f"machines/{machine}/").text == "No Machine matches the given query."
    deployed = machines_in(api, "deployed")[0]["system_id"]
    api.post(f"machines/{deployed}/", op="lock")
    assert api.delete(f"nodes/{deployed}/").status_code == 400
    api.post(f"machines/{deployed}/", op="unlock")
    assert api.delete(f"nodes/{deployed}/").status_code == 204


def test_nodes_read_mixes_machines_and_devices(api: Api) -> None:
    nodes = api.get("nodes/").json()
    kinds = {n["node_type_name"] for n in nodes}
    assert kinds == {"Machine", "Device"}
    assert len(nodes) == 12
    assert len(api.get("nodes/", params={"status": "ready"}).json()) == 6
    assert len(api.get("nodes/", params={"not_status": "ready"}).json()) == 6
    device = next(n for n in nodes if n["node_type_name"] == "Device")
    single = api.get(f"nodes/{device['system_id']}/").json()
    assert single["resource_uri"] == f"/MAAS/api/2.0/devices/{device['system_id']}/"
    assert api.get("nodes/nosuch/").status_code == 404
    assert api.post("nodes/", op="set_zone", data={"zone": "zone-east",
                                                   "nodes": device["system_id"]}).status_code \
        == 200
    assert api.get(f"devices/{device['system_id']}/").json()["zone"]["name"] == "zone-east"


def test_devices(api: Api, user_api: Api) -> None:
    parent = ready_machine(api)
    created = user_api.post("devices/", data={"hostname": "phone",
                                              "mac_addresses": "52:54:00:de:ad:01",
                                              "parent": parent, "domain": "maas"})
    assert created.status_code == 200, created.text
    device = created.json()
    assert device["owner"] == "alice" and device["parent"] == parent
    assert device["node_type_name"] == "Device"
    errors = api.post("devices/", data={"hostname": "phone", "mac_addresses": "bad",
                                        "parent": "nosuch", "domain": "nope"}).json()
    assert set(errors) == {"hostname", "mac_addresses", "parent", "domain"}
    assert api.post("devices/", data={"hostname": "-bad-"}).status_code == 400
    assert api.post("devices/", data={}).json() == {"mac_addresses": ["This field is required."]}
    system_id = device["system_id"]
    assert api.get("devices/", params={"hostname": "phone"}).json()[0]["system_id"] == system_id
    updated = user_api.put(f"devices/{system_id}/", data={"hostname": "tablet", "parent": "",
                                                          "description": "d"})
    assert updated.json()["hostname"] == "tablet" and updated.json()["parent"] is None
    assert api.put(f"devices/{system_id}/", data={"zone": "zone-east", "domain": "maas"}).json()[
        "zone"]["name"] == "zone-east"
    assert api.put(f"devices/{system_id}/", data={"zone": "nope", "parent": "x"}).status_code \
        == 400
    assert api.get(f"devices/{system_id}/", op="power_parameters").json() == {}
    other = api.get("devices/").json()[0]["system_id"]
    assert user_api.get(f"devices/{other}/").status_code == 404
    assert api.get(f"devices/{system_id}/", op="is_registered").status_code == 400
    assert user_api.delete(f"devices/{system_id}/").status_code == 204
    assert api.get(f"devices/{system_id}/").status_code == 404


def test_interfaces_and_power_types(api: Api) -> None:
    machine = api.get("machines/").json()[4]
    system_id = machine["system_id"]
    interfaces = api.get(f"nodes/{system_id}/interfaces/").json()
    assert [i["name"] for i in interfaces] == ["eth0", "eth1"]
    by_name = api.get(f"nodes/{system_id}/interfaces/eth1/").json()
    assert by_name["vlan"]["fabric"] == "fabric-1" and by_name["link_speed"] == 10000
    assert api.get(f"nodes/{system_id}/interfaces/{interfaces[0]['id']}/").json()["name"] == \
        "eth0"
    assert api.get(f"nodes/{system_id}/interfaces/99/").status_code == 404
    types = api.get("rackcontrollers/", op="describe_power_types").json()
    assert len(types) == 24  # MAAS 3.7.3's drivers
    assert {"manual", "ipmi", "redfish", "virsh"} <= {t["name"] for t in types}
    ipmi = next(t for t in types if t["name"] == "ipmi")
    assert any(f["name"] == "power_address" and f["required"] for f in ipmi["fields"])


def test_special_filesystems_and_restore(api: Api) -> None:
    machine = ready_machine(api)
    mounted = api.post(f"machines/{machine}/", op="mount_special",
                       data={"fstype": "tmpfs", "mount_point": "/scratch",
                             "mount_options": "size=1G"})
    assert mounted.json()["special_filesystems"][0]["mount_point"] == "/scratch"
    assert api.post(f"machines/{machine}/", op="mount_special",
                    data={"fstype": "ext4", "mount_point": "rel"}).status_code == 400
    assert api.post(f"machines/{machine}/", op="unmount_special",
                    data={"mount_point": "/scratch"}).json()["special_filesystems"] == []
    assert api.post(f"machines/{machine}/", op="unmount_special",
                    data={"mount_point": "/scratch"}).status_code == 400
    deployed = machines_in(api, "deployed")[0]["system_id"]
    assert api.post(f"machines/{deployed}/", op="mount_special",
                    data={"fstype": "tmpfs", "mount_point": "/t"}).status_code == 409
    for op in ("restore_networking_configuration", "restore_storage_configuration",
               "restore_default_configuration", "clear_default_gateways"):
        response = api.post(f"machines/{machine}/", op=op)
        assert response.status_code == 200, (op, response.text)
    assert api.post(f"machines/{deployed}/", op="restore_default_configuration").status_code \
        == 409
    details = api.get(f"machines/{machine}/", op="details")
    assert details.status_code == 200 and details.headers["Content-Type"] == "application/bson"
