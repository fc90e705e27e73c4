"""Bulk actions never reach more machines than asked for, and stop when told to.

Each refusal is checked against the MAAS simulator's own request counters: the region
must not have received a single request that changes anything.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.maas import main
from maas_dyn.errors import InvalidParametersError, UnsafeSelectionError
from maas_dyn.maas import Client, MockTransport, RawResponse
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import select_machines
from tests.cli.conftest import Result, counted, interrupt_cli


@pytest.fixture
def sim(region: MAASSimulator) -> MAASSimulator:
    return region


@pytest.fixture
def run(region_cli: Callable[..., Result]) -> Callable[..., Result]:
    return region_cli


def writes(sim: MAASSimulator) -> int:
    """Requests the region received that could change something."""
    return sum(n for (method, _, _), n in sim.request_counts.items() if method != "GET")


class Terminal(io.StringIO):
    """A stdin that is a terminal, with the user's answer typed in advance."""

    def isatty(self) -> bool:
        return True


# -- filters the server would ignore ------------------------------------------------------


@pytest.mark.parametrize(("action", "filters", "suggestion"), [
    ("power-off", "statsu=ready", "status"),
    ("deploy", "status=ready,tag=gpu", "tags"),
    ("release", "hostnme=proud-cod-00000", "hostname"),
    ("power-on", "zone=default,pol=default", "pool"),
])
def test_a_misspelt_filter_is_refused_and_nothing_is_sent(
        sim: MAASSimulator, run: Callable[..., Result], action: str, filters: str,
        suggestion: str) -> None:
    before = sim.request_counts
    done = run("region", "machines", action, "--all-matching", filters, "--yes")
    assert done.code == 2, done.err
    assert f"did you mean {suggestion}" in done.err and "nothing was sent" in done.err
    assert sim.request_counts == before  # not even the read went out


def test_every_filter_the_description_documents_is_accepted(
        sim: MAASSimulator, run: Callable[..., Result]) -> None:
    done = run("region", "machines", "power-off", "--all-matching",
               "status=deployed,zone=zone-east,domain=maas", "--yes", "-o", "json")
    assert done.code == 0, done.err
    assert [row["hostname"] for row in json.loads(done.out)] == ["glad-fox-00003"]


def test_an_undocumented_but_checkable_filter_selects_only_its_machines(
        sim: MAASSimulator, run: Callable[..., Result]) -> None:
    # `tags` is not in 3.7's `machines read` doc, but each machine shows its tag_names.
    done = run("region", "machines", "power-on", "--all-matching", "tags=gpu,status=ready",
               "--dry-run", "-o", "json")
    assert done.code == 0, done.err
    assert sorted(row["hostname"] for row in json.loads(done.out)) == [
        "lucky-puma-00004", "proud-cod-00000"]


def test_filters_are_printed_as_typed(run: Callable[..., Result]) -> None:
    done = run("region", "machines", "release", "--all-matching", "hostname=none-such")
    assert done.code == 0 and "no machines match hostname=none-such; nothing to do" in done.err
    assert "((" not in done.err


def _ignoring_region(doc37: Any) -> tuple[Client, MockTransport]:
    # A region that ignores every filter of `machines read`, as MAAS does for unknown ones
    # (and as an older release does for filters it predates).
    machines = [
        {"system_id": f"m{i}", "hostname": f"host{i}", "status_name": status,
         "tag_names": tags, "zone": {"name": "default"}}
        for i, (status, tags) in enumerate([("Ready", ["gpu"]), ("Deployed", []),
                                            ("Ready", [])])
    ]

    def answer(request: Any, authorization: str | None) -> RawResponse:
        body = json.dumps(machines if request.method == "GET" else {}).encode()
        return RawResponse(200, {"Content-Type": "application/json"}, body)

    transport = MockTransport(answer)
    client = Client.from_description(doc37, url="http://127.0.0.1:5240/MAAS/",
                                     api_key="a:b:c", transport=transport)
    return client, transport


@pytest.mark.parametrize("filters", [
    [("status", "ready")], [("tags", "gpu")], [("hostname", "host0")],
    [("zone", "elsewhere")], [("id", "m2")],
])
def test_a_region_that_ignores_a_filter_selects_nothing(doc37: Any,
                                                        filters: list[tuple[str, str]]) -> None:
    client, transport = _ignoring_region(doc37)
    with pytest.raises(UnsafeSelectionError, match="do not match") as caught:
        select_machines(client, filters)
    assert caught.value.filters == {filters[0][0]: [filters[0][1]]}
    assert [r.method for r, _ in transport.requests] == ["GET"]  # the read, nothing else


def test_the_library_refuses_unknown_filters_before_sending(doc37: Any) -> None:
    client, transport = _ignoring_region(doc37)
    with pytest.raises(InvalidParametersError, match="did you mean status") as caught:
        select_machines(client, {"statsu": "ready"})
    assert list(caught.value.errors) == ["statsu"]
    assert caught.value.errors["statsu"][0].startswith("unknown filter 'statsu'; did you mean status")
    assert transport.requests == []


def test_a_region_that_ignores_filters_gets_no_action_from_the_cli(
        doc37: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, transport = _ignoring_region(doc37)
    ProfileStore().save(Profile("old", "http://127.0.0.1:5240/MAAS/api/2.0/", "a:b:c", doc37))
    code = main(["old", "machines", "power-off", "--all-matching", "status=deployed", "--yes"],
                transport=transport)
    err = capsys.readouterr().err
    assert code == 1 and "ignored or read that filter differently" in err
    assert {r.method for r, _ in transport.requests} == {"GET"}


# -- how many, and asking first ------------------------------------------------------------


def test_without_a_terminal_or_yes_it_refuses_and_sends_nothing(
        sim: MAASSimulator, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped, not a terminal
    done = run("region", "machines", "power-off", "--all-matching", "status=ready")
    assert done.code == 2 and "pass --yes" in done.err and "nothing was sent" in done.err
    assert "6 machines match status=ready:" in done.err  # how many, and which
    assert writes(sim) == 0


@pytest.mark.parametrize(("answer", "code", "sent"), [("n\n", 1, 0), ("\n", 1, 0),
                                                      ("", 1, 0), ("yes\n", 0, 6)])
def test_on_a_terminal_it_asks_first(sim: MAASSimulator, run: Callable[..., Result],
                                     monkeypatch: pytest.MonkeyPatch, answer: str, code: int,
                                     sent: int) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    done = run("region", "machines", "power-off", "--all-matching", "status=ready")
    assert done.code == code, done.err
    assert "machine power-off on these 6 machines? [y/N]" in done.err
    assert writes(sim) == sent


def test_one_machine_needs_no_confirmation(sim: MAASSimulator, run: Callable[..., Result],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    done = run("region", "machines", "power-off", "--all-matching", "hostname=glad-fox-00003")
    assert done.code == 0, done.err
    assert writes(sim) == 1


def test_reads_need_no_confirmation(sim: MAASSimulator, run: Callable[..., Result],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    done = run("region", "machines", "query-power-state", "--all-matching", "status=ready",
               "-o", "json")
    assert done.code == 0, done.err
    assert len(json.loads(done.out)) == 6 and writes(sim) == 0


def test_dry_run_lists_what_would_be_done_and_sends_nothing(
        sim: MAASSimulator, run: Callable[..., Result]) -> None:
    done = run("region", "machines", "deploy", "--all-matching", "status=ready", "--dry-run",
               "-o", "json")
    rows = json.loads(done.out)
    assert done.code == 0 and len(rows) == 6
    assert {row["would"] for row in rows} == {"machine deploy"}
    assert "nothing was sent" in done.err and writes(sim) == 0


# -- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_starts_nothing_new_and_says_what_was_sent(doc37: Any) -> None:
    # Real time: a deploy takes the simulator's 300 s, far beyond this test's bounds, so
    # the CLI can only end in time by stopping its waits.
    with MAASSimulator(machines=10, speed=1.0) as sim:
        ProfileStore().save(Profile("region", f"{sim.url}api/2.0/", sim.api_key, doc37))

        def deploys() -> int:
            return counted(sim, "MachineHandler", "deploy")

        code, out, err = interrupt_cli(
            ["region", "machines", "deploy", "--all-matching", "status=ready", "--wait",
             "--interval", "0.2", "--concurrency", "2", "--yes", "-o", "json"],
            ready=lambda: deploys() == 2 and counted(sim, "MachineHandler", "read") >= 4)
        assert code == 130, err
        rows = json.loads(out)
        assert len(rows) == 6
        sent = [row for row in rows if row["outcome"] == "interrupted (sent)"]
        assert len(sent) == 2 and {row["status_name"] for row in sent} == {"Deploying"}
        assert [row["outcome"] for row in rows].count("not started") == 4
        assert "2 sent and no longer waited on" in err and "4 not started" in err
        assert deploys() == 2  # nothing was started after Ctrl-C
        assert "Traceback" not in err
