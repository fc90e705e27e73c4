"""Handler classes: a :class:`~maas_dyn.maas.describe.Description` through the engine.

Each handler becomes a class made by :func:`maas_dyn._dynamic.build_namespace_class`,
named after its resource (``MachineHandler``), whose methods are its actions. What an
action's signature and docstring say is computed from its doc on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from maas_dyn._dynamic import (
    KEYWORD,
    POSITIONAL,
    Namespace,
    Operation,
    OperationDetails,
    Param,
    build_namespace_class,
    lazy_namespace,
    python_identifier,
)
from maas_dyn.maas.describe import ActionSpec, Description, HandlerSpec
from maas_dyn.maas.docparse import parse_action_doc
from maas_dyn.maas.openapi import ActionOverlay

__all__ = ["ActionOperation", "Handler", "build_handlers", "handler_class"]

# The server's ``:type`` text (lowercased) -> the annotation shown in signatures.
_ANNOTATIONS: dict[str, Any] = {
    "string": str,
    "unicode": str,
    "url string": str,
    "int": int,
    "integer": int,
    "positive integer": int,
    "boolean": bool,
    "bool": bool,
    "float": float,
}

# A parameter the server documents as repeatable takes a list too (one value per item):
# "This can be specified multiple times", "this parameter must be repeated", "list of".
_REPEATABLE = re.compile(
    r"specified multiple times|multiple times|(must|can|may) be repeated|"
    r"\brepeat(ed)?\b.*\beach\b|\ba list of\b|\blist\b of", re.IGNORECASE)


def _annotation(type_text: str, description: str) -> Any:
    base = _ANNOTATIONS.get(type_text.lower(), Any)
    if base is not Any and _REPEATABLE.search(description):
        return base | list[base]  # type: ignore[valid-type]  # built at run time
    return base


# ``Raises:`` section of every action: (HTTP status or None, error class, when). A status
# the region's OpenAPI document describes for the action is said in the server's words.
_RAISES: tuple[tuple[int | None, str, str], ...] = (
    (400, "BadRequestError", "HTTP 400, the server rejected a parameter (see ``field_errors``)."),
    (401, "UnauthorizedError", "HTTP 401, the API key was refused."),
    (403, "ForbiddenError", "HTTP 403, the user may not do this."),
    (404, "{not_found}", "HTTP 404, no such object."),
    (409, "ConflictError", "HTTP 409, the object is locked or busy."),
    (503, "ServiceUnavailableError", "HTTP 503, after retries allowed by the retry policy."),
    (None, "TransportError", "The server could not be reached or the connection broke."),
)
# Classes of documented statuses _RAISES does not list (maas_dyn.maas.response's table).
_OTHER_STATUS_CLASSES = {410: "GoneError", 504: "GatewayTimeoutError"}

# OpenAPI type -> (annotation, ``type_text``) for parameters describe leaves untyped.
_OPENAPI_TYPES: dict[str, tuple[Any, str]] = {
    "string": (str, "String"),
    "integer": (int, "Int"),
    "boolean": (bool, "Boolean"),
    "number": (float, "Float"),
    "object": (dict, "Object"),
}
_NOT_FOUND_CLASS = {"machine": "MachineNotFoundError"}

_RETURNS = (
    "The decoded response: JSON as Python objects, ``str`` for text, ``bytes`` otherwise. "
    "Status and headers are on ``client.last_response``."
)


class Handler(Namespace):
    """Base class of every generated MAAS handler class."""

    _kind = "handler"
    _spec: HandlerSpec


def _path_param(name: str, handler: HandlerSpec, documented: dict[str, Any],
                used: set[str]) -> Param:
    doc = documented.get(name)
    text = doc.text if doc is not None and doc.text else f"Path parameter of {handler.path}."
    # ``used`` grows as path parameters are named: a describe document listing the same
    # (or same-after-sanitising) name twice must not make a signature with duplicates.
    python_name = python_identifier(name, used)
    used.add(python_name)
    return Param(
        name=python_name,
        wire_name=name,
        kind=POSITIONAL,
        type_text="str",
        annotation=str | int,
        description=text,
        required=True,
    )


def action_details(handler: HandlerSpec, action: ActionSpec) -> OperationDetails:
    """Compute an action's parameters and docs from its doc text.

    Path parameters come first, as required positional parameters; every documented
    ``:param`` becomes an optional keyword parameter; undocumented keywords are
    accepted too, since MAAS docs are incomplete.

    Args:
        handler: The handler the action belongs to.
        action: The action.

    Returns:
        The details the engine renders into a signature and a docstring.
    """
    parsed = parse_action_doc(action.doc)
    overlay = handler.action_overlay(action)
    used = {"self", "kwargs"}
    params = [_path_param(name, handler, parsed.params, used) for name in handler.params]
    templated: list[str] = []
    for doc_param in parsed.params.values():
        if doc_param.name in handler.params:
            continue
        if not doc_param.text and not doc_param.type_text:
            continue
        if "{" in doc_param.name:
            templated.append(doc_param.name)
            continue
        name = python_identifier(doc_param.name, used)
        used.add(name)
        param = Param(
            name=name,
            wire_name=doc_param.name,
            kind=KEYWORD,
            type_text=doc_param.type_text,
            annotation=_annotation(doc_param.type_text, doc_param.text),
            description=doc_param.text,
            required=doc_param.required,
        )
        params.append(param if overlay is None else _overlaid(param, overlay))
    query = f"?op={action.op}" if action.op else ""
    placeholders = " ".join(p.upper() for p in handler.params)
    cli = " ".join(
        part for part in ("maas PROFILE", handler.cli_name, action.cli_name, placeholders,
                          "[key=value ...]") if part
    )
    notes = [("HTTP", f"{action.method} {handler.path}{query}"), ("CLI", cli)]
    if action.unsigned:
        notes.append(("Authentication", "None: only the anonymous handler offers this "
                                         "action, so it is sent unsigned."))
    if templated:
        notes.append(("Templated parameters", ", ".join(templated) + " (pass as **kwargs)."))
    not_found = _NOT_FOUND_CLASS.get(handler.cli_name, "NotFoundError")
    returns = parsed.returns or _RETURNS
    if overlay is not None and overlay.returns:
        returns = f"{overlay.returns}\n\n{_RETURNS}"
    return OperationDetails(
        summary=parsed.summary or f"{action.method} {handler.path}{query}",
        body=parsed.body,
        params=tuple(params),
        accepts_extra=True,
        returns=returns,
        raises=tuple((name.format(not_found=not_found), when)
                     for name, when in _raises(overlay)),
        notes=tuple(notes),
    )


def _overlaid(param: Param, overlay: ActionOverlay) -> Param:
    # Describe's own words win where it has them; the overlay fills what it lacks.
    required = param.required or param.wire_name in overlay.required
    openapi_type = overlay.types.get(param.wire_name)
    if openapi_type in _OPENAPI_TYPES and param.annotation is Any:
        annotation, type_text = _OPENAPI_TYPES[openapi_type]
        return param._replace(required=required, annotation=annotation,
                              type_text=param.type_text or type_text)
    return param._replace(required=required)


def _raises(overlay: ActionOverlay | None) -> list[tuple[str, str]]:
    documented = dict(overlay.raises) if overlay is not None else {}
    rows = []
    for status, name, generic in _RAISES:
        said = documented.pop(status, None) if status is not None else None
        rows.append((name, generic if said is None else f"HTTP {status}: {said}"))
    # Statuses only the server documents (410, 504...) come before TransportError.
    extra = [(_OTHER_STATUS_CLASSES.get(status, "MAASAPIError"), f"HTTP {status}: {text}")
             for status, text in sorted(documented.items())]
    return [*rows[:-1], *extra, rows[-1]]


def _handler_doc(handler: HandlerSpec) -> str:
    lines = [handler.doc.strip() or f"The {handler.resource} of the MAAS API.", ""]
    lines.append(f"Path: {handler.path}")
    if handler.params:
        lines.append(f"Path parameters: {', '.join(handler.params)}")
    lines += ["", "Actions:"]
    for action in handler.actions.values():
        summary = (action.doc.strip().splitlines() or [""])[0].strip()
        lines.append(f"    {action.name}: {summary or action.method}")
    return "\n".join(lines) + "\n"


class ActionOperation(Operation):
    """An action as an engine operation; its details come from its handler and doc."""

    __slots__ = ("handler",)

    def __init__(self, handler: HandlerSpec, action: ActionSpec):
        super().__init__(action.name, action.wire_name, payload=action)
        self.handler = handler

    def describe(self) -> OperationDetails:
        """Compute the action's parameters and docs (see :func:`action_details`)."""
        action: ActionSpec = self.payload
        return action_details(self.handler, action)


def handler_class(spec: HandlerSpec, *, asynchronous: bool = False,
                  module: str = "maas_dyn.maas.handlers") -> type[Handler]:
    """Build the class of one handler: a method per action.

    Args:
        spec: The handler.
        asynchronous: Make the methods coroutine functions (the async facade).
        module: ``__module__`` of the class.

    Returns:
        The class, named after the resource (``MachineHandler``).
    """
    cls = build_namespace_class(
        spec.resource,
        [ActionOperation(spec, action) for action in spec.actions.values()],
        partial(_handler_doc, spec),
        module=module,
        base=Handler,
        attributes={"_spec": spec},
        asynchronous=asynchronous,
    )
    return cls  # type: ignore[return-value]


def build_handlers(
    description: Description,
    invoke: Callable[[HandlerSpec, Operation, tuple[Any, ...], dict[str, Any]], Any],
    build_class: Callable[[HandlerSpec], type[Handler]] = handler_class,
) -> dict[str, Handler]:
    """Build one handler object per handler of a description.

    The objects exist at once (completion sees every handler); each one's class,
    with a method per action, is built the first time the handler is used.

    Args:
        description: The parsed description.
        invoke: The client's funnel; called with the handler spec, the operation and
            the call's arguments.
        build_class: Builds a handler's class (default :func:`handler_class`; the
            client adds resource readers, see :mod:`maas_dyn.maas.resources`).

    Returns:
        Handler objects by Python name.
    """
    return {
        spec.name: lazy_namespace(  # type: ignore[misc]
            partial(build_class, spec), partial(invoke, spec), spec.name
        )
        for spec in description.handlers.values()
    }
