"""Resource objects: returned items as ``dict`` subclasses with their actions as methods.

Both dialects share this layer (like :mod:`maas_dyn._dynamic`, it knows neither): a
dialect decides *which* handler or service an item belongs to and *which* of its
operations take the item's key first; this module builds, once per handler or service
and on first use, a ``dict`` subclass whose methods are those operations with the key
filled in, plus :meth:`Resource.refresh` and :meth:`Resource.wait`.

A resource is a ``dict``: equality with plain dicts, ``json.dumps``, ``pickle``
(which stores the plain dict) and every dict method behave as before. Its own names
come first, so a server's operation never shadows them (see :data:`RESERVED`):

- ``refresh`` and ``wait`` are the resource's own;
- dict methods (``get``, ``update``, ``items``, ``keys``, ``pop``...) stay dict methods,
  so a script that merged into a result keeps merging locally instead of writing to
  the server;
- a server operation with one of those names gets the project's one renaming rule
  (:func:`maas_dyn._dynamic.python_identifier`): a trailing ``_``. TrueNAS
  ``pool.dataset.update`` is ``ds.update_({...})``, MAAS ``machine update`` is
  ``m.update_(...)``; ``delete`` is no dict method and keeps its name.

``wait(name)`` finds its waiter through :mod:`maas_dyn._waiter_registry`, a registry
the workflows package fills (``maas_dyn.workflows.waiters`` registers its table on
import); this layer never imports the workflows package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from maas_dyn._dynamic import (
    LazyDocstring,
    Namespace,
    Operation,
    OperationDetails,
    _make_method,
    build_namespace_class,
    python_identifier,
)
from maas_dyn._waiter_registry import find_waiter, waiter_names
from maas_dyn.errors import UnknownActionError

__all__ = [
    "RESERVED",
    "AsyncResource",
    "FilledOperation",
    "Resource",
    "SyncResource",
    "bind",
    "build_resource_class",
    "related_attribute",
    "resource_method_names",
]

# Names a server operation cannot take on a resource: the resource's own methods and
# every public attribute of dict. A clashing operation gets a trailing "_".
RESERVED = frozenset({"refresh", "wait"} | {n for n in dir(dict) if not n.startswith("_")})

# Fields shown in a resource's short repr, first present wins: a human label, then a
# state. Data, so a new kind of object needs no code.
LABEL_FIELDS = ("hostname", "name", "fqdn", "username", "filename", "path", "description")
STATE_FIELDS = ("status_name", "state", "status")


def resource_method_names(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Name an item's operations on its resource class, by the one renaming rule.

    Args:
        names: The operations' names on the handler or service, in order.
        taken: Further names the class uses (related collections...).

    Returns:
        ``{name on the resource: name on the handler/service}``.
    """
    used = set(RESERVED) | set(taken)
    out: dict[str, str] = {}
    for name in names:
        python = python_identifier(name, used)
        used.add(python)
        out[python] = name
    return out


class FilledOperation(Operation):
    """An operation with its first ``filled`` parameters supplied by the resource.

    Its signature and docstring are the original's without those parameters, computed
    on first use like every other.

    Args:
        name: The method's name on the resource.
        original: The handler's or service's operation.
        filled: How many leading parameters the resource fills.
        target: The name of the method to call on the handler or service.
    """

    __slots__ = ("filled", "original")

    def __init__(self, name: str, original: Operation, filled: int, target: str):
        super().__init__(name, original.wire_name, payload=target)
        self.original = original
        self.filled = filled

    def describe(self) -> OperationDetails:
        """The original details without the filled parameters."""
        details = self.original.details
        return details._replace(params=details.params[self.filled:])


class Resource(dict[str, Any]):
    """Base class of every generated resource class.

    A plain ``dict`` of the item's fields, plus the item's key (the path values of a
    MAAS item handler, the id of a TrueNAS item). The generated subclass holds the
    handler or service the methods call, so an item costs one dict copy.
    """

    __slots__ = ("_key",)
    _key: tuple[Any, ...]

    # Set on each generated class.
    _target: ClassVar[Any] = None  # the handler or service namespace object
    _kind: ClassVar[str] = "resource"
    _reader: ClassVar[str] = ""  # name of the target's method that reads one item
    _waiter_client: ClassVar[Any] = None
    _waiter_prefix: ClassVar[str] = ""

    # -- being a dict ---------------------------------------------------------------------

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Pickled (and copied) as the plain dict: nothing of the live client travels.
        return (dict, (dict(self),))

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    # print(resource) shows the data, as it did when results were plain dicts.
    __str__ = dict.__repr__

    def __repr__(self) -> str:
        parts = [self._kind, *(str(k) for k in self._key)]
        label = next((self[f] for f in LABEL_FIELDS if isinstance(self.get(f), str)
                      and self[f] and str(self[f]) not in parts), None)
        state = next((self[f] for f in STATE_FIELDS if isinstance(self.get(f), str | int)
                      and not isinstance(self.get(f), bool)), None)
        parts += [str(p) for p in (label, state) if p not in (None, "")]
        return "<" + " ".join(parts) + ">"

    def _replace(self, fresh: Any) -> None:
        if isinstance(fresh, Mapping):
            dict.clear(self)
            dict.update(self, fresh)

    # -- the funnel of the generated methods ----------------------------------------------

    def _invoke(self, operation: Operation, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        return getattr(self._target, operation.payload)(*self._key, *args, **kwargs)

    def _waiter(self, name: str) -> Any:
        key = f"{self._waiter_prefix}_{name}"
        waiter = find_waiter(self._waiter_client, key)
        if waiter is None:
            prefix = self._waiter_prefix + "_"
            known = sorted(k[len(prefix):] for k in waiter_names() if k.startswith(prefix))
            raise UnknownActionError(
                f"{self._kind} has no waiter {name!r} (looked up as {key!r}); "
                f"known: {', '.join(known) or 'none'}", name=name, suggestions=known)
        return waiter


class SyncResource(Resource):
    """A resource whose methods call a sync client."""

    __slots__ = ()

    def refresh(self) -> SyncResource:
        """Read the item again and replace this dict's contents with the answer.

        Returns:
            This resource, updated in place.
        """
        self._replace(getattr(self._target, self._reader)(*self._key))
        return self

    def wait(self, name: str, *, timeout: float | None = None, interval: float | None = None,
             on_progress: Callable[[Any], None] | None = None) -> SyncResource:
        """Run a named waiter on this item, then update it in place with the last poll.

        The waiter is ``<kind>_<name>`` of the waiter table
        (``maas_dyn.workflows.waiters.WAITERS``): ``machine.wait("deployed")`` runs
        ``machine_deployed``.

        Args:
            name: The waiter's name without the kind (``"deployed"``).
            timeout: Seconds before giving up (default: the waiter's).
            interval: Seconds between polls (default: the waiter's).
            on_progress: Called with each poll's ``Progress``.

        Returns:
            This resource, updated in place.

        Raises:
            UnknownActionError: No such waiter for this kind of item.
            WaiterError: A failure state was reached or the timeout passed.
        """
        waiter = self._waiter(name)
        self._replace(waiter.wait(*self._key, timeout=timeout, interval=interval,
                                  on_progress=on_progress))
        return self


class AsyncResource(Resource):
    """A resource whose methods are coroutine functions (the async clients)."""

    __slots__ = ()

    async def refresh(self) -> AsyncResource:
        """Read the item again and replace this dict's contents with the answer.

        Returns:
            This resource, updated in place.
        """
        self._replace(await getattr(self._target, self._reader)(*self._key))
        return self

    async def wait(self, name: str, *, timeout: float | None = None,
                   interval: float | None = None,
                   on_progress: Callable[[Any], None] | None = None) -> AsyncResource:
        """Run a named waiter without blocking the loop (see :meth:`SyncResource.wait`).

        Args:
            name: The waiter's name without the kind (``"deployed"``).
            timeout: Seconds before giving up (default: the waiter's).
            interval: Seconds between polls (default: the waiter's).
            on_progress: Called with each poll's ``Progress``.

        Returns:
            This resource, updated in place.
        """
        waiter = self._waiter(name)
        self._replace(await waiter.wait_async(*self._key, timeout=timeout, interval=interval,
                                              on_progress=on_progress))
        return self


def build_resource_class(
    class_name: str,
    *,
    kind: str,
    target: Any,
    operations: Mapping[str, Operation],
    filled: int,
    doc: Callable[[], str],
    module: str,
    asynchronous: bool,
    reader: str = "",
    waiter_client: Any = None,
    waiter_prefix: str = "",
    related: Mapping[str, Any] | None = None,
) -> type[Resource]:
    """Build the resource class of one handler or service.

    Args:
        class_name: ``__name__`` of the class (``Machine``).
        kind: Shown first in the repr and in messages (``machine``, ``pool.dataset``).
        target: The handler or service object the methods call.
        operations: ``{name on the resource: the target's operation}`` (see
            :func:`resource_method_names`); each takes the key's values first.
        filled: How many leading parameters the key fills.
        doc: Renders the class docstring on first use.
        module: ``__module__`` of the class.
        asynchronous: Coroutine methods (the async clients).
        reader: The target's method :meth:`~SyncResource.refresh` calls.
        waiter_client: The client a waiter polls through.
        waiter_prefix: Prefix of this kind's waiter names (``machine``).
        related: Further class attributes (descriptors of related collections).

    Returns:
        The class.
    """
    class_name = python_identifier(class_name)
    namespace: dict[str, Any] = {
        "__doc__": LazyDocstring(doc),
        "__module__": module,
        "__qualname__": class_name,
        "__slots__": (),
        "_target": target,
        "_kind": kind,
        "_reader": reader,
        "_waiter_client": waiter_client,
        "_waiter_prefix": waiter_prefix,
        **(related or {}),
    }
    for python, original in operations.items():
        op = FilledOperation(python, original, filled, original.name)
        namespace[python] = _make_method(op, class_name, asynchronous)
    base = AsyncResource if asynchronous else SyncResource
    return type(class_name, (base,), namespace)


def bind(cls: type[Resource], item: Mapping[str, Any], key: tuple[Any, ...]) -> Resource:
    """Make a resource of ``cls`` holding a copy of ``item``.

    Args:
        cls: A class from :func:`build_resource_class`.
        item: The item's fields.
        key: The item's key (path values, or the id).

    Returns:
        The resource.
    """
    resource = cls(item)
    resource._key = key
    return resource


class _Related:
    """A related collection as an attribute of a resource class (no I/O on access)."""

    def __init__(self, name: str, build: Callable[[], type[Namespace]], target: Callable[[], Any],
                 filled: int):
        self._name = name
        self._build = build
        self._target = target
        self._filled = filled
        self._cls: type[Namespace] | None = None
        self._lock = threading.Lock()

    def __get__(self, obj: Resource | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if self._cls is None:
            with self._lock:
                if self._cls is None:
                    self._cls = self._build()
        values = obj._key[: self._filled]
        target = self._target()

        def invoke(operation: Operation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return getattr(target, operation.payload)(*values, *args, **kwargs)

        path = f"{obj._kind}({', '.join(map(str, obj._key))}).{self._name}"
        return self._cls(invoke, path)


def related_attribute(name: str, *, class_name: str, operations: Sequence[Operation],
                      filled: int, target: Callable[[], Any], doc: Callable[[], str],
                      module: str, asynchronous: bool) -> Any:
    """A class attribute giving a resource's related collection, built on first use.

    ``machine.interfaces`` is the ``interfaces`` handler with the machine's
    ``system_id`` filled in: ``machine.interfaces.read()``.

    Args:
        name: The attribute's name.
        class_name: Name of the bound collection's class.
        operations: The collection's operations (each takes the filled values first).
        filled: How many of the resource's key values the collection takes.
        target: Returns the collection's handler object.
        doc: Renders the bound collection's class docstring.
        module: ``__module__`` of the bound collection's class.
        asynchronous: Coroutine methods.

    Returns:
        The descriptor.
    """
    def build() -> type[Namespace]:
        filled_ops = [FilledOperation(op.name, op, filled, op.name) for op in operations]
        return build_namespace_class(class_name, filled_ops, doc, module=module,
                                     asynchronous=asynchronous)

    return _Related(name, build, target, filled)
