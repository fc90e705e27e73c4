"""Node filters of ``machines read`` / ``nodes read`` and constraints of ``allocate``.

One table describes every parameter: what node attribute it reads and how values match
(any of, all of, at least). Repeated values of a parameter are OR'd, except ``tags``
which MAAS ANDs; ``not_*`` parameters exclude. Names and errors follow MAAS's
``ReadNodesForm`` and ``AcquireNodeForm``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from maas_dyn.sim.maas.models import Machine
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import NotModelled, ValidationFailed
from maas_dyn.sim.maas.state import Node, State
from maas_dyn.sim.maas.status import BY_SHORT_NAME, SIMPLIFIED
from maas_dyn.sim.maas.validation import MAC_ADDRESS, invalid_choice

Mode = Literal["any", "all", "gte"]
Getter = Callable[[State, Node], frozenset[str] | float]

KNOWN_ARCHITECTURES = frozenset(
    {"amd64/generic", "arm64/generic", "i386/generic", "armhf/generic", "ppc64el/generic",
     "s390x/generic"}
)
_TAG_SPLIT = re.compile(r"[,\s]+")


def _one(value: str | None) -> frozenset[str]:
    return frozenset() if value is None else frozenset({value})


def _machine_only(getter: Callable[[State, Machine], frozenset[str] | float]) -> Getter:
    def get(state: State, node: Node) -> frozenset[str] | float:
        return getter(state, node) if isinstance(node, Machine) else frozenset()

    return get


_GETTERS: dict[str, Getter] = {
    "system_id": lambda s, n: _one(n.system_id),
    "hostname": lambda s, n: _one(n.hostname),
    # ``name`` matches the hostname or the FQDN.
    "name": lambda s, n: frozenset({n.hostname, f"{n.hostname}.{s.domains[n.domain_id].name}"}),
    "mac_address": lambda s, n: frozenset(i.mac_address.lower() for i in n.interfaces),
    "domain": lambda s, n: _one(s.domains[n.domain_id].name),
    "zone": lambda s, n: _one(s.zones[n.zone_id].name),
    "owner": lambda s, n: _one(n.owner),
    "tags": lambda s, n: frozenset(n.tag_names),
    "fabrics": lambda s, n: frozenset(
        s.fabrics[s.vlans[i.vlan_id].fabric_id].name for i in n.interfaces if i.vlan_id in s.vlans
    ),
    "agent_name": _machine_only(lambda s, m: _one(m.agent_name)),
    "status": _machine_only(lambda s, m: _one(m.status.short)),
    "simple_status": _machine_only(
        lambda s, m: frozenset(name for name, group in SIMPLIFIED.items() if m.status in group)
    ),
    "arch": _machine_only(lambda s, m: _one(m.architecture)),
    "pool": _machine_only(lambda s, m: _one(s.pools[m.pool_id].name)),
    "power_state": _machine_only(lambda s, m: _one(m.power_state)),
    "cpu_count": _machine_only(lambda s, m: float(m.cpu_count)),
    "mem": _machine_only(lambda s, m: float(m.memory)),
}

Scope = Literal["read", "allocate"]
_BOTH: frozenset[Scope] = frozenset({"read", "allocate"})
_READ: frozenset[Scope] = frozenset({"read"})
_ALLOCATE: frozenset[Scope] = frozenset({"allocate"})


@dataclass(frozen=True)
class FilterSpec:
    """How one request parameter filters nodes.

    Attributes:
        param: The parameter name.
        attribute: Key of the node attribute getter.
        mode: ``any`` (one value matches), ``all`` (every value present) or ``gte``.
        exclude: True for ``not_*`` parameters.
        scopes: Where the parameter is accepted.
    """

    param: str
    attribute: str
    mode: Mode = "any"
    exclude: bool = False
    scopes: frozenset[Scope] = _BOTH


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec("id", "system_id", scopes=_READ),
    FilterSpec("not_id", "system_id", exclude=True, scopes=_READ),
    FilterSpec("system_id", "system_id", scopes=_ALLOCATE),
    FilterSpec("not_system_id", "system_id", exclude=True),
    FilterSpec("hostname", "hostname", scopes=_READ),
    FilterSpec("not_hostname", "hostname", exclude=True, scopes=_READ),
    FilterSpec("name", "name", scopes=_ALLOCATE),
    FilterSpec("mac_address", "mac_address", scopes=_READ),
    FilterSpec("domain", "domain", scopes=_READ),
    FilterSpec("not_domain", "domain", exclude=True, scopes=_READ),
    FilterSpec("agent_name", "agent_name", scopes=_READ),
    FilterSpec("not_agent_name", "agent_name", exclude=True, scopes=_READ),
    FilterSpec("status", "status", scopes=_READ),
    FilterSpec("not_status", "status", exclude=True, scopes=_READ),
    FilterSpec("simple_status", "simple_status", scopes=_READ),
    FilterSpec("not_simple_status", "simple_status", exclude=True, scopes=_READ),
    FilterSpec("arch", "arch"),
    FilterSpec("not_arch", "arch", exclude=True),
    FilterSpec("tags", "tags", mode="all"),
    FilterSpec("not_tags", "tags", exclude=True),
    FilterSpec("zone", "zone"),
    FilterSpec("not_in_zone", "zone", exclude=True),
    FilterSpec("pool", "pool"),
    FilterSpec("not_in_pool", "pool", exclude=True),
    FilterSpec("owner", "owner"),
    FilterSpec("not_owner", "owner", exclude=True),
    FilterSpec("power_state", "power_state"),
    FilterSpec("not_power_state", "power_state", exclude=True),
    FilterSpec("fabrics", "fabrics"),
    FilterSpec("not_fabrics", "fabrics", exclude=True),
    FilterSpec("cpu_count", "cpu_count", mode="gte"),
    FilterSpec("mem", "mem", mode="gte"),
)

# Parameters MAAS accepts that the simulator cannot evaluate: refusing them with 501 is
# better than silently returning unfiltered nodes.
UNMODELLED = frozenset(
    {
        "vlans", "not_vlans", "subnets", "not_subnets", "fabric_classes",
        "not_fabric_classes", "link_speed", "cpu_speed", "pod", "not_pod", "pod_type",
        "not_pod_type", "devices", "storage", "interfaces", "deployment_target",
        "not_deployment_target",
    }
)

# Allocation parameters that are options rather than constraints.
ALLOCATE_OPTIONS = frozenset(
    {"op", "agent_name", "comment", "bridge_all", "bridge_type", "bridge_stp", "bridge_fd",
     "dry_run", "verbose"}
)


@dataclass(frozen=True)
class Criterion:
    """A parsed filter: the spec and its cleaned values."""

    spec: FilterSpec
    values: frozenset[str] | float


def parse(
    state: State,
    params: Params,
    scope: Scope,
    not_modelled: Callable[[str], NotModelled],
) -> list[Criterion]:
    """Validate filter parameters and compile them.

    Args:
        state: The region, to check names of tags, zones, pools and owners.
        params: Request parameters.
        scope: ``"read"`` or ``"allocate"``.
        not_modelled: Builds the 501 error for a filter the simulator cannot evaluate.

    Returns:
        The criteria, to be ANDed.

    Raises:
        ValidationFailed: A value is invalid (unknown tag, zone, status...).
        NotModelled: A known MAAS filter the simulator cannot evaluate was given.
    """
    errors: dict[str, list[str]] = {}
    criteria: list[Criterion] = []
    specs = {spec.param: spec for spec in FILTERS if scope in spec.scopes}
    for name in params.names():
        if name in UNMODELLED:
            raise not_modelled(f"node filter '{name}'")
        spec = specs.get(name)
        if spec is None:
            if scope == "allocate" and name not in ALLOCATE_OPTIONS:
                errors.setdefault(name, []).append("No such constraint.")
            continue
        values = [v for v in params.get_list(name) if v != ""]
        if not values:
            continue
        cleaned = _clean(state, spec, values, errors)
        if cleaned is not None:
            criteria.append(Criterion(spec, cleaned))
    if errors:
        raise ValidationFailed(errors)
    return criteria


def matches(state: State, node: Node, criteria: Iterable[Criterion]) -> bool:
    """Tell whether a node passes every criterion.

    Args:
        state: The region.
        node: The node.
        criteria: From :func:`parse`.

    Returns:
        True when it passes.
    """
    for criterion in criteria:
        have = _GETTERS[criterion.spec.attribute](state, node)
        if isinstance(criterion.values, float):
            hit = isinstance(have, float) and have >= criterion.values
        elif isinstance(have, float):
            hit = False
        elif criterion.spec.mode == "all":
            hit = criterion.values <= have
        else:
            hit = bool(criterion.values & have)
        if hit == criterion.spec.exclude:
            return False
    return True


def describe(criteria: Iterable[Criterion]) -> str:
    """Summarise criteria like ``AcquireNodeForm.describe_constraints``.

    Args:
        criteria: From :func:`parse`.

    Returns:
        E.g. ``"cpu_count=64.0 tags=gpu"``.
    """
    parts = []
    for criterion in criteria:
        values = criterion.values
        shown = str(values) if isinstance(values, float) else ",".join(sorted(values))
        parts.append(f"{criterion.spec.param}={shown}")
    return " ".join(parts)


def _clean(
    state: State, spec: FilterSpec, values: list[str], errors: dict[str, list[str]]
) -> frozenset[str] | float | None:
    cleaner = _CLEANERS.get(spec.attribute)
    if cleaner is None:
        return frozenset(values)
    return cleaner(state, spec.param, values, errors)


def _clean_number(
    state: State, name: str, values: list[str], errors: dict[str, list[str]]
) -> float | None:
    try:
        return min(float(value) for value in values)
    except ValueError:
        errors.setdefault(name, []).append(f"Invalid {name}: must be a number.")
        return None


def _clean_tags(
    state: State, name: str, values: list[str], errors: dict[str, list[str]]
) -> frozenset[str] | None:
    # MAAS also accepts the legacy "a,b" / "a b" spelling inside one value.
    tags = frozenset(part for value in values for part in _TAG_SPLIT.split(value) if part)
    unknown = sorted(tags - state.tags.keys())
    if unknown:
        errors.setdefault(name, []).append(
            "No such tag(s): " + ", ".join(f"'{tag}'" for tag in unknown) + "."
        )
        return None
    return tags


def _clean_names(
    known: Callable[[State], set[str]], what: str
) -> Callable[[State, str, list[str], dict[str, list[str]]], frozenset[str] | None]:
    def clean(
        state: State, name: str, values: list[str], errors: dict[str, list[str]]
    ) -> frozenset[str] | None:
        unknown = [value for value in values if value not in known(state)]
        if unknown:
            errors.setdefault(name, []).append(f"No such {what}(s): {', '.join(unknown)}.")
            return None
        return frozenset(values)

    return clean


def _clean_owner(
    state: State, name: str, values: list[str], errors: dict[str, list[str]]
) -> frozenset[str] | None:
    unknown = [value for value in values if value not in state.users]
    if unknown:
        errors.setdefault(name, []).append(f"No such owner: '{unknown[0]}'.")
        return None
    return frozenset(values)


def _clean_choice(
    choices: Iterable[str],
) -> Callable[[State, str, list[str], dict[str, list[str]]], frozenset[str] | None]:
    allowed = frozenset(choices)

    def clean(
        state: State, name: str, values: list[str], errors: dict[str, list[str]]
    ) -> frozenset[str] | None:
        for value in values:
            if value not in allowed:
                errors.setdefault(name, []).append(invalid_choice(value))
                return None
        return frozenset(values)

    return clean


def _clean_arch(
    state: State, name: str, values: list[str], errors: dict[str, list[str]]
) -> frozenset[str] | None:
    known = KNOWN_ARCHITECTURES | {m.architecture for m in state.machines.values()}
    arches: set[str] = set()
    for value in values:
        # A bare architecture is a wildcard for all its sub-architectures.
        expanded = {value} if value in known else {a for a in known if a.split("/")[0] == value}
        if not expanded:
            errors.setdefault(name, []).append("Architecture not recognised.")
            return None
        arches |= expanded
    return frozenset(arches)


def _clean_macs(
    state: State, name: str, values: list[str], errors: dict[str, list[str]]
) -> frozenset[str] | None:
    if not all(MAC_ADDRESS.match(value) for value in values):
        errors.setdefault(name, []).append("Invalid parameter: invalid MAC address format")
        return None
    return frozenset(value.lower().replace("-", ":") for value in values)


_CLEANERS = {
    "cpu_count": _clean_number,
    "mem": _clean_number,
    "tags": _clean_tags,
    "zone": _clean_names(lambda s: {z.name for z in s.zones.values()}, "zone"),
    "pool": _clean_names(lambda s: {p.name for p in s.pools.values()}, "pool"),
    "owner": _clean_owner,
    "status": _clean_choice(BY_SHORT_NAME),
    "simple_status": _clean_choice(SIMPLIFIED),
    "power_state": _clean_choice(("on", "off", "unknown", "error")),
    "arch": _clean_arch,
    "mac_address": _clean_macs,
}
