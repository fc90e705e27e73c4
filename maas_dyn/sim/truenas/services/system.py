"""``system.*`` and ``system.general.*``: identity, version and general settings."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.state import State

__all__ = ["general_config", "methods", "version_string"]

methods = MethodTable()

_PHYSMEM = 32 * 1024**3
_CORES = 8
_GENERAL = "system.general"


def version_string(release: str) -> str:
    """Name the simulated software version.

    Args:
        release: The served release, e.g. ``"25.10"``.

    Returns:
        e.g. ``"TrueNAS-25.10.0"``.
    """
    parts = [*release.split("."), "0"][:3]
    return "TrueNAS-" + ".".join(parts)


def general_config(state: State) -> dict[str, Any]:
    """Build the initial ``system.general.config`` object.

    Args:
        state: The state (its catalog shapes the object).

    Returns:
        The config.
    """
    return state.result(
        "system.general.config", id=1, ui_certificate=None, ui_httpsport=443,
        ui_httpsredirect=False, ui_httpsprotocols=["TLSv1.2", "TLSv1.3"], ui_port=80,
        ui_address=["0.0.0.0"],  # noqa: S104 - a setting, not a bind
        ui_v6address=["::"], ui_allowlist=[], ui_consolemsg=False,
        ui_x_frame_options="SAMEORIGIN", kbdmap="us", language="en", timezone="UTC",
        usage_collection=False, wizardshown=True, usage_collection_is_set=True,
        ds_auth=False)


@methods.method("system.info")
def info(call: Call) -> dict[str, Any]:
    """Answer ``system.info()``."""
    state = call.rt.state
    now = datetime.now(timezone.utc)
    uptime = (now - state.booted_at).total_seconds()
    return state.result(
        "system.info", version=version_string(call.rt.catalog.release),
        buildtime=state.booted_at, hostname=call.rt.hostname, physmem=_PHYSMEM,
        model="Simulated CPU @ 2.40GHz", cores=_CORES, physical_cores=_CORES // 2,
        loadavg=[0.1, 0.05, 0.01], uptime=f"{int(uptime // 60)} minutes",
        uptime_seconds=uptime, system_serial="SIM-0001", system_product="maas_dyn simulator",
        system_product_version="1.0", license=None, boottime=state.booted_at, datetime=now,
        timezone="UTC", system_manufacturer="maas_dyn", ecc_memory=True)


@methods.method("system.version")
def version(call: Call) -> str:
    """Answer ``system.version()``."""
    return version_string(call.rt.catalog.release)


@methods.method("system.version_short")
def version_short(call: Call) -> str:
    """Answer ``system.version_short()``."""
    return version_string(call.rt.catalog.release).removeprefix("TrueNAS-")


@methods.method("system.product_type")
def product_type(call: Call) -> str:
    """Answer ``system.product_type()``."""
    return "COMMUNITY_EDITION"


@methods.method("system.ready")
def ready(call: Call) -> bool:
    """Answer ``system.ready()``."""
    return True


@methods.method("system.state")
def system_state(call: Call) -> str:
    """Answer ``system.state()``."""
    return "READY"


@methods.method("system.boot_id")
def boot_id(call: Call) -> str:
    """Answer ``system.boot_id()`` (changes with every simulator start)."""
    return f"{int(call.rt.state.booted_at.timestamp() * 1e6):x}"


@methods.method("system.host_id")
def host_id(call: Call) -> str:
    """Answer ``system.host_id()``."""
    return hashlib.sha256(call.rt.hostname.encode()).hexdigest()[:32]


@methods.method("system.feature_enabled")
def feature_enabled(call: Call) -> bool:
    """Answer ``system.feature_enabled(name)``: deduplication only."""
    return bool(call.args[0] == "DEDUP")


@methods.method("system.release_notes_url")
def release_notes_url(call: Call) -> str:
    """Answer ``system.release_notes_url(version)``."""
    release = call.rt.catalog.release
    return f"https://www.truenas.com/docs/scale/{release}/gettingstarted/scalereleasenotes/"


@methods.method("system.general.config")
def config(call: Call) -> dict[str, Any]:
    """Answer ``system.general.config()``."""
    with call.rt.state.lock:
        return copy.deepcopy(call.rt.state.config[_GENERAL])


@methods.method("system.general.update")
def update(call: Call) -> dict[str, Any]:
    """Answer ``system.general.update(data)``."""
    with call.rt.state.lock:
        current = call.rt.state.config[_GENERAL]
        current.update(call.args[0])
        updated = copy.deepcopy(current)
    call.publish("system.general.config", "CHANGED", updated["id"], updated)
    return updated


@methods.method("system.general.local_url")
def local_url(call: Call) -> str:
    """Answer ``system.general.local_url()``."""
    port = call.rt.state.config[_GENERAL].get("ui_port", 80)
    return f"http://127.0.0.1:{port}"


@methods.method("system.general.timezone_choices")
def timezone_choices(call: Call) -> dict[str, str]:
    """Answer ``system.general.timezone_choices()``."""
    return {zone: zone for zone in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")}
