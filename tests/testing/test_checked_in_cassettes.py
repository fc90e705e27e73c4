"""The cassettes in cassettes/ replay with no server running, and hold no secret."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maas_dyn import RetryPolicy, errors
from maas_dyn.maas import Client as MAASClient
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.testing import CassetteMismatchError, replay, rerecord
from maas_dyn.testing.scenarios import MAAS_DEPLOY, TRUENAS_POOL_CREATE, TRUENAS_USER
from maas_dyn.truenas import Client as TrueNASClient

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OSError("the network is off in this test")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails: the replay must not need one."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)


@pytest.mark.usefixtures("no_network")
def test_the_maas_deploy_session_replays_offline() -> None:
    client = MAASClient.from_release(rerecord.MAAS_RELEASE, url="http://127.0.0.1:9/MAAS/",
                                     api_key="replay:replay-token:replay-secret", cache=False,
                                     retry=RetryPolicy(total=0))
    with replay(client, CASSETTES / MAAS_DEPLOY.cassette):
        machine = MAAS_DEPLOY.run(client)
    assert machine["status_name"] == "Deployed"
    with pytest.raises(errors.ConnectionFailed):  # the guard is on: no real request passes
        client.users.whoami()


@pytest.mark.usefixtures("no_network")
def test_the_truenas_pool_create_session_replays_offline() -> None:
    seen: list[Any] = []
    with TrueNASClient.from_release(rerecord.TRUENAS_RELEASE, url="ws://127.0.0.1:9/api/current",
                                    username=TRUENAS_USER, password="not the recorded one",
                                    cache=False) as client:
        with replay(client, CASSETTES / TRUENAS_POOL_CREATE.cassette):
            pool = TRUENAS_POOL_CREATE.run(client, progress=seen.append)
        assert pool["name"] == "tank" and pool["status"] == "ONLINE"
        assert seen and seen[-1]["percent"] == 100  # the job's events were played
        with pytest.raises(errors.ConnectionFailed):
            client.core.ping()
    with TrueNASClient.from_release(rerecord.TRUENAS_RELEASE, cache=False) as anonymous, \
            pytest.raises(CassetteMismatchError, match="auth.login_ex"), \
            replay(anonymous, CASSETTES / TRUENAS_POOL_CREATE.cassette):
        TRUENAS_POOL_CREATE.run(anonymous)  # no login: not the recorded session


@pytest.fixture(scope="module")
def known_secrets() -> Iterator[list[str]]:
    """The simulators' seeded secrets, as at recording time (no server is started)."""
    maas = MAASSimulator(version=rerecord.MAAS_RELEASE, machines=1)
    truenas = TrueNASSimulator(version=rerecord.TRUENAS_RELEASE)
    try:
        yield [maas.api_key, *maas.api_key.split(":"), truenas.api_key,
               truenas.api_key.split("-", 1)[1], truenas.otp_secret, truenas.otp_password]
    finally:
        truenas.stop()


@pytest.mark.parametrize("name", [MAAS_DEPLOY.cassette, TRUENAS_POOL_CREATE.cassette])
def test_checked_in_cassettes_hold_no_secret(name: str, known_secrets: list[str]) -> None:
    text = (CASSETTES / name).read_text(encoding="utf-8")
    assert [secret for secret in known_secrets if secret in text] == []
    assert "<redacted>" in text  # the OAuth header, or the session's password
