"""Fault switches: dropped connections, slow replies and failing jobs.

Each switch is a rule that matches a method name (or every method), fires for a number of
calls (or forever) and, optionally, only at a probability drawn from a seeded generator so
that a run is reproducible.
"""

from __future__ import annotations

import errno
import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from maas_dyn.sim.truenas.exceptions import CallError

__all__ = ["DropPoint", "Faults"]

DropPoint = Literal["before", "after"]


@dataclass
class _Rule:
    method: str | None
    remaining: int | None
    probability: float

    def fire(self, method: str, rng: random.Random) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.probability < 1.0 and rng.random() >= self.probability:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


@dataclass
class _DropRule(_Rule):
    when: DropPoint = "before"


@dataclass
class _DelayRule(_Rule):
    delay: float = 0.0


@dataclass
class _JobFailureRule(_Rule):
    errmsg: str = ""
    errno: int = errno.EIO


class Faults:
    """The simulator's fault switches (``sim.faults``); thread-safe.

    Args:
        seed: Seed of the generator behind ``probability``.
    """

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._drops: list[_DropRule] = []
        self._delays: list[_DelayRule] = []
        self._job_failures: list[_JobFailureRule] = []
        self._fired: Counter[str] = Counter()

    def drop_connection(self, count: int | None = 1, *, method: str | None = None,
                        probability: float = 1.0, when: DropPoint = "before") -> None:
        """Drop the connection (no reply, no close frame) on matching calls.

        Args:
            count: How many calls to drop; ``None`` for every matching call.
            method: Only calls of this method; ``None`` for any method.
            probability: Chance that a matching call is dropped.
            when: ``"before"`` the method runs, or ``"after"`` it ran (its effects stay).
        """
        with self._lock:
            self._drops.append(_DropRule(method, count, probability, when))

    def slow_replies(self, delay: float, count: int | None = None, *, method: str | None = None,
                     probability: float = 1.0) -> None:
        """Delay matching calls by ``delay`` real seconds before they run.

        Args:
            delay: Seconds to wait.
            count: How many calls to delay; ``None`` for every matching call.
            method: Only calls of this method; ``None`` for any method.
            probability: Chance that a matching call is delayed.
        """
        with self._lock:
            self._delays.append(_DelayRule(method, count, probability, delay))

    def fail_jobs(self, method: str | None = None, count: int | None = None, *,
                  errmsg: str = "Simulated job failure", errno: int = errno.EIO,
                  probability: float = 1.0) -> None:
        """Make matching jobs end FAILED with a CallError instead of running.

        Args:
            method: Only jobs of this method; ``None`` for any job.
            count: How many jobs to fail; ``None`` for every matching job.
            errmsg: The error message of the failure.
            errno: The error number of the failure.
            probability: Chance that a matching job fails.
        """
        with self._lock:
            self._job_failures.append(
                _JobFailureRule(method, count, probability, errmsg, errno))

    @property
    def fired(self) -> dict[str, int]:
        """How often each kind of fault fired so far; :meth:`clear` does not reset it.

        Kinds: ``drop-before``, ``drop-after``, ``slow``, ``job-failure``.
        """
        with self._lock:
            return dict(self._fired)

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._drops.clear()
            self._delays.clear()
            self._job_failures.clear()

    def take_drop(self, method: str) -> DropPoint | None:
        """Consume a drop rule for a call, if one fires.

        Args:
            method: The called method.

        Returns:
            Where to drop the connection, or ``None``.
        """
        with self._lock:
            rule = next((r for r in self._drops if r.fire(method, self._rng)), None)
            if rule is None:
                return None
            self._fired[f"drop-{rule.when}"] += 1
        return rule.when

    def take_delay(self, method: str) -> float:
        """Consume a delay rule for a call, if one fires.

        Args:
            method: The called method.

        Returns:
            Seconds to wait (0 when no rule fires).
        """
        with self._lock:
            rule = next((r for r in self._delays if r.fire(method, self._rng)), None)
            if rule is None:
                return 0.0
            self._fired["slow"] += 1
        return rule.delay

    def take_job_failure(self, method: str) -> CallError | None:
        """Consume a job-failure rule for a job, if one fires.

        Args:
            method: The job's method.

        Returns:
            The error the job must fail with, or ``None``.
        """
        with self._lock:
            rule = next((r for r in self._job_failures if r.fire(method, self._rng)), None)
            if rule is None:
                return None
            self._fired["job-failure"] += 1
        return CallError(rule.errmsg, rule.errno)
