"""Simple object kinds described as data.

Static routes, package repositories, SSL keys and notifications: each kind is a
table of fields (type, default, required, unique); reading parameters, validating and
rendering work the same for all of them.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.models import Record
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import ValidationFailed
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import REQUIRED, Form, invalid_choice

FieldKind = Literal["text", "bool", "int", "list", "json", "choice", "subnet", "user"]
Check = Callable[[State, dict[str, Any]], dict[str, list[str]]]


@dataclass(frozen=True)
class Field:
    """One field of a record kind.

    Attributes:
        name: Parameter and JSON name.
        kind: How the value is read and rendered.
        required: Whether creation needs it.
        default: Value when not given (copied, so lists and mappings are safe).
        choices: Accepted values of ``choice`` fields.
        unique: Whether two records may not share the value.
    """

    name: str
    kind: FieldKind = "text"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    unique: bool = False


def _no_problems(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    return {}


@dataclass(frozen=True)
class RecordKind:
    """A kind of simple object and the handlers that serve it.

    Attributes:
        key: Storage key in ``State.records``.
        collection: Name of the collection handler (read, create).
        item: Name of the item handler (read, update, delete).
        uri: URI segment, e.g. ``static-routes/``.
        model: Model name for 404 texts.
        fields: The fields, in rendering order.
        admin_writes: Whether creating, updating and deleting need a superuser.
        updatable: Whether the item handler has ``update``.
        per_user: Whether users only see their own records.
        check: Cross-field validation returning field errors.
    """

    key: str
    collection: str
    item: str
    uri: str
    model: str
    fields: tuple[Field, ...]
    admin_writes: bool = True
    updatable: bool = True
    per_user: bool = False
    check: Check = _no_problems


def _route_gateway(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    source = state.subnets[values["source"]]
    try:
        gateway = ipaddress.ip_address(values["gateway_ip"])
    except ValueError:
        return {"gateway_ip": ["Enter a valid IPv4 or IPv6 address."]}
    if gateway not in ipaddress.ip_network(source.cidr):
        return {"gateway_ip": ["Gateway IP must be in the source subnet."]}
    return {}


def _certificate(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    if "-----BEGIN CERTIFICATE-----" not in values["key"]:
        return {"key": ["Invalid SSL key."]}
    return {}


STATIC_ROUTES = RecordKind(
    "staticroute",
    "StaticRoutesHandler",
    "StaticRouteHandler",
    "static-routes/",
    "StaticRoute",
    (
        Field("source", "subnet", required=True),
        Field("destination", "subnet", required=True),
        Field("gateway_ip", required=True),
        Field("metric", "int", default=0),
    ),
    check=_route_gateway,
)
PACKAGE_REPOSITORIES = RecordKind(
    "packagerepository",
    "PackageRepositoriesHandler",
    "PackageRepositoryHandler",
    "package-repositories/",
    "PackageRepository",
    (
        Field("name", required=True, unique=True),
        Field("url", required=True),
        Field("distributions", "list", default=[]),
        Field("disabled_pockets", "list", default=[]),
        Field("disabled_components", "list", default=[]),
        Field("disable_sources", "bool", default=True),
        Field("components", "list", default=[]),
        Field("arches", "list", default=["amd64", "i386"]),
        Field("key", default=""),
        Field("enabled", "bool", default=True),
    ),
)
SSL_KEYS = RecordKind(
    "sslkey",
    "SSLKeysHandler",
    "SSLKeyHandler",
    "account/prefs/sslkeys/",
    "SSLKey",
    (Field("key", required=True),),
    admin_writes=False,
    updatable=False,
    per_user=True,
    check=_certificate,
)
NOTIFICATIONS = RecordKind(
    "notification",
    "NotificationsHandler",
    "NotificationHandler",
    "notifications/",
    "Notification",
    (
        Field("ident"),
        Field("user", "user"),
        Field("users", "bool", default=False),
        Field("admins", "bool", default=False),
        Field("message", required=True),
        Field("context", "json", default={}),
        Field("category", "choice", default="info",
              choices=("error", "warning", "success", "info")),
        Field("dismissable", "bool", default=True),
    ),
)
KINDS = (STATIC_ROUTES, PACKAGE_REPOSITORIES, SSL_KEYS, NOTIFICATIONS)


def add(state: State, kind: RecordKind, owner: str, **given: Any) -> Record:
    """Store a new record, filling in defaults.

    Args:
        state: The region.
        kind: Its kind.
        owner: Username of the creator.
        **given: Field values.

    Returns:
        The record.
    """
    values = {spec.name: copy.deepcopy(given.get(spec.name, spec.default)) for spec in kind.fields}
    record = Record(state.next_id(kind.key), owner, values)
    state.records.setdefault(kind.key, {})[record.id] = record
    return record


def read_fields(
    state: State, params: Params, kind: RecordKind, current: Record | None
) -> dict[str, Any]:
    """Validate request parameters into a record's values.

    Args:
        state: The region.
        params: Request parameters.
        kind: The kind.
        current: The record being updated, None when creating.

    Returns:
        The complete values.

    Raises:
        ValidationFailed: A field is missing or invalid.
    """
    form = Form(params)
    values: dict[str, Any] = {}
    for spec in kind.fields:
        if not params.has(spec.name):
            if current is not None:
                values[spec.name] = current.values[spec.name]
            elif spec.required:
                form.error(spec.name, REQUIRED)
            else:
                values[spec.name] = copy.deepcopy(spec.default)
            continue
        values[spec.name] = _READERS[spec.kind](state, form, spec)
        taken = spec.unique and any(
            r.values[spec.name] == values[spec.name] and r is not current
            for r in state.records.get(kind.key, {}).values()
        )
        if taken:
            form.error(spec.name, f"{kind.model} with this {spec.name.title()} already exists.")
    form.validate()
    problems = kind.check(state, values)
    if problems:
        raise ValidationFailed(problems)
    return values


def render_record(state: State, kind: RecordKind, record: Record) -> dict[str, Any]:
    """Render a record with MAAS's field names.

    Args:
        state: The region.
        kind: Its kind.
        record: The record.

    Returns:
        The JSON object.
    """
    rendered: dict[str, Any] = {"id": record.id}
    for spec in kind.fields:
        value = record.values[spec.name]
        if spec.kind == "subnet" and value in state.subnets:
            value = render.subnet(state, state.subnets[value])
        elif spec.kind == "user" and value in state.users:
            value = render.user(state, state.users[value])
        rendered[spec.name] = value
    rendered["resource_uri"] = f"{state.api_prefix}{kind.uri}{record.id}/"
    return rendered


def _read_text(state: State, form: Form, spec: Field) -> Any:
    return form.string(spec.name, required=spec.required)


def _read_bool(state: State, form: Form, spec: Field) -> Any:
    return form.boolean(spec.name, default=bool(spec.default))


def _read_int(state: State, form: Form, spec: Field) -> Any:
    return form.integer(spec.name, default=spec.default, min_value=0)


def _read_list(state: State, form: Form, spec: Field) -> Any:
    return [p for v in form.params.get_list(spec.name) for p in v.replace(",", " ").split()]


def _read_json(state: State, form: Form, spec: Field) -> Any:
    try:
        value = json.loads(form.string(spec.name) or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        form.error(spec.name, "Enter a JSON object.")
        return {}
    return value


def _read_choice(state: State, form: Form, spec: Field) -> Any:
    return form.choice(spec.name, spec.choices, default=spec.default)


def _read_subnet(state: State, form: Form, spec: Field) -> Any:
    raw = form.string(spec.name, required=spec.required) or ""
    found = next((s for s in state.subnets.values() if raw in (str(s.id), s.cidr)), None)
    if found is None:
        form.error(spec.name, invalid_choice(raw))
        return None
    return found.id


def _read_user(state: State, form: Form, spec: Field) -> Any:
    raw = form.string(spec.name)
    if raw and raw not in state.users:
        form.error(spec.name, invalid_choice(raw))
        return None
    return raw or None


_READERS: dict[FieldKind, Callable[[State, Form, Field], Any]] = {
    "text": _read_text,
    "bool": _read_bool,
    "int": _read_int,
    "list": _read_list,
    "json": _read_json,
    "choice": _read_choice,
    "subnet": _read_subnet,
    "user": _read_user,
}
