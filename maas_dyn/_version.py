"""Package version, kept apart so setup.cfg can read it without importing."""

__version__ = "0.1.0"
