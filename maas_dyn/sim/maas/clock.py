"""Simulated time: wall time multiplied by a speed factor plus explicit advances."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SimClock:
    """A monotonic clock that runs ``speed`` times faster than the wall clock.

    Simulated time starts at 0 when the clock is created. ``advance()`` adds to it
    without waiting, so tests can jump over a deployment instead of sleeping.

    Args:
        speed: Simulated seconds per wall-clock second; must be positive.
        monotonic: The wall clock to read (a seam for tests).
    """

    def __init__(self, speed: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic):
        _check_speed(speed)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor_wall = monotonic()
        self._anchor_sim = 0.0
        self._started_at = time.time()

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        _check_speed(value)
        with self._lock:
            # Re-anchor so that the time already elapsed keeps its old rate.
            self._anchor_sim = self._now_locked()
            self._anchor_wall = self._monotonic()
            self._speed = float(value)

    def now(self) -> float:
        """Return the simulated seconds elapsed since the clock was created."""
        with self._lock:
            return self._now_locked()

    def advance(self, seconds: float) -> float:
        """Move simulated time forward without waiting.

        Args:
            seconds: How far to jump; must not be negative.

        Returns:
            The new simulated time.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds})")
        with self._lock:
            self._anchor_sim += seconds
            return self._now_locked()

    def epoch(self, sim_time: float | None = None) -> float:
        """Map a simulated time to a Unix timestamp (for ``created`` fields).

        Args:
            sim_time: A value from :meth:`now`; defaults to the current time.

        Returns:
            Seconds since the Unix epoch.
        """
        return self._started_at + (self.now() if sim_time is None else sim_time)

    def _now_locked(self) -> float:
        return self._anchor_sim + (self._monotonic() - self._anchor_wall) * self._speed


def _check_speed(speed: float) -> None:
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {speed!r}")
