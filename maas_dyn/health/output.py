"""A health report as terminal text, JSON, or Prometheus text exposition format.

The Prometheus output follows the text format 0.0.4: one ``# HELP`` and one ``# TYPE``
line per metric family, every sample of a family together, label values escaped
(backslash, double quote, newline), ``NaN`` for values that could not be measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping

from maas_dyn.health.checks import Report, RuleResult, Status

__all__ = ["FORMATS", "json_text", "prometheus", "render", "text"]

# OK findings are listed on a rule's line when that line stays this short.
_INLINE_OK = 100
_SERVER = {"maas": "MAAS", "truenas": "TrueNAS"}


# -- text ------------------------------------------------------------------------------

def _counts(report: Report) -> str:
    counts = [(status, sum(1 for r in report.results if r.status == status))
              for status in (Status.CRITICAL, Status.UNKNOWN, Status.WARNING)]
    parts = [f"{count} {status.name.lower()}" for status, count in counts if count]
    return f" ({', '.join(parts)})" if parts else ""


def _rule_lines(result: RuleResult, limit: int) -> list[str]:
    head = f"  {result.status.name:<9}{result.title:<32}"
    if result.error is not None:
        return [f"{head}could not check: {result.error}"]
    problems = result.problems
    if not problems:
        if not result.findings:
            return [f"{head}nothing to check"]
        listed = ", ".join(f.message for f in result.findings)
        if len(listed) <= _INLINE_OK:
            return [f"{head}{listed}"]
        if result.counts:
            return [f"{head}{result.total()} {result.counts}, all OK"]
        return [f"{head}{len(result.findings)} checked, all OK"]
    if result.counts:
        lines = [f"{head}{result.total(problems)} of {result.total()} {result.counts} "
                 f"need attention"]
    else:
        lines = [f"{head}{len(problems)} of {len(result.findings)} need attention"]
    lines += [f"      {f.status.name:<9}{f.message}" for f in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"      ... and {len(problems) - limit} more (-o json lists all)")
    return lines


def text(report: Report, limit: int = 20) -> str:
    """Render a report for people.

    Args:
        report: The report.
        limit: Problem lines shown per rule (the rest are counted).

    Returns:
        The text, ending with a newline.
    """
    server = _SERVER.get(report.dialect, report.dialect)
    lines = [f"{server} health {report.status.name}{_counts(report)}: {report.target} "
             f"({report.duration:.2f} s)"]
    if report.reason:
        lines.append(f"  {report.reason}")
    for result in report.results:
        lines += _rule_lines(result, limit)
    return "\n".join(lines) + "\n"


# -- JSON ------------------------------------------------------------------------------

def _number(value: float | None) -> float | None:
    # JSON has no NaN or infinity; a value that cannot be written is null.
    return None if value is None or not math.isfinite(value) else value


def json_text(report: Report) -> str:
    """Render a report as a JSON document.

    Args:
        report: The report.

    Returns:
        The JSON text, ending with a newline.
    """
    document = {
        "dialect": report.dialect,
        "target": report.target,
        "status": report.status.name,
        "exit_code": report.exit_code,
        "checked_at": report.checked_at.isoformat(),
        "duration_seconds": round(report.duration, 6),
        "reason": report.reason,
        "rules": [
            {
                "name": r.name, "title": r.title, "status": r.status.name, "error": r.error,
                "findings": [
                    {"status": f.status.name, "subject": f.subject, "message": f.message,
                     "value": _number(f.value), "labels": dict(f.labels)}
                    for f in r.findings
                ],
            }
            for r in report.results
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# -- Prometheus --------------------------------------------------------------------------

def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _sample_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, help_text: str,
            samples: Iterable[tuple[Mapping[str, str], float | None]]) -> list[str]:
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        rendered = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{rendered}}} {_sample_value(value)}" if rendered
                     else f"{name} {_sample_value(value)}")
    return lines


def prometheus(report: Report) -> str:
    """Render a report as Prometheus text exposition format (labelled gauges).

    Families: ``<dialect>_health_up``, ``<dialect>_health_status``,
    ``<dialect>_health_rule_status{rule}``, ``<dialect>_health_check_duration_seconds``
    and one family per rule, ``<dialect>_<rule name>``, with the rule's labels.

    Args:
        report: The report.

    Returns:
        The exposition text, ending with a newline.
    """
    prefix = report.dialect
    lines = _family(f"{prefix}_health_up",
                    "1 when the server could be checked, 0 when it could not be reached.",
                    [({"target": report.target}, 0 if report.reason else 1)])
    lines += _family(f"{prefix}_health_status",
                     "Overall health: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                     [({"target": report.target}, int(report.status))])
    lines += _family(f"{prefix}_health_check_duration_seconds",
                     "Seconds the health check took.",
                     [({"target": report.target}, round(report.duration, 6))])
    lines += _family(f"{prefix}_health_rule_status",
                     "Status of each health rule: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                     [({"rule": r.name}, int(r.status)) for r in report.results])
    for result in report.results:
        if result.findings:
            lines += _family(f"{prefix}_{result.name}", result.help,
                             [(f.labels, f.value) for f in result.findings])
    return "\n".join(lines) + "\n"


FORMATS: Mapping[str, Callable[[Report], str]] = {
    "text": text,
    "json": json_text,
    "prometheus": prometheus,
}


def render(report: Report, output: str) -> str:
    """Render a report in one of :data:`FORMATS`.

    Args:
        report: The report.
        output: ``"text"``, ``"json"`` or ``"prometheus"``.

    Returns:
        The rendered text.

    Raises:
        ValueError: Unknown format.
    """
    formatter = FORMATS.get(output)
    if formatter is None:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(FORMATS)}")
    return formatter(report)
