"""Hostile server data never makes a CLI print a traceback (issue 17, part C).

A region answering JSON nested 950 deep, or strings with lone surrogates (``\\ud800``
escapes are valid JSON but not encodable UTF-8), is rendered in every output format
of ``maas-dyn`` (through its main(), stdout captured as strict UTF-8) and of
``truenas-dyn``'s renderer.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from maas_dyn.cli._common.output import FORMATTERS
from maas_dyn.maas import RawResponse

from .conftest import JSON_HEADERS, KEY, LocalServer, Recorder, Result, run_subprocess

_DEEP_LIST = b"[" * 950 + b"1" + b"]" * 950
_DEEP_OBJECT = b'{"a":' * 950 + b"1" + b"}" * 950
_DEEP_ROWS = b'[{"name": "n", "x": ' + _DEEP_LIST + b"}]"
_SURROGATES = b'[{"name": "bad\\ud800", "d": "\\udfff"}, {"name": "ok"}]'


def _truenas_output() -> Any:
    """truenas-dyn's output module, wherever it lives (the CLI is being reorganised)."""
    names = ("maas_dyn.cli.truenas.output", "maas_dyn.cli._truenas_output")
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {names} imports")


def _reply(body: bytes) -> Recorder:
    return Recorder(RawResponse(200, {"Content-Type": "application/json"}, body))


@pytest.mark.parametrize("body", [_DEEP_LIST, _DEEP_OBJECT, _DEEP_ROWS, _SURROGATES],
                         ids=["deep-list", "deep-object", "deep-rows", "surrogates"])
@pytest.mark.parametrize("output", ["json", "yaml", "table"])
def test_maas_cli_renders_hostile_json_without_a_traceback(
        cli: Callable[..., Result], body: bytes, output: str) -> None:
    result = cli("admin", "machines", "read", "-o", output, transport=_reply(body))
    assert "Traceback" not in result.err
    # Rendered, or refused by the decoder with a one-line error (a deep stack can make
    # even decoding the body impossible): never an exception out of main().
    assert (result.code, bool(result.out.strip())) in ((0, True), (1, False)), result.err
    if result.code:
        assert result.err.startswith("maas-dyn: error:")


@pytest.mark.parametrize(("body", "output"), [(_DEEP_ROWS, "table"), (_DEEP_LIST, "table"),
                                              (_SURROGATES, "json")],
                         ids=["deep-rows-table", "deep-list-table", "surrogates-json"])
def test_maas_cli_as_a_subprocess_prints_no_traceback(
        local_server: LocalServer, body: bytes, output: str) -> None:
    # A real process: its stdout is strict UTF-8 and its stack as shallow as a user's.
    local_server.routes["/MAAS/api/2.0/machines/"] = lambda r: (200, JSON_HEADERS, body)
    code, _, err = run_subprocess("login", "local", local_server.url, KEY)
    assert code == 0, err
    code, out, err = run_subprocess("local", "machines", "read", "-o", output)
    assert "Traceback" not in err
    assert code == 0 and out.strip(), err


def test_surrogates_in_json_output_stay_valid_json() -> None:
    data = json.loads(_SURROGATES)
    text = FORMATTERS["json"](data)
    text.encode("utf-8")
    assert json.loads(text) == data  # the escapes read back as the same strings


def test_surrogates_in_yaml_output_read_back() -> None:
    data = json.loads(_SURROGATES)
    text = FORMATTERS["yaml"](data)
    text.encode("utf-8")
    assert yaml.safe_load(text)[1] == {"name": "ok"}


def test_deep_data_is_clipped_for_tables() -> None:
    from maas_dyn.cli._common.output import clip

    data = json.loads(_DEEP_OBJECT)
    text = FORMATTERS["table"](data)
    assert text.startswith("key")
    assert clip(json.loads(_DEEP_LIST), 2) == [["…"]]


@pytest.mark.parametrize("body", [_DEEP_LIST, _DEEP_OBJECT, _SURROGATES])
@pytest.mark.parametrize("output", ["json", "table"])
@pytest.mark.parametrize("pretty", [True, False])
def test_truenas_renderer_handles_hostile_results(body: bytes, output: str,
                                                  pretty: bool) -> None:
    text = _truenas_output().render(json.loads(body), output, pretty)
    text.encode("utf-8")  # what writing it to stdout needs
    assert text.strip()
