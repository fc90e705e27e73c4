"""The seam between resources' ``wait(name)`` and the waiter table of the workflows.

Resources (:mod:`maas_dyn._resources`) sit below the workflows package and must not
import it; the workflows package registers its named waiters here when imported
(:func:`register_waiters`), and the top-level package lists that module in
:data:`WAITER_MODULES` so the first ``wait()`` imports it. Standard library only:
``import maas_dyn`` imports this module.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["WAITER_MODULES", "find_waiter", "register_waiters", "waiter_names"]

# -- the waiter seam ------------------------------------------------------------------------

# Modules that register waiters when imported, imported on the first wait(): the top-level
# package's ``_WAITER_MODULES`` (it sits on top of the workflows; this layer does not),
# plus any a caller appends here.
WAITER_MODULES: list[str] = []
_WAITER_PROVIDERS: list[tuple[Callable[[], Iterable[str]], Callable[[Any, str], Any]]] = []
_LOADED = threading.Event()


def register_waiters(names: Callable[[], Iterable[str]], make: Callable[[Any, str], Any]) -> None:
    """Offer named waiters to resources' ``wait()``.

    Args:
        names: Returns the waiter names offered (``machine_deployed``...).
        make: ``make(client, name)`` returns an object with ``wait(*key, timeout=,
            interval=, on_progress=)`` and ``wait_async(...)``, or ``None``.
    """
    _WAITER_PROVIDERS.append((names, make))


def _load_waiter_modules() -> None:
    if not _LOADED.is_set():
        top = sys.modules.get("maas_dyn")
        for module in [*getattr(top, "_WAITER_MODULES", ()), *WAITER_MODULES]:
            importlib.import_module(module)
        _LOADED.set()


def waiter_names() -> list[str]:
    """Every registered waiter name."""
    _load_waiter_modules()
    return sorted({n for names, _ in _WAITER_PROVIDERS for n in names()})


def find_waiter(client: Any, name: str) -> Any:
    """Return the registered waiter ``name`` bound to ``client``, or ``None``.

    Args:
        client: The client the waiter polls through.
        name: The waiter's full name (``machine_deployed``).

    Returns:
        The waiter, or ``None``.
    """
    _load_waiter_modules()
    for names, make in _WAITER_PROVIDERS:
        if name in set(names()):
            return make(client, name)
    return None
