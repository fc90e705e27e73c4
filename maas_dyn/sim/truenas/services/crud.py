"""Shared plumbing of CRUD namespaces: query, get_instance and change events.

As in the middleware's ``CRUDService``: ``query`` applies ``filter_list`` to the full
records, ``get_instance`` of an unknown id raises ``InstanceNotFound`` ("<Name> <id> does
not exist", -32602 with ENOENT), and create/update/delete publish ADDED/CHANGED/REMOVED on
``<namespace>.query``.
"""

from __future__ import annotations

import copy
from typing import Any

from maas_dyn.sim.truenas.exceptions import instance_not_found
from maas_dyn.sim.truenas.filters import filter_list
from maas_dyn.sim.truenas.registry import Call, MethodTable

__all__ = ["Resource", "namespace_of"]

Record = dict[str, Any]


def namespace_of(method: str) -> str:
    """Strip the verb from a method name.

    Args:
        method: e.g. ``"pool.dataset.create"``.

    Returns:
        e.g. ``"pool.dataset"``.
    """
    return method.rsplit(".", 1)[0]


class Resource:
    """One CRUD namespace backed by one state table.

    Args:
        table: State table name.
        verbose: Name used in "does not exist" messages, e.g. ``"User"``.
    """

    def __init__(self, table: str, verbose: str):
        self.table = table
        self.verbose = verbose
        self.namespaces: list[str] = []

    def register(self, methods: MethodTable, *namespaces: str) -> None:
        """Register ``query`` and ``get_instance`` of the namespaces.

        Args:
            methods: The service's table.
            *namespaces: Namespaces served from this table (releases rename some).
        """
        self.namespaces.extend(namespaces)
        for namespace in namespaces:
            methods.method(f"{namespace}.query")(self.query)
            methods.method(f"{namespace}.get_instance")(self.get_instance)

    def query(self, call: Call) -> Any:
        """Answer ``<namespace>.query(filters, options)``.

        Args:
            call: The call.

        Returns:
            Records, one record or a count.
        """
        return filter_list(call.rt.state.rows(self.table), call.args[0], call.args[1])

    def get_instance(self, call: Call) -> Any:
        """Answer ``<namespace>.get_instance(id, options)``.

        Args:
            call: The call.

        Returns:
            The record (options such as ``select`` applied).
        """
        record = self.find(call, call.args[0])
        options = call.arg(1) or {}
        return filter_list([record], [], {"select": options.get("select") or []})[0]

    def find(self, call: Call, key: Any) -> Record:
        """Read one record.

        Args:
            call: The call.
            key: Its id.

        Returns:
            A copy of the record.

        Raises:
            ValidationErrors: No such record (InstanceNotFound).
        """
        with call.rt.state.lock:
            record = call.rt.state.tables[self.table].get(key)
            if record is None:
                raise instance_not_found(f"{self.verbose} {key} does not exist")
            return copy.deepcopy(record)

    def store(self, call: Call, key: Any, record: Record) -> Record:
        """Insert or replace a record and publish ADDED or CHANGED.

        Args:
            call: The call.
            key: Its id.
            record: The record.

        Returns:
            A copy of the stored record.
        """
        with call.rt.state.lock:
            table = call.rt.state.tables[self.table]
            msg = "CHANGED" if key in table else "ADDED"
            table[key] = record
            stored = copy.deepcopy(record)
        call.publish(self._collection(call), msg, key, stored)
        return stored

    def remove(self, call: Call, key: Any) -> Record:
        """Delete a record and publish REMOVED.

        Args:
            call: The call.
            key: Its id.

        Returns:
            The removed record.

        Raises:
            ValidationErrors: No such record.
        """
        with call.rt.state.lock:
            record = self.find(call, key)
            del call.rt.state.tables[self.table][key]
        call.publish(self._collection(call), "REMOVED", key)
        return record

    def _collection(self, call: Call) -> str:
        # Changes made on behalf of another namespace (a user's group deleted with it)
        # are published on this resource's own collection, under the release's name.
        namespace = namespace_of(call.method)
        if namespace not in self.namespaces:
            served = [n for n in self.namespaces if call.rt.catalog.get(f"{n}.query")]
            namespace = (served or self.namespaces)[0]
        return f"{namespace}.query"
