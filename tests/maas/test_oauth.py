"""Tests of maas_dyn/maas/oauth.py."""

from __future__ import annotations

import re

import pytest

from maas_dyn.errors import InvalidAPIKeyError
from maas_dyn.maas.oauth import parse_api_key

HEADER = re.compile(r'(\w+)="([^"]*)"')


def fields(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return dict(HEADER.findall(header))


def test_header_format() -> None:
    creds = parse_api_key(" consumer:token:s3cret \n")
    got = fields(creds.authorization("POST", "http://127.0.0.1/MAAS/api/2.0/machines/?op=x"))
    assert got["oauth_signature_method"] == "PLAINTEXT"
    assert got["oauth_version"] == "1.0"
    assert got["oauth_consumer_key"] == "consumer"
    assert got["oauth_token"] == "token"
    assert got["oauth_signature"] == "%26s3cret"  # "&" + secret, percent-encoded
    assert got["oauth_nonce"].isalnum()
    assert got["oauth_timestamp"].isdigit()


def test_every_signature_has_a_fresh_nonce() -> None:
    creds = parse_api_key("c:t:s")
    nonces = {fields(creds.authorization("GET", "http://h/MAAS/"))["oauth_nonce"]
              for _ in range(50)}
    assert len(nonces) == 50


@pytest.mark.parametrize("key", ["", "a:b", "a:b:c:d", "a::c", ":b:c", "abc"])
def test_malformed_keys(key: str) -> None:
    with pytest.raises(InvalidAPIKeyError, match="three non-empty parts"):
        parse_api_key(key)


def test_error_never_repeats_the_key() -> None:
    with pytest.raises(InvalidAPIKeyError) as info:
        parse_api_key("consumerXYZ:tokenXYZ:secretXYZ:extra")
    assert "XYZ" not in str(info.value)


def test_non_text_key() -> None:
    with pytest.raises(InvalidAPIKeyError, match="is text, not int"):
        parse_api_key(5)  # type: ignore[arg-type]


def test_repr_hides_secret() -> None:
    creds = parse_api_key("consumerkey:tokenkey:tokensecret")
    assert "tokensecret" not in repr(creds)
    assert "tokenkey" not in repr(creds)
    assert "tokensecret" in creds.secrets()
