"""Handlers for the simple record kinds of :mod:`maas_dyn.sim.maas.records`.

The same five functions serve every kind (plus ``add_tag``/``remove_tag`` for kinds
with a tag field); notifications add relevance rules and ``dismiss``; VM hosts add
``parameters`` and ``refresh``.
"""

from __future__ import annotations

import base64
from typing import Any

from maas_dyn.sim.maas import records
from maas_dyn.sim.maas.handlers._common import lookup
from maas_dyn.sim.maas.models import Record
from maas_dyn.sim.maas.records import NOTIFICATIONS, RecordKind
from maas_dyn.sim.maas.registry import REGISTRY, Context, action
from maas_dyn.sim.maas.responses import Forbidden, NotFound, Response
from maas_dyn.sim.maas.validation import mandatory


def _relevant(context: Context, record: Record) -> bool:
    # Notification.is_relevant_to: addressed to the user, to all users or to admins.
    values = record.values
    return bool(
        values["user"] == context.username
        or (values["users"] and not context.is_admin)
        or (values["admins"] and context.is_admin)
    )


def _scope(context: Context, kind: RecordKind) -> dict[str, str]:
    scope = {name: context.arg(name) for name in kind.scope}
    if "system_id" in scope:
        context.state.node(scope["system_id"])  # 404 for an unknown node, as MAAS.
    return scope


def _listed(context: Context, kind: RecordKind, record: Record) -> bool:
    if kind.scope and record.values.get(records.SCOPE) != _scope(context, kind):
        return False
    if kind.per_user:
        return record.owner == context.username
    if kind is NOTIFICATIONS:
        return _relevant(context, record) and context.username not in record.dismissed_by
    return True


def _item(context: Context, kind: RecordKind) -> Record:
    table = context.state.records.get(kind.key, {})
    if kind.keys == ("id",):
        raw = context.arg("id")
        named = None if kind.name_field is None else next(
            (r for r in table.values() if r.values[kind.name_field] == raw), None)
        record = named or lookup(table, raw, kind.model)
    else:
        wanted = {name: context.arg(name) for name in kind.keys}
        found = next((r for r in table.values()
                      if all(r.values[k] == v for k, v in wanted.items())), None)
        if found is None:
            raise NotFound(kind.model)
        record = found
    if kind.scope and record.values.get(records.SCOPE) != _scope(context, kind):
        raise NotFound(kind.model)
    if kind.per_user and record.owner != context.username:
        raise NotFound(kind.model)
    return record


def _register(kind: RecordKind) -> None:
    def read_all(context: Context) -> list[dict[str, Any]]:
        table = context.state.records.get(kind.key, {})
        return [
            records.render_record(context.state, kind, r)
            for r in table.values()
            if _listed(context, kind, r)
        ]

    def create(context: Context) -> dict[str, Any]:
        scope = _scope(context, kind)
        values = records.read_fields(context.state, context.params, kind, None)
        record = records.add(context.state, kind, context.username, scope, **values)
        return records.render_record(context.state, kind, record)

    def read_one(context: Context) -> dict[str, Any]:
        record = _item(context, kind)
        if kind is NOTIFICATIONS and not (context.is_admin or _relevant(context, record)):
            raise Forbidden()
        return records.render_record(context.state, kind, record)

    def update(context: Context) -> dict[str, Any]:
        record = _item(context, kind)
        record.values = records.read_fields(context.state, context.params, kind, record)
        return records.render_record(context.state, kind, record)

    def delete(context: Context) -> None:
        record = _item(context, kind)
        del context.state.records[kind.key][record.id]

    read_all.__doc__ = f"List {kind.model} objects."
    create.__doc__ = f"Create a {kind.model}."
    read_one.__doc__ = f"Return a {kind.model}."
    update.__doc__ = f"Change a {kind.model}."
    delete.__doc__ = f"Delete a {kind.model}."
    REGISTRY.register(kind.collection, "read")(read_all)
    if kind.creatable:
        REGISTRY.register(kind.collection, "create", admin=kind.admin_writes)(create)
    REGISTRY.register(kind.item, "read")(read_one)
    if kind.updatable:
        REGISTRY.register(kind.item, "update", admin=kind.admin_writes)(update)
    REGISTRY.register(kind.item, "delete", admin=kind.admin_writes)(delete)
    if kind.tag_field is not None:
        _register_tags(kind, kind.tag_field)


def _register_tags(kind: RecordKind, tag_field: str) -> None:
    def change(context: Context, add: bool) -> dict[str, Any]:
        record = _item(context, kind)
        tag = mandatory(context.params, "tag")
        tags: list[str] = record.values[tag_field]
        if add and tag not in tags:
            tags.append(tag)
        elif not add and tag in tags:
            tags.remove(tag)
        return records.render_record(context.state, kind, record)

    def add_tag(context: Context) -> dict[str, Any]:
        return change(context, True)

    def remove_tag(context: Context) -> dict[str, Any]:
        return change(context, False)

    add_tag.__doc__ = f"Add a tag to a {kind.model}; adding it twice is harmless."
    remove_tag.__doc__ = f"Remove a tag from a {kind.model}; absent tags are ignored."
    REGISTRY.register(kind.item, "add_tag", admin=kind.admin_writes)(add_tag)
    REGISTRY.register(kind.item, "remove_tag", admin=kind.admin_writes)(remove_tag)


for _kind in records.KINDS:
    _register(_kind)


@action("NotificationHandler", "dismiss")
def dismiss(context: Context) -> Response:
    """Hide a notification from the caller; safe to repeat."""
    record = _item(context, NOTIFICATIONS)
    if not _relevant(context, record):
        raise Forbidden()
    record.dismissed_by.add(context.username)
    return Response.json(None)


_POWER_PARAMETERS = ("power_address", "power_user", "power_pass")


@action(("PodHandler", "VmHostHandler"), "parameters", admin=True)
def vm_host_parameters(context: Context) -> dict[str, Any]:
    """Return a VM host's power parameters (PodHandler.parameters)."""
    record = _item(context, records.PODS)
    return {name: record.values[name] for name in _POWER_PARAMETERS}


@action(("PodHandler", "VmHostHandler"), "refresh", admin=True)
def vm_host_refresh(context: Context) -> dict[str, Any]:
    """Refresh a VM host: the simulated host has nothing new to report."""
    record = _item(context, records.PODS)
    return records.render_record(context.state, records.PODS, record)


@action("NodeScriptHandler", "download")
def download_script(context: Context) -> Response:
    """Return a script's body as stored (NodeScriptHandler.download: the bytes)."""
    record = _item(context, records.SCRIPTS)
    body = base64.b64decode(record.values["script"])
    return Response(200, body, "application/binary")
