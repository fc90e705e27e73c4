"""``truenas-dyn`` output: results in the shared formats, a job progress bar, exit codes.

Results are rendered by :data:`maas_dyn.cli._common.output.FORMATTERS` (``-o json|yaml|table``,
the same formats as ``maas-dyn``) once the values JSON has no spelling for (the
datetimes and sets of ejson) are made plain. Without ``-o`` a result is one line of
compact JSON when stdout is not a terminal, like ``midclt``, and pretty JSON on one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TextIO

from maas_dyn.cli._common.exits import ExitCode
from maas_dyn.cli._common.output import FORMATTERS, clip

__all__ = ["EXIT_CODES", "FORMATS", "ProgressBar", "render"]

FORMATS = tuple(FORMATTERS)

# The codes are maas-dyn's (one ExitCode for both CLIs); these are truenas-dyn's meanings.
EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success"),
    (ExitCode.FAILURE, "the server answered an error, a job failed, or the server could not "
                       "be reached or refused the credentials"),
    (ExitCode.USAGE, "usage error: unknown profile, method or option, a URL without its "
                     "scheme, or parameters that do not match the method's schema"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)


def _plain(value: object) -> object:
    # ejson values the server sends back (datetimes, sets) as JSON text can show them.
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _compact(data: Any) -> str:
    text = json.dumps(data, default=_plain, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: JSON's own escapes keep it valid JSON
        return json.dumps(data, default=_plain) + "\n"
    return text


def render(data: Any, output: str | None, pretty: bool) -> str:
    """Render a result.

    Args:
        data: The result.
        output: A key of :data:`maas_dyn.cli._common.output.FORMATTERS`, or ``None`` for JSON
            (compact unless ``pretty``).
        pretty: Stdout is a terminal.

    Returns:
        The text, ending with a newline.

    Raises:
        TypeError: The result holds a value JSON cannot show.
    """
    if output is None and not pretty:
        try:
            return _compact(data)
        except RecursionError:  # nested deeper than json's stack: show the top of it
            return _compact(clip(data))
    try:
        plain = json.loads(json.dumps(data, default=_plain))
    except RecursionError:
        plain = json.loads(json.dumps(clip(data), default=_plain))
    return FORMATTERS[output or "json"](plain)


class ProgressBar:
    """A one-line job progress bar on a terminal (nothing otherwise).

    Args:
        stream: Where to draw (stderr).
        width: Characters of the bar itself.
    """

    def __init__(self, stream: TextIO, width: int = 30):
        self._stream = stream
        self._width = width
        self._shown = False
        self.enabled = stream.isatty()

    def update(self, progress: Mapping[str, Any]) -> None:
        """Draw the bar for a job's progress object."""
        if not self.enabled:
            return
        percent = progress.get("percent")
        percent = float(percent) if isinstance(percent, (int, float)) else 0.0
        filled = int(self._width * max(0.0, min(percent, 100.0)) / 100)
        text = str(progress.get("description") or "")[:40]
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(f"\r[{bar}] {percent:5.1f}% {text:<40}")
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        """End the bar's line."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
