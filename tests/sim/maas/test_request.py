"""Decoding query strings and bodies: repeated keys, files, urlencoded, chunked."""

from __future__ import annotations

import pytest

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.request import Params, parse_body, parse_query
from maas_dyn.sim.maas.responses import BadRequest

from .conftest import Api, raw_request


def test_query_keeps_repeats_and_blanks() -> None:
    params = parse_query("op=read&hostname=a&hostname=b&empty=")
    assert params.get_list("hostname") == ["a", "b"]
    assert params.get("hostname") == "b"
    assert params.get("empty") == ""
    assert params.has("empty") and not params.has("missing")
    assert list(params.names()) == ["op", "hostname", "empty"]


def test_multipart_values_and_files() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="tags"\r\n\r\n'
        b"a\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="tags"\r\n\r\n'
        b"b\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="user_data"; filename="user_data"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\x00\x01binary\r\n"
        b"--XyZ\r\n"
        b"Content-Disposition: form-data\r\n\r\n"
        b"nameless\r\n"
        b"--XyZ--\r\n"
    )
    params = parse_body("multipart/form-data; boundary=XyZ", body)
    assert params.get_list("tags") == ["a", "b"]
    assert params.file("user_data") == b"\x00\x01binary"
    assert params.file("tags") is None
    assert list(params.names()) == ["tags", "user_data"]


def test_malformed_multipart_is_400() -> None:
    # Django skips a part with no header block (it is a RAW part), it does not refuse it.
    assert parse_body("multipart/form-data; boundary=B", b"--B\r\nno blank line--B--") == Params()
    with pytest.raises(BadRequest):
        parse_body("multipart/form-data", b"")


def test_urlencoded_and_other_bodies() -> None:
    params = parse_body("application/x-www-form-urlencoded", b"a=1&a=2&b=x+y")
    assert params.get_list("a") == ["1", "2"] and params.get("b") == "x y"
    assert parse_body("application/octet-stream", b"raw") == Params()
    assert parse_body("", b"") == Params()


def test_urlencoded_post_over_http(sim: MAASSimulator, api: Api) -> None:
    response = api.session.post(
        sim.url + "api/2.0/tags/", data={"name": "from-form", "comment": "c"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "from-form"


def test_chunked_body_is_read(sim: MAASSimulator) -> None:
    body = b"name=chunky"
    payload = (
        b"POST /MAAS/api/2.0/machines/?op=is_registered HTTP/1.1\r\n"
        b"Host: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    )
    answer = raw_request(sim, payload)
    # Unauthenticated POST of a GET op: routed after the body was consumed.
    assert answer.startswith(b"HTTP/1.1 401")


def test_oversized_body_is_413(sim: MAASSimulator) -> None:
    payload = (
        b"POST /MAAS/api/2.0/tags/ HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 999999999999\r\n\r\n"
    )
    answer = raw_request(sim, payload)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"X-MAAS-API-Hash" in answer
