"""The CRUD rows of records.py and the read-mostly handlers of handlers/generic.py."""

from __future__ import annotations

import pytest

from tests.sim.maas.conftest import Api, ready_machine

# (collection path, create fields, a field to update, its new value, item path template)
CRUD_CASES = [
    ("dhcp-snippets/", {"name": "s1", "value": "option x;"}, "description", "d", "dhcp-snippets/{id}/"),
    ("dnsresources/", {"fqdn": "qa.maas"}, "address_ttl", "60", "dnsresources/{id}/"),
    ("dnsresourcerecords/", {"fqdn": "qa.maas", "rrtype": "TXT", "rrdata": "hi"}, "rrdata", "yo",
     "dnsresourcerecords/{id}/"),
    ("license-keys/", {"osystem": "windows", "distro_series": "win2016", "license_key": "K-1"},
     "license_key", "K-2", "license-key/windows/win2016"),
    ("commissioning-scripts/", {"name": "c1", "content": "#!/bin/sh"}, "content", "#!/bin/true",
     "commissioning-scripts/c1"),
    ("scripts/", {"name": "t1", "script": "#!/bin/sh"}, "title", "T", "scripts/t1"),
    ("reservedips/", {"ip": "10.0.0.77"}, "comment", "kept", "reservedips/{id}/"),
    ("vm-hosts/", {"type": "lxd", "power_address": "10.0.0.2"}, "name", "h1", "vm-hosts/{id}/"),
]


@pytest.mark.parametrize(("collection", "fields", "field", "value", "item"), CRUD_CASES)
def test_crud_rows(api: Api, collection: str, fields: dict[str, str], field: str, value: str,
                   item: str) -> None:
    assert api.get(collection).json() == []
    created = api.post(collection, data=fields)
    assert created.status_code == 200, created.text
    path = item.format(id=created.json()["id"])
    assert created.json()["resource_uri"].endswith(path)
    assert api.get(collection).json() == [created.json()]
    updated = api.put(path, {field: value})
    assert updated.status_code == 200, updated.text
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_required_fields_and_choices_are_form_errors(api: Api) -> None:
    answer = api.post("dnsresourcerecords/", data={"fqdn": "x.maas", "rrtype": "BOGUS"})
    assert answer.status_code == 400
    assert answer.json() == {
        "rrtype": ["Select a valid choice. BOGUS is not one of the available choices."],
        "rrdata": ["This field is required."],
    }


def test_node_scoped_rows_and_vm_host_tags(api: Api) -> None:
    system_id = ready_machine(api)
    made = api.post(f"nodes/{system_id}/bcaches/", data={"cache_set": "1"})
    assert made.status_code == 200 and made.json()["system_id"] == system_id
    assert made.json()["resource_uri"].endswith(f"nodes/{system_id}/bcache/{made.json()['id']}/")
    assert api.get("nodes/nosuch/bcaches/").status_code == 404
    host = api.post("pods/", data={"type": "virsh", "power_address": "qemu+ssh://h/system"}).json()
    tagged = api.post(f"pods/{host['id']}/", "add_tag", {"tag": "gpu"})
    assert tagged.json()["tags"] == ["gpu"]
    assert api.get(f"vm-hosts/{host['id']}/").json()["tags"] == ["gpu"]
    assert api.get(f"pods/{host['id']}/", "parameters").json()["power_address"] == "qemu+ssh://h/system"


def test_reads_the_real_region_answers(api: Api) -> None:
    for path in ("discovery/", "installation-results/", "vm-clusters/"):
        answer = api.get(path)
        assert answer.status_code == 200 and answer.json() == [], path
    for op in ("by_unknown_mac", "by_unknown_ip", "by_unknown_ip_and_mac"):
        assert api.get("discovery/", op).json() == []
    networks = api.get("networks/").json()
    assert networks and networks[0]["name"].startswith("subnet-")
    assert api.get(f"networks/{networks[0]['name']}/").json() == networks[0]
    assert api.post("networks/").status_code == 410
    assert api.get("rackcontrollers/", "is_registered").text == "No provided mac_address!"
    racks = api.get("rackcontrollers/").json()
    for name in ("osystem", "distro_series", "hardware_info", "hardware_uuid", "swap_size",
                 "cpu_speed", "status_action", "commissioning_status_name", "testing_status"):
        assert name in racks[0], name
    assert api.get(f"rackcontrollers/{racks[0]['system_id']}/", "power_parameters").json() == {}
    details = api.get(f"rackcontrollers/{racks[0]['system_id']}/", "details")
    assert details.headers["Content-Type"] == "application/bson"


def test_controllers_update_power_boot_images_and_delete(api: Api) -> None:
    rack = api.get("rackcontrollers/").json()[0]["system_id"]
    changed = api.put(f"rackcontrollers/{rack}/", {"description": "qa rack"})
    assert changed.status_code == 200 and changed.json()["description"] == "qa rack"
    assert api.get(f"rackcontrollers/{rack}/", "query_power_state").json() == {"state": "unknown"}
    images = api.get(f"rackcontrollers/{rack}/", "list_boot_images").json()
    assert images["status"] == "synced" and images["images"]
    assert api.post("rackcontrollers/", "import_boot_images").status_code == 200
    assert api.delete(f"rackcontrollers/{rack}/").status_code == 204
    assert api.get(f"rackcontrollers/{rack}/").status_code == 404


def test_volume_group_update(api: Api) -> None:
    system_id = ready_machine(api)
    disks = api.get(f"nodes/{system_id}/blockdevices/").json()
    free = next(d for d in disks if not d.get("partitions") and d.get("filesystem") is None
                and d["id"] != api.get(f"machines/{system_id}/").json()["boot_disk"]["id"])
    made = api.post(f"nodes/{system_id}/volume-groups/", data={"name": "vg0",
                                                              "block_devices": free["id"]})
    assert made.status_code == 200, made.text
    path = f"nodes/{system_id}/volume-group/{made.json()['id']}/"
    renamed = api.put(path, {"name": "vg1"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "vg1"
    assert api.put(path, {"add_block_devices": "1"}).status_code == 501


def test_script_download_and_missing_results(api: Api) -> None:
    assert api.post("scripts/", data={"name": "dl", "script": "#!/bin/sh\necho hi\n"}).ok
    body = api.get("scripts/dl", "download")
    assert body.content == b"#!/bin/sh\necho hi\n"
    assert body.headers["Content-Type"] == "application/binary"
    system_id = ready_machine(api)
    assert api.get(f"nodes/{system_id}/results/5/", "download").status_code == 404
    assert api.delete(f"nodes/{system_id}/devices/5/").status_code == 404
