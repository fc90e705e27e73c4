"""Zones, resource pools and domains."""

from __future__ import annotations

from .conftest import Api, ready_machine


def test_zones(api: Api, user_api: Api) -> None:
    assert [z["name"] for z in api.get("zones/").json()] == ["default", "zone-east"]
    created = api.post("zones/", data={"name": "west", "description": "w"})
    assert created.json() == {"name": "west", "description": "w", "id": 3,
                              "resource_uri": "/MAAS/api/2.0/zones/west/"}
    assert api.post("zones/", data={"name": "west"}).json() == {
        "name": ["Physical zone with this Name already exists."]
    }
    assert user_api.post("zones/", data={"name": "x"}).status_code == 403
    assert api.get("zones/west/").json()["description"] == "w"
    assert api.put("zones/west/", data={"name": "far-west"}).json()["name"] == "far-west"
    assert api.get("zones/west/").text == "No Zone matches the given query."
    east = api.get("machines/", params={"zone": "zone-east"}).json()
    assert api.delete("zones/zone-east/").status_code == 204
    moved = api.get(f"machines/{east[0]['system_id']}/").json()
    assert moved["zone"]["name"] == "default"
    assert api.delete("zones/default/").status_code == 400


def test_resource_pools(api: Api) -> None:
    assert [p["name"] for p in api.get("resourcepools/").json()] == ["default", "pool-gpu"]
    created = api.post("resourcepools/", data={"name": "batch"}).json()
    assert created["resource_uri"] == f"/MAAS/api/2.0/resourcepool/{created['id']}/"
    assert api.post("resourcepools/", data={"name": "batch"}).status_code == 400
    assert api.get("resourcepool/batch/").json()["id"] == created["id"]
    assert api.put(f"resourcepool/{created['id']}/", data={"description": "d"}).json()[
        "description"] == "d"
    machine = ready_machine(api)
    assert api.put(f"machines/{machine}/", data={"pool": "batch"}).json()["pool"]["name"] == \
        "batch"
    assert api.delete("resourcepool/batch/").json() == {
        "__all__": ["Pool has machines in it, it cannot be deleted."]
    }
    api.put(f"machines/{machine}/", data={"pool": "default"})
    assert api.delete("resourcepool/batch/").status_code == 204
    assert api.delete("resourcepool/0/").status_code == 400
    assert api.get("resourcepool/nope/").status_code == 404


def test_domains(api: Api) -> None:
    assert api.get("domains/").json()[0]["is_default"] is True
    created = api.post("domains/", data={"name": "lab", "ttl": "60"}).json()
    assert created["ttl"] == 60 and created["is_default"] is False
    assert api.post("domains/", data={"name": "lab"}).status_code == 400
    assert api.post(f"domains/{created['id']}/", op="set_default").json()["is_default"] is True
    assert api.get("domains/0/").json()["is_default"] is False
    machine = ready_machine(api)
    assert api.get(f"machines/{machine}/").json()["fqdn"].endswith(".maas")
    moved = api.put(f"machines/{machine}/", data={"domain": "lab"})
    assert moved.json()["fqdn"].endswith(".lab")
    assert api.delete(f"domains/{created['id']}/").status_code == 400
    assert api.put("domains/0/", data={"name": "maas2", "authoritative": "false"}).json()[
        "authoritative"] is False
    assert api.delete("domains/0/").json() == {"__all__": ["Domain is in use by nodes."]}
    assert api.post("domains/", op="set_serial", data={"serial": "42"}).status_code == 200
    assert api.post("domains/", op="set_serial", data={"serial": "x"}).json() == {
        "serial": ["Expected a serial number"]
    }
    assert api.post("domains/", op="set_serial").status_code == 400
    assert api.post("domains/", op="set_serial", data={"serial": "0"}).status_code == 400
    assert api.get("domains/x/").status_code == 404
