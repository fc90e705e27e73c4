"""Pieces that are easier to reach directly than over a socket."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.sim.truenas import modelled
from maas_dyn.sim.truenas.auth import Credentials, TokenStore
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.clock import SimClock
from maas_dyn.sim.truenas.events import EventHub, event_params
from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors, errname
from maas_dyn.sim.truenas.faults import Faults
from maas_dyn.sim.truenas.jobs import JobManager
from maas_dyn.sim.truenas.rpc import MessageTooBig, parse_message
from maas_dyn.sim.truenas.runtime import CallCounter
from maas_dyn.sim.truenas.samples import sample, sample_params
from maas_dyn.sim.truenas.schema import validate
from maas_dyn.sim.truenas.services import HANDLERS
from maas_dyn.sim.truenas.session import NullTransport, Session
from tests.sim.races import read_while_writing


def test_schema_edges() -> None:
    assert validate({"type": "array", "items": {"type": "integer"}}, [1, "a"]) == [
        ("1", "Input should be a valid integer", 22)]
    assert validate({"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
                    [1, "a", None]) == [("2", "Input should be a valid integer", 22)]
    assert validate({"minLength": 1, "minimum": 1, "minItems": 1, "properties": {}}, None) == []
    assert validate({"type": "object", "required": ["a"]}, {}) == [("a", "Field required", 22)]
    broken = {"discriminator": {"propertyName": "k", "mapping": {"A": "#/$defs/Missing"}},
              "oneOf": [{"title": "Other"}]}
    assert validate(broken, {"k": "A"})[0][1].startswith("Input tag 'A'")
    assert validate({"$ref": "http://elsewhere", "type": "integer"}, 1) == []
    assert validate({"$ref": "#/nowhere/at/all"}, 1) == []
    assert validate({"type": "custom"}, 1) == []


def test_samples() -> None:
    assert sample({"type": "string", "pattern": "^[0-9]{3}$", "minLength": 3}) == "xxx"
    assert sample({"type": "integer", "maximum": -5}) == -5
    assert sample({"type": "integer", "exclusiveMinimum": 4}) == 5
    assert sample({"type": "array", "prefixItems": [{"type": "integer"}, {"const": "k"}]}) == [
        0, "k"]
    assert sample({"type": "array", "minItems": 2, "items": [{"type": "boolean"}]}) == [
        False, False]
    assert sample({"anyOf": [{"type": "integer", "minimum": 5, "maximum": 1}]}) is None
    assert sample({"enum": [None]}) is None
    assert sample({"type": "number"}) == 0.0
    assert sample({"properties": {"a": {"type": "integer"}}, "required": ["a"]}) == {"a": 0}
    assert sample({"type": "object"}) == {}
    assert sample({"type": "string", "format": "email"}) == "user@example.com"
    assert sample_params([]) == []


def test_session_survives_a_dead_transport() -> None:
    class Broken(NullTransport):
        def send(self, message: str) -> None:
            raise OSError("gone")

    session = Session(Broken(), dict)
    session.send({"a": 1})
    assert session.closed.is_set()
    session.send({"b": 2})
    quiet = Session(NullTransport(), dict)
    quiet.send({"c": 3})
    quiet.transport.close(1000, "")
    quiet.transport.drop()
    assert not quiet.closed.is_set()


def test_tokens_bound_to_an_origin() -> None:
    store = TokenStore()
    parent = Credentials("LOGIN_PASSWORD", "admin")
    token = store.create(parent, origin="10.0.0.1")
    assert store.find(token.value, "10.0.0.2") is None
    assert store.find(token.value, "10.0.0.1") is token
    never = store.create(parent, ttl=None)
    assert never.expired(time.monotonic() + 10**9) is False
    store.destroy(never)
    assert store.find(never.value, "x") is None
    child = Credentials("TOKEN", "admin", parent=parent)
    assert child.root is parent and child.dump()["data"]["parent"]["type"] == "LOGIN_PASSWORD"


def test_parse_message_limits() -> None:
    assert parse_message('{"method": "core.ping"}', authenticated=False) == {
        "method": "core.ping"}
    with pytest.raises(MessageTooBig) as too_big:
        parse_message('{"method": "x"}' + " " * (2097152 + 1), authenticated=True)
    assert too_big.value.close_code == 1009
    extended = '{"method": "filesystem.file_receive"}' + " " * 70000
    assert parse_message(extended, authenticated=True)["method"] == "filesystem.file_receive"


def test_job_failure_of_any_kind() -> None:
    manager = JobManager(EventHub(), Faults(), workers=1)

    def boom(job: Any) -> None:
        raise KeyError("missing")

    job = manager.submit("x.y", [], boom, inline=True)
    assert job.state == "FAILED" and job.exc_info == {
        "repr": "KeyError('missing')", "type": "KeyError", "errno": None, "extra": None}
    unchanged = manager.submit("x.y", [], lambda j: None, inline=True)
    manager.set_progress(unchanged, None, None, None)
    manager.shutdown()


def test_clock_stops_waiting_on_stop() -> None:
    stopping = threading.Event()
    clock = SimClock(1.0, stopping)
    stopping.set()
    assert clock.sleep(100) is False
    assert clock.sleep(0) is False


def test_small_helpers() -> None:
    assert errname(12345) == "EUNKNOWN" and errname(207) == "ENOTAUTHENTICATED"
    assert str(CallError("x", 2)) == "[ENOENT] x"
    verrors = ValidationErrors()
    verrors.check()
    assert not verrors and str(ValidationErrors([("a", "b", 22)])) == "[EINVAL] a: b\n"
    assert event_params("c", "REMOVED", 1, {"x": 1}) == {"msg": "removed", "collection": "c",
                                                          "id": 1}
    assert event_params("c", "CHANGED") == {"msg": "changed", "collection": "c"}
    assert Catalog("25.10").item_schema("no.such") == {}
    assert Catalog("25.10").result_schema("no.such") == {}
    assert len(HANDLERS) == len(list(HANDLERS))
    EventHub().detach(Session(NullTransport(), dict))


def test_modelled_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "MODELLED.md"
    monkeypatch.setattr(modelled, "MODELLED_PATH", target)
    target.write_text("stale")
    assert modelled.main(["--check"]) == 1
    assert modelled.main([]) == 0
    assert target.read_text() == modelled.render()


def test_element_schemas() -> None:
    catalog = Catalog("25.04")
    assert "exc_info" in catalog.element_schema("core.get_jobs")["properties"]
    assert Catalog("25.10").element_schema("alert.list")["title"] == "Alert"
    assert catalog.element_schema("core.ping") == {}


def test_call_counter_counts_parameters_json_cannot_sort() -> None:
    counter = CallCounter()
    mixed = [{1: "a", "1": "b"}]  # sort_keys cannot order an int and a str key
    counter.bump("x.y", mixed)
    counter.bump("x.y", mixed)
    counter.bump("x.y", [{"b": 1, "a": 2}])
    assert counter["x.y"] == 3
    assert counter.by_params == {("x.y", repr(mixed)): 2, ("x.y", '[{"a": 2, "b": 1}]'): 1}


def test_call_counter_snapshots_can_be_iterated_while_counting() -> None:
    counter = CallCounter()

    def read() -> None:
        for _method in counter.snapshot():
            pass
        for _key in counter.by_params:
            pass

    read_while_writing(lambda n: counter.bump(f"m{n}", [n]), read)
    snapshot = counter.snapshot()
    assert snapshot == counter and snapshot.by_params == counter.by_params
    counter.bump("later", [])
    assert "later" not in snapshot and ("later", "[]") not in snapshot.by_params
