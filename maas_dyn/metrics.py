"""Per-call counts and latency from a client's hooks, and a feed for ``prometheus_client``.

Both clients announce every call on their hook seam (MAAS: ``before-send`` and
``after-receive`` per HTTP attempt; TrueNAS: ``before-call`` and ``after-call`` per
JSON-RPC call). :class:`CallMetrics` listens there, so counting needs no change to the
call paths and costs nothing for clients that do not attach it::

    metrics = CallMetrics()
    metrics.attach(client)                       # any number of clients, both dialects
    ...
    for stat in metrics.snapshot():
        print(stat.dialect, stat.name, stat.count, stat.errors, stat.seconds)

With the ``metrics`` extra installed, :func:`register_prometheus` exposes the same figures
as ``maas_dyn_calls_total`` (labels dialect, name, outcome) and
``maas_dyn_call_seconds_total`` on a ``prometheus_client`` registry.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from maas_dyn._optional import require

__all__ = ["CallMetrics", "CallStat", "register_prometheus"]


@dataclass(frozen=True)
class CallStat:
    """What one kind of call did so far.

    Attributes:
        dialect: ``"maas"`` or ``"truenas"``.
        name: ``METHOD handler-path op`` for MAAS (``POST machines/{system_id} deploy``), the
            method name for TrueNAS.
        count: Calls (MAAS: HTTP attempts) answered.
        errors: Those that ended in an error answer.
        seconds: Their summed duration.
    """

    dialect: str
    name: str
    count: int
    errors: int
    seconds: float


def _maas_namer(client: Any) -> Callable[[str, str], str]:
    # A machine's id in its path would make one series per machine: name a call by the
    # handler path template it matches (machines/{system_id}/), from the description.
    templates = []
    for handler in client.description.handlers.values():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(handler.path))
        shown = handler.path.split("/api/", 1)[-1].partition("/")[2].rstrip("/")
        templates.append((re.compile(pattern + r"\Z"), shown))

    def name(method: str, url: str) -> str:
        parts = urlsplit(url)
        op = parse_qs(parts.query).get("op", [""])[0]
        shape = next((shown for pattern, shown in templates if pattern.search(parts.path)),
                     parts.path)
        return " ".join(p for p in (method, shape, op) if p)

    return name


class CallMetrics:
    """Counts and sums call durations per dialect and call name; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], list[float]] = {}  # [count, errors, seconds]
        self._local = threading.local()

    def observe(self, dialect: str, name: str, seconds: float, ok: bool) -> None:
        """Record one call.

        Args:
            dialect: ``"maas"`` or ``"truenas"``.
            name: The call's name.
            seconds: How long it took.
            ok: Whether it succeeded.
        """
        with self._lock:
            stat = self._stats.setdefault((dialect, name), [0, 0, 0.0])
            stat[0] += 1
            stat[1] += 0 if ok else 1
            stat[2] += seconds

    def snapshot(self) -> list[CallStat]:
        """Every call kind seen so far, sorted by dialect and name."""
        with self._lock:
            return [CallStat(d, n, int(c), int(e), s)
                    for (d, n), (c, e, s) in sorted(self._stats.items())]

    def _started(self) -> None:
        self._local.started = time.perf_counter()

    def _elapsed(self) -> float:
        started = getattr(self._local, "started", None)
        return 0.0 if started is None else time.perf_counter() - started

    def attach(self, client: Any) -> None:
        """Count the calls of a MAAS or TrueNAS client (sync or its ``.client`` if async).

        Args:
            client: A :class:`maas_dyn.maas.Client` or :class:`maas_dyn.truenas.Client`
                (an async client: its ``client`` attribute is used).
        """
        target = getattr(client, "client", client)
        hooks = target.hooks
        if hasattr(target, "endpoint"):  # TrueNAS: per call, on the caller's thread
            hooks.register("before-call", lambda **event: self._started())
            hooks.register("after-call", lambda **event: self.observe(
                "truenas", str(event["method"]), self._elapsed(), event.get("error") is None))
        else:  # MAAS: per HTTP attempt
            name = _maas_namer(target)
            hooks.register("before-send", lambda **event: self._started())
            hooks.register("after-receive", lambda **event: self.observe(
                "maas", name(event["response"].method, event["response"].url),
                self._elapsed(), event["response"].status < 400))


def register_prometheus(metrics: CallMetrics, registry: Any = None) -> Any:
    """Expose a :class:`CallMetrics` on a ``prometheus_client`` registry.

    Args:
        metrics: The figures to expose (read at each scrape).
        registry: A ``prometheus_client.CollectorRegistry``; the default registry if
            ``None``.

    Returns:
        The collector registered (unregister it with ``registry.unregister(...)``).

    Raises:
        MissingExtraError: ``prometheus_client`` is not installed; the message says to
            install the ``metrics`` extra (``pip install 'maas-dyn[metrics]'``).
    """
    prometheus = require("metrics", "exposing call metrics to Prometheus")["prometheus_client"]
    from prometheus_client.core import CounterMetricFamily

    class Collector:
        def collect(self) -> Iterator[Any]:
            calls = CounterMetricFamily("maas_dyn_calls", "Calls answered by the server.",
                                        labels=["dialect", "name", "outcome"])
            seconds = CounterMetricFamily("maas_dyn_call_seconds",
                                          "Seconds spent in calls.", labels=["dialect", "name"])
            for stat in metrics.snapshot():
                calls.add_metric([stat.dialect, stat.name, "ok"], stat.count - stat.errors)
                calls.add_metric([stat.dialect, stat.name, "error"], stat.errors)
                seconds.add_metric([stat.dialect, stat.name], stat.seconds)
            yield calls
            yield seconds

    collector = Collector()
    (prometheus.REGISTRY if registry is None else registry).register(collector)
    return collector
