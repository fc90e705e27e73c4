"""What a command runs against: streams, environment, profile store and transport.

Commands take a :class:`Runtime` instead of reading ``sys`` and ``os`` themselves, so
tests can run them in-process with their own streams and a mock transport.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO, cast

from maas_dyn.cli._common.profiles import ProfileStore

if TYPE_CHECKING:  # only profile commands need the HTTP stack; listing and completion do not
    from maas_dyn.maas.transport import Transport

__all__ = ["LogOptions", "Runtime", "take_log_options"]


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
        json_notes: Write :meth:`note` messages as JSON lines (``--log-format json``).
    """

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]
    transport: Transport | None = None
    store: ProfileStore = field(default_factory=ProfileStore)
    prog: str = "maas-dyn"
    json_notes: bool = False

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
        """Print a one-line message to stderr, prefixed with the program name.

        With ``--log-format json`` it is a JSON line like the log records (event
        ``cli.note``), so stderr stays one object per line for a log pipeline.
        """
        print(message if self.json_notes else f"{self.prog}: {message}", file=self.stderr)

    @contextmanager
    def library_messages(self, log: LogOptions | None = None) -> Iterator[None]:
        """Show the library's records on stderr while inside.

        By default, its warnings (e.g. "the API changed") as ``PROG: message`` lines;
        with ``--log-format``/``--log-level``, every record from that level on in that
        format (:mod:`maas_dyn.logging`). The handler and the logger's level are put back
        on exit, so repeated in-process runs do not stack them.

        Args:
            log: The ``--log-format`` and ``--log-level`` given, if any.
        """
        logger = logging.getLogger("maas_dyn")
        level_before = logger.level
        if log is None or (log.format is None and log.level is None):
            handler: logging.Handler = logging.StreamHandler(self.stderr)
            handler.setLevel(logging.WARNING)
            handler.setFormatter(logging.Formatter(f"{self.prog}: %(message)s"))
            logger.addHandler(handler)
        else:
            from maas_dyn.logging import configure

            handler = configure("json" if log.format == "json" else "text", log.level or "INFO",
                                self.stderr)
            if log.format == "json":
                # Every other line on stderr (selections, progress, summaries) becomes a
                # JSON note too, so a log pipeline reads one object per line.
                self.stderr = cast(TextIO, _NoteLines(self.stderr, self.prog))
                self.json_notes = True
        try:
            yield
        finally:
            # json_notes stays: the command's closing error is noted after this block.
            logger.removeHandler(handler)
            logger.setLevel(level_before)


class _NoteLines(io.TextIOBase):
    """A text stream that writes each complete line as a ``cli.note`` JSON record."""

    def __init__(self, target: TextIO, prog: str):
        super().__init__()
        self._target = target
        self._name = f"maas_dyn.cli.{prog}"
        self._pending = ""

    def write(self, text: str) -> int:
        from maas_dyn.logging import JSONFormatter

        self._pending += text.replace("\r", "\n")
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                record = logging.makeLogRecord({"name": self._name, "levelname": "INFO",
                                                "levelno": logging.INFO, "msg": line.strip(),
                                                "event": "cli.note"})
                self._target.write(JSONFormatter().format(record) + "\n")
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return False  # no progress bars drawn over lines: each update is a record


@dataclass(frozen=True)
class LogOptions:
    """``--log-format`` and ``--log-level`` of either CLI.

    Attributes:
        format: ``"json"``, ``"text"`` or ``None`` (not given).
        level: A level name, or ``None`` (not given: INFO once a format is chosen).
    """

    format: str | None = None
    level: str | None = None


_LOG_OPTIONS = {"--log-format": ("json", "text"),
                "--log-level": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


def take_log_options(argv: Sequence[str]) -> tuple[LogOptions, list[str]]:
    """Take ``--log-format FORMAT`` and ``--log-level LEVEL`` from anywhere before ``--``.

    Args:
        argv: The command line after the program name.

    Returns:
        The options and the other arguments, in order.

    Raises:
        UsageError: A missing or unknown value.
    """
    from maas_dyn.cli._common.exits import UsageError

    found: dict[str, str] = {}
    rest: list[str] = []
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            rest += words[index:]
            break
        name, equals, value = word.partition("=")
        if name not in _LOG_OPTIONS:
            rest.append(word)
            index += 1
            continue
        if not equals:
            index += 1
            value = words[index] if index < len(words) else ""
        choices = _LOG_OPTIONS[name]
        shown = value.upper() if name == "--log-level" else value
        if shown not in choices:
            raise UsageError(f"{name} takes one of {', '.join(choices)}, not {value!r}")
        found[name] = shown
        index += 1
    return LogOptions(found.get("--log-format"), found.get("--log-level")), rest
