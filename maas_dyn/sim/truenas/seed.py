"""The simulated appliance as it is after installation: disks, accounts, network, services.

Two administrators exist: ``truenas_admin`` (password and API key) and ``otp_admin``
(password plus TOTP two-factor authentication).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from maas_dyn.sim.truenas import totp
from maas_dyn.sim.truenas.services.accounts import make_group, make_user
from maas_dyn.sim.truenas.services.auth import new_api_key
from maas_dyn.sim.truenas.services.disks import make_disk
from maas_dyn.sim.truenas.services.system import general_config
from maas_dyn.sim.truenas.state import State

__all__ = ["Secrets", "seed"]

ADMIN = "truenas_admin"
ADMIN_PASSWORD = "truenas_admin"  # noqa: S105 - the simulator's published credential
OTP_ADMIN = "otp_admin"
OTP_PASSWORD = "otp_admin_password"  # noqa: S105 - the simulator's published credential

_TB = 1000**4
# (name, size, model, rpm): four 4 TB disks, two 8 TB disks, two SSDs.
_DISKS = (
    ("sda", 4 * _TB, "SIM-HDD-4T", 7200), ("sdb", 4 * _TB, "SIM-HDD-4T", 7200),
    ("sdc", 4 * _TB, "SIM-HDD-4T", 7200), ("sdd", 4 * _TB, "SIM-HDD-4T", 7200),
    ("sde", 8 * _TB, "SIM-HDD-8T", 7200), ("sdf", 8 * _TB, "SIM-HDD-8T", 7200),
    ("sdg", 480 * 1000**3, "SIM-SSD-480G", None), ("sdh", 480 * 1000**3, "SIM-SSD-480G", None),
)
_SERVICES = ("cifs", "ftp", "iscsitarget", "nfs", "snmp", "ssh", "ups", "smartd")
_ADMIN_ROLES = ["FULL_ADMIN"]


@dataclass(frozen=True)
class Secrets:
    """Credentials of the seeded accounts.

    Attributes:
        username: The password administrator.
        password: Its password.
        api_key: Its API key (``"<id>-<secret>"``).
        otp_username: The two-factor administrator.
        otp_password: Its password.
        otp_secret: Its base32 TOTP secret.
    """

    username: str
    password: str
    api_key: str
    otp_username: str
    otp_password: str
    otp_secret: str


def _accounts(state: State, rng: random.Random) -> Secrets:
    root_group = make_group(state, "root", 0, builtin=True)
    admins = make_group(state, "builtin_administrators", 544, builtin=True, roles=_ADMIN_ROLES)
    make_group(state, "builtin_users", 545, builtin=True)
    make_user(state, "root", 0, root_group, password=None, full_name="root", builtin=True,
              home="/root", roles=_ADMIN_ROLES)
    admin_group = make_group(state, ADMIN, 950)
    admin = make_user(state, ADMIN, 950, admin_group, password=ADMIN_PASSWORD,
                      full_name="Local Administrator", roles=_ADMIN_ROLES,
                      extra_groups=[admins["id"]], home=f"/home/{ADMIN}")
    otp_group = make_group(state, OTP_ADMIN, 3000)
    otp_user = make_user(state, OTP_ADMIN, 3000, otp_group, password=OTP_PASSWORD,
                         full_name="Two-factor Administrator", roles=_ADMIN_ROLES,
                         extra_groups=[admins["id"]], home=f"/home/{OTP_ADMIN}")
    otp_secret = totp.new_secret(rng)
    with state.lock:
        state.otp_secrets[OTP_ADMIN] = otp_secret
        state.tables["user"][otp_user["id"]]["twofactor_auth_configured"] = True
    # From the seed: the same --seed gives the same key on every start (as MAAS's).
    key, api_key = new_api_key(state, "maas-dyn-sim", ADMIN, admin["uid"],
                               secret=f"{rng.getrandbits(256):064x}")
    with state.lock:
        state.tables["user"][admin["id"]]["api_keys"] = [key["id"]]
    return Secrets(ADMIN, ADMIN_PASSWORD, api_key, OTP_ADMIN, OTP_PASSWORD, otp_secret)


def _network(state: State) -> None:
    alias = {"type": "INET", "address": "192.0.2.10", "netmask": 24,
             "broadcast": "192.0.2.255"}
    link_state = {"name": "eth0", "orig_name": "eth0", "description": "eth0", "mtu": 1500,
                  "cloned": False, "flags": ["UP", "BROADCAST", "RUNNING", "MULTICAST"],
                  "nd6_flags": [], "capabilities": [], "link_state": "LINK_STATE_UP",
                  "media_type": "Ethernet", "media_subtype": "autoselect",
                  "active_media_type": "Ethernet", "active_media_subtype": "10Gb/s Twinax",
                  "supported_media": [], "media_options": None,
                  "link_address": "52:54:00:12:34:56", "permanent_link_address": None,
                  "hardware_link_address": "52:54:00:12:34:56", "aliases": [alias],
                  "vrrp_config": None, "rx_queues": 1, "tx_queues": 1}
    record = state.record("interface", id="eth0", name="eth0", fake=False, type="PHYSICAL",
                          state=link_state, aliases=[], ipv4_dhcp=True, ipv6_auto=False,
                          description="", mtu=None)
    with state.lock:
        state.tables["interface"]["eth0"] = record


def _services(state: State) -> None:
    for name in _SERVICES:
        service_id = state.next_id("service")
        running = name in ("ssh", "smartd")
        record = state.record("service", id=service_id, service=name, enable=running,
                              state="RUNNING" if running else "STOPPED",
                              pids=[1000 + service_id] if running else [])
        with state.lock:
            state.tables["service"][service_id] = record


def seed(state: State, rng: random.Random) -> Secrets:
    """Fill an empty state with the freshly installed appliance.

    Args:
        state: An empty state.
        rng: Seeded randomness (serials, secrets).

    Returns:
        The credentials of the seeded accounts.
    """
    for index, (name, size, model, rpm) in enumerate(_DISKS):
        make_disk(state, name, serial=f"SIM{index + 1:05d}{rng.randrange(16**4):04X}", size=size,
                  model=model, rotation=rpm)
    secrets = _accounts(state, rng)
    _network(state)
    _services(state)
    with state.lock:
        state.config["system.general"] = general_config(state)
    return secrets
