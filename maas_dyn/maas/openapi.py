"""The v2 OpenAPI overlay: types, required flags and per-status answers from ``openapi.yaml``.

From MAAS 3.3 a region also serves ``/MAAS/api/2.0/openapi.yaml``
(``maasserver/api/doc_oapi.py``, media type ``application/openapi+yaml``), generated from
the same handlers as describe. The describe document stays the source of names, paths and
the CLI grammar (so requests are the official CLI's); this module only reads, per action,
what describe lacks: which parameters are required, their types, the text of the success
answer and one text per documented error status.

The overlay is kept in a compact form (:meth:`Overlay.to_compact`), a small JSON object
cached next to the description under the same API hash, so a warm connect does not fetch
the OpenAPI document again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from maas_dyn._optional import optional_module

__all__ = [
    "MEDIA_TYPE",
    "OPENAPI_NAME",
    "ActionOverlay",
    "Overlay",
    "parse_document",
    "type_problem",
]

_log = logging.getLogger("maas_dyn.maas")

# Served next to describe: /MAAS/api/2.0/openapi.yaml.
OPENAPI_NAME = "openapi.yaml"
MEDIA_TYPE = "application/openapi+yaml"

# doc_oapi.py names an operation's path "<handler path>op-<op>" for non-RESTful actions;
# handler paths without a trailing slash give "/scripts/{name}op-download".
_OP_SUFFIX = re.compile(r"^(?P<path>.*?[/}])op-(?P<op>[^/]+)$")
# Describe paths carry the API prefix (/MAAS/api/2.0); OpenAPI paths are relative to it.
_API_PREFIX = re.compile(r"^.*?/api/[^/]+(?=/)")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_METHODS = frozenset({"get", "post", "put", "delete"})
# Statuses whose answer is the action's result (its ``Returns:`` text); the others raise.
_SUCCESS = range(200, 300)


class ActionOverlay(NamedTuple):
    """What the OpenAPI document adds to one action.

    Attributes:
        required: Wire names of the parameters it marks required (path ones excluded).
        types: Wire name -> OpenAPI type (``string``, ``integer``, ``boolean``, ``object``).
        returns: The success answer's description, in the server's words.
        raises: ``(status, description)`` per documented error status, ascending.
    """

    required: frozenset[str] = frozenset()
    types: Mapping[str, str] = {}
    returns: str = ""
    raises: tuple[tuple[int, str], ...] = ()

    def raised_text(self, status: int) -> str:
        """Return the server's description of an error status, or ``""``.

        Args:
            status: The HTTP status of an error answer.

        Returns:
            The documented text.
        """
        return next((text for code, text in self.raises if code == status), "")


def _key(method: str, path: str, op: str | None) -> str:
    # Placeholders are compared as "{}": the name a path gives them is the handler's.
    relative = _PLACEHOLDER.sub("{}", _API_PREFIX.sub("", path, count=1))
    return f"{method.upper()} {relative}" + (f"?op={op}" if op else "")


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _operation(operation: Mapping[str, Any], path_level: list[Any]) -> ActionOverlay:
    required: set[str] = set()
    types: dict[str, str] = {}
    parameters = [*path_level, *(operation.get("parameters") or [])]
    for parameter in parameters:
        if not isinstance(parameter, Mapping) or parameter.get("in") == "path":
            continue
        name = parameter.get("name")
        if not isinstance(name, str):
            continue
        schema = parameter.get("schema") or {}
        if isinstance(schema, Mapping) and isinstance(schema.get("type"), str):
            types[name] = schema["type"]
        if parameter.get("required") is True:
            required.add(name)
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in content.values() if isinstance(content, Mapping) else ():
        schema = media.get("schema") if isinstance(media, Mapping) else None
        if not isinstance(schema, Mapping):
            continue
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, Mapping) and isinstance(prop.get("type"), str):
                types[name] = prop["type"]
        required |= {name for name in schema.get("required") or () if isinstance(name, str)}
    returns: list[str] = []
    raises: list[tuple[int, str]] = []
    for status, answer in sorted((operation.get("responses") or {}).items(),
                                 key=lambda item: str(item[0])):
        text = _text(answer.get("description")) if isinstance(answer, Mapping) else ""
        # A bare status ("204") as description says nothing the generic text does not.
        if not str(status).isdigit() or not text or text.isdigit():
            continue
        if int(status) in _SUCCESS:
            returns.append(text)
        else:
            raises.append((int(status), text))
    return ActionOverlay(frozenset(required), types, " ".join(returns), tuple(raises))


class Overlay:
    """The per-action additions of one region's OpenAPI document.

    Args:
        actions: Compact keys (``"POST /machines/{}/?op=deploy"``) -> additions.
    """

    __slots__ = ("actions",)

    def __init__(self, actions: Mapping[str, ActionOverlay]):
        self.actions = dict(actions)

    @classmethod
    def from_openapi(cls, document: Any) -> Overlay:
        """Read an OpenAPI 3 document of the v2 API (as ``doc_oapi.py`` builds it).

        Operations that are not objects, or not GET/POST/PUT/DELETE, are skipped: an
        overlay only adds to describe, it never makes a description unusable.

        Args:
            document: The parsed document.

        Returns:
            The overlay (empty if the document has no ``paths``).
        """
        actions: dict[str, ActionOverlay] = {}
        paths = document.get("paths") if isinstance(document, Mapping) else None
        for path, item in (paths or {}).items() if isinstance(paths, Mapping) else ():
            if not isinstance(item, Mapping) or not isinstance(path, str):
                continue
            found = _OP_SUFFIX.match(path)
            base, op = (found["path"], found["op"]) if found else (path, None)
            shared = item.get("parameters")
            shared = shared if isinstance(shared, list) else []
            for method, operation in item.items():
                if method in _METHODS and isinstance(operation, Mapping):
                    actions[_key(method, base, op)] = _operation(operation, shared)
        return cls(actions)

    def lookup(self, path: str, method: str, op: str | None) -> ActionOverlay | None:
        """Find an action's additions.

        Args:
            path: The handler's describe path (``/MAAS/api/2.0/machines/{system_id}/``).
            method: The action's HTTP method.
            op: The action's ``op``, or ``None``.

        Returns:
            The additions, or ``None`` when the document does not describe the action.
        """
        return self.actions.get(_key(method, path, op))

    def to_compact(self) -> bytes:
        """Serialise for the description cache (a few hundred kB less than the source).

        Returns:
            JSON bytes that :meth:`from_compact` reads back.
        """
        return json.dumps({key: [sorted(a.required), dict(a.types), a.returns,
                                 [list(pair) for pair in a.raises]]
                           for key, a in self.actions.items()},
                          separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_compact(cls, raw: bytes) -> Overlay:
        """Read what :meth:`to_compact` wrote.

        Args:
            raw: The cached bytes.

        Returns:
            The overlay.

        Raises:
            ValueError: The bytes are not a compact overlay (a corrupt cache entry).
        """
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a cached overlay is a JSON object")
        return cls({key: ActionOverlay(frozenset(req), dict(types), returns,
                                       tuple((int(s), str(t)) for s, t in raises))
                    for key, (req, types, returns, raises) in data.items()})

    def __len__(self) -> int:
        return len(self.actions)

    def __repr__(self) -> str:
        return f"<Overlay actions={len(self.actions)}>"


# OpenAPI type -> (what the check accepts, how to say it). Values travel as form text, so
# text that reads as the type is accepted too (``"3"`` for an integer, ``"true"``).
_BOOLEAN_TEXT = frozenset({"true", "false", "1", "0", "yes", "no", "on", "off"})
_TYPE_CHECKS: dict[str, tuple[Any, str]] = {
    "integer": (lambda v: (isinstance(v, int) and not isinstance(v, bool))
                or (isinstance(v, str) and v.strip().lstrip("+-").isdigit()), "an integer"),
    "boolean": (lambda v: isinstance(v, bool) or v in (0, 1)
                or (isinstance(v, str) and v.strip().lower() in _BOOLEAN_TEXT), "a boolean"),
    "number": (lambda v: (isinstance(v, int | float) and not isinstance(v, bool))
               or (isinstance(v, str) and _is_number(v)), "a number"),
    # Text parameters also take numbers (sent as text) and files (uploads).
    "string": (lambda v: not isinstance(v, Mapping | set | type(None)), "text"),
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def type_problem(value: Any, openapi_type: str) -> str:
    """Say what is wrong with a value for a parameter of an OpenAPI type.

    Args:
        value: The value given (a list or tuple: each item, as a repeated parameter).
        openapi_type: The parameter's type in the document (unknown types pass).

    Returns:
        ``"'soon' is not an integer"``, or ``""`` when the value fits.
    """
    check = _TYPE_CHECKS.get(openapi_type)
    if check is None:
        return ""
    items = value if isinstance(value, list | tuple) else [value]
    bad = [item for item in items if not check[0](item)]
    return f"{bad[0]!r} is not {check[1]}" if bad else ""


def parse_document(raw: bytes) -> Any:
    """Parse an ``openapi.yaml`` body: JSON when it is JSON, else YAML with PyYAML.

    JSON is a subset of YAML and parses in a fraction of the time, so it is tried
    first. A region's real YAML needs PyYAML (installed by the ``record`` extra); without
    it the overlay is skipped, with a DEBUG log line, and the client works as before.

    Args:
        raw: The body.

    Returns:
        The parsed document, or ``None`` when it cannot be read.
    """
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        pass
    yaml = optional_module("record", "yaml")
    if yaml is None:
        _log.debug("skipping the OpenAPI overlay: reading YAML needs PyYAML "
                   "(pip install 'maas-dyn[record]')")
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
    try:
        return yaml.load(raw, Loader=loader)  # a safe loader, chosen above
    except (yaml.YAMLError, RecursionError) as exc:
        _log.debug("skipping the OpenAPI overlay: not YAML: %s", exc)
        return None
