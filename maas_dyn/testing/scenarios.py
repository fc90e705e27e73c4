"""The sessions kept as cassettes in ``cassettes/``: the same code records and replays them.

Each session is an ordinary script against a client; recorded against the simulators
(:mod:`maas_dyn.testing.rerecord`) and replayed offline by the test suite. Their loops
stop on what the server answers, so a replay makes exactly the recorded calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAAS_DEPLOY",
    "POOL_NAME",
    "TRUENAS_POOL_CREATE",
    "TRUENAS_USER",
    "Session",
    "maas_deploy",
    "truenas_pool_create",
]

POOL_NAME = "tank"
TRUENAS_USER = "cassette"  # who the TrueNAS session logs in as (any password replays)
# Polls of a deployment at most; the simulator at the recording speed needs a few.
MAX_POLLS = 200


@dataclass(frozen=True)
class Session:
    """One recorded session.

    Attributes:
        cassette: File name in ``cassettes/``.
        run: ``run(client, **options)``; returns what the session ends with.
        options: Options used when recording (a replay passes its own, e.g. no pauses).
    """

    cassette: str
    run: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)


def maas_deploy(client: Any, *, interval: float = 0.0) -> dict[str, Any]:
    """Deploy the first Ready machine and poll it until it is no longer Deploying.

    Args:
        client: A ``maas_dyn.maas.Client``.
        interval: Seconds between polls.

    Returns:
        The machine's last record (``status_name`` "Deployed" when all went well).

    Raises:
        LookupError: No machine is Ready.
    """
    ready = client.machines.read(status="ready")
    if not ready:
        raise LookupError("no machine is Ready to deploy")
    system_id = ready[0]["system_id"]
    machine: dict[str, Any] = client.machine.deploy(system_id, distro_series="jammy")
    for _ in range(MAX_POLLS):
        machine = client.machine.read(system_id)
        if machine["status_name"] != "Deploying":
            break
        time.sleep(interval)
    return machine


def truenas_pool_create(client: Any, *, progress: Callable[[Any], None] | None = None
                        ) -> dict[str, Any]:
    """Create a mirrored pool as a job, follow its progress, then query it.

    Args:
        client: A ``maas_dyn.truenas.Client`` with credentials (the session logs in).
        progress: Called with each progress object of the job.

    Returns:
        The pool, as ``pool.query`` answers it.
    """
    job = client.pool.create({"name": POOL_NAME, "topology": {
        "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}})
    job.wait(timeout=60, on_progress=progress)
    pool: dict[str, Any] = client.pool.query([["name", "=", POOL_NAME]], {"get": True})
    return pool


MAAS_DEPLOY = Session("maas-deploy.yaml", maas_deploy, {"interval": 0.05})
TRUENAS_POOL_CREATE = Session("truenas-pool-create.jsonl", truenas_pool_create)
