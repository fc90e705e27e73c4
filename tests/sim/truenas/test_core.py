"""Discovery, session options, bulk calls and the simulator's own surface."""

from __future__ import annotations

import pytest

from maas_dyn.sim import TrueNASSimulator as LazyExport
from maas_dyn.sim.truenas import TrueNASSimulator, totp
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.modelled import MODELLED_PATH, main, render

from .conftest import RpcClient


def test_discovery(sim: TrueNASSimulator, admin: RpcClient) -> None:
    methods = admin.call("core.get_methods")
    assert len(methods) == 769 and methods["pool.create"]["job"] is True
    scoped = admin.call("core.get_methods", "pool.dataset", "CLI")
    assert "pool.dataset.query" in scoped and "pool.dataset.snapshot_count" in scoped
    assert all(name.rsplit(".", 1)[0] == "pool.dataset" for name in scoped)
    services = admin.call("core.get_services")
    assert services["pool.dataset"]["type"] == "crud"
    assert services["system.general"]["type"] == "config"
    assert services["core"]["type"] == "service"
    assert services["user"]["config"]["namespace"] == "user"


def test_hidden_discovery_methods_on_older_releases() -> None:
    with TrueNASSimulator(version="25.04", speed=200) as sim:
        client = RpcClient(sim.url)
        client.login(sim)
        assert len(client.call("core.get_methods")) == 771
        assert "core" in client.call("core.get_services")
        assert client.error("core.get_methods", 1)["code"] == -32602
        client.close()


def test_set_options_before_login(client: RpcClient) -> None:
    assert client.call("core.set_options", {"py_exceptions": True, "private_methods": True}) == {
        "legacy_jobs": True, "private_methods": True, "py_exceptions": True}


def test_bulk(admin: RpcClient) -> None:
    job = admin.wait_job(admin.call("core.bulk", "group.create",
                                    [[{"name": "g1"}], [{"name": "g1"}], [{"name": 5}]],
                                    "group {0[name]}"))
    statuses = job["result"]
    assert isinstance(statuses[0]["result"], int) and statuses[0]["error"] is None
    assert "already exists" in statuses[1]["error"]
    assert "Input should be a valid string" in statuses[2]["error"]
    nested = admin.wait_job(admin.call("core.bulk", "disk.wipe", [["sdh", "QUICK"]]))
    assert nested["result"][0]["job_id"] > nested["id"]
    unknown = admin.wait_job(admin.call("core.bulk", "no.method", [[]]))
    assert unknown["result"][0]["error"] == "[ENOMETHOD] Service 'no' not found"
    assert admin.wait_job(admin.call("core.bulk", "core.ping", []))["result"] == []


def test_simulator_surface() -> None:
    sim = TrueNASSimulator(version="26.0", speed=10, seed=3)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url
    sim.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            sim.start()
        assert sim.url == f"ws://127.0.0.1:{sim.port}/api/current"
        assert sim.base_url == f"http://127.0.0.1:{sim.port}"
        assert (sim.version, sim.api_version) == ("26.0", "v26.0.0")
        assert sim.otp_secret == TrueNASSimulator(seed=3).otp_secret
        assert sim.totp_now() == totp.totp(sim.otp_secret)
        assert sim.totp_now("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == totp.totp(
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        assert "core.ping" in sim.modelled_methods
        with sim.state.lock:
            assert len(sim.state.tables["disk"]) == 8
    finally:
        sim.stop()
    sim.stop()
    assert LazyExport is TrueNASSimulator
    with pytest.raises(ValueError, match="speed must be > 0"):
        TrueNASSimulator(speed=0)


def test_totp_rfc6238_vectors() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp.totp(secret, 59) == "287082"
    assert totp.totp(secret, 1111111109) == "081804"
    assert totp.verify(secret, "287082", at=89) is True
    assert totp.verify(secret, "287082", at=120) is False


def test_modelled_document_is_current() -> None:
    assert MODELLED_PATH.read_text() == render()
    assert main(["--check"]) == 0
    assert all(f"| {release} |" in render() for release in Catalog.releases())
