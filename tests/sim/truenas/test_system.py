"""System identity and settings, services, shares and networking."""

from __future__ import annotations

from typing import Any

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import RpcClient


def test_system_identity(sim: TrueNASSimulator, admin: RpcClient) -> None:
    info = admin.call("system.info")
    assert info["version"] == "TrueNAS-25.10.0" and info["hostname"] == "truenas-sim"
    assert set(info["buildtime"]) == {"$date"}
    assert admin.call("system.version_short") == "25.10.0"
    assert admin.call("system.product_type") == "COMMUNITY_EDITION"
    assert admin.call("system.ready") is True and admin.call("system.state") == "READY"
    assert admin.call("system.boot_id") == admin.call("system.boot_id")
    assert len(admin.call("system.host_id")) == 32
    assert admin.call("system.feature_enabled", "DEDUP") is True
    assert "25.10" in admin.call("system.release_notes_url")


def test_general_config(admin: RpcClient) -> None:
    config = admin.call("system.general.config")
    assert (config["ui_port"], config["timezone"]) == (80, "UTC")
    admin.call("core.subscribe", "system.general.config")
    updated = admin.call("system.general.update", {"ui_port": 8080, "timezone": "Asia/Tokyo"})
    assert updated["ui_port"] == 8080
    assert admin.next_event("system.general.config")["fields"]["timezone"] == "Asia/Tokyo"
    assert admin.call("system.general.local_url") == "http://127.0.0.1:8080"
    assert "UTC" in admin.call("system.general.timezone_choices")


def test_services(admin: RpcClient) -> None:
    ssh = admin.call("service.query", [["service", "=", "ssh"]], {"get": True})
    assert ssh["state"] == "RUNNING" and ssh["enable"] is True
    assert admin.call("service.start", "cifs") is True
    assert admin.call("service.started", "cifs") is True
    assert admin.call("service.stop", "cifs") is True
    assert admin.call("service.started", "cifs") is False
    assert admin.call("service.started_or_enabled", "ssh") is True
    assert admin.call("service.reload", "ssh") is True
    assert admin.call("service.restart", "nfs") is True
    job = admin.wait_job(admin.call("service.control", "STOP", "nfs"))
    assert job["result"] is True
    assert admin.call("service.query", [["service", "=", "nfs"]], {"get": True})["pids"] == []
    service_id = admin.call("service.update", "nfs", {"enable": True})
    assert admin.call("service.get_instance", service_id)["enable"] is True
    assert admin.call("service.update", service_id, {"enable": False}) == service_id
    assert admin.error("service.start", "nope")["data"]["errname"] == "ENOENT"


def test_newest_release_controls_services_by_job() -> None:
    with TrueNASSimulator(version="26.0", speed=200) as sim:
        client = RpcClient(sim.url)
        client.login(sim)
        assert client.request("service.start", "cifs")["error"]["code"] == -32601
        assert client.wait_job(client.call("service.control", "START", "cifs"))["result"]
        client.close()


def _pool(admin: RpcClient) -> None:
    admin.wait_job(admin.call("pool.create", {"name": "tank", "topology": {
        "data": [{"type": "STRIPE", "disks": ["sda"]}]}}))
    admin.call("pool.dataset.create", {"name": "tank/share"})


def test_smb_shares(admin: RpcClient) -> None:
    _pool(admin)
    share = admin.call("sharing.smb.create", {"name": "media", "path": "/mnt/tank/share"})
    assert (share["purpose"], share["enabled"], share["locked"]) == ("DEFAULT_SHARE", True, False)
    clash = admin.error("sharing.smb.create", {"name": "MEDIA", "path": "/mnt/other/x"})
    assert clash["data"]["extra"] == [
        ["sharingsmb_create.path", "Path does not exist", 2],
        ["sharingsmb_create.name", "Share with this name already exists.", 17]]
    outside = admin.error("sharing.smb.create", {"name": "x", "path": "/etc"})
    assert outside["data"]["extra"][0][1] == "Path must reside within a pool mount point"
    assert admin.call("sharing.smb.create", {"name": "ext", "path": "EXTERNAL",
                                             "purpose": "EXTERNAL_SHARE"})["path"] == "EXTERNAL"
    updated = admin.call("sharing.smb.update", share["id"], {"comment": "films"})
    assert updated["comment"] == "films"
    assert admin.call("sharing.smb.delete", share["id"]) is True


def test_nfs_shares(admin: RpcClient) -> None:
    _pool(admin)
    share = admin.call("sharing.nfs.create", {"path": "/mnt/tank/share", "hosts": ["h1"]})
    assert share["hosts"] == ["h1"] and share["ro"] is False
    assert admin.error("sharing.nfs.create", {"path": "/mnt/tank/share"})["data"]["extra"][0][
        1] == "Export with this path already exists."
    assert admin.call("sharing.nfs.update", share["id"], {"ro": True})["ro"] is True
    assert admin.call("sharing.nfs.delete", share["id"]) is True


def test_interfaces(admin: RpcClient) -> None:
    eth0 = admin.call("interface.query", [["name", "=", "eth0"]], {"get": True})
    assert eth0["type"] == "PHYSICAL" and eth0["state"]["link_state"] == "LINK_STATE_UP"
    assert admin.call("interface.choices", {}) == {"eth0": "eth0"}
    assert admin.call("interface.choices", {"exclude_types": ["PHYSICAL"]}) == {}
    assert admin.call("interface.websocket_local_ip") == "127.0.0.1"
    assert admin.call("interface.websocket_interface")["name"] == "eth0"
    assert admin.call("interface.has_pending_changes") is False
    assert admin.call("interface.ip_in_use") == [{"type": "INET", "address": "192.0.2.10",
                                                  "netmask": 24, "broadcast": "192.0.2.255"}]


@pytest.mark.parametrize(("route", "attributes"), [
    ({"destination": "nope", "gateway": "192.0.2.1"}, ["staticroute_create.destination"]),
    ({"destination": "10.0.0.0/8", "gateway": "nope"}, ["staticroute_create.gateway"]),
    ({"destination": "fd00::/8", "gateway": "192.0.2.1"}, ["staticroute_create.destination"]),
])
def test_route_validation(admin: RpcClient, route: dict[str, Any],
                          attributes: list[str]) -> None:
    error = admin.error("staticroute.create", route)
    assert [e[0] for e in error["data"]["extra"]] == attributes


def test_routes(admin: RpcClient) -> None:
    route = admin.call("staticroute.create", {"destination": "10.0.0.0/8",
                                              "gateway": "192.0.2.1"})
    assert route == {"destination": "10.0.0.0/8", "gateway": "192.0.2.1", "description": "",
                     "id": 1}
    assert admin.call("staticroute.update", 1, {"gateway": "192.0.2.2"})["gateway"] == (
        "192.0.2.2")
    assert admin.call("staticroute.delete", 1) is True
    assert admin.call("staticroute.query") == []
