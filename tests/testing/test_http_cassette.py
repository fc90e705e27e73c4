"""Tests of MAAS cassettes (maas_dyn/testing/http_cassette.py), against the MAAS simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

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
    with pytest.raises(CannotOverwriteExistingCassetteException), replay(offline, cassette):
        offline.tags.create(name="another-tag")
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
