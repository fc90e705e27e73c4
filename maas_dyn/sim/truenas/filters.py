r"""Query filters and options, with the semantics of the middleware's ``filter_list``.

Filters are ``[name, op, value]`` conditions, all of which must hold, or
``["OR", [branch, ...]]`` where a branch is one condition or a list of conditions that
must all hold. Names are dotted paths (``"state.name"``, ``"\\."`` escapes a dot, a
numeric part indexes a list, ``*`` matches any member of a list). Operators are the
table :data:`OPERATORS`; a ``C`` prefix makes one case-insensitive.

Options: ``select`` (names, dotted names that build nested objects, or
``[name, new_name]`` pairs), ``order_by`` (``-`` reverses, ``nulls_first:`` and
``nulls_last:`` place nulls), ``offset``, ``limit``, ``count``, ``get``, ``extra``.
As in the middleware, ``order_by`` keys are applied one after the other with a stable
sort, so the last key is the primary one.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import MatchNotFound

__all__ = ["OPERATORS", "filter_list", "validate_filters", "validate_options"]

MAX_FILTERS_DEPTH = 3
MAX_LIMIT = 10000
_NULLS_FIRST = "nulls_first:"
_NULLS_LAST = "nulls_last:"
_TIMESTAMP = ".$date"
_UNDEFINED = object()


def _not_none(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    # String and membership tests are false for a null field instead of raising.
    return lambda x, y: x is not None and test(x, y)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "~": lambda x, y: re.match(y, x or "") is not None,
    "in": lambda x, y: x in y,
    "nin": _not_none(lambda x, y: x not in y),
    "rin": _not_none(lambda x, y: y in x),
    "rnin": _not_none(lambda x, y: y not in x),
    "^": _not_none(lambda x, y: x.startswith(y)),
    "!^": _not_none(lambda x, y: not x.startswith(y)),
    "$": _not_none(lambda x, y: x.endswith(y)),
    "!$": _not_none(lambda x, y: not x.endswith(y)),
}

# Operators whose operands may be timestamps ("field.$date" against an ISO-8601 string).
_TIMESTAMP_OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})


def _casefold(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, (list, tuple)):
        return [item.casefold() for item in value]
    raise ValueError(f"{type(value)}: support for casefolding object type not implemented.")


def _split(path: str) -> tuple[str, str]:
    # Split off the first dotted component; "\." is a literal dot.
    head = ""
    while True:
        left, sep, right = path.partition(".")
        if not sep or not left.endswith("\\"):
            return head + left, right
        head += left[:-1] + "."
        path = right


def _lookup(obj: Any, path: str) -> tuple[Any, str | None]:
    """Resolve ``path``; returns (value, rest) where rest is set for a ``*`` wildcard."""
    rest = path
    current = obj
    while rest:
        key, rest = _split(rest)
        if isinstance(current, dict):
            current = current.get(key, _UNDEFINED)
        elif isinstance(current, (list, tuple)):
            if key == "*":
                return current, rest
            if not key.isdigit():
                raise ValueError(f"{key}: must be array index or wildcard character")
            index = int(key)
            current = current[index] if index < len(current) else None
        # Like the middleware, a scalar keeps its value for the rest of the path, which is
        # also how "field.$date" reaches a datetime.
    return current, None


def _get(obj: Any, path: str) -> Any:
    # Missing keys read as None, as in the middleware's ``get``.
    value, _ = _lookup(obj, path)
    return None if value is _UNDEFINED else value


def _operator_name(op: object) -> str:
    if not isinstance(op, str) or not op:
        raise ValueError(f"Invalid operation: {op}")
    name = op[1:] if op.startswith("C") else op
    if op == "C~":
        raise ValueError(f"Invalid case-insensitive operation: {op}")
    if name not in OPERATORS:
        raise ValueError(f"Invalid operation: {op}")
    return name


def _as_timestamp(value: Any) -> datetime:
    try:
        stamp = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value}: must be an ISO-8601 formatted timestamp string") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def validate_filters(filters: Iterable[Any], depth: int = 0) -> None:
    """Check filters the way the middleware's ``validate_filters`` does.

    Args:
        filters: The ``filters`` argument.
        depth: Nesting depth of ``OR`` branches (bounded by ``MAX_FILTERS_DEPTH``).

    Raises:
        ValueError: With the middleware's message.
    """
    if depth > MAX_FILTERS_DEPTH:
        raise ValueError("query-filters max recursion depth exceeded")
    for item in filters:
        if not isinstance(item, (list, tuple)) or len(item) not in (2, 3):
            raise ValueError(f"Invalid filter {item}")
        if len(item) == 2:
            op, branches = item
            if op != "OR":
                raise ValueError(f"Invalid operation: {op}")
            if not branches:
                raise ValueError("OR filter requires at least one branch.")
            for branch in branches:
                nested = branch if branch and isinstance(branch[0], list) else [branch]
                validate_filters(nested, depth + 1)
            continue
        name = _operator_name(item[1])
        stamped = [o for o in (item[0], item[2]) if isinstance(o, str) and o.endswith(_TIMESTAMP)]
        if stamped and name not in _TIMESTAMP_OPERATORS:
            raise ValueError(f"{name}: invalid timestamp operation.")
        if stamped:
            _as_timestamp(item[2] if stamped[0] == item[0] else item[0])


def validate_options(options: dict[str, Any]) -> None:
    """Check option combinations the way the middleware's ``validate_options`` does.

    Args:
        options: The ``options`` argument (defaults applied).

    Raises:
        ValueError: With the middleware's message.
    """
    single = "Invalid options combination. `get` implies a single result."
    if options.get("get") and (options.get("limit", 0) > 1 or options.get("offset")):
        raise ValueError(single)
    if options.get("limit", 0) > MAX_LIMIT:
        raise ValueError(f"Options limit must be between 1 and {MAX_LIMIT}")
    for selector in options.get("select", []):
        if isinstance(selector, list) and (
            len(selector) != 2 or not all(isinstance(part, str) for part in selector)
        ):
            raise ValueError(
                f"{selector}: A select as list may only contain two parameters: the name "
                "of the parameter being selected, and the name to which to assign it "
                "in resulting data."
            )


def _condition(entry: Any, name: str, op: str, value: Any) -> bool:
    if name.endswith(_TIMESTAMP):
        value = _as_timestamp(value)
    found, rest = _lookup(entry, name)
    if found is _UNDEFINED:
        return False
    if rest is not None:
        return any(_condition(member, rest, op, value) for member in found)
    if op.startswith("C"):
        return OPERATORS[op[1:]](_casefold(found), _casefold(value))
    return OPERATORS[op](found, value)


def _matches(entry: Any, item: Sequence[Any]) -> bool:
    if len(item) == 2:
        for branch in item[1]:
            conditions = branch if isinstance(branch[0], list) else [branch]
            if all(_matches(entry, condition) for condition in conditions):
                return True
        return False
    name, op, value = item
    return _condition(entry, name, op, value)


def _select(entry: dict[str, Any], select: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for selector in select:
        target, new_name = (selector[0], selector[1]) if isinstance(selector, list) else (
            selector, None)
        keys: list[str] = []
        current: Any = entry
        rest = target
        while rest and current is not _UNDEFINED:
            key, rest = _split(rest)
            if isinstance(current, (list, tuple)):
                raise ValueError("Selecting by list index is not supported")
            current = current.get(key, _UNDEFINED) if isinstance(current, dict) else _UNDEFINED
            keys.append(key)
        if current is _UNDEFINED:
            continue
        if new_name is not None:
            out[new_name] = current
            continue
        holder = out
        for key in keys[:-1]:
            holder = holder.setdefault(key, {})
        holder[keys[-1]] = current
    return out


def _order_key(order: str) -> tuple[str | None, str, bool]:
    # "nulls_first:-name" -> ("nulls_first:", "name", True)
    nulls = next((p for p in (_NULLS_FIRST, _NULLS_LAST) if order.startswith(p)), None)
    rest = order[len(nulls):] if nulls else order
    return nulls, rest.removeprefix("-"), rest.startswith("-")


def _order(entries: list[Any], order_by: Sequence[str]) -> list[Any]:
    for order in order_by:
        nulls, field, reverse = _order_key(order)

        def value(entry: Any, field: str = field) -> Any:
            return _get(entry, field)

        if nulls is None:
            entries = sorted(entries, key=value, reverse=reverse)
            continue
        empty = [e for e in entries if value(e) is None]
        filled = sorted((e for e in entries if value(e) is not None), key=value, reverse=reverse)
        entries = empty + filled if nulls == _NULLS_FIRST else filled + empty
    return entries


def filter_list(entries: Iterable[Any], filters: Sequence[Any] | None = None,
                options: dict[str, Any] | None = None) -> Any:
    """Apply query filters and options.

    Args:
        entries: Records (dicts).
        filters: The ``filters`` argument.
        options: The ``options`` argument.

    Returns:
        A list of records, one record (``get``) or a number (``count``).

    Raises:
        ValueError: Invalid filters or options.
        MatchNotFound: ``get`` was requested and nothing matched.
    """
    options = options or {}
    filters = filters or []
    validate_options(options)
    validate_filters(filters)
    select = options.get("select") or []
    rows = [entry for entry in entries if all(_matches(entry, item) for item in filters)]
    if select:
        rows = [_select(entry, select) for entry in rows]
    if options.get("count") is True:
        return len(rows)
    rows = _order(rows, options.get("order_by") or [])
    if options.get("get") is True:
        if not rows:
            raise MatchNotFound()
        return rows[0]
    offset = options.get("offset") or 0
    limit = options.get("limit") or 0
    rows = rows[offset:]
    return rows[:limit] if limit else rows
