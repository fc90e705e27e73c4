"""The entry point: subprocess runs against a real server on 127.0.0.1, dispatch of
the sim and demo commands, --version, and the exit codes of interruptions."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable

import pytest

from maas_dyn._version import __version__
from maas_dyn.cli import maas as entry
from maas_dyn.cli._common.profiles import ProfileStore
from maas_dyn.cli.maas import COMMANDS, Command

from .conftest import KEY, LocalServer, Result, run_subprocess


def test_login_then_call_as_subprocesses(local_server: LocalServer) -> None:
    code, out, err = run_subprocess("login", "local", local_server.url, "-", stdin=KEY + "\n")
    assert code == 0, err
    assert "logged in" in out
    whoami, describe, openapi = local_server.seen
    assert (whoami.method, whoami.path) == ("GET", "/MAAS/api/2.0/users/?op=whoami")
    assert whoami.headers["Authorization"].startswith("OAuth ")
    assert 'oauth_signature_method="PLAINTEXT"' in whoami.headers["Authorization"]
    assert describe.path == "/MAAS/api/2.0/describe/" and "Authorization" not in describe.headers
    assert openapi.path == "/MAAS/api/2.0/openapi.yaml"  # 404 here: a region before 3.3
    assert ProfileStore().load("local").api_key == KEY

    code, out, err = run_subprocess("local", "users", "whoami")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"username": "admin", "is_superuser": True}
    assert len(local_server.seen) == 4  # no describe: the profile's description was used

    code, out, _ = run_subprocess("list")
    assert out == f"local {local_server.url}api/2.0/\n" and KEY not in out


def test_rejected_key_as_subprocess(local_server: LocalServer) -> None:
    local_server.routes["/MAAS/api/2.0/users/"] = lambda r: (401, {}, b"Unauthorized")
    code, _, err = run_subprocess("login", "local", local_server.url, KEY)
    assert code == 1 and "The MAAS server rejected your API key." in err


def test_unreachable_server_as_subprocess() -> None:
    code, _, err = run_subprocess("login", "local", "http://127.0.0.1:9/MAAS/")
    assert code == 1 and "cannot connect" in err


def test_version(cli: Callable[..., Result]) -> None:
    assert cli("--version").out == f"maas-dyn {__version__}\n"


def test_external_commands_get_their_arguments(cli: Callable[..., Result],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("maas_dyn.sim.maas.cli")
    fake.main = lambda argv: seen.append(argv) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "maas_dyn.sim.maas.cli", fake)
    assert cli("sim", "maas", "--port", "0").code == 7
    assert seen == [["--port", "0"]]


@pytest.mark.parametrize(("argv", "message"), [
    ((), "usage: maas-dyn sim maas|truenas"),
    (("mass",), "unknown simulator 'mass', did you mean maas?"),
])
def test_sim_needs_a_server_word(cli: Callable[..., Result], argv: tuple[str, ...],
                                 message: str) -> None:
    result = cli("sim", *argv)
    assert result.code == 2 and message in result.err


@pytest.mark.parametrize(("raised", "code", "err"), [
    (SystemExit("sim: no such scenario"), 1, "maas-dyn: sim: no such scenario\n"),
    (SystemExit(5), 5, ""),
    (SystemExit(None), 0, ""),
])
def test_external_commands_may_exit(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                                    raised: SystemExit, code: int, err: str) -> None:
    def main(argv: list[str]) -> int:
        raise raised

    fake = types.ModuleType("maas_dyn.sim.maas.cli")
    fake.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "maas_dyn.sim.maas.cli", fake)
    result = cli("sim", "maas")
    assert (result.code, result.err) == (code, err)


def test_missing_external_command(cli: Callable[..., Result],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "demo", Command("maas_dyn.no_such_demo", "main",
                                                  external=True))
    result = cli("demo")
    assert result.code == 2
    assert "the 'demo' command is not available in this installation" in result.err


def test_missing_dependency_inside_a_command_is_not_hidden(
        cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ModuleNotFoundError("No module named 'websockets'", name="websockets")

    monkeypatch.setattr("maas_dyn.cli._common.commands.importlib.import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="websockets"):
        cli("demo")


def test_interrupt_exits_130(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("maas_dyn.cli.maas.command.run", interrupted)
    result = cli("admin", "machines", "read")
    assert result.code == 130 and "interrupted" in result.err


def test_main_reads_sys_argv(store: ProfileStore, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["maas-dyn", "list"])
    assert entry.main() == 0
    assert capsys.readouterr().out.startswith("admin ")


def test_help_names_health_and_bulk_and_sim_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli.maas import main

    assert main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "PROFILE health [-o text|json|prometheus]" in out and "--all-matching" in out
    assert main(["sim", "-h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: maas-dyn sim maas|truenas") and "--speed" in out
