"""Help generated from the description at every level."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.maas.helptext import summary

from .conftest import API, Result


def test_top_level_help(cli: Callable[..., Result]) -> None:
    result = cli("-h")
    assert result.code == 0
    for text in ("login PROFILE URL [KEY]", "profiles import [--from PATH]", "Profiles: admin",
                 "MAAS_URL and MAAS_API_KEY", "--wait", "Exit codes:", "130"):
        assert text in result.out
    assert "__complete" not in result.out


@pytest.mark.parametrize("command", ["login", "logout", "list", "refresh", "profiles"])
def test_help_of_profile_commands(cli: Callable[..., Result], command: str) -> None:
    result = cli(command, "-h")
    assert result.code == 0 and result.out.startswith(f"usage: maas-dyn {command}")


def test_top_level_help_without_profiles(cli: Callable[..., Result],
                                         store: ProfileStore) -> None:
    store.delete("admin")
    assert "none yet; add one with `maas-dyn login" in cli("--help").out


def test_profile_help_lists_handlers_with_summaries(cli: Callable[..., Result]) -> None:
    result = cli("admin", "-h")
    assert result.code == 0
    assert f"Issue commands to the MAAS region at {API}/." in result.out
    assert "\n  machines" in result.out and "Manage the collection of all the machines" in result.out
    assert "\n  boot-resources" in result.out and "\n  vm-hosts" in result.out
    assert result.transport.requests == []


def test_handler_help_lists_actions(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machine", "--help")
    assert "usage: maas-dyn admin machine ACTION SYSTEM_ID [key=value ...]" in result.out
    assert "Path: /MAAS/api/2.0/machines/{system_id}/" in result.out
    assert "\n  deploy" in result.out and "Deploy a machine" in result.out
    anonymous = cli("admin", "machines", "-h").out
    assert "is-action-in-progress" in anonymous and "(anonymous: sent unsigned)" in anonymous


def test_action_help_shows_http_params_and_types(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machine", "deploy", "-h")
    out = result.out
    assert "usage: maas-dyn admin machine deploy SYSTEM_ID [key=value ...]" in out
    assert "HTTP: POST /MAAS/api/2.0/machines/{system_id}/?op=deploy" in out
    assert "Path parameters (in this order):\n  SYSTEM_ID" in out
    assert "distro_series=STRING" in out and "bridge_all=BOOLEAN" in out
    assert "Description:" in out and "--timeout SECONDS" in out
    # path-parameters-first form and a required parameter
    vlan = cli("admin", "vlan", "5", "0", "update", "-h").out
    assert "HTTP: PUT /MAAS/api/2.0/fabrics/{fabric_id}/vlans/{vid}/" in vlan
    assert "FABRIC_ID" in vlan and "VID" in vlan
    required = cli("admin", "zones", "create", "-h").out
    assert "name=STRING" in required and "Required." in required


def test_action_help_without_documented_params(cli: Callable[..., Result]) -> None:
    out = cli("admin", "users", "whoami", "-h").out
    assert "HTTP: GET /MAAS/api/2.0/users/?op=whoami" in out and "none documented" in out
    unsigned = cli("admin", "machines", "is-action-in-progress", "-h").out
    assert "sent unsigned" in unsigned


def test_help_of_unknown_names_is_a_usage_error(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machins", "-h")
    assert result.code == 2 and "did you mean machines" in result.err


def test_help_with_an_undocumented_action(cli: Callable[..., Result], store: ProfileStore) -> None:
    doc = {"resources": [{"name": "ThingHandler", "anon": None, "auth": {
        "name": "ThingHandler", "doc": "", "params": [], "path": "/MAAS/api/2.0/things/",
        "actions": [{"name": "poke", "method": "POST", "op": "poke", "restful": False,
                     "doc": None}]}}]}
    store.save(Profile("bare", API + "/", None, doc))
    assert "  poke  POST" in cli("bare", "thing", "-h").out
    assert "POST /MAAS/api/2.0/things/?op=poke" in cli("bare", "thing", "poke", "-h").out


@pytest.mark.parametrize(("doc", "expected"), [
    ("Summary.\n\nBody.", "Summary."),
    ("A summary\n    over two lines\n\n    Body", "A summary over two lines"),
    ("Summary\n:param x: X", "Summary"),
    ("", ""),
])
def test_summary(doc: str, expected: str) -> None:
    assert summary(doc) == expected
