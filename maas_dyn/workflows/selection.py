"""Selecting machines by filters without ever selecting more than was asked for.

MAAS's ``machines read`` ignores a filter it does not know, so a misspelt key
(``statsu=ready``) selects every machine, and a bulk power-off then reaches all of them.
Two checks stand between a filter and an action:

1. **Before anything is sent**, every key must be one the server's own description
   documents for ``<collection> read``, or one whose effect can be checked on the
   returned objects (a row of :data:`CHECKS`). Anything else raises
   :class:`~maas_dyn.errors.InvalidParametersError` with the closest valid names.
2. **After the read**, every returned object is checked against every filter that
   :data:`CHECKS` can read from it. Objects that do not match mean the server ignored or
   read a filter differently; :class:`~maas_dyn.errors.UnsafeSelectionError` is raised and
   nothing is done. A key the description does not document is accepted only when this
   check can be made on every returned object.

The checks are data: a row names the fields of a returned object that a filter is about
and how values compare (``any`` of the values, ``all`` of them present, ``none`` of them,
or ``at least``). A filter a newer server documents works without a row (the server is
trusted for it, as its description says it knows it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from maas_dyn._dynamic import closest
from maas_dyn.errors import InvalidParametersError, UnknownHandlerError, UnsafeSelectionError
from maas_dyn.maas.docparse import parse_action_doc

__all__ = ["CHECKS", "FilterCheck", "check_filter_names", "check_selection", "filter_pairs"]

Mode = Literal["any", "all", "none", "gte"]


def _names(value: Any, key: str = "name") -> list[str] | None:
    # A nested object rendered as {"name": ...} (zone, pool, domain) or a plain string.
    if isinstance(value, Mapping):
        value = value.get(key)
    return None if value is None else [str(value)]


def _field(name: str) -> Callable[[Mapping[str, Any]], list[str] | None]:
    def read(node: Mapping[str, Any]) -> list[str] | None:
        value = node.get(name)
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        return [str(value)]

    return read


def _nested(name: str) -> Callable[[Mapping[str, Any]], list[str] | None]:
    return lambda node: _names(node.get(name)) if name in node else None


def _hostnames(node: Mapping[str, Any]) -> list[str] | None:
    if "hostname" not in node:
        return None
    return [str(node["hostname"]), str(node.get("fqdn") or node["hostname"])]


def _macs(node: Mapping[str, Any]) -> list[str] | None:
    interfaces = node.get("interface_set")
    if not isinstance(interfaces, list):
        return None
    return [str(i.get("mac_address", "")).lower() for i in interfaces if isinstance(i, Mapping)]


# MAAS's status filter takes the short names of NODE_STATUS; these three are the only ones
# whose short name is not the display name in snake case.
_STATUS_SHORT_NAMES = {
    "releasing failed": "failed_releasing",
    "failed to enter rescue mode": "failed_entering_rescue_mode",
    "failed to exit rescue mode": "failed_exiting_rescue_mode",
}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _snake(text: str) -> str:
    return _NOT_WORD.sub("_", text.strip().lower()).strip("_")


def _status(node: Mapping[str, Any]) -> list[str] | None:
    name = node.get("status_name")
    if name is None:
        return None
    text = str(name)
    return [_STATUS_SHORT_NAMES.get(text.lower(), _snake(text))]


@dataclass(frozen=True)
class FilterCheck:
    """How to check one filter on a returned object.

    Attributes:
        read: Returns the object's values the filter is about, or ``None`` when the
            object does not carry them (the check cannot be made).
        mode: ``any``: one of the object's values equals one of the filter's;
            ``all``: every filter value is among the object's; ``none``: no filter value
            is; ``gte``: the object's number is at least every filter value.
        normalise: Applied to filter values before comparing.
    """

    read: Callable[[Mapping[str, Any]], list[str] | None]
    mode: Mode = "any"
    normalise: Callable[[str], str] = str


# Filter key -> how a returned machine shows it honoured. Keys of MAAS's read forms.
CHECKS: Mapping[str, FilterCheck] = {
    "hostname": FilterCheck(_hostnames),
    "id": FilterCheck(_field("system_id")),
    "agent_name": FilterCheck(_field("agent_name")),
    "status": FilterCheck(_status, normalise=_snake),
    "zone": FilterCheck(_nested("zone")),
    "pool": FilterCheck(_nested("pool")),
    "domain": FilterCheck(_nested("domain")),
    "tags": FilterCheck(_field("tag_names"), mode="all"),
    "not_tags": FilterCheck(_field("tag_names"), mode="none"),
    "mac_address": FilterCheck(_macs, normalise=str.lower),
    "cpu_count": FilterCheck(_field("cpu_count"), mode="gte"),
    "mem": FilterCheck(_field("memory"), mode="gte"),
}


def filter_pairs(filters: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
                 ) -> list[tuple[str, str]]:
    """Turn filters given as a mapping (a list value repeats the key) or pairs into pairs.

    Args:
        filters: ``{"tags": "k8s", "zone": ["a", "b"]}`` or ``[("tags", "k8s"), ...]``.

    Returns:
        ``(key, value)`` pairs, in order.
    """
    if not isinstance(filters, Mapping):
        return [(str(key), str(value)) for key, value in filters]
    pairs: list[tuple[str, str]] = []
    for key, value in filters.items():
        values = [value] if isinstance(value, str) else list(value)
        pairs += [(key, str(item)) for item in values]
    return pairs


def documented_filters(description: Any, collection: str = "machines") -> list[str]:
    """Return the filter names a server's description documents for ``COLLECTION read``.

    Args:
        description: A :class:`~maas_dyn.maas.describe.Description`.
        collection: The collection handler, e.g. ``"machines"``.

    Returns:
        The documented parameter names, in the order the doc lists them.

    Raises:
        UnknownHandlerError: The server has no such collection or it cannot be read.
    """
    handler = description.handler(collection)
    action = handler.action("read") if handler is not None else None
    if handler is None or action is None:
        raise UnknownHandlerError(f"this server has no {collection!r} handler with a read "
                                  "action to select by filters")
    doc = parse_action_doc(action.doc)
    return [name for name, param in doc.params.items()
            if name not in handler.params and (param.text or param.type_text)]


def check_filter_names(description: Any, filters: Iterable[tuple[str, str]],
                       collection: str = "machines") -> None:
    """Refuse filter keys the server would silently ignore (before anything is sent).

    Args:
        description: The server's description.
        filters: ``(key, value)`` pairs.
        collection: The collection the filters select from.

    Raises:
        InvalidParametersError: A key is neither documented for ``COLLECTION read`` nor
            checkable on the results; the message names the closest valid keys.
    """
    documented = documented_filters(description, collection)
    known = [*documented, *(key for key in CHECKS if key not in documented)]
    errors: dict[str, list[str]] = {}
    for key, _ in filters:
        if key not in known and key not in errors:
            hint = closest(key, known)
            errors[key] = [f"unknown filter {key!r}"
                           + (f"; did you mean {', '.join(hint)}?" if hint else "")]
    if errors:
        first = next(iter(errors.values()))[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidParametersError(
            f"{first}{more}; `{collection} read` would ignore it and select every "
            f"machine, so nothing was sent. Filters this server knows: {', '.join(known)}",
            errors=errors)


def _matches(check: FilterCheck, have: list[str], wanted: list[str]) -> bool:
    values = [check.normalise(value) for value in wanted]
    if check.mode == "gte":
        try:
            return all(float(have[0]) >= float(value) for value in values) if have else False
        except ValueError:
            return False
    present = set(have)
    if check.mode == "all":
        return all(value in present for value in values)
    if check.mode == "none":
        return not any(value in present for value in values)
    return any(value in present for value in values)


def _label(node: Mapping[str, Any]) -> str:
    return str(node.get("hostname") or node.get("system_id") or "?")


def check_selection(description: Any, filters: Iterable[tuple[str, str]],
                    found: Sequence[Mapping[str, Any]], collection: str = "machines") -> None:
    """Check that every object the server returned matches the filters it was asked for.

    Args:
        description: The server's description (which filters it documents).
        filters: The ``(key, value)`` pairs sent.
        found: What ``COLLECTION read`` returned.
        collection: The collection read.

    Raises:
        UnsafeSelectionError: An object does not match a filter (the server ignored or
            read it differently), or an undocumented filter cannot be checked on an
            object. Nothing should be done with the selection.
    """
    documented = set(documented_filters(description, collection))
    wanted: dict[str, list[str]] = {}
    for key, value in filters:
        wanted.setdefault(key, []).append(value)
    for key, values in wanted.items():
        check = CHECKS.get(key)
        if check is None:
            continue  # documented (check_filter_names ran): the server is trusted for it
        bad: list[str] = []
        for node in found:
            have = check.read(node)
            if have is None:
                if key in documented:
                    continue
                raise UnsafeSelectionError(
                    f"cannot confirm that the server applied {key}=...: {_label(node)} "
                    f"carries no field to check it by, and the server does not document "
                    f"{key!r} for `{collection} read`; nothing was done", filters=wanted)
            if not _matches(check, have, values):
                bad.append(_label(node))
        if bad:
            shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            given = ",".join(f"{key}={value}" for value in values)
            raise UnsafeSelectionError(
                f"the server returned {len(found)} {collection}, {len(bad)} of which do not "
                f"match {given} ({shown}): it ignored or read that filter differently; "
                f"nothing was done", filters=wanted)
