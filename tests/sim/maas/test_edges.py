"""Less travelled branches: validation helpers and error answers of several handlers."""

from __future__ import annotations

import pytest

from maas_dyn.sim.maas import power
from maas_dyn.sim.maas.render import human_size
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import BadRequest, ValidationFailed
from maas_dyn.sim.maas.validation import Form, mandatory, parse_size

from .conftest import Api, machines_in


def test_form_readers() -> None:
    form = Form(Params({"n": ["x"], "low": ["-1"], "b": ["maybe"], "t": ["YES"],
                        "s": ["1.5K"], "bad": ["lots"], "blank": [""]}))
    assert form.integer("n") is None
    assert form.integer("low", min_value=0) is None
    assert form.integer("blank", default=7) == 7
    assert form.boolean("b") is False and form.boolean("t") is True
    assert form.size("s") == 1536 and form.size("bad") is None and form.size("blank") is None
    assert form.choice("missing", ("a",), default="a") == "a"
    with pytest.raises(ValidationFailed) as raised:
        form.validate()
    assert raised.value.errors == {
        "n": ["Enter a whole number."],
        "low": ["Ensure this value is greater than or equal to 0."],
        "b": ["'maybe' is not a valid boolean."],
        "bad": ["Invalid size 'lots'."],
    }
    assert parse_size("2G", 1024 * 1024) == 2048 and parse_size("12") == 12
    assert parse_size("1.5 TiB") == int(1.5 * 1024**4)
    with pytest.raises(BadRequest, match="No provided x!"):
        mandatory(Params(), "x")


def test_power_and_sizes() -> None:
    assert power.validate("manual", {}, skip_check=False) == {}
    with pytest.raises(ValidationFailed):
        power.validate("ipmi", {"power_address": "1.2.3.4", "cipher_suite_id": "99"},
                       skip_check=False)
    assert human_size(999) == "999 bytes" and human_size(1_500_000) == "1.5 MB"
    assert human_size(10**18) == "1000.0 PB"


def test_network_error_answers(api: Api) -> None:
    assert api.post("fabrics/", data={"name": "fabric-0"}).status_code == 400
    assert api.put("fabrics/1/", data={"name": "fabric-0"}).status_code == 400
    assert api.put("fabrics/1/", data={"class_type": "", "description": "d"}).json()[
        "class_type"] is None
    assert api.post("fabrics/0/vlans/", data={"vid": "7", "space": "nope"}).status_code == 400
    assert api.post("spaces/", data={"name": "x"}).status_code == 200
    assert api.put("spaces/x/", data={"name": "management"}).status_code == 400
    assert api.post("subnets/", data={"cidr": "172.20.0.0/24", "vlan": "5002"}).json()["vlan"][
        "vid"] == 100
    assert api.post("subnets/", data={"cidr": "172.21.0.0/24", "fabric": "nope"}).json() == {
        "fabric": ["Select a valid choice. nope is not one of the available choices."]
    }
    assert api.post("subnets/", data={"cidr": "172.21.0.0/24", "vid": "77"}).json() == {
        "vid": ["No VLAN with vid 77 in fabric fabric-0."]
    }
    assert api.post("subnets/", data={"cidr": "172.21.0.0/24", "gateway_ip": "gw"}).json() == {
        "gateway_ip": ["Enter a valid IPv4 or IPv6 address."]
    }
    assert api.post("subnets/", data={"cidr": "172.21.0.0/24", "dns_servers": "a,b"}).json() == {
        "dns_servers": ["Invalid IP address: a.", "Invalid IP address: b."]
    }
    assert api.post("ipranges/", data={"type": "reserved", "start_ip": "x", "end_ip": "y",
                                       "subnet": "99"}).status_code == 400
    # Deleting a subnet in use frees the links; deleting a VLAN detaches interfaces.
    assert api.delete("subnets/1/").status_code == 204
    assert all(m["ip_addresses"] == [] for m in api.get("machines/").json())
    assert api.delete("fabrics/0/vlans/100/").status_code == 204
    created = api.post("fabrics/0/vlans/", data={"vid": "200"}).json()
    api.post("subnets/", data={"cidr": "172.30.0.0/24", "vlan": str(created["id"])})
    assert api.delete("fabrics/0/vlans/200/").status_code == 204
    # 172.20.0.0/24 sat on VLAN 100 and went with it.
    assert [s["cidr"] for s in api.get("subnets/").json()] == ["192.168.10.0/24"]


def test_deleting_a_vlan_detaches_interfaces(api: Api) -> None:
    machine = api.get("machines/").json()[4]
    assert machine["interface_set"][1]["vlan"]["fabric"] == "fabric-1"
    fabric = api.post("fabrics/", data={"name": "spare"}).json()
    vlan = api.post(f"fabrics/{fabric['id']}/vlans/", data={"vid": "9"}).json()
    api.post("subnets/", data={"cidr": "172.31.0.0/24", "vlan": str(vlan["id"])})
    assert api.delete(f"fabrics/{fabric['id']}/").status_code == 204
    assert api.delete("fabrics/1/vlans/0/").status_code == 400


def test_storage_error_answers(api: Api) -> None:
    machine = next(m for m in machines_in(api, "ready") if len(m["physicalblockdevice_set"]) == 4)
    system_id = machine["system_id"]
    disks = {d["name"]: d["id"] for d in machine["physicalblockdevice_set"]}
    raid = api.post(f"nodes/{system_id}/raids/", data={
        "level": "raid-1", "block_devices": [str(disks["sdb"]), str(disks["sdc"])],
        "spare_devices": str(disks["sdd"]), "name": "md9",
    }).json()
    assert raid["spare_devices"][0]["used_for"] == "Spare raid-1 device for md9"
    virtual = raid["virtual_device"]["id"]
    assert api.post(f"nodes/{system_id}/blockdevices/{virtual}/", op="set_boot_disk").text == \
        "Cannot set a virtual block device as the boot disk."
    assert api.post(f"nodes/{system_id}/blockdevices/{disks['sdb']}/", op="format",
                    data={"fstype": "ext4"}).status_code == 400
    assert api.post(f"nodes/{system_id}/raids/", data={"level": "raid-0", "name": "md9",
                                                      "block_devices": ["sdb"]}).status_code \
        == 400
    assert api.delete(f"nodes/{system_id}/blockdevices/{virtual}/").status_code == 204
    assert api.get(f"nodes/{system_id}/raids/").json() == []
    boot = machine["boot_disk"]
    root = boot["partitions"][1]["id"]
    group = api.post(f"nodes/{system_id}/volume-groups/", data={"name": "vgx"})
    assert group.status_code == 400
    root_url = f"nodes/{system_id}/blockdevices/{boot['id']}/partition/{root}"
    api.post(root_url, op="unmount")
    api.post(root_url, op="unformat")
    made = api.post(f"nodes/{system_id}/volume-groups/", data={"name": "vgx",
                                                              "partitions": str(root)})
    assert made.status_code == 200, made.text
    assert api.delete(root_url).text == (
        "Cannot delete partition because it is part of a RAID or volume group."
    )
    assert api.post(f"nodes/{system_id}/raids/", data={"level": "raid-1",
                                                      "partitions": [str(root), "999"]}
                    ).json()["partitions"][0].startswith("Select a valid choice.")
    assert api.post(f"nodes/{system_id}/blockdevices/{disks['sdb']}/", op="mount",
                    data={"mount_point": "relative"}).status_code == 400
    assert api.get(f"nodes/{system_id}/raid/nope/").status_code == 404
    assert api.get(f"nodes/{system_id}/volume-group/vgx/").json()["name"] == "vgx"


def test_permission_answers(api: Api, user_api: Api) -> None:
    ready = machines_in(api, "ready")[0]["system_id"]
    assert user_api.post(f"machines/{ready}/", op="commission").status_code == 403
    deployed = machines_in(api, "deployed")[0]["system_id"]
    api.post(f"machines/{deployed}/", op="lock")
    assert user_api.post(f"machines/{ready}/", op="lock").status_code == 403
    owned = user_api.post(f"machines/{ready}/", op="deploy")
    assert owned.status_code == 200
    assert api.post(f"machines/{ready}/", op="deploy").status_code == 409
    theirs = machines_in(api, "allocated")[0]["system_id"]
    assert user_api.get(f"machines/{theirs}/").status_code == 404
    assert api.post("tags/", data={"name": "t1"}).status_code == 200
    assert api.put("tags/t1/", data={"name": "bad name"}).status_code == 400
    assert api.put("tags/t1/", data={"definition": "//x"}).status_code == 501
    assert api.put("tags/t1/", data={"kernel_opts": "quiet"}).json()["kernel_opts"] == "quiet"
    assert api.post("zones/", data={}).status_code == 400
    assert api.put("zones/default/", data={"name": "zone-east"}).status_code == 400
    assert api.put("resourcepool/0/", data={"name": "pool-gpu"}).status_code == 400
    assert api.put("domains/0/", data={"name": "maas"}).status_code == 200
    api.post("domains/", data={"name": "other"})
    assert api.put("domains/0/", data={"name": "other"}).status_code == 400
    assert api.post("domains/", data={"name": "x", "ttl": "0"}).status_code == 400


def test_bounded_identifiers_and_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.sim.maas import MAASSimulator, dispatch

    sim = MAASSimulator(machines=0)
    monkeypatch.setattr(sim.state.random, "choices", lambda population, k: ["a"] * k)
    assert sim.state.new_system_id() == "aaaaaa"
    with pytest.raises(RuntimeError, match="system_id"):
        sim.state.new_system_id()
    monkeypatch.setattr(dispatch, "MAX_COUNT_KEYS", 1)
    with sim:
        api = Api(sim, sim.api_key)
        try:
            for op in ("one", "two", "one"):
                api.get("machines/", op=op)
        finally:
            api.close()
    assert dict(sim.request_counts) == {("GET", "MachinesHandler", "one"): 2}
