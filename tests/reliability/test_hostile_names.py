"""No server-supplied name can shadow what the clients use themselves (issue 17).

A MAAS description and a TrueNAS ``core.get_methods`` document are built whose action,
handler, namespace and method names are every attribute the client classes, their async
facades and the generated classes use, found by introspection (not a hand-kept list).
The clients must keep working (calls, ``close()``), and every such name must stay
callable by the server's own spelling and be renamed by the one documented rule.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn._dynamic import Namespace, python_identifier
from maas_dyn.aio.maas import AsyncClient as AsyncMaas
from maas_dyn.aio.truenas import AsyncClient as AsyncTrueNAS
from maas_dyn.maas import Client as MaasClient
from maas_dyn.maas.handlers import Handler
from maas_dyn.maas.transport import MockTransport, RawResponse
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas import Client as TrueNASClient
from maas_dyn.truenas.methods import CallableService, Service
from tests.reliability.hostile_http import tiny_description

KEY = "consumer:token:secret"


def _attributes(*objects: Any) -> set[str]:
    """Every attribute name of the classes (and instances) given, by introspection."""
    names: set[str] = set()
    for obj in objects:
        cls = obj if inspect.isclass(obj) else type(obj)
        names.update(dir(cls))
        if not inspect.isclass(obj):
            names.update(vars(obj))
    return names


def _benign_maas() -> MaasClient:
    return MaasClient.from_description(tiny_description(), cache=False)


def _maas_names() -> tuple[set[str], set[str]]:
    client = _benign_maas()
    handler = client.machine
    _ = handler.deploy  # materialise the generated class
    aio = AsyncMaas(client)
    found = _attributes(client, handler, Handler, Namespace, aio, AsyncMaas)
    clients = _attributes(client, aio)  # public names a handler must not take
    aio._executor.shutdown()
    private = {n for n in found if n.startswith("_")}
    return private, {n for n in clients - private if n not in client.handlers}


def _truenas_names() -> tuple[set[str], set[str]]:
    document = {"pool.query": {"accepts": []}, "pool.scrub": {"accepts": []},
                "pool.scrub.run": {"accepts": []}}
    client = TrueNASClient.from_methods(document, url="ws://127.0.0.1:1/api/current")
    found = _attributes(client, TrueNASClient, client.pool, client.pool.scrub, Service,
                        CallableService, Namespace, AsyncTrueNAS)
    client.close()
    private = {n for n in found if n.startswith("_")}
    return private, found - private


def _handler_resource(name: str) -> str:
    """A resource name the official naming turns into ``name`` (``last_response``)."""
    return "".join(part.title() for part in name.split("_")) + "Handler"


def _hostile_description(actions: set[str], handlers: set[str]) -> dict[str, Any]:
    def action(name: str) -> dict[str, Any]:
        return {"name": name, "method": "GET", "op": name, "restful": False, "doc": name}

    document = tiny_description()
    machines = document["resources"][0]["auth"]
    machines["actions"] += [action(name) for name in sorted(actions)]
    for name in sorted(handlers):
        resource = _handler_resource(name)
        path = f"/MAAS/api/2.0/{name}/"
        document["resources"].append({"name": resource, "anon": None, "auth": {
            "name": resource, "doc": "", "params": [], "path": path,
            "actions": [action("read"), action("_invoke")]}})
    return document


def _echo(request: Any, authorization: str | None) -> RawResponse:
    return RawResponse(200, {"Content-Type": "application/json"},
                       json.dumps({"url": request.url}).encode())


@pytest.fixture(scope="module")
def maas_names() -> tuple[set[str], set[str]]:
    return _maas_names()


def test_the_introspected_names_cover_what_breaks_a_client(
        maas_names: tuple[set[str], set[str]]) -> None:
    private, public = maas_names
    # The names the issue reports, found rather than listed.
    assert {"_invoke", "_spec", "_operations", "_kind", "_credentials", "_transport",
            "_executor", "__init__"} <= private
    assert {"call", "close", "client", "aclose", "url", "handlers"} <= public


def test_a_maas_description_cannot_shadow_the_client(
        maas_names: tuple[set[str], set[str]]) -> None:
    private, public = maas_names
    public_handlers = {n for n in public if not n.startswith("_") and n.isidentifier()
                       and python_identifier(n) == n}
    transport = MockTransport(_echo)
    client = MaasClient(
        "http://127.0.0.1:1/MAAS/", KEY, transport=transport, cache=False,
        retry=RetryPolicy.never(),
        description=_hostile_description(private, public_handlers))
    benign = MaasClient("http://127.0.0.1:1/MAAS/", KEY, transport=MockTransport(_echo),
                        cache=False, retry=RetryPolicy.never(), description=tiny_description())
    # The client's own state is intact: same private attributes, same kinds of values.
    for name, value in vars(benign).items():
        if name.startswith("_"):
            assert type(vars(client)[name]) is type(value), name
    for name in public & set(dir(MaasClient)):
        # Not replaced on the instance either (getattr_static sees the instance's dict).
        assert inspect.getattr_static(client, name) is inspect.getattr_static(MaasClient, name)
    machines = client.machines
    assert callable(machines.read) and isinstance(machines, Handler)
    for name in sorted(private):
        # Callable by the server's name, sent as the server's name...
        sent = client.call("machines", name)
        assert sent["url"].endswith(f"?op={name}"), name
        # ...and by the one renaming rule.
        renamed = python_identifier(name)
        assert renamed == "x" + name
        assert callable(getattr(machines, renamed))
        assert client.request("machines", name).data["url"].endswith(f"?op={name}")
    # The generated class kept its machinery.
    assert machines._spec.resource == "MachinesHandler"
    assert isinstance(machines._operations, dict)
    assert machines.read() == {"url": "http://127.0.0.1:1/MAAS/api/2.0/machines/"}
    # Handlers named like the client's public attributes get the trailing "_".
    for name in sorted(public_handlers):
        handler = client[_handler_resource(name)]
        assert handler._path == name + "_" or handler._path.startswith(name + "_"), name
        assert handler.read()["url"].endswith(f"/{name}/?op=read")
    client.close()
    client.close()


def test_the_async_maas_client_cannot_be_shadowed(
        maas_names: tuple[set[str], set[str]]) -> None:
    private, public = maas_names
    public_handlers = {n for n in public if n.isidentifier() and python_identifier(n) == n}
    client = MaasClient(
        "http://127.0.0.1:1/MAAS/", KEY, transport=MockTransport(_echo), cache=False,
        description=_hostile_description(private, public_handlers))

    async def main() -> None:
        aio = AsyncMaas(client)
        assert aio.client is client
        for name in ("_invoke", "_executor", "__init__"):
            sent = await aio.call("machines", name)
            assert sent["url"].endswith(f"?op={name}")
        assert await aio.machines.x_invoke()
        assert await aio.machines.read()
        await aio.aclose()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_get_methods_document_cannot_shadow_the_truenas_client() -> None:
    private, public = _truenas_names()
    document: dict[str, Any] = {"pool.query": {"accepts": []}}
    for name in sorted(private):
        document[name] = {"accepts": []}  # top level: client attributes
        document[f"pool.{name}"] = {"accepts": []}  # nested: namespace attributes
        document[f"{name.strip('_') or 'x'}_ns.{name}"] = {"accepts": []}
    for name in sorted(public):
        if name.isidentifier() and not name.startswith("_"):
            document[name] = {"accepts": []}
    client = TrueNASClient.from_methods(
        document, url="ws://127.0.0.1:1/api/current", retry=RetryPolicy.never(),
        connect_timeout=5)
    benign = TrueNASClient.from_methods({"pool.query": {"accepts": []}},
                                        url="ws://127.0.0.1:1/api/current")
    for name, value in vars(benign).items():
        if name.startswith("_"):
            assert type(vars(client)[name]) is type(value), name
    for name in sorted(private):
        assert callable(getattr(client, python_identifier(name)))
        assert callable(getattr(client.pool, python_identifier(name)))
        assert callable(client[name]) and callable(client[f"pool.{name}"])
    assert client.pool._path == "pool"
    # Calls reach the funnel (and fail as the unreachable server makes them fail).
    with pytest.raises(errors.TransportError):
        client["_closing"]()
    with pytest.raises(errors.TransportError):
        client.call("pool._conn")
    client.close()  # used to fail when "_closing" was a method
    benign.close()


def test_the_async_truenas_client_cannot_be_shadowed() -> None:
    private, _ = _truenas_names()
    benign = TrueNASClient.from_methods({"pool.query": {"accepts": []}},
                                        url="ws://127.0.0.1:1/api/current")

    async def instance_names() -> set[str]:
        return _attributes(AsyncTrueNAS(benign))  # instance attributes need a loop

    found = asyncio.run(instance_names())
    benign.close()
    private |= {n for n in found if n.startswith("_")}
    public = {n for n in found if not n.startswith("_") and n != "pool"}
    document: dict[str, Any] = {"pool.query": {"accepts": []}}
    for name in sorted(private | {n for n in public if n.isidentifier()}):
        document[name] = {"accepts": []}
        document[f"pool.{name}"] = {"accepts": []}
    client = TrueNASClient.from_methods(document, url="ws://127.0.0.1:1/api/current",
                                       retry=RetryPolicy.never(), connect_timeout=5)

    async def main() -> None:
        aio = AsyncTrueNAS(client)
        assert aio.client is client
        assert isinstance(aio._slots, asyncio.Semaphore)
        for name in ("_slots", "_invoke", "_watched", "client", "aclose"):
            assert callable(getattr(aio, python_identifier(name, {"client", "aclose"})))
        with pytest.raises(errors.TransportError):
            await aio.call("_slots")
        await aio.aclose()

    asyncio.run(asyncio.wait_for(main(), 60))
    client.close()
