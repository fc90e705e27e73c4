"""``service.*``: system services (SMB, NFS, SSH...) that can be started and stopped.

In 25.10 ``service.start``/``stop``/``restart``/``reload`` answer directly and
``service.control(verb, service, options)`` is the job; 26.0 keeps only the job. Both
forms share one implementation.
"""

from __future__ import annotations

import copy
import errno
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource

__all__ = ["methods"]

methods = MethodTable()
services = Resource("service", "Service")
services.register(methods, "service")

_STARTUP_SECONDS = 1.0
# State a verb leaves the service in; RELOAD keeps the current state.
_RESULT_STATE = {"START": "RUNNING", "RESTART": "RUNNING", "STOP": "STOPPED"}


def _by_name(call: Call, name: str) -> dict[str, Any]:
    with call.rt.state.lock:
        found = next((s for s in call.rt.state.tables["service"].values()
                      if s["service"] == name), None)
        if found is None:
            raise CallError(f"Service {name!r} not found", errno.ENOENT)
        return copy.deepcopy(found)


def _control(call: Call, verb: str, name: str) -> bool:
    record = _by_name(call, name)
    call.step(10, f"{verb.title()}ing {name}", _STARTUP_SECONDS)
    state = _RESULT_STATE.get(verb, record["state"])
    record["state"] = state
    record["pids"] = [1000 + record["id"]] if state == "RUNNING" else []
    services.store(call, record["id"], record)
    return bool(state == ("STOPPED" if verb == "STOP" else "RUNNING"))


@methods.method("service.control")
def control(call: Call) -> bool:
    """Run ``service.control(verb, service, options)`` as a job."""
    return _control(call, call.args[0], call.args[1])


def _register_verbs() -> None:
    # service.start/stop/restart/reload(service, options) are service.control without a job.
    for verb in ("START", "STOP", "RESTART", "RELOAD"):
        def handler(call: Call, verb: str = verb) -> bool:
            return _control(call, verb, call.args[0])
        methods.method(f"service.{verb.lower()}")(handler)


_register_verbs()


@methods.method("service.started")
def started(call: Call) -> bool:
    """Answer ``service.started(service)``."""
    return bool(_by_name(call, call.args[0])["state"] == "RUNNING")


@methods.method("service.started_or_enabled")
def started_or_enabled(call: Call) -> bool:
    """Answer ``service.started_or_enabled(service)``."""
    record = _by_name(call, call.args[0])
    return bool(record["state"] == "RUNNING" or record["enable"])


@methods.method("service.update")
def update(call: Call) -> int:
    """Answer ``service.update(id_or_name, {enable})`` with the service's id."""
    key = call.args[0]
    record = services.find(call, key) if isinstance(key, int) else _by_name(call, key)
    record["enable"] = call.args[1]["enable"]
    services.store(call, record["id"], record)
    return int(record["id"])
