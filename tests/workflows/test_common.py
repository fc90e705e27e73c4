"""Tests of maas_dyn/workflows/_common.py: step logging, fields, machine selection."""

from __future__ import annotations

import logging

import pytest

from maas_dyn.maas import Client
from maas_dyn.workflows._common import fields, logged_step, select_machines
from tests.workflows.conftest import Recording


def test_a_step_is_logged_with_the_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="maas_dyn")
    with logged_step("abc", "deploy") as step:
        step.state = "Deployed"
    record = caplog.records[-1]
    assert record.name == "maas_dyn.workflows" and record.levelno == logging.INFO
    assert (record.event, record.target, record.action, record.status) == (
        "workflow.step", "abc", "deploy", "Deployed")
    assert record.duration_ms == round(step.duration * 1000, 1)


def test_a_failed_step_is_logged_as_a_warning_and_reraised(
        caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(KeyError), logged_step("abc", "tag") as step:
        raise KeyError("x")
    assert step.state == "error: KeyError"
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].status == "error: KeyError"
    assert caplog.records[-1].error == "KeyError"


def test_fields_repeat_lists_and_drop_none() -> None:
    assert fields(a=1, b=None, c=["x", "y"], d=("z",)) == [
        ("a", 1), ("c", "x"), ("c", "y"), ("d", "z")]


def test_select_machines_sends_filters_as_given(maas: Client) -> None:
    ready = select_machines(maas, {"status": ["ready", "new"]})
    assert {m["status_name"] for m in ready} == {"Ready", "New"}
    assert select_machines(maas, [("status", "broken")])[0]["status_name"] == "Broken"
    assert len(select_machines(maas)) == 10


def test_select_machines_ignores_odd_answers() -> None:
    assert select_machines(Recording({("machines", "read"): {"not": "a list"}})) == []
    assert select_machines(Recording({("machines", "read"): [1, {"system_id": "a"}]})) == [
        {"system_id": "a"}]
