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


def _fields(spec: str) -> tuple[PowerField, ...]:
    # "name:Label" per field, comma-separated; flags after the label: ! required,
    # @ node scope, * password (secret).
    fields = []
    for item in spec.split(","):
        name, _, label = item.strip().partition(":")
        flags = label[len(label.rstrip("!@*")):]
        fields.append(PowerField(
            name, label.rstrip("!@*"), "!" in flags,
            "password" if "*" in flags else "string",
            scope="node" if "@" in flags else "bmc", secret="*" in flags,
        ))
    return tuple(fields)


_BMC = "power_address:Power address!,power_user:Power user,power_pass:Power password*"
# The other drivers of MAAS 3.7.3's registry (src/provisioningserver/drivers/power/
# registry.py at tag 3.7.3 and each driver's module; lxd and virsh come from the pod
# drivers; nova is gone after 3.7): name, description, chassis, can_probe, settings.
_MORE_DRIVERS = (
    ("amt", "Intel AMT", False, False,
     "power_user:AMT user,power_pass:Power password*,port:Power port,"
     "power_address:Power address!"),
    ("apc", "American Power Conversion (APC) PDU", True, False,
     "power_address:IP for APC PDU!,node_outlet:APC PDU node outlet number (1-16)!@,"
     "power_on_delay:Power ON outlet delay (seconds),pdu_type:PDU type"),
    ("dli", "Digital Loggers, Inc. PDU", True, False, "outlet_id:Outlet ID!@," + _BMC),
    ("eaton", "Eaton PDU", True, False,
     "power_address:IP for Eaton PDU!,node_outlet:Eaton PDU node outlet number (1-24)!@,"
     "power_on_delay:Power ON outlet delay (seconds)"),
    ("hmc", "IBM Hardware Management Console (HMC) for PowerPC", True, False,
     "power_address:IP for HMC!,power_user:HMC username,power_pass:HMC password*,"
     "server_name:HMC Managed System server name!@,lpar:HMC logical partition!@"),
    ("hmcz", "IBM Hardware Management Console (HMC) for Z", True, True,
     "power_address:HMC Address!,power_user:HMC username!,power_pass:HMC password!*,"
     "power_partition_name:HMC partition name!@,power_verify_ssl:Verify SSL connections!"),
    ("lxd", "LXD (virtual systems)", True, True,
     "power_address:LXD address!,instance_name:Instance name!@,project:LXD project!,"
     "password:LXD password (optional)*,certificate:LXD certificate (optional),"
     "key:LXD private key (optional)*"),
    ("moonshot", "HP Moonshot - iLO4 (IPMI)", True, False,
     _BMC + ",power_hwaddress:Power hardware address!@"),
    ("mscm", "HP Moonshot - iLO Chassis Manager", True, True,
     "power_address:IP for MSCM CLI API!,power_user:MSCM CLI API user,"
     "power_pass:MSCM CLI API password*,node_id:Node ID - Must adhere to cXnY format!@"),
    ("msftocs", "Microsoft OCS - Chassis Manager", True, True,
     "power_address:Power address!,power_port:Power port,power_user:Power user,"
     "power_pass:Power password*,blade_id:Blade ID (Typically 1-24)!@"),
    ("nova", "OpenStack Nova", True, False,
     "nova_id:Host UUID!@,os_tenantname:Tenant name!,os_username:Username!,"
     "os_password:Password!*,os_authurl:Auth URL!"),
    ("openbmc", "OpenBMC Power Driver", False, False,
     "power_address:OpenBMC address!,power_user:OpenBMC user!,power_pass:OpenBMC password!*"),
    ("proxmox", "Proxmox", True, True,
     "power_address:Proxmox host name or IP!,power_user:Proxmox username, including realm!,"
     "power_pass:Proxmox password*,power_token_name:Proxmox API token name,"
     "power_token_secret:Proxmox API token secret*,power_vm_name:Node ID!@,"
     "power_verify_ssl:Verify SSL connections!"),
    ("raritan", "Raritan PDU", True, False,
     "power_address:IP for Raritan PDU!,node_outlet:Raritan PDU node outlet number!@,"
     "power_on_delay:Power ON outlet delay (seconds)"),
    ("recs_box", "Christmann RECS|Box Power Driver", True, True,
     "node_id:Node ID!@,power_address:Power address!,power_port:Power port,"
     "power_user:Power user,power_pass:Power password*"),
    ("sm15k", "SeaMicro 15000", True, True,
     "system_id:System ID!@," + _BMC + ",power_control:Power control type!"),
    ("ucsm", "Cisco UCS Manager", True, True,
     "uuid:Server UUID!@,power_address:URL for XML API!,power_user:API user,"
     "power_pass:API password*"),
    ("vmware", "VMware", True, True,
     "power_vm_name:VM Name (if UUID unknown)@,power_uuid:VM UUID (if known)@,"
     "power_address:VMware IP!,power_user:VMware username!,power_pass:VMware password!*,"
     "power_port:VMware API port (optional),power_protocol:VMware API protocol (optional)"),
    ("webhook", "Webhook", False, False,
     "power_on_uri:URI to power on the node!,power_off_uri:URI to power off the node!,"
     "power_query_uri:URI to query the nodes power status!,"
     "power_on_regex:Regex to confirm the node is on!,"
     "power_off_regex:Regex to confirm the node is off!,power_user:Power user,"
     "power_pass:Power password*,power_token:Power token, will be used in place of "
     "power_user and power_pass*,power_verify_ssl:Verify SSL connections!"),
    ("wedge", "Facebook's Wedge", False, False,
     "power_address:IP address!,power_user:Power user,power_pass:Power password*"),
)
POWER_TYPES.update(
    (name, PowerType(name, description, _fields(spec), chassis, probe))
    for name, description, chassis, probe, spec in _MORE_DRIVERS
)
POWER_TYPES = dict(sorted(POWER_TYPES.items()))


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
