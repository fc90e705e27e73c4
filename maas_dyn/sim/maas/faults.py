"""Fault injection: error answers, slow answers and dropped connections on demand.

Tests switch faults on through ``sim.faults``. Each rule fires either for the next
``times`` matching requests or with a ``probability`` per matching request (seeded, so
runs repeat), and can be narrowed to a method, a handler name and an op/action name.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "delay", "drop"]


@dataclass
class FaultRule:
    """One switched-on fault.

    Attributes:
        kind: ``"status"`` answers ``status``; ``"delay"`` waits ``delay`` seconds then
            answers normally; ``"drop"`` closes the connection without an answer.
        status: HTTP status for ``"status"`` rules.
        message: Plain-text body for ``"status"`` rules.
        retry_after: ``Retry-After`` value in seconds, or None to send none.
        delay: Seconds to wait for ``"delay"`` rules.
        times: Requests still to hit (None = unlimited, for probability rules).
        probability: Chance per matching request, or None to always fire.
        method: Only requests with this HTTP method (None = any).
        handler: Only requests to this handler name, e.g. ``"MachineHandler"``.
        op: Only this op or RESTful action name, e.g. ``"deploy"`` or ``"read"``.
        hits: How many requests the rule has fired on.
    """

    kind: FaultKind
    status: int = 503
    message: str = ""
    retry_after: float | None = None
    delay: float = 0.0
    times: int | None = 1
    probability: float | None = None
    method: str | None = None
    handler: str | None = None
    op: str | None = None
    hits: int = 0

    def matches(self, method: str, handler: str, op: str) -> bool:
        """Tell whether the rule applies to a request (ignoring times/probability).

        Args:
            method: HTTP method.
            handler: Handler name.
            op: Op or RESTful action name.

        Returns:
            True when every set filter matches.
        """
        return (
            (self.method is None or self.method.upper() == method)
            and (self.handler is None or self.handler == handler)
            and (self.op is None or self.op == op)
        )

    @property
    def exhausted(self) -> bool:
        """True when the rule has no hits left."""
        return self.times is not None and self.times <= 0


class Faults:
    """The set of switched-on fault rules of one simulator.

    Args:
        seed: Seeds the generator used by probability rules.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets

    def unavailable(
        self,
        *,
        retry_after: float | None = 10,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        handler: str | None = None,
        op: str | None = None,
    ) -> FaultRule:
        """Answer 503 Service Unavailable (with ``Retry-After`` unless None).

        Args:
            retry_after: Seconds for the ``Retry-After`` header, None for no header.
            times: Fire on this many matching requests (default 1 without probability).
            probability: Fire with this chance instead (unlimited unless ``times``).
            method: Narrow to an HTTP method.
            handler: Narrow to a handler name.
            op: Narrow to an op or RESTful action name.

        Returns:
            The rule, whose ``hits`` tell how often it fired.
        """
        return self.status(
            503,
            "Service Unavailable: injected by the maas_dyn simulator",
            retry_after=retry_after,
            times=times,
            probability=probability,
            method=method,
            handler=handler,
            op=op,
        )

    def locked(
        self,
        *,
        retry_after: float | None = 5,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        handler: str | None = None,
        op: str | None = None,
    ) -> FaultRule:
        """Answer 409 Conflict as a busy/locked region does (``Retry-After: 5``).

        Args:
            retry_after: Seconds for the ``Retry-After`` header, None for no header.
            times: Fire on this many matching requests (default 1 without probability).
            probability: Fire with this chance instead.
            method: Narrow to an HTTP method.
            handler: Narrow to a handler name.
            op: Narrow to an op or RESTful action name.

        Returns:
            The rule.
        """
        return self.status(
            409,
            "Conflict: the object is locked (injected by the maas_dyn simulator)",
            retry_after=retry_after,
            times=times,
            probability=probability,
            method=method,
            handler=handler,
            op=op,
        )

    def status(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: float | None = None,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        handler: str | None = None,
        op: str | None = None,
    ) -> FaultRule:
        """Answer any HTTP status with a plain-text body.

        Args:
            status: The status code.
            message: The body.
            retry_after: Seconds for the ``Retry-After`` header, None for no header.
            times: Fire on this many matching requests (default 1 without probability).
            probability: Fire with this chance instead.
            method: Narrow to an HTTP method.
            handler: Narrow to a handler name.
            op: Narrow to an op or RESTful action name.

        Returns:
            The rule.
        """
        return self._add(
            FaultRule("status", status=status, message=message, retry_after=retry_after),
            times=times,
            probability=probability,
            method=method,
            handler=handler,
            op=op,
        )

    def slow(
        self,
        delay: float,
        *,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        handler: str | None = None,
        op: str | None = None,
    ) -> FaultRule:
        """Delay answers by ``delay`` seconds of wall time.

        Args:
            delay: Seconds to wait before handling the request.
            times: Fire on this many matching requests (default 1 without probability).
            probability: Fire with this chance instead.
            method: Narrow to an HTTP method.
            handler: Narrow to a handler name.
            op: Narrow to an op or RESTful action name.

        Returns:
            The rule.
        """
        if delay < 0:
            raise ValueError(f"delay must not be negative, got {delay}")
        return self._add(
            FaultRule("delay", delay=delay),
            times=times,
            probability=probability,
            method=method,
            handler=handler,
            op=op,
        )

    def drop(
        self,
        *,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        handler: str | None = None,
        op: str | None = None,
    ) -> FaultRule:
        """Close the connection without answering.

        Args:
            times: Fire on this many matching requests (default 1 without probability).
            probability: Fire with this chance instead.
            method: Narrow to an HTTP method.
            handler: Narrow to a handler name.
            op: Narrow to an op or RESTful action name.

        Returns:
            The rule.
        """
        return self._add(
            FaultRule("drop"),
            times=times,
            probability=probability,
            method=method,
            handler=handler,
            op=op,
        )

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """A snapshot of the rules still active."""
        with self._lock:
            return list(self._rules)

    def fire(self, method: str, handler: str, op: str) -> list[FaultRule]:
        """Select the rules that fire for a request and consume their counts.

        Delay rules stack; the first status or drop rule ends the list because the
        request gets no further.

        Args:
            method: HTTP method.
            handler: Handler name.
            op: Op or RESTful action name.

        Returns:
            The rules to apply, in order.
        """
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, handler, op):
                    continue
                if rule.probability is not None and self._random.random() >= rule.probability:
                    continue
                rule.hits += 1
                if rule.times is not None:
                    rule.times -= 1
                fired.append(rule)
                if rule.kind != "delay":
                    break
            self._rules = [rule for rule in self._rules if not rule.exhausted]
        return fired

    def _add(
        self,
        rule: FaultRule,
        *,
        times: int | None,
        probability: float | None,
        method: str | None,
        handler: str | None,
        op: str | None,
    ) -> FaultRule:
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        rule.times = 1 if times is None and probability is None else times
        rule.probability = probability
        rule.method, rule.handler, rule.op = method, handler, op
        with self._lock:
            self._rules.append(rule)
        return rule
