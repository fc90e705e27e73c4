"""Tags: create/read/update/delete, update_nodes, tag-filtered node lists."""

from __future__ import annotations

from .conftest import Api, ready_machine


def test_tag_crud_and_validation(api: Api, user_api: Api) -> None:
    created = api.post("tags/", data={"name": "fast", "comment": "NVMe", "kernel_opts": "q"})
    assert created.status_code == 200
    assert created.json() == {
        "name": "fast", "definition": "", "comment": "NVMe", "kernel_opts": "q",
        "resource_uri": "/MAAS/api/2.0/tags/fast/",
    }
    assert api.post("tags/", data={"name": "fast"}).json() == {
        "name": ["Tag with this Name already exists."]
    }
    assert api.post("tags/", data={}).json() == {"name": ["This field is required."]}
    assert api.post("tags/", data={"name": "bad name"}).json() == {
        "name": ["Invalid character in the tag name."]
    }
    assert api.post("tags/", data={"name": "x", "definition": "//node"}).status_code == 501
    assert user_api.post("tags/", data={"name": "mine"}).status_code == 403
    assert "fast" in [t["name"] for t in api.get("tags/").json()]
    renamed = api.put("tags/fast/", data={"name": "faster", "comment": "c2"})
    assert renamed.json()["name"] == "faster" and renamed.json()["comment"] == "c2"
    assert api.get("tags/fast/").status_code == 404
    assert api.get("tags/fast/").text == "No Tag matches the given query."
    assert api.put("tags/faster/", data={"name": "virtual"}).status_code == 400
    assert api.delete("tags/faster/").status_code == 204
    assert api.get("tags/faster/").status_code == 404


def test_update_nodes_and_tag_filtered_reads(api: Api) -> None:
    api.post("tags/", data={"name": "blue"})
    machine = ready_machine(api)
    device = api.get("devices/").json()[0]["system_id"]
    changed = api.post("tags/blue/", op="update_nodes",
                       data={"add": [machine, device, "nosuch"]})
    assert changed.json() == {"added": 2, "removed": 0}
    assert [m["system_id"] for m in api.get("machines/", params={"tags": "blue"}).json()] == [
        machine
    ]
    assert [m["system_id"] for m in api.get("tags/blue/", op="machines").json()] == [machine]
    assert [d["system_id"] for d in api.get("tags/blue/", op="devices").json()] == [device]
    assert len(api.get("tags/blue/", op="nodes").json()) == 2
    assert api.get("tags/blue/", op="rack_controllers").json() == []
    assert api.get("tags/blue/", op="region_controllers").json() == []
    assert "blue" in api.get(f"machines/{machine}/").json()["tag_names"]
    removed = api.post("tags/blue/", op="update_nodes", data={"remove": machine})
    assert removed.json() == {"added": 0, "removed": 1}
    assert api.get("machines/", params={"tags": "blue"}).json() == []
    mismatch = api.post("tags/blue/", op="update_nodes",
                        data={"definition": "//x", "add": machine})
    assert mismatch.status_code == 409
    assert api.post("tags/blue/", op="rebuild").json() == {"rebuilding": "blue"}


def test_renaming_and_deleting_a_tag_updates_machines(api: Api) -> None:
    tagged = api.get("machines/", params={"tags": "virtual"}).json()
    assert tagged
    api.put("tags/virtual/", data={"name": "vm"})
    assert all("vm" in m["tag_names"] for m in api.get("machines/", params={"tags": "vm"}).json())
    assert len(api.get("machines/", params={"tags": "vm"}).json()) == len(tagged)
    api.delete("tags/vm/")
    assert all("vm" not in m["tag_names"] for m in api.get("machines/").json())
