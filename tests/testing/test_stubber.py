"""Tests of the MAAS stubber (maas_dyn/testing/stubber.py)."""

from __future__ import annotations

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client
from maas_dyn.testing import StubAssertionError, Stubber


@pytest.fixture
def client() -> Client:
    return Client.from_release("3.7", url="http://127.0.0.1:9/MAAS/", api_key="c:t:s")


def test_queued_responses_are_returned_in_order(client: Client) -> None:
    with Stubber(client) as stub:
        stub.add_response("machine", "deploy", {"status_name": "Deploying"}, path=("abc",),
                          expected_params={"distro_series": "jammy"})
        stub.add_response("machines", "read", [{"system_id": "abc"}],
                          expected_params={"hostname": ["a", "b"]})
        stub.add_response("machine", "get_curtin_config", "text body", path=("abc",))
        stub.add_response("files", "read", b"\x00", expected_params={})
        assert client.machine.deploy("abc", distro_series="jammy") == {"status_name": "Deploying"}
        assert client.machines.read(hostname=["a", "b"]) == [{"system_id": "abc"}]
        assert client.machine.get_curtin_config("abc") == "text body"
        assert client.files.read() == b"\x00"


def test_client_errors_raise_the_typed_error(client: Client) -> None:
    with Stubber(client) as stub:
        stub.add_client_error("tags", "create", field_errors={"name": ["required"]})
        stub.add_client_error("machine", "read", status=404, path=("nope",))
        with pytest.raises(errors.BadRequestError) as info:
            client.tags.create()
        assert info.value.field_errors == {"name": ["required"]}
        with pytest.raises(errors.MachineNotFoundError):
            client.machine.read("nope")


def test_mismatches_fail_loudly(client: Client) -> None:
    stub = Stubber(client)
    stub.add_response("machine", "deploy", {}, path=("abc",), expected_params={"comment": "x"})
    stub.activate()
    with pytest.raises(StubAssertionError, match="expected machine deploy"):
        client.machine.release("abc")
    stub.add_response("machine", "deploy", {}, path=("abc",), expected_params={"comment": "x"})
    with pytest.raises(StubAssertionError, match="got params"):
        client.machine.deploy("abc", comment="y")
    stub.add_response("machine", "deploy", {}, path=("abc",))
    with pytest.raises(StubAssertionError, match="got path"):
        client.machine.deploy("zzz")
    with pytest.raises(StubAssertionError, match="no response is queued"):
        client.users.whoami()
    stub.deactivate()
    stub.deactivate()


def test_expectations_are_checked_against_the_description(client: Client) -> None:
    stub = Stubber(client)
    with pytest.raises(errors.UnknownActionError, match="did you mean deploy"):
        stub.add_response("machine", "deplyo")
    with pytest.raises(errors.UnknownHandlerError):
        stub.add_response("machinez", "read")
    with pytest.raises(StubAssertionError, match="takes 1 path parameter"):
        stub.add_response("machine", "deploy")
    with pytest.raises(StubAssertionError, match="does not document colour"):
        stub.add_response("machine", "deploy", path=("a",), expected_params={"colour": "red"})
    Stubber(client, allow_undocumented=True).add_response(
        "machine", "deploy", path=("a",), expected_params={"colour": "red"})


def test_unused_expectations_fail_on_exit(client: Client) -> None:
    pending = "1 expected call\\(s\\) not made: users whoami"
    with pytest.raises(StubAssertionError, match=pending), Stubber(client) as stub:
        stub.add_response("users", "whoami", {})
    with pytest.raises(RuntimeError), Stubber(client) as stub:
        stub.add_response("users", "whoami", {})
        raise RuntimeError("the script's own error wins")
