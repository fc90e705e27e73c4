"""Tests of maas_dyn/logging.py: one field table, JSON lines from library and CLI runs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import maas_dyn
from maas_dyn.logging import FIELDS, configure, log_event
from maas_dyn.sim.maas import MAASSimulator

BASE = {"ts", "level", "logger", "event", "message"}


@pytest.fixture
def sim() -> Iterator[MAASSimulator]:
    with MAASSimulator(machines=4, speed=10_000.0) as simulator:
        yield simulator


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("maas_dyn")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def records(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in parsed:
        assert set(record) >= BASE, record
        assert set(record) - BASE <= set(FIELDS), record  # only fields of the table
    return parsed


@pytest.mark.usefixtures("restore_logging")
def test_a_library_run_logs_the_field_table_as_json(sim: MAASSimulator) -> None:
    stream = io.StringIO()
    configure("json", "INFO", stream)
    with maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as client:
        ready = next(m for m in client.machines.read() if m["status_name"] == "Ready")
        client.machine.deploy(ready["system_id"], distro_series="noble")
    found = records(stream.getvalue())
    calls = [r for r in found if r["event"] == "maas.call"]
    # INFO is the audit trail: the deploy, not the reads.
    assert [(c["method"], c["handler"], c["action"], c["status"]) for c in calls] == [
        ("POST", "machine", "deploy", 200)]
    assert calls[0]["dialect"] == "maas" and calls[0]["server"] == sim.url
    assert calls[0]["request_id"] and calls[0]["duration_ms"] >= 0
    assert all(sim.api_key.split(":")[2] not in json.dumps(r) for r in found)


@pytest.mark.usefixtures("restore_logging")
def test_debug_holds_the_wire_and_text_reads_well(sim: MAASSimulator) -> None:
    stream = io.StringIO()
    configure("text", "DEBUG", stream)
    with maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as client:
        client.machines.read()
    text = stream.getvalue()
    assert "DEBUG   maas_dyn.maas maas.call: GET machines" in text
    assert "DEBUG   maas_dyn.maas maas.attempt:" in text and "request_id=" in text


@pytest.mark.usefixtures("restore_logging")
def test_configure_replaces_its_handler_and_checks_its_arguments() -> None:
    first = configure("json", "INFO", io.StringIO())
    second = configure("text", "warning", io.StringIO())
    handlers = logging.getLogger("maas_dyn").handlers
    assert second in handlers and first not in handlers
    assert logging.getLogger("maas_dyn").level == logging.WARNING
    with pytest.raises(ValueError, match="log format"):
        configure("xml", "INFO")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown log level"):
        configure("json", "LOUD")
    with pytest.raises(KeyError, match="nonsense"):
        log_event(logging.getLogger("maas_dyn.x"), logging.INFO, "x", "m", nonsense=1)


@pytest.mark.usefixtures("restore_logging")
def test_secrets_in_fields_and_messages_are_redacted() -> None:
    stream = io.StringIO()
    configure("json", "DEBUG", stream)
    log_event(logging.getLogger("maas_dyn.test"), logging.INFO, "test.secret",
              "GET /x?password=hunter22&a=1", server="http://h/?token=abcdef123")
    line = stream.getvalue()
    assert "hunter22" not in line and "abcdef123" not in line
    assert json.loads(line)["event"] == "test.secret"


@pytest.mark.usefixtures("restore_logging")
def test_a_record_without_an_event_is_named_by_its_origin() -> None:
    stream = io.StringIO()
    configure("json", "INFO", stream)
    logging.getLogger("maas_dyn.somewhere").info("plain")
    assert json.loads(stream.getvalue())["event"] == (
        "maas_dyn.somewhere.test_a_record_without_an_event_is_named_by_its_origin")


def test_the_cli_writes_one_json_object_per_line(sim: MAASSimulator, doc37: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.cli.maas import main

    ProfileStore().save(Profile("lab", f"{sim.url}api/2.0/", sim.api_key, doc37))
    ready = sum(m.status.label == "Ready" for m in sim.state.machines.values())
    code = main(["lab", "machines", "power-off", "--all-matching", "status=ready",
                 "--log-format", "json", "--yes", "-o", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    json.loads(captured.out)  # stdout stays the command's output
    found = records(captured.err)
    events = {r["event"] for r in found}
    assert {"maas.call", "bulk.item", "cli.note"} <= events, events
    assert sum(r["event"] == "maas.call" and r["action"] == "power_off" for r in found) == ready
    assert ready > 1 and any("machines match status=ready" in r["message"] for r in found)


def test_log_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli.maas import main

    assert main(["list", "--log-format", "xml"]) == 2
    assert "--log-format takes one of json, text" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
def test_structlog_shows_the_same_fields(sim: MAASSimulator) -> None:
    structlog = pytest.importorskip("structlog")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(),
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.ExtraAdder()]))
    logger = logging.getLogger("maas_dyn")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    with maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False) as client:
        ready = next(m for m in client.machines.read() if m["status_name"] == "Ready")
        client.machine.deploy(ready["system_id"])
    rendered = [json.loads(line) for line in stream.getvalue().splitlines()]
    call = next(r for r in rendered if r.get("event") == "maas.call")
    assert {"dialect", "server", "handler", "action", "method", "status", "request_id",
            "duration_ms"} <= set(call)
    assert call["action"] == "deploy" and call["level"] == "info"


def test_the_manual_lists_every_field() -> None:
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "logs-metrics.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", page, re.MULTILINE))
    assert documented == set(FIELDS)
