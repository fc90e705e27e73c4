"""Tests of maas_dyn/metrics.py: counts from the hooks of both clients, and prometheus_client."""

from __future__ import annotations

import pytest

import maas_dyn
from maas_dyn import errors
from maas_dyn.metrics import CallMetrics, register_prometheus
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator


def test_counts_and_latency_from_both_dialects() -> None:
    metrics = CallMetrics()
    with MAASSimulator(machines=3) as sim, maas_dyn.maas.connect(
            sim.url, api_key=sim.api_key, cache=False) as maas:
        metrics.attach(maas)
        machines = maas.machines.read()
        maas.machine.read(machines[0]["system_id"])
        with pytest.raises(errors.MachineNotFoundError):
            maas.machine.read("nosuch")
    with TrueNASSimulator() as nas_sim, maas_dyn.truenas.connect(
            nas_sim.url, username=nas_sim.username, password=nas_sim.password,
            cache=False) as nas:
        metrics.attach(nas)
        nas.call("system.info")
        nas.call("system.info")
    stats = {(s.dialect, s.name): s for s in metrics.snapshot()}
    assert stats[("maas", "GET machines")].count == 1
    one = stats[("maas", "GET machines/{system_id}")]  # ids folded: one series, not one per machine
    assert (one.count, one.errors) == (2, 1) and one.seconds > 0
    assert stats[("truenas", "system.info")].count == 2


def test_prometheus_sees_the_same_figures() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    metrics = CallMetrics()
    metrics.observe("maas", "POST machines/{id} deploy", 0.25, True)
    metrics.observe("maas", "POST machines/{id} deploy", 0.5, False)
    register_prometheus(metrics, registry)
    assert registry.get_sample_value("maas_dyn_calls_total", {
        "dialect": "maas", "name": "POST machines/{id} deploy", "outcome": "error"}) == 1
    assert registry.get_sample_value("maas_dyn_call_seconds_total", {
        "dialect": "maas", "name": "POST machines/{id} deploy"}) == 0.75
