"""Tests of the TrueNAS stubber (maas_dyn/testing/truenas_stubber.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.testing import StubAssertionError, TrueNASStubber
from maas_dyn.truenas import Client

URL = "ws://127.0.0.1:9/api/current"
TOPOLOGY = {"data": [{"type": "STRIPE", "disks": ["sda"]}]}


@pytest.fixture
def client() -> Iterator[Client]:
    with Client.from_release("25.10", url=URL, cache=False) as made:
        yield made


def test_results_are_returned_in_order_and_checked(client: Client) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with TrueNASStubber(client) as stub:
        stub.add_response("pool.query", [{"name": "tank"}],
                          expected_params=[[("name", "=", "tank")]])
        stub.add_response("system.info", {"boottime": when})
        stub.add_response("pool.dataset.query", [])
        assert client.pool.query([["name", "=", "tank"]]) == [{"name": "tank"}]
        assert client.call("system.info")["boottime"] == when  # ejson travels
        assert client.pool.dataset.query([["name", "^", "x"]]) == []  # params unchecked


def test_jobs_report_every_progress_step_then_their_outcome(client: Client) -> None:
    with TrueNASStubber(client) as stub:
        job_id = stub.add_job("pool.create", {"name": "tank"}, progress=[
            10, {"percent": 50, "description": "half way"}, 90],
            expected_params=[{"name": "tank", "topology": TOPOLOGY}])
        stub.add_job("pool.create", error="disk on fire", progress=[5])
        stub.add_job("pool.create", problems=[("pool_create.name", "already exists")])
        stub.add_job("pool.create", [1])
        job = client.pool.create({"name": "tank", "topology": TOPOLOGY})
        seen: list[Any] = []
        assert job.id == job_id
        assert job.wait(timeout=5, on_progress=seen.append) == {"name": "tank"}
        assert [step["percent"] for step in seen] == [10, 50, 90, 100]
        assert seen[1]["description"] == "half way" and job.state == "SUCCESS"
        with pytest.raises(errors.JobFailed, match="disk on fire") as failed:
            client.call("pool.create", {"name": "b", "topology": TOPOLOGY}, job=True)
        assert failed.value.state == "FAILED"
        with pytest.raises(errors.JobValidationFailed) as invalid:
            client.pool.create({"name": "c", "topology": TOPOLOGY}).wait(timeout=5)
        assert invalid.value.errors == [("pool_create.name", "already exists", 22)]
        assert client.call("pool.create", {"name": "d", "topology": TOPOLOGY},
                           job=True) == [1]
    assert client.job_poll_interval == 5.0  # given back


def test_client_errors_raise_the_typed_errors(client: Client) -> None:
    with TrueNASStubber(client) as stub:
        stub.add_client_error("pool.dataset.create", "dataset exists", errname="EEXIST")
        stub.add_client_error("pool.query", problems=[("query-filters", "bad filter")])
        stub.add_client_error("pool.create", "no disks")  # a job method fails at once
        with pytest.raises(errors.CallError, match="dataset exists") as call_error:
            client.pool.dataset.create({"name": "tank/x"})
        assert call_error.value.errname == "EEXIST"
        with pytest.raises(errors.ValidationError) as invalid:
            client.pool.query()
        assert invalid.value.errors == [("query-filters", "bad filter", 22)]
        with pytest.raises(errors.CallError, match="no disks"):
            client.pool.create({"name": "t", "topology": TOPOLOGY})


def test_plumbing_is_answered_unless_an_expectation_is_next() -> None:
    with Client.from_release("25.10", url=URL, username="admin", password="pw-secret",
                             cache=False) as client:
        with TrueNASStubber(client) as stub:
            stub.add_response("system.version", "TrueNAS-25.10.0")
            assert client.system.version() == "TrueNAS-25.10.0"  # after an automatic login
            with client.events("alert.list", timeout=0.01) as stream:
                assert list(stream) == []  # subscribed and unsubscribed automatically
            assert client.ping() >= 0
        with TrueNASStubber(client) as stub:
            stub.add_response("auth.login_ex", {"response_type": "AUTH_ERR"})
            with pytest.raises(errors.AuthenticationError):
                client.system.version()


def test_unexpected_calls_fail_loudly(client: Client) -> None:
    stub = TrueNASStubber(client)
    stub.activate()
    stub.activate()  # idempotent
    with pytest.raises(StubAssertionError, match="no answer is queued"):
        client.pool.query()
    stub.add_response("pool.query", [])
    with pytest.raises(StubAssertionError, match="expected pool.query"):
        client.pool.dataset.query()
    stub.add_response("pool.dataset.query", [], expected_params=[[["name", "=", "a"]]])
    assert client.pool.query() == []
    with pytest.raises(StubAssertionError, match="was called with"):
        client.pool.dataset.query([["name", "=", "b"]])
    stub.deactivate()
    stub.deactivate()


def test_expectations_are_checked_against_the_description(client: Client) -> None:
    stub = TrueNASStubber(client)
    with pytest.raises(errors.UnknownMethodError, match="pool.query"):
        stub.add_response("pool.qurey")
    with pytest.raises(StubAssertionError, match="invalid against its accepts schemas"):
        stub.add_response("pool.query", expected_params=["not a list of filters"])
    with pytest.raises(StubAssertionError, match="is a job method; queue it with add_job"):
        stub.add_response("pool.create")
    with pytest.raises(StubAssertionError, match="is not a job method"):
        stub.add_job("pool.query")
    with pytest.raises(StubAssertionError, match="invalid"):
        stub.add_client_error("pool.query", expected_params=[5])


def test_unused_expectations_fail_on_exit(client: Client) -> None:
    with pytest.raises(StubAssertionError, match="1 expected call\\(s\\) not made: pool.query"), \
            TrueNASStubber(client) as stub:
        stub.add_response("pool.query", [])
    with pytest.raises(RuntimeError), TrueNASStubber(client) as stub:
        stub.add_response("pool.query", [])
        raise RuntimeError("the script's own error wins")
