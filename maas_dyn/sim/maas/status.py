"""Node statuses of MAAS: codes, display names and the allowed transitions (as data).

The transition table follows ``maasserver.node_status.NODE_TRANSITIONS``: an action is
refused when its first status is not reachable from the node's current status.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """``NODE_STATUS`` codes as the API reports them in ``status``."""

    NEW = 0
    COMMISSIONING = 1
    FAILED_COMMISSIONING = 2
    MISSING = 3
    READY = 4
    RESERVED = 5
    DEPLOYED = 6
    RETIRED = 7
    BROKEN = 8
    DEPLOYING = 9
    ALLOCATED = 10
    FAILED_DEPLOYMENT = 11
    RELEASING = 12
    FAILED_RELEASING = 13
    DISK_ERASING = 14
    FAILED_DISK_ERASING = 15
    RESCUE_MODE = 16
    ENTERING_RESCUE_MODE = 17
    FAILED_ENTERING_RESCUE_MODE = 18
    EXITING_RESCUE_MODE = 19
    FAILED_EXITING_RESCUE_MODE = 20
    TESTING = 21
    FAILED_TESTING = 22

    @property
    def label(self) -> str:
        """The display name MAAS puts in ``status_name``, e.g. ``"Failed deployment"``."""
        return STATUS_NAMES[self]

    @property
    def short(self) -> str:
        """The one-word name accepted by the ``status`` filter, e.g. ``"failed_deployment"``."""
        return self.name.lower()


STATUS_NAMES: dict[Status, str] = {
    Status.NEW: "New",
    Status.COMMISSIONING: "Commissioning",
    Status.FAILED_COMMISSIONING: "Failed commissioning",
    Status.MISSING: "Missing",
    Status.READY: "Ready",
    Status.RESERVED: "Reserved",
    Status.DEPLOYED: "Deployed",
    Status.RETIRED: "Retired",
    Status.BROKEN: "Broken",
    Status.DEPLOYING: "Deploying",
    Status.ALLOCATED: "Allocated",
    Status.FAILED_DEPLOYMENT: "Failed deployment",
    Status.RELEASING: "Releasing",
    Status.FAILED_RELEASING: "Releasing failed",
    Status.DISK_ERASING: "Disk erasing",
    Status.FAILED_DISK_ERASING: "Failed disk erasing",
    Status.RESCUE_MODE: "Rescue mode",
    Status.ENTERING_RESCUE_MODE: "Entering rescue mode",
    Status.FAILED_ENTERING_RESCUE_MODE: "Failed to enter rescue mode",
    Status.EXITING_RESCUE_MODE: "Exiting rescue mode",
    Status.FAILED_EXITING_RESCUE_MODE: "Failed to exit rescue mode",
    Status.TESTING: "Testing",
    Status.FAILED_TESTING: "Failed testing",
}

_S = Status
# Statuses from which tests may reset a node (NODE_TESTING_RESET_READY_TRANSITIONS).
_TESTING_RESETS = frozenset(
    {
        _S.NEW,
        _S.COMMISSIONING,
        _S.FAILED_DEPLOYMENT,
        _S.MISSING,
        _S.RETIRED,
        _S.BROKEN,
        _S.FAILED_RELEASING,
        _S.FAILED_DISK_ERASING,
        _S.FAILED_ENTERING_RESCUE_MODE,
        _S.FAILED_EXITING_RESCUE_MODE,
        _S.FAILED_TESTING,
    }
)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    _S.NEW: frozenset(
        {_S.COMMISSIONING, _S.TESTING, _S.MISSING, _S.READY, _S.RETIRED, _S.BROKEN,
         _S.ENTERING_RESCUE_MODE}
    ),
    _S.COMMISSIONING: frozenset(
        {_S.FAILED_COMMISSIONING, _S.READY, _S.RETIRED, _S.MISSING, _S.NEW, _S.BROKEN,
         _S.TESTING}
    ),
    _S.FAILED_COMMISSIONING: frozenset(
        {_S.COMMISSIONING, _S.MISSING, _S.RETIRED, _S.BROKEN, _S.ENTERING_RESCUE_MODE,
         _S.TESTING}
    ),
    _S.READY: frozenset(
        {_S.ENTERING_RESCUE_MODE, _S.COMMISSIONING, _S.ALLOCATED, _S.RESERVED, _S.RETIRED,
         _S.MISSING, _S.BROKEN, _S.TESTING}
    ),
    _S.RESERVED: frozenset(
        {_S.READY, _S.ALLOCATED, _S.RETIRED, _S.MISSING, _S.BROKEN, _S.DISK_ERASING,
         _S.RELEASING, _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.ALLOCATED: frozenset(
        {_S.READY, _S.RETIRED, _S.MISSING, _S.BROKEN, _S.DEPLOYING, _S.DISK_ERASING,
         _S.RELEASING, _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.RELEASING: frozenset(
        {_S.NEW, _S.ALLOCATED, _S.RESERVED, _S.DEPLOYED, _S.READY, _S.BROKEN, _S.MISSING,
         _S.FAILED_DEPLOYMENT, _S.FAILED_DISK_ERASING, _S.FAILED_RELEASING}
    ),
    _S.DEPLOYING: frozenset(
        {_S.ALLOCATED, _S.MISSING, _S.BROKEN, _S.FAILED_DEPLOYMENT, _S.DEPLOYED, _S.READY,
         _S.DISK_ERASING, _S.RELEASING}
    ),
    _S.FAILED_DEPLOYMENT: frozenset(
        {_S.ALLOCATED, _S.MISSING, _S.BROKEN, _S.READY, _S.DISK_ERASING, _S.RELEASING,
         _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.DEPLOYED: frozenset(
        {_S.ALLOCATED, _S.MISSING, _S.BROKEN, _S.READY, _S.DISK_ERASING, _S.RELEASING,
         _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.MISSING: frozenset(
        {_S.NEW, _S.READY, _S.ALLOCATED, _S.COMMISSIONING, _S.BROKEN,
         _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.RETIRED: frozenset(
        {_S.NEW, _S.READY, _S.MISSING, _S.BROKEN, _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.BROKEN: frozenset(
        {_S.COMMISSIONING, _S.READY, _S.DISK_ERASING, _S.RELEASING, _S.ENTERING_RESCUE_MODE,
         _S.TESTING, _S.DEPLOYED}
    ),
    _S.FAILED_RELEASING: frozenset(
        {_S.RELEASING, _S.DISK_ERASING, _S.READY, _S.BROKEN, _S.TESTING}
    ),
    _S.DISK_ERASING: frozenset(
        {_S.BROKEN, _S.DISK_ERASING, _S.FAILED_DISK_ERASING, _S.READY, _S.RELEASING}
    ),
    _S.FAILED_DISK_ERASING: frozenset(
        {_S.DISK_ERASING, _S.RELEASING, _S.BROKEN, _S.ALLOCATED, _S.READY,
         _S.ENTERING_RESCUE_MODE, _S.TESTING}
    ),
    _S.ENTERING_RESCUE_MODE: frozenset(
        {_S.READY, _S.BROKEN, _S.DEPLOYED, _S.RESCUE_MODE, _S.FAILED_ENTERING_RESCUE_MODE,
         _S.EXITING_RESCUE_MODE}
    ),
    _S.FAILED_ENTERING_RESCUE_MODE: frozenset(
        {_S.BROKEN, _S.ENTERING_RESCUE_MODE, _S.EXITING_RESCUE_MODE, _S.TESTING}
    ),
    _S.RESCUE_MODE: frozenset({_S.BROKEN, _S.EXITING_RESCUE_MODE, _S.TESTING}),
    _S.EXITING_RESCUE_MODE: frozenset(
        {_S.NEW, _S.BROKEN, _S.FAILED_COMMISSIONING, _S.READY, _S.RESERVED, _S.ALLOCATED,
         _S.FAILED_DEPLOYMENT, _S.DEPLOYED, _S.MISSING, _S.RETIRED, _S.FAILED_RELEASING,
         _S.FAILED_DISK_ERASING, _S.RESCUE_MODE, _S.FAILED_ENTERING_RESCUE_MODE,
         _S.FAILED_EXITING_RESCUE_MODE, _S.FAILED_TESTING}
    ),
    _S.FAILED_EXITING_RESCUE_MODE: frozenset({_S.BROKEN, _S.EXITING_RESCUE_MODE, _S.TESTING}),
    _S.TESTING: frozenset(
        {_S.BROKEN, _S.NEW, _S.READY, _S.RESERVED, _S.ALLOCATED, _S.DEPLOYED}
    )
    | _TESTING_RESETS,
    _S.FAILED_TESTING: frozenset(
        {_S.COMMISSIONING, _S.BROKEN, _S.MISSING, _S.ENTERING_RESCUE_MODE, _S.TESTING,
         _S.READY, _S.DEPLOYED}
    ),
}

# Statuses from which ``release`` starts releasing (RELEASABLE_STATUSES).
RELEASABLE = frozenset(
    {
        _S.ALLOCATED,
        _S.RESERVED,
        _S.BROKEN,
        _S.DEPLOYING,
        _S.DEPLOYED,
        _S.FAILED_DEPLOYMENT,
        _S.FAILED_DISK_ERASING,
        _S.FAILED_RELEASING,
    }
)

# Statuses in which a node keeps its owner (ALLOCATED_NODE_STATUSES).
OWNED = frozenset(
    {
        _S.ALLOCATED,
        _S.DEPLOYING,
        _S.DEPLOYED,
        _S.FAILED_DEPLOYMENT,
        _S.RELEASING,
        _S.FAILED_RELEASING,
        _S.DISK_ERASING,
        _S.FAILED_DISK_ERASING,
        _S.RESCUE_MODE,
        _S.ENTERING_RESCUE_MODE,
        _S.FAILED_ENTERING_RESCUE_MODE,
        _S.EXITING_RESCUE_MODE,
        _S.FAILED_EXITING_RESCUE_MODE,
        _S.TESTING,
        _S.FAILED_TESTING,
    }
)

# Statuses in which an action is running (``is_action_in_progress``).
IN_PROGRESS = frozenset(
    {
        _S.COMMISSIONING,
        _S.DEPLOYING,
        _S.RELEASING,
        _S.DISK_ERASING,
        _S.ENTERING_RESCUE_MODE,
        _S.EXITING_RESCUE_MODE,
        _S.TESTING,
    }
)

# The ``simple_status`` filter groups (SIMPLIFIED_NODE_STATUSES_MAP).
SIMPLIFIED: dict[str, frozenset[Status]] = {
    "allocated": frozenset({_S.ALLOCATED}),
    "broken": frozenset({_S.BROKEN}),
    "commissioning": frozenset({_S.COMMISSIONING}),
    "deployed": frozenset({_S.DEPLOYED}),
    "deploying": frozenset({_S.DEPLOYING}),
    "failed": frozenset(
        {
            _S.FAILED_COMMISSIONING,
            _S.FAILED_DEPLOYMENT,
            _S.FAILED_DISK_ERASING,
            _S.FAILED_ENTERING_RESCUE_MODE,
            _S.FAILED_EXITING_RESCUE_MODE,
            _S.FAILED_RELEASING,
            _S.FAILED_TESTING,
        }
    ),
    "new": frozenset({_S.NEW}),
    "ready": frozenset({_S.READY}),
    "releasing": frozenset({_S.DISK_ERASING, _S.RELEASING}),
    "rescue_mode": frozenset({_S.ENTERING_RESCUE_MODE, _S.EXITING_RESCUE_MODE, _S.RESCUE_MODE}),
    "testing": frozenset({_S.TESTING}),
}

BY_SHORT_NAME: dict[str, Status] = {status.short: status for status in Status}


def can_transition(old: Status, new: Status) -> bool:
    """Tell whether MAAS allows a node to move from ``old`` to ``new``.

    Args:
        old: Current status.
        new: Wanted status.

    Returns:
        True when the transition table allows it.
    """
    return new in TRANSITIONS[old]


def invalid_transition(old: Status, new: Status) -> str:
    """Word a refused transition like ``Node.clean_status``.

    Args:
        old: Current status.
        new: Refused status.

    Returns:
        E.g. ``"Invalid transition: New -> Deploying."``.
    """
    return f"Invalid transition: {old.label} -> {new.label}."
