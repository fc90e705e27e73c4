"""Power: set IPMI or Redfish parameters, power on/off/cycle, query power across many.

Power types are a table (:data:`POWER_TYPES`): the parameters each driver requires and
which of them are secrets. :class:`PowerSettings` never shows a secret in its ``repr``,
in an error or in a log line, and :func:`get_power_parameters` masks what the server
returns. Power actions are a table too (:data:`POWER_ACTIONS`: the machine action and
the waiter that confirms it); a cycle is "off, confirmed, then on"::

    set_power(client, "abc123", PowerSettings.ipmi("10.0.0.5", "admin", password))
    power_many(client, ["abc123", "def456"], "cycle", wait=True)
    states = query_power(client, ids, concurrency=32)       # {"abc123": "on", ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from maas_dyn.errors import InvalidParametersError
from maas_dyn.workflows._common import logged_step
from maas_dyn.workflows.bulk import BulkResult, run_bulk
from maas_dyn.workflows.waiters import get_waiter

__all__ = [
    "MASK",
    "POWER_ACTIONS",
    "POWER_TYPES",
    "PowerAction",
    "PowerSettings",
    "PowerType",
    "get_power_parameters",
    "power",
    "power_many",
    "query_power",
    "set_power",
]

MASK = "********"
"""What a secret power parameter (a BMC password) is shown as in reprs, logs and results.
"""


@dataclass(frozen=True)
class PowerType:
    """A MAAS power driver, as far as setting it up needs.

    Attributes:
        required: Parameters the driver cannot work without.
        secrets: Parameters that are credentials (masked everywhere).
    """

    required: frozenset[str]
    secrets: frozenset[str] = frozenset({"power_pass"})


# The drivers MAAS calls ipmi and redfish (provisioningserver/drivers/power).
POWER_TYPES: Mapping[str, PowerType] = {
    "ipmi": PowerType(frozenset({"power_address"}), frozenset({"power_pass", "k_g"})),
    "redfish": PowerType(frozenset({"power_address", "power_user", "power_pass"})),
}
"""The power drivers :class:`PowerSettings` checks (``ipmi``, ``redfish``): the parameters
each requires and those that are secrets.
"""


@dataclass(frozen=True)
class PowerSettings:
    """A power driver and its parameters; secrets never appear in its ``repr``.

    Attributes:
        power_type: A key of :data:`POWER_TYPES`.
        parameters: Driver parameters, e.g. ``{"power_address": "10.0.0.5"}``.
    """

    power_type: str
    parameters: Mapping[str, str]

    def __post_init__(self) -> None:
        kind = POWER_TYPES.get(self.power_type)
        if kind is None:
            raise InvalidParametersError(
                f"unknown power type {self.power_type!r}; known: {', '.join(POWER_TYPES)}",
                errors={"power_type": ["unknown power type"]})
        missing = sorted(name for name in kind.required if not self.parameters.get(name))
        if missing:
            raise InvalidParametersError(
                f"{self.power_type} needs {', '.join(missing)}",
                errors={name: ["required"] for name in missing})

    @classmethod
    def ipmi(cls, address: str, user: str = "", password: str = "", *,
             driver: str = "LAN_2_0", **extra: str) -> PowerSettings:
        """IPMI settings (``power_driver`` LAN_2_0 is IPMI 2.0).

        Args:
            address: BMC address.
            user: BMC user.
            password: BMC password.
            driver: ``LAN_2_0`` or ``LAN`` (IPMI 1.5).
            **extra: Other driver parameters (``cipher_suite_id``, ``privilege_level``...).

        Returns:
            The settings.
        """
        return cls("ipmi", {"power_address": address, "power_user": user,
                            "power_pass": password, "power_driver": driver, **extra})

    @classmethod
    def redfish(cls, address: str, user: str, password: str, **extra: str) -> PowerSettings:
        """Redfish settings.

        Args:
            address: BMC address.
            user: BMC user.
            password: BMC password.
            **extra: Other driver parameters (``node_id``...).

        Returns:
            The settings.
        """
        return cls("redfish", {"power_address": address, "power_user": user,
                               "power_pass": password, **extra})

    def masked(self) -> dict[str, str]:
        """The parameters with every secret replaced by :data:`MASK`."""
        return _mask(self.power_type, self.parameters)

    def __repr__(self) -> str:
        return f"PowerSettings({self.power_type!r}, {self.masked()!r})"


def _mask(power_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    kind = POWER_TYPES.get(power_type)
    secrets = kind.secrets if kind is not None else frozenset({"power_pass"})
    return {k: (MASK if k in secrets and v else v) for k, v in parameters.items()}


def set_power(client: Any, system_id: str, settings: PowerSettings, *,
              skip_check: bool = False) -> dict[str, Any]:
    """Set a machine's power type and parameters (``machine update``, admin only).

    Args:
        client: A MAAS client.
        system_id: The machine.
        settings: The driver and its parameters.
        skip_check: Store the parameters without the server checking them.

    Returns:
        The machine as the server rendered it.
    """
    pairs: list[tuple[str, Any]] = [("power_type", settings.power_type)]
    # The update form takes each driver parameter as power_parameters_<name>.
    pairs += [(f"power_parameters_{name}", value)
              for name, value in settings.parameters.items() if value != ""]
    if skip_check:
        pairs.append(("power_parameters_skip_check", True))
    with logged_step(system_id, f"set power {settings.power_type}") as step:
        machine: dict[str, Any] = client.request("machine", "update", system_id,
                                                 fields=pairs).data
        step.state = str(machine.get("power_type", settings.power_type))
    return machine


def get_power_parameters(client: Any, system_id: str) -> dict[str, Any]:
    """Return a machine's power parameters with every secret masked.

    Args:
        client: A MAAS client.
        system_id: The machine.

    Returns:
        The parameters, safe to print or log.
    """
    machine = client.machine.read(system_id)
    parameters = client.machine.power_parameters(system_id)
    return _mask(str(machine.get("power_type", "")), parameters)


@dataclass(frozen=True)
class PowerAction:
    """One power action.

    Attributes:
        action: The ``machine`` action.
        waiter: The waiter that confirms it.
    """

    action: str
    waiter: str


POWER_ACTIONS: Mapping[str, tuple[PowerAction, ...]] = {
    "on": (PowerAction("power_on", "machine_powered_on"),),
    "off": (PowerAction("power_off", "machine_powered_off"),),
    # Off must be confirmed before on, or "on" would find the machine still running.
    "cycle": (PowerAction("power_off", "machine_powered_off"),
              PowerAction("power_on", "machine_powered_on")),
}
"""What ``on``, ``off`` and ``cycle`` send, in order, and the waiter that confirms each (a
cycle is off, confirmed, then on).
"""


def power(client: Any, system_id: str, what: str, *, wait: bool = False,
          timeout: float | None = None, interval: float | None = None) -> str:
    """Power a machine on, off, or cycle it.

    Args:
        client: A MAAS client.
        system_id: The machine.
        what: A key of :data:`POWER_ACTIONS`.
        wait: Poll the power state until the BMC confirms the last action.
        timeout: Seconds to wait for each confirmation.
        interval: Seconds between polls.

    Returns:
        The last power state seen (``"on"``, ``"off"``...).

    Raises:
        InvalidParametersError: Unknown ``what``.
        MAASAPIError: The server refused (e.g. 409: cannot power on an unowned machine).
        WaiterError: The BMC reported an error state or did not confirm in time.
    """
    actions = POWER_ACTIONS.get(what)
    if actions is None:
        raise InvalidParametersError(f"power action must be one of {', '.join(POWER_ACTIONS)}",
                                     errors={"action": [f"unknown: {what}"]})
    overrides = {k: v for k, v in (("timeout", timeout), ("interval", interval))
                 if v is not None}
    state = ""
    with logged_step(system_id, f"power {what}") as step:
        for index, each in enumerate(actions):
            machine = client.request("machine", each.action, system_id).data
            state = str(machine.get("power_state", ""))
            if wait or index < len(actions) - 1:
                state = str(get_waiter(client, each.waiter, **overrides)
                            .wait(system_id)["state"])
        step.state = state
    return state


def power_many(client: Any, system_ids: Iterable[str], what: str, *, wait: bool = False,
               concurrency: int = 8, retries: int = 0, progress: TextIO | bool | None = None,
               **options: Any) -> BulkResult[str]:
    """Run :func:`power` on many machines at once.

    Args:
        client: A MAAS client.
        system_ids: The machines.
        what: A key of :data:`POWER_ACTIONS`.
        wait: Wait for each machine's BMC to confirm.
        concurrency: Machines worked on at once.
        retries: Extra attempts for a machine whose error is retryable.
        progress: Progress display.
        **options: ``timeout`` and ``interval`` of :func:`power`.

    Returns:
        Per machine: its last power state or its error.
    """
    return run_bulk(lambda system_id: power(client, system_id, what, wait=wait, **options),
                    system_ids, concurrency=concurrency, retries=retries,
                    label=f"power {what}", progress=progress)


def query_power(client: Any, system_ids: Iterable[str], *, concurrency: int = 16,
                progress: TextIO | bool | None = None) -> BulkResult[str]:
    """Ask every machine's BMC for its power state, in parallel (``query_power_state``).

    Args:
        client: A MAAS client.
        system_ids: The machines.
        concurrency: Queries in flight at once.
        progress: Progress display.

    Returns:
        Per machine: its power state (``value``) or the error.
    """
    return run_bulk(lambda system_id: str(client.machine.query_power_state(system_id)["state"]),
                    system_ids, concurrency=concurrency, label="query power",
                    progress=progress)
