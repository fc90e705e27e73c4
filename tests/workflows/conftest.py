"""Simulators for the workflow tests: real HTTP and WebSocket servers on 127.0.0.1.

Every simulator is stopped by its fixture. Simulated time runs fast (a deployment of
300 simulated seconds takes 15 ms), so waiters poll every 10 ms with a short timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client as NASClient
from maas_dyn.workflows import select_machines

# Waiter overrides for the fast simulator.
FAST: dict[str, Any] = {"interval": 0.01, "timeout": 10.0}


@pytest.fixture
def sim() -> Iterator[MAASSimulator]:
    with MAASSimulator(machines=10, speed=20_000.0) as simulator:
        yield simulator


@pytest.fixture
def maas(sim: MAASSimulator) -> Iterator[Client]:
    # Built from the shipped description: no describe fetch per test.
    client = Client.from_release("3.7", url=sim.url, api_key=sim.api_key, cache=False)
    yield client
    client.close()


@pytest.fixture
def nas_sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(speed=1000.0) as simulator:
        yield simulator


@pytest.fixture
def nas(nas_sim: TrueNASSimulator) -> Iterator[NASClient]:
    client = NASClient(nas_sim.url, username=nas_sim.username, password=nas_sim.password,
                       cache=False, job_poll_interval=0.2)
    yield client
    client.close()


def ids(maas: Client, status: str) -> list[str]:
    """system_ids of the machines in a status (``machines read status=...``)."""
    return [m["system_id"] for m in select_machines(maas, {"status": status})]


class Recording:
    """A fake MAAS client that records ``request`` calls and answers from a table."""

    class Answer:
        def __init__(self, data: Any) -> None:
            self.data = data

    def __init__(self, answers: dict[tuple[str, str], Any] | None = None) -> None:
        self.answers = answers or {}
        self.requests: list[tuple[str, str, tuple[Any, ...], list[tuple[str, Any]]]] = []

    def request(self, handler: str, action: str, *args: Any,
                fields: Any = ()) -> Recording.Answer:
        self.requests.append((handler, action, args, list(fields)))
        return self.Answer(self.answers.get((handler, action), {}))

    def call(self, handler: str, action: str, *args: Any) -> Any:
        return self.answers.get((handler, action), {})
