"""The simulator serves the v2 OpenAPI document like a region of 3.3 on (doc_oapi.py)."""

from __future__ import annotations

from pathlib import Path

import requests
import yaml

from maas_dyn._cache import DescriptionCache
from maas_dyn.maas import Client
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.transport import RawResponse, RequestsTransport, TimeoutSpec
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.describe import Description

OPENAPI = ("GET", "openapi", "openapi")
DESCRIBE = ("GET", "describe", "describe")


def test_3_7_serves_openapi_yaml_anonymously(sim: MAASSimulator) -> None:
    answer = requests.get(sim.url + "api/2.0/openapi.yaml", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/openapi+yaml"
    document = yaml.safe_load(answer.content)  # JSON text is YAML too
    assert document["info"]["title"] == "MAAS HTTP API"
    assert "/machines/{system_id}/op-deploy" in document["paths"]
    assert requests.post(sim.url + "api/2.0/openapi.yaml", timeout=10).status_code == 405


def test_a_release_without_a_document_answers_404() -> None:
    assert Description.shipped("3.2").openapi is None  # before 3.3: no openapi.yaml
    with MAASSimulator(version="3.2", machines=0) as sim:
        assert requests.get(sim.url + "api/2.0/openapi.yaml", timeout=10).status_code == 404


def test_a_client_gets_the_overlay_and_a_warm_connect_fetches_nothing(
        sim: MAASSimulator, tmp_path: Path) -> None:
    cache = DescriptionCache("maas", tmp_path)
    cold = Client(sim.url, sim.api_key, cache=cache)
    assert sim.request_counts[OPENAPI] == 1 and sim.request_counts[DESCRIBE] == 1
    warm = Client(sim.url, sim.api_key, cache=cache)
    assert sim.request_counts[OPENAPI] == 1 and sim.request_counts[DESCRIBE] == 1
    for client in (cold, warm):
        doc = client.machine.deploy.__doc__
        assert "MachineNotFoundError: HTTP 404: The requested machine is not found." in doc
    machine = warm.machines.read()[0]["system_id"]
    assert warm.machine.read(machine)["system_id"] == machine  # calls work as before


class _Counting(RequestsTransport):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def send(self, request: PreparedRequest, authorization: str | None,
             timeout: TimeoutSpec) -> RawResponse:
        self.urls.append(request.url)
        return super().send(request, authorization, timeout)


def test_an_old_region_is_asked_once_and_remembered_as_without_overlay(
        tmp_path: Path) -> None:
    cache = DescriptionCache("maas", tmp_path)
    transport = _Counting()
    with MAASSimulator(version="3.2", machines=0) as sim:
        api = sim.url + "api/2.0/"
        for _ in range(2):
            client = Client(sim.url, sim.api_key, cache=cache, transport=transport)
            assert client.description.overlay is None
            assert "HTTP 404, no such object." in client.machine.deploy.__doc__
    assert transport.urls == [api + "describe/", api + "openapi.yaml"]  # then nothing
