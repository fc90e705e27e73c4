"""Generic stores: CRUD and config services of any description, modelled or not.

A newer description than any shipped (25.10's plus a CRUD service ``widget`` and a config
service ``gadget``) is served through ``--description``; create-then-query returns what
was created. Sources: the middleware's ``CRUDService`` and ``ConfigService``.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator, cli
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.switches import CONDITIONS, FAULTS, parse_switch
from tests.sim.truenas.conftest import RpcClient

_WIDGET = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "minLength": 1},
        "size": {"type": "integer", "default": 3, "minimum": 1},
        "colour": {"enum": ["RED", "BLUE"], "default": "RED"},
        "enabled": {"type": "boolean", "default": True},
    },
    "required": ["id", "name", "size", "colour", "enabled"],
}


def _entry(accepts: list[dict[str, Any]], returns: dict[str, Any], *,
           filterable: bool = False) -> dict[str, Any]:
    return {"description": "", "cli_description": "", "examples": {}, "job": False,
            "downloadable": False, "uploadable": False, "filterable": filterable,
            "filterable_schema": [], "require_pipes": False, "check_pipes": True,
            "roles": ["FULL_ADMIN"], "no_auth_required": False,
            "accepts": accepts, "returns": [{**returns, "_name_": "result"}]}


def _newer_document() -> dict[str, Any]:
    document = copy.deepcopy(Catalog("25.10").document)
    create = {k: v for k, v in _WIDGET["properties"].items() if k != "id"}
    create_schema = {"type": "object", "additionalProperties": False, "properties": create,
                     "required": ["name"], "_name_": "widget_create"}
    update_schema = {"type": "object", "additionalProperties": False,
                     "properties": {k: {x: y for x, y in v.items() if x != "default"}
                                    for k, v in create.items()}, "_name_": "widget_update"}
    query = copy.deepcopy(document["cronjob.query"])
    query["returns"] = [{"anyOf": [{"type": "array", "items": [_WIDGET]}, _WIDGET,
                                   {"type": "integer"}], "_name_": "result"}]
    key = {"type": "integer", "_name_": "id"}
    document.update({
        "widget.query": query,
        "widget.create": _entry([create_schema], _WIDGET),
        "widget.get_instance": _entry([key, {"type": "object", "default": {},
                                             "_name_": "options", "_required_": False}],
                                      _WIDGET),
        "widget.update": _entry([key, update_schema], _WIDGET),
        "widget.delete": _entry([key], {"type": "boolean"}),
        "widget.polish": _entry([key], {"type": "null"}),
        "gadget.config": _entry([], {"type": "object", "properties": {
            "id": {"type": "integer", "default": 1},
            "mode": {"enum": ["AUTO", "MANUAL"], "default": "AUTO"},
            "level": {"type": "integer", "default": 5}}}),
        "gadget.update": _entry([{"type": "object", "_name_": "gadget_update", "properties": {
            "mode": {"enum": ["AUTO", "MANUAL"]}, "level": {"type": "integer"}}}],
            {"type": "object"}),
    })
    return document


@pytest.fixture
def description(tmp_path: Path) -> Path:
    path = tmp_path / "26.10.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(_newer_document(), handle)
    return path


@pytest.fixture
def newer(description: Path) -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(description=description, speed=200.0) as sim:
        yield sim


@pytest.fixture
def admin(newer: TrueNASSimulator) -> Iterator[RpcClient]:
    rpc = RpcClient(newer.url)
    rpc.login(newer)
    yield rpc
    rpc.close()


def test_a_new_release_is_served_under_its_files_name(newer: TrueNASSimulator) -> None:
    assert (newer.version, newer.api_version) == ("26.10", "v26.10.0")
    assert {"widget.query", "widget.create", "gadget.config"} <= newer.generic_methods
    assert "widget.polish" not in newer.modelled_methods


def test_create_then_query(admin: RpcClient) -> None:
    admin.call("core.subscribe", "widget.query")
    created = admin.call("widget.create", {"name": "sprocket"})
    # Defaults come from the accepts schema; the id from the store.
    assert created == {"id": 1, "name": "sprocket", "size": 3, "colour": "RED",
                       "enabled": True}
    assert admin.next_event("widget.query") == {"msg": "added", "collection": "widget.query",
                                                "id": 1, "fields": created}
    admin.call("widget.create", {"name": "cog", "size": 9, "colour": "BLUE"})
    assert admin.call("widget.query", [["colour", "=", "BLUE"]], {"select": ["name"]}) == [
        {"name": "cog"}]
    assert admin.call("widget.query", [], {"count": True}) == 2
    assert admin.call("widget.get_instance", 1) == created


def test_update_changes_only_what_was_sent(admin: RpcClient) -> None:
    admin.call("widget.create", {"name": "sprocket", "size": 7, "colour": "BLUE"})
    updated = admin.call("widget.update", 1, {"enabled": False})
    assert updated == {"id": 1, "name": "sprocket", "size": 7, "colour": "BLUE",
                       "enabled": False}
    assert admin.call("widget.delete", 1) is True
    error = admin.error("widget.get_instance", 1)
    assert error["code"] == -32602
    assert error["data"]["extra"] == [[None, "Widget 1 does not exist", 2]]


def test_validation_from_the_schema(admin: RpcClient) -> None:
    error = admin.error("widget.create", {"name": "", "size": 0, "shape": "round"})
    assert error["code"] == -32602
    assert sorted(item[0] for item in error["data"]["extra"]) == [
        "widget_create.name", "widget_create.shape", "widget_create.size"]


def test_config_service(admin: RpcClient) -> None:
    assert admin.call("gadget.config") == {"id": 1, "mode": "AUTO", "level": 5}
    assert admin.call("gadget.update", {"level": 9}) == {"id": 1, "mode": "AUTO", "level": 9}
    assert admin.call("gadget.config")["level"] == 9


def test_what_stays_unmodelled_names_itself(admin: RpcClient) -> None:
    data = admin.error("widget.polish", 1)["data"]
    assert (data["errname"], data["reason"]) == (
        "ENOTSUP", "[ENOTSUP] widget.polish is not modelled by the maas_dyn simulator")


def test_switch_parsing() -> None:
    switch = parse_switch(FAULTS, "drop_connection:method=pool.query,count=none,when=after")
    assert switch.kwargs == {"method": "pool.query", "count": None, "when": "after"}
    assert parse_switch(CONDITIONS, "disk_errors:disk=sda,read=3").kwargs == {
        "disk": "sda", "read": 3}
    assert parse_switch(FAULTS, "slow_replies:delay=0.5").kwargs == {"delay": 0.5}
    for bad, message in (("explode", "unknown switch"), ("slow_replies", "missing delay"),
                         ("disk_errors:disk=sda,read=x", "read='x'"),
                         ("stop_service:colour=red", "not key=value")):
        with pytest.raises(ValueError, match=message):
            parse_switch({**FAULTS, **CONDITIONS}, bad)


def test_command_line_serves_a_description_with_switches(
        description: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    banner = cli._banner

    def stop_after_banner(sim: TrueNASSimulator) -> str:
        seen["version"] = sim.version
        seen["alerts"] = [a["klass"] for a in sim.state.rows("alert")]
        seen["faults"] = sim.faults._drops[:]
        seen["service"] = [s for s in sim.state.rows("service") if s["service"] == "nfs"]
        os.kill(os.getpid(), signal.SIGTERM)  # handled by main(): ends its serving loop
        return banner(sim)

    monkeypatch.setattr(cli, "_banner", stop_after_banner)
    assert cli.main(["--description", str(description), "--speed", "50",
                     "--fault", "drop_connection:method=pool.query",
                     "--condition", "raise_alert:klass=PoolDegraded,text=tank degraded",
                     "--condition", "stop_service:service=nfs"]) == 0
    assert "TrueNAS 26.10 simulator (v26.10.0)" in capsys.readouterr().out
    assert seen["version"] == "26.10" and seen["alerts"] == ["PoolDegraded"]
    assert len(seen["faults"]) == 1
    assert seen["service"][0]["state"] == "STOPPED"


def test_a_document_that_is_no_description_is_refused() -> None:
    with pytest.raises(ValueError, match="maps method names to metadata objects"):
        TrueNASSimulator(description={"pool.query": "not an object"})
