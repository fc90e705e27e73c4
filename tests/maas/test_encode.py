"""Table-driven tests of request encoding (maas_dyn/maas/encode.py)."""

from __future__ import annotations

import io
import re
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.errors import InvalidParametersError
from maas_dyn.maas.encode import PreparedRequest, encode_request, expand_path

URL = "http://127.0.0.1:5240/MAAS/api/2.0/machines/"


def parts(request: PreparedRequest) -> list[tuple[str, str | None, bytes]]:
    """Decode a multipart body into (name, filename, content) triples."""
    assert request.body is not None
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    found = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition")
        name = re.search(r'name="([^"]*)"', disposition).group(1)
        filename = part.get_filename()
        found.append((name, filename, part.get_payload(decode=True)))
    return found


@pytest.mark.parametrize(
    ("method", "op", "fields", "url"),
    [
        ("GET", None, [], URL),
        ("GET", "whoami", [], URL + "?op=whoami"),
        ("GET", None, [("hostname", ["a", "b"])], URL + "?hostname=a&hostname=b"),
        ("GET", "list_allocated", [("id", "x y")], URL + "?op=list_allocated&id=x+y"),
        ("GET", None, [("zone", "z/1&2")], URL + "?zone=z%2F1%262"),
        ("GET", None, [("a", True), ("b", False), ("c", 3)], URL + "?a=true&b=false&c=3"),
        ("GET", None, [("skip", None), ("t", [None, "x"])], URL + "?t=x"),
        ("GET", None, [("doc", {"k": 1})], URL + "?doc=%7B%22k%22%3A+1%7D"),
        ("DELETE", None, [("erase", True)], URL + "?erase=true"),
        ("DELETE", "delete", [], URL + "?op=delete"),
    ],
)
def test_query_encoding(method: str, op: str | None, fields: list[tuple[str, Any]],
                        url: str) -> None:
    request = encode_request(method, URL, op, fields)
    assert request.url == url
    assert request.body is None
    assert "Content-Type" not in request.headers


def test_op_comes_first_and_order_is_kept() -> None:
    request = encode_request("GET", URL, "op1", [("z", 1), ("a", 2), ("z", 3)])
    assert request.url.endswith("?op=op1&z=1&a=2&z=3")


def test_file_value_in_get_sends_its_content() -> None:
    request = encode_request("GET", URL, None, [("data", io.BytesIO(b"hello world"))])
    assert request.url.endswith("?data=hello+world")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_multipart_with_repeated_keys(method: str) -> None:
    request = encode_request(method, URL, "deploy", [
        ("distro_series", "jammy"), ("tags", ["a", "b"]), ("flag", True)])
    assert request.url == URL + "?op=deploy"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert parts(request) == [
        ("distro_series", None, b"jammy"), ("tags", None, b"a"), ("tags", None, b"b"),
        ("flag", None, b"true")]


def test_post_without_parameters_has_no_body() -> None:
    request = encode_request("POST", URL, "release", [])
    assert request.body is None and request.headers == {}
    assert request.url == URL + "?op=release"


def test_restful_post_sends_no_op() -> None:
    assert encode_request("POST", URL, None, [("name", "t")]).url == URL


def test_uploads_are_file_parts_named_like_the_field(tmp_path: Path) -> None:
    path = tmp_path / "user-data.yaml"
    path.write_bytes(b"#cloud-config\n")
    request = encode_request("POST", URL, "deploy", [
        ("user_data", path), ("script", io.StringIO("echo hi")), ("blob", b"\x00\x01"),
        ("name", "x")])
    assert parts(request) == [
        ("user_data", "user_data", b"#cloud-config\n"),
        ("script", "script", b"echo hi"),
        ("blob", "blob", b"\x00\x01"),
        ("name", None, b"x"),
    ]
    assert b"Content-Type: application/octet-stream" in request.body


def test_unreadable_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidParametersError, match="cannot read the file"):
        encode_request("POST", URL, None, [("content", tmp_path / "missing.bin")])


def test_unsigned_flag_is_kept() -> None:
    assert encode_request("GET", URL, "is_action_in_progress", [], unsigned=True).unsigned


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("/MAAS/api/2.0/machines/{system_id}/", {"system_id": "abc"}, "/MAAS/api/2.0/machines/abc/"),
        ("/MAAS/api/2.0/fabrics/{fabric_id}/vlans/{vid}/", {"fabric_id": 5, "vid": 0},
         "/MAAS/api/2.0/fabrics/5/vlans/0/"),
        ("/MAAS/api/2.0/files/{filename}/", {"filename": "a b/c"}, "/MAAS/api/2.0/files/a%20b%2Fc/"),
        ("/MAAS/api/2.0/tags/{name}/", {"name": "k8s:gpu"}, "/MAAS/api/2.0/tags/k8s:gpu/"),
    ],
)
def test_expand_path(template: str, values: dict[str, Any], expected: str) -> None:
    assert expand_path(template, values) == expected


def test_expand_path_missing() -> None:
    with pytest.raises(InvalidParametersError) as info:
        expand_path("/x/{a}/{b}/", {"a": 1})
    assert info.value.errors == {"b": ["missing required path parameter"]}


def test_decode_fields_is_the_inverse_of_encode(tmp_path: Path) -> None:
    from maas_dyn.maas.encode import decode_fields

    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00data")
    for method in ("GET", "POST", "PUT", "DELETE"):
        request = encode_request(method, URL, "op1", [("a", "1"), ("b", ["x", "y"]),
                                                      ("c", True)])
        assert decode_fields(request.url, request.headers, request.body) == (
            "op1", [("a", "1"), ("b", "x"), ("b", "y"), ("c", "true")])
    upload = encode_request("POST", URL, None, [("content", path), ("name", "n")])
    assert decode_fields(upload.url, upload.headers, upload.body) == (
        None, [("content", b"\x00data"), ("name", "n")])
    assert decode_fields(URL + "?x=1", {}, None) == (None, [("x", "1")])


def test_a_raw_body_is_the_data_itself(tmp_path: Path) -> None:
    from maas_dyn.maas.encode import encode_raw_request

    chunk = bytes(range(256)) * 4
    (tmp_path / "chunk").write_bytes(chunk)
    request = encode_raw_request("PUT", "http://r/MAAS/api/2.0/boot-resources/1/upload/2/",
                                 None, [("content", tmp_path / "chunk")])
    assert request.body == chunk and request.headers == {
        "Content-Type": "application/octet-stream"}
    assert request.url.endswith("/upload/2/")
    for fields in ([], [("a", b"x"), ("b", b"y")]):
        with pytest.raises(InvalidParametersError, match="exactly one file or bytes value"):
            encode_raw_request("PUT", "http://r/", None, fields)
