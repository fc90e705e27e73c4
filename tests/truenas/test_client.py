"""The client funnel: discovery, caching, calls, reconnects, protocols, hooks, closing."""

from __future__ import annotations

import inspect
import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import maas_dyn
from maas_dyn import errors
from maas_dyn._cache import DescriptionCache
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas import Client, MethodsChangedWarning, connect
from maas_dyn.truenas.transport import HandshakeRejected
from tests.truenas.conftest import PASSWORD, URL
from tests.truenas.fakes import DROP, NO_REPLY, FakeError, FakeServer, call_error


def methods_calls(server: FakeServer) -> list[list[Any]]:
    return [params for method, params in server.calls if method == "core.get_methods"]


def test_connect_builds_namespaces_from_the_server(server: FakeServer,
                                                   make_client: Callable[..., Client]) -> None:
    client = make_client()
    assert client.connected and client.version == "TrueNAS-25.10.0"
    assert client.methods is not None and "pool.dataset.query" in client.methods
    assert [m for m, _ in server.calls[:3]] == ["auth.login_ex", "system.version",
                                                "core.get_methods"]
    assert repr(client) == ("<maas_dyn.truenas.Client wss://nas.test/api/current (admin, "
                            f"{len(server.document)} methods, TrueNAS-25.10.0, connected)>")
    assert PASSWORD not in repr(client)


def test_calls_by_attribute_by_name_and_by_item(server: FakeServer,
                                                make_client: Callable[..., Client]) -> None:
    server.handlers["pool.dataset.query"] = lambda *params: list(params)
    client = make_client()
    filters = [["name", "^", "tank"]]
    assert client.pool.dataset.query(filters, {"order_by": ["name"]}) == [
        filters, {"order_by": ["name"]}]
    assert client.call("pool.dataset.query", filters) == [filters]
    assert client["pool.dataset.query"](filters) == [filters]
    # A later parameter by keyword: the earlier one is filled with its schema default.
    assert client.pool.dataset.query(options={"limit": 1}) == [[], {"limit": 1}]
    assert client.pool.dataset.query() == []  # trailing defaults are left to the server
    with pytest.raises(errors.InvalidParametersError, match="takes 2 positional"):
        client.pool.dataset.query([], {}, 3)


def test_unlisted_methods_are_sent_unchecked(server: FakeServer,
                                             make_client: Callable[..., Client]) -> None:
    server.handlers["private.thing"] = lambda *p: "secret ok"
    client = make_client()
    assert client.call("private.thing", 1, 2) == "secret ok"
    with pytest.raises(errors.MethodNotFound, match="no such method"):
        client.call("no.such.method")


def test_server_errors_are_typed(server: FakeServer, make_client: Callable[..., Client]) -> None:
    def fail(*params: Any) -> Any:
        raise call_error("[ENOENT] pool tank not found", "ENOENT", 2)

    server.handlers["pool.query"] = fail
    client = make_client()
    with pytest.raises(errors.CallError) as caught:
        client.pool.query()
    assert caught.value.errname == "ENOENT" and caught.value.method == "pool.query"
    assert caught.value.url == URL


def test_hooks_and_debug_log(server: FakeServer, make_client: Callable[..., Client],
                             caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    seen: list[tuple[str, dict[str, Any]]] = []
    client.hooks.register("before-call", lambda **kw: seen.append(("before", kw)))
    client.hooks.register("after-call", lambda **kw: seen.append(("after", kw)))
    with caplog.at_level(logging.DEBUG, "maas_dyn.truenas"):
        client.core.ping()
        with pytest.raises(errors.MethodNotFound):
            client.call("no.such")
    assert seen[0] == ("before", {"method": "core.ping", "params": []})
    assert seen[1] == ("after", {"method": "core.ping", "result": "pong", "error": None})
    assert isinstance(seen[3][1]["error"], errors.MethodNotFound)
    assert "core.ping -> ok" in caplog.text and "no.such -> MethodNotFound" in caplog.text


def test_reconnect_and_login_again_after_a_drop(server: FakeServer,
                                                make_client: Callable[..., Client]) -> None:
    client = make_client()
    first = server.link
    first.drop()
    deadline = time.monotonic() + 3
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not client.connected
    assert client.core.ping() == "pong"
    assert server.link is not first and client.connected
    assert [m for m, _ in server.calls].count("auth.login_ex") == 2
    assert len(methods_calls(server)) == 1  # same version: the methods are kept


def test_calls_in_flight_fail_and_are_never_resent(server: FakeServer,
                                                   make_client: Callable[..., Client]) -> None:
    server.handlers["pool.query"] = lambda *p: NO_REPLY
    client = make_client()
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            client.pool.query()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while [m for m, _ in server.calls].count("pool.query") < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert [m for m, _ in server.calls].count("pool.query") >= 4
    server.link.drop()
    for t in threads:
        t.join(5)
    assert len(failures) == 4 and all(isinstance(f, errors.ConnectionClosed) for f in failures)
    server.handlers["pool.query"] = lambda *p: ["ok"]
    assert client.pool.query() == ["ok"]
    assert [m for m, _ in server.calls].count("pool.query") == 5


def test_a_call_that_kills_the_connection(server: FakeServer,
                                          make_client: Callable[..., Client]) -> None:
    server.handlers["system.reboot"] = lambda *p: DROP
    client = make_client()
    with pytest.raises(errors.ConnectionClosed, match="not re-sent"):
        client.system.reboot("testing")


def test_upgrade_between_connections_reloads_methods(server: FakeServer,
                                                     make_client: Callable[..., Client]) -> None:
    client = make_client()
    server.version = "TrueNAS-26.0.0"
    server.document["new.method"] = {"accepts": [], "description": "New in 26."}
    server.link.drop()
    deadline = time.monotonic() + 3
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not client.connected
    with pytest.warns(MethodsChangedWarning, match="now runs TrueNAS-26.0.0"):
        client.core.ping()
    assert client.version == "TrueNAS-26.0.0"
    assert callable(client.new.method)


def test_cache_by_url_user_and_version(server: FakeServer, make_client: Callable[..., Client],
                                       tmp_path: Any) -> None:
    cache = DescriptionCache("truenas", root=tmp_path / "c")
    make_client(cache=cache)
    make_client(cache=cache)
    assert len(methods_calls(server)) == 1  # the second client read the cache
    make_client(cache=cache, username="other")
    assert len(methods_calls(server)) == 2  # another user may see other methods
    server.version = "TrueNAS-25.10.1"
    client = make_client(cache=cache)
    assert len(methods_calls(server)) == 3  # an upgrade invalidates it
    client.refresh_methods()
    assert len(methods_calls(server)) == 4


def test_corrupt_cache_is_ignored(server: FakeServer, make_client: Callable[..., Client],
                                  tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    cache = DescriptionCache("truenas", root=tmp_path / "c")
    cache.store(f"{URL} user=admin", "TrueNAS-25.10.0", b"{not json")
    make_client(cache=cache)
    assert len(methods_calls(server)) == 1 and "corrupt" in caplog.text


def test_default_cache_and_version_unavailable(server: FakeServer,
                                               make_client: Callable[..., Client]) -> None:
    server.handlers["system.version"] = lambda: (_ for _ in ()).throw(
        call_error("denied", "EACCES", 13))
    make_client(cache=True)
    make_client(cache=True)
    assert len(methods_calls(server)) == 2  # no version: nothing cached


def test_per_service_discovery(server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(discovery="per-service")
    calls = methods_calls(server)
    assert all(len(params) == 1 for params in calls) and len(calls) > 5
    assert client.methods is not None and len(client.methods) == len(server.document)


def test_full_discovery_falls_back_when_it_times_out(server: FakeServer,
                                                     make_client: Callable[..., Client]) -> None:
    real = server.handlers["core.get_methods"]
    server.handlers["core.get_methods"] = lambda service=None, *r: NO_REPLY if service is None \
        else real(service)
    client = make_client(call_timeout=0.2)
    assert client.methods is not None and len(client.methods) == len(server.document)


def test_bad_discovery_answers(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.handlers["core.get_methods"] = lambda *a: ["not", "a", "mapping"]
    with pytest.raises(errors.DescriptionError):
        make_client()
    server.handlers["core.get_services"] = lambda *a: "nope"
    with pytest.raises(errors.DescriptionError):
        make_client(discovery="per-service")
    server.handlers["core.get_services"] = lambda *a: {"pool": {}}
    server.handlers["core.get_methods"] = lambda *a: NO_REPLY
    with pytest.raises(errors.Timeout):
        make_client(discovery="per-service", call_timeout=0.1)


def test_legacy_protocol_end_to_end(server: FakeServer, make_client: Callable[..., Client]
                                    ) -> None:
    server.handlers["pool.create"] = lambda data: server.start_job("pool.create", [data])
    client = make_client("wss://nas.test/websocket")
    assert client.endpoint.protocol == "legacy" and server.link.legacy
    assert client.core.ping() == "pong"
    stream = client.events("alert.list", timeout=1)
    server.emit("alert.list", "added", 1, {"x": 1})
    assert next(stream).fields == {"x": 1}
    stream.close()
    job = client.pool.create({"name": "tank",
                              "topology": {"data": [{"type": "STRIPE", "disks": ["sda"]}]}})
    server.update_job(job.id, state="SUCCESS", result="legacy job")
    assert job.wait(timeout=5) == "legacy job"
    with pytest.raises(errors.MethodNotFound):
        client.call("no.such")


def test_protocol_choice(server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(protocol="legacy")
    assert client.endpoint.url == "wss://nas.test/websocket"


def test_auto_protocol_falls_back_on_404(server: FakeServer,
                                         make_client: Callable[..., Client],
                                         caplog: pytest.LogCaptureFixture) -> None:
    server.open_failures = [HandshakeRejected("404", status=404)]
    with caplog.at_level(logging.INFO, "maas_dyn.truenas"):
        client = make_client()
    assert client.endpoint.url == "wss://nas.test/websocket" and server.link.legacy
    assert "legacy protocol" in caplog.text
    server.open_failures = [HandshakeRejected("403", status=403)]
    with pytest.raises(HandshakeRejected):
        make_client()
    server.open_failures = [HandshakeRejected("404", status=404)]
    with pytest.raises(HandshakeRejected):
        make_client(protocol="jsonrpc")


def test_connection_failure(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.open_failures = [errors.ConnectionFailed("refused")]
    with pytest.raises(errors.ConnectionFailed):
        make_client(retry=RetryPolicy.never())


def test_opening_is_retried_when_nothing_was_sent(server: FakeServer,
                                                  make_client: Callable[..., Client]) -> None:
    quick = RetryPolicy(total=3, backoff_factor=0.001)
    server.open_failures = [errors.ConnectionFailed("refused"),
                            HandshakeRejected("503", status=503)]
    assert make_client(retry=quick).core.ping() == "pong"  # refused, starting, then up
    server.open_failures = [HandshakeRejected("401", status=401)]
    with pytest.raises(HandshakeRejected):  # a refusal that will not change: no retry
        make_client(retry=quick)
    server.open_failures = [errors.ConnectionFailed("refused")] * 5
    with pytest.raises(errors.ConnectionFailed, match="refused"):
        make_client(retry=quick)  # bounded: 1 try and 3 retries
    assert len(server.open_failures) == 1


def _dropped(server: FakeServer, client: Client) -> None:
    server.links[-1].drop()
    deadline = time.monotonic() + 5
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not client.connected


def _pinging(client: Client, failures: list[BaseException], count: int) -> list[threading.Thread]:
    def call() -> None:
        try:
            client.core.ping()
        except errors.MaasDynError as exc:
            failures.append(exc)

    callers = [threading.Thread(target=call) for _ in range(count)]
    for caller in callers:
        caller.start()
    return callers


def test_close_cuts_a_connect_round_short(server: FakeServer,
                                          make_client: Callable[..., Client]) -> None:
    # Found in review: close() waited for a whole round of retries to end.
    client = make_client(retry=RetryPolicy(total=3, backoff_factor=5))
    server.open_failures = [errors.ConnectionFailed("refused")] * 10
    _dropped(server, client)
    failures: list[BaseException] = []
    (caller,) = _pinging(client, failures, 1)
    deadline = time.monotonic() + 5
    while len(server.open_failures) == 10 and time.monotonic() < deadline:
        time.sleep(0.005)  # the first attempt failed: the caller now waits 5 s to retry
    client.close()
    caller.join(3)
    assert not caller.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], errors.ConnectionClosed)


def test_a_refused_upgrade_on_reconnect_keeps_its_status(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(retry=RetryPolicy.never())
    server.open_failures = [HandshakeRejected("401 Unauthorized", status=401)]
    _dropped(server, client)
    with pytest.raises(HandshakeRejected) as caught:
        client.core.ping()
    assert caught.value.status == 401 and caught.value.method == "core.ping"
    assert "core.ping was not sent" in str(caught.value)


def test_a_reconnect_refused_as_busy_names_the_call_that_was_not_sent(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(retry=RetryPolicy.never())
    login = server.handlers["auth.login_ex"]
    busy = [FakeError(-32000, "Maximum number of concurrent calls (20) has exceeded")]

    def login_once_busy(*args: Any) -> Any:
        if busy:
            raise busy.pop()
        return login(*args)

    server.handlers["auth.login_ex"] = login_once_busy
    _dropped(server, client)
    with pytest.raises(errors.ConnectionFailed, match="core.ping was not sent"):
        client.core.ping()
    assert client.core.ping() == "pong"


def test_callers_that_waited_for_a_failed_round_fail_with_it(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(retry=RetryPolicy(total=2, backoff_factor=0.1))
    server.open_failures = [errors.ConnectionFailed("refused")] * 10
    _dropped(server, client)
    failures: list[BaseException] = []
    callers = _pinging(client, failures, 4)
    for caller in callers:
        caller.join(10)
    assert len(failures) == 4
    assert all(isinstance(f, errors.ConnectionFailed) and "core.ping was not sent" in str(f)
               for f in failures)
    assert len(server.open_failures) == 7  # one round of 3 attempts, not one per caller


def test_offline_clients(server: FakeServer, mini_doc: dict[str, Any]) -> None:
    offline = Client.from_methods(mini_doc)
    assert not offline.connected and server.links == []
    assert inspect.signature(offline.pool.scrub.run).parameters
    with pytest.raises(errors.ConfigurationError, match="needs a logged-in session"):
        Client("nas.test", opener=server.opener, cache=False)
    lazy = Client.from_methods(mini_doc, url=URL, username="admin", password=PASSWORD,
                               opener=server.opener, ping_interval=0)
    assert server.links == []
    assert lazy.core.ping() == "pong"  # connects and logs in on first use
    assert methods_calls(server) == []  # an offline client keeps its document
    lazy.close()
    release = Client.from_release("25.04")
    assert release.methods is not None and len(release.methods) == 771


def test_top_level_exports() -> None:
    assert maas_dyn.truenas.connect is connect
    assert maas_dyn.connect_truenas is connect


def test_ping_and_connected(make_client: Callable[..., Client]) -> None:
    client = make_client()
    assert 0 <= client.ping() < 1
    assert 0 <= client.ping(timeout=1) < 1


def test_closed_client(make_client: Callable[..., Client]) -> None:
    client = make_client()
    with client:
        pass
    assert not client.connected
    with pytest.raises(errors.ConnectionClosed, match="was closed"):
        client.core.ping()
    assert "not connected" in repr(client)


def test_failure_after_connecting_leaves_no_threads(server: FakeServer,
                                                    make_client: Callable[..., Client]) -> None:
    server.handlers["core.get_methods"] = lambda *a: (_ for _ in ()).throw(
        call_error("denied", "EACCES", 13))
    with pytest.raises(errors.CallError):
        make_client()
    assert server.link.closed


def test_many_threads_on_one_client(server: FakeServer,
                                    make_client: Callable[..., Client]) -> None:
    server.handlers["pool.query"] = lambda *p: [threading.current_thread().name]
    client = make_client()
    results: list[Any] = []

    def worker() -> None:
        for _ in range(50):
            results.append(client.pool.query())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 400


def test_methods_changed_warning_is_a_user_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning):
            warnings.warn("x", MethodsChangedWarning, stacklevel=1)
