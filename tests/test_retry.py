"""Table-driven tests of maas_dyn/retry.py."""

from __future__ import annotations

import email.utils
import time

import pytest

from maas_dyn.errors import ConnectionClosed, ConnectionFailed, Timeout, TransportError
from maas_dyn.retry import RetryPolicy

POLICY = RetryPolicy(total=3, backoff_factor=0.5, backoff_max=30, max_total_time=60)


@pytest.mark.parametrize(
    ("attempts", "method", "status", "error", "retry_after", "elapsed", "expected"),
    [
        (1, "GET", 503, None, None, 0, 0.5),
        (2, "GET", 503, None, None, 0, 1.0),
        (3, "GET", 503, None, None, 0, 2.0),
        (4, "GET", 503, None, None, 0, None),          # total reached
        (1, "GET", 503, None, "10", 0, 10.0),          # Retry-After in seconds
        (1, "GET", 409, None, "5", 0, 5.0),            # MAAS "locked, retry later"
        (1, "GET", 503, None, "soon", 0, 0.5),         # unparsable Retry-After
        (1, "GET", 503, None, "100", 0, None),         # would pass max_total_time
        (1, "GET", 503, None, None, 59.9, None),
        (1, "GET", 400, None, None, 0, None),          # not a retryable status
        (1, "GET", 500, None, None, 0, None),
        (1, "POST", 503, None, "1", 0, None),          # never re-send a non-idempotent call
        (1, "PUT", 503, None, None, 0, None),
        (1, "DELETE", 503, None, None, 0, None),
        (1, "POST", None, ConnectionFailed("refused"), None, 0, 0.5),  # nothing was sent
        (1, "POST", None, ConnectionClosed("reset"), None, 0, None),
        (1, "POST", None, Timeout("slow"), None, 0, None),
        (1, "GET", None, ConnectionClosed("reset"), None, 0, 0.5),
        (1, "GET", None, Timeout("slow"), None, 0, 0.5),
    ],
)
def test_delay_table(attempts: int, method: str, status: int | None,
                     error: TransportError | None, retry_after: str | None, elapsed: float,
                     expected: float | None) -> None:
    got = POLICY.delay(attempts, method, status=status, error=error, retry_after=retry_after,
                       elapsed=elapsed)
    assert got == expected


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    got = POLICY.delay(1, "GET", status=503, retry_after=when)
    assert got is not None and 15 <= got <= 21


def test_backoff_is_capped() -> None:
    assert RetryPolicy(backoff_factor=10, backoff_max=15).backoff(5) == 15


def test_retry_after_can_be_ignored() -> None:
    policy = POLICY.with_changes(respect_retry_after=False)
    assert policy.delay(1, "GET", status=503, retry_after="30") == 0.5
    assert POLICY.respect_retry_after  # the original is unchanged


def test_policy_is_immutable() -> None:
    with pytest.raises(AttributeError):
        POLICY.total = 5  # type: ignore[misc]
    assert RetryPolicy.never().delay(1, "GET", status=503) is None
