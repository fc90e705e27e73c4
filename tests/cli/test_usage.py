"""Usage errors: one line with the reason and the closest valid names, exit code 2.
Plus the laziness of parsing: one command builds one parser, not one per handler."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Recorder, Result, json_reply


@pytest.mark.parametrize(("argv", "message"), [
    (["admn", "machines", "read"], "unknown profile 'admn'; did you mean admin?"),
    (["admin", "machins", "read"], "unknown handler 'machins'; did you mean machines, machine"),
    (["admin", "machine", "deplo", "abc"], "unknown action 'deplo'; did you mean deploy?"),
    (["admin", "vlan", "5", "0", "raed"], "unknown action 'raed'; did you mean read?"),
    (["admin", "vlan", "5", "0", "zzz"], "unknown action '5'"),
    (["admin", "machine"], "missing ACTION after 'machine'; its actions: delete, read,"),
    (["admin"], "missing HANDLER after the profile; `maas-dyn admin -h` lists them"),
    (["admin", "machine", "deploy"], "missing path parameter SYSTEM_ID for machine deploy; "
                                     "usage: maas-dyn admin machine deploy SYSTEM_ID"),
    (["admin", "vlan", "read", "5"], "missing path parameter VID for vlan read"),
    (["admin", "machine", "deploy", "distro_series=jammy"],
     "missing path parameter SYSTEM_ID"),  # a documented key=value is a field
    (["admin", "machine", "deploy", "abc", "distro_seris=jammy", "--strict"],
     "'distro_seris' is not documented for machine deploy; did you mean distro_series? "
     "(--strict: nothing was sent)"),
    (["admin", "machine", "deploy", "abc", "distro_series"],
     "'distro_series' is not a key=value or key@=FILE pair; did you mean distro_series=VALUE?"),
    (["admin", "machine", "deploy", "abc", "=jammy"], "'=jammy' is not a key=value"),
    (["admin", "machine", "deploy", "abc", "user_data@=/no/such/file"],
     "cannot read '/no/such/file' given as user_data@=FILE: no such file"),
    (["admin", "machines", "read", "--wiat"], "unrecognized arguments: --wiat; did you mean "
                                              "--wait? (see `maas-dyn admin -h`)"),
    (["admin", "machines", "read", "-o", "tabel"], "invalid choice: 'tabel'"),
    (["admin", "machine", "deploy", "abc", "--wait", "--timeout", "-3"],
     "expected a number of seconds >= 0, got '-3'"),
    (["admin", "machine", "deploy", "abc", "--wait", "--interval", "soon"],
     "expected a number of seconds >= 0, got 'soon'"),
    (["admin", "machines", "read", "--wait"], "--wait polls machines and other nodes; "
                                              "'machines' has no system_id"),
    (["--debug", "admin", "machines", "read"], "options go after the profile"),
    (["completion", "tcsh"], "unknown shell 'tcsh'"),
    (["completion"], "usage: maas-dyn completion bash|zsh"),
    (["logout"], "the following arguments are required: profile"),
])
def test_usage_errors(cli: Callable[..., Result], argv: list[str], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2, result
    assert result.err.startswith("maas-dyn: error: ")
    assert len(result.err.splitlines()) == 1
    assert message in result.err
    assert result.transport.requests == []


def test_unreadable_upload(cli: Callable[..., Result], tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("admin", "machine", "deploy", "abc", f"user_data@={tmp_path}")
    assert result.code == 2 and "not a regular file" in result.err
    secret = tmp_path / "secret"
    secret.write_text("x")
    monkeypatch.setattr("os.access", lambda path, mode: False)  # as if chmod 0, even as root
    result = cli("admin", "machine", "deploy", "abc", f"user_data@={secret}")
    assert result.code == 2 and "permission denied" in result.err


def test_no_arguments_prints_help_and_fails(cli: Callable[..., Result]) -> None:
    result = cli()
    assert result.code == 2 and "usage: maas-dyn COMMAND" in result.out


@pytest.fixture
def count_parsers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    original = argparse.ArgumentParser.__init__

    def counting(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        built.append(str(kwargs.get("prog")))
        original(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "__init__", counting)
    return built


@pytest.mark.parametrize("argv", [
    ["admin", "machines", "read"],
    ["admin", "machine", "deploy", "abc", "distro_series=jammy"],
    ["admin", "-h"],
    ["admin", "machine", "-h"],
    ["admin", "machine", "deploy", "-h"],
])
def test_one_parser_per_command(cli: Callable[..., Result], count_parsers: list[str],
                                argv: list[str]) -> None:
    assert cli(*argv).code == 0
    assert count_parsers == ["maas-dyn admin"]


def test_the_cli_prints_each_rejected_field_on_its_own_line(cli: Callable[..., Result]) -> None:
    transport = Recorder(json_reply({"distro_series": ["'x' is not a valid distro_series."],
                                     "hwe_kernel": ["'y' is not a valid kernel."]}, 400))
    done = cli("admin", "machine", "deploy", "abc", "distro_series=x",
               "hwe_kernel=y", transport=transport)
    assert done.code == 1
    assert done.err.splitlines()[1:] == ["  distro_series: 'x' is not a valid distro_series.",
                                         "  hwe_kernel: 'y' is not a valid kernel."]
    assert done.err.startswith("maas-dyn: error: 400: the server rejected 2 parameters (POST ")
