"""MAAS resources (maas_dyn/maas/resources.py): binding, methods, wire parity, dict-ness."""

from __future__ import annotations

import copy
import inspect
import json
import pickle
import pydoc
from typing import Any

import pytest

import maas_dyn
from maas_dyn._resources import RESERVED, Resource, SyncResource
from maas_dyn.errors import UnknownActionError, WaiterError
from maas_dyn.maas import Client
from maas_dyn.maas.describe import HandlerSpec
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.resources import Binder, ResourceIndex
from maas_dyn.testing.stubber import Stubber

RELEASES = maas_dyn.shipped_releases("maas")
MACHINE = {"system_id": "abc123", "hostname": "node-1", "status_name": "Ready",
           "resource_uri": "/MAAS/api/2.0/machines/abc123/"}


def _client(release: str = "3.7", **options: Any) -> Client:
    return Client.from_release(release, api_key="c:t:s", cache=False, **options)


def _values(spec: HandlerSpec) -> tuple[str, ...]:
    return tuple(f"v{i}" for i, _ in enumerate(spec.params))


class _Recorder:
    """Keeps what the funnel sent (method, URL, decoded fields), body boundaries aside."""

    def __init__(self, client: Client):
        self.sent: list[tuple[str, str, str]] = []
        client.hooks.register("before-send", self._seen)

    def _seen(self, request: PreparedRequest, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else b""
        boundary = request.headers.get("Content-Type", "").partition("boundary=")[2]
        self.sent.append((request.method, request.url,
                          body.replace(boundary.encode(), b"B").decode("latin-1")
                          if boundary else body.decode("latin-1")))


def _stub_both(stub: Stubber, spec: HandlerSpec, action: str, values: tuple[str, ...]) -> None:
    for _ in range(2):  # the handler form, then the resource form: the same request
        stub.add_response(spec.name, action, {}, path=values)


@pytest.mark.parametrize("release", RELEASES)
def test_every_item_handler_binds_and_calls_as_the_handler(release: str) -> None:
    client = _client(release)
    binder = client._binder
    assert binder is not None
    index = binder.index
    assert index.items(), "every release has item handlers"
    recorder = _Recorder(client)
    with Stubber(client, allow_undocumented=True) as stub:
        for spec in index.items():
            values = _values(spec)
            item = dict(zip(spec.params, values, strict=True))
            resource = binder.wrap(spec, item, dict(item))
            assert isinstance(resource, Resource), spec.name
            assert resource._key == values
            names = {python: name for python, name in _resource_names(resource).items()}
            assert set(names.values()) == set(spec.actions), spec.name
            for python, action in names.items():
                _stub_both(stub, spec, action, values)
                before = len(recorder.sent)
                getattr(client[spec.name], action)(*values)
                getattr(resource, python)()
                handler_form, resource_form = recorder.sent[before:]
                assert handler_form == resource_form, (spec.name, action)


def _resource_names(resource: Resource) -> dict[str, str]:
    cls = type(resource)
    return {name: fn.operation.payload for name, fn in vars(cls).items()
            if callable(fn) and hasattr(fn, "operation")}


@pytest.mark.parametrize("release", RELEASES)
def test_related_collections_and_get_call_as_the_handler(release: str) -> None:
    client = _client(release)
    binder = client._binder
    assert binder is not None
    index = binder.index
    recorder = _Recorder(client)
    with Stubber(client, allow_undocumented=True) as stub:
        for spec in index.items():
            values = _values(spec)
            resource = binder.wrap(spec, {}, dict(zip(spec.params, values, strict=True)))
            for name, other in index.relations(spec).items():
                related = getattr(resource, name)
                filled = values[: len(other.params)]
                for action in other.actions:
                    _stub_both(stub, other, action, filled)
                    before = len(recorder.sent)
                    getattr(client[other.name], action)(*filled)
                    getattr(related, action)()
                    first, second = recorder.sent[before:]
                    assert first == second, (spec.name, name, action)
        for collection in client.description.handlers.values():
            item = index.item_of(collection)
            if item is None or item is collection or "read" not in item.actions \
                    or "get" in collection.actions:  # the server's own get keeps its name
                continue
            assert callable(getattr(client[collection.name], "get", None)), collection.name
            values = _values(item)
            _stub_both(stub, item, "read", values)
            before = len(recorder.sent)
            client[item.name].read(*values)
            client[collection.name].get(*values)
            first, second = recorder.sent[before:]
            assert first == second, collection.name


def test_the_item_handler_of_each_collection_is_found_by_path() -> None:
    index = ResourceIndex(_client("3.7").description)
    pairs = {c: index.item_of(_client("3.7").description.handlers[c]) for c in (
        "machines", "partitions", "discoveries", "vlans", "volume_groups", "license_keys",
        "resource_pools", "boot_source_selections", "ipaddresses", "events")}
    assert {c: (t.name if t else None) for c, t in pairs.items()} == {
        "machines": "machine", "partitions": "partition", "discoveries": "discovery",
        "vlans": "vlan", "volume_groups": "volume_group", "license_keys": "license_key",
        "resource_pools": "resource_pool", "boot_source_selections": "boot_source_selection",
        "ipaddresses": None, "events": None}


def test_relations_are_named_after_the_extra_path() -> None:
    description = _client("3.7").description
    index = ResourceIndex(description)
    machine = set(index.relations(description.handlers["machine"]))
    assert {"interfaces", "blockdevices", "raids", "volume_groups"} <= machine
    assert set(index.relations(description.handlers["fabric"])) == {"vlans"}
    assert set(index.relations(description.handlers["block_device"])) == {"partitions"}
    assert index.relations(description.handlers["zone"]) == {}


def test_a_machine_reads_deploys_refreshes_and_waits() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("machines", "read", [MACHINE])
        stub.add_response("machine", "deploy", {**MACHINE, "status_name": "Deploying"},
                          path=("abc123",), expected_params={"distro_series": "jammy"})
        stub.add_response("machine", "read", {**MACHINE, "status_name": "Deploying"},
                          path=("abc123",))
        stub.add_response("machine", "read", {**MACHINE, "status_name": "Deployed"},
                          path=("abc123",))
        stub.add_response("interfaces", "read", [{"id": 5, "name": "eth0"}],
                          path=("abc123",))
        (machine,) = client.machines.read()
        assert repr(machine) == "<machine abc123 node-1 Ready>"
        deployed = machine.deploy(distro_series="jammy")
        assert deployed["status_name"] == "Deploying"
        seen: list[str] = []
        assert machine.wait("deployed", interval=0,
                            on_progress=lambda p: seen.append(p.state)) is machine
        assert machine["status_name"] == "Deployed"
        assert seen == ["Deploying", "Deployed"]
        (eth0,) = machine.interfaces.read()
        assert repr(eth0) == "<interface abc123 5 eth0>"
        assert eth0._key == ("abc123", 5)


def test_refresh_reads_in_place() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("machine", "read", MACHINE, path=("abc123",))
        stub.add_response("machine", "read", {**MACHINE, "status_name": "Broken"},
                          path=("abc123",))
        machine = client.machines.get("abc123")
        assert machine.refresh() is machine
        assert machine["status_name"] == "Broken"


def test_unknown_waiter_lists_the_kind_s_waiters() -> None:
    client = _client()
    machine = client._binder.wrap(client.description.handlers["machine"], {}, dict(MACHINE))
    with pytest.raises(UnknownActionError, match="deployed") as caught:
        machine.wait("deployd")
    assert "deployed" in caught.value.suggestions


def test_a_failed_wait_raises_the_waiter_error() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("machine", "read", MACHINE, path=("abc123",))
        stub.add_response("machine", "read", {**MACHINE, "status_name": "Failed deployment"},
                          path=("abc123",))
        machine = client.machines.get("abc123")
        with pytest.raises(WaiterError):
            machine.wait("deployed", interval=0)


def test_a_resource_is_the_plain_dict_for_json_pickle_copy_and_equality() -> None:
    client = _client()
    machine = client._binder.wrap(client.description.handlers["machines"], {}, [MACHINE])[0]
    assert isinstance(machine, dict)
    assert machine == MACHINE
    assert json.dumps(machine) == json.dumps(MACHINE)
    assert json.loads(json.dumps([machine])) == [MACHINE]
    for clone in (pickle.loads(pickle.dumps(machine)), copy.copy(machine),
                  copy.deepcopy(machine)):
        assert type(clone) is dict and clone == MACHINE
    assert str(machine) == str(MACHINE)  # print() shows the data as before
    machine.update({"extra": 1})  # dict's own update: local, no request
    assert machine["extra"] == 1 and machine.get("hostname") == "node-1"


def test_server_names_never_shadow_the_resource_s_own() -> None:
    client = _client()
    machine = client._binder.wrap(client.description.handlers["machine"], {}, dict(MACHINE))
    cls = type(machine)
    for name in RESERVED - {"refresh", "wait"}:
        assert inspect.getattr_static(cls, name) is inspect.getattr_static(dict, name), name
    assert cls.refresh is SyncResource.refresh and cls.wait is SyncResource.wait
    # MAAS's own "update" action is update_ by the one renaming rule.
    assert cls.update_.operation.payload == "update"  # type: ignore[attr-defined]


def test_signatures_and_docs_drop_the_filled_path() -> None:
    client = _client()
    vlan = client._binder.wrap(client.description.handlers["vlans"], {"fabric_id": 2},
                               [{"vid": 7, "name": "untagged"}])[0]
    assert vlan._key == (2, 7)
    handler_params = inspect.signature(client.vlan.update).parameters
    assert list(handler_params)[:2] == ["fabric_id", "vid"]
    params = inspect.signature(vlan.update_).parameters
    assert "fabric_id" not in params and "vid" not in params
    assert set(params) == set(list(handler_params)[2:])
    assert "fabric_id (str" not in (vlan.update_.__doc__ or "")
    assert "PUT /MAAS/api/2.0/fabrics/{fabric_id}/vlans/{vid}/" in (vlan.update_.__doc__ or "")


def test_help_and_completion_need_no_network() -> None:
    class Refusing:
        def send(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("no request may be sent")

        def close(self) -> None:
            """Nothing to close."""

    client = _client(transport=Refusing())
    machine = client._binder.wrap(client.description.handlers["machine"], {}, dict(MACHINE))
    assert {"deploy", "power_off", "interfaces", "refresh", "wait"} <= set(dir(machine))
    text = pydoc.render_doc(machine, renderer=pydoc.plaintext)
    assert "deploy" in text and "interfaces" in text
    assert "Read one machine" in (client.machines.get.__doc__ or "")


def test_objects_that_do_not_name_themselves_stay_dicts() -> None:
    client = _client()
    binder = client._binder
    machine = client.description.handlers["machine"]
    power = binder.wrap(machine, {"system_id": "abc123"}, {"power_address": "10.0.0.1"})
    assert type(power) is dict
    state = binder.wrap(machine, {"system_id": "abc123"}, {"state": "on"})
    assert type(state) is dict
    assert binder.wrap(machine, {}, ["a", "b"]) == ["a", "b"]
    assert binder.wrap(machine, {}, b"bytes") == b"bytes"


def test_resource_uri_wins_over_the_answering_handler() -> None:
    client = _client()
    nodes = client._binder.wrap(client.description.handlers["nodes"], {}, [
        MACHINE, {"system_id": "dev1", "hostname": "phone",
                  "resource_uri": "/MAAS/api/2.0/devices/dev1/"},
        {"system_id": "n1", "hostname": "other"}])
    assert [type(n).__name__ for n in nodes] == ["Machine", "Device", "Node"]


def test_resources_false_returns_plain_dicts() -> None:
    client = _client(resources=False)
    assert client._binder is None
    with Stubber(client) as stub:
        stub.add_response("machines", "read", [MACHINE])
        (machine,) = client.machines.read()
    assert type(machine) is dict


def test_binder_classes_are_built_once_and_lazily() -> None:
    client = _client()
    binder = client._binder
    assert isinstance(binder, Binder)
    assert binder._classes == {}  # connecting built none
    spec = client.description.handlers["machine"]
    assert binder.resource_class(spec) is binder.resource_class(spec)


def test_async_resources_have_coroutine_methods() -> None:
    import asyncio

    from maas_dyn.aio.maas import AsyncClient

    client = _client()

    async def main() -> None:
        aclient = AsyncClient(client)
        try:
            with Stubber(client) as stub:
                stub.add_response("machine", "read", MACHINE, path=("abc123",))
                stub.add_response("machine", "deploy", {**MACHINE, "status_name": "Deploying"},
                                  path=("abc123",))
                stub.add_response("machine", "read", {**MACHINE, "status_name": "Deployed"},
                                  path=("abc123",))
                machine = await aclient.machines.get("abc123")
                assert inspect.iscoroutinefunction(machine.deploy)
                assert (await machine.deploy())["status_name"] == "Deploying"
                assert await machine.wait("deployed", interval=0) is machine
                assert machine["status_name"] == "Deployed"
        finally:
            await aclient.aclose()

    asyncio.run(main())


def test_jedi_and_ipython_complete_a_resource_with_no_network() -> None:
    client = Client.from_release("3.7", url="http://127.0.0.1:9/MAAS/", cache=False)
    machine = client._binder.wrap(client.description.handlers["machine"], {}, dict(MACHINE))
    jedi = pytest.importorskip("jedi")
    names = [c.name for c in jedi.Interpreter("m.dep", [{"m": machine}]).complete()]
    assert names == ["deploy"]
    names = [c.name for c in jedi.Interpreter("m.interfaces.re", [{"m": machine}]).complete()]
    assert "read" in names
    signatures = jedi.Interpreter("m.deploy(", [{"m": machine}]).get_signatures()
    assert "distro_series: str | None=None" in signatures[0].to_string()
    assert "system_id" not in signatures[0].to_string()
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    completer = pytest.importorskip("IPython.core.completer")
    shell = interactiveshell.InteractiveShell.instance()
    shell.user_ns["m"] = machine
    with completer.provisionalcompleter():
        found = {c.text for c in shell.Completer.completions("m.po", 4)}
    assert {"power_off", "power_on", "pop", "popitem"} <= found
