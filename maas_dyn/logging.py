"""Structured logs for unattended runs: one field table, JSON or text lines.

Every record maas_dyn writes goes through a logger under ``maas_dyn`` (``maas_dyn.maas``,
``maas_dyn.truenas``, ``maas_dyn.workflows``, ``maas_dyn.sim.*``...) and carries an
``event`` name and fields from :data:`FIELDS`, passed as ``extra=``. INFO is the audit
trail: one line per call that changes something on a server, per retry, per workflow step.
DEBUG holds the wire (reads, frames, cache use).

Scripts call :func:`configure`; the CLIs do the same for ``--log-format json|text`` and
``--log-level``. The JSON lines compose with structlog's standard-library integration:
``structlog.stdlib.ProcessorFormatter`` with ``structlog.stdlib.ExtraAdder()`` in its
``foreign_pre_chain`` shows the same fields, since they are plain record attributes.

No field ever holds a secret: values are passed through the same redaction as errors
(:mod:`maas_dyn._secrets`), and the field table holds no credential.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, Literal, TextIO

from maas_dyn._secrets import redact_text

__all__ = ["FIELDS", "JSONFormatter", "TextFormatter", "configure", "log_event"]

# Field name -> what it holds. A record's ``extra=`` uses these names and no others.
FIELDS: Mapping[str, str] = {
    "event": "What happened, dotted: maas.call, maas.retry, truenas.call, truenas.retry, "
             "truenas.connection, workflow.step, bulk.item, waiter.poll, cache.read...",
    "dialect": "maas or truenas",
    "server": "The server's URL, without credentials",
    "handler": "MAAS handler (CLI name), e.g. machine",
    "action": "MAAS action or op, or a workflow step, e.g. deploy",
    "namespace": "TrueNAS namespace, e.g. pool.dataset",
    "method": "TrueNAS method (pool.dataset.create) or HTTP method (POST)",
    "system_id": "A MAAS node's system_id",
    "job_id": "A TrueNAS job id",
    "target": "What a bulk run or waiter works on (a system_id, a job id)",
    "attempt": "Which attempt of the call this is (1 = the first)",
    "status": "HTTP status, or the state a waiter or step saw",
    "error": "The error's class name, when something failed",
    "duration_ms": "How long it took, in milliseconds",
    "request_id": "Shared by the retries of one call, to group them",
    "count": "How many (events dropped, items in a run...)",
}

Format = Literal["json", "text"]


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            found[name] = redact_text(value) if isinstance(value, str) else value
    return found


def _event(record: logging.LogRecord) -> str:
    given = record.__dict__.get("event")
    # A record without an event name (a library we do not control, a handler's own
    # record) is named by where it came from, so every line has one.
    return str(given) if given else f"{record.name}.{record.funcName}"


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, message and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as one line of JSON (secrets redacted)."""
        document: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                  + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": _event(record),
            "message": redact_text(record.getMessage()),
        }
        document.update((k, v) for k, v in _fields(record).items() if k != "event")
        if record.exc_info and record.exc_info[0] is not None:
            document["error"] = document.get("error") or record.exc_info[0].__name__
        return json.dumps(document, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``LEVEL logger event: message key=value ...``: for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as one line of text (secrets redacted)."""
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items() if k != "event")
        line = (f"{record.levelname:<7} {record.name} {_event(record)}: "
                f"{redact_text(record.getMessage())}")
        return f"{line} {fields}" if fields else line


_FORMATTERS: Mapping[str, type[logging.Formatter]] = {
    "json": JSONFormatter,
    "text": TextFormatter,
}
_INSTALLED = "_maas_dyn_configured"


def configure(format: Format = "text", level: int | str = logging.INFO,
              stream: TextIO | None = None) -> logging.Handler:
    """Send maas_dyn's records to a stream as JSON lines or text.

    Calling it again replaces the handler it installed before, so a script can switch
    formats without stacking handlers.

    Args:
        format: ``"json"`` (one object per line) or ``"text"``.
        level: The lowest level shown (``"INFO"`` for the audit trail of changes,
            ``"DEBUG"`` for the wire).
        stream: Where to write; standard error by default, so standard output stays a
            command's own output.

    Returns:
        The handler installed on the ``maas_dyn`` logger.

    Raises:
        ValueError: An unknown format or level.
    """
    if format not in _FORMATTERS:
        raise ValueError(f"log format must be one of {', '.join(_FORMATTERS)}, not {format!r}")
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    logger = logging.getLogger("maas_dyn")
    for old in [h for h in logger.handlers if getattr(h, _INSTALLED, False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_FORMATTERS[format]())
    setattr(handler, _INSTALLED, True)
    logger.addHandler(handler)
    logger.setLevel(numeric)
    return handler


def log_event(logger: logging.Logger, level: int, event: str, message: str, *args: Any,
              **fields: Any) -> None:
    """Log one record with an event name and fields of :data:`FIELDS`.

    Args:
        logger: A logger under ``maas_dyn``.
        level: The record's level.
        event: The event name, e.g. ``"maas.call"``.
        message: A %-format message for people.
        *args: Its arguments.
        **fields: Fields of :data:`FIELDS` (unknown names are a programming error).

    Raises:
        KeyError: A field that :data:`FIELDS` does not list.
    """
    unknown = [name for name in fields if name not in FIELDS]
    if unknown:
        raise KeyError(f"log fields not in maas_dyn.logging.FIELDS: {', '.join(unknown)}")
    if logger.isEnabledFor(level):
        logger.log(level, message, *args, extra={"event": event, **fields}, stacklevel=2)
