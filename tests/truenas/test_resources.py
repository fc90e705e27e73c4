"""TrueNAS resources (maas_dyn/truenas/resources.py): binding, methods, wire parity."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import pickle
import pydoc
from typing import Any

import pytest

import maas_dyn
from maas_dyn._resources import Resource
from maas_dyn.testing.truenas_stubber import TrueNASStubber
from maas_dyn.truenas import Client
from maas_dyn.truenas.resources import READER, Binder

RELEASES = maas_dyn.shipped_releases("truenas")
DATASET = {"id": "tank/ds", "name": "tank/ds", "pool": "tank", "type": "FILESYSTEM"}


def _client(release: str = "25.10", **options: Any) -> Client:
    return Client.from_release(release, url="ws://127.0.0.1/api/current", username="admin",
                               password="secret", cache=False, **options)


def _crud_services(client: Client) -> list[str]:
    assert client.methods is not None
    return sorted(name[: -len(READER) - 1] for name in client.methods.specs
                  if name.endswith("." + READER))


def _id_for(client: Client, service: str) -> Any:
    assert client.methods is not None
    spec = client.methods.specs[f"{service}.{READER}"]
    return 7 if spec.accepts and spec.accepts[0].get("type") == "integer" else "item-7"


@pytest.mark.parametrize("release", RELEASES)
def test_every_crud_service_binds_and_calls_as_the_service(release: str) -> None:
    client = _client(release, validate=False)
    binder = client._binder
    assert isinstance(binder, Binder)
    services = _crud_services(client)
    assert len(services) > 20
    sent: list[tuple[str, list[Any]]] = []
    client.hooks.register("before-call", lambda method, params: sent.append((method, params)))
    assert client.methods is not None
    with TrueNASStubber(client) as stub:
        for service in services:
            key = _id_for(client, service)
            for method in ("query", READER):
                if f"{service}.{method}" not in client.methods:
                    continue
                bound = binder.wrap(f"{service}.{method}", [{"id": key, "name": "n"}])
                assert isinstance(bound[0], Resource), (service, method)
            resource = binder.wrap(f"{service}.{READER}", {"id": key, "name": "n"})
            assert isinstance(resource, Resource) and resource._key == (key,)
            operations = binder.item_operations(service)
            assert READER in operations, service
            names = {fn.operation.payload: name for name, fn in vars(type(resource)).items()
                     if callable(fn) and hasattr(fn, "operation")}
            assert set(names) == set(operations), service
            for on_service, on_resource in names.items():
                wire = operations[on_service].wire_name
                job = client.methods.specs[wire].job
                for _ in range(2):
                    if job:
                        stub.add_job(wire, None)
                    else:
                        stub.add_response(wire, None)
                # Required parameters after the id get a value (validation is off).
                rest = [{} for p in operations[on_service].details.params[1:] if p.required]
                before = len(sent)
                getattr(client[service], on_service)(key, *rest)
                getattr(resource, on_resource)(*rest)
                assert sent[before] == sent[before + 1] == (wire, [key, *rest]), wire


def test_a_dataset_updates_deletes_and_refreshes() -> None:
    client = _client()
    with TrueNASStubber(client) as stub:
        stub.add_response("pool.dataset.query", [DATASET])
        stub.add_response("pool.dataset.update", {**DATASET, "compression": "ZSTD"},
                          expected_params=["tank/ds", {"compression": "ZSTD"}])
        stub.add_response("pool.dataset.get_instance", {**DATASET, "used": 5},
                          expected_params=["tank/ds"])
        stub.add_response("pool.dataset.delete", True,
                          expected_params=["tank/ds", {"recursive": True}])
        (dataset,) = client.pool.dataset.query()
        assert repr(dataset) == "<pool.dataset tank/ds>"
        updated = dataset.update_({"compression": "ZSTD"})
        assert updated["compression"] == "ZSTD" and isinstance(updated, Resource)
        assert dataset.refresh() is dataset and dataset["used"] == 5
        assert dataset.delete({"recursive": True}) is True


def test_signature_and_doc_drop_the_id() -> None:
    client = _client()
    dataset = client._binder.wrap("pool.dataset.get_instance", dict(DATASET))
    params = list(inspect.signature(dataset.update_).parameters)
    assert params == list(inspect.signature(client.pool.dataset.update).parameters)[1:]
    assert "id (" not in (dataset.update_.__doc__ or "").split("Args:")[-1][:40]
    assert "update_" in pydoc.render_doc(dataset, renderer=pydoc.plaintext)


def test_items_are_plain_dicts_to_json_pickle_and_equality() -> None:
    client = _client()
    (dataset,) = client._binder.wrap("pool.dataset.query", [dict(DATASET)])
    assert dataset == DATASET and json.dumps(dataset) == json.dumps(DATASET)
    for clone in (pickle.loads(pickle.dumps(dataset)), copy.deepcopy(dataset)):
        assert type(clone) is dict and clone == DATASET
    dataset.update({"local": True})  # dict's own update: no call
    assert dataset["local"] is True


def test_what_is_not_a_crud_item_stays_plain() -> None:
    client = _client()
    binder = client._binder
    assert binder.wrap("pool.dataset.query", 3) == 3  # count=True
    assert type(binder.wrap("pool.dataset.query", [{"name": "no id"}])[0]) is dict
    assert type(binder.wrap("system.info", {"id": 1})) is dict  # not a CRUD service
    assert type(binder.wrap("pool.dataset.details", [{"id": 1}])[0]) is dict


def test_resources_false_returns_plain_dicts() -> None:
    client = _client(resources=False)
    with TrueNASStubber(client) as stub:
        stub.add_response("pool.dataset.query", [DATASET])
        (dataset,) = client.pool.dataset.query()
    assert type(dataset) is dict


def test_async_items_have_coroutine_methods() -> None:
    from maas_dyn.aio.truenas import AsyncClient

    client = _client()

    async def main() -> None:
        with TrueNASStubber(client) as stub:
            stub.add_response("pool.dataset.query", [DATASET])
            stub.add_response("pool.dataset.promote", None, expected_params=["tank/ds"])
            stub.add_response("pool.dataset.get_instance", {**DATASET, "origin": ""})
            await asyncio.get_running_loop().run_in_executor(None, client.ping)
            aclient = AsyncClient(client)
            (dataset,) = await aclient.pool.dataset.query()
            assert inspect.iscoroutinefunction(dataset.promote)
            assert await dataset.promote() is None
            assert await dataset.refresh() is dataset and dataset["origin"] == ""

    asyncio.run(main())
