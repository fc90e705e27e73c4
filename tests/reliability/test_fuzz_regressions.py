"""Regression tests for the untyped exceptions the fuzzers found (each failed before its fix)."""

from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from maas_dyn._dynamic import python_identifier
from maas_dyn._shipped import load_shipped
from maas_dyn.errors import DescriptionError, MAASAPIError, NotAServerError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.maas.describe import Description
from maas_dyn.maas.response import decode_body, error_for
from maas_dyn.maas.transport import RawResponse
from maas_dyn.retry import RetryPolicy
from maas_dyn.testing.ws_cassette import read_cassette
from maas_dyn.truenas import Client as TrueNASClient
from maas_dyn.truenas.jsonrpc import JSONRPCFraming, LegacyFraming, loads
from maas_dyn.truenas.schema import check_value

VERSION = {"name": "VersionHandler", "anon": {
    "name": "VersionHandler", "doc": "Version.", "path": "/MAAS/api/2.0/version/",
    "params": [], "actions": [{"name": "read", "method": "GET", "op": None, "doc": "Read.",
                               "restful": True}]}, "auth": None}


def _maas_doc(**changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(VERSION)
    resource["anon"].update(changes)
    return {"hash": "h", "resources": [resource]}


# -- MAAS describe --------------------------------------------------------------------------

def test_unhashable_action_method_is_a_description_error() -> None:
    document = _maas_doc()
    document["resources"][0]["anon"]["actions"][0]["method"] = ["GET"]
    with pytest.raises(DescriptionError, match="'method' must be one of"):
        Description(document)  # was TypeError: unhashable type: 'list'


def test_repeated_path_parameters_render_a_signature() -> None:
    document = _maas_doc(path="/MAAS/api/2.0/version/{a}/{a-b}/", params=["a", "a", "a_b", "a-b"])
    client = MAASClient.from_description(document, cache=False)
    names = list(inspect.signature(client.version.read).parameters)
    assert len(names) == len(set(names)) == 5  # was ValueError: duplicate parameter name


# -- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["¼x", "x²", "__init__", "__class__"])
def test_python_identifier_is_always_safe(name: str) -> None:
    made = python_identifier(name)
    assert made.isidentifier() and not made.startswith("__")


def test_truenas_method_named_like_class_machinery() -> None:
    document = {"pool.__init__": {"accepts": []}, "pool.query": {"accepts": []}}
    client = TrueNASClient.from_methods(document, cache=False)  # was RecursionError
    # The namespace's machinery is untouched and the odd method is reachable under a safe
    # name (was RecursionError on building or printing the namespace).
    assert repr(client.pool) == "<namespace pool: query, x__init__>"
    assert callable(client.pool.query) and callable(client.pool.x__init__)
    assert type(client.pool).__init__ is not client.pool.x__init__
    assert client.methods is not None and "pool.__init__" in client.methods


def test_truenas_names_with_empty_parts_are_skipped() -> None:
    document = {".lead": {}, "x..y": {}, "trail.": {}, "pool.query": {}}
    client = TrueNASClient.from_methods(document, cache=False)  # was KeyError: ''
    assert client.methods is not None and list(client.methods) == ["pool.query"]


# -- TrueNAS documents and schemas ------------------------------------------------------------

@pytest.mark.parametrize("accepts", [True, 5, [None, {"_name_": "x"}], [{"required": [[1]],
                         "properties": {"a": {}}}], [{"anyOf": [None, {"type": "string"}]}]])
def test_odd_accepts_still_render(accepts: Any) -> None:
    client = TrueNASClient.from_methods({"pool.query": {"accepts": accepts}}, cache=False)
    str(client.pool.query.__doc__)  # was TypeError/AttributeError while rendering
    str(inspect.signature(client.pool.query))


@pytest.mark.parametrize("schema", [
    {"properties": {"a": [1]}}, {"enum": 5}, {"required": 3}, {"required": [[1]]},
    {"anyOf": 3}, {"oneOf": [None]}, {"type": 5},
    {"items": 5}, {"prefixItems": 5}, {"properties": 7},
    {"oneOf": [{"properties": 3}], "discriminator": {"propertyName": "t"}},
])
def test_malformed_schemas_constrain_nothing(schema: dict[str, Any]) -> None:
    check_value(schema, {"a": 1, "t": "x"})  # each raised TypeError/AttributeError before
    check_value(schema, ["ab"])


# -- JSON-RPC frames --------------------------------------------------------------------------

def test_out_of_range_dates_stay_raw() -> None:
    assert loads('{"$date": 1e20}') == {"$date": 1e20}  # was OSError in the reader thread
    assert loads('{"$date": 1e300}') == {"$date": 1e300}  # was OverflowError


def test_deep_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads("[" * 100_000 + "]" * 100_000)  # was RecursionError


def test_unhashable_reply_ids_are_ignored() -> None:
    assert JSONRPCFraming().decode('{"id": [1], "result": 2}') == []
    legacy = LegacyFraming()
    (reply,) = legacy.decode('{"msg": "result", "id": {"a": 1}, "result": 2}')
    hash(reply.id)  # was a TypeError in the reader's lookup by id
    assert legacy.decode('{"msg": "ready", "subs": 5}') == []  # was TypeError
    (reply,) = legacy.decode('{"msg": "result", "id": "²", "result": 2}')
    assert reply.id == "²"  # was ValueError from int("²")


# -- MAAS responses ---------------------------------------------------------------------------

def _raw(content_type: str, body: bytes, status: int = 200) -> RawResponse:
    return RawResponse(status, CaseInsensitiveDict({"Content-Type": content_type}), body)


def test_text_in_a_codec_without_replace() -> None:
    assert decode_body(_raw("text/plain; charset=idna", b"\xff")) == "\ufffd"  # was UnicodeError


def test_deeply_nested_json_bodies() -> None:
    with pytest.raises(NotAServerError):
        decode_body(_raw("application/json", b"[" * 100_000))  # was RecursionError
    error = error_for(_raw("application/json", b"[" * 100_000, 400), "GET", "http://h/")
    assert isinstance(error, MAASAPIError)  # was RecursionError


def test_retry_after_with_a_non_ascii_digit() -> None:
    wait = RetryPolicy(backoff_factor=0.5).delay(1, "GET", status=503, retry_after="²",
                                                 elapsed=0.0)
    assert wait == 0.5  # was ValueError: could not convert string to float


# -- cassettes --------------------------------------------------------------------------------

HEADER = {"kind": "cassette", "format": "maas_dyn.truenas", "version": 1}


@pytest.mark.parametrize("lines", [
    [[1, 2]], [HEADER, [1]], [HEADER, {"kind": "call", "method": "x", "params": []}],
    [HEADER, {"kind": "call", "n": 1, "method": "x",
                                           "params": []}, {"kind": "result", "n": 1}],
])
def test_malformed_cassettes_are_value_errors(tmp_path: Path, lines: list[Any]) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    with pytest.raises(ValueError):  # were AttributeError, KeyError and TypeError
        read_cassette(path)


def test_shipped_documents_are_unchanged_by_the_fixes() -> None:
    # The fixes only touch malformed input: real documents build as before.
    MAASClient.from_release("3.7", cache=False)
    TrueNASClient.from_methods(load_shipped("truenas", "25.10"), cache=False)


# -- found by the secrets audit ---------------------------------------------------------------

def test_every_cache_directory_is_private(tmp_path: Path) -> None:
    import stat

    from maas_dyn._cache import DescriptionCache

    base = tmp_path / "home" / "cache" / "maas_dyn"
    DescriptionCache("maas", root=base).store("http://127.0.0.1:5240/MAAS/", "h", b"{}")
    for folder in [base, *(p for p in base.rglob("*") if p.is_dir())]:
        # The base and the dialect folder were created 0755 by mkdir(parents=True).
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


# -- found by the chaos run -------------------------------------------------------------------

class _FailingSession:
    def __init__(self, error: Exception):
        self.error = error

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error

    def close(self) -> None:
        """Nothing to close."""


@pytest.mark.parametrize(("error", "typed"), [
    ("ReadTimeout", "Timeout"), ("ConnectionError", "ConnectionClosed"),
    ("ChunkedEncodingError", "ConnectionClosed"), ("ContentDecodingError", "ConnectionClosed"),
    ("TooManyRedirects", "TransportError"),
])
def test_transport_errors_are_typed_and_name_the_request(error: str, typed: str) -> None:
    import requests

    from maas_dyn import errors
    from maas_dyn.maas.encode import PreparedRequest
    from maas_dyn.maas.transport import RequestsTransport

    raised = getattr(requests.exceptions, error)("cut off")
    transport = RequestsTransport(session=_FailingSession(raised))  # type: ignore[arg-type]
    url = "http://127.0.0.1:5240/MAAS/api/2.0/machines/abc123/?op=deploy"
    with pytest.raises(getattr(errors, typed)) as caught:
        transport.send(PreparedRequest("POST", url), None, 1.0)
    # Chunked/decoding errors escaped as requests' own exceptions; Timeout and
    # ConnectionClosed named neither the request nor the machine (a bulk run lost track).
    assert type(caught.value).__name__ == typed
    assert "abc123" in str(caught.value)
