"""Event subscriptions: callbacks, iterators, sharing, ending, and reconnects."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.truenas import Client, Event
from maas_dyn.truenas.events import EventHub, EventStream, _Queued
from tests.truenas.fakes import FakeServer, call_error


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_callback_runs_on_the_dispatcher_thread_and_may_call(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    seen: list[tuple[Event, str, Any]] = []

    def callback(event: Event) -> None:
        # A call from a callback must not deadlock the reader.
        seen.append((event, threading.current_thread().name, client.core.ping()))

    sub = client.subscribe("alert.list", callback)
    assert server.subscribed("alert.list")
    server.emit("alert.list", "added", "a1", {"text": "hi"})
    wait_for(lambda: len(seen) == 1)
    event, thread, pong = seen[0]
    assert event == Event("added", "alert.list", "a1", {"text": "hi"})
    assert thread.startswith("maas_dyn-truenas-events-") and pong == "pong"
    assert repr(sub) == "<Subscription alert.list active>"
    sub.unsubscribe()
    sub.unsubscribe()
    assert not sub.active and repr(sub) == "<Subscription alert.list ended>"
    client.core.ping()
    assert not server.subscribed("alert.list")


def test_listeners_share_one_server_subscription(server: FakeServer,
                                                 make_client: Callable[..., Client]) -> None:
    client = make_client()
    a: list[Event] = []
    b: list[Event] = []
    with client.subscribe("alert.list", a.append):
        with client.subscribe("alert.list", b.append):
            assert len(server.subscribed("alert.list")) == 1
            server.emit("alert.list", "added", 1, {})
            wait_for(lambda: len(a) == len(b) == 1)
        client.core.ping()
        assert len(server.subscribed("alert.list")) == 1
    client.core.ping()
    assert server.subscribed("alert.list") == []


def test_failing_callback_is_logged(server: FakeServer, make_client: Callable[..., Client],
                                    caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    seen: list[Event] = []

    def bad(event: Event) -> None:
        seen.append(event)
        raise RuntimeError("bug in callback")

    client.subscribe("alert.list", bad)
    server.emit("alert.list", "added", 1, {})
    server.emit("alert.list", "added", 2, {})
    wait_for(lambda: len(seen) == 2)
    assert "callback for alert.list failed" in caplog.text


def test_refused_subscription(server: FakeServer, make_client: Callable[..., Client]) -> None:
    def refuse(link: Any, name: str) -> Any:
        raise call_error("no such event", "ENOENT", 2)

    server.handlers["core.subscribe"] = refuse
    client = make_client()
    with pytest.raises(errors.CallError, match="no such event"):
        client.subscribe("nope", print)
    assert client._hub._entries == {}


def test_iterator_with_timeout(server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    stream = client.events("alert.list", timeout=0.2)
    for n in range(3):
        server.emit("alert.list", "added", n, {"n": n})
    got = [event.id for event in stream]
    assert got == [0, 1, 2]
    client.core.ping()
    assert server.subscribed("alert.list") == []
    with pytest.raises(StopIteration):
        next(stream)


def test_iterator_as_context_manager(server: FakeServer,
                                     make_client: Callable[..., Client]) -> None:
    client = make_client()
    with client.events("alert.list", timeout=5) as stream:
        server.emit("alert.list", "added", 1, {})
        assert next(iter(stream)).id == 1
    client.core.ping()
    assert server.subscribed("alert.list") == []


def test_events_with_arguments_in_the_name(server: FakeServer,
                                           make_client: Callable[..., Client]) -> None:
    client = make_client()
    stream = client.events('reporting.realtime:{"interval": 2}', timeout=0.5)
    server.emit("reporting.realtime", "changed", None, {"cpu": 1})
    assert next(stream).fields == {"cpu": 1}
    stream.close()


def test_server_ends_a_subscription(server: FakeServer,
                                    make_client: Callable[..., Client]) -> None:
    client = make_client()
    stream = client.events("alert.list", timeout=2)
    server.link.push({"jsonrpc": "2.0", "method": "notify_unsubscribed",
                      "params": {"collection": "alert.list", "error": {"reason": "revoked"}}})
    with pytest.raises(errors.TrueNASAPIError, match="ended the subscription to alert.list: "
                                                     "revoked"):
        next(stream)


def test_resubscribed_after_reconnect(server: FakeServer,
                                      make_client: Callable[..., Client]) -> None:
    client = make_client()
    seen: list[Event] = []
    client.subscribe("alert.list", seen.append)
    first = server.link
    first.drop()
    wait_for(lambda: not client.connected)
    assert client.core.ping() == "pong"  # reconnects, logs in, subscribes again
    assert server.link is not first
    assert [link for link, name in server.subscriptions.values()
            if name == "alert.list" and not link.closed] == [server.link]
    server.emit("alert.list", "added", "after", {})
    wait_for(lambda: len(seen) == 1)


def test_iterator_reconnects_by_itself(server: FakeServer,
                                       make_client: Callable[..., Client]) -> None:
    client = make_client()
    stream = client.events("alert.list", timeout=3)
    first = server.link

    def drop_and_send() -> None:
        first.drop()
        deadline = time.monotonic() + 3
        while server.link is first or not server.subscribed("alert.list"):
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        server.emit("alert.list", "added", "new", {})

    sender = threading.Thread(target=drop_and_send)
    sender.start()
    try:
        assert next(stream).id == "new"
    finally:
        sender.join(5)
        stream.close()


def test_close_ends_streams_and_joins_the_dispatcher(server: FakeServer,
                                                     make_client: Callable[..., Client]) -> None:
    client = make_client()
    client.subscribe("alert.list", lambda event: None)
    server.emit("alert.list", "added", 1, {})
    stream = client.events("alert.list", timeout=30)  # bounded; close() must end it first
    client.close()
    started = time.monotonic()
    with pytest.raises(StopIteration):
        next(stream)
    assert time.monotonic() - started < 5  # ended by close(), not by the silence timeout
    client.close()


def test_slow_consumer_backlog_is_bounded() -> None:
    listener = _Queued(backlog=2)
    for n in range(5):
        listener.deliver(Event("added", "x", n))
    assert listener.dropped == 3
    assert [listener.items.get_nowait().id for _ in range(2)] == [3, 4]  # type: ignore[union-attr]


def test_stream_reports_dropped(server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    stream = EventStream(client._hub, "alert.list", timeout=0.1, backlog=1)
    server.emit("alert.list", "added", 1, {})
    server.emit("alert.list", "added", 2, {})
    client.core.ping()
    assert stream.dropped == 1 and [e.id for e in stream] == [2]


def test_duplicate_subscription_race_is_undone(server: FakeServer,
                                               make_client: Callable[..., Client]) -> None:
    client = make_client()
    hub: EventHub = client._hub
    connection = client._connection()
    real = connection.subscribe

    def racing(name: str, timeout: float | None = None) -> str:
        sub = real(name, timeout)
        entry = hub._entries[name]
        entry.connection, entry.subscription = connection, "other-thread-sub"
        return sub

    connection.subscribe = racing  # type: ignore[method-assign]
    client.subscribe("alert.list", print)
    connection.subscribe = real  # type: ignore[method-assign]
    client.core.ping()
    assert hub._entries["alert.list"].subscription == "other-thread-sub"
    assert server.subscribed("alert.list") == []  # our duplicate was ended


def test_attach_logs_refusals(server: FakeServer, make_client: Callable[..., Client],
                              caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    client.subscribe("alert.list", print)
    server.handlers["core.subscribe"] = lambda link, name: (_ for _ in ()).throw(
        call_error("gone", "ENOENT", 2))
    server.link.drop()
    wait_for(lambda: not client.connected)
    with caplog.at_level(logging.WARNING):
        client.core.ping()
    assert "could not subscribe to alert.list again" in caplog.text


def test_unlisten_unknown_is_harmless(server: FakeServer,
                                      make_client: Callable[..., Client]) -> None:
    client = make_client()
    client._hub.unlisten("never", _Queued(1))
    assert not client._hub.is_subscribed("never", client._connection())
