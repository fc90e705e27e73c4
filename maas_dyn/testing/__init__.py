"""Test support for users' own scripts: a stubber, cassettes, and a pytest plugin."""

from maas_dyn.testing.stubber import StubAssertionError, Stubber

__all__ = ["StubAssertionError", "Stubber"]
