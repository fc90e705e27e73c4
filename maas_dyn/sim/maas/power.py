"""Power drivers the simulator knows: their parameters, validation and description.

Fields follow the MAAS drivers (``provisioningserver/drivers/power``); only the drivers
seeded machines use are listed. Powering is simulated: no BMC is ever contacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import ValidationFailed
from maas_dyn.sim.maas.validation import invalid_choice

PARAM_PREFIX = "power_parameters_"
SKIP_CHECK = PARAM_PREFIX + "skip_check"


@dataclass(frozen=True)
class PowerField:
    """One parameter of a power driver."""

    name: str
    label: str
    required: bool = False
    field_type: str = "string"
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = ""
    scope: str = "bmc"
    secret: bool = False


@dataclass(frozen=True)
class PowerType:
    """A power driver."""

    name: str
    description: str
    fields: tuple[PowerField, ...] = field(default=())
    chassis: bool = False
    can_probe: bool = False


POWER_TYPES: dict[str, PowerType] = {
    pt.name: pt
    for pt in (
        PowerType("manual", "Manual"),
        PowerType(
            "ipmi",
            "IPMI",
            (
                PowerField(
                    "power_driver",
                    "Power driver",
                    True,
                    "choice",
                    (("LAN", "LAN [IPMI 1.5]"), ("LAN_2_0", "LAN_2_0 [IPMI 2.0]")),
                    "LAN_2_0",
                ),
                PowerField(
                    "power_boot_type",
                    "Power boot type",
                    False,
                    "choice",
                    (("auto", "Automatic"), ("legacy", "Legacy boot"), ("efi", "EFI boot")),
                    "auto",
                ),
                PowerField("power_address", "IP address", required=True),
                PowerField("power_user", "Power user"),
                PowerField("power_pass", "Power password", field_type="password", secret=True),
                PowerField("k_g", "K_g BMC key", field_type="password", secret=True),
                PowerField(
                    "cipher_suite_id",
                    "Cipher Suite ID",
                    False,
                    "choice",
                    (("17", "17"), ("3", "3"), ("", "freeipmi-tools default"), ("8", "8"),
                     ("12", "12")),
                    "3",
                ),
                PowerField(
                    "privilege_level",
                    "Privilege Level",
                    False,
                    "choice",
                    (("USER", "User"), ("OPERATOR", "Operator"), ("ADMIN", "Administrator")),
                    "OPERATOR",
                ),
                PowerField("mac_address", "Power MAC", scope="node"),
            ),
        ),
        PowerType(
            "redfish",
            "Redfish",
            (
                PowerField("power_address", "Redfish address", required=True),
                PowerField("power_user", "Redfish user", required=True),
                PowerField(
                    "power_pass", "Redfish password", True, "password", secret=True
                ),
                PowerField("node_id", "Node ID", scope="node"),
            ),
        ),
        PowerType(
            "virsh",
            "Virsh (virtual systems)",
            (
                PowerField("power_address", "Address", required=True),
                PowerField("power_pass", "Password (optional)", field_type="password",
                           secret=True),
                PowerField("power_id", "Virsh VM ID", required=True, scope="node"),
            ),
            can_probe=True,
        ),
    )
}


def describe(power_type: PowerType) -> dict[str, Any]:
    """Render a driver like ``rackcontrollers describe-power-types``.

    Args:
        power_type: The driver.

    Returns:
        The JSON object.
    """
    return {
        "name": power_type.name,
        "description": power_type.description,
        "driver_type": "power",
        "chassis": power_type.chassis,
        "can_probe": power_type.can_probe,
        "can_set_boot_order": False,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "required": f.required,
                "field_type": f.field_type,
                "choices": [list(choice) for choice in f.choices],
                "default": f.default,
                "scope": f.scope,
                "secret": f.secret,
            }
            for f in power_type.fields
        ],
        "missing_packages": [],
        "queryable": power_type.name != "manual",
    }


def validate(power_type: str, given: Mapping[str, str], *, skip_check: bool) -> dict[str, Any]:
    """Check power parameters and fill in driver defaults.

    Args:
        power_type: The driver name.
        given: Parameter name (without the ``power_parameters_`` prefix) -> value.
        skip_check: Accept unknown or missing parameters as MAAS does with
            ``power_parameters_skip_check=true``.

    Returns:
        The parameters to store.

    Raises:
        ValidationFailed: Unknown driver, or (unless skipped) a bad or missing field.
    """
    driver = POWER_TYPES.get(power_type)
    if driver is None:
        raise ValidationFailed({"power_type": [invalid_choice(power_type)]})
    known = {f.name: f for f in driver.fields}
    params: dict[str, Any] = {name: f.default for name, f in known.items()}
    params.update(given)
    if skip_check:
        return params
    problems = [
        f"{name}: This field is required."
        for name, f in known.items()
        if f.required and not params.get(name)
    ]
    problems += [f"{name}: Unknown power parameter." for name in given if name not in known]
    problems += [
        f"{name}: {invalid_choice(str(params[name]))}"
        for name, f in known.items()
        if f.choices and params.get(name) not in {choice for choice, _ in f.choices}
    ]
    if problems:
        raise ValidationFailed({"power_parameters": problems})
    return params


def from_request(params: Params) -> dict[str, str]:
    """Collect the ``power_parameters_<name>`` fields of a request without their prefix.

    Args:
        params: Request parameters.

    Returns:
        Parameter name -> value (``power_parameters_skip_check`` excluded).
    """
    return {
        name[len(PARAM_PREFIX) :]: params.get(name) or ""
        for name in params.names()
        if name.startswith(PARAM_PREFIX) and name != SKIP_CHECK
    }
