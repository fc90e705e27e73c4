"""``-o table``: a readable column table for a list of objects.

Columns come from the data itself: keys whose values can be shown in a cell, the
ones in :data:`PREFERRED_COLUMNS` first (in that order), then the others in the
order the server sent them, at most :data:`MAX_COLUMNS`. A single object becomes a
key/value table; a list of plain values one value per line. A page of results, an
object whose one list holds the objects beside plain values (``events query``: ``count``,
``events``, ``next_uri``...), is shown as the table of that list followed by the plain
values. An empty list is said to be empty, so a table never prints nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["EMPTY", "MAX_COLUMNS", "PREFERRED_COLUMNS", "render"]

# Identity first, then state, then placement: what a person scans for.
PREFERRED_COLUMNS = (
    "system_id", "id", "hostname", "name", "fqdn", "status_name", "power_state", "owner",
    "zone", "pool", "osystem", "distro_series", "architecture", "cpu_count", "memory",
    "cidr", "vid", "ip", "mac_address", "type", "username", "email", "description",
)
HIDDEN_COLUMNS = frozenset({"resource_uri"})  # API plumbing, never useful to read
MAX_COLUMNS = 8
MAX_CELL = 40
_MAX_NESTING = 8  # lists in lists shown in a cell


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _showable(value: Any, depth: int = 0) -> bool:
    if isinstance(value, Mapping):
        return "name" in value  # a nested object (zone, pool) is shown by its name
    if isinstance(value, list):
        # A server's list nested hundreds deep is not a cell: stop before the stack does.
        return depth < _MAX_NESTING and all(_is_scalar(item) or _showable(item, depth + 1)
                                            for item in value)
    return _is_scalar(value)


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Mapping) and "name" in value:
        text = _cell(value["name"])
    elif isinstance(value, list):
        text = ", ".join(_cell(item) for item in value[:MAX_CELL])
    elif _is_scalar(value):
        text = str(value)
    else:
        try:
            text = json.dumps(value, separators=(",", ":"))
        except (RecursionError, ValueError, TypeError):  # deeper than json's stack
            text = "…"
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def choose_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Pick the columns for a list of objects.

    Args:
        rows: The objects.

    Returns:
        Column names, preferred ones first, at most :data:`MAX_COLUMNS`.
    """
    found: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key not in HIDDEN_COLUMNS and _showable(value):
                found.setdefault(key)
    preferred = [key for key in PREFERRED_COLUMNS if key in found]
    others = [key for key in found if key not in preferred]
    return (preferred + others)[:MAX_COLUMNS]


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *rows]
    )
    return "".join(line.rstrip() + "\n" for line in lines)


EMPTY = "(no items)\n"


def _page(data: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    # The one list of objects in an object whose other values are plain, if any.
    lists = [(key, value) for key, value in data.items() if isinstance(value, list)]
    if len(lists) != 1 or not all(_is_scalar(v) for k, v in data.items() if k != lists[0][0]):
        return None
    key, items = lists[0]
    return (key, items) if all(isinstance(item, Mapping) for item in items) else None


def render(data: Any) -> str:
    """Render JSON data as a table.

    Args:
        data: A list of objects (a table), a page of them (see the module), an object
            (key/value rows), a list of plain values (one per line) or a plain value.

    Returns:
        The text, ending with a newline (:data:`EMPTY` for an empty list).
    """
    if isinstance(data, Mapping):
        page = _page(data)
        if page is not None:
            key, items = page
            rest = "".join(f"{k}: {_cell(v)}\n" for k, v in data.items() if k != key)
            return render(items) + (f"\n{rest}" if rest else "")
        return _grid(["key", "value"], [[str(k), _cell(v)] for k, v in data.items()])
    if isinstance(data, list) and not data:
        return EMPTY
    if isinstance(data, list) and data and all(isinstance(row, Mapping) for row in data):
        columns = choose_columns(data)
        return _grid(columns, [[_cell(row.get(c)) for c in columns] for row in data])
    if isinstance(data, list):
        return "".join(_cell(item) + "\n" for item in data)
    return _cell(data) + "\n"
