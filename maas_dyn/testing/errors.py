"""Assertion errors of the test support: a test that trips one fails, it does not error."""

from __future__ import annotations

__all__ = ["CassetteMismatchError", "StubAssertionError"]


class StubAssertionError(AssertionError):
    """A call did not match what the stubber expected (or an expectation is invalid)."""


class CassetteMismatchError(AssertionError):
    """A replayed session differs from its cassette: an unexpected call, or calls left over."""
