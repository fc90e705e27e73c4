"""TrueNAS resources: items of a CRUD service bound to it (``ds.update_({...})``).

What ``X.query`` and ``X.get_instance`` (and ``X.create``/``X.update``, which answer
the item too: :data:`ITEM_METHODS`) return is a ``dict`` subclass (see
:mod:`maas_dyn._resources`) bound to the service ``X`` when:

- ``X`` is a CRUD service: its document has ``X.get_instance`` (what
  :meth:`~maas_dyn._resources.SyncResource.refresh` calls), and
- the item has an ``id`` field (:data:`ID_FIELD`).

Its methods are the service's methods whose first ``accepts`` parameter is the item's
id (named ``id`` in the schema: :data:`ID_PARAMETERS`), with the id filled in:
``ds.delete()``, ``ds.promote()``, ``snap.rollback({...})``, ``user.update_({...})``
(``update`` is dict's own; see the naming rule in :mod:`maas_dyn._resources`).
Everything comes from the method document, per service and on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from maas_dyn._dynamic import Operation
from maas_dyn._resources import Resource, bind, build_resource_class, resource_method_names
from maas_dyn.truenas.methods import Methods

__all__ = ["ID_FIELD", "ID_PARAMETERS", "ITEM_METHODS", "READER", "Binder"]

# Methods whose answer is an item (or a list of items) of their service.
ITEM_METHODS = frozenset({"query", "get_instance", "create", "update"})
# The method that reads one item by id; a service without it is not a CRUD service.
READER = "get_instance"
# The field of an item holding its id.
ID_FIELD = "id"
# Names (``_name_`` or ``title`` in the schema) of a first parameter that is the id.
ID_PARAMETERS = frozenset({"id"})


def _takes_id(accepts: Any) -> bool:
    if not isinstance(accepts, list) or not accepts or not isinstance(accepts[0], Mapping):
        return False
    first = accepts[0]
    return (first.get("_name_") or first.get("title")) in ID_PARAMETERS


def _class_doc(service: str, methods: Mapping[str, str]) -> str:
    return (f"An item of the TrueNAS service ``{service}``: a dict of its fields, bound to "
            "the service.\n\nMethods are the service's methods that take the item's id "
            "first, with the id filled in:\n    " + ", ".join(methods) + "\n\nAlso: refresh() "
            f"re-reads it in place ({service}.{READER}); wait(name) runs the waiter "
            f"``{service.replace('.', '_')}_<name>``.\n")


class Binder:
    """Turns one client's answers into resources; builds classes on first use.

    Args:
        methods: The client's method document.
        operations: The client's operations by dotted name.
        service: Returns the client's namespace object of a dotted service name.
        waiter_client: The client waiters poll through.
        asynchronous: Coroutine methods (the async client).
        module: ``__module__`` of the generated classes.
    """

    def __init__(self, methods: Methods, operations: Mapping[str, Operation],
                 service: Callable[[str], Any], *, waiter_client: Any,
                 asynchronous: bool = False, module: str = "maas_dyn.truenas.resources"):
        self._methods = methods
        self._operations = operations
        self._service = service
        self._waiter_client = waiter_client
        self._asynchronous = asynchronous
        self._module = module
        # method name -> its service's resource class builder, or None (not bindable).
        self._services: dict[str, str | None] = {}
        self._classes: dict[str, type[Resource]] = {}
        self._lock = threading.Lock()

    def service_of(self, method: str) -> str | None:
        """The CRUD service whose items ``method`` answers, or ``None``.

        Args:
            method: A dotted method name.

        Returns:
            The service's dotted name.
        """
        found = self._services.get(method, "")
        if found == "":
            service, _, leaf = method.rpartition(".")
            found = service if leaf in ITEM_METHODS and service \
                and f"{service}.{READER}" in self._methods else None
            self._services[method] = found
        return found

    def resource_class(self, service: str) -> type[Resource]:
        """The resource class of a CRUD service (built once).

        Args:
            service: Its dotted name.

        Returns:
            The class.
        """
        cls = self._classes.get(service)
        if cls is None:
            with self._lock:
                cls = self._classes.get(service)
                if cls is None:
                    cls = self._classes[service] = self._build(service)
        return cls

    def item_operations(self, service: str) -> dict[str, Operation]:
        """The service's operations that take an item's id first, by Python name.

        Args:
            service: Its dotted name.

        Returns:
            ``{name on the service: operation}``, sorted.
        """
        prefix = service + "."
        return {
            self._operations[name].name: self._operations[name]
            for name in sorted(self._methods.specs)
            if name.startswith(prefix) and "." not in name[len(prefix):]
            and name in self._operations and _takes_id(self._methods.specs[name].accepts)
        }

    def _build(self, service: str) -> type[Resource]:
        own = self.item_operations(service)
        names = resource_method_names(own)
        operations = {python: own[name] for python, name in names.items()}
        reader = self._operations[f"{service}.{READER}"].name
        return build_resource_class(
            "".join(p.title() for p in service.replace("_", ".").split(".")),
            kind=service, target=self._service(service), operations=operations, filled=1,
            doc=partial(_class_doc, service, names), module=self._module,
            asynchronous=self._asynchronous, reader=reader,
            waiter_client=self._waiter_client, waiter_prefix=service.replace(".", "_"))

    def wrap(self, method: str, data: Any) -> Any:
        """Bind an answer of ``method``: an item, or each item of a list.

        Args:
            method: The dotted method that answered.
            data: Its result.

        Returns:
            ``data``, with each item of a CRUD service made a resource.
        """
        if not isinstance(data, list | dict):
            return data
        service = self.service_of(method)
        if service is None:
            return data
        cls = self.resource_class(service)
        if type(data) is dict:
            return bind(cls, data, (data[ID_FIELD],)) if ID_FIELD in data else data
        return [bind(cls, item, (item[ID_FIELD],))
                if type(item) is dict and ID_FIELD in item else item for item in data]
