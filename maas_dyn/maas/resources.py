"""MAAS resources: returned objects bound to the item handler whose path they fill.

``client.machines.read()`` returns machines that are ``dict`` subclasses (see
:mod:`maas_dyn._resources`) bound to the ``machine`` handler: ``m.deploy(...)``,
``m.power_off()``, ``m.refresh()``, ``m.wait("deployed")``, ``m.interfaces.read()``.
Everything is derived from the describe document by the rules below (tables, not
per-handler code), and computed on first use: connecting does none of it.

Which handler an object belongs to (:meth:`ResourceIndex.locate`):

1. An object whose ``resource_uri`` matches an item handler's path template (an *item
   handler* is one whose path ends with a placeholder) belongs to it; the URI gives the
   path values.
2. Otherwise, the handler that answered decides: an item handler's answer belongs to
   that handler, a collection's (``/machines/``) to its item handler (the handler whose
   path is the collection's plus placeholders, the last segment possibly singular:
   :data:`PLURAL_ENDINGS`). Each path value is the object's field of the placeholder's
   name, else the value the call itself filled at that position; the last one (the
   item's own key) must be a field, so an answer that does not name itself (``machine
   power_parameters``) stays a plain dict.

Related collections (:meth:`ResourceIndex.relations`) are handlers without a trailing
placeholder whose path extends the item's (``/fabrics/{id}/`` ->
``/fabrics/{fabric_id}/vlans/``), or extends that of another item handler with the very
same placeholder names (a machine's ``/nodes/{system_id}/interfaces/``). The attribute
is named after the extra path segments (``vlans``, ``interfaces``, ``blockdevices``).

``client.machines.get(system_id)`` (every collection with an item handler) reads one
item: the item handler's RESTful read.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from maas_dyn._dynamic import (
    LazyDocstring,
    Operation,
    _LazySignature,
    python_identifier,
)
from maas_dyn._resources import (
    Resource,
    bind,
    build_resource_class,
    related_attribute,
    resource_method_names,
)
from maas_dyn.maas.describe import Description, HandlerSpec
from maas_dyn.maas.handlers import ActionOperation, Handler, handler_class

__all__ = ["PLURAL_ENDINGS", "Binder", "ResourceIndex", "handler_class_with_get"]

# A collection's last path segment -> its item handler's: (collection ending, item
# ending). ``partitions`` -> ``partition``, ``discoveries`` -> ``discovery``.
PLURAL_ENDINGS: tuple[tuple[str, str], ...] = (("", ""), ("ies", "y"), ("es", ""), ("s", ""))

# What a collection's one-item reader is called, and which action of the item handler
# it runs (the RESTful GET).
GETTER_NAME = "get"

_PLACEHOLDER = re.compile(r"\{[^{}/]*\}")


def _shape(path: str) -> str:
    """A path template with every placeholder as ``{}`` and a trailing slash."""
    shaped = _PLACEHOLDER.sub("{}", path)
    return shaped if shaped.endswith("/") else shaped + "/"


def _is_item(spec: HandlerSpec) -> bool:
    return bool(spec.params) and _shape(spec.path).endswith("{}/")


def _reader(spec: HandlerSpec) -> str:
    """The Python name of a handler's RESTful GET action, or ``""``."""
    return next((a.name for a in spec.actions.values()
                 if a.method == "GET" and a.op is None), "")


class _Template:
    __slots__ = ("handler", "regex", "size")

    def __init__(self, handler: HandlerSpec):
        self.handler = handler
        segments = handler.path.strip("/").split("/")
        self.size = len(segments)
        # One regex per template: a placeholder is one segment; the trailing slash is
        # optional (some templates lack it, some URIs too). Compiled once, on first use.
        pattern = "/".join("([^/]+)" if _PLACEHOLDER.fullmatch(s) else re.escape(s)
                           for s in segments)
        self.regex = re.compile(f"/?{pattern}/?")

    def match(self, path: str) -> tuple[str, ...] | None:
        found = self.regex.fullmatch(path)
        return None if found is None else found.groups()


class ResourceIndex:
    """What the description says about items: targets, URI templates, relations.

    Computed per handler on first use and cached; built once per description.

    Args:
        description: The client's description.
    """

    def __init__(self, description: Description):
        self.description = description
        self._lock = threading.Lock()
        self._items: list[HandlerSpec] | None = None
        self._templates: dict[int, list[_Template]] | None = None
        self._target: dict[str, HandlerSpec | None] = {}
        self._own: dict[str, _Template] = {}

    def items(self) -> list[HandlerSpec]:
        """Every item handler (path ending with a placeholder)."""
        if self._items is None:
            self._items = [s for s in self.description.handlers.values() if _is_item(s)]
        return self._items

    def _by_size(self) -> dict[int, list[_Template]]:
        if self._templates is None:
            templates: dict[int, list[_Template]] = {}
            for spec in self.items():
                template = _Template(spec)
                self._own[spec.name] = template
                templates.setdefault(template.size, []).append(template)
            self._templates = templates
        return self._templates

    def item_of(self, spec: HandlerSpec) -> HandlerSpec | None:
        """The item handler an answer of ``spec`` belongs to (itself, for an item).

        Args:
            spec: The handler that answered.

        Returns:
            The item handler, or ``None`` for a collection without one.
        """
        if spec.name in self._target:
            return self._target[spec.name]
        found: HandlerSpec | None = spec if _is_item(spec) else None
        if found is None:
            head, _, last = _shape(spec.path).rstrip("/").rpartition("/")
            for ending, singular in PLURAL_ENDINGS:
                if not last.endswith(ending):
                    continue
                want = f"{head}/{last[:len(last) - len(ending)]}{singular}/"
                found = next((t for t in self.items() if len(t.params) > len(spec.params)
                              and _shape(t.path).startswith(want)
                              and set(_shape(t.path)[len(want):].split("/")) <= {"{}", ""}),
                             None)
                if found is not None:
                    break
        self._target[spec.name] = found
        return found

    def match_uri(self, uri: str, prefer: HandlerSpec | None = None) \
            -> tuple[HandlerSpec, tuple[str, ...]] | None:
        """The item handler whose path template a ``resource_uri`` fills, and its values.

        Args:
            uri: The object's ``resource_uri`` (a path, or a URL).
            prefer: A handler to try first (the expected one).

        Returns:
            ``(handler, path values)``, or ``None``.
        """
        if "://" in uri:
            uri = "/" + uri.split("://", 1)[1].partition("/")[2]
        by_size = self._by_size()
        if prefer is not None:
            own = self._own.get(prefer.name)
            values = None if own is None else own.match(uri)
            if values is not None:
                return prefer, values  # the common case: one regex per item
        for template in by_size.get(uri.strip("/").count("/") + 1, ()):
            values = template.match(uri)
            if values is not None:
                return template.handler, values
        return None

    def relations(self, spec: HandlerSpec) -> dict[str, HandlerSpec]:
        """Related collections of an item handler, by attribute name.

        Args:
            spec: An item handler.

        Returns:
            ``{"interfaces": <interfaces handler>, ...}``.
        """
        mine = _shape(spec.path)
        bases = [mine] + [_shape(t.path) for t in self.items()
                          if t is not spec and t.params == spec.params]
        found: dict[str, HandlerSpec] = {}
        for other in self.description.handlers.values():
            if _is_item(other) or len(other.params) != len(spec.params):
                continue
            shaped = _shape(other.path)
            for index, base in enumerate(bases):
                if shaped.startswith(base) and shaped != base and (
                        index == 0 or other.params == spec.params):
                    tail = shaped[len(base):].strip("/").replace("/", "_").replace("-", "_")
                    name = python_identifier(tail)
                    found.setdefault(name, other)
                    break
        return found


def _class_doc(spec: HandlerSpec, relations: Mapping[str, HandlerSpec],
               methods: Mapping[str, str]) -> str:
    lines = [f"A {spec.cli_name} as returned by the server: a dict of its fields, bound to "
             f"the ``{spec.name}`` handler ({spec.path}).", "",
             "Methods are the handler's actions with the path filled in:",
             "    " + ", ".join(methods), "",
             "Also: refresh() re-reads it in place; wait(name) runs the waiter "
             f"``{spec.name}_<name>``."]
    if relations:
        lines += ["", "Related collections: " + ", ".join(
            f"{name} ({other.path})" for name, other in relations.items())]
    return "\n".join(lines) + "\n"


class Binder:
    """Turns one client's answers into resources; builds classes on first use.

    Args:
        index: The description's :class:`ResourceIndex`.
        handler: Returns a handler object of the client by Python name.
        waiter_client: The client waiters poll through (``call(...)``).
        asynchronous: Build coroutine methods (the async client).
        module: ``__module__`` of the generated classes.
    """

    def __init__(self, index: ResourceIndex, handler: Callable[[str], Any], *,
                 waiter_client: Any, asynchronous: bool = False,
                 module: str = "maas_dyn.maas.resources"):
        self.index = index
        self._handler = handler
        self._waiter_client = waiter_client
        self._asynchronous = asynchronous
        self._module = module
        self._classes: dict[str, type[Resource]] = {}
        self._lock = threading.Lock()

    def resource_class(self, spec: HandlerSpec) -> type[Resource]:
        """The resource class of an item handler (built once).

        Args:
            spec: An item handler.

        Returns:
            The class.
        """
        cls = self._classes.get(spec.name)
        if cls is None:
            with self._lock:
                cls = self._classes.get(spec.name)
                if cls is None:
                    cls = self._classes[spec.name] = self._build(spec)
        return cls

    def _build(self, spec: HandlerSpec) -> type[Resource]:
        relations = self.index.relations(spec)
        methods = resource_method_names(spec.actions, taken=relations)
        operations = {python: ActionOperation(spec, spec.actions[name])
                      for python, name in methods.items()}
        related = {
            name: related_attribute(
                name, class_name=f"{spec.resource}_{name}",
                operations=[ActionOperation(other, a) for a in other.actions.values()],
                filled=len(other.params), target=partial(self._handler, other.name),
                doc=partial(_related_doc, spec, other), module=self._module,
                asynchronous=self._asynchronous)
            for name, other in relations.items()
        }
        return build_resource_class(
            "".join(w.title() for w in spec.cli_name.split("-")) or spec.name,
            kind=spec.cli_name, target=self._handler(spec.name), operations=operations,
            filled=len(spec.params), doc=partial(_class_doc, spec, relations, methods),
            module=self._module, asynchronous=self._asynchronous, reader=_reader(spec),
            waiter_client=self._waiter_client, waiter_prefix=spec.name, related=related)

    def wrap(self, spec: HandlerSpec, path: Mapping[str, Any], data: Any) -> Any:
        """Bind an answer of ``spec``: an object, or each object of a list.

        Args:
            spec: The handler that answered.
            path: The path values of the call, by placeholder name.
            data: The decoded answer.

        Returns:
            ``data`` with every object that names its location made a resource.
        """
        if isinstance(data, list):
            if not data or not isinstance(data[0], dict):
                return data
            context = tuple(path.values())
            target = self.index.item_of(spec)
            return [self._one(target, context, item) if type(item) is dict else item
                    for item in data]
        if type(data) is dict:
            return self._one(self.index.item_of(spec), tuple(path.values()), data)
        return data

    def _one(self, target: HandlerSpec | None, context: tuple[Any, ...],
             item: dict[str, Any]) -> Any:
        uri = item.get("resource_uri")
        if isinstance(uri, str):
            found = self.index.match_uri(uri, target)
            if found is not None:
                return bind(self.resource_class(found[0]), item, found[1])
        if target is None or target.params[-1] not in item:
            return item  # the object does not name its own location here
        params = target.params
        values = []
        for position, name in enumerate(params):
            if name in item:
                values.append(item[name])
            elif position < len(context):
                values.append(context[position])
            else:
                return item
        return bind(self.resource_class(target), item, tuple(values))


def _related_doc(item: HandlerSpec, other: HandlerSpec) -> str:
    return (f"The ``{other.name}`` handler ({other.path}) with this {item.cli_name}'s path "
            "filled in.\n\nActions: " + ", ".join(other.actions) + "\n")


def _getter(item: HandlerSpec, reader: str, handler: Callable[[str], Any],
            asynchronous: bool, owner: str) -> Callable[..., Any]:
    op = Operation(GETTER_NAME, GETTER_NAME,
                   describe=lambda: ActionOperation(item, item.actions[reader]).details)

    def get(self: Handler, /, *args: Any, **kwargs: Any) -> Any:
        return getattr(handler(item.name), reader)(*args, **kwargs)

    async def get_async(self: Handler, /, *args: Any, **kwargs: Any) -> Any:
        return await getattr(handler(item.name), reader)(*args, **kwargs)

    method: Callable[..., Any] = get_async if asynchronous else get
    method.__name__ = GETTER_NAME
    method.__qualname__ = f"{owner}.{GETTER_NAME}"
    method.__doc__ = LazyDocstring(lambda: (
        f"Read one {item.cli_name}: the same request as ``{item.name}.{reader}(...)``.\n\n"
        + op.docstring()))
    method.__signature__ = _LazySignature(op)  # type: ignore[attr-defined]
    return method


def handler_class_with_get(index: ResourceIndex, handler: Callable[[str], Any],
                           spec: HandlerSpec, *, asynchronous: bool = False,
                           module: str = "maas_dyn.maas.handlers") -> type[Handler]:
    """:func:`~maas_dyn.maas.handlers.handler_class`, plus ``get`` on a collection.

    A collection with an item handler that has a RESTful read gets ``get(...)``, which
    reads one item (``client.machines.get(system_id)``); an action the server itself
    calls ``get`` keeps the name, and the reader is then not added.

    Args:
        index: The description's index.
        handler: Returns a handler object of the client by Python name.
        spec: The handler.
        asynchronous: Coroutine methods.
        module: ``__module__`` of the class.

    Returns:
        The class.
    """
    cls = handler_class(spec, asynchronous=asynchronous, module=module)
    item = None if _is_item(spec) else index.item_of(spec)
    reader = _reader(item) if item is not None else ""
    if reader and item is not None and GETTER_NAME not in spec.actions:
        setattr(cls, GETTER_NAME, _getter(item, reader, handler, asynchronous, cls.__qualname__))
    return cls

