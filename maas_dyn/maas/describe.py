"""The describe document: validation, hash, and the handler/action model built from it.

``GET /MAAS/api/2.0/describe/`` returns ``{"doc", "hash", "resources", "handlers"}``.
Each resource has an ``auth`` handler (what a logged-in user calls) and/or an ``anon``
one. This module turns that into :class:`HandlerSpec` and :class:`ActionSpec` objects
named like the official CLI, keeping the actions the official CLI loses: anonymous-only
actions (sent unsigned) and actions whose names repeat in old releases.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from maas_dyn.errors import DescriptionError
from maas_dyn.maas.docparse import parse_action_doc
from maas_dyn.maas.naming import (
    action_cli_name,
    cli_to_python,
    handler_cli_name,
    unique_action_name,
)
from maas_dyn.maas.openapi import ActionOverlay, Overlay

__all__ = ["RAW_BODY_RULES", "ActionSpec", "Description", "HandlerSpec", "compute_hash"]

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})


class ActionSpec(NamedTuple):
    """One action of a handler.

    Attributes:
        name: Python method name (``power_parameters``).
        cli_name: Official CLI name (``power-parameters``).
        wire_name: The action's name in the document.
        method: HTTP method.
        op: The ``op`` query value, or ``None`` for RESTful actions.
        restful: Whether the action is RESTful (read/create/update/delete).
        unsigned: Whether only the anonymous handler of a resource that also has an
            authenticated one offers it; such actions are sent unsigned, since a signed
            request is routed to the authenticated handler, which lacks them.
        doc: The action's raw doc text (with the parameters only the anonymous side
            documents appended, when both sides have the action).
        raw_body: Whether the action takes the request body itself (a file chunk), not
            form fields (see :data:`RAW_BODY_RULES`).
    """

    name: str
    cli_name: str
    wire_name: str
    method: str
    op: str | None
    restful: bool
    unsigned: bool
    doc: str
    raw_body: bool = False


# An action takes its body raw when it writes (PUT/POST), documents no parameter other
# than its path placeholders, and its summary matches one of these: MAAS 3.8's
# `boot-resource-file-upload update` ("Upload chunk of boot resource file.") reads
# request.body as an image chunk, and form encoding would corrupt it.
RAW_BODY_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bupload(s|ing)?\b.*\b(chunk|data|content|file|image)\b", re.IGNORECASE),
)


class HandlerSpec:
    """One handler (resource) of the API.

    Its actions are named on first use: a client touches a few handlers of ~100.

    Args:
        name: Python attribute name (``boot_resources``).
        cli_name: Official CLI name (``boot-resources``).
        resource: The resource's name in the document (``BootResourcesHandler``).
        path: Path template, e.g. ``/MAAS/api/2.0/machines/{system_id}/``.
        params: Path placeholders, in order.
        doc: The handler's doc text.
        sides: The resource's validated ``auth`` and ``anon`` handlers (either may be
            ``None``), from which the actions are built.
    """

    __slots__ = ("_actions", "_sides", "cli_name", "doc", "name", "overlay", "params", "path",
                 "resource")

    def __init__(
        self,
        name: str,
        *,
        cli_name: str,
        resource: str,
        path: str,
        params: tuple[str, ...],
        doc: str,
        sides: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    ):
        self.name = name
        self.cli_name = cli_name
        self.resource = resource
        self.path = path
        self.params = params
        self.doc = doc
        self._sides = sides
        self._actions: dict[str, ActionSpec] | None = None
        # The region's OpenAPI additions (MAAS 3.3 on), set by Description.apply_overlay.
        self.overlay: Overlay | None = None

    @property
    def actions(self) -> Mapping[str, ActionSpec]:
        """The handler's actions by Python name (built once)."""
        if self._actions is None:
            self._actions = _actions(*self._sides)
        return self._actions

    def action(self, name: str) -> ActionSpec | None:
        """Find an action by its Python, CLI or document name.

        Args:
            name: Any of the action's names.

        Returns:
            The action, or ``None``.
        """
        found = self.actions.get(name)
        if found is None:
            found = next(
                (a for a in self.actions.values() if name in (a.cli_name, a.wire_name)), None
            )
        return found

    def action_overlay(self, action: ActionSpec) -> ActionOverlay | None:
        """Return what the region's OpenAPI document adds to one of these actions.

        Args:
            action: An action of this handler.

        Returns:
            The additions, or ``None`` (no overlay, or the action is not in it).
        """
        if self.overlay is None:
            return None
        return self.overlay.lookup(self.path, action.method, action.op)

    def __repr__(self) -> str:
        return f"<HandlerSpec {self.cli_name} {self.path}>"


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple((key, _canonical(item)) for key, item in sorted(value.items()))
    if isinstance(value, list | tuple):
        return tuple(sorted((_canonical(item) for item in value), key=_canonical_order))
    return value


def _canonical_order(value: Any) -> tuple[Any, ...]:
    # MAAS orders None < numbers and booleans < strings < sequences.
    if value is None:
        return (0,)
    if isinstance(value, bool | int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, tuple(_canonical_order(item) for item in value))


def _without_uris(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_uris(v) for k, v in value.items() if k != "uri"}
    if isinstance(value, list):
        return [_without_uris(item) for item in value]
    return value


def compute_hash(document: Mapping[str, Any]) -> str:
    """Compute the hash MAAS sends as ``X-MAAS-API-Hash`` for a describe document.

    The document is taken without its ``hash`` and without every ``uri`` key, put in
    MAAS's canonical form (mappings as sorted pairs, lists sorted), dumped as JSON and
    hashed with SHA-1, exactly as ``maasserver.api.doc`` does.

    Args:
        document: A describe document (with its ``handlers`` key, as served).

    Returns:
        The SHA-1 hex digest.
    """
    body = {k: v for k, v in document.items() if k != "hash"}
    canonical = json.dumps(_canonical(_without_uris(body)))
    return hashlib.sha1(canonical.encode("ascii"), usedforsecurity=False).hexdigest()


def _known_method(method: Any) -> bool:
    # A list or object there is unhashable: a set lookup would raise TypeError.
    return isinstance(method, str) and method in _METHODS


def _action_ok(action: Any) -> bool:
    return (
        isinstance(action, Mapping)
        and isinstance(action.get("name"), str)
        and bool(action["name"])
        and _known_method(action.get("method"))
        and (action.get("op") is None or isinstance(action["op"], str))
        and (action.get("doc") is None or isinstance(action["doc"], str))
    )


def _action_problems(action: Any, where: str) -> list[str]:
    if not isinstance(action, Mapping):
        return [f"{where}: must be an object"]
    checks = [
        (isinstance(action.get("name"), str) and bool(action.get("name")), "'name' must be text"),
        (_known_method(action.get("method")),
         f"'method' must be one of {sorted(_METHODS)}, not {action.get('method')!r}"),
        (action.get("op") is None or isinstance(action.get("op"), str),
         "'op' must be text or null"),
        (action.get("doc") is None or isinstance(action.get("doc"), str),
         "'doc' must be text or null"),
    ]
    return [f"{where}: {what}" for ok, what in checks if not ok]


def _handler_problems(handler: Any, where: str) -> list[str]:
    if not isinstance(handler, Mapping):
        return [f"{where}: must be an object or null"]
    problems = []
    if not isinstance(handler.get("path"), str):
        problems.append(f"{where}: 'path' must be text")
    params = handler.get("params", [])
    if not (isinstance(params, list) and all(isinstance(p, str) for p in params)):
        problems.append(f"{where}: 'params' must be a list of names")
    actions = handler.get("actions")
    if not isinstance(actions, list):
        return [*problems, f"{where}: 'actions' must be a list"]
    for index, action in enumerate(actions):
        # Locations are only formatted for the rare bad action: this runs at every connect.
        if not _action_ok(action):
            problems += _action_problems(action, f"{where}.actions[{index}]")
    return problems


def _resource_problems(resource: Any, where: str) -> list[str]:
    if not isinstance(resource, Mapping):
        return [f"{where}: must be an object"]
    problems = [] if isinstance(resource.get("name"), str) else [f"{where}: 'name' must be text"]
    if resource.get("auth") is None and resource.get("anon") is None:
        problems.append(f"{where}: has neither auth nor anon")
    for side in ("auth", "anon"):
        if resource.get(side) is not None:
            problems += _handler_problems(resource[side], f"{where}.{side}")
    return problems


def _resources(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        raise DescriptionError(
            f"a describe document is a JSON object, not {type(document).__name__}; "
            "check that the URL points at a MAAS region (…/MAAS/)"
        )
    resources = document.get("resources")
    if resources is None and isinstance(document.get("handlers"), list):
        # Documents before resources existed list handlers only: each is an auth handler.
        resources = [
            {"name": h.get("name"), "auth": h, "anon": None} if isinstance(h, Mapping) else h
            for h in document["handlers"]
        ]
    if not isinstance(resources, list):
        raise DescriptionError(
            "the describe document has no 'resources' list; it is not a MAAS API description"
        )
    problems = [
        problem
        for index, resource in enumerate(resources)
        for problem in _resource_problems(resource, f"resources[{index}]")
    ]
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DescriptionError(f"malformed describe document: {shown}{more}")
    return resources


def _merged_doc(auth_doc: str, anon_doc: str) -> str:
    # An action both sides offer is documented by the authenticated side; parameters
    # only anonymous callers' doc names (1.9 `nodes new` boot_type, 2.x `machines create`
    # power_parameters_{param}) are still accepted, so they are documented too.
    if not anon_doc or anon_doc == auth_doc:
        return auth_doc
    mine = parse_action_doc(auth_doc).params
    extra = [param for name, param in parse_action_doc(anon_doc).params.items()
             if name not in mine]
    lines = []
    for param in extra:
        lines.append(f":param {param.name}: {param.text}".rstrip())
        if param.type_text:
            lines.append(f":type {param.name}: {param.type_text}")
    return auth_doc.rstrip() + "\n\n" + "\n".join(lines) + "\n" if lines else auth_doc


def _raw_body(action: Mapping[str, Any], doc: str) -> bool:
    if action["method"] not in ("PUT", "POST") or not any(
            rule.search(doc[:300]) for rule in RAW_BODY_RULES):
        return False  # the cheap test first: most actions are not uploads
    parsed = parse_action_doc(doc)
    if any("{" not in name for name in parsed.params):
        return False
    return any(rule.search(parsed.summary) for rule in RAW_BODY_RULES)


def _actions(
    auth: Mapping[str, Any] | None, anon: Mapping[str, Any] | None
) -> dict[str, ActionSpec]:
    sources: list[tuple[Mapping[str, Any], bool]] = []
    anon_docs = {a["name"]: a.get("doc") or "" for a in anon["actions"]} if anon else {}
    if auth is not None:
        sources += [(a, False) for a in auth["actions"]]
    if anon is not None:
        known = {a["name"] for a in auth["actions"]} if auth is not None else set()
        sources += [(a, auth is not None) for a in anon["actions"] if a["name"] not in known]
    # RESTful actions first so that they keep the plain name on a clash.
    sources.sort(key=lambda item: not item[0].get("restful", item[0].get("op") is None))
    taken: set[str] = set()
    actions: dict[str, ActionSpec] = {}
    for action, unsigned in sources:
        base = cli_to_python(action["name"].replace("_", "-"))
        name = unique_action_name(base, action["method"], taken)
        doc = action.get("doc") or ""
        if not unsigned:  # an action of the authenticated side (or of the only side)
            doc = _merged_doc(doc, anon_docs.get(action["name"], ""))
        actions[name] = ActionSpec(
            name=name,
            cli_name=action_cli_name(name),
            wire_name=action["name"],
            method=action["method"],
            op=action.get("op"),
            restful=bool(action.get("restful", action.get("op") is None)),
            unsigned=unsigned,
            doc=doc,
            raw_body=_raw_body(action, doc),
        )
    return actions


class Description:
    """A validated describe document and the handlers built from it.

    Args:
        document: The parsed JSON document.
        reserved: Attribute names handlers must not take (the client's own).

    The document itself is not kept: half of it is the backward-compatible
    ``handlers`` list, a copy of the resources, and a client lives for hours.

    Attributes:
        hash: The document's ``hash`` field (``""`` if it has none).
        handlers: Handlers by Python name, sorted.
        overlay: The region's v2 OpenAPI additions (see :meth:`apply_overlay`), or
            ``None``: regions before MAAS 3.3 serve no OpenAPI document.

    Raises:
        DescriptionError: The document is not a usable describe document; the message
            lists the problems with their locations.
    """

    def __init__(self, document: Any, reserved: Iterable[str] = ()):
        resources = _resources(document)
        raw_hash = document.get("hash")
        self.hash = raw_hash if isinstance(raw_hash, str) else ""
        taken = frozenset(reserved)
        handlers: dict[str, HandlerSpec] = {}
        for resource in resources:
            auth, anon = resource.get("auth"), resource.get("anon")
            main = auth if auth is not None else anon
            assert main is not None  # guaranteed by _resources
            cli_name = handler_cli_name(resource["name"])
            name = base = cli_to_python(cli_name, taken)
            for counter in range(2, len(resources) + 2):
                if name not in handlers:
                    break
                name = f"{base}_{counter}"
            handlers[name] = HandlerSpec(
                name=name,
                cli_name=cli_name,
                resource=resource["name"],
                path=main["path"],
                params=tuple(main.get("params", ())),
                doc=main.get("doc") or "",
                sides=(auth, anon),
            )
        self.handlers: dict[str, HandlerSpec] = dict(sorted(handlers.items()))
        self.overlay: Overlay | None = None

    def apply_overlay(self, overlay: Overlay | None) -> None:
        """Merge a region's OpenAPI additions into every handler's actions.

        Describe stays the source of names, paths and parameters; the overlay adds
        required flags, types and the per-status answers. Call before the handlers'
        signatures and docstrings are first rendered (they are computed once).

        Args:
            overlay: The additions, or ``None`` for none.
        """
        self.overlay = overlay
        for handler in self.handlers.values():
            handler.overlay = overlay

    def handler(self, name: str) -> HandlerSpec | None:
        """Find a handler by its Python, CLI or resource name.

        Args:
            name: ``boot_resources``, ``boot-resources`` or ``BootResourcesHandler``.

        Returns:
            The handler, or ``None``.
        """
        found = self.handlers.get(name)
        if found is None:
            found = next(
                (h for h in self.handlers.values() if name in (h.cli_name, h.resource)), None
            )
        return found

    def __repr__(self) -> str:
        return f"<Description hash={self.hash[:12]} handlers={len(self.handlers)}>"
