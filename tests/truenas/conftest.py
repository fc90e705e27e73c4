"""Fixtures of the TrueNAS client tests: documents, a fake server, a thread-leak check."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped, shipped_releases
from maas_dyn.truenas import Client
from tests.truenas.fakes import FakeServer

RELEASES = shipped_releases("truenas")
PASSWORD = "pw-SECRET-hunter2"
API_KEY = "1-APIKEYSECRETabcdef"
URL = "wss://nas.test/api/current"

# Real entries of the 25.10 document, enough for the unit tests.
MINI_METHODS = (
    "auth.generate_token", "auth.login_ex", "config.save", "core.download", "core.get_jobs",
    "core.job_abort", "core.ping", "core.subscribe", "filesystem.put", "pool.create",
    "pool.dataset.query", "pool.query", "pool.scrub", "pool.scrub.run", "system.version",
    "user.create", "vmware.get_datastores", "network.configuration.config", "system.reboot",
)


@pytest.fixture(scope="session")
def documents() -> dict[str, Any]:
    return {release: load_shipped("truenas", release) for release in RELEASES}


@pytest.fixture(scope="session")
def doc2510(documents: dict[str, Any]) -> Any:
    return documents["25.10"]


@pytest.fixture(scope="session")
def mini_doc(doc2510: Any) -> dict[str, Any]:
    return {name: doc2510[name] for name in MINI_METHODS if name in doc2510}


@pytest.fixture
def server(mini_doc: dict[str, Any]) -> FakeServer:
    return FakeServer(copy.deepcopy(mini_doc))


@pytest.fixture
def make_client(server: FakeServer) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(url: str = URL, **options: Any) -> Client:
        defaults: dict[str, Any] = {
            "username": "admin", "password": PASSWORD, "opener": server.opener,
            "cache": False, "ping_interval": 0, "job_poll_interval": 0.05,
        }
        if any(k in options for k in ("api_key", "token")):
            defaults.pop("password")
        defaults.update(options)
        client = Client(url, **defaults)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


def _ours() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("maas_dyn-truenas")}


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    """Every thread the client starts must be joined by close()."""
    before = _ours()
    yield
    leaked = {t for t in _ours() - before if t.is_alive()}
    assert not leaked, f"threads left running: {sorted(t.name for t in leaked)}"
