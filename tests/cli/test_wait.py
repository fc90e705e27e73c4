"""--wait: poll `machine read` until the status settles; progress; exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from maas_dyn.maas import RawResponse

from .conftest import (
    API,
    FakeTTY,
    Recorder,
    Result,
    counted,
    interrupt_cli,
    json_reply,
    wait_until,
)


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
    # A newline first, so the status line never runs into what the terminal line held.
    assert shown.startswith("\n\r") and shown.count("\n") == 2


# -- a region that restarts, and a user who stops waiting ----------------------------------


def test_wait_rides_out_a_region_restart(doc37: object, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.cli.maas import main
    from maas_dyn.sim.maas import MAASSimulator

    # The client's own retries give up at once; the wait itself must ride the outage out.
    monkeypatch.setattr("maas_dyn.maas.client.time.sleep", lambda seconds: None)
    with MAASSimulator(machines=4, speed=1.0) as sim:
        ProfileStore().save(Profile("region", f"{sim.url}api/2.0/", sim.api_key, doc37))
        ready = next(m.system_id for m in sim.state.machines.values()
                     if m.status.label == "Ready")
        failures: list[BaseException] = []

        def reads() -> int:
            return counted(sim, "MachineHandler", "read")

        def region() -> None:
            try:
                wait_until(lambda: reads() >= 2)
                sim.restart(downtime=1.0)
                before = reads()
                wait_until(lambda: reads() >= before + 2)
                sim.advance(400)  # the deploy (300 simulated seconds) finishes
            except BaseException as exc:  # reported by the test, not lost in the thread
                failures.append(exc)

        helper = threading.Thread(target=region)
        helper.start()
        try:
            code = main(["region", "machine", "deploy", ready, "--wait", "--interval", "0.05",
                         "--timeout", "120"])
        finally:
            helper.join(timeout=70)
        captured = capsys.readouterr()
    assert not failures and not helper.is_alive()
    assert code == 0, captured.err
    assert json.loads(captured.out)["status_name"] == "Deployed"
    assert "no answer from the server; polling on" in captured.err
    assert "Traceback" not in captured.err and "HTTPConnectionPool" not in captured.err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_a_wait_says_the_action_was_accepted(doc37: object) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.sim.maas import MAASSimulator

    with MAASSimulator(machines=4, speed=1.0) as sim:  # a deploy takes 300 real seconds
        ProfileStore().save(Profile("region", f"{sim.url}api/2.0/", sim.api_key, doc37))
        ready = next(m.system_id for m in sim.state.machines.values()
                     if m.status.label == "Ready")
        code, out, err = interrupt_cli(
            ["region", "machine", "deploy", ready, "--wait", "--interval", "0.05"],
            ready=lambda: counted(sim, "MachineHandler", "read") >= 2)
    assert code == 130, err
    assert (f"interrupted: deploy was accepted (HTTP 200); machine {ready} was last seen "
            "'Deploying' and the region goes on with it") in err
    assert json.loads(out)["status_name"] == "Deploying"  # what the region answered
