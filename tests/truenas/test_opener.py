"""The ``Client.opener`` seam: swapping how connections open (stubber and cassettes use it)."""

from __future__ import annotations

from collections.abc import Callable

from maas_dyn.truenas import Client
from tests.truenas.fakes import FakeServer


def test_setting_the_opener_closes_the_connection_and_logs_in_again(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    first = server.link
    assert client.opener == server.opener and client.connected
    other = FakeServer(server.document)
    client.opener = other.opener
    assert first.closed and not client.connected
    assert client.core.ping() == "pong"
    # A fresh login on the new connection, and no second read of version or methods.
    assert [method for method, _ in other.calls] == ["auth.login_ex", "core.ping"]
    client.opener = server.opener
    assert other.link.closed


def test_setting_the_opener_before_any_connection(mini_doc: dict[str, object]) -> None:
    server = FakeServer(dict(mini_doc))
    with Client.from_methods(mini_doc, url="wss://nas.test/api/current", cache=False) as client:
        client.opener = server.opener
        assert not server.links
        assert client.core.ping() == "pong"
        assert [method for method, _ in server.calls] == ["core.ping"]
