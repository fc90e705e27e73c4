"""Event subscriptions: callbacks and iterators, shared per name, restored after reconnects.

Every local listener of an event name shares one server subscription; the last one to
leave ends it. Events arrive on the connection's reader thread and are handed on at
once: callbacks run on one dispatcher thread of the client (in order, and free to make
calls), iterators get them through a bounded queue, and internal listeners (the job
tracker) take them inline. After a reconnect every name still listened to is subscribed
again on the new connection.

The callback queue is bounded (``max_queued``, ``Client(max_queued_events=...)``): a
server flooding events faster than the callbacks take them cannot grow memory without
bound. When it is full the **oldest** queued event is dropped (the newest state matters
most for collection updates), counted on the subscription (:attr:`Subscription.dropped`)
and on the hub, and logged once per overflow at WARNING. :meth:`EventHub.close` does not
run the backlog: queued events are discarded, and it waits at most ``close_timeout``
for a callback that is running.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from maas_dyn.errors import TrueNASAPIError
from maas_dyn.truenas.messages import Event, SubscriptionEnded
from maas_dyn.truenas.transport import Connection

__all__ = ["EventHub", "EventStream", "Subscription"]

_log = logging.getLogger("maas_dyn.truenas")

Callback = Callable[[Event], Any]

# Events an iterator may hold before the oldest are dropped (a slow consumer must not
# grow memory without bound).
STREAM_BACKLOG = 10_000


class _Listener:
    """Receives events of one name; subclasses decide where they go."""

    def deliver(self, event: Event) -> None:
        """Take one event (on the reader thread: must not block)."""

    def ended(self, reason: str) -> None:
        """The server ended the subscription."""

    def lost(self) -> None:
        """The connection dropped; events may have been missed."""

    def stop(self) -> None:
        """The client was closed."""


class _Inline(_Listener):
    def __init__(self, receive: Callable[[Event], None]):
        self._receive = receive

    def deliver(self, event: Event) -> None:
        self._receive(event)


class _Dispatched(_Listener):
    def __init__(self, callback: Callback, hub: EventHub):
        self._callback = callback
        self._hub = hub
        self.dropped = 0

    def deliver(self, event: Event) -> None:
        self._hub.dispatch(self._callback, event, self)


@dataclass(frozen=True)
class _Ended:
    reason: str


class _Lost:
    pass


class _Stopped:
    pass


class _Queued(_Listener):
    def __init__(self, backlog: int):
        self.items: queue.Queue[Event | _Ended | _Lost | _Stopped] = queue.Queue(backlog)
        self.dropped = 0

    def _put(self, item: Event | _Ended | _Lost | _Stopped) -> None:
        # Bounded: when full, the oldest event goes (counted), the newest is kept.
        for _ in range(2):
            try:
                self.items.put_nowait(item)
                return
            except queue.Full:
                try:
                    self.items.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    continue

    def deliver(self, event: Event) -> None:
        self._put(event)

    def ended(self, reason: str) -> None:
        self._put(_Ended(reason))

    def lost(self) -> None:
        self._put(_Lost())

    def stop(self) -> None:
        self._put(_Stopped())


@dataclass
class _Entry:
    name: str
    listeners: list[_Listener] = field(default_factory=list)
    subscription: str | None = None
    connection: Connection | None = None


class Subscription:
    """A listener registered with :meth:`EventHub.listen`; a context manager.

    Attributes:
        name: The event name.
    """

    def __init__(self, hub: EventHub, name: str, listener: _Listener):
        self._hub = hub
        self.name = name
        self._listener = listener
        self._active = True

    @property
    def active(self) -> bool:
        """Whether the listener still receives events."""
        return self._active

    @property
    def dropped(self) -> int:
        """Events dropped (oldest first) because the callbacks fell too far behind."""
        return int(getattr(self._listener, "dropped", 0))

    def unsubscribe(self) -> None:
        """Stop receiving events (ends the server subscription if no one else listens)."""
        if self._active:
            self._active = False
            self._hub.unlisten(self.name, self._listener)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        return f"<Subscription {self.name} {'active' if self._active else 'ended'}>"


class EventStream:
    """Events of one name as an iterator: ``for event in client.events("alert.list")``.

    Iteration ends when no event arrives for ``timeout`` seconds. After a dropped
    connection the stream reconnects (logging in again) and subscribes again; events
    sent meanwhile are lost.

    Args:
        hub: The client's hub.
        name: The event name.
        timeout: Seconds of silence that end the iteration; ``None`` waits forever.
        backlog: Events held for a slow consumer before the oldest are dropped.
    """

    def __init__(self, hub: EventHub, name: str, timeout: float | None = None,
                 backlog: int | None = None):
        self.name = name
        self._hub = hub
        self._timeout = timeout
        self._listener = _Queued(hub.max_queued if backlog is None else backlog)
        self._subscription = hub.listen(name, self._listener)

    @property
    def dropped(self) -> int:
        """Events dropped because the consumer was too slow."""
        return self._listener.dropped

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        # Each turn either returns, ends, or reconnects once per drop; a failed
        # reconnect raises, so this cannot spin.
        while self._subscription.active:
            try:
                item = self._listener.items.get(timeout=self._timeout)
            except queue.Empty:
                break
            if isinstance(item, Event):
                return item
            if isinstance(item, _Ended):
                self.close()
                raise TrueNASAPIError(f"the server ended the subscription to {self.name}"
                                      + (f": {item.reason}" if item.reason else ""))
            if isinstance(item, _Stopped):
                break
            self._hub.recover()
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Stop listening."""
        self._subscription.unsubscribe()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_dispatcher_numbers = itertools.count(1)


class EventHub:
    """The client's listeners, by event name.

    No lock is held across a network round trip: the reader thread routes events
    without locking (through an immutable routing table), and subscribing happens
    outside the hub's lock, so neither can wait on the other.

    Args:
        connect: Returns the client's live connection, connecting (and logging in)
            when needed.
        timeout: Seconds to wait for the server to accept a subscription.
        max_queued: Events waiting for callbacks (and for each iterator) before the
            oldest are dropped.
        close_timeout: Seconds :meth:`close` waits for a callback that is running.
    """

    def __init__(self, connect: Callable[[], Connection], timeout: float | None = 30.0,
                 max_queued: int = STREAM_BACKLOG, close_timeout: float = 1.0):
        self._connect = connect
        self._timeout = timeout
        self.max_queued = max_queued
        self._close_timeout = close_timeout
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._routes: dict[str, tuple[_Entry, ...]] = {}
        self._queue: deque[tuple[Callback, Event, _Dispatched]] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._overflowing = False
        self.dropped = 0
        self._dispatcher: threading.Thread | None = None
        self._closed = False

    # -- listeners ---------------------------------------------------------------------------

    def listen(self, name: str, listener: _Listener) -> Subscription:
        """Add a listener, subscribing on the server if it is the first for ``name``.

        Args:
            name: Event name, e.g. ``"alert.list"``.
            listener: Where the events go.

        Returns:
            The subscription handle.

        Raises:
            TrueNASAPIError: The server refused the subscription.
            ConnectionClosed: The connection dropped meanwhile.
        """
        connection = self._connect()
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                entry = self._entries[name] = _Entry(name)
            entry.listeners.append(listener)
            self._publish()
        try:
            self._subscribe(entry, connection)
        except BaseException:
            self.unlisten(name, listener)
            raise
        return Subscription(self, name, listener)

    def subscribe(self, name: str, callback: Callback) -> Subscription:
        """Call ``callback(event)`` on the dispatcher thread for each event of ``name``."""
        return self.listen(name, _Dispatched(callback, self))

    def listen_inline(self, name: str, receive: Callable[[Event], None]) -> Subscription:
        """Hand events of ``name`` to ``receive`` on the reader thread (must not block)."""
        return self.listen(name, _Inline(receive))

    def unlisten(self, name: str, listener: _Listener) -> None:
        """Remove a listener; the last one of a name ends the server subscription."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or listener not in entry.listeners:
                return
            entry.listeners.remove(listener)
            if entry.listeners:
                return
            del self._entries[name]
            self._publish()
            connection, subscription = entry.connection, entry.subscription
        if connection is not None and subscription is not None and not connection.closed:
            connection.unsubscribe(subscription)

    def _subscribe(self, entry: _Entry, connection: Connection) -> None:
        with self._lock:
            if entry.connection is connection and entry.subscription is not None:
                return
        subscription = connection.subscribe(entry.name, self._timeout)
        with self._lock:
            duplicate = entry.connection is connection and entry.subscription is not None
            if not duplicate:
                entry.connection, entry.subscription = connection, subscription
        if duplicate:  # another thread subscribed the same name meanwhile
            connection.unsubscribe(subscription)

    def _publish(self) -> None:
        # Called with the lock held; the reader reads the table without it.
        routes: dict[str, list[_Entry]] = {}
        for entry in self._entries.values():
            routes.setdefault(entry.name.partition(":")[0], []).append(entry)
        self._routes = {key: tuple(value) for key, value in routes.items()}

    def is_subscribed(self, name: str, connection: Connection) -> bool:
        """Tell whether ``name`` is subscribed on ``connection``."""
        with self._lock:
            entry = self._entries.get(name)
            return entry is not None and entry.connection is connection \
                and entry.subscription is not None

    # -- connection life ------------------------------------------------------------------

    def attach(self, connection: Connection) -> None:
        """Subscribe every name again on a new connection (after a reconnect).

        Args:
            connection: The new connection.
        """
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            try:
                self._subscribe(entry, connection)
            except Exception as exc:  # one refused name must not stop the others
                _log.warning("could not subscribe to %s again: %s", entry.name, exc)

    def recover(self) -> None:
        """Reconnect if needed and make sure every name is subscribed on the connection."""
        self.attach(self._connect())

    def connection_lost(self) -> None:
        """Tell listeners that events may have been missed (on the reader thread)."""
        for entries in self._routes.values():
            for entry in entries:
                for listener in tuple(entry.listeners):
                    listener.lost()

    def on_notice(self, notice: Event | SubscriptionEnded) -> None:
        """Route an event or an ended subscription (on the reader thread)."""
        entries = self._routes.get(notice.collection, ()) + self._routes.get("*", ())
        for entry in entries:
            if isinstance(notice, SubscriptionEnded):
                entry.subscription = None
            for listener in tuple(entry.listeners):
                if isinstance(notice, Event):
                    listener.deliver(notice)
                else:
                    listener.ended(notice.reason)

    # -- the dispatcher thread ----------------------------------------------------------------

    def dispatch(self, callback: Callback, event: Event,
                 listener: _Dispatched | None = None) -> None:
        """Queue a callback for the dispatcher thread (started on first use).

        Never blocks (it runs on the reader thread): a full queue drops its oldest event.
        """
        if self._dispatcher is None:
            with self._lock:
                if self._closed:
                    return
                if self._dispatcher is None:
                    self._dispatcher = threading.Thread(
                        target=self._run, daemon=True,
                        name=f"maas_dyn-truenas-events-{next(_dispatcher_numbers)}")
                    self._dispatcher.start()
        owner = listener if listener is not None else _Dispatched(callback, self)
        with self._ready:
            if self._closed:
                return
            waiting = self._queue
            if len(waiting) >= self.max_queued:
                _, old, loser = waiting.popleft()
                loser.dropped += 1
                self.dropped += 1
                if not self._overflowing:
                    self._overflowing = True
                    _log.warning("event callbacks fell %d events behind; dropping the oldest "
                                 "(%s); raise Client(max_queued_events=...) or make the "
                                 "callbacks faster", self.max_queued, old.collection)
            elif self._overflowing and len(waiting) < self.max_queued // 2:
                self._overflowing = False
            waiting.append((callback, event, owner))
            self._ready.notify()

    def _run(self) -> None:
        # Ends when close() sets _closed; the backlog is then discarded, not run.
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                callback, event, _ = self._queue.popleft()
            try:
                callback(event)
            except Exception:
                _log.exception("an event callback for %s failed", event.collection)

    def close(self) -> None:
        """Stop every listener and join the dispatcher thread."""
        with self._lock:
            self._closed = True
            listeners = [lis for entry in self._entries.values() for lis in entry.listeners]
            self._entries.clear()
            self._publish()
            dispatcher, self._dispatcher = self._dispatcher, None
        for listener in listeners:
            listener.stop()
        with self._ready:
            self._queue.clear()  # the backlog is not run
            self._ready.notify_all()
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join(self._close_timeout)
            if dispatcher.is_alive():
                _log.warning("an event callback was still running %g s after close",
                             self._close_timeout)
