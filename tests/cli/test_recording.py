"""``--record FILE`` on both command lines (maas_dyn/cli/_common/recording.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.cli import maas as maas_cli
from maas_dyn.cli import truenas as truenas_cli
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli._common.recording import recorded, take_record_option
from maas_dyn.errors import ConfigurationError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.testing import replay
from maas_dyn.truenas import Client as TrueNASClient


@pytest.mark.parametrize(("argv", "expected"), [
    (["--record", "s.yaml", "admin", "users", "whoami"], ("s.yaml", ["admin", "users", "whoami"])),
    (["--record=s.yaml", "admin"], ("s.yaml", ["admin"])),
    (["admin", "--record", "x"], (None, ["admin", "--record", "x"])),
    ([], (None, [])),
])
def test_the_option_comes_first(argv: list[str], expected: tuple[Any, ...]) -> None:
    assert take_record_option(argv) == expected


@pytest.mark.parametrize("argv", [["--record"], ["--record="]])
def test_the_option_needs_a_file(argv: list[str]) -> None:
    with pytest.raises(ConfigurationError, match="needs a file name"):
        take_record_option(argv)


def test_recorded_is_a_no_op_without_a_recording() -> None:
    client = object()
    assert recorded(client) is client


def test_maas_dyn_records_a_command(maas_sim: Any, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    ProfileStore().save(Profile("admin", f"{maas_sim.url}api/2.0/", maas_sim.api_key,
                                load_shipped("maas", maas_sim.version)))
    cassette = tmp_path / "whoami.yaml"
    assert maas_cli.main(["--record", str(cassette), "admin", "users", "whoami"]) == 0
    assert '"username": "admin"' in capsys.readouterr().out
    text = cassette.read_text()
    assert "op=whoami" in text and maas_sim.api_key.split(":")[2] not in text
    offline = MAASClient.from_release(maas_sim.version, url="http://127.0.0.1:9/MAAS/",
                                      api_key="a:b:c", cache=False)
    with replay(offline, cassette):
        assert offline.users.whoami()["username"] == "admin"
    assert maas_cli.main(["--record"]) == 2
    assert "needs a file name" in capsys.readouterr().err


def test_truenas_dyn_records_a_command(truenas_sim: Any, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    ProfileStore(dialect="truenas").save(Profile(
        "nas", truenas_sim.url, truenas_sim.api_key, dialect="truenas",
        username=truenas_sim.username))
    cassette = tmp_path / "version.jsonl"
    for command in (["call", "system.version"], ["system", "version"]):
        assert truenas_cli.main(["--record", str(cassette), "nas", *command]) == 0
        assert "TrueNAS" in capsys.readouterr().out
        text = cassette.read_text()
        assert "API_KEY_PLAIN" in text and truenas_sim.api_key not in text
        assert "core.get_methods" not in text  # only the command's session is recorded
    with TrueNASClient.from_release(truenas_sim.version, url="ws://127.0.0.1:9/api/current",
                                    username=truenas_sim.username, api_key="1-replayed",
                                    cache=False) as offline, replay(offline, cassette):
        assert offline.system.version().startswith("TrueNAS")
    assert truenas_cli.main(["--record=", "nas", "ping"]) == 2
