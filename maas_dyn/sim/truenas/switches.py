"""Fault and health switches from the command line: ``NAME[:key=value,...]``.

``truenas-dyn sim --fault drop_connection:method=pool.query,count=1`` calls
``sim.faults.drop_connection(method="pool.query", count=1)``; ``--condition`` does the
same for :class:`~maas_dyn.sim.truenas.conditions.Conditions` and ``raise_alert``. The
switches and their parameters come from the Python API itself (the tables below name
the methods; the signatures give names, types and defaults), so the command line offers
exactly what the API does.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maas_dyn.sim.truenas.conditions import Conditions
from maas_dyn.sim.truenas.faults import Faults

__all__ = ["CONDITIONS", "FAULTS", "Switch", "apply", "describe", "parse_switch"]

# Switch name -> (owner, method name). Owner "sim" is the simulator itself.
FAULTS: dict[str, tuple[type, str]] = {
    "drop_connection": (Faults, "drop_connection"),
    "slow_replies": (Faults, "slow_replies"),
    "fail_jobs": (Faults, "fail_jobs"),
}
CONDITIONS: dict[str, tuple[type, str]] = {
    "degrade_pool": (Conditions, "degrade_pool"),
    "disk_errors": (Conditions, "disk_errors"),
    "last_scrub": (Conditions, "last_scrub"),
    "fill_dataset": (Conditions, "fill_dataset"),
    "stop_service": (Conditions, "stop_service"),
    "fail_job": (Conditions, "fail_job"),
    "raise_alert": (object, "raise_alert"),  # TrueNASSimulator.raise_alert
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Switch:
    """One parsed switch.

    Attributes:
        name: The switch, e.g. ``"drop_connection"``.
        kwargs: Its keyword arguments, converted to the parameters' types.
    """

    name: str
    kwargs: dict[str, Any]


def _signature(table: dict[str, tuple[type, str]], name: str) -> inspect.Signature:
    owner, method = table[name]
    if owner is object:
        from maas_dyn.sim.truenas.simulator import TrueNASSimulator

        owner = TrueNASSimulator
    return inspect.signature(getattr(owner, method))


def _convert(annotation: str, text: str) -> Any:
    # Annotations are strings (from __future__ import annotations): read their names
    # ("int | None" -> {"int", "None"}; "DropPoint" names no builtin and stays text).
    names = set(re.findall(r"\w+", annotation))
    if "None" in names and text.lower() == "none":
        return None
    if "bool" in names:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a boolean (true/false)")
    if "int" in names and "float" not in names:
        return int(text)
    if "float" in names:
        return float(text)
    return text


def parse_switch(table: dict[str, tuple[type, str]], text: str) -> Switch:
    """Parse ``NAME[:key=value,...]`` against a table of switches.

    Args:
        table: :data:`FAULTS` or :data:`CONDITIONS`.
        text: The command-line value.

    Returns:
        The switch.

    Raises:
        ValueError: Unknown switch or parameter, a value of the wrong type, or a
            required parameter missing; the message lists what is allowed.
    """
    name, _, rest = text.partition(":")
    if name not in table:
        raise ValueError(f"unknown switch {name!r}; choose from {', '.join(table)}")
    parameters = {key: value for key, value in _signature(table, name).parameters.items()
                  if key != "self"}
    kwargs: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or key not in parameters:
            raise ValueError(f"{name}: {pair!r} is not key=value of one of "
                             f"{', '.join(parameters)}")
        try:
            kwargs[key] = _convert(str(parameters[key].annotation), value)
        except ValueError as exc:
            raise ValueError(f"{name}: {key}={value!r}: {exc}") from None
    missing = [key for key, parameter in parameters.items()
               if parameter.default is inspect.Parameter.empty and key not in kwargs]
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")
    return Switch(name, kwargs)


def describe(table: dict[str, tuple[type, str]]) -> str:
    """List the switches and their parameters for ``-h``.

    Args:
        table: :data:`FAULTS` or :data:`CONDITIONS`.

    Returns:
        e.g. ``"drop_connection[:count=1,method=None,...]; slow_replies:delay=..."``.
    """
    entries = []
    for name in table:
        parameters = [parameter for key, parameter in
                      _signature(table, name).parameters.items() if key != "self"]
        shown = ",".join(key.name + ("=..." if key.default is inspect.Parameter.empty
                                     else f"={key.default!r}") for key in parameters)
        entries.append(f"{name}:{shown}" if shown else name)
    return "; ".join(entries)


def apply(target: Callable[[str], Callable[..., Any]], switch: Switch) -> Any:
    """Call the switch's method on its owner.

    Args:
        target: Gives the bound method for a switch name.
        switch: The switch.

    Returns:
        What the method returned.
    """
    return target(switch.name)(**switch.kwargs)
