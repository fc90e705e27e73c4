"""Serving the description: hash header, URI rewriting, API prefixes, swapping."""

from __future__ import annotations

import requests

from maas_dyn._shipped import load_shipped
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.describe import Description

from .conftest import Api


def test_describe_is_anonymous_and_rewrites_every_uri(sim: MAASSimulator, anon: Api) -> None:
    response = anon.get("describe/")
    assert response.status_code == 200
    doc = response.json()
    shipped = load_shipped("maas", "3.7")
    assert doc["hash"] == shipped["hash"]
    assert response.headers["X-MAAS-API-Hash"] == shipped["hash"]
    origin = sim.url.removesuffix("/MAAS/")
    handlers = [r[side] for r in doc["resources"] for side in ("anon", "auth") if r[side]]
    handlers += doc["handlers"]
    assert handlers
    assert all(h["uri"] == origin + h["path"] for h in handlers)
    assert len(doc["resources"]) == len(shipped["resources"])


def test_hash_header_on_every_response_including_errors(sim: MAASSimulator, anon: Api) -> None:
    expected = load_shipped("maas", "3.7")["hash"]
    responses = [
        anon.get("machines/"),  # 401
        anon.get("version/"),  # 200
        anon.get("no-such-thing/"),  # 404
        anon.post("describe/"),  # 405
        requests.get(sim.url + "api/2.0/describe", timeout=10),  # no trailing slash
    ]
    assert [r.status_code for r in responses] == [401, 200, 404, 405, 200]
    assert all(r.headers["X-MAAS-API-Hash"] == expected for r in responses)


def test_swap_description_changes_hash_and_routes(sim: MAASSimulator, api: Api) -> None:
    before = api.get("version/")
    sim.swap_description("3.2")
    after = api.get("version/")
    assert before.headers["X-MAAS-API-Hash"] != after.headers["X-MAAS-API-Hash"]
    assert after.headers["X-MAAS-API-Hash"] == load_shipped("maas", "3.2")["hash"]
    assert after.json()["version"] == "3.2.10"
    assert sim.version == "3.2"
    # 3.6 added reserved IPs; the 3.2 description has no such route.
    assert api.get("reservedips/").status_code == 404
    assert api.get("describe/").json()["hash"] == load_shipped("maas", "3.2")["hash"]


def test_api_1_0_description_serves_its_own_prefix() -> None:
    with MAASSimulator(version="1.9", machines=2) as sim:
        assert sim.url.endswith("/MAAS/")
        response = requests.get(sim.url + "api/1.0/describe/", timeout=10)
        assert response.status_code == 200
        assert response.json()["hash"] == load_shipped("maas", "1.9")["hash"]
        assert requests.get(sim.url + "api/2.0/describe/", timeout=10).status_code == 404
        version = requests.get(sim.url + "api/1.0/version/", timeout=10)
        assert version.status_code == 200
        assert version.json()["version"] == "1.9.5"


def test_swap_to_1_9_moves_resource_uris(sim: MAASSimulator) -> None:
    sim.swap_description("1.9")
    api = Api(sim, sim.api_key)
    api.base = sim.url + "api/1.0/"
    try:
        system_id = next(iter(sim.state.machines))
        node = api.get(f"nodes/{system_id}/")
        assert node.status_code == 200, node.text
        assert node.json()["resource_uri"].startswith("/MAAS/api/1.0/")
        # 1.9 lists nodes with op=list, which the simulator does not model.
        listing = api.get("nodes/", op="list")
        assert listing.status_code == 501
        assert listing.json()["handler"] == "NodesHandler"
    finally:
        api.close()


def test_description_served_bytes_are_cached_per_origin() -> None:
    description = Description.shipped("3.0")
    first = description.served("http://127.0.0.1:1")
    assert description.served("http://127.0.0.1:1") is first
    assert description.served("http://127.0.0.1:2") != first
    assert description.describe_path == "/MAAS/api/2.0/describe/"


def test_description_without_paths_is_rejected() -> None:
    import pytest

    with pytest.raises(ValueError, match="API prefix"):
        Description("x", {"hash": "h", "resources": []})
