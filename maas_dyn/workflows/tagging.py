"""Discovery and tagging: find new machines and tag them by their hardware facts.

What to tag is a table of :class:`TagRule` rows (a fact of the machine as ``machine
read`` reports it, an operator from :data:`OPERATORS`, a value), not code; a rule may
carry kernel options, which MAAS adds to the kernel command line of every machine with
the tag. :data:`DEFAULT_RULES` is a starting point::

    report = tag_new_machines(client)                 # New machines, DEFAULT_RULES
    report = tag_machines(client, select_machines(client, {"zone": "rack-a"}),
                          [TagRule("gpu-node", "cpu_count", ">=", 64)])

Facts and their units are MAAS's: ``cpu_count``, ``memory`` (MiB), ``storage`` (MB,
all physical disks), ``architecture`` (e.g. ``amd64/generic``). Tags are applied in
one ``tag update_nodes`` call per tag; machines that have a tag already are left alone,
so running a rule set twice changes nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maas_dyn.workflows._common import fields, logged_step, select_machines

__all__ = [
    "DEFAULT_RULES",
    "FACTS",
    "OPERATORS",
    "TagRule",
    "TaggingReport",
    "ensure_tags",
    "find_new_machines",
    "plan_tags",
    "tag_machines",
    "tag_new_machines",
]

# The hardware facts rules may test, with their units, for documentation and checks.
FACTS: Mapping[str, str] = {
    "cpu_count": "CPU cores",
    "memory": "MiB of RAM",
    "storage": "MB of physical disk, all disks together",
    "architecture": "architecture/subarchitecture, e.g. amd64/generic",
}
"""The machine facts a :class:`TagRule` can test, with their units: ``cpu_count``,
``memory`` (MiB), ``storage`` (MB, all disks), ``architecture``.
"""

OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
    "startswith": lambda fact, prefix: str(fact).startswith(prefix),
    "in": lambda fact, choices: fact in choices,
}
"""The comparisons a :class:`TagRule` can use: ``>=``, ``>``, ``<=``, ``<``, ``==``,
``!=``, ``startswith`` and ``in``.
"""


@dataclass(frozen=True)
class TagRule:
    """Tag the machines whose ``fact`` compares to ``value`` with ``op``.

    Attributes:
        tag: The tag to apply.
        fact: A key of :data:`FACTS`.
        op: A key of :data:`OPERATORS`.
        value: What the fact is compared with.
        kernel_opts: Kernel options MAAS boots tagged machines with.
        comment: The tag's description in MAAS.
    """

    tag: str
    fact: str
    op: str
    value: Any
    kernel_opts: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        if self.fact not in FACTS or self.op not in OPERATORS:
            raise ValueError(f"rule {self.tag!r}: fact must be one of {', '.join(FACTS)} and "
                             f"op one of {', '.join(OPERATORS)}; got {self.fact!r} {self.op!r}")

    def matches(self, machine: Mapping[str, Any]) -> bool:
        """Tell whether a machine (as ``machine read`` renders it) gets the tag."""
        fact = machine.get(self.fact)
        if fact is None:
            return False  # not reported (e.g. never commissioned): never guess
        try:
            return bool(OPERATORS[self.op](fact, self.value))
        except TypeError:
            return False  # a fact of another type than the rule expects


DEFAULT_RULES: tuple[TagRule, ...] = (
    TagRule("cpu-32plus", "cpu_count", ">=", 32, comment="32 or more CPU cores"),
    TagRule("memory-64g-plus", "memory", ">=", 64 * 1024, comment="64 GiB of RAM or more"),
    TagRule("hugepages-1g", "memory", ">=", 128 * 1024,
            kernel_opts="default_hugepagesz=1G hugepagesz=1G hugepages=32",
            comment="128 GiB of RAM or more: boots with 1 GiB huge pages"),
    TagRule("storage-2tb-plus", "storage", ">=", 2_000_000, comment="2 TB of disk or more"),
    TagRule("amd64", "architecture", "startswith", "amd64/", comment="x86-64"),
    TagRule("arm64", "architecture", "startswith", "arm64/", comment="64-bit ARM"),
)
"""A starting set of rules: ``cpu-32plus``, ``memory-64g-plus``, ``hugepages-1g`` (with
kernel options for 1 GiB huge pages), ``storage-2tb-plus``, ``amd64`` and ``arm64``.
"""


@dataclass
class TaggingReport:
    """What a tagging run did.

    Attributes:
        machines: How many machines were looked at.
        created: Tags that were created.
        updated: Tags whose kernel options or comment were changed.
        applied: Per tag, the machines that received it in this run.
    """

    machines: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    applied: dict[str, list[str]] = field(default_factory=dict)


def find_new_machines(client: Any, statuses: Sequence[str] = ("new",)) -> list[dict[str, Any]]:
    """Return the machines that were just enlisted (status ``New`` by default).

    Args:
        client: A MAAS client.
        statuses: ``machines read`` status filters, e.g. ``("new", "ready")``.

    Returns:
        The machines.
    """
    return select_machines(client, [("status", status) for status in statuses])


def plan_tags(machines: Iterable[Mapping[str, Any]],
              rules: Sequence[TagRule]) -> dict[str, list[str]]:
    """Decide, without any request, which machines get which tag.

    Args:
        machines: Machines as ``machine read`` renders them.
        rules: The rules.

    Returns:
        Tag -> system_ids that match a rule of it and do not have it yet.
    """
    plan: dict[str, list[str]] = {}
    for machine in machines:
        has = set(machine.get("tag_names") or ())
        for rule in rules:
            if rule.tag not in has and rule.matches(machine):
                has.add(rule.tag)
                plan.setdefault(rule.tag, []).append(str(machine["system_id"]))
    return plan


def ensure_tags(client: Any, rules: Sequence[TagRule],
                report: TaggingReport | None = None) -> TaggingReport:
    """Create the rules' tags that do not exist; bring kernel options and comments in line.

    Args:
        client: A MAAS client.
        rules: The rules (the first rule of a tag gives its kernel options and comment).
        report: A report to add to.

    Returns:
        The report, with ``created`` and ``updated`` filled in.
    """
    report = report if report is not None else TaggingReport()
    existing = {tag["name"]: tag for tag in client.tags.read() if isinstance(tag, Mapping)}
    wanted: dict[str, TagRule] = {}
    for rule in rules:
        wanted.setdefault(rule.tag, rule)
    for name, rule in wanted.items():
        current = existing.get(name)
        settings = {"kernel_opts": rule.kernel_opts, "comment": rule.comment}
        if current is None:
            with logged_step(name, "create tag") as step:
                client.request("tags", "create", fields=fields(name=name, **settings))
                step.state = "created"
            report.created.append(name)
        elif any((current.get(key) or "") != value for key, value in settings.items()):
            with logged_step(name, "update tag") as step:
                client.request("tag", "update", name, fields=fields(**settings))
                step.state = "updated"
            report.updated.append(name)
    return report


def tag_machines(client: Any, machines: Sequence[Mapping[str, Any]],
                 rules: Sequence[TagRule] = DEFAULT_RULES) -> TaggingReport:
    """Tag machines by the rules: create missing tags, then one ``update_nodes`` per tag.

    Args:
        client: A MAAS client.
        machines: Machines as ``machine read`` renders them.
        rules: The rules.

    Returns:
        What was created and applied.
    """
    report = TaggingReport(machines=len(machines))
    plan = plan_tags(machines, rules)
    ensure_tags(client, [rule for rule in rules if rule.tag in plan], report)
    for name, system_ids in plan.items():
        with logged_step(",".join(system_ids), f"tag {name}") as step:
            client.request("tag", "update_nodes", name, fields=fields(add=system_ids))
            step.state = "tagged"
        report.applied[name] = system_ids
    return report


def tag_new_machines(client: Any, rules: Sequence[TagRule] = DEFAULT_RULES,
                     statuses: Sequence[str] = ("new",)) -> TaggingReport:
    """Find the machines just enlisted and tag them by the rules.

    Args:
        client: A MAAS client.
        rules: The rules.
        statuses: Which machines count as new (``machines read`` status filters).

    Returns:
        What was created and applied.
    """
    return tag_machines(client, find_new_machines(client, statuses), rules)
