"""URL forms accepted by connect(), and secret redaction."""

from __future__ import annotations

import pytest

from maas_dyn._secrets import redact_query
from maas_dyn.errors import InvalidURLError
from maas_dyn.truenas.endpoint import is_loopback, parse_endpoint


@pytest.mark.parametrize(("given", "url", "base"), [
    ("nas.example", "wss://nas.example/api/current", "https://nas.example"),
    ("nas.example:8443", "wss://nas.example:8443/api/current", "https://nas.example:8443"),
    ("https://nas", "wss://nas/api/current", "https://nas"),
    ("http://10.0.0.5/", "ws://10.0.0.5/api/current", "http://10.0.0.5"),
    ("wss://nas/api/current", "wss://nas/api/current", "https://nas"),
    ("wss://nas/api/v25.10.0", "wss://nas/api/v25.10.0", "https://nas"),
    ("ws://127.0.0.1:6000/websocket", "ws://127.0.0.1:6000/websocket", "http://127.0.0.1:6000"),
    ("wss://[::1]:443/api", "wss://[::1]:443/api/current", "https://[::1]:443"),
    ("  WSS://Nas  ", "wss://nas/api/current", "https://nas"),
])
def test_url_forms(given: str, url: str, base: str) -> None:
    endpoint = parse_endpoint(given)
    assert endpoint.url == url
    assert endpoint.http_base == base
    assert endpoint.protocol == ("legacy" if url.endswith("/websocket") else "jsonrpc")


def test_pinned_version() -> None:
    assert parse_endpoint("nas", api_version="25.10.0").url == "wss://nas/api/v25.10.0"
    assert parse_endpoint("nas", api_version="v25.04.2").url == "wss://nas/api/v25.04.2"
    assert parse_endpoint("wss://nas/api/v25.10.0", "25.10.0").url == "wss://nas/api/v25.10.0"
    with pytest.raises(InvalidURLError, match="contradicts"):
        parse_endpoint("wss://nas/api/v25.04.0", api_version="25.10.0")


def test_legacy_endpoint_of_the_same_server() -> None:
    legacy = parse_endpoint("ws://127.0.0.1:6000").legacy()
    assert legacy.url == "ws://127.0.0.1:6000/websocket" and legacy.protocol == "legacy"
    assert parse_endpoint("nas").legacy().url == "wss://nas/websocket"


@pytest.mark.parametrize(("given", "match"), [
    ("", "must be text"),
    ("ftp://nas", "must start with"),
    ("wss://admin:secret@nas/", "credentials"),
    ("wss:///api/current", "no host"),
    ("wss://nas:99999/", "invalid port"),
    ("wss://nas/ui/", "unexpected path"),
])
def test_bad_urls(given: str, match: str) -> None:
    with pytest.raises(InvalidURLError, match=match) as caught:
        parse_endpoint(given)
    assert "secret" not in str(caught.value)


def test_not_a_string() -> None:
    with pytest.raises(InvalidURLError):
        parse_endpoint(None)  # type: ignore[arg-type]


def test_redact() -> None:
    text = "GET /_download/4?auth_token=abc.DEF-123&x=1 and api_key=1-xyz password=p#frag"
    assert redact_query(text) == ("GET /_download/4?auth_token=<redacted>&x=1 and "
                            "api_key=<redacted> password=<redacted>#frag")


@pytest.mark.parametrize(("host", "loop"), [
    ("localhost", True), ("127.0.0.1", True), ("127.8.0.1", True), ("::1", True),
    ("10.0.0.1", False), ("nas.example", False),
])
def test_is_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop
