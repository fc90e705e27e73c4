"""``truenas-dyn login`` against a SCRAM server: the profile keeps derived keys, not the key."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from maas_dyn.cli._common.exits import UsageError
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.truenas import main
from maas_dyn.truenas.scram import split_api_key

pytest.importorskip("maas_dyn.sim.truenas")

ITERATIONS = 50_000


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def sim(truenas_sim_factory: Callable[..., Any]) -> Any:
    return truenas_sim_factory(version="26.0", scram_iterations=ITERATIONS)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke


def _stored(name: str) -> dict[str, Any]:
    return dict(json.loads((ProfileStore(dialect="truenas").root / f"{name}.json").read_text()))


def test_login_with_a_key_keeps_scram_keys_not_the_key(sim: Any, run: Callable[..., Run],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_API_KEY", sim.api_key)
    result = run("login", "nas", sim.url, "--username", sim.username)
    assert result.code == 0, result.err
    assert "SCRAM" in result.err
    stored = _stored("nas")
    secret = split_api_key(sim.api_key)[1]
    text = json.dumps(stored)
    assert stored["api_key"] is None and secret not in text and sim.api_key not in text
    assert stored["login_mechanism"] == "SCRAM"
    assert set(stored["scram"]) == {"api_key_id", "salt", "iterations", "client_key",
                                    "server_key"}
    assert stored["scram"]["client_key"] not in repr(ProfileStore(dialect="truenas").load("nas"))
    monkeypatch.delenv("TRUENAS_API_KEY")
    assert run("nas", "call", "core.ping").out == '"pong"\n'


def test_login_with_a_password_keeps_the_new_keys_scram_keys(
        sim: Any, run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_PASSWORD", sim.password)
    monkeypatch.setattr("sys.stdin", io.StringIO(sim.username + "\n"))
    result = run("login", "pw", sim.url, "--password")
    assert result.code == 0, result.err
    assert "its SCRAM keys" in result.err
    stored = _stored("pw")
    assert stored["api_key"] is None and "password" not in stored
    assert stored["login_mechanism"] == "SCRAM" and stored["scram"]
    assert run("pw", "call", "core.ping").out == '"pong"\n'


def test_a_scram_profile_refuses_a_downgrade(sim: Any) -> None:
    # What the profile holds decides: SCRAM keys cannot go plain, and a SCRAM profile
    # asks for SCRAM whatever a server (or someone in between) advertises.
    profile = Profile("nas", sim.url, None, dialect="truenas", username=sim.username,
                      scram={"api_key_id": 1, "salt": "c2FsdA==", "iterations": ITERATIONS,
                             "client_key": "Y2s=", "server_key": "c2s="},
                      login_mechanism="SCRAM")
    options = profile.client_options()
    assert options["api_key_mechanism"] == "SCRAM"
    assert type(options["api_key"]).__name__ == "DerivedApiKey"
    broken = Profile("bad", sim.url, None, dialect="truenas", scram={"salt": "%"})
    with pytest.raises(UsageError, match="log in again"):
        broken.client_options()
    plain = Profile("old", sim.url, "1-k", dialect="truenas", login_mechanism="API_KEY_PLAIN")
    assert plain.client_options()["api_key_mechanism"] == "API_KEY_PLAIN"
    assert "api_key_mechanism" not in Profile("new", sim.url, "1-k",
                                              dialect="truenas").client_options()
