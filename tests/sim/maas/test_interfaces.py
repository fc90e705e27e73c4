"""Interfaces: creating physical/bond/bridge/VLAN interfaces and linking subnets."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api, machines_in, ready_machine


def test_links_and_default_gateway(sim: MAASSimulator, api: Api) -> None:
    system_id = ready_machine(api)
    base = f"nodes/{system_id}/interfaces/"
    eth0 = api.get(base).json()[0]
    url = f"{base}{eth0['id']}/"
    static = api.post(url, op="link_subnet", data={"mode": "STATIC", "subnet": "10.0.0.0/16",
                                                   "ip_address": "10.0.100.7"})
    assert static.status_code == 200, static.text
    links = static.json()["links"]
    assert [(link["mode"], link.get("ip_address")) for link in links] == [
        ("auto", None), ("static", "10.0.100.7")
    ]
    taken = api.post(url, op="link_subnet", data={"mode": "static", "subnet": "1",
                                                  "ip_address": "10.0.100.7"})
    assert taken.json() == {"ip_address": ["IP address 10.0.100.7 is already in use."]}
    outside = api.post(url, op="link_subnet", data={"mode": "static", "subnet": "1",
                                                    "ip_address": "8.8.8.8"})
    assert outside.status_code == 400
    assert api.post(url, op="link_subnet", data={"mode": "magic"}).status_code == 400
    assert api.post(url, op="link_subnet", data={"mode": "dhcp"}).json() == {
        "subnet": ["This field is required."]
    }
    auto_static = api.post(url, op="link_subnet", data={"mode": "static", "subnet": "1"})
    assert auto_static.json()["links"][-1]["ip_address"]
    gateway = api.post(url, op="set_default_gateway")
    assert gateway.status_code == 200
    machine = api.get(f"machines/{system_id}/").json()
    assert machine["default_gateways"]["ipv4"]["gateway_ip"] == "10.0.0.1"
    chosen = links[1]["id"]
    api.post(url, op="set_default_gateway", data={"link_id": str(chosen)})
    assert api.get(f"machines/{system_id}/").json()["default_gateways"]["ipv4"]["link_id"] \
        == chosen
    assert api.post(url, op="set_default_gateway", data={"link_id": "999"}).status_code == 400
    assert sim.state.machines[system_id].gateway_link_id == chosen
    api.post(f"machines/{system_id}/", op="clear_default_gateways")
    assert sim.state.machines[system_id].gateway_link_id is None
    unlinked = api.post(url, op="unlink_subnet", data={"id": str(chosen)})
    assert "10.0.100.7" not in [link.get("ip_address") for link in unlinked.json()["links"]]
    assert api.post(url, op="unlink_subnet", data={"id": "999"}).status_code == 400
    for link in api.get(url).json()["links"]:
        api.post(url, op="unlink_subnet", data={"id": str(link["id"])})
    assert [link["mode"] for link in api.get(url).json()["links"]] == ["link_up"]
    disconnected = api.post(url, op="disconnect").json()
    assert disconnected["links"] == [] and disconnected["vlan"] is None
    up = api.post(url, op="link_subnet", data={"mode": "link_up", "subnet": "3"}).json()
    assert up["vlan"]["fabric"] == "fabric-1"


def test_bond_bridge_vlan_and_physical(api: Api) -> None:
    machine = api.get("machines/").json()[4]  # Ready with eth0 and eth1
    system_id = machine["system_id"]
    base = f"nodes/{system_id}/interfaces/"
    physical = api.post(base, op="create_physical", data={"mac_address": "52:54:00:fe:00:01",
                                                          "tags": "sriov", "vlan": "5001"})
    assert physical.status_code == 200, physical.text
    assert physical.json()["name"] == "eth2" and physical.json()["tags"] == ["sriov"]
    duplicate = api.post(base, op="create_physical", data={"mac_address": "52:54:00:fe:00:01",
                                                           "name": "eth0", "vlan": "42"})
    assert set(duplicate.json()) == {"mac_address", "name", "vlan"}
    assert api.post(base, op="create_physical", data={"mac_address": "x"}).status_code == 400
    bond = api.post(base, op="create_bond", data={"name": "bond0", "parents": ["eth1", "eth2"],
                                                  "bond_mode": "802.3ad"})
    assert bond.status_code == 200, bond.text
    assert bond.json()["parents"] == ["eth1", "eth2"]
    assert bond.json()["params"] == {"bond_mode": "802.3ad"}
    again = api.post(base, op="create_bond", data={"name": "bond1", "parents": "eth1"})
    assert again.status_code == 400
    assert api.post(base, op="create_bond", data={}).json() == {
        "name": ["This field is required."], "parents": ["This field is required."]
    }
    bridge = api.post(base, op="create_bridge", data={"parent": "bond0", "bridge_stp": "1"})
    assert bridge.json()["name"] == "br-bond0" and bridge.json()["type"] == "bridge"
    assert api.post(base, op="create_bridge", data={"parent": ["eth0", "eth1"]}).status_code \
        == 400
    vlan = api.post(base, op="create_vlan", data={"parent": "eth0", "vlan": "5002"})
    assert vlan.status_code == 200, vlan.text
    assert vlan.json()["name"] == "eth0.100" and vlan.json()["vlan"]["vid"] == 100
    assert api.post(base, op="create_vlan", data={"parent": "eth0",
                                                  "vlan": "5002"}).status_code == 400
    assert api.post(base, op="create_vlan", data={"parent": "eth0", "vlan": "5001"}).json() == {
        "vlan": ["Select a valid choice. 5001 is not one of the available choices."]
    }
    busy = api.delete(f"{base}bond0/")
    assert busy.status_code == 400 and "br-bond0" in busy.text
    renamed = api.put(f"{base}bond0/", data={"name": "bond-a", "link_speed": "20000",
                                             "interface_speed": "20000", "enabled": "false"})
    assert renamed.json()["name"] == "bond-a" and renamed.json()["enabled"] is False
    assert api.get(f"{base}br-bond0/").json()["parents"] == ["bond-a"]
    assert api.put(f"{base}bond-a/", data={"name": "eth0"}).status_code == 400
    assert api.put(f"{base}bond-a/", data={"vlan": "5003"}).json()["vlan"]["id"] == 5003
    assert api.delete(f"{base}br-bond0/").status_code == 204
    assert api.delete(f"{base}bond-a/").status_code == 204
    assert api.get(f"{base}eth1/").json()["children"] == []
    tagged = api.post(f"{base}eth0/", op="add_tag", data={"tag": "uplink"}).json()
    assert tagged["tags"] == ["uplink"]
    assert api.post(f"{base}eth0/", op="remove_tag", data={"tag": "uplink"}).json()["tags"] \
        == []


def test_interface_permissions_and_states(api: Api, user_api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]["system_id"]
    eth0 = f"nodes/{deployed}/interfaces/eth0/"
    refused = api.post(eth0, op="disconnect")
    assert refused.status_code == 409
    assert refused.text == (
        "Cannot disconnect interface because the machine is not New, Ready, Allocated, "
        "or Broken."
    )
    ready = ready_machine(api)
    assert user_api.post(f"nodes/{ready}/interfaces/eth0/", op="disconnect").status_code == 403
    device = user_api.post("devices/", data={"mac_addresses": "52:54:00:fe:00:09"}).json()
    on_device = user_api.post(f"nodes/{device['system_id']}/interfaces/eth0/",
                              op="link_subnet", data={"mode": "static", "subnet": "2"})
    assert on_device.status_code == 200, on_device.text
    assert user_api.post(f"nodes/{device['system_id']}/interfaces/eth0/",
                         op="set_default_gateway").status_code == 400
    other = api.get("devices/").json()[0]["system_id"]
    assert api.post(f"nodes/{other}/interfaces/eth0/", op="add_tag",
                    data={"tag": "x"}).status_code == 200
    assert user_api.post(f"nodes/{device['system_id']}/interfaces/eth0/", op="add_tag"
                         ).text == "No provided tag!"
