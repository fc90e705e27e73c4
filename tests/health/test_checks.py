"""The rule engine and the three outputs, on hand-made rules and sources."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from maas_dyn.errors import ConnectionFailed, ForbiddenError, UnauthorizedError
from maas_dyn.health.checks import (
    Levels,
    Observation,
    Report,
    Rule,
    RuleResult,
    Status,
    Threshold,
    evaluate,
    unreachable_report,
    worst,
)
from maas_dyn.health.maas_rules import RULES as MAAS_RULES
from maas_dyn.health.output import render
from maas_dyn.health.truenas_rules import RULES as TRUENAS_RULES
from tests.health.promtext import parse_exposition

THRESHOLDS = {"temp": Threshold(50, 80, unit="C"), "level.hot": Threshold(1, 2)}


def _readings(source: dict[str, float | None]) -> Iterator[Observation]:
    for name, value in source.items():
        yield Observation(name, value, fields={"sensor": name, "value": value})


def _kinds(source: dict[str, float | None]) -> Iterator[Observation]:
    yield Observation("fan", 1, "spinning", {"sensor": "fan"})
    yield Observation("pump", 0, "stalled", {"sensor": "pump"})


def _broken(source: dict[str, float | None]) -> Iterator[Observation]:
    raise ForbiddenError("admins only", status=403)
    yield  # pragma: no cover - makes this a generator


TEMP = Rule("temperature", "temperatures", 'Degrees "C" per\nsensor \\ probe.', _readings,
            "temp", "{sensor} at {value}", ("sensor",))
KIND = Rule("moving", "moving parts", "1 when moving.", _kinds,
            Levels({"spinning": Status.OK}, Status.CRITICAL), "{sensor} {category}",
            ("sensor",))


def test_worst_ranks_unknown_between_warning_and_critical() -> None:
    assert worst([]) == Status.OK
    assert worst([Status.OK, Status.WARNING]) == Status.WARNING
    assert worst([Status.WARNING, Status.UNKNOWN]) == Status.UNKNOWN
    assert worst([Status.UNKNOWN, Status.CRITICAL, Status.OK]) == Status.CRITICAL


@pytest.mark.parametrize(("value", "expected"), [
    (None, Status.WARNING), (49.9, Status.OK), (50, Status.WARNING), (80, Status.CRITICAL),
])
def test_threshold_grades(value: float | None, expected: Status) -> None:
    assert THRESHOLDS["temp"].grade(value) == expected


def test_levels_grade() -> None:
    levels = Levels({"a": Status.OK}, Status.CRITICAL)
    assert levels.grade(None) == Status.OK
    assert levels.grade("a") == Status.OK
    assert levels.grade("zzz") == Status.CRITICAL


def test_evaluate_grades_formats_and_labels() -> None:
    report = evaluate([TEMP, KIND], {"cpu": 85.0, "disk": 40.0, "gpu": None}, THRESHOLDS,
                      dialect="lab", target="http://lab/")
    assert report.status == Status.CRITICAL and report.exit_code == 2
    temp = report.result("temperature")
    assert [f.status for f in temp.findings] == [Status.CRITICAL, Status.OK, Status.WARNING]
    assert temp.findings[0].message == "cpu at 85.0"
    assert temp.findings[0].labels == {"sensor": "cpu"}
    assert [f.subject for f in temp.problems] == ["cpu", "gpu"]
    assert report.result("moving").problems[0].message == "pump stalled"
    with pytest.raises(KeyError, match="temperature"):
        report.result("nope")


def test_threshold_names_take_the_category() -> None:
    rule = Rule("hot", "hot", "h", _kinds, "level.{category}", "{sensor}")
    with pytest.raises(KeyError):  # "level.spinning" is not a threshold
        evaluate([rule], {}, THRESHOLDS, dialect="lab", target="t")
    rule = Rule("hot", "hot", "h", lambda s: [Observation("x", 2, "hot", {"sensor": "x"})],
                "level.{category}", "{sensor}")
    report = evaluate([rule], {}, THRESHOLDS, dialect="lab", target="t")
    assert report.status == Status.CRITICAL


def test_an_api_error_makes_one_rule_unknown() -> None:
    broken = Rule("broken", "broken rule", "b", _broken, "temp", "x")
    report = evaluate([broken, TEMP], {"cpu": 1.0}, THRESHOLDS, dialect="lab", target="t")
    assert report.status == Status.UNKNOWN
    assert report.result("broken").error == "403: admins only"
    assert report.result("temperature").status == Status.OK
    assert "could not check: 403: admins only" in report.to_text()


@pytest.mark.parametrize(("error", "reason"), [
    (ConnectionFailed("cannot connect: [Errno 111] Connection refused'))"),
     "cannot reach MAAS at http://m/: connection refused"),
    (ConnectionFailed("name does not resolve"),
     "cannot reach MAAS at http://m/: name does not resolve"),
    (UnauthorizedError("Expired timestamp", status=401),
     "MAAS at http://m/ refused the credentials: 401: Expired timestamp"),
])
def test_transport_and_credential_errors_end_the_check(error: Exception, reason: str) -> None:
    def unreachable(source: object) -> Iterator[Observation]:
        raise error

    rule = Rule("first", "first", "f", unreachable, "temp", "x")
    report = evaluate([rule, TEMP], {}, THRESHOLDS, dialect="maas", target="http://m/")
    assert report.status == Status.UNKNOWN and report.results == ()
    assert report.reason == reason
    assert report.to_text().splitlines()[1] == f"  {reason}"


def test_unreachable_report_from_text() -> None:
    report = unreachable_report("truenas", "wss://nas/", "boom")
    assert report.reason == "boom" and report.duration == 0.0
    assert report.to_text().startswith("TrueNAS health UNKNOWN: wss://nas/")


def _sample_report() -> Report:
    return evaluate([TEMP, KIND], {"cpu": 85.0, 'a"b\\c\nd': 1.5, "gpu": None}, THRESHOLDS,
                    dialect="lab", target="http://lab/")


def test_prometheus_is_valid_and_escaped() -> None:
    text = _sample_report().to_prometheus()
    families = parse_exposition(text)
    assert families["lab_health_up"] == {(("target", "http://lab/"),): 1}
    assert families["lab_health_status"] == {(("target", "http://lab/"),): 2}
    assert families["lab_temperature"][(("sensor", 'a"b\\c\nd'),)] == 1.5
    assert str(families["lab_temperature"][(("sensor", "gpu"),)]) == "nan"
    assert r'lab_temperature{sensor="a\"b\\c\nd"} 1.5' in text
    assert r'# HELP lab_temperature Degrees "C" per\nsensor \\ probe.' in text
    assert families["lab_health_rule_status"] == {(("rule", "temperature"),): 2,
                                                 (("rule", "moving"),): 2}


def test_prometheus_special_values() -> None:
    def infinite(source: object) -> Iterator[Observation]:
        yield Observation("up", float("inf"), fields={"sensor": "up"})
        yield Observation("down", float("-inf"), fields={"sensor": "down"})
        yield Observation("nan", float("nan"), fields={"sensor": "nan"})

    rule = Rule("odd", "odd", "o", infinite, "temp", "{sensor}", ("sensor",))
    report = evaluate([rule], {}, THRESHOLDS, dialect="lab", target="t")
    text = report.to_prometheus()
    assert 'lab_odd{sensor="up"} +Inf' in text and 'lab_odd{sensor="down"} -Inf' in text
    assert 'lab_odd{sensor="nan"} NaN' in text
    parse_exposition(text)
    values = [f["value"] for f in json.loads(report.to_json())["rules"][0]["findings"]]
    assert values == [None, None, None]  # JSON has no infinities


def test_json_and_text() -> None:
    report = _sample_report()
    document = json.loads(render(report, "json"))
    assert document["status"] == "CRITICAL" and document["exit_code"] == 2
    assert document["rules"][0]["findings"][0] == {
        "status": "CRITICAL", "subject": "cpu", "message": "cpu at 85.0", "value": 85.0,
        "labels": {"sensor": "cpu"}}
    datetime.fromisoformat(document["checked_at"])
    text = render(report, "text")
    assert text.startswith("lab health CRITICAL (2 critical): http://lab/ (")
    assert "      CRITICAL cpu at 85.0" in text
    with pytest.raises(ValueError, match="choose one of text, json, prometheus"):
        render(report, "xml")


def test_text_limits_and_summaries() -> None:
    many = {f"s{n:03d}": 90.0 for n in range(30)}
    report = evaluate([TEMP], many, THRESHOLDS, dialect="maas", target="t")
    text = report.to_text(limit=5)
    assert "30 of 30 need attention" in text
    assert "... and 25 more (-o json lists all)" in text
    quiet = evaluate([TEMP], {f"s{n:03d}": 1.0 for n in range(30)}, THRESHOLDS,
                     dialect="maas", target="t")
    assert "30 checked, all OK" in quiet.to_text()
    empty = evaluate([TEMP], {}, THRESHOLDS, dialect="maas", target="t")
    assert "nothing to check" in empty.to_text()
    assert empty.to_text().startswith("MAAS health OK: t (")


def test_rule_tables_are_valid_metric_names_and_documented() -> None:
    for rule in (*MAAS_RULES, *TRUENAS_RULES):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", rule.name)
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", label) for label in rule.labels)
        assert rule.help and rule.title
    result = RuleResult("n", "t", "h", (), Status.OK)
    assert result.problems == ()
    assert Report("maas", "t", Status.OK, (), datetime.now(timezone.utc), 0.0).exit_code == 0
