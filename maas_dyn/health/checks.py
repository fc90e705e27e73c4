"""The health-check engine: rules as data, graded observations, one report.

A :class:`Rule` is a row of a table: a name, a title, a ``measure`` function that turns
what was read from the server into :class:`Observation` rows, a grader (a named
:class:`Threshold` or a :class:`Levels` table), a message template and the fields that
become Prometheus labels. :func:`evaluate` runs every rule of a table against a
*source* (an object that fetches from the server once and caches) and returns a
:class:`Report`. Statuses and exit codes follow the monitoring-plugin convention:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Generic, TypeVar

from maas_dyn.errors import AuthenticationError, MaasDynError, TransportError

__all__ = [
    "Finding",
    "Levels",
    "Observation",
    "Report",
    "Rule",
    "RuleResult",
    "Status",
    "Threshold",
    "evaluate",
    "is_fatal",
    "unreachable_report",
    "worst",
]

S = TypeVar("S")
_OS_ERROR = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


class Status(IntEnum):
    """A health status; its value is the exit code monitoring systems expect."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


# How bad a status is when statuses combine: a rule that could not be evaluated may hide
# a problem, so it outranks WARNING, but a confirmed CRITICAL outranks it.
_RANK: Mapping[Status, int] = {Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2,
                               Status.CRITICAL: 3}


def worst(statuses: Iterable[Status]) -> Status:
    """Combine statuses: the worst one, OK when there are none.

    Args:
        statuses: Any statuses.

    Returns:
        CRITICAL over UNKNOWN over WARNING over OK.
    """
    return max(statuses, key=_RANK.__getitem__, default=Status.OK)


@dataclass(frozen=True)
class Threshold:
    """Grade a number: at or above ``critical`` is CRITICAL, at or above ``warning`` WARNING.

    Attributes:
        warning: First value that is a WARNING.
        critical: First value that is CRITICAL.
        missing: Status of a value that could not be measured (``None``).
        unit: Unit of the value, for people (``s``, ``ratio``, ``count``).
    """

    warning: float
    critical: float
    missing: Status = Status.WARNING
    unit: str = ""

    def grade(self, value: float | None) -> Status:
        """Grade a value.

        Args:
            value: The measured value, or ``None`` when it could not be measured.

        Returns:
            The status.
        """
        if value is None:
            return self.missing
        if value >= self.critical:
            return Status.CRITICAL
        return Status.WARNING if value >= self.warning else Status.OK


@dataclass(frozen=True)
class Levels:
    """Grade a category (a status name, an alert level) by table.

    Attributes:
        table: Category -> status.
        default: Status of a category the table does not list.
    """

    table: Mapping[str, Status]
    default: Status = Status.WARNING

    def grade(self, category: str | None) -> Status:
        """Grade a category.

        Args:
            category: The category; ``None`` means nothing to grade (OK).

        Returns:
            The status.
        """
        return Status.OK if category is None else self.table.get(category, self.default)


@dataclass(frozen=True)
class Observation:
    """One measured thing: a machine's age in a status, a subnet's usage, a pool's state.

    Attributes:
        subject: What was measured, for people (``"machine node-1 (abc123)"``).
        value: The number exported as the gauge value (``None``: not measurable).
        category: What a :class:`Levels` grader grades, or what a threshold name's
            ``{category}`` placeholder is filled with.
        fields: Values for the message template and the Prometheus labels.
    """

    subject: str
    value: float | None
    category: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule(Generic[S]):
    """One row of a rule table.

    Attributes:
        name: Identifier, also the metric name after the dialect prefix.
        title: A few words for people.
        help: One line for Prometheus ``# HELP``.
        measure: Reads the source and yields observations.
        grade: A :class:`Levels` table, or the name of a threshold (``{category}`` in
            it is replaced by the observation's category).
        message: ``str.format`` template over ``subject``, ``value``, ``category`` and
            the observation's fields.
        labels: Fields that become Prometheus labels.
        counts: What the findings' values count, when a finding is a group (alerts of
            one level): reports then total the values ("7 alerts") instead of counting
            findings ("3 checked", which would count levels).
    """

    name: str
    title: str
    help: str
    measure: Callable[[S], Iterable[Observation]]
    grade: Levels | str
    message: str
    labels: tuple[str, ...] = ()
    counts: str = ""


@dataclass(frozen=True)
class Finding:
    """A graded observation.

    Attributes:
        status: Its status.
        subject: What it is about.
        message: The rendered message.
        value: The gauge value (``None``: not measurable).
        labels: Prometheus label values.
    """

    status: Status
    subject: str
    message: str
    value: float | None
    labels: Mapping[str, str]


@dataclass(frozen=True)
class RuleResult:
    """What one rule found.

    Attributes:
        name: The rule's name.
        title: The rule's title.
        help: The rule's help line.
        labels: The rule's label names.
        status: Worst status of its findings (UNKNOWN when it could not run).
        findings: Every graded observation.
        error: Why the rule could not run, if it could not.
        counts: The rule's :attr:`Rule.counts`.
    """

    name: str
    title: str
    help: str
    labels: tuple[str, ...]
    status: Status
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    counts: str = ""

    def total(self, findings: Iterable[Finding] | None = None) -> int:
        """Total of the findings' values (all findings by default), for rules that count."""
        chosen = self.findings if findings is None else findings
        return sum(int(f.value) for f in chosen if f.value is not None)

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Findings that are not OK."""
        return tuple(f for f in self.findings if f.status != Status.OK)


@dataclass(frozen=True)
class Report:
    """The result of one health check of one server.

    Attributes:
        dialect: ``"maas"`` or ``"truenas"`` (the metric prefix).
        target: The server's URL (never credentials).
        status: Worst status over every rule.
        results: One result per rule, in table order.
        checked_at: When the check started (UTC).
        duration: Seconds the check took.
        reason: Why the whole check is UNKNOWN, when it is.
    """

    dialect: str
    target: str
    status: Status
    results: tuple[RuleResult, ...]
    checked_at: datetime
    duration: float
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        """The process exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return int(self.status)

    def result(self, name: str) -> RuleResult:
        """Return the result of one rule.

        Args:
            name: The rule's name.

        Returns:
            Its result.

        Raises:
            KeyError: No rule of that name ran.
        """
        found = next((r for r in self.results if r.name == name), None)
        if found is None:
            raise KeyError(f"no rule named {name!r}; rules: {[r.name for r in self.results]}")
        return found

    def to_text(self, limit: int = 20) -> str:
        """The report for a terminal (see :func:`maas_dyn.health.output.text`)."""
        from maas_dyn.health.output import text

        return text(self, limit)

    def to_json(self) -> str:
        """The report as JSON (see :func:`maas_dyn.health.output.json_text`)."""
        from maas_dyn.health.output import json_text

        return json_text(self)

    def to_prometheus(self) -> str:
        """The report in Prometheus text format (see :func:`maas_dyn.health.output.prometheus`)."""
        from maas_dyn.health.output import prometheus

        return prometheus(self)


def _format(template: str, observation: Observation) -> str:
    # A field of the same name wins over the observation's own attribute.
    return template.format_map({"subject": observation.subject, "value": observation.value,
                                "category": observation.category, **observation.fields})


def _grade(rule: Rule[Any], observation: Observation, thresholds: Mapping[str, Threshold]
           ) -> Status:
    if isinstance(rule.grade, Levels):
        return rule.grade.grade(observation.category)
    return thresholds[rule.grade.format(category=observation.category)].grade(observation.value)


def _run(rule: Rule[S], source: S, thresholds: Mapping[str, Threshold]) -> RuleResult:
    findings = []
    for observation in rule.measure(source):
        status = _grade(rule, observation, thresholds)
        labels = {name: str(observation.fields.get(name, "")) for name in rule.labels}
        findings.append(Finding(status, observation.subject, _format(rule.message, observation),
                                observation.value, labels))
    return RuleResult(rule.name, rule.title, rule.help, rule.labels,
                      worst(f.status for f in findings), tuple(findings), counts=rule.counts)


def unreachable_report(dialect: str, target: str, error: MaasDynError | str,
                       started: float | None = None) -> Report:
    """Build the UNKNOWN report of a server that could not be checked.

    Args:
        dialect: ``"maas"`` or ``"truenas"``.
        target: The server's URL.
        error: Why: the error that stopped the check, or one line of text.
        started: ``time.monotonic()`` when the check started.

    Returns:
        A report with no rule results, status UNKNOWN and a one-line ``reason``.
    """
    reason = error if isinstance(error, str) else _reason(dialect, target, error)
    duration = 0.0 if started is None else time.monotonic() - started
    return Report(dialect, target, Status.UNKNOWN, (), datetime.now(timezone.utc), duration,
                  reason)


def is_fatal(error: BaseException) -> bool:
    """Tell whether an error means the server cannot be checked at all.

    Args:
        error: An error raised while reading from the server.

    Returns:
        True for transport failures and refused credentials.
    """
    return isinstance(error, (TransportError, AuthenticationError))


def evaluate(rules: Sequence[Rule[S]], source: S, thresholds: Mapping[str, Threshold], *,
             dialect: str, target: str) -> Report:
    """Run a rule table against a source.

    A rule whose reads fail with an API error (forbidden, not found...) is UNKNOWN with
    the error; a transport or authentication failure ends the whole check as UNKNOWN,
    because every further read would fail the same way.

    Args:
        rules: The table.
        source: What the rules' ``measure`` functions read (caches server reads).
        thresholds: Threshold name -> threshold.
        dialect: ``"maas"`` or ``"truenas"``.
        target: The server's URL, for the report.

    Returns:
        The report.
    """
    started = time.monotonic()
    checked_at = datetime.now(timezone.utc)
    results = []
    for rule in rules:
        try:
            results.append(_run(rule, source, thresholds))
        except MaasDynError as exc:
            if is_fatal(exc):
                return unreachable_report(dialect, target, exc, started)
            results.append(RuleResult(rule.name, rule.title, rule.help, rule.labels,
                                      Status.UNKNOWN, error=_one_line(exc)))
    return Report(dialect, target, worst(r.status for r in results), tuple(results), checked_at,
                  time.monotonic() - started)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _reason(dialect: str, target: str, exc: MaasDynError) -> str:
    server = "MAAS" if dialect == "maas" else "TrueNAS"
    if isinstance(exc, AuthenticationError):
        return f"{server} at {target} refused the credentials: {_one_line(exc)}"
    if isinstance(exc, TransportError):
        # The operating system's words ("Connection refused") say it best; the rest of
        # a wrapped urllib3 message is noise on a monitoring line.
        system = _OS_ERROR.search(str(exc))
        return f"cannot reach {server} at {target}: " + (
            system.group(1).strip().lower() if system else _one_line(exc))
    return _one_line(exc)
