"""Naming rules: from the describe document's names to CLI and Python names.

The official ``maas`` CLI is the reference for handler and action names; Python names
are the same with dashes turned into underscores. The rules are data (the tables
below) so that a new server release needs no code change.
"""

from __future__ import annotations

import re
from functools import lru_cache

from maas_dyn._dynamic import python_identifier

# The official CLI's word splitter: a run of capitals sticks to the next word.
_WORDS = re.compile(r"([A-Z]*[a-z0-9]+|[A-Z]+)(?:(?=[^a-z0-9])|\Z)")

# Words dropped from a resource name when it becomes a command.
_DROPPED_WORDS = frozenset({"handler"})

# When two actions of one handler share a name (MAAS 1.9 and 2.0 document a RESTful
# action and an ``op`` action both called ``delete`` or ``create``), the RESTful one
# keeps the name and the other gets the first free suffix of this table.
DUPLICATE_SUFFIXES = ("_op", "_{method}")


@lru_cache(maxsize=1024)
def handler_cli_name(resource_name: str) -> str:
    """Return the official CLI's command for a resource, e.g. ``boot-resources``.

    Args:
        resource_name: The resource's name, e.g. ``BootResourcesHandler``.

    Returns:
        The lowercase, dash-joined command name.
    """
    words = [w.lower() for w in _WORDS.findall(resource_name)]
    return "-".join(w for w in words if w not in _DROPPED_WORDS)


def cli_to_python(cli_name: str, taken: frozenset[str] = frozenset()) -> str:
    """Return the Python attribute name for a CLI name (``boot-resources`` -> ``boot_resources``).

    Args:
        cli_name: A handler or action command name.
        taken: Names that must not be produced (attributes of the client itself).

    Returns:
        A valid, non-clashing identifier.
    """
    return python_identifier(cli_name.replace("-", "_"), taken)


def action_cli_name(python_name: str) -> str:
    """Return the CLI form of an action name (``power_parameters`` -> ``power-parameters``).

    Args:
        python_name: The action's name as generated for Python.

    Returns:
        The dash-joined command name.
    """
    return python_name.rstrip("_").replace("_", "-")


def unique_action_name(name: str, method: str, taken: set[str]) -> str:
    """Pick a free Python name for an action, following :data:`DUPLICATE_SUFFIXES`.

    Args:
        name: The action's own name (already a valid identifier).
        method: Its HTTP method, used by a suffix rule.
        taken: Names already used in the handler; the result is added to it.

    Returns:
        ``name`` itself when free, else the first free suffixed form.
    """
    if name not in taken:
        taken.add(name)
        return name
    candidates = [name + s.format(method=method.lower()) for s in DUPLICATE_SUFFIXES]
    chosen = next((c for c in candidates if c not in taken), None)
    counter = 2
    while chosen is None:
        candidate = f"{name}_{counter}"
        chosen = candidate if candidate not in taken else None
        counter += 1
    taken.add(chosen)
    return chosen
