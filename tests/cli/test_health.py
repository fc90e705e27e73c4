"""``maas-dyn PROFILE health`` and ``truenas-dyn PROFILE health`` against the simulators."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from maas_dyn.cli import maas as maas_cli
from maas_dyn.cli import truenas as truenas_cli
from maas_dyn.cli._truenas_profiles import Profile, ProfileStore
from maas_dyn.cli.health import run_checks
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
        ProfileStore().save(Profile("nas", sim.url, sim.username, api_key=sim.api_key))
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
    assert code == 2 and "error:" in err


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
    from maas_dyn.cli.profiles import ProfileStore as MaasProfiles

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
        ProfileStore().save(Profile("gone", sim.url, sim.username, api_key=sim.api_key))
        url = sim.url
    code, out, err = _run(truenas_cli.main, capsys, "gone", "health", "-o", "json")
    assert code == 3 and json.loads(out)["exit_code"] == 3
    assert err == f"truenas-dyn: UNKNOWN: cannot reach TrueNAS at {url}: connection refused\n"


def test_truenas_health_wrong_key_is_unknown(nas_sim: TrueNASSimulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ProfileStore().save(Profile("bad", nas_sim.url, nas_sim.username, api_key="1-wrong"))
    code, out, _ = _run(truenas_cli.main, capsys, "bad", "health")
    assert code == 3 and "refused the credentials" in out and "1-wrong" not in out


def test_run_checks_sleeps_between_runs() -> None:
    slept: list[float] = []
    reports = iter([unreachable_report("maas", "t", "down"),
                    unreachable_report("maas", "t", "still down")])
    args = argparse.Namespace(output="text", watch=5.0, count=2)
    out, err = io.StringIO(), io.StringIO()
    code = run_checks(lambda: next(reports), args, out, err, prog="x", sleep=slept.append)
    assert code == Status.UNKNOWN and slept == [5.0]
    assert "still down" in out.getvalue() and err.getvalue() == ""
