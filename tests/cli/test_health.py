"""``maas-dyn PROFILE health`` and ``truenas-dyn PROFILE health`` against the simulators."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.cli import maas as maas_cli
from maas_dyn.cli import truenas as truenas_cli
from maas_dyn.cli._common.health import run_checks
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.health import Status
from maas_dyn.health.checks import unreachable_report
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from tests.health.promtext import parse_exposition


@pytest.fixture
def maas_sim() -> Iterator[MAASSimulator]:
    with MAASSimulator(machines=8) as sim:
        assert maas_cli.main(["login", "lab", sim.url, sim.api_key]) == 0
        yield sim


@pytest.fixture
def nas_sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator() as sim:
        ProfileStore(dialect="truenas").save(
            Profile("nas", sim.url, sim.api_key, dialect="truenas", username=sim.username))
        yield sim


def _run(main: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_maas_health_outputs_and_exit_codes(maas_sim: MAASSimulator,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(maas_cli.main, capsys, "lab", "health")
    assert code == 0 and out.startswith("MAAS health OK: ")
    maas_sim.conditions.stop_service("dhcpd")
    code, out, _ = _run(maas_cli.main, capsys, "lab", "health", "-o", "json")
    assert code == 2
    document = json.loads(out)
    assert document["exit_code"] == 2
    assert maas_sim.api_key.split(":")[2] not in out
    maas_sim.conditions.fill_subnet("10.100.0.0/24", 0.9)
    code, out, _ = _run(maas_cli.main, capsys, "lab", "health", "-o", "prometheus",
                        "--threshold", "subnet_usage=0.95,0.99")
    families = parse_exposition(out)
    assert families["maas_health_rule_status"][(("rule", "subnet_usage"),)] == 0
    assert code == 2


def test_maas_health_watch_repeats(maas_sim: MAASSimulator,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(maas_cli.main, capsys, "lab", "health", "--watch", "0.01",
                        "--count", "3")
    assert code == 0 and out.count("MAAS health OK") == 3


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries of a refused connection without the client's backoff sleeps."""
    monkeypatch.setattr("maas_dyn.maas.client.time.sleep", lambda seconds: None)


@pytest.mark.usefixtures("no_backoff")
def test_maas_health_unreachable_is_3_with_one_line(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    with MAASSimulator(machines=1) as sim:
        assert maas_cli.main(["login", "gone", sim.url, sim.api_key]) == 0
        url = sim.url
    code, out, err = _run(maas_cli.main, capsys, "gone", "health", "-o", "prometheus")
    assert code == 3
    assert err == f"maas-dyn: UNKNOWN: cannot reach MAAS at {url}: connection refused\n"
    assert parse_exposition(out)["maas_health_up"][(("target", url),)] == 0
    code, out, err = _run(maas_cli.main, capsys, "gone", "health")
    assert code == 3 and err == ""
    assert out.splitlines()[1] == f"  cannot reach MAAS at {url}: connection refused"


@pytest.mark.parametrize("argv", [
    ["--count", "2"], ["--watch", "0"], ["--threshold", "nope=1,2"],
    ["--threshold", "subnet_usage=high"], ["-o", "xml"], ["--count", "0", "--watch", "1"],
])
def test_maas_health_usage_errors(maas_sim: MAASSimulator, argv: list[str],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(maas_cli.main, capsys, "lab", "health", *argv)
    assert code == 3 and "error:" in err  # UNKNOWN for monitoring, not CRITICAL


@pytest.mark.usefixtures("no_backoff")
def test_env_profile_that_cannot_fetch_its_description(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with MAASSimulator(machines=1) as sim:
        url, key = sim.url, sim.api_key
    monkeypatch.setenv("MAAS_URL", url)
    monkeypatch.setenv("MAAS_API_KEY", key)
    code, out, _ = _run(maas_cli.main, capsys, "env", "health", "--watch", "0.01",
                        "--count", "2")
    assert code == 3 and out.count("MAAS health UNKNOWN") == 2


def test_imported_profile_without_description_fetches_it(
        maas_sim: MAASSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli._common.profiles import ProfileStore as MaasProfiles

    store = MaasProfiles()
    profile = store.load("lab")
    store.save(type(profile)("bare", profile.url, profile.api_key, None))
    code, _, _ = _run(maas_cli.main, capsys, "bare", "health")
    assert code == 0
    assert store.load("bare").description is not None


def test_truenas_health(nas_sim: TrueNASSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(truenas_cli.main, capsys, "nas", "health")
    assert code == 0 and out.startswith("TrueNAS health OK: ")
    nas_sim.raise_alert("Disk", "sdc is hot", "WARNING")
    code, out, _ = _run(truenas_cli.main, capsys, "nas", "health", "-o", "json")
    assert code == 1 and json.loads(out)["status"] == "WARNING"
    assert nas_sim.api_key not in out
    nas_sim.conditions.stop_service("ssh")
    code, out, _ = _run(truenas_cli.main, capsys, "nas", "health", "-o", "prometheus",
                        "--watch", "0.01", "--count", "2")
    assert code == 2 and out.count("# TYPE truenas_health_status gauge") == 2


def test_truenas_health_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    with TrueNASSimulator() as sim:
        ProfileStore(dialect="truenas").save(
            Profile("gone", sim.url, sim.api_key, dialect="truenas", username=sim.username))
        url = sim.url
    code, out, err = _run(truenas_cli.main, capsys, "gone", "health", "-o", "json")
    assert code == 3 and json.loads(out)["exit_code"] == 3
    assert err == f"truenas-dyn: UNKNOWN: cannot reach TrueNAS at {url}: connection refused\n"


def test_truenas_health_wrong_key_is_unknown(nas_sim: TrueNASSimulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ProfileStore(dialect="truenas").save(
            Profile("bad", nas_sim.url, "1-wrong", dialect="truenas", username=nas_sim.username))
    code, out, _ = _run(truenas_cli.main, capsys, "bad", "health")
    assert code == 3 and "refused the credentials" in out and "1-wrong" not in out


def test_maas_health_textfile_is_replaced_whole(maas_sim: MAASSimulator, tmp_path: Any,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    (tmp_path / "textfiles").mkdir()
    target = tmp_path / "textfiles" / "maas.prom"
    target.write_text("old\n")
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def watch_replace(source: str, destination: Any) -> None:
        # At the rename the new file is complete; the old one was never truncated.
        replaced.append((Path(source).read_text(), target.read_text()))
        real_replace(source, destination)

    monkeypatch.setattr("maas_dyn.cli._common.health.os.replace", watch_replace)
    code, out, _ = _run(maas_cli.main, capsys, "lab", "health", "--textfile", str(target),
                        "--watch", "0.01", "--count", "2")
    assert code == 0 and out.count("MAAS health OK") == 2  # the normal output stays
    assert len(replaced) == 2 and replaced[0][1] == "old\n"
    assert all(new.endswith("\n") and "# TYPE maas_health_status gauge" in new
               for new, _ in replaced)
    assert parse_exposition(target.read_text())["maas_health_up"]
    assert [p.name for p in target.parent.iterdir()] == ["maas.prom"]  # no leftovers
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_health_stops_quietly_when_the_reader_goes_away(maas_sim: MAASSimulator) -> None:
    import subprocess
    import sys

    from tests.cli.conftest import ROOT

    done = subprocess.run(
        f"{sys.executable} -m maas_dyn.cli.maas lab health --watch 0.01 --count 100000 "
        f"| head -c 20", shell=True, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout == "MAAS health OK: http"[:20]
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_truenas_health_stops_quietly_when_the_reader_goes_away(
        nas_sim: TrueNASSimulator) -> None:
    import os
    import subprocess
    import sys

    from tests.cli.conftest import ROOT

    done = subprocess.run(
        f"{sys.executable} -m maas_dyn.cli.truenas nas health --watch 0.01 --count 100000 "
        f"| head -c 20", shell=True, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout == "TrueNAS health OK: w"[:20]
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_alerts_are_counted_not_their_levels() -> None:
    from maas_dyn.health.checks import Finding, RuleResult
    from maas_dyn.health.output import text

    levels = [("INFO", 0), ("NOTICE", 4), ("WARNING", 3), ("ERROR", 0), ("CRITICAL", 0),
              ("ALERT", 0), ("EMERGENCY", 0)]
    findings = tuple(Finding(Status.WARNING if n and level == "WARNING" else Status.OK,
                             f"{level} alerts", f"{n} {level} alerts: some alert text here",
                             n, {"level": level}) for level, n in levels)
    result = RuleResult("alerts", "active alerts", "", ("level",), Status.WARNING, findings,
                        counts="alerts")
    report = unreachable_report("truenas", "t", "x")
    rendered = text(type(report)("truenas", "t", Status.WARNING, (result,), report.checked_at,
                                 0.0))
    assert "3 of 7 alerts need attention" in rendered
    ok = RuleResult("alerts", "active alerts", "", ("level",), Status.OK,
                    tuple(type(f)(Status.OK, f.subject, f.message, f.value, f.labels)
                          for f in findings), counts="alerts")
    assert "7 alerts, all OK" in text(type(report)("truenas", "t", Status.OK, (ok,),
                                                   report.checked_at, 0.0))


def test_run_checks_sleeps_between_runs() -> None:
    slept: list[float] = []
    reports = iter([unreachable_report("maas", "t", "down"),
                    unreachable_report("maas", "t", "still down")])
    args = argparse.Namespace(output="text", watch=5.0, count=2, textfile=None)
    out, err = io.StringIO(), io.StringIO()
    code = run_checks(lambda: next(reports), args, out, err, prog="x", sleep=slept.append)
    assert code == Status.UNKNOWN and slept == [5.0]
    assert "still down" in out.getvalue() and err.getvalue() == ""
