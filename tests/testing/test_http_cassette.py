"""Tests of MAAS cassettes (maas_dyn/testing/http_cassette.py), against the MAAS simulator."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from maas_dyn.errors import NotAServerError
from maas_dyn.maas import Client
from maas_dyn.maas.encode import encode_request
from maas_dyn.testing import CassetteMismatchError, record, replay
from maas_dyn.testing.http_cassette import (
    http_cassette,
    match_requests,
    redact_request,
    redact_response,
    request_key,
)
from maas_dyn.testing.redact import REDACTED, Redactor

REPLAY_URL = "http://127.0.0.1:9/MAAS/"
OAUTH = ('OAuth oauth_nonce="{nonce}", oauth_timestamp="{nonce}", oauth_version="1.0", '
         'oauth_signature_method="PLAINTEXT", oauth_consumer_key="CK", oauth_token="TK", '
         'oauth_signature="%26TS"')


def vcr_request(fields: list[tuple[str, Any]], nonce: str = "1", op: str = "deploy",
                path: str = "/MAAS/api/2.0/machines/abc/") -> Any:
    prepared = encode_request("POST", f"http://127.0.0.1:1{path}", op, fields)
    headers = {**prepared.headers, "Authorization": OAUTH.format(nonce=nonce),
               "Content-Length": str(len(prepared.body or b""))}
    return Request("POST", prepared.url, prepared.body, headers)


def test_requests_match_by_meaning_not_bytes() -> None:
    fields = [("distro_series", "jammy"), ("user_data", b"#cloud-config\n")]
    one, two = vcr_request(fields, nonce="1"), vcr_request(fields, nonce="2")
    assert one.body != two.body  # other multipart boundaries, other nonces
    match_requests(one, two)
    assert request_key(one)[2:4] == ("deploy", (("distro_series", "jammy"),
                                                ("user_data", b"#cloud-config\n")))
    with pytest.raises(AssertionError, match="parameters or signing differ"):
        match_requests(one, vcr_request([("distro_series", "noble")]))
    with pytest.raises(AssertionError, match="release"):
        match_requests(one, vcr_request(fields, op="release"))
    unsigned = Request("GET", "http://127.0.0.1:1/MAAS/api/2.0/users/?op=whoami", None, {})
    assert request_key(unsigned)[4] is None


def test_recorded_requests_and_responses_are_redacted() -> None:
    redactor = Redactor()
    request = vcr_request([("username", "carol"), ("password", "carol-SECRET-pw"),
                           ("key", b"file mentions carol-SECRET-pw")])
    request.headers["Cookie"] = "sessionid=abc"
    original_body = request.body
    cleaned = redact_request(redactor, request)
    assert request.body == original_body  # vcrpy still sends the original
    body = cleaned.body.decode()
    assert "carol-SECRET-pw" not in body and "carol" in body
    assert cleaned.headers["Content-Length"] == str(len(cleaned.body))
    assert cleaned.headers["Cookie"] == REDACTED
    assert "TK" not in cleaned.headers["Authorization"]
    response = {"status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["application/json"], "Content-Length": ["99"],
                            "Set-Cookie": ["csrftoken=x"]},
                "body": {"string": json.dumps({"token_secret": "NEWSECRET-123",
                                               "echo": "carol-SECRET-pw"}).encode()}}
    recorded = redact_response(redactor, response)
    assert json.loads(recorded["body"]["string"]) == {"token_secret": REDACTED,
                                                      "echo": REDACTED}
    assert recorded["headers"]["Content-Length"] == [str(len(recorded["body"]["string"]))]
    assert recorded["headers"]["Set-Cookie"] == [REDACTED]
    text = {"status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": b"not json NEWSECRET-123"}}
    assert redact_response(redactor, text)["body"]["string"] == f"not json {REDACTED}".encode()


def test_other_bodies_are_scrubbed_of_known_secrets() -> None:
    redactor = Redactor()
    redactor.learn("KNOWN-SECRET-1")
    upload = Request("PUT", "http://127.0.0.1:1/MAAS/api/2.0/boot-resources/1/upload/1/",
                     b"chunk KNOWN-SECRET-1", {"Content-Type": "application/octet-stream"})
    assert redact_request(redactor, upload).body == f"chunk {REDACTED}".encode()
    text = {"status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["text/plain"]},
            "body": {"string": b"curtin config KNOWN-SECRET-1"}}
    assert redact_response(redactor, text)["body"]["string"] == (
        f"curtin config {REDACTED}".encode())
    empty = {"status": {"code": 204, "message": "No Content"}, "headers": {},
             "body": {"string": b""}}
    assert redact_response(redactor, empty) == empty


def test_record_then_replay_a_session(maas_client: Client, tmp_path: Path) -> None:
    cassette = tmp_path / "nested" / "tags.yaml"
    with record(maas_client, cassette):
        maas_client.tags.create(name="cassette-tag", comment="made while recording")
        tags = maas_client.tags.read()
    offline = Client.from_release("3.7", url=REPLAY_URL, api_key="a:b:c", cache=False)
    with replay(offline, cassette):
        offline.tags.create(name="cassette-tag", comment="made while recording")
        assert offline.tags.read() == tags
    with pytest.raises(CassetteMismatchError, match="no recorded answer") as caught, \
            replay(offline, cassette):
        offline.tags.create(name="another-tag")
    assert isinstance(caught.value.__cause__, CannotOverwriteExistingCassetteException)
    with pytest.raises(CassetteMismatchError, match="2 recorded request"), \
            replay(offline, cassette):
        pass
    with record(maas_client, cassette):  # recording again replaces the cassette
        maas_client.users.whoami()
    assert "tags" not in cassette.read_text()


def test_replaying_a_missing_cassette(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="record one first"), \
            http_cassette(tmp_path / "none.yaml", "replay"):
        pass


# -- broken cassette files (found by tests/reliability/test_fuzz_cassettes.py) ---------------
# Each failed before the fix with the exception named in its comment, not a ValueError
# naming the file.

GOOD = textwrap.dedent("""\
    interactions:
    - request:
        body: null
        headers:
          Authorization:
          - OAuth oauth_nonce="1", oauth_timestamp="1", oauth_version="1.0",
            oauth_signature_method="PLAINTEXT", oauth_consumer_key="<redacted>",
            oauth_token="<redacted>", oauth_signature="<redacted>"
        method: GET
        uri: http://127.0.0.1:1/MAAS/api/2.0/users/?op=whoami
      response:
        body:
          string: '{"username": "admin"}'
        headers:
          Content-Type:
          - application/json
        status:
          code: 200
          message: OK
    version: 1
    """)


def _edit(old: str, new: str) -> bytes:
    assert old in GOOD
    return GOOD.replace(old, new, 1).encode()


def _replay_whoami(path: Path) -> Any:
    client = Client.from_release("3.7", url=REPLAY_URL, api_key="a:b:c", cache=False)
    with replay(client, path):
        return client.users.whoami()


def test_a_hand_written_cassette_replays(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert _replay_whoami(path) == {"username": "admin"}
    path.write_bytes(_edit("      Authorization:\n      - OAuth", "      Authorization: OAuth"))
    assert _replay_whoami(path) == {"username": "admin"}  # a request header as a string


BROKEN = [
    # not YAML: yaml's own errors escaped (ScannerError, ParserError, ReaderError...)
    pytest.param(GOOD.encode() + b"\n[", "cannot be read as YAML", id="unbalanced-bracket"),
    pytest.param(_edit("    method: GET", "\tmethod: GET"), "cannot be read as YAML",
                 id="tab-indent"),
    pytest.param(_edit("OK", "O\x00K"), "cannot be read as YAML", id="nul-character"),
    pytest.param(_edit("body: null", "body: *nowhere"), "cannot be read as YAML",
                 id="undefined-alias"),
    pytest.param(GOOD.encode() + b"---\nx: 1\n", "cannot be read as YAML", id="two-documents"),
    # ValueError not naming the file (from yaml, or vcrpy's "problem loading the cassette")
    pytest.param(_edit("code: 200", "code: !!int x"), "cannot be read as YAML",
                 id="bad-int-tag"),
    pytest.param(_edit("body: null", "body: !!binary not-base64"), "cannot be read as YAML",
                 id="bad-binary-tag"),
    # TypeError from vcrpy's constructor of legacy BytesIO bodies
    pytest.param(_edit("body: null", "body: !!python/object/new:_io.BytesIO {state: 5}"),
                 "cannot be read as YAML", id="bytesio-tag-bad-state"),
    # not UTF-8, or empty: vcrpy treated the file as missing (CannotOverwrite... later)
    pytest.param(GOOD.encode().replace(b"OK", b"O\xffK"), "not UTF-8", id="invalid-utf8"),
    pytest.param(b"", "is empty", id="empty-file"),
    # the wrong shape: TypeError, KeyError, AttributeError from vcrpy's loader
    pytest.param(b"just text", "needs a list of 'interactions'", id="not-a-mapping"),
    pytest.param(b"version: 1\n", "needs a list of 'interactions'", id="no-interactions"),
    pytest.param(b"interactions: [5]\n", "interaction 1: it must be a mapping",
                 id="interaction-not-mapping"),
    pytest.param(GOOD.split("  response:")[0].encode(), "'response' must be a mapping",
                 id="no-response"),
    pytest.param(_edit("    method: GET", "    method: GET\n    extra: 1"),
                 "exactly the keys", id="request-extra-key"),
    pytest.param(_edit("uri: http://127.0.0.1:1", "uri: 5 #"), "request uri must be a string",
                 id="uri-not-a-string"),
    # ValueError (urllib) not naming the file
    pytest.param(_edit("uri: http://127.0.0.1:1", "uri: http://[::1"),
                 "cannot be matched: Invalid IPv6 URL", id="uri-bad-ipv6"),
    # AttributeError: 'int' object has no attribute 'lower' (vcrpy's HeadersDict)
    pytest.param(_edit("      Authorization:", "      1: [x]\n      Authorization:"),
                 "a name in the request headers", id="request-header-name-int"),
    # TypeError: can't concat list to bytes (decoding a multipart body to match it)
    pytest.param(_edit("    body: null\n    headers:",
                       "    body: [a]\n    headers:\n      Content-Type: multipart/form-data"),
                 "request body must be", id="request-body-list"),
    # TypeError: '>=' not supported (the client compared the status code)
    pytest.param(_edit("code: 200", "code: '200'"), "status code must be an integer",
                 id="status-code-string"),
    pytest.param(_edit("code: 200", "code: null"), "status code must be an integer",
                 id="status-code-null"),
    # KeyError / TypeError in vcrpy's VCRHTTPResponse and parse_headers
    pytest.param(_edit("    status:\n      code: 200\n      message: OK\n", ""),
                 "status must be a mapping", id="status-missing"),
    pytest.param(_edit("    headers:\n      Content-Type:\n      - application/json\n",
                       "    headers: null\n"), "response headers must be a mapping",
                 id="response-headers-null"),
    pytest.param(_edit("      - application/json", "      - null"),
                 "a value of the response headers", id="response-header-value-null"),
    pytest.param(_edit("      string: '{\"username\": \"admin\"}'", "      other: 1"),
                 "body string must be", id="body-string-missing"),
    pytest.param(_edit("      string: '{\"username\": \"admin\"}'", "      string: null"),
                 "body string must be", id="body-string-null"),
]


@pytest.mark.parametrize(("raw", "problem"), BROKEN)
def test_an_unusable_cassette_is_a_value_error_naming_the_file(
        tmp_path: Path, raw: bytes, problem: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=problem) as caught:
        _replay_whoami(path)
    assert str(path) in str(caught.value)


def test_python_tags_in_a_cassette_run_nothing(tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    path = tmp_path / "unsafe.yaml"
    path.write_bytes(_edit("body: null", "body: !!python/object/apply:pathlib.Path.touch "
                                         f"[!!python/object/apply:pathlib.Path ['{witness}']]"))
    with pytest.raises(ValueError, match="python/object/apply:pathlib.Path") as caught:
        _replay_whoami(path)  # vcrpy's loader is safe: the tag is refused, not run
    assert not witness.exists()
    assert str(path) in str(caught.value)  # was vcrpy's ValueError, not naming the file


def test_a_json_body_nested_too_deeply_fails_as_from_a_server(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_bytes(_edit("""'{"username": "admin"}'""", "'" + "[" * 100_000 + "'"))
    with pytest.raises(NotAServerError, match="malformed"):
        _replay_whoami(path)  # was RecursionError: responses were redacted as loaded


def test_a_request_the_cassette_lacks_is_a_cassette_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    client = Client.from_release("3.7", url=REPLAY_URL, api_key="a:b:c", cache=False)
    with pytest.raises(CassetteMismatchError, match="no recorded answer"), \
            replay(client, path):
        client.users.whoami()
        client.users.whoami()  # was CannotOverwriteExistingCassetteException
