"""The simulator's parts, bundled for the services that need them."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from maas_dyn.sim.truenas.auth import TokenStore
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.clock import SimClock
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.faults import Faults
from maas_dyn.sim.truenas.jobs import JobManager
from maas_dyn.sim.truenas.state import State

__all__ = ["MAX_PARAM_KEYS", "CallCounter", "Runtime"]

#: Clients choose the parameters, so the number of distinct calls remembered is capped.
MAX_PARAM_KEYS = 100_000


class CallCounter(Counter[str]):
    """A ``Counter`` of calls received per method, safe to bump from many threads.

    The simulator bumps one live counter and hands out :meth:`snapshot` copies, so that
    readers never iterate a dictionary a server thread is changing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_params: Counter[tuple[str, str]] = Counter()

    @property
    def by_params(self) -> Counter[tuple[str, str]]:
        """Calls received per ``(method, parameters as canonical JSON)``, as a copy.

        A count above 1 for a call made once means it was sent again. Holds at most
        :data:`MAX_PARAM_KEYS` distinct calls. Parameters JSON cannot encode with sorted
        keys (an object with both ``1`` and ``"1"`` as keys) are keyed by their
        ``repr`` instead.
        """
        with self._lock:
            return Counter(self._by_params)

    def bump(self, method: str, params: list[Any]) -> None:
        """Count one call; never fails, whatever the parameters.

        Args:
            method: The method called.
            params: Its parameters as received.
        """
        key = (method, _params_key(params))
        with self._lock:
            self[method] += 1
            if key in self._by_params or len(self._by_params) < MAX_PARAM_KEYS:
                self._by_params[key] += 1

    def snapshot(self) -> CallCounter:
        """Copy the counts, the per-parameters ones included, as they are now.

        Returns:
            A new counter that later calls do not change.
        """
        copy = CallCounter()
        with self._lock:
            copy.update(self)
            copy._by_params.update(self._by_params)
        return copy


def _params_key(params: list[Any]) -> str:
    try:
        return json.dumps(params, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        # Counting runs before validation, so the parameters may be anything: keys json
        # cannot sort (1 and "1" in one object) must still count, not fail the call.
        return repr(params)


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
        auth_mechanisms: The ``auth.login_ex`` mechanisms accepted (and listed by
            ``auth.mechanism_choices``); ``OTP_TOKEN`` is always allowed as a second step.
        scram_iterations: PBKDF2 iterations of the SCRAM keys derived for API keys.
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
    auth_mechanisms: tuple[str, ...] = ("API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN")
    scram_iterations: int = 500_000
