"""maas-dyn with a region's openapi.yaml (MAAS 3.3 on): -h and --strict use it.

A stored profile keeps the overlay beside its description; the env profile's description
cache does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped_openapi
from maas_dyn.cli._common.profiles import ProfileStore

from .conftest import API, KEY, Recorder, Result, json_reply


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAAS_URL", "http://127.0.0.1:5240/MAAS/")
    monkeypatch.setenv("MAAS_API_KEY", KEY)


def _region(doc37: Any, *then: Any) -> Recorder:
    transport = Recorder(json_reply({}))
    transport.queue += [json_reply(doc37), json_reply(load_shipped_openapi("3.7")), *then]
    return transport


def test_action_help_shows_the_servers_returns_and_raises(
        cli: Callable[..., Result], doc37: Any, env: None) -> None:
    result = cli("env", "machine", "deploy", "-h", transport=_region(doc37))
    assert result.code == 0, result.err
    assert "Returns:\n  A JSON object containing information about the deployed machine." \
        in result.out
    assert "HTTP 404  The requested machine is not found." in result.out
    assert "bridge_fd=INTEGER" not in result.out  # describe's own type text stays
    help_text = cli("env", "dhcpsnippets", "create", "-h").out  # from the cache now
    assert "Required." in help_text.split("name=")[1].split("\n")[0]


def test_a_wrong_type_warns_and_strict_refuses(
        cli: Callable[..., Result], doc37: Any, env: None) -> None:
    transport = _region(doc37)
    result = cli("env", "machine", "deploy", "abc", "bridge_fd=soon", transport=transport)
    assert result.code == 0, result.err
    assert "bridge_fd: 'soon' is not an integer" in result.err
    assert transport.last.url == API + "/machines/abc/?op=deploy"  # sent as given
    refused = Recorder(json_reply({}))
    result = cli("env", "machine", "deploy", "abc", "bridge_fd=soon", "--strict",
                 transport=refused)
    assert result.code == 2 and "--strict: nothing was sent" in result.err
    assert refused.requests == []
    fine = cli("env", "machine", "deploy", "abc", "bridge_fd=15", "install_kvm=true")
    assert "warning" not in fine.err


def test_a_stored_profile_keeps_the_overlay_from_login(
        cli: Callable[..., Result], doc37: Any) -> None:
    transport = _region(doc37)
    transport.queue.insert(0, json_reply({"username": "admin"}))  # the key check
    result = cli("login", "region", "http://127.0.0.1:5240/MAAS/", KEY, transport=transport)
    assert result.code == 0, result.err
    stored = ProfileStore().load("region")
    assert stored.openapi is not None and "POST /machines/{}/?op=deploy" in stored.openapi
    offline = Recorder(json_reply({}))
    result = cli("region", "machine", "deploy", "-h", transport=offline)
    assert "HTTP 404  The requested machine is not found." in result.out
    assert offline.requests == []  # from the profile: no request
