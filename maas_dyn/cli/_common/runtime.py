"""What a command runs against: streams, environment, profile store and transport.

Commands take a :class:`Runtime` instead of reading ``sys`` and ``os`` themselves, so
tests can run them in-process with their own streams and a mock transport.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from maas_dyn.cli._common.profiles import ProfileStore

if TYPE_CHECKING:  # only profile commands need the HTTP stack; listing and completion do not
    from maas_dyn.maas.transport import Transport

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """The environment of one ``maas-dyn`` or ``truenas-dyn`` run.

    Attributes:
        stdin: Where ``login PROFILE URL -`` reads the key.
        stdout: Where results go.
        stderr: Where messages, progress and ``--debug`` output go.
        environ: Environment variables (``MAAS_URL``, ``MAAS_API_KEY``).
        transport: Send requests through this instead of ``requests`` (tests).
        store: The profile directory.
        prog: The program name messages start with.
    """

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]
    transport: Transport | None = None
    store: ProfileStore = field(default_factory=ProfileStore)
    prog: str = "maas-dyn"

    @classmethod
    def from_process(cls, transport: Transport | None = None, dialect: str = "maas") \
            -> Runtime:
        """Build the runtime of the current process (``sys`` streams, ``os.environ``).

        Args:
            transport: Send MAAS requests through this (tests).
            dialect: Whose profiles: ``"maas"`` or ``"truenas"``.

        Returns:
            The runtime.
        """
        store = ProfileStore(dialect=dialect)
        return cls(sys.stdin, sys.stdout, sys.stderr, os.environ, transport, store,
                   store.dialect.program)

    def note(self, message: str) -> None:
        """Print a one-line message to stderr, prefixed with the program name."""
        print(f"{self.prog}: {message}", file=self.stderr)

    @contextmanager
    def library_messages(self) -> Iterator[None]:
        """Show the library's warnings (e.g. "the API changed") on stderr while inside.

        The handler is removed on exit, so repeated in-process runs do not stack them.
        """
        handler = logging.StreamHandler(self.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(f"{self.prog}: %(message)s"))
        logger = logging.getLogger("maas_dyn")
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)
