"""What every workflow shares: selecting machines, and logging each step.

Every step of every workflow is logged through the ``maas_dyn.workflows`` logger as event
``workflow.step`` with fields of :data:`maas_dyn.logging.FIELDS` (``target``: the machine,
``action``, ``status``: where it ended, ``duration_ms``, ``error``), so one log handler
(e.g. the JSON formatter) sees provisioning, tagging, storage, network and power alike.
Messages and fields never carry parameter values: a power password cannot leak through a
step's log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from maas_dyn.logging import log_event

__all__ = ["Filters", "Step", "fields", "logged_step", "select_machines"]

_log = logging.getLogger("maas_dyn.workflows")

# ``machines read`` filters: {"tags": "k8s", "zone": ["a", "b"]} or ordered pairs.
Filters = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


@dataclass
class Step:
    """One step of a workflow on one machine, as logged.

    Attributes:
        machine: The system_id (or another name of the object worked on).
        action: What was done, e.g. ``"deploy"``.
        state: Where it ended, e.g. ``"Deployed"``; ``"error: <Error>"`` on failure.
        duration: Seconds the step took.
    """

    machine: str
    action: str
    state: str = ""
    duration: float = 0.0


@contextmanager
def logged_step(machine: str, action: str) -> Iterator[Step]:
    """Time a step and log it with the structured fields; the body sets ``state``.

    Args:
        machine: What the step works on.
        action: The step's name.

    Yields:
        The step record, to set ``state`` on.
    """
    step = Step(machine, action)
    started = time.monotonic()
    try:
        yield step
    except Exception as exc:
        step.duration = time.monotonic() - started
        step.state = step.state or f"error: {type(exc).__name__}"
        log_event(_log, logging.WARNING, "workflow.step", "%s %s: %s after %.1f s",
                  step.action, machine, step.state, step.duration, error=type(exc).__name__,
                  **_fields(step))
        raise
    step.duration = time.monotonic() - started
    log_event(_log, logging.INFO, "workflow.step", "%s %s: %s after %.1f s", step.action,
              machine, step.state or "done", step.duration, **_fields(step))


def _fields(step: Step) -> dict[str, Any]:
    return {"target": step.machine, "action": step.action, "status": step.state or None,
            "duration_ms": round(step.duration * 1000, 1)}


def fields(**values: Any) -> list[tuple[str, Any]]:
    """Turn keyword values into request fields, leaving out ``None``.

    A list or tuple value becomes one field per item (how MAAS takes repeated values).

    Args:
        **values: Parameter names and values.

    Returns:
        ``(name, value)`` pairs in the order given.
    """
    pairs: list[tuple[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            pairs += [(name, item) for item in value]
        elif value is not None:
            pairs.append((name, value))
    return pairs


def select_machines(client: Any, filters: Filters = (), *, collection: str = "machines"
                    ) -> list[dict[str, Any]]:
    """Return the machines ``machines read`` finds for some filters, checked both ways.

    Filter keys must be ones the server's description documents for ``read`` or ones
    whose effect shows on the returned machines, and every returned machine must match
    them (see :mod:`maas_dyn.workflows.selection`): MAAS ignores a filter it does not know,
    and a misspelt one would otherwise select every machine.

    Args:
        client: A MAAS client.
        filters: A mapping (a list value repeats the key) or ``(name, value)`` pairs.
        collection: The collection to read (``machines``, ``nodes``, ``devices``...).

    Returns:
        The machines, as the server rendered them.

    Raises:
        InvalidParametersError: A filter key the server would ignore; nothing was sent.
        UnsafeSelectionError: The server returned machines that do not match the filters.
    """
    from maas_dyn.workflows.selection import check_filter_names, check_selection, filter_pairs

    pairs = filter_pairs(filters)
    if pairs:  # with no filter there is nothing to misspell or ignore
        check_filter_names(client.description, pairs, collection)
    found = client.request(collection, "read", fields=pairs).data
    machines = [dict(m) for m in found if isinstance(m, Mapping)] if isinstance(found, list) \
        else []
    if pairs:
        check_selection(client.description, pairs, machines, collection)
    return machines
