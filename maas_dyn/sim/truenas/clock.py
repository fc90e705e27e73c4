"""Simulated time: durations are given in simulated seconds and pass ``speed`` times faster."""

from __future__ import annotations

import threading
import time

__all__ = ["SimClock"]

# Longest single wait while two events are watched; keeps aborts and stops prompt.
_SLICE = 0.02


class SimClock:
    """Turns simulated durations into real waits that stop early on shutdown.

    Args:
        speed: How many simulated seconds pass per real second (> 0).
        stopping: Set when the simulator stops; every wait returns at once then.
    """

    def __init__(self, speed: float, stopping: threading.Event):
        if speed <= 0:
            raise ValueError(f"speed must be > 0, not {speed}")
        self.speed = speed
        self._stopping = stopping

    def real_seconds(self, sim_seconds: float) -> float:
        """Convert a simulated duration into real seconds.

        Args:
            sim_seconds: Duration in simulated seconds.

        Returns:
            The real duration.
        """
        return max(sim_seconds, 0.0) / self.speed

    def sleep(self, sim_seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait for a simulated duration.

        Args:
            sim_seconds: Duration in simulated seconds.
            cancel: Optional event that ends the wait early (e.g. a job abort).

        Returns:
            True if the full duration passed, False if the wait was cut short.
        """
        deadline = time.monotonic() + self.real_seconds(sim_seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            if self._stopping.is_set() or (cancel is not None and cancel.is_set()):
                return False
            self._stopping.wait(min(remaining, _SLICE) if cancel is not None else remaining)
        return not self._stopping.is_set() and not (cancel is not None and cancel.is_set())
