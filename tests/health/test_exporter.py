"""Tests of maas_dyn/health/exporter.py: /metrics and /probe, bounded, failing targets as metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from maas_dyn.health.checks import Report, unreachable_report
from maas_dyn.health.exporter import CONTENT_TYPE, Exporter

prometheus_parser = pytest.importorskip("prometheus_client.parser")


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in prometheus_parser.text_string_to_metric_families(text)}


def up(text: str) -> float:
    found = families(text)
    family = next(f for name, f in found.items() if name.endswith("_health_up"))
    return float(family.samples[0].value)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def exporter() -> Iterator[tuple[Exporter, str, threading.Event]]:
    release = threading.Event()

    def check(target: str) -> Report:
        if target == "slow":
            release.wait(30)  # held until the test lets it go
        return unreachable_report("maas", target, f"{target} is a test target")

    served = Exporter(check, dialect="maas", default="lab", timeout=0.5, max_concurrent=2)
    server = served.start("127.0.0.1", 0)
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}", release
    finally:
        release.set()
        served.close()


def test_pages(exporter: tuple[Exporter, str, threading.Event]) -> None:
    _, base, _ = exporter
    status, content_type, body = get(base + "/metrics")
    assert (status, content_type) == (200, CONTENT_TYPE) and up(body) == 0
    assert 'target="lab"' in body
    status, _, body = get(base + "/probe?target=other")
    assert status == 200 and 'target="other"' in body
    assert get(base + "/probe")[0] == 400
    assert get(base + "/nowhere")[0] == 404
    assert "/probe?target=PROFILE" in get(base + "/")[2]


def test_a_check_that_overruns_is_unknown_not_a_hung_scrape(
        exporter: tuple[Exporter, str, threading.Event]) -> None:
    served, base, release = exporter
    status, _, body = get(base + "/probe?target=slow")
    assert status == 200 and up(body) == 0
    assert served.report("slow").reason == "the check of slow took longer than 0.5 s"
    release.set()


# -- the CLIs' --serve, against the simulators ----------------------------------------------


def _serve(argv: list[str]) -> tuple[subprocess.Popen[str], str]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen([sys.executable, "-m", *argv], stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True, cwd=root,
                               env={**os.environ, "PYTHONPATH": root})
    assert process.stderr is not None
    line = process.stderr.readline()  # the first line says where it listens
    assert "serving health on http://" in line, line
    return process, line.split("http://", 1)[1].split("/", 1)[0]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_maas_exporter_serves_a_fleet_and_reports_a_target_down(doc37: Any) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.sim.maas import MAASSimulator

    store = ProfileStore()
    with MAASSimulator(machines=3) as sim, MAASSimulator(machines=2) as other:
        store.save(Profile("lab", f"{sim.url}api/2.0/", sim.api_key, doc37))
        store.save(Profile("lab2", f"{other.url}api/2.0/", other.api_key, doc37))
        with MAASSimulator(machines=1) as gone:
            store.save(Profile("gone", f"{gone.url}api/2.0/", gone.api_key, doc37))
        process, address = _serve(["maas_dyn.cli.maas", "lab", "health", "--serve",
                                   "127.0.0.1:0", "--scrape-timeout", "60"])
        try:
            started = time.monotonic()
            assert up(get(f"http://{address}/metrics")[2]) == 1
            assert up(get(f"http://{address}/probe?target=lab2")[2]) == 1
            status, _, body = get(f"http://{address}/probe?target=gone")
            assert status == 200 and up(body) == 0  # a metric, not a 500
            status, _, body = get(f"http://{address}/probe?target=nosuch")
            assert status == 200 and up(body) == 0 and "nosuch" in body
            assert time.monotonic() - started < 120
            assert other.request_counts  # the probe really checked the other region
        finally:
            _stop(process)


def test_truenas_exporter(tmp_path: Any) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.sim.truenas import TrueNASSimulator

    with TrueNASSimulator() as sim:
        ProfileStore(dialect="truenas").save(Profile(
            "nas", sim.url, sim.api_key, dialect="truenas", username=sim.username))
        process, address = _serve(["maas_dyn.cli.truenas", "nas", "health", "--serve",
                                   "127.0.0.1:0"])
        try:
            body = get(f"http://{address}/metrics")[2]
            assert up(body) == 1 and "truenas_health_status" in families(body)
            assert sim.api_key not in body
        finally:
            _stop(process)
