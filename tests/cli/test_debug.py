"""--debug output, and that the API key never appears in any output."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.cli.maas.debug import DebugPrinter
from maas_dyn.maas import RawResponse
from maas_dyn.maas.encode import PreparedRequest, encode_request

from .conftest import API, KEY, Recorder, Result, json_reply

SECRETS = KEY.split(":")


def test_debug_shows_request_and_response(cli: Callable[..., Result], tmp_path: Path) -> None:
    data = tmp_path / "user-data"
    data.write_bytes(b"#!/bin/sh\n")
    result = cli("admin", "machine", "deploy", "abc", "distro_series=jammy",
                 "power_pass=hunter2", f"user_data@={data}", "--debug",
                 transport=Recorder(json_reply({}, headers={"X-Extra": "1"})))
    err = result.err
    assert f"> POST {API}/machines/abc/?op=deploy" in err
    assert "> Authorization: OAuth <redacted>" in err
    assert "> Content-Type: multipart/form-data; boundary=" in err
    assert "> distro_series=jammy" in err
    assert "> power_pass=<redacted>" in err and "hunter2" not in err
    assert "> user_data=<file 'user_data', 10 bytes>" in err
    assert "< HTTP 200  (2 bytes)" in err and "< X-Extra: 1" in err


def test_debug_of_a_get_redacts_secret_looking_query_values(cli: Callable[..., Result]) -> None:
    result = cli("admin", "files", "get-by-key", "key=abc", "--debug")
    assert f"> GET {API}/files/?op=get_by_key&key=<redacted>" in result.err
    assert "Authorization" in result.err


def test_debug_unsigned_and_anonymous(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machines", "is-action-in-progress", "-d")
    assert "> GET" in result.err and "Authorization" not in result.err


def test_debug_printer_details() -> None:
    stream = io.StringIO()
    printer = DebugPrinter(stream, signed=True, secrets=(KEY, *SECRETS, "x"))
    raw = PreparedRequest("PUT", f"{API}/u/?token={SECRETS[1]}", {"Content-Type": "x/y"},
                          b"12345")
    printer.on_request(request=raw, attempt=2)
    form = encode_request("POST", f"{API}/u/", None, [("v", "a" * 300)])
    printer.on_request(request=form, attempt=1)
    broken = PreparedRequest("POST", f"{API}/u/", {"Content-Type": "multipart/form-data"}, b"x")
    printer.on_request(request=broken, attempt=1)
    out = stream.getvalue()
    assert "(attempt 2)" in out and "(5 bytes)" in out and "(1 bytes)" in out
    assert "v=" + "a" * 200 + "…" in out
    assert not any(secret in out for secret in SECRETS)


COMMANDS: list[list[str]] = [
    ["list"],
    ["admin", "users", "whoami", "--debug"],
    ["admin", "machine", "deploy", "abc", "-d", "-o", "yaml"],
    ["admin", "machine", "deploy", "abc", "--wait", "--interval", "0", "--debug"],
    ["admin", "machines", "read", "-o", "table", "--debug"],
    ["admin", "-h"],
    ["admin", "machine", "deploy", "-h"],
    ["-h"],
    ["admn", "users", "whoami"],
    ["refresh"],
    ["login", "again", "http://127.0.0.1:5240/MAAS/", KEY],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_the_key_never_appears(cli: Callable[..., Result], argv: list[str], doc37: Any) -> None:
    def reply(request: PreparedRequest) -> RawResponse:
        if request.url.endswith("/describe/"):
            return json_reply(doc37)
        return json_reply({"system_id": "abc", "status_name": "Deployed"})

    result = cli(*argv, transport=Recorder(reply))
    assert result.code in (0, 2)
    output = result.out + result.err
    assert not any(secret in output for secret in [KEY, *SECRETS]), output[-2000:]
