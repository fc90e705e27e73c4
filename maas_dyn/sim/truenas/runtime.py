"""The simulator's parts, bundled for the services that need them."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from maas_dyn.sim.truenas.auth import TokenStore
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.clock import SimClock
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.faults import Faults
from maas_dyn.sim.truenas.jobs import JobManager
from maas_dyn.sim.truenas.state import State

__all__ = ["CallCounter", "Runtime"]


class CallCounter(Counter[str]):
    """A ``Counter`` of calls received per method, safe to bump from many threads."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def bump(self, method: str) -> None:
        """Count one call.

        Args:
            method: The method called.
        """
        with self._lock:
            self[method] += 1


@dataclass
class Runtime:
    """Everything a method handler may use.

    Attributes:
        catalog: The served description.
        state: The in-memory model.
        events: Subscriptions and event fan-out.
        jobs: The jobs engine.
        clock: Simulated time.
        faults: Fault switches.
        tokens: Authentication tokens.
        counts: Calls received per method.
        rng: Seeded randomness for anything that should be reproducible.
        hostname: Host name of the simulated system.
    """

    catalog: Catalog
    state: State
    events: EventHub
    jobs: JobManager
    clock: SimClock
    faults: Faults
    tokens: TokenStore = field(default_factory=TokenStore)
    counts: CallCounter = field(default_factory=CallCounter)
    rng: random.Random = field(default_factory=random.Random)
    hostname: str = "truenas-sim"
