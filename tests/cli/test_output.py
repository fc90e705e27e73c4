"""Output: as sent, json, yaml, table; errors on stderr with their exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from maas_dyn.cli._common.table import MAX_COLUMNS, choose_columns, render
from maas_dyn.cli._common.yamlout import dump
from maas_dyn.maas import RawResponse
from maas_dyn.retry import RetryPolicy

from .conftest import FakeTTY, Recorder, Result, json_reply, text_reply

MACHINES = [
    {"system_id": "abc123", "hostname": "node-1", "status_name": "Deployed", "memory": 4096,
     "zone": {"name": "default", "id": 1}, "tag_names": ["a", "b"], "resource_uri": "/x/",
     "interface_set": [{"id": 1}], "owner": None, "locked": False},
    {"system_id": "def456", "hostname": "node-2", "status_name": "Ready", "memory": 2048,
     "zone": {"name": "z2", "id": 2}, "tag_names": [], "resource_uri": "/y/",
     "interface_set": [], "owner": "admin", "locked": True},
]


def test_default_output_is_the_body_as_sent(cli: Callable[..., Result]) -> None:
    body = b'{"b": 1,   "a": [1,2]}'
    result = cli("admin", "users", "whoami",
                 transport=Recorder(RawResponse(200, {"Content-Type": "application/json"}, body)))
    assert result.out == body.decode()


def test_terminal_gets_pretty_json_and_text_gets_a_newline(
        cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stdout", terminal)
    cli("admin", "users", "whoami", transport=Recorder(json_reply({"username": "admin"})))
    assert terminal.getvalue() == '{\n  "username": "admin"\n}\n'
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stdout", terminal)
    cli("admin", "machine", "get-curtin-config", "abc",
        transport=Recorder(text_reply(200, "curtin: yes")))
    assert terminal.buffer.getvalue() == b"curtin: yes" and terminal.getvalue() == "\n"


def test_raw_body_to_a_stream_without_a_byte_buffer() -> None:
    import io

    from maas_dyn.cli._common.output import write_response
    from maas_dyn.maas import Response

    stream = io.StringIO()
    write_response(Response(200, {"Content-Type": "text/plain"}, "caf\u00e9".encode(), "",
                            "GET", ""), None, stream)
    assert stream.getvalue() == "caf\u00e9"


def test_binary_and_empty_bodies_are_written_as_received(
        cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stdout", terminal)
    binary = RawResponse(200, {"Content-Type": "application/octet-stream"}, b"\x00\xffdata\n")
    cli("admin", "file", "read", "f", "-o", "json", transport=Recorder(binary))
    assert terminal.buffer.getvalue() == b"\x00\xffdata\n" and terminal.getvalue() == ""
    empty = cli("admin", "zone", "delete", "z", "-o", "yaml",
                transport=Recorder(RawResponse(204, {"Content-Type": "application/json"}, b"")))
    assert (empty.code, empty.out) == (0, "")


@pytest.mark.parametrize(("output", "expected"), [
    ("json", json.dumps(MACHINES, indent=2) + "\n"),
    ("yaml", dump(MACHINES)),
    ("table", render(MACHINES)),
])
def test_formats(cli: Callable[..., Result], output: str, expected: str) -> None:
    result = cli("admin", "machines", "read", "-o", output,
                 transport=Recorder(json_reply(MACHINES)))
    assert result.out == expected


def test_table_of_machines() -> None:
    assert render(MACHINES).splitlines() == [
        "system_id  hostname  status_name  owner  zone     memory  tag_names  locked",
        "abc123     node-1    Deployed            default  4096    a, b       false",
        "def456     node-2    Ready        admin  z2       2048               true",
    ]


def test_table_shapes() -> None:
    assert render({"a": 1, "b": {"c": [1]}}) == 'key  value\na    1\nb    {"c":[1]}\n'
    assert render(["x", 2, None]) == "x\n2\n\n"
    assert render([]) == "(no items)\n"  # an empty table says so
    # A page of results (events query) is the table of its list, then its plain values.
    page = {"count": 1, "events": [{"id": 7, "hostname": "n1", "type": "Deployed"}],
            "next_uri": "/MAAS/api/2.0/events/?op=query&after=7", "prev_uri": None}
    assert render(page) == ("id  hostname  type\n7   n1        Deployed\n\ncount: 1\n"
                            "next_uri: /MAAS/api/2.0/events/?op=query&after=7\nprev_uri: \n")
    assert render({"events": []}) == "(no items)\n"
    assert render("plain") == "plain\n"
    assert render([{"description": "x" * 100}]).splitlines()[1] == "x" * 39 + "…"
    many = [{f"k{i}": i for i in range(20)}]
    assert len(choose_columns(many)) == MAX_COLUMNS
    assert choose_columns([{"id": 1, "name": "a", "children": [{"x": 1}]}]) == ["id", "name"]


@pytest.mark.parametrize("value", [
    {"plain": "text", "number": "123", "bool": "yes", "null": "null", "colon": "a: b",
     "hash": "a #b", "lead": " x", "trail": "x ", "quote": '"', "multi": "a\nb", "tab": "a\tb",
     "empty": "", "unicode": "caf\u00e9 \u2028 \x85 \x7f \U0001f600", "dash": "-x",
     "path": "/MAAS/api/2.0/", "dotted": ".inf"},
    [1, 2.5, -3, True, False, None, [], {}, [[1, [2]], {"a": {"b": []}}]],
    {"nested": [{"a": 1, "b": [1, 2]}, [], {}]},
    "just a string",
    None,
])
def test_yaml_round_trips(value: Any) -> None:
    assert yaml.safe_load(dump(value)) == value


def test_yaml_floats() -> None:
    assert dump([float("inf"), float("-inf"), float("nan")]) == "- .inf\n- -.inf\n- .nan\n"
    assert dump([1e-05, 1e16, 2.5e-300, 0.5]) == "- 1.0e-05\n- 1.0e+16\n- 2.5e-300\n- 0.5\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_yaml_round_trips_any_json(value: Any) -> None:
    assert yaml.safe_load(dump(value)) == value


def test_http_error_goes_to_stderr_with_exit_1(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machine", "read", "nope",
                 transport=Recorder(text_reply(404, "No machine with system ID nope.")))
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("maas-dyn: error: 404: No machine with system ID nope.")
    bad = cli("admin", "machines", "allocate", "cpu_count=x",
              transport=Recorder(json_reply({"cpu_count": ["Enter a number."]}, 400)))
    assert bad.code == 1 and "cpu_count: Enter a number." in bad.err


def test_connection_error_exits_1(cli: Callable[..., Result],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.errors import ConnectionFailed

    def refuse(request: Any) -> RawResponse:
        raise ConnectionFailed("cannot connect to the server: refused")

    monkeypatch.setattr(RetryPolicy, "delay", lambda *args, **kwargs: None)
    result = cli("admin", "users", "whoami", transport=Recorder(refuse))
    assert result.code == 1 and "cannot connect to the server" in result.err
