"""``maas-dyn workflow PROFILE provision|release|tag|power ...`` against the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from maas_dyn.cli.maas import main
from maas_dyn.sim.maas import MAASSimulator
from tests.cli.conftest import Result

SECRET = "bmc-s3cret-value"


@pytest.fixture
def sim(region: MAASSimulator) -> MAASSimulator:
    return region


@pytest.fixture
def run(region_cli: Callable[..., Result]) -> Callable[..., Result]:
    return lambda *argv: region_cli("workflow", "region", *argv)


FAST = ("--interval", "0.01", "--timeout", "10")


def test_provision_new_machines_with_user_data(run: Callable[..., Result],
                                               tmp_path: Path) -> None:
    user_data = tmp_path / "cloud-init.yaml"
    user_data.write_text("#cloud-config\n")
    done = run("provision", "--all-matching", "status=new", "--distro", "noble",
               "--kernel", "hwe-24.04", "--user-data", str(user_data), "-o", "json", *FAST)
    rows = json.loads(done.out)
    assert done.code == 0, done.err
    assert [(r["outcome"], r["status_name"]) for r in rows] == [("ok", "Deployed")]
    assert rows[0]["hostname"]


def test_deploy_only_then_release_with_erase(run: Callable[..., Result],
                                             sim: MAASSimulator) -> None:
    ready = [m.system_id for m in sim.state.machines.values() if m.status.label == "Ready"]
    done = run("provision", *ready[:2], "--steps", "deploy", "--no-wait", "-o", "json")
    assert {r["status_name"] for r in json.loads(done.out)} == {"Deploying"}
    done = run("release", *ready[:2], "--erase", "--comment", "bye", "-o", "json", *FAST)
    assert {r["status_name"] for r in json.loads(done.out)} == {"Ready"}


def test_a_failing_machine_makes_the_exit_code_1(run: Callable[..., Result]) -> None:
    done = run("provision", "--all-matching", "status=broken", "--steps", "deploy", *FAST)
    assert done.code == 1 and "ConflictError" in done.out and "0 succeeded, 1 failed" in done.err


def test_tag_new_machines_by_default_and_rules_from_a_file(run: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    done = run("tag", "--dry-run", "-o", "json")
    assert done.code == 0 and "would get applied" in done.err
    assert {row["name"] for row in json.loads(done.out)} >= {"amd64"}
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"tag": "everyone", "fact": "cpu_count", "op": ">=",
                                  "value": 1, "kernel_opts": "quiet"}]))
    done = run("tag", "--all-matching", "status=ready", "--rules", str(rules), "-o", "json",
               "--yes")
    rows = json.loads(done.out)
    assert [(r["name"], r["machines"], r["kernel_opts"]) for r in rows] == [
        ("everyone", 6, "quiet")]
    rules.write_text('[{"tag": "x", "fact": "colour", "op": ">=", "value": 1}]')
    done = run("tag", "--rules", str(rules))
    assert done.code == 2 and "cannot use the rules" in done.err


def test_power_set_query_and_cycle(run: Callable[..., Result], sim: MAASSimulator,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMC_PASSWORD", SECRET)
    done = run("power", "set", "--all-matching", "status=deployed", "--type", "ipmi",
               "--address", "10.0.0.5", "--user", "admin", "--password-env", "BMC_PASSWORD",
               "--param", "privilege_level=ADMIN", "-o", "json")
    assert done.code == 0 and json.loads(done.out)[0]["status_name"] == "ipmi"
    assert SECRET not in done.out + done.err
    stored = next(m for m in sim.state.machines.values() if m.status.label == "Deployed")
    assert stored.power_parameters["power_pass"] == SECRET
    assert stored.power_parameters["privilege_level"] == "ADMIN"
    done = run("power", "query", "--all-matching", "status=deployed", "-o", "json")
    assert json.loads(done.out)[0]["status_name"] == "on"
    done = run("power", "cycle", "--all-matching", "status=deployed", "--wait", "-o", "json",
               *FAST)
    assert done.code == 0 and json.loads(done.out)[0]["status_name"] == "on"


@pytest.mark.parametrize(("argv", "message"), [
    (("provision",), "name the machines"),
    (("power", "set", "abc"), "needs --type and --address"),
    (("power", "set", "abc", "--param", "novalue"), "expected KEY=VALUE"),
    (("power", "set", "abc", "--type", "redfish", "--address", "x", "--password-env", "NOPE"),
     "put it in the environment variable NOPE"),
    (("dance",), "invalid choice"),
    (("power", "off", "--all-matching", "statsu=deployed"), "did you mean status"),
    (("release", "--all-matching", "status=ready"), "pass --yes"),
])
def test_usage_errors(run: Callable[..., Result], argv: tuple[str, ...], message: str) -> None:
    done = run(*argv)
    assert done.code == 2 and message in done.err


def test_dry_run_and_refusals_send_nothing(run: Callable[..., Result],
                                           sim: MAASSimulator) -> None:
    done = run("release", "--all-matching", "status=deployed,status=allocated", "--dry-run",
               "-o", "json")
    assert done.code == 0 and "nothing was sent" in done.err
    assert {row["would"] for row in json.loads(done.out)} == {"workflow release"}
    assert "2 machines match status=deployed,status=allocated:" in done.err
    for argv in (("power", "off", "--all-matching", "statsu=deployed", "--yes"),
                 ("provision", "--all-matching", "status=ready")):
        assert run(*argv).code == 2
    assert not [key for key in sim.request_counts if key[0] != "GET"]


def test_listed_in_the_top_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "workflow PROFILE provision|release|tag|power" in out and "--all-matching" in out
