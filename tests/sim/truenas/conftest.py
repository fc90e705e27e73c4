"""Fixtures: a running simulator and a small JSON-RPC client over websocket-client."""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from maas_dyn.sim.truenas import TrueNASSimulator

# A deadline, not a pause: answers come in milliseconds, but a busy machine (the stress
# run: two CPU burners beside the suite) may hold a thread back for seconds.
TIMEOUT = 60.0


class RpcClient:
    """A minimal JSON-RPC client: a reader thread sorts replies and notifications."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=TIMEOUT)
        self._ids = itertools.count(1)
        self._replies: dict[object, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            # Ends when recv() raises: TIMEOUT s of silence, close()'s shutdown, or a close.
            while True:
                message = json.loads(self.ws.recv())
                if "id" in message and ("result" in message or "error" in message):
                    self._box(message["id"]).put(message)
                else:
                    self.notifications.put(message)
        except Exception:
            self.closed.set()

    def _box(self, id_: object) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._replies.setdefault(id_, queue.Queue())

    def send(self, method: str, *params: Any, id_: object = None) -> object:
        id_ = next(self._ids) if id_ is None else id_
        self.ws.send(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method,
                                 "params": list(params)}))
        return id_

    def reply(self, id_: object, timeout: float = TIMEOUT) -> dict[str, Any]:
        return self._box(id_).get(timeout=timeout)

    def request(self, method: str, *params: Any) -> dict[str, Any]:
        return self.reply(self.send(method, *params))

    def call(self, method: str, *params: Any) -> Any:
        reply = self.request(method, *params)
        assert "error" not in reply, reply
        return reply["result"]

    def error(self, method: str, *params: Any) -> dict[str, Any]:
        reply = self.request(method, *params)
        assert "error" in reply, reply
        return reply["error"]

    def login(self, sim: TrueNASSimulator) -> None:
        reply = self.call("auth.login_ex", {"mechanism": "PASSWORD_PLAIN",
                                            "username": sim.username, "password": sim.password})
        assert reply["response_type"] == "SUCCESS"

    def next_event(self, collection: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        # The timeout bounds the whole wait: events of other collections do not extend it.
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.notifications.get(timeout=remaining)
            if message.get("params", {}).get("collection") == collection:
                return message["params"]
        raise queue.Empty

    def wait_job(self, job_id: int) -> dict[str, Any]:
        for _ in range(400):
            job = self.call("core.get_jobs", [["id", "=", job_id]], {"get": True})
            if job["state"] in ("SUCCESS", "FAILED", "ABORTED"):
                return job
            threading.Event().wait(0.025)
        raise AssertionError(f"job {job_id} did not finish")

    def close(self) -> None:
        # An abrupt close: the reader thread owns the socket's receiving side, and only
        # shutdown() wakes a recv() blocked in another thread.
        if self.ws.sock is not None:
            with contextlib.suppress(OSError):
                self.ws.sock.shutdown(socket.SHUT_RDWR)
        self.ws.shutdown()
        self._reader.join(TIMEOUT)


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(version="25.10", speed=200.0, seed=0) as simulator:
        yield simulator


@pytest.fixture
def client(sim: TrueNASSimulator) -> Iterator[RpcClient]:
    rpc = RpcClient(sim.url)
    yield rpc
    rpc.close()


@pytest.fixture
def admin(sim: TrueNASSimulator, client: RpcClient) -> RpcClient:
    client.login(sim)
    return client
