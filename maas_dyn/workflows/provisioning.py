"""Provisioning: commission -> test -> deploy -> wait, and release, for one machine or many.

Each step is a row of :data:`STEPS`: the machine action that starts it and the waiter
(:data:`~maas_dyn.workflows.waiters.WAITERS`) that says when it is over. A pipeline is a
sequence of step names, so "deploy only" and "commission, then deploy" are the same code::

    provision(client, "abc123", distro_series="noble", hwe_kernel="hwe-24.04",
              user_data=Path("cloud-init.yaml").read_text())
    provision_many(client, ["abc123", "def456"], steps=("deploy",), concurrency=16)
    release(client, "abc123", erase=True)

Everything goes through the generated ``machine`` handler; each step is logged with
``extra={"machine", "action", "state", "duration"}``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from maas_dyn.errors import ConfigurationError
from maas_dyn.workflows._common import Step, fields, logged_step
from maas_dyn.workflows.bulk import BulkResult, run_bulk
from maas_dyn.workflows.waiters import Progress, get_waiter

__all__ = [
    "DEFAULT_STEPS",
    "STEPS",
    "Outcome",
    "StepSpec",
    "provision",
    "provision_many",
    "release",
    "release_many",
]


@dataclass(frozen=True)
class StepSpec:
    """One provisioning step.

    Attributes:
        action: The ``machine`` action that starts it.
        waiter: The waiter that follows it to its end.
    """

    action: str
    waiter: str


STEPS: Mapping[str, StepSpec] = {
    "commission": StepSpec("commission", "machine_commissioned"),
    "test": StepSpec("test", "machine_tested"),
    "deploy": StepSpec("deploy", "machine_deployed"),
    "release": StepSpec("release", "machine_released"),
}
"""The provisioning steps by name: the ``machine`` action that starts each and the waiter
that follows it (``commission``, ``test``, ``deploy``, ``release``).
"""
DEFAULT_STEPS: tuple[str, ...] = ("commission", "test", "deploy")
"""What :func:`provision` runs when no ``steps=`` are given: commission, test, deploy."""


@dataclass
class Outcome:
    """What a workflow did to one machine.

    Attributes:
        system_id: The machine.
        machine: The machine as last seen (the final poll, or the last action's answer).
        steps: Each step with where it ended and how long it took.
    """

    system_id: str
    machine: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The machine's last status name."""
        return str(self.machine.get("status_name", ""))


def _encode_user_data(user_data: str | bytes | None) -> str | None:
    # MAAS takes user data base64-encoded (deploy's documentation says so).
    if user_data is None:
        return None
    raw = user_data.encode("utf-8") if isinstance(user_data, str) else user_data
    return base64.b64encode(raw).decode("ascii")


def _run(client: Any, system_id: str, names: Sequence[str],
         params: Mapping[str, list[tuple[str, Any]]], *, wait: bool,
         timeout: float | None, interval: float | None,
         on_progress: Callable[[Progress], None] | None) -> Outcome:
    unknown = [name for name in names if name not in STEPS]
    if unknown or not names:
        raise ConfigurationError(f"unknown or no steps {unknown or list(names)}; known: "
                                 f"{', '.join(STEPS)}")
    overrides = {k: v for k, v in (("timeout", timeout), ("interval", interval))
                 if v is not None}
    outcome = Outcome(system_id)
    for index, name in enumerate(names):
        spec = STEPS[name]
        with logged_step(system_id, name) as step:
            outcome.steps.append(step)
            answer = client.request("machine", spec.action, system_id,
                                    fields=params.get(name, [])).data
            outcome.machine = dict(answer) if isinstance(answer, Mapping) else {}
            # A later step needs this one finished, so only the last may skip waiting.
            if wait or index < len(names) - 1:
                outcome.machine = dict(get_waiter(client, spec.waiter, **overrides)
                                       .wait(system_id, on_progress=on_progress))
            step.state = outcome.status
    return outcome


def provision(
    client: Any,
    system_id: str,
    *,
    distro_series: str | None = None,
    hwe_kernel: str | None = None,
    user_data: str | bytes | None = None,
    steps: Sequence[str] = DEFAULT_STEPS,
    wait: bool = True,
    timeout: float | None = None,
    interval: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Outcome:
    """Commission, test and deploy a machine (or any sequence of :data:`STEPS`).

    Commissioning runs without its built-in tests when a ``test`` step follows, so the
    tests run once, as their own step.

    Args:
        client: A MAAS client.
        system_id: The machine.
        distro_series: Series to deploy (default: the region's).
        hwe_kernel: Kernel to deploy, e.g. ``"hwe-24.04"``.
        user_data: Cloud-init user data (text or bytes; sent base64-encoded).
        steps: Step names, in order.
        wait: Wait for the last step to finish too (earlier ones are always waited for).
        timeout: Seconds each step may take (default: its waiter's).
        interval: Seconds between polls (default: its waiter's).
        on_progress: Called after every poll of every step.

    Returns:
        The outcome: the machine as last seen and every step.

    Raises:
        ConfigurationError: An unknown step name.
        MAASAPIError: The server refused an action (typed, e.g. ``ConflictError``).
        WaiterError: A step ended in a failure status or timed out; says which status.
    """
    params = {
        "commission": fields(testing_scripts="none" if "test" in steps else None),
        "deploy": fields(distro_series=distro_series, hwe_kernel=hwe_kernel,
                         user_data=_encode_user_data(user_data)),
    }
    return _run(client, system_id, steps, params, wait=wait, timeout=timeout,
                interval=interval, on_progress=on_progress)


def release(
    client: Any,
    system_id: str,
    *,
    erase: bool = False,
    secure_erase: bool = False,
    quick_erase: bool = False,
    comment: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    interval: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Outcome:
    """Release a machine, optionally erasing its disks, and wait until it is Ready.

    Args:
        client: A MAAS client.
        system_id: The machine.
        erase: Erase the disks (the region's default method).
        secure_erase: Use the disks' secure erase (implies ``erase``).
        quick_erase: Wipe only the start and end of each disk (implies ``erase``).
        comment: Why, for the machine's event log.
        wait: Wait until the machine is Ready again.
        timeout: Seconds the release (and erase) may take.
        interval: Seconds between polls.
        on_progress: Called after every poll.

    Returns:
        The outcome.
    """
    erasing = erase or secure_erase or quick_erase
    params = {"release": fields(erase=True if erasing else None,
                                secure_erase=True if secure_erase else None,
                                quick_erase=True if quick_erase else None, comment=comment)}
    return _run(client, system_id, ("release",), params, wait=wait, timeout=timeout,
                interval=interval, on_progress=on_progress)


def provision_many(client: Any, system_ids: Iterable[str], *, concurrency: int = 8,
                   retries: int = 0, progress: TextIO | bool | None = None,
                   **options: Any) -> BulkResult[str]:
    """Run :func:`provision` on many machines at once; every machine gets an outcome.

    A retry (``retries``) starts the machine's pipeline over; it only happens after an
    error that says the server did not act (see :data:`~maas_dyn.workflows.bulk.RETRYABLE`).

    Args:
        client: A MAAS client.
        system_ids: The machines.
        concurrency: Machines worked on at once.
        retries: Extra attempts for a machine whose error is retryable.
        progress: Progress display (see :func:`~maas_dyn.workflows.bulk.run_bulk`).
        **options: Keyword arguments of :func:`provision`.

    Returns:
        Per machine: its :class:`Outcome` (``value``) or its error.
    """
    return run_bulk(lambda system_id: provision(client, system_id, **options), system_ids,
                    concurrency=concurrency, retries=retries, label="provision",
                    progress=progress)


def release_many(client: Any, system_ids: Iterable[str], *, concurrency: int = 8,
                 retries: int = 0, progress: TextIO | bool | None = None,
                 **options: Any) -> BulkResult[str]:
    """Run :func:`release` on many machines at once.

    Args:
        client: A MAAS client.
        system_ids: The machines.
        concurrency: Machines worked on at once.
        retries: Extra attempts for a machine whose error is retryable.
        progress: Progress display.
        **options: Keyword arguments of :func:`release`.

    Returns:
        Per machine: its :class:`Outcome` or its error.
    """
    return run_bulk(lambda system_id: release(client, system_id, **options), system_ids,
                    concurrency=concurrency, retries=retries, label="release",
                    progress=progress)
