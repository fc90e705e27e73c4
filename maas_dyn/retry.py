"""An immutable retry policy, in the spirit of urllib3's ``Retry``.

The policy only decides; the dialect's funnel does the waiting and re-signs every
attempt. By default only idempotent requests (GET, HEAD, OPTIONS) are retried after
the server received them; a connection that could not be made at all is retried for
any method, because nothing was sent. A non-idempotent request that may have reached
the server is never re-sent.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, replace
from typing import Any

from maas_dyn.errors import ConnectionFailed, TransportError

__all__ = ["RetryPolicy"]


def _parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit() alone accepts "²", float() does not
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Attributes:
        total: Retries after the first attempt (0 disables retrying).
        backoff_factor: Sleep ``backoff_factor * 2 ** (retry - 1)`` seconds between
            attempts when the server gives no ``Retry-After``.
        backoff_max: Longest single sleep, in seconds.
        max_total_time: No retry starts after this many seconds since the first attempt.
        retry_statuses: HTTP statuses worth retrying (for idempotent methods).
        idempotent_methods: Methods that may be re-sent after the server received them.
        respect_retry_after: Sleep as long as the server's ``Retry-After`` asks
            (still bounded by ``max_total_time``).
    """

    total: int = 3
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    max_total_time: float = 120.0
    retry_statuses: frozenset[int] = frozenset({409, 429, 502, 503, 504})
    idempotent_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
    respect_retry_after: bool = True

    @classmethod
    def never(cls) -> RetryPolicy:
        """Return a policy that never retries."""
        return cls(total=0)

    def with_changes(self, **changes: Any) -> RetryPolicy:
        """Return a copy with some fields changed (the policy itself is immutable).

        Args:
            **changes: Field names and their new values.

        Returns:
            The new policy.
        """
        return replace(self, **changes)

    def backoff(self, retry: int) -> float:
        """Return the sleep before retry number ``retry`` (1-based), without Retry-After."""
        return float(min(self.backoff_max, self.backoff_factor * (2 ** (retry - 1))))

    def delay(
        self,
        attempts: int,
        method: str,
        *,
        status: int | None = None,
        error: TransportError | None = None,
        retry_after: str | None = None,
        elapsed: float = 0.0,
    ) -> float | None:
        """Decide whether to try again, and after how long.

        Args:
            attempts: Attempts made so far (1 after the first).
            method: HTTP method of the request.
            status: The HTTP status received, if any.
            error: The transport error raised, if any.
            retry_after: The server's ``Retry-After`` header, if any.
            elapsed: Seconds since the first attempt started.

        Returns:
            Seconds to sleep before the next attempt, or ``None`` to give up.
        """
        if attempts > self.total:
            return None
        idempotent = method.upper() in self.idempotent_methods
        if error is not None:
            retryable = isinstance(error, ConnectionFailed) or idempotent
        else:
            retryable = idempotent and status in self.retry_statuses
        if not retryable:
            return None
        wait = self.backoff(attempts)
        if self.respect_retry_after:
            asked = _parse_retry_after(retry_after, time.time())
            if asked is not None:
                wait = asked
        if elapsed + wait > self.max_total_time:
            return None
        return wait
