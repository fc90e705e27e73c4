"""Lazy package attributes (PEP 562), so importing a package costs only what is used."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, namespace: dict[str, Any], homes: Mapping[str, tuple[str, str]],
    public: Iterable[str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a package's ``__getattr__`` and ``__dir__`` from a table of homes.

    Args:
        package: The package's name, for messages.
        namespace: The package's ``globals()``; a resolved name is stored there so the
            next lookup is a plain attribute.
        homes: Public name -> (module, attribute); an empty attribute means the module.
        public: The package's ``__all__``.

    Returns:
        ``(__getattr__, __dir__)`` for the package to assign.
    """
    names = sorted(public)

    def get(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, attribute = homes[name]
        module = import_module(module_name)
        value = getattr(module, attribute) if attribute else module
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | set(names))

    return get, listing
