"""Boot resources, their import, boot sources and selections."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api


def test_boot_resources_and_import(sim: MAASSimulator, api: Api, user_api: Api) -> None:
    resources = api.get("boot-resources/").json()
    assert {r["name"] for r in resources} >= {"ubuntu/noble", "ubuntu/jammy"}
    assert api.get("boot-resources/", params={"type": "uploaded"}).json() == []
    assert api.get("boot-resources/", params={"type": "bogus"}).status_code == 400
    assert api.get("boot-resources/", op="is_importing").json() is False
    assert user_api.post("boot-resources/", op="import").status_code == 403
    assert api.post("boot-resources/", op="import").text == "Import of boot resources started"
    assert api.get("boot-resources/", op="is_importing").json() is True
    sim.advance(600)
    assert api.get("boot-resources/", op="is_importing").json() is False
    api.post("boot-resources/", op="import")
    assert api.post("boot-resources/", op="stop_import").status_code == 200
    assert api.get("boot-resources/", op="is_importing").json() is False
    first = resources[0]["id"]
    assert api.get(f"boot-resources/{first}/").json()["architecture"]
    assert api.delete(f"boot-resources/{first}/").status_code == 204
    assert api.get(f"boot-resources/{first}/").status_code == 404
    assert api.post("boot-resources/", data={"name": "custom/x"}).status_code == 501


def test_boot_sources_and_selections(api: Api, user_api: Api) -> None:
    assert user_api.get("boot-sources/").status_code == 403
    sources = api.get("boot-sources/").json()
    assert sources[0]["url"] == "http://images.maas.io/ephemeral-v3/stable/"
    created = api.post("boot-sources/", data={"url": "http://mirror/", "keyring_data": "k"})
    assert created.status_code == 200
    source = created.json()
    assert api.post("boot-sources/", data={"url": "http://mirror/"}).status_code == 400
    updated = api.put(f"boot-sources/{source['id']}/", data={"url": "http://mirror2/"})
    assert updated.json()["url"] == "http://mirror2/"
    base = f"boot-sources/{source['id']}/selections/"
    selection = api.post(base, data={"os": "ubuntu", "release": "jammy",
                                     "arches": ["amd64", "arm64"]}).json()
    assert selection["arches"] == ["amd64", "arm64"] and selection["labels"] == ["*"]
    assert api.post(base, data={"os": "ubuntu", "release": "jammy"}).status_code == 400
    assert api.post(base, data={}).json() == {
        "os": ["This field is required."], "release": ["This field is required."]
    }
    assert [s["id"] for s in api.get(base).json()] == [selection["id"]]
    url = f"{base}{selection['id']}/"
    assert api.put(url, data={"release": "noble", "labels": "daily"}).json()["labels"] == [
        "daily"
    ]
    assert api.get(f"boot-sources/1/selections/{selection['id']}/").status_code == 404
    assert api.delete(url).status_code == 204
    api.post(base, data={"os": "ubuntu", "release": "focal"})
    assert api.delete(f"boot-sources/{source['id']}/").status_code == 204
    assert api.get(f"boot-sources/{source['id']}/").status_code == 404
    assert api.get(base).status_code == 404
