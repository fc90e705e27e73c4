"""The public face of the simulator: :class:`TrueNASSimulator`."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from maas_dyn._scram import DEFAULT_ITERATIONS, tls_server_end_point
from maas_dyn.sim.truenas import totp
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.clock import SimClock
from maas_dyn.sim.truenas.conditions import Conditions
from maas_dyn.sim.truenas.dispatch import Dispatcher
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.faults import Faults
from maas_dyn.sim.truenas.jobs import JobManager
from maas_dyn.sim.truenas.limits import ServerLimits
from maas_dyn.sim.truenas.registry import MethodTable
from maas_dyn.sim.truenas.runtime import CallCounter, Runtime
from maas_dyn.sim.truenas.seed import seed as seed_state
from maas_dyn.sim.truenas.server import HOST, Server
from maas_dyn.sim.truenas.services import HANDLERS
from maas_dyn.sim.truenas.services.alerts import raise_alert
from maas_dyn.sim.truenas.services.auth import offered_mechanisms
from maas_dyn.sim.truenas.services.generic import generic_handlers
from maas_dyn.sim.truenas.state import State

__all__ = ["TrueNASSimulator"]

_DEFAULT_VERSION = "25.10"


class TrueNASSimulator:
    """An embedded TrueNAS middleware on 127.0.0.1, driven by a shipped description.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with TrueNASSimulator(version="25.10") as sim:
            client = connect(sim.url, username=sim.username, password=sim.password)

    Args:
        version: Release to serve (a shipped description, e.g. ``"25.10"``).
        speed: Simulated seconds per real second (jobs finish ``speed`` times faster).
        seed: Seed of everything random (serials, OTP secret, fault probabilities).
        port: TCP port; 0 picks a free one.
        hostname: Host name the simulated system reports.
        job_workers: Jobs that may run at once.
        limits: Connection, deadline and upload limits of the server
            (:class:`~maas_dyn.sim.truenas.limits.ServerLimits`; defaults when None).
        auth_mechanisms: Accept only these ``auth.login_ex`` mechanisms, as a hardened
            box whose authenticator level allows fewer (e.g. ``["SCRAM"]``); default:
            every mechanism the description offers (``SCRAM`` from 26.0).
        tls_cert: Serve ``wss://``/``https://`` with this PEM certificate (chain; may
            hold the key too). SCRAM logins may then bind to it.
        tls_key: The PEM private key, when not in ``tls_cert``.
        scram_iterations: PBKDF2 iterations of API keys' SCRAM keys (the middleware
            uses 500000; clients accept 50000 to 5000000).
        description: Serve this ``core.get_methods`` document instead of the shipped
            one: a mapping, or the path of a ``.json`` or ``.json.gz`` file. Any release
            works, also one the package has never seen; ``version`` then names it
            (when left at its default, the file name does, e.g. ``26.10.json``).

    Raises:
        ValueError: ``auth_mechanisms`` names a mechanism the description does not
            offer, ``tls_cert`` holds no certificate, or ``description`` is no
            ``core.get_methods`` document.
    """

    def __init__(self, version: str = _DEFAULT_VERSION, speed: float = 50.0, seed: int = 0,
                 port: int = 0, *, hostname: str = "truenas-sim", job_workers: int = 4,
                 limits: ServerLimits | None = None,
                 auth_mechanisms: Sequence[str] | None = None,
                 tls_cert: str | None = None, tls_key: str | None = None,
                 scram_iterations: int = DEFAULT_ITERATIONS,
                 description: Mapping[str, Any] | str | os.PathLike[str] | None = None):
        self._limits = limits
        self._stopping = threading.Event()
        catalog = _catalog(version, description)
        rng = random.Random(seed)  # noqa: S311 - reproducible state, not secrets
        state = State(catalog)
        self._secrets = seed_state(state, rng)
        events = EventHub()
        self._faults = Faults(seed)
        login_ex = catalog.get("auth.login_ex")
        offered = offered_mechanisms(login_ex.accepts if login_ex is not None else [])
        allowed = tuple(auth_mechanisms) if auth_mechanisms is not None else offered
        unknown = sorted(set(allowed) - set(offered))
        if unknown:
            raise ValueError(f"TrueNAS {version} does not offer the login mechanism(s) "
                             f"{', '.join(unknown)}; it offers {', '.join(offered)}")
        self._tls = _tls(tls_cert, tls_key) if tls_cert else None
        clock = SimClock(speed, self._stopping)
        self._rt = Runtime(catalog, state, events,
                           JobManager(events, self._faults, job_workers, clock=clock),
                           clock, self._faults, rng=rng,
                           hostname=hostname, auth_mechanisms=allowed,
                           scram_iterations=scram_iterations)
        # Hand-written models first; generic stores for the CRUD and config services
        # none of them covers (services/generic.py).
        self._handlers = MethodTable.merged(generic_handlers(catalog, HANDLERS), HANDLERS)
        self._dispatcher = Dispatcher(self._rt, self._handlers)
        self._conditions = Conditions(self._rt)
        self._requested_port = port
        self._server: Server | None = None
        # Start, stop and restarts from several threads (a chaos run) happen one after
        # another. Reentrant so that a restart's ``on_down`` callback may call stop().
        self._lifecycle = threading.RLock()

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> TrueNASSimulator:
        """Start serving.

        Returns:
            The simulator.

        Raises:
            RuntimeError: Already started, or stopped (its jobs engine is shut down:
                make a new simulator).
        """
        with self._lifecycle:
            if self._server is not None:
                raise RuntimeError("the simulator is already running")
            if self._stopping.is_set():
                raise RuntimeError("a stopped TrueNAS simulator cannot start again; "
                                   "make a new one")
            self._server = Server(self._rt, self._dispatcher, self._requested_port,
                                  self._stopping, self._limits, tls=self._tls)
            self._server.start()
        return self

    def stop(self) -> None:
        """Close every connection, abort running jobs and join every thread.

        A :meth:`restart` waiting out its downtime in another thread ends at once and
        does not serve again.
        """
        # Set before taking the lock: a restart holds it for its whole downtime, and
        # waits on this event so that it returns at once instead of serving again.
        self._stopping.set()
        with self._lifecycle:
            if self._server is not None:
                self._server.stop()
                self._server = None
        self._rt.jobs.shutdown()

    def restart(self, downtime: float = 0.0,
                on_down: Callable[[], None] | None = None) -> None:
        """Restart the middleware.

        Every session drops without a close frame; with a ``downtime``, the port also
        refuses connections for that long before serving again. State, running jobs and
        the port are kept. A :meth:`stop` from another thread during the downtime cuts
        it short, and the simulator then stays stopped.

        Args:
            downtime: Real seconds the port stays closed; 0 keeps it listening.
            on_down: Called once the port is closed, before the downtime is waited out
                (only when ``downtime`` is above 0): for tests and chaos runs, e.g. to
                check the port refuses. It may call :meth:`stop`. If it raises, the
                exception propagates and the simulator stays down until :meth:`start`.

        Raises:
            RuntimeError: The simulator is not running, or the port could not be
                listened on again after the downtime (another process took it); the
                simulator then stays down until :meth:`start`.
            ValueError: ``downtime`` is negative.
        """
        if downtime < 0:
            raise ValueError(f"downtime must not be negative, got {downtime}")
        with self._lifecycle:
            server = self._running()
            server.drop_all()
            if downtime == 0:
                return
            port = server.port
            server.stop()
            # Not running from here on: if anything below fails or a stop() comes, the
            # simulator is consistently stopped rather than pointing at a dead server.
            self._server = None
            if on_down is not None:
                on_down()
            if self._stopping.wait(downtime):
                return
            try:
                replacement = Server(self._rt, self._dispatcher, port, self._stopping,
                                     self._limits, tls=self._tls)
            except OSError as exc:
                raise RuntimeError(
                    f"cannot listen on port {port} again after the restart: {exc}") from exc
            self._server = replacement
            replacement.start()

    def __enter__(self) -> TrueNASSimulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _running(self) -> Server:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._server

    # --- where and who ---------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port served."""
        return self._running().port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with TLS)."""
        return f"{'https' if self._tls else 'http'}://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint, ``ws://127.0.0.1:<port>/api/current`` (``wss://`` with TLS)."""
        return f"{'wss' if self._tls else 'ws'}://{HOST}:{self.port}/api/current"

    @property
    def legacy_url(self) -> str:
        """The legacy endpoint, ``ws://127.0.0.1:<port>/websocket`` (``wss://`` with TLS)."""
        return f"{'wss' if self._tls else 'ws'}://{HOST}:{self.port}/websocket"

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        """The ``auth.login_ex`` mechanisms accepted (``auth.mechanism_choices``)."""
        return self._rt.auth_mechanisms

    @property
    def version(self) -> str:
        """The served release, e.g. ``"25.10"``."""
        return self._rt.catalog.release

    @property
    def api_version(self) -> str:
        """The served API version, e.g. ``"v25.10.0"``."""
        return self._rt.catalog.api_version

    @property
    def username(self) -> str:
        """The administrator who logs in with a password or API key."""
        return self._secrets.username

    @property
    def password(self) -> str:
        """That administrator's password."""
        return self._secrets.password

    @property
    def api_key(self) -> str:
        """That administrator's API key, ``"<id>-<secret>"``."""
        return self._secrets.api_key

    @property
    def otp_username(self) -> str:
        """The administrator with two-factor authentication."""
        return self._secrets.otp_username

    @property
    def otp_password(self) -> str:
        """That administrator's password."""
        return self._secrets.otp_password

    @property
    def otp_secret(self) -> str:
        """That administrator's base32 TOTP secret."""
        return self._secrets.otp_secret

    def totp_now(self, secret: str | None = None) -> str:
        """Compute the current one-time password.

        Args:
            secret: Base32 secret; :attr:`otp_secret` when omitted.

        Returns:
            The 6-digit code.
        """
        return totp.totp(secret or self.otp_secret)

    # --- inspection and control ------------------------------------------------------

    @property
    def state(self) -> State:
        """The in-memory model (hold ``state.lock`` while reading or changing it)."""
        return self._rt.state

    @property
    def faults(self) -> Faults:
        """The fault switches."""
        return self._faults

    @property
    def conditions(self) -> Conditions:
        """Health fault switches (:class:`~maas_dyn.sim.truenas.conditions.Conditions`).

        Degraded pools, disk errors, old scrubs, full datasets, failed jobs, stopped
        services; alerts have :meth:`raise_alert`.
        """
        return self._conditions

    @property
    def jobs(self) -> JobManager:
        """The jobs engine (``jobs.records()`` lists every remembered job)."""
        return self._rt.jobs

    @property
    def call_counts(self) -> CallCounter:
        """Calls received per method name, as a snapshot taken now.

        Its ``by_params`` holds the calls per parameters (see
        :class:`~maas_dyn.sim.truenas.runtime.CallCounter`). A snapshot, so iterating
        it is safe while the server keeps counting; read the property again to see
        later calls.
        """
        return self._rt.counts.snapshot()

    @property
    def modelled_methods(self) -> frozenset[str]:
        """Methods of the served description that the simulator models."""
        return frozenset(set(self._handlers) & set(self._rt.catalog.methods))

    @property
    def generic_methods(self) -> frozenset[str]:
        """Methods of the served description answered by a generic store (no model)."""
        return frozenset(self.modelled_methods - set(HANDLERS))

    def raise_alert(self, klass: str, text: str, level: str = "WARNING",
                    args: Any = None) -> dict[str, Any]:
        """Make an alert appear (subscribers of ``alert.list`` are told).

        Args:
            klass: Alert class, e.g. ``"PoolDegraded"``.
            text: Alert text.
            level: Severity.
            args: Alert arguments.

        Returns:
            The alert.
        """
        return raise_alert(self._rt, klass, text, level, args)


def _catalog(version: str, description: Mapping[str, Any] | str | os.PathLike[str] | None
             ) -> Catalog:
    if description is None:
        return Catalog(version)
    if isinstance(description, Mapping):
        return Catalog(version, dict(description))
    path = Path(description)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        document = json.load(handle)
    if version == _DEFAULT_VERSION:
        version = path.name.removesuffix(".gz").removesuffix(".json") or version
    return Catalog(version, document)


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _tls(cert: str, key: str | None) -> tuple[ssl.SSLContext, bytes]:
    """A server TLS context, and the channel binding of the certificate it presents."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with open(cert, encoding="ascii") as handle:
        first = _PEM_CERT.search(handle.read())
    if first is None:
        raise ValueError(f"{cert} holds no PEM certificate")
    return context, tls_server_end_point(ssl.PEM_cert_to_DER_cert(first.group(0)))
