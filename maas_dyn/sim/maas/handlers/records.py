"""Handlers for the simple record kinds of :mod:`maas_dyn.sim.maas.records`.

The same five functions serve every kind; notifications add relevance rules and
``dismiss``.
"""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import records
from maas_dyn.sim.maas.handlers._common import lookup
from maas_dyn.sim.maas.models import Record
from maas_dyn.sim.maas.records import NOTIFICATIONS, RecordKind
from maas_dyn.sim.maas.registry import REGISTRY, Context, action
from maas_dyn.sim.maas.responses import Forbidden, NotFound, Response


def _relevant(context: Context, record: Record) -> bool:
    # Notification.is_relevant_to: addressed to the user, to all users or to admins.
    values = record.values
    return bool(
        values["user"] == context.username
        or (values["users"] and not context.is_admin)
        or (values["admins"] and context.is_admin)
    )


def _listed(context: Context, kind: RecordKind, record: Record) -> bool:
    if kind.per_user:
        return record.owner == context.username
    if kind is NOTIFICATIONS:
        return _relevant(context, record) and context.username not in record.dismissed_by
    return True


def _item(context: Context, kind: RecordKind) -> Record:
    record = lookup(context.state.records.get(kind.key, {}), context.arg("id"), kind.model)
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
        values = records.read_fields(context.state, context.params, kind, None)
        record = records.add(context.state, kind, context.username, **values)
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
    REGISTRY.register(kind.collection, "create", admin=kind.admin_writes)(create)
    REGISTRY.register(kind.item, "read")(read_one)
    if kind.updatable:
        REGISTRY.register(kind.item, "update", admin=kind.admin_writes)(update)
    REGISTRY.register(kind.item, "delete", admin=kind.admin_writes)(delete)


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
