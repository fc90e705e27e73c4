"""``maas-dyn PROFILE machines ACTION --all-matching ...`` against the MAAS simulator."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from maas_dyn.cli.maas.parser import parse_filters
from maas_dyn.sim.maas import MAASSimulator
from tests.cli.conftest import FakeTTY, Result


@pytest.fixture
def sim(region: MAASSimulator) -> MAASSimulator:
    return region


@pytest.fixture
def run(region_cli: Callable[..., Result]) -> Callable[..., Result]:
    return region_cli


def test_deploy_every_matching_machine_and_wait(run: Callable[..., Result]) -> None:
    done = run("region", "machines", "deploy", "--all-matching", "status=ready", "--wait",
               "--interval", "0.01", "--concurrency", "3", "distro_series=noble", "-o", "json",
               "--yes")
    rows = json.loads(done.out)
    assert done.code == 0, done.err
    assert len(rows) == 6 and {r["outcome"] for r in rows} == {"ok"}
    assert {r["status_name"] for r in rows} == {"Deployed"} and all(r["hostname"] for r in rows)
    assert "6 succeeded, 0 failed of 6" in done.err
    assert "machine deploy: 6/6 done, 0 failed" in done.err  # progress on stderr


def test_any_failure_means_exit_1_with_one_row_per_machine(sim: MAASSimulator,
                                                           run: Callable[..., Result]) -> None:
    sim.deploy_failure_rate = 1.0
    done = run("region", "machine", "deploy", "--all-matching", "status=ready,status=broken",
               "--wait", "--interval", "0.01", "--yes")
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[0].split()[:4] == ["system_id", "hostname", "status_name", "outcome"]
    assert sum("Failed deployment" in line for line in lines) == 6
    assert sum("ConflictError" in line for line in lines) == 1  # the Broken one
    assert "0 succeeded, 7 failed of 7" in done.err


def test_retries_recover_refusals_the_server_did_not_act_on(
        sim: MAASSimulator, run: Callable[..., Result]) -> None:
    sim.faults.locked(times=1, retry_after=0, handler="MachineHandler", op="deploy")
    done = run("region", "machines", "deploy", "--all-matching", "status=ready",
               "--retries", "2", "--concurrency", "1", "-o", "json", "--yes")
    rows = json.loads(done.out)
    assert done.code == 0 and [r["attempts"] for r in rows][:2] == [2, 1]


def test_nothing_matched_is_said(run: Callable[..., Result]) -> None:
    done = run("region", "machines", "release", "--all-matching", "hostname=nope")
    assert done.code == 0 and "nothing to do" in done.err and done.out == ""


def test_debug_and_a_progress_bar_on_a_terminal(run: Callable[..., Result],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    done = run("region", "machines", "power-off", "--all-matching", "status=deployed", "-d",
               "--yes")
    assert done.code == 0
    assert "\r[" in tty.getvalue() and "POST" in tty.getvalue()  # bar and --debug lines


@pytest.mark.parametrize(("argv", "message"), [
    (("users", "whoami", "--all-matching", "a=b"), "--all-matching selects machines"),
    (("machines", "deploy", "abc", "--all-matching", "a=b"), "come from the filters"),
    (("machines", "explode", "--all-matching", "a=b"), "unknown action"),
    (("machines", "deploy", "--all-matching", "tags"), "expected key=value"),
    (("machines", "deploy", "--all-matching", "a=b", "--concurrency", "0"), ">= 1"),
    (("machines", "deploy", "--all-matching", "a=b", "--retries", "x"), ">= 0"),
    (("machines", "deploy", "--all-matching", "a=b"), "unknown filter 'a'"),
    (("machines", "read", "--dry-run"), "--dry-run goes with --all-matching"),
])
def test_usage_errors(run: Callable[..., Result], argv: tuple[str, ...], message: str) -> None:
    done = run("region", *argv)
    assert done.code == 2 and message in done.err


def test_filters_parse_in_order() -> None:
    assert parse_filters("tags=k8s, zone=a,tags=gpu") == (
        ("tags", "k8s"), ("zone", "a"), ("tags", "gpu"))
