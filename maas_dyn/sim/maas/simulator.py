"""The public face of the simulator: :class:`MAASSimulator`."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any

from maas_dyn.sim.maas.clock import SimClock
from maas_dyn.sim.maas.conditions import Conditions
from maas_dyn.sim.maas.describe import Description
from maas_dyn.sim.maas.dispatch import CountKey, Dispatcher
from maas_dyn.sim.maas.faults import Faults
from maas_dyn.sim.maas.handlers import REGISTRY
from maas_dyn.sim.maas.oauth import OAuthVerifier
from maas_dyn.sim.maas.seed import seed_region
from maas_dyn.sim.maas.server import HttpLimits, SimHTTPServer
from maas_dyn.sim.maas.state import State

_JOIN_TIMEOUT = 10.0


class MAASSimulator:
    """An embedded MAAS region: a real HTTP server on 127.0.0.1 driven by a real description.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with MAASSimulator(version="3.7", machines=10, speed=50.0) as sim:
            client = maas_dyn.maas.connect(sim.url, api_key=sim.api_key)

    Long operations (commissioning, deployment, release...) take simulated time: wall
    time multiplied by ``speed``, plus whatever :meth:`advance` adds. Actions the
    simulator does not model answer HTTP 501 (see ``MODELLED.md``).

    Args:
        version: A shipped MAAS release (``maas_dyn._shipped.shipped_releases("maas")``).
        machines: How many machines to seed.
        speed: Simulated seconds per wall-clock second for long operations.
        seed: Seeds all generated data, keys and failures.
        port: TCP port on 127.0.0.1; 0 picks a free one.
        deploy_failure_rate: Chance that a deployment ends in "Failed deployment".
        commission_failure_rate: Chance that commissioning ends in "Failed commissioning".
        limits: Connection, deadline and body limits of the HTTP server
            (:class:`~maas_dyn.sim.maas.server.HttpLimits`; defaults when None).
        description: Serve this describe document instead of the shipped one of
            ``version``: a path to a JSON file (gzip allowed) or the parsed document, from
            any MAAS release, including ones the package has never seen. ``version`` then
            only labels it (version string, default series). Handlers are matched by
            name; collection reads the simulator does not model answer ``[]``, anything
            else unmodelled answers 501 naming it.

    Attributes:
        state: The in-memory region. Hold ``state.lock`` while reading or changing it
            from a test; call ``state.settle()`` first to apply due transitions.
        faults: Fault switches (:class:`~maas_dyn.sim.maas.faults.Faults`).
        conditions: Health fault switches: dead services, stuck or failed machines,
            unsynced images... (:class:`~maas_dyn.sim.maas.conditions.Conditions`).
        clock: The simulated clock.
    """

    def __init__(
        self,
        version: str = "3.7",
        machines: int = 10,
        speed: float = 1.0,
        seed: int = 0,
        port: int = 0,
        *,
        deploy_failure_rate: float = 0.0,
        commission_failure_rate: float = 0.0,
        limits: HttpLimits | None = None,
        description: str | os.PathLike[str] | dict[str, Any] | None = None,
    ) -> None:
        if machines < 0:
            raise ValueError(f"machines must not be negative, got {machines}")
        description_ = (Description.shipped(version) if description is None
                        else Description.load(description, version))
        self.clock = SimClock(speed)
        self.state = State(self.clock, seed, description_.api_prefix, version)
        self._admin_token = seed_region(self.state, machines=machines, release=version)
        self.faults = Faults(seed)
        self.conditions = Conditions(self.state)
        self._stopping = threading.Event()
        self._dispatcher = Dispatcher(
            self.state,
            faults=self.faults,
            registry=REGISTRY,
            verifier=OAuthVerifier(self.state),
            description=description_,
            stopping=self._stopping,
        )
        self.deploy_failure_rate = deploy_failure_rate
        self.commission_failure_rate = commission_failure_rate
        self._requested_port = port
        self._limits = limits
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # start/stop/restart from several threads (a chaos run) happen one after another.
        # Reentrant so that a restart's ``on_down`` callback may call stop().
        self._lifecycle = threading.RLock()
        # Set by stop() before it waits for the lock, which a restart holds through its
        # downtime: the restart then ends at once and does not serve again.
        self._closing = threading.Event()

    # -- lifecycle of the server ---------------------------------------------------------

    def start(self) -> MAASSimulator:
        """Bind the port and serve in a background thread.

        Returns:
            The simulator itself.

        Raises:
            RuntimeError: It is already running.
        """
        with self._lifecycle:
            if self._server is not None:
                raise RuntimeError("the MAAS simulator is already running")
            self._closing.clear()
            self._bind(self._requested_port)
        return self

    def _bind(self, port: int) -> None:
        # The server first: if the port cannot be bound, nothing changed (still stopped).
        server = SimHTTPServer(port, self._dispatcher.handle, self._api_hash, self.clock.epoch,
                               self._limits)
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"maas-sim-{server.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread. Idempotent.

        A :meth:`restart` waiting out its downtime in another thread ends at once and
        does not serve again.
        """
        self._closing.set()
        with self._lifecycle:
            self._stop_locked()

    def _stop_locked(self) -> None:
        # The caller holds _lifecycle. Leaves _closing alone: a restart stops this way.
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_all(_JOIN_TIMEOUT)
        server.server_close()
        thread.join(_JOIN_TIMEOUT)
        self._server = self._thread = None

    def restart(self, downtime: float = 0.0,
                on_down: Callable[[], None] | None = None) -> None:
        """Restart the region, as an upgrade or a crash would.

        Every connection closes, the port refuses connections for ``downtime`` seconds,
        then it serves again on the same port. The region's state and the description
        are kept. A :meth:`stop` from another thread during the downtime cuts it short,
        and the simulator then stays stopped.

        Args:
            downtime: Real seconds between going down and coming back; must not be negative.
            on_down: Called once the port is closed (a downtime of 0 included), before
                the downtime is waited out: for tests and chaos runs, e.g. to check the
                port refuses. It may call :meth:`stop`. If it raises, the exception
                propagates and the simulator stays stopped.

        Raises:
            RuntimeError: The simulator is not running, or the port could not be bound
                again after the downtime (another process took it); the simulator then
                stays stopped.
            ValueError: ``downtime`` is negative.
        """
        if downtime < 0:
            raise ValueError(f"downtime must not be negative, got {downtime}")
        with self._lifecycle:
            if self._server is None:
                raise RuntimeError("the MAAS simulator is not running; call start() first")
            port = self._server.port
            self._stop_locked()
            if on_down is not None:
                on_down()
            if self._closing.wait(downtime):
                return
            try:
                self._bind(port)
            except OSError as exc:
                raise RuntimeError(
                    f"cannot bind port {port} again after the restart: {exc}") from exc

    def __enter__(self) -> MAASSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port.

        Raises:
            RuntimeError: The simulator is not running.
        """
        if self._server is None:
            raise RuntimeError("the MAAS simulator is not running; call start() first")
        return self._server.port

    @property
    def url(self) -> str:
        """The region URL a client connects to, e.g. ``http://127.0.0.1:41234/MAAS/``."""
        root = self._dispatcher.description.api_prefix.split("api/")[0]
        return f"http://127.0.0.1:{self.port}{root}"

    @property
    def api_key(self) -> str:
        """The admin user's API key, ``consumer:token:secret``."""
        return self._admin_token.api_key

    @property
    def version(self) -> str:
        """The release whose description is served."""
        return self._dispatcher.description.release

    @property
    def request_counts(self) -> Counter[CountKey]:
        """Requests received, keyed by (HTTP method, handler name, op or action name).

        The handler name is the resource's authenticated handler (its anonymous one when
        it has none); the describe document counts as ``("GET", "describe", "describe")``
        and the v2 OpenAPI document as ``("GET", "openapi", "openapi")``.
        A snapshot taken now: safe to iterate while the server keeps counting; read the
        property again to see later requests.
        """
        return self._dispatcher.request_counts()

    @property
    def handled_writes(self) -> dict[CountKey, list[int]]:
        """What the region answered to each non-idempotent request past the faults.

        Keyed by (HTTP method, path, op or action name), statuses in order. A 2xx
        means the region acted. The key holds no body, so only where each request
        (path and op) is meant to be sent once does a request arriving at the same key
        after a 2xx mean it was sent again after the region had acted on it.
        A snapshot taken now: safe to iterate while the server keeps answering; read the
        property again to see later requests.
        """
        return self._dispatcher.handled_writes()

    def add_user(self, username: str, admin: bool = False) -> str:
        """Create a user with an API key.

        Args:
            username: The name.
            admin: Make the user a superuser.

        Returns:
            The user's API key.

        Raises:
            ValueError: The user exists already.
        """
        with self.state.lock:
            if username in self.state.users:
                raise ValueError(f"user {username!r} exists already")
            self.state.add_user(username, admin=admin)
            return self.state.add_token(username).api_key

    def swap_description(self, version: str) -> None:
        """Serve another release's description from now on (a mid-session upgrade).

        Args:
            version: A shipped MAAS release.
        """
        description = Description.shipped(version)
        with self.state.lock:
            self.state.api_prefix = description.api_prefix
            self.state.release = version
            self.state.touch_all()
            self._dispatcher.use(description)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and complete every operation that fell due.

        Args:
            seconds: Simulated seconds; must not be negative.
        """
        self.clock.advance(seconds)
        self.state.settle()

    # -- knobs ---------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second (settable)."""
        return self.clock.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.clock.speed = value

    @property
    def durations(self) -> dict[str, float]:
        """Simulated seconds per lifecycle phase, e.g. ``durations["deploy"] = 10``."""
        return self.state.lifecycle.durations

    @property
    def deploy_failure_rate(self) -> float:
        """Chance in [0, 1] that a deployment fails (settable at runtime)."""
        return self.state.lifecycle.failure_rates["deploy"]

    @deploy_failure_rate.setter
    def deploy_failure_rate(self, value: float) -> None:
        self._set_rate("deploy", value)

    @property
    def commission_failure_rate(self) -> float:
        """Chance in [0, 1] that commissioning fails (settable at runtime)."""
        return self.state.lifecycle.failure_rates["commission"]

    @commission_failure_rate.setter
    def commission_failure_rate(self, value: float) -> None:
        self._set_rate("commission", value)

    def set_failure_rate(self, operation: str, value: float) -> None:
        """Set the failure rate of any phase: commission, test, deploy, release, erase.

        Args:
            operation: The phase name.
            value: Chance in [0, 1].

        Raises:
            ValueError: Unknown phase or a rate outside [0, 1].
        """
        if operation not in self.state.lifecycle.failure_rates:
            known = ", ".join(self.state.lifecycle.failure_rates)
            raise ValueError(f"unknown operation {operation!r}; known: {known}")
        self._set_rate(operation, value)

    def _set_rate(self, operation: str, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"a failure rate must be within [0, 1], got {value}")
        with self.state.lock:
            self.state.lifecycle.failure_rates[operation] = float(value)

    def _api_hash(self) -> str:
        return self._dispatcher.description.hash
