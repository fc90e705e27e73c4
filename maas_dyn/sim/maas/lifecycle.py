"""Machine lifecycle: long-running operations as data, advanced on the simulated clock.

An operation is a sequence of phases (each with a transient status, a duration and a
failure status) followed by a final status. Nothing runs in the background: due phases
are taken from a heap whenever the state is settled, which happens before every request,
so the cost is proportional to the transitions that fell due, not to the machine count.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from maas_dyn.sim.maas.clock import SimClock
from maas_dyn.sim.maas.models import Machine, Pending
from maas_dyn.sim.maas.status import Status

# Simulated seconds per phase, like a small real region on fast hardware.
DEFAULT_DURATIONS: dict[str, float] = {
    "commission": 120.0,
    "test": 60.0,
    "deploy": 300.0,
    "release": 30.0,
    "erase": 120.0,
    "enter_rescue": 60.0,
    "exit_rescue": 30.0,
}

# Names of the failure rates the simulator exposes (``<name>_failure_rate``).
FAILURE_RATES = ("commission", "test", "deploy", "release", "erase")

# Statuses in which a machine is powered on once an operation has ended.
_POWERED_ON = frozenset({Status.DEPLOYED, Status.RESCUE_MODE})


@dataclass(frozen=True)
class Phase:
    """One step of an operation.

    Attributes:
        status: Status shown while the phase runs.
        duration: Key into the durations table.
        failure: Status when the phase fails.
        rate: Key into the failure rates, or None when the phase never fails.
        message: ``status_message`` while the phase runs.
    """

    status: Status
    duration: str
    failure: Status
    rate: str | None
    message: str


@dataclass(frozen=True)
class Operation:
    """A long-running action.

    Attributes:
        phases: The steps, in order.
        success: Final status, or None to return to the status before the operation.
        effect: Key into the completion effects, or None.
    """

    phases: tuple[Phase, ...]
    success: Status | None
    effect: str | None = None


_COMMISSIONING = Phase(
    Status.COMMISSIONING, "commission", Status.FAILED_COMMISSIONING, "commission", "Commissioning"
)
_TESTING = Phase(Status.TESTING, "test", Status.FAILED_TESTING, "test", "Testing")

OPERATIONS: dict[str, Operation] = {
    "commission": Operation((_COMMISSIONING, _TESTING), Status.READY, "commissioned"),
    "commission_without_tests": Operation((_COMMISSIONING,), Status.READY, "commissioned"),
    "test": Operation((_TESTING,), None),
    "deploy": Operation(
        (Phase(Status.DEPLOYING, "deploy", Status.FAILED_DEPLOYMENT, "deploy", "Deploying"),),
        Status.DEPLOYED,
        "deployed",
    ),
    "release": Operation(
        (Phase(Status.RELEASING, "release", Status.FAILED_RELEASING, "release", "Releasing"),),
        Status.READY,
        "released",
    ),
    "erase": Operation(
        (
            Phase(
                Status.DISK_ERASING, "erase", Status.FAILED_DISK_ERASING, "erase", "Erasing disks"
            ),
        ),
        Status.READY,
        "released",
    ),
    "rescue": Operation(
        (
            Phase(
                Status.ENTERING_RESCUE_MODE,
                "enter_rescue",
                Status.FAILED_ENTERING_RESCUE_MODE,
                None,
                "Entering rescue mode",
            ),
        ),
        Status.RESCUE_MODE,
    ),
    "exit_rescue": Operation(
        (
            Phase(
                Status.EXITING_RESCUE_MODE,
                "exit_rescue",
                Status.FAILED_EXITING_RESCUE_MODE,
                None,
                "Exiting rescue mode",
            ),
        ),
        None,
    ),
}

StatusListener = Callable[[Machine, Status, Status], None]
Effect = Callable[[Machine], None]


class Lifecycle:
    """Runs operations on machines against a simulated clock.

    Args:
        clock: The simulated clock.
        seed: Makes failures repeatable: whether a phase fails depends only on the seed,
            the machine, how many operations it ran and the failure rate.
        on_status: Called with (machine, old, new) after every status change.
        effects: Completion effects by name (e.g. clearing the owner after release).
    """

    def __init__(
        self,
        clock: SimClock,
        seed: int,
        on_status: StatusListener,
        effects: Mapping[str, Effect],
    ) -> None:
        self.clock = clock
        self.durations = dict(DEFAULT_DURATIONS)
        self.failure_rates = dict.fromkeys(FAILURE_RATES, 0.0)
        self._seed = seed
        self._on_status = on_status
        self._effects = dict(effects)
        self._heap: list[tuple[float, int, str]] = []
        self._tokens = itertools.count(1)

    def start(self, machine: Machine, operation: str, *, return_to: Status | None = None) -> None:
        """Start an operation now; the machine enters its first phase at once.

        Args:
            machine: The machine.
            operation: A key of :data:`OPERATIONS`.
            return_to: Status to end in for operations without a fixed final status;
                the current status when None.
        """
        machine.runs += 1
        back = machine.status if return_to is None else return_to
        pending = Pending(operation, 0, 0.0, next(self._tokens), back)
        self._enter(machine, pending, self.clock.now())

    def cancel(self, machine: Machine) -> None:
        """Forget a machine's running operation (its timer entry goes stale).

        Args:
            machine: The machine.
        """
        machine.pending = None

    def settle(self, machines: Mapping[str, Machine]) -> int:
        """Complete every phase that is due on the simulated clock.

        Args:
            machines: Machines by system_id (deleted ones are skipped).

        Returns:
            How many phases ended.
        """
        now = self.clock.now()
        ended = 0
        # Each pop removes one entry and each phase pushes at most one successor, and
        # operations have a fixed number of phases, so this loop is bounded.
        while self._heap and self._heap[0][0] <= now:
            _, token, system_id = heapq.heappop(self._heap)
            machine = machines.get(system_id)
            if machine is None or machine.pending is None or machine.pending.token != token:
                continue
            self._end_phase(machine, machine.pending)
            ended += 1
        return ended

    def _enter(self, machine: Machine, pending: Pending, start: float) -> None:
        phase = OPERATIONS[pending.operation].phases[pending.phase]
        pending.due = start + self.durations[phase.duration]
        machine.pending = pending
        machine.power_state = "on"
        machine.status_message = phase.message
        heapq.heappush(self._heap, (pending.due, pending.token, machine.system_id))
        self._set_status(machine, phase.status)

    def _end_phase(self, machine: Machine, pending: Pending) -> None:
        operation = OPERATIONS[pending.operation]
        phase = operation.phases[pending.phase]
        if self._fails(machine, pending.phase, phase.rate):
            machine.pending = None
            machine.status_message = f"{phase.failure.label}"
            self._set_status(machine, phase.failure)
            return
        if pending.phase + 1 < len(operation.phases):
            pending.phase += 1
            # Chain from the due time, not from now, so a long advance() lands each
            # phase where it would have been.
            self._enter(machine, pending, pending.due)
            return
        machine.pending = None
        final = operation.success if operation.success is not None else pending.return_status
        machine.power_state = "on" if final in _POWERED_ON else "off"
        machine.status_message = final.label
        if operation.effect is not None:
            self._effects[operation.effect](machine)
        self._set_status(machine, final)

    def _fails(self, machine: Machine, phase_index: int, rate_name: str | None) -> bool:
        rate = self.failure_rates[rate_name] if rate_name else 0.0
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        key = f"{self._seed}:{machine.system_id}:{machine.runs}:{phase_index}"
        draw = random.Random(key)  # noqa: S311 - reproducible failures, not secrets
        return draw.random() < rate

    def _set_status(self, machine: Machine, new: Status) -> None:
        old = machine.status
        machine.status = new
        self._on_status(machine, old, new)
