"""A tiny YAML emitter for JSON data, so PyYAML is not a run-time dependency.

Block style throughout; a string is written plain when it cannot be read back as
anything else (not a number, boolean, null or YAML syntax), otherwise double-quoted
with YAML escapes, so ``yaml.safe_load(dump(x)) == x`` for any JSON value ``x``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dump"]

# Plain scalars: a safe first character, no ':' '#' or other indicators anywhere.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./ -]*\Z")
# YAML 1.1 reads these words (in any case) as booleans or null.
_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# YAML folds these line breaks inside quoted scalars, so they must be escaped too.
_BREAKS = frozenset({0x2028, 0x2029})


def _printable(code: int) -> bool:
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000) and code not in _BREAKS


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if _printable(code):
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _string(text: str) -> str:
    if _PLAIN.match(text) and not text.endswith(" ") and text.lower() not in _WORDS:
        return text
    return '"' + "".join(_escape(char) for char in text) + '"'


def _float(value: float) -> str:
    # YAML 1.1 readers (PyYAML) need a dot in the mantissa: 1e-05 would be a string.
    text = repr(value)
    mantissa, marker, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if marker and "." not in mantissa else text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, Mapping):
        return "{}"  # only empty ones get here
    if isinstance(value, list | tuple):
        return "[]"
    return _string(str(value))


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple) and len(value) > 0


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            if _is_block(item):
                out.append(f"{pad}{_string(str(key))}:")
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{pad}{_string(str(key))}: {_scalar(item)}")
    elif isinstance(value, list | tuple) and value:
        for item in value:
            if _is_block(item):
                nested = _lines(item, indent + 2)
                out.append(f"{pad}- {nested[0][indent + 2:]}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_scalar(item)}")
    else:
        out.append(pad + _scalar(value))
    return out


def dump(data: Any) -> str:
    """Render JSON data (dicts, lists, strings, numbers, booleans, ``None``) as YAML.

    Args:
        data: The data.

    Returns:
        A YAML document, ending with a newline.
    """
    return "\n".join(_lines(data, 0)) + "\n"
