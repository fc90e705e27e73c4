"""Generic behaviour from the description: CRUD and config services without a model.

A namespace of the served description gets a generic store when none of its CRUD
(``query``, ``get_instance``, ``create``, ``update``, ``delete``) or config (``config``,
``update``) methods has a hand-written handler:

* **CRUD** (a filterable ``<ns>.query`` plus any of the other verbs): one table of
  records shaped like the release's ``get_instance`` (else ``create``) return schema.
  ``create`` takes the data the dispatcher already validated against the ``accepts`` schema with its
  defaults filled in, gives it the next id (an integer, or the ``name`` for namespaces
  whose ids are strings) and stores it, so that create-then-query returns what was
  created. ``update`` changes only the fields the caller sent (update schemas carry
  defaults in some releases; applying them would undo earlier changes), ``delete``
  removes. Changes are published on ``<ns>.query`` as the middleware's ``CRUDService``
  does (ADDED/CHANGED/REMOVED), and a missing id is ``InstanceNotFound``.
* **Config** (``<ns>.config`` plus ``<ns>.update``): one object shaped like the
  ``config`` return schema (its defaults, else the simplest valid values); ``update``
  merges the fields sent and returns the new object.

Job methods among them run as jobs (the dispatcher decides that from the description).
Everything else of such a namespace stays unmodelled and answers ENOTSUP. Nothing here
knows a release: the tables are built from whatever document is served, so a release the
package has never seen gets the same behaviour.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.registry import Call, Entry, MethodTable
from maas_dyn.sim.truenas.samples import sample
from maas_dyn.sim.truenas.schema import conform, validate
from maas_dyn.sim.truenas.services.crud import Resource

__all__ = ["CONFIG_VERBS", "CRUD_VERBS", "generic_handlers"]

CRUD_VERBS = ("query", "get_instance", "create", "update", "delete")
CONFIG_VERBS = ("config", "update")
# State tables of generic stores are prefixed so that they never meet a modelled one.
_TABLE_PREFIX = "generic:"


def _types(schema: object) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    found = schema.get("type")
    types = {found} if isinstance(found, str) else set(found or [])
    for branch in schema.get("anyOf") or schema.get("oneOf") or []:
        types |= _types(branch)
    return types


def _verbose(namespace: str) -> str:
    # The middleware's default verbose_name: the namespace in title case.
    return namespace.replace(".", " ").replace("_", " ").title()


class _CrudStore:
    """The generic store of one CRUD namespace."""

    def __init__(self, catalog: Catalog, namespace: str):
        self.namespace = namespace
        self.resource = Resource(_TABLE_PREFIX + namespace, _verbose(namespace))
        self.resource.namespaces.append(namespace)
        self.item_schema = catalog.item_schema(namespace)
        key_spec = next((catalog.get(f"{namespace}.{verb}") for verb in
                         ("get_instance", "update", "delete")
                         if catalog.get(f"{namespace}.{verb}") is not None), None)
        key_schema = key_spec.accepts[0] if key_spec and key_spec.accepts else {}
        self.string_keys = "string" in _types(key_schema) and "integer" not in _types(
            key_schema)
        self.catalog = catalog

    def _key(self, call: Call, data: Mapping[str, Any]) -> Any:
        number = call.rt.state.next_id(self.resource.table)
        if not self.string_keys:
            return number
        for field in ("id", "name"):
            if isinstance(data.get(field), str) and data[field]:
                return data[field]
        return str(number)

    def _fitting(self, data: Mapping[str, Any]) -> dict[str, Any]:
        # Fields whose input form differs from the stored one (``credentials: 1`` in,
        # the expanded credentials object out, as datastore_extend does) keep the
        # record's sample value, so that every record stays valid against the schema.
        properties = self.item_schema.get("properties")
        if not isinstance(properties, dict):
            return dict(data)
        return {name: value for name, value in data.items()
                if name not in properties or not validate(properties[name], value)}

    def _result(self, method: str, value: Any) -> Any:
        return conform(self.catalog.result_schema(method), value)

    def create(self, call: Call) -> Any:
        data = call.arg(0) or {}
        data = dict(data) if isinstance(data, dict) else {}
        key = self._key(call, data)
        record = call.rt.state.record(self.namespace, **{**self._fitting(data), "id": key})
        if not self.item_schema:  # no shape in the description: keep what was sent
            record = {**data, "id": key}
        stored = self.resource.store(call, key, record)
        return self._result(call.method, stored)

    def update(self, call: Call) -> Any:
        key = call.args[0]
        record = self.resource.find(call, key)
        sent = call.params[1] if len(call.params) > 1 else {}
        data = call.arg(1) or {}
        if isinstance(data, dict) and isinstance(sent, dict):
            record.update({name: value for name, value in self._fitting(data).items()
                           if name in sent})
        stored = self.resource.store(call, key, record)
        return self._result(call.method, stored)

    def delete(self, call: Call) -> Any:
        self.resource.remove(call, call.args[0])
        returns = self.catalog.result_schema(call.method)
        return True if "boolean" in _types(returns) else None

    def register(self, table: MethodTable, verbs: set[str]) -> None:
        handlers = {"query": self.resource.query, "get_instance": self.resource.get_instance,
                    "create": self.create, "update": self.update, "delete": self.delete}
        for verb in CRUD_VERBS:
            if verb in verbs:
                table.method(f"{self.namespace}.{verb}")(handlers[verb])


class _ConfigStore:
    """The generic store of one config namespace."""

    def __init__(self, catalog: Catalog, namespace: str):
        self.namespace = namespace
        self.catalog = catalog

    def current(self, call: Call) -> dict[str, Any]:
        state = call.rt.state
        with state.lock:
            if self.namespace not in state.config:
                built = sample(self.catalog.result_schema(f"{self.namespace}.config"),
                               full=True)
                state.config[self.namespace] = built if isinstance(built, dict) else {}
            return copy.deepcopy(state.config[self.namespace])

    def config(self, call: Call) -> Any:
        return self.current(call)

    def update(self, call: Call) -> Any:
        self.current(call)
        sent = call.params[0] if call.params else {}
        data = call.arg(0) or {}
        state = call.rt.state
        with state.lock:
            stored = state.config[self.namespace]
            if isinstance(data, dict) and isinstance(sent, dict):
                stored.update({name: value for name, value in data.items() if name in sent})
            updated = copy.deepcopy(stored)
        return conform(self.catalog.result_schema(call.method), updated)

    def register(self, table: MethodTable) -> None:
        table.method(f"{self.namespace}.config")(self.config)
        table.method(f"{self.namespace}.update")(self.update)


def generic_handlers(catalog: Catalog, modelled: Mapping[str, Entry]) -> MethodTable:
    """Build generic stores for the namespaces no hand-written model covers.

    Args:
        catalog: The served description.
        modelled: The hand-written handlers (a namespace with any of them is left alone).

    Returns:
        The generic handlers, method name -> entry.
    """
    verbs: dict[str, set[str]] = {}
    for name in catalog.methods:
        namespace, _, verb = name.rpartition(".")
        if namespace:
            verbs.setdefault(namespace, set()).add(verb)
    table = MethodTable()
    for namespace, found in sorted(verbs.items()):
        crud = found & set(CRUD_VERBS)
        query = catalog.get(f"{namespace}.query")
        # A query that takes no filters (audit.query, ipmi.lan.query) is no CRUD query.
        if query is not None and query.filterable and len(crud) > 1:
            if not any(f"{namespace}.{verb}" in modelled for verb in crud):
                _CrudStore(catalog, namespace).register(table, crud)
        elif {"config", "update"} <= found and not any(
                f"{namespace}.{verb}" in modelled for verb in CONFIG_VERBS):
            _ConfigStore(catalog, namespace).register(table)
    return table
