"""Tests of the redaction table (maas_dyn/testing/redact.py)."""

from __future__ import annotations

import pytest

from maas_dyn.testing.redact import REDACTED, SECRET_NAMES, Redactor, oauth_params


@pytest.mark.parametrize(("name", "secret"), [
    ("password", True), ("new_password", True), ("power_pass", True), ("token", True),
    ("otp_token", True), ("token_secret", True), ("api_key", True), ("consumer_key", True),
    ("auth_token", True), ("privatekey", True), ("username", False),
    ("key", True),  # MAAS file keys hand the file to anyone (an SSH public key loses little)
    ("keyring", False), ("power_parameters_k_g", True), ("k_g", True), ("mkg", False),
    ("compass", False), ("password_disabled", True), ("hostname", False),
])
def test_secret_names(name: str, secret: bool) -> None:
    assert Redactor.secret_name(name) is secret


def test_every_rule_says_why() -> None:
    assert all(rule.why for rule in SECRET_NAMES)


def test_values_are_redacted_at_any_depth_and_learned() -> None:
    redactor = Redactor()
    data = {"username": "alice", "password": "hunter2-long", "password_disabled": False,
            "nested": [{"otp_token": "123456", "count": 3}], "note": None}
    assert redactor.value(data) == {
        "username": "alice", "password": REDACTED, "password_disabled": False,
        "nested": [{"otp_token": REDACTED, "count": 3}], "note": None}
    # A learned secret is scrubbed wherever it appears later, in text and bytes.
    assert redactor.value(("echo hunter2-long",)) == [f"echo {REDACTED}"]
    assert redactor.data(b"x hunter2-long y") == f"x {REDACTED} y".encode()
    assert Redactor().data(b"nothing known") == b"nothing known"


def test_short_values_are_not_scrubbed_as_literals() -> None:
    redactor = Redactor()
    redactor.learn("abc")
    assert redactor.value({"password": "abc"}) == {"password": REDACTED}
    assert redactor.text("abc def") == "abc def"


def test_query_parameters_in_urls() -> None:
    redactor = Redactor()
    url = "/_download/7?auth_token=TOKEN-abcdef&x=1"
    assert redactor.text(url) == f"/_download/7?auth_token={REDACTED}&x=1"
    assert redactor.text("plain TOKEN-abcdef here") == f"plain {REDACTED} here"
    assert redactor.text("/path?token=&x=1") == "/path?token=&x=1"


def test_positional_login_secrets_and_secret_results() -> None:
    redactor = Redactor()
    assert redactor.params("auth.login", ["root", "pw-secret-1", "123456"]) == [
        "root", REDACTED, REDACTED]
    assert redactor.params("auth.login_with_api_key", ["1-abcdefgh"]) == [REDACTED]
    assert redactor.params("pool.query", [[["name", "=", "tank"]]]) == [[["name", "=", "tank"]]]
    assert redactor.result("auth.generate_token", "TOKEN-123456") == REDACTED
    assert redactor.result("api_key.create", {"id": 1, "key": "1-KEYKEYKEY"}) == {
        "id": 1, "key": REDACTED}
    assert redactor.result("pool.query", {"name": "kept"}) == {"name": "kept"}
    assert redactor.result("pool.query", {"key": "a-file-key"}) == {"key": REDACTED}
    login = {"response_type": "SUCCESS", "authenticator": "LEVEL_1",
             "reconnect_token": "RECONNECT-abcdef"}
    assert redactor.result("auth.login_ex", login) == {**login, "reconnect_token": REDACTED}
    assert redactor.text("TOKEN-123456 and 1-KEYKEYKEY") == f"{REDACTED} and {REDACTED}"


def test_oauth_headers_keep_only_what_is_not_secret() -> None:
    redactor = Redactor()
    header = ('OAuth oauth_nonce="111", oauth_timestamp="222", oauth_version="1.0", '
              'oauth_signature_method="PLAINTEXT", oauth_consumer_key="CONSUMERKEY", '
              'oauth_token="TOKENKEY1", oauth_signature="%26TOKENSECRET", oauth_new="x123456"')
    cleaned = redactor.authorization(header)
    assert oauth_params(cleaned) == {
        "oauth_nonce": "111", "oauth_timestamp": "222", "oauth_version": "1.0",
        "oauth_signature_method": "PLAINTEXT", "oauth_consumer_key": REDACTED,
        "oauth_token": REDACTED, "oauth_signature": REDACTED, "oauth_new": REDACTED}
    assert redactor.text("CONSUMERKEY:TOKENKEY1:TOKENSECRET") == ":".join([REDACTED] * 3)
    assert redactor.authorization("Bearer abcdefgh") == REDACTED
    assert redactor.text("Bearer abcdefgh") == REDACTED
