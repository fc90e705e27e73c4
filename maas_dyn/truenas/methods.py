"""``core.get_methods`` -> nested namespaces of real methods, through the shared engine.

Dotted names nest: ``pool.dataset.query`` is the method ``query`` of the namespace
``pool.dataset``, itself the attribute ``dataset`` of ``pool``. A name that is both a
method and a namespace (``pool.scrub`` next to ``pool.scrub.run``) becomes a callable
namespace: ``client.pool.scrub(...)`` calls the method and ``client.pool.scrub.run``
is there too. Namespace and method names that are Python keywords get a trailing
underscore (``global`` -> ``global_``).

Signatures and docstrings are computed per method on first use (see
:mod:`maas_dyn.truenas.docs`), so building a client from an 800-method document stays
cheap.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from maas_dyn._dynamic import (
    Namespace,
    Operation,
    OperationDetails,
    build_namespace_class,
    python_identifier,
)
from maas_dyn.errors import DescriptionError
from maas_dyn.truenas.docs import method_details, summary

__all__ = ["CallableService", "MethodSpec", "Methods", "Service", "Tree", "build_tree"]

_log = logging.getLogger("maas_dyn.truenas")

Invoke = Callable[[Operation, tuple[Any, ...], dict[str, Any]], Any]


@dataclass(frozen=True)
class MethodSpec:
    """One method of a ``core.get_methods`` document.

    Attributes:
        name: Dotted method name.
        entry: Its metadata, as the server sent it.
    """

    name: str
    entry: Mapping[str, Any]

    @property
    def job(self) -> bool:
        """Whether the method runs as a job (the call returns a job id)."""
        return bool(self.entry.get("job"))

    @property
    def accepts(self) -> list[Mapping[str, Any]]:
        """One JSON Schema per positional parameter."""
        accepts = self.entry.get("accepts")
        return [a for a in accepts if isinstance(a, Mapping)] if isinstance(accepts, list) else []

    def details(self) -> OperationDetails:
        """Compute the parameters and documentation (used lazily by the engine)."""
        return method_details(self.name, self.entry)


class Methods:
    """A ``core.get_methods`` document: ``{method name: metadata}``.

    Args:
        document: The parsed document.

    Raises:
        DescriptionError: The document is not a mapping of names to metadata objects.
    """

    def __init__(self, document: Mapping[str, Any]):
        if not isinstance(document, Mapping) or not all(
                isinstance(k, str) and k and isinstance(v, Mapping) for k, v in document.items()):
            raise DescriptionError(
                "a core.get_methods document maps method names to metadata objects, e.g. "
                '{"pool.query": {"accepts": [...], ...}}')
        self.document = document
        # A name with an empty dotted part (".x", "x..y", "x.") has no place in the
        # namespace tree (it would collide with the root); skip it rather than refuse the
        # whole document, so every other method stays usable.
        odd = [name for name in document if not all(name.split("."))]
        if odd:
            _log.warning("ignoring TrueNAS method names with empty parts: %s",
                         ", ".join(map(repr, odd[:5])))
        self.specs = {name: MethodSpec(name, entry) for name, entry in document.items()
                      if name not in odd}

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.specs))

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, name: str) -> MethodSpec | None:
        """Return a method's spec, or ``None``."""
        return self.specs.get(name)


class Service(Namespace):
    """Base class of every generated TrueNAS namespace (``client.pool``, ...)."""

    _kind = "namespace"


class _CallSignature:
    """``__signature__`` of a callable namespace: the method's, computed on use."""

    def __get__(self, obj: CallableService | None, owner: type | None = None) \
            -> inspect.Signature | None:
        # On the class itself there is no signature to give; inspect then falls back.
        return None if obj is None else obj._call_operation.signature()


class CallableService(Service):
    """A namespace that is also a method (``client.pool.scrub(...)``)."""

    _call_operation: Operation
    __signature__ = _CallSignature()

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        """Call the method of the same name as this namespace."""
        return self._invoke(self._call_operation, args, kwargs)


@dataclass
class Tree:
    """The namespaces built from a document.

    Attributes:
        top: Top-level namespaces (and dot-less methods) by Python name.
        by_name: Every method (bound) and namespace by its dotted wire name.
        operations: Every operation by its dotted wire name.
    """

    top: dict[str, Any]
    by_name: dict[str, Any]
    operations: dict[str, Operation]


def _class_name(path: str) -> str:
    return "".join(python_identifier(part).title().replace("_", "") for part in path.split("."))


def _operation(spec: MethodSpec, name: str) -> Operation:
    return Operation(name, spec.name, spec.details, payload=spec)


def _namespace_doc(path: str, call: Operation | None, methods: Methods,
                   leaves: Mapping[str, str], children: Mapping[str, str]) -> Callable[[], str]:
    def render() -> str:
        if call is not None:
            lines = [call.docstring().rstrip(), "", f"``{path}`` is also a namespace."]
        else:
            lines = [f"TrueNAS namespace ``{path or '(root)'}``."]
        if leaves:
            lines += ["", "Methods:"]
            for python, wire in leaves.items():
                lines.append(f"    {python}: {summary(methods.specs[wire].entry)}".rstrip(": "))
        if children:
            lines += ["", "Namespaces:", "    " + ", ".join(children)]
        return "\n".join(lines) + "\n"

    return render


def _layout(methods: Methods, reserved: Collection[str]) \
        -> tuple[set[str], dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Return (namespace paths, methods per namespace, child namespaces per namespace)."""
    top_taken = frozenset(reserved)
    namespaces: set[str] = set()
    for name in methods.specs:
        parts = name.split(".")
        namespaces.update(".".join(parts[:depth]) for depth in range(1, len(parts)))
    children: dict[str, dict[str, str]] = {}  # namespace -> {python name: child path}
    for path in sorted(namespaces):
        parent, _, leaf = path.rpartition(".")
        siblings = children.setdefault(parent, {})
        siblings[python_identifier(leaf, siblings.keys() | (set() if parent else top_taken))] = path
    leaves: dict[str, dict[str, str]] = {}  # namespace -> {python name: method name}
    for name in sorted(methods.specs):
        if name in namespaces:
            continue  # a callable namespace: the method is the namespace's __call__
        parent, _, leaf = name.rpartition(".")
        used = leaves.setdefault(parent, {})
        taken = used.keys() | children.get(parent, {}).keys() | (set() if parent else top_taken)
        used[python_identifier(leaf, taken)] = name
    return namespaces, leaves, children


def build_tree(methods: Methods, invoke: Invoke, reserved: Collection[str] = (), *,
               asynchronous: bool = False) -> Tree:
    """Build the namespace objects of a document.

    Args:
        methods: The document.
        invoke: The client's funnel, called with the operation and the arguments.
        reserved: Names a top-level namespace must not take (the client's attributes).
        asynchronous: Make every method a coroutine function (the async facade's
            funnel returns awaitables).

    Returns:
        The tree.
    """
    namespaces, leaves, children = _layout(methods, reserved)
    tree = Tree({}, {}, {})
    instances: dict[str, Service] = {}
    # Children first, so that each namespace can attach its built children; the root
    # ("") only holds methods whose names have no dot.
    for path in sorted(namespaces | {""}, key=lambda p: (-p.count("."), p == "", p)):
        own = methods.get(path)
        call = _operation(own, path.rpartition(".")[2]) if own is not None else None
        ops = [_operation(methods.specs[wire], python)
               for python, wire in leaves.get(path, {}).items()]
        cls = build_namespace_class(
            _class_name(path) or "Root", ops,
            _namespace_doc(path, call, methods, leaves.get(path, {}), children.get(path, {})),
            module="maas_dyn.truenas.methods",
            base=CallableService if call is not None else Service, asynchronous=asynchronous)
        instance = cls(invoke, path)
        assert isinstance(instance, Service)
        if call is not None:
            instance._call_operation = call  # type: ignore[attr-defined]
            tree.operations[path] = call
        for python, child in children.get(path, {}).items():
            instance.__dict__[python] = instances[child]
        for op in ops:
            tree.operations[op.wire_name] = op
            tree.by_name[op.wire_name] = getattr(instance, op.name)
        instances[path] = instance
        if path:
            tree.by_name[path] = instance
    root = instances[""]
    tree.top = {python: getattr(root, python)
                for python in [*children.get("", {}), *leaves.get("", {})]}
    return tree
