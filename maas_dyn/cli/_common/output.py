r"""Printing a response: as sent, or as json, yaml or a table.

Without ``-o``, the body is written exactly as the server sent it when stdout is not a
terminal (pipe it to ``jq``), and JSON is pretty-printed when it is one. ``-o json``
always pretty-prints, ``-o yaml`` and ``-o table`` re-render JSON answers. Text and
binary answers (curtin config, script output, files) are always written as received.

Server data never makes a formatter print a traceback: text that cannot be encoded
(lone surrogates from ``\ud800`` escapes) is written escaped, ``-o yaml`` and ``-o table``
show containers nested deeper than :data:`MAX_DEPTH` as ``…``, and an answer a formatter
still cannot render is written as the server sent it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from maas_dyn.maas.response import Response

__all__ = ["FORMATTERS", "MAX_DEPTH", "clip", "encodable", "write_response"]

# Nesting shown by the re-rendering formats; deeper containers become "…".
MAX_DEPTH = 64
_CLIPPED = "…"


def clip(data: Any, depth: int = MAX_DEPTH) -> Any:
    """Replace containers nested deeper than ``depth`` levels by ``"…"``.

    Args:
        data: Decoded JSON data.
        depth: Levels kept.

    Returns:
        A copy no deeper than ``depth`` (``data`` itself when it holds no container).
    """
    if isinstance(data, Mapping):
        return {k: clip(v, depth - 1) for k, v in data.items()} if depth > 0 else _CLIPPED
    if isinstance(data, (list, tuple)):
        return [clip(v, depth - 1) for v in data] if depth > 0 else _CLIPPED
    return data


def encodable(text: str) -> str:
    r"""Escape what UTF-8 cannot encode (lone surrogates), so that writing never fails.

    Args:
        text: Text built from server data.

    Returns:
        ``text``, with each unencodable character as a ``\udXXX`` escape.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _json(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: JSON's own escapes keep it valid JSON
        return json.dumps(data, indent=2) + "\n"
    return text


def _yaml(data: Any) -> str:
    from maas_dyn.cli._common.yamlout import dump  # only `-o yaml` pays for it

    return encodable(dump(clip(data)))


def _table(data: Any) -> str:
    from maas_dyn.cli._common.table import render

    return encodable(render(clip(data)))


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
        try:
            text = FORMATTERS[output or "json"](response.data)
        except (RecursionError, ValueError, TypeError):
            text = None  # server data no formatter can render: show it as sent
        if text is not None:
            stream.write(text)
            return
    _write_raw(response.content, stream)
    if terminal and response.content and not response.content.endswith(b"\n"):
        stream.write("\n")  # keep the shell prompt on its own line
