"""Helpers shared by the action implementations: permissions, lookups, node lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.models import Machine
from maas_dyn.sim.maas.registry import Context
from maas_dyn.sim.maas.responses import Forbidden, NotFound
from maas_dyn.sim.maas.state import Node

Permission = Literal["view", "edit", "admin"]
T = TypeVar("T")


def can_view(context: Context, node: Node) -> bool:
    """Tell whether the caller may see a node (admins see all, users unowned and own).

    Args:
        context: The call.
        node: The node.

    Returns:
        True when visible.
    """
    return context.is_admin or node.owner in (None, context.username)


def machine_for(context: Context, permission: Permission = "view") -> Machine:
    """Return the machine of the ``system_id`` path parameter, checking permissions.

    Mirrors ``get_node_or_404``: an unknown or invisible machine is a 404, a locked one
    refuses edits with 403, and edits need ownership (or no owner) or admin rights.

    Args:
        context: The call.
        permission: ``view``, ``edit`` or ``admin``.

    Returns:
        The machine.

    Raises:
        NotFound: No such machine (or not visible).
        Forbidden: The permission is missing.
    """
    machine = context.state.machine(context.arg("system_id"))
    if not can_view(context, machine):
        raise NotFound("Machine")
    if permission == "admin" and not context.is_admin:
        raise Forbidden()
    if permission == "edit":
        if machine.locked:
            raise Forbidden(f"Machine {machine.system_id} is locked; unlock it first.")
        if not context.is_admin and machine.owner not in (None, context.username):
            raise Forbidden()
    return machine


def lookup(table: Mapping[int, T], raw: str, model: str) -> T:
    """Return an object by integer id from a path parameter.

    Args:
        table: Objects by id.
        raw: The path parameter.
        model: Model name for the 404 text.

    Returns:
        The object.

    Raises:
        NotFound: Not a number or no such id.
    """
    try:
        found = table.get(int(raw))
    except ValueError:
        found = None
    if found is None:
        raise NotFound(model)
    return found


def lookup_by(items: Iterable[T], raw: str, model: str, *keys: Callable[[T], object]) -> T:
    """Return the first object whose id or name matches a path parameter.

    MAAS accepts either form for several objects (pools, fabrics, spaces, subnets).

    Args:
        items: Candidates.
        raw: The path parameter.
        model: Model name for the 404 text.
        *keys: Functions giving the values to compare with (as strings).

    Returns:
        The object.

    Raises:
        NotFound: Nothing matches.
    """
    for item in items:
        if any(str(key(item)) == raw for key in keys):
            return item
    raise NotFound(model)


def node_list(context: Context, nodes: Iterable[Node]) -> bytes:
    """Encode visible nodes as a JSON list, reusing cached machine documents.

    Args:
        context: The call.
        nodes: The nodes.

    Returns:
        The encoded list.
    """
    state = context.state
    return render.json_list(
        [render.node_bytes(state, node) for node in nodes if can_view(context, node)]
    )

