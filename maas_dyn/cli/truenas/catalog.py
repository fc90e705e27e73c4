"""The method names of a TrueNAS server, offline: resolving words, suggestions, completion.

``truenas-dyn login`` stores the server's ``core.get_methods`` document beside the
profile, with a small index of it (:func:`build_index`): the method names and, per
positional argument, the values its schema documents as choices (``enum``). The index
is what completion, namespace listings and did-you-mean read: a few kilobytes instead
of the document's megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from maas_dyn.cli._common.exits import unknown

__all__ = ["Catalog", "build_index"]


def _choices(schema: Any) -> list[str]:
    # Only plain string/number enums can be typed as one word on a command line.
    values = schema.get("enum") if isinstance(schema, Mapping) else None
    if not isinstance(values, list):
        return []
    return [str(v) for v in values if isinstance(v, (str, int, float)) and not isinstance(v, bool)]


def build_index(document: Mapping[str, Any]) -> dict[str, Any]:
    """Index a ``core.get_methods`` document for completion and suggestions.

    Args:
        document: ``{method name: metadata}``.

    Returns:
        ``{"methods": {name: [[choices of argument 1], [choices of argument 2], ...]}}``.
    """
    methods: dict[str, list[list[str]]] = {}
    for name, meta in document.items():
        accepts = meta.get("accepts") if isinstance(meta, Mapping) else None
        methods[name] = [_choices(a) for a in accepts] if isinstance(accepts, list) else []
    return {"methods": methods}


class Catalog:
    """The method names of one server and the choices of their arguments.

    Args:
        methods: ``{method name: [[choices of argument 1], ...]}``.
    """

    def __init__(self, methods: Mapping[str, Sequence[Sequence[str]]]):
        self._methods = methods
        # Every dotted prefix of a method name is a namespace (or the method itself).
        self._prefixes = {".".join(name.split(".")[:depth]) for name in methods
                          for depth in range(1, name.count(".") + 2)}

    @classmethod
    def from_index(cls, index: Mapping[str, Any]) -> Catalog:
        """Build from an index written by :func:`build_index`."""
        methods = index.get("methods")
        return cls(methods if isinstance(methods, Mapping) else {})

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Catalog:
        """Build from method names alone (no argument choices)."""
        return cls({name: [] for name in names})

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    @property
    def names(self) -> list[str]:
        """Every method name, sorted."""
        return sorted(self._methods)

    def children(self, path: str = "") -> list[str]:
        """Return the next words under a namespace path (``""``: the top namespaces)."""
        head = f"{path}." if path else ""
        return sorted({name[len(head):].split(".")[0] for name in self._methods
                       if name.startswith(head) and name != path})

    def choices(self, method: str, position: int) -> list[str]:
        """Return the documented choices of a method's argument (0-based), if any."""
        arguments = self._methods.get(method) or []
        return list(arguments[position]) if 0 <= position < len(arguments) else []

    def resolve(self, words: Sequence[str]) -> tuple[str, list[str]]:
        """Find the longest run of words that names a method or namespace.

        Args:
            words: The words after the profile, e.g. ``["pool", "dataset", "query", "[]"]``.

        Returns:
            ``(dotted path, the remaining words)``.

        Raises:
            UsageError: The first word names no namespace (with the closest ones).
        """
        path, used = "", 0
        for index in range(len(words)):
            candidate = ".".join(words[: index + 1])
            if candidate not in self._prefixes:
                break
            path, used = candidate, index + 1
        if not path:
            raise unknown("namespace", words[0], self.children(),
                          "see `truenas-dyn PROFILE -h` for the namespaces")
        return path, list(words[used:])

    def unknown_method(self, name: str) -> Exception:
        """Build the usage error for a method the server does not have, with suggestions."""
        return unknown("method", name, self._methods,
                       "see `truenas-dyn PROFILE NAMESPACE -h` for its methods")
