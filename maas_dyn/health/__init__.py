"""What a client that knows every release can tell: health checks, release diffs, references.

Health checks run a table of rules against a live server and return a
:class:`~maas_dyn.health.checks.Report` (text, JSON or Prometheus output, exit codes
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)::

    from maas_dyn.health import check_maas

    report = check_maas(maas_dyn.maas.connect(url, api_key=key))
    print(report.to_text())
    raise SystemExit(report.exit_code)

Release diffs (:mod:`~maas_dyn.health.diff`) and reference pages
(:mod:`~maas_dyn.health.reference`) work from descriptions alone.
"""

from maas_dyn.health.checks import (
    Finding,
    Levels,
    Observation,
    Report,
    Rule,
    RuleResult,
    Status,
    Threshold,
)
from maas_dyn.health.maas_rules import check_maas
from maas_dyn.health.truenas_rules import check_truenas

__all__ = [
    "Finding",
    "Levels",
    "Observation",
    "Report",
    "Rule",
    "RuleResult",
    "Status",
    "Threshold",
    "check_maas",
    "check_truenas",
]
