"""Every TrueNAS health rule fires against the simulator through its fault switch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from maas_dyn.health import Status, Threshold, check_truenas
from maas_dyn.health.truenas_rules import RULES
from maas_dyn.health.truenas_source import as_datetime
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client, connect
from tests.health.promtext import parse_exposition


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(speed=200.0) as running:
        yield running


@pytest.fixture
def nas(sim: TrueNASSimulator) -> Iterator[Client]:
    """A client of a system with a healthy mirror "tank", scrubbed yesterday."""
    with connect(sim.url, username=sim.username, password=sim.password, cache=False) as client:
        client.pool.create({"name": "tank", "topology": {
            "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}}).wait(timeout=30)
        client.pool.dataset.create({"name": "tank/media"})
        sim.conditions.last_scrub("tank", days_ago=1)
        yield client


Switch = Callable[[TrueNASSimulator], Any]
FAULTS: dict[str, tuple[Switch, Status, str]] = {
    "alerts": (lambda s: s.raise_alert("SMARTFailed", "sdc: SMART test failed", "WARNING"),
               Status.WARNING, "1 WARNING alerts: sdc: SMART test failed"),
    "pool_status": (lambda s: s.conditions.degrade_pool("tank"), Status.CRITICAL,
                    "tank DEGRADED (One or more devices has been removed (simulated))"),
    "scrub_age": (lambda s: s.conditions.last_scrub("tank", days_ago=40), Status.WARNING,
                  "tank last scrubbed 40d ago"),
    "disk_errors": (lambda s: s.conditions.disk_errors("sdb", read=2, checksum=1),
                    Status.WARNING, "sdb in tank: 2 read, 0 write, 1 checksum errors"),
    "dataset_quota": (lambda s: s.conditions.fill_dataset("tank/media", 1000, 960),
                      Status.CRITICAL, "tank/media: 96% of its quota used"),
    "failed_jobs": (lambda s: s.conditions.fail_job("replication.run", "peer unreachable"),
                    Status.WARNING, "1 jobs failed in the last 1h: replication.run #"),
    "services": (lambda s: s.conditions.stop_service("smartd"), Status.CRITICAL,
                 "smartd (enabled) is STOPPED"),
}


def test_a_fresh_pool_is_healthy(nas: Client) -> None:
    report = check_truenas(nas)
    assert report.status == Status.OK, report.to_text()
    assert [r.name for r in report.results] == [r.name for r in RULES]
    assert {f.labels["disk"] for f in report.result("disk_errors").findings} == {"sda", "sdb"}


def test_every_rule_has_a_fault_switch() -> None:
    assert set(FAULTS) == {r.name for r in RULES}


@pytest.mark.parametrize("rule", sorted(FAULTS))
def test_each_rule_fires(sim: TrueNASSimulator, nas: Client, rule: str) -> None:
    switch, expected, text = FAULTS[rule]
    switch(sim)
    report = check_truenas(nas)
    result = report.result(rule)
    assert result.status == expected, report.to_text()
    assert any(text in f.message for f in result.problems), [f.message for f in result.findings]
    assert report.status == expected and report.exit_code == int(expected), report.to_text()
    rule_json = next(r for r in json.loads(report.to_json())["rules"] if r["name"] == rule)
    assert rule_json["status"] == expected.name
    families = parse_exposition(report.to_prometheus())
    assert families["truenas_health_status"][(("target", sim.url),)] == int(expected)
    assert families["truenas_health_rule_status"][(("rule", rule),)] == int(expected)
    assert text in report.to_text()


def test_scrubs_never_done_cancelled_or_running(sim: TrueNASSimulator, nas: Client) -> None:
    sim.conditions.last_scrub("tank", days_ago=2, state="CANCELED")
    result = check_truenas(nas).result("scrub_age")
    assert result.status == Status.WARNING
    assert "never (no finished scrub)" in result.findings[0].message
    sim.conditions.last_scrub("tank", days_ago=100, state="SCANNING")
    assert check_truenas(nas).result("scrub_age").status == Status.OK
    sim.conditions.last_scrub("tank", days_ago=100)
    assert check_truenas(nas).result("scrub_age").status == Status.CRITICAL
    lenient = {"scrub_age": Threshold(200 * 86400, 400 * 86400)}
    assert check_truenas(nas, thresholds=lenient).result("scrub_age").status == Status.OK


def test_old_failures_and_dismissed_alerts_do_not_count(sim: TrueNASSimulator,
                                                        nas: Client) -> None:
    sim.conditions.fail_job("pool.scrub", minutes_ago=90)
    alert = sim.raise_alert("Old", "old news", "CRITICAL")
    nas.alert.dismiss(alert["uuid"])
    report = check_truenas(nas)
    assert report.result("failed_jobs").status == Status.OK
    assert report.result("alerts").status == Status.OK
    assert check_truenas(nas, window=3 * 3600).result("failed_jobs").status == Status.WARNING


def test_many_alerts_are_summarised(sim: TrueNASSimulator, nas: Client) -> None:
    for number in range(5):
        sim.raise_alert("Many", f"alert {number}", "ERROR")
    result = check_truenas(nas).result("alerts")
    assert result.status == Status.CRITICAL
    assert result.problems[0].message.endswith("; ... 2 more")


def test_unreachable_system_is_unknown() -> None:
    with TrueNASSimulator() as gone:
        nas = connect(gone.url, username=gone.username, password=gone.password, cache=False)
        url = gone.url
    report = check_truenas(nas)
    nas.close()
    assert report.status == Status.UNKNOWN and report.exit_code == 3
    assert report.reason is not None and report.reason.startswith(f"cannot reach TrueNAS at {url}")


@pytest.mark.parametrize(("value", "expected"), [
    ({"$date": 86_400_000}, datetime(1970, 1, 2, tzinfo=timezone.utc)),
    (86400, datetime(1970, 1, 2, tzinfo=timezone.utc)),
    ("1970-01-02T00:00:00", datetime(1970, 1, 2, tzinfo=timezone.utc)),
    (datetime(1970, 1, 2, 1, tzinfo=timezone(timedelta(hours=1))),
     datetime(1970, 1, 2, tzinfo=timezone.utc)),
    ("not a date", None), (True, None), (None, None),
])
def test_middleware_timestamps(value: Any, expected: datetime | None) -> None:
    assert as_datetime(value) == expected
