"""The maas-dyn CLI as a program against the embedded MAAS simulator (real sockets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maas_dyn.sim.maas import MAASSimulator


@pytest.fixture(scope="module")
def sim(maas_sim_factory: Callable[..., MAASSimulator]) -> MAASSimulator:
    # The plugin's factory: stopped with this module.
    return maas_sim_factory(version="3.7", machines=6, speed=500.0, seed=11)


def maas_dyn(tmp_path: Path, *args: str, stdin: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAAS_DYN_CONFIG_DIR": str(tmp_path / "config"),
           "MAAS_DYN_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "maas_dyn.cli.maas", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def test_login_read_deploy_wait(sim: MAASSimulator, tmp_path: Path) -> None:
    login = maas_dyn(tmp_path, "login", "admin", sim.url, "-", stdin=sim.api_key)
    assert login.returncode == 0, login.stderr
    assert sim.api_key not in login.stdout + login.stderr
    profile = next((tmp_path / "config").rglob("admin*"))
    assert profile.stat().st_mode & 0o777 == 0o600
    machines = json.loads(maas_dyn(tmp_path, "admin", "machines", "read").stdout)
    ready = next(m["system_id"] for m in machines if m["status_name"] == "Ready")
    table = maas_dyn(tmp_path, "admin", "machines", "read", "-o", "table")
    assert table.stdout.splitlines()[0].split()[:2] == ["system_id", "hostname"]
    deploy = maas_dyn(tmp_path, "admin", "machine", "deploy", ready, "distro_series=jammy",
                      "--wait", "--interval", "0.05", "--timeout", "60")
    assert deploy.returncode == 0, deploy.stderr
    assert json.loads(deploy.stdout)["status_name"] == "Deployed"
    assert "Deployed" in deploy.stderr


def test_errors_and_usage(sim: MAASSimulator, tmp_path: Path) -> None:
    assert maas_dyn(tmp_path, "login", "admin", sim.url, "-", stdin=sim.api_key).returncode == 0
    missing = maas_dyn(tmp_path, "admin", "machine", "read", "nope")
    assert missing.returncode == 1 and "404" in missing.stderr
    usage = maas_dyn(tmp_path, "admin", "machinez", "read")
    assert usage.returncode == 2 and "did you mean machine" in usage.stderr
    bad = maas_dyn(tmp_path, "login", "stranger", sim.url, "-", stdin="a:b:c")
    assert bad.returncode != 0 and "rejected" in bad.stderr.lower()


def test_debug_output_redacts_the_key(sim: MAASSimulator, tmp_path: Path) -> None:
    assert maas_dyn(tmp_path, "login", "admin", sim.url, "-", stdin=sim.api_key).returncode == 0
    debug = maas_dyn(tmp_path, "admin", "users", "whoami", "--debug")
    assert debug.returncode == 0
    for secret in sim.api_key.split(":"):
        assert secret not in debug.stderr + debug.stdout
    assert "Authorization: OAuth <redacted>" in debug.stderr


def test_env_profile(sim: MAASSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAAS_URL", sim.url)
    monkeypatch.setenv("MAAS_API_KEY", sim.api_key)
    result = maas_dyn(tmp_path, "env", "users", "whoami")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["username"] == "admin"
