"""--wait: poll `machine read` until the status settles; progress; exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from maas_dyn.maas import RawResponse

from .conftest import API, FakeTTY, Recorder, Result, json_reply


def machine(status: str, message: str = "") -> RawResponse:
    return json_reply({"system_id": "abc", "hostname": "node-1", "status_name": status,
                       "status_message": message})


def test_deploy_and_wait_until_deployed(cli: Callable[..., Result]) -> None:
    transport = Recorder()
    transport.queue += [machine("Deploying"), machine("Deploying"), machine("Deploying"),
                        machine("Deployed")]
    result = cli("admin", "machine", "deploy", "abc", "--wait", "--interval", "0",
                 transport=transport)
    assert result.code == 0, result.err
    assert [(r.method, r.url) for r, _ in transport.requests] == [
        ("POST", API + "/machines/abc/?op=deploy"),
        *[("GET", API + "/machines/abc/")] * 3,
    ]
    assert json.loads(result.out)["status_name"] == "Deployed"
    assert result.err.splitlines() == ["machine abc (node-1): Deploying after 0s",
                                       "machine abc (node-1): Deployed after 0s"]


@pytest.mark.parametrize(("status", "message", "code", "text"), [
    ("Failed deployment", "Installation failed", 3,
     "machine abc ended in 'Failed deployment': Installation failed"),
    ("Broken", "", 3, "ended in 'Broken': no status message"),
])
def test_failed_status_exits_3(cli: Callable[..., Result], status: str, message: str,
                               code: int, text: str) -> None:
    transport = Recorder()
    transport.queue += [machine("Deploying"), machine(status, message)]
    result = cli("admin", "machine", "deploy", "abc", "--wait", "--interval", "0",
                 transport=transport)
    assert result.code == code and text in result.err
    assert json.loads(result.out)["status_name"] == status


def test_timeout_exits_4(cli: Callable[..., Result]) -> None:
    transport = Recorder(machine("Commissioning"))
    result = cli("admin", "machine", "commission", "abc", "--wait", "--timeout", "0",
                 transport=transport)
    assert result.code == 4
    assert "gave up after 0s: machine abc is still 'Commissioning'" in result.err
    assert len(transport.requests) == 2


def test_release_through_disk_erasing(cli: Callable[..., Result]) -> None:
    transport = Recorder()
    transport.queue += [machine("Releasing"), machine("Releasing"), machine("Disk erasing"),
                        machine("Ready")]
    result = cli("admin", "machine", "release", "abc", "erase=true", "--wait", "--interval", "0",
                 transport=transport)
    assert result.code == 0
    assert "Disk erasing" in result.err and json.loads(result.out)["status_name"] == "Ready"


def test_progress_on_a_terminal_is_one_updating_line(cli: Callable[..., Result],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stderr", terminal)
    transport = Recorder()
    transport.queue += [machine("Testing"), machine("Testing"), machine("Ready")]
    assert cli("admin", "machine", "test", "abc", "--wait", "--interval", "0",
               transport=transport).code == 0
    shown = terminal.getvalue()
    assert shown.count("\r\x1b[K") == 2 and shown.endswith("Ready  0s\n")
    assert shown.count("\n") == 1
