"""Fixtures: a running simulator per test and a small signed HTTP client."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from maas_dyn.sim.maas import MAASSimulator

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


def _pairs(params: Params | None) -> list[tuple[str, str]]:
    if not params:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values)
    return pairs


class Api:
    """Signs requests like the official CLI: op first, multipart bodies for POST/PUT."""

    def __init__(self, sim: MAASSimulator, api_key: str | None = None) -> None:
        self.sim = sim
        self.base = sim.url + "api/2.0/"
        self.session = requests.Session()
        if api_key is not None:
            consumer, token, secret = api_key.split(":")
            self.session.auth = OAuth1(
                consumer, "", token, secret, signature_method="PLAINTEXT"
            )

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, op: str | None = None, params: Params | None = None) -> requests.Response:
        query = ([("op", op)] if op else []) + _pairs(params)
        return self.session.get(self.base + path, params=query, timeout=30)

    def delete(self, path: str, params: Params | None = None) -> requests.Response:
        return self.session.delete(self.base + path, params=_pairs(params), timeout=30)

    def post(self, path: str, op: str | None = None, data: Params | None = None) -> requests.Response:
        return self._send("POST", path, op, data)

    def put(self, path: str, data: Params | None = None) -> requests.Response:
        return self._send("PUT", path, None, data)

    def _send(self, method: str, path: str, op: str | None, data: Params | None) -> requests.Response:
        files = [(key, (None, value)) for key, value in _pairs(data)]
        return self.session.request(
            method,
            self.base + path,
            params=[("op", op)] if op else None,
            files=files or None,
            timeout=30,
        )


@pytest.fixture
def sim() -> Iterator[MAASSimulator]:
    simulator = MAASSimulator(version="3.7", machines=10, speed=1.0, seed=0)
    with simulator:
        yield simulator


@pytest.fixture
def api(sim: MAASSimulator) -> Iterator[Api]:
    client = Api(sim, sim.api_key)
    yield client
    client.close()


@pytest.fixture
def anon(sim: MAASSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.close()


@pytest.fixture
def user_api(sim: MAASSimulator) -> Iterator[Api]:
    client = Api(sim, sim.add_user("alice"))
    yield client
    client.close()


def raw_request(sim: MAASSimulator, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes to the simulator; return all it answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", sim.port), timeout=timeout) as conn:
        conn.sendall(payload)
        chunks = []
        # Each recv() has the socket's timeout; the deadline also stops an answer that
        # keeps trickling in.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
        else:
            raise AssertionError(f"the connection was still open after {timeout:g} s")
    return b"".join(chunks)


def machines_in(api: Api, status: str) -> list[dict[str, Any]]:
    """Return the machines in one status (short name such as ``ready``)."""
    response = api.get("machines/", params={"status": status})
    assert response.status_code == 200, response.text
    return list(response.json())


def ready_machine(api: Api) -> str:
    """Return the system_id of the first Ready machine."""
    return str(machines_in(api, "ready")[0]["system_id"])
