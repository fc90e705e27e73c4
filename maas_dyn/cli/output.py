"""Printing a response: as sent, or as json, yaml or a table.

Without ``-o``, the body is written exactly as the server sent it when stdout is not a
terminal (pipe it to ``jq``), and JSON is pretty-printed when it is one. ``-o json``
always pretty-prints, ``-o yaml`` and ``-o table`` re-render JSON answers. Text and
binary answers (curtin config, script output, files) are always written as received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TextIO

from maas_dyn.maas.response import Response

__all__ = ["FORMATTERS", "write_response"]


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _yaml(data: Any) -> str:
    from maas_dyn.cli.yamlout import dump  # only `-o yaml` pays for it

    return dump(data)


def _table(data: Any) -> str:
    from maas_dyn.cli.table import render

    return render(data)


FORMATTERS: dict[str, Callable[[Any], str]] = {"json": _json, "yaml": _yaml, "table": _table}


def _is_json(response: Response) -> bool:
    media = (response.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _write_raw(content: bytes, stream: TextIO) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(content.decode("utf-8", "replace"))
        return
    stream.flush()
    buffer.write(content)
    buffer.flush()


def write_response(response: Response, output: str | None, stream: TextIO) -> None:
    """Write a response's body to ``stream``.

    Args:
        response: The response.
        output: ``"json"``, ``"yaml"``, ``"table"`` or ``None`` for as sent.
        stream: Normally stdout.
    """
    terminal = stream.isatty()
    if _is_json(response) and (output is not None or terminal) and response.content.strip():
        stream.write(FORMATTERS[output or "json"](response.data))
        return
    _write_raw(response.content, stream)
    if terminal and response.content and not response.content.endswith(b"\n"):
        stream.write("\n")  # keep the shell prompt on its own line
