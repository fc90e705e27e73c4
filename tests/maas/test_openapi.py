"""The v2 OpenAPI overlay: reading doc_oapi.py's document and merging it into describe."""

from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

from maas_dyn import errors
from maas_dyn._cache import DescriptionCache
from maas_dyn._shipped import load_shipped, load_shipped_openapi
from maas_dyn.maas import Client
from maas_dyn.maas import openapi as openapi_module
from maas_dyn.maas.client import ParameterTypeWarning
from maas_dyn.maas.openapi import Overlay, parse_document
from maas_dyn.maas.transport import MockTransport, RawResponse

BASE = "http://127.0.0.1:5240/MAAS/"
API = BASE + "api/2.0/"
KEY = "consumerKEY:tokenKEY:secretKEY"


@pytest.fixture(scope="module")
def document() -> Any:
    found = load_shipped_openapi("3.7")
    assert found is not None
    return found


def _answer(status: int, body: bytes = b"{}") -> MockTransport:
    return MockTransport(lambda request, auth: RawResponse(
        status, {"Content-Type": "application/json" if status < 400 else "text/plain"}, body))


# -- reading the document ----------------------------------------------------------------


def test_deploy_gets_types_answers_and_statuses_in_the_servers_words(document: Any) -> None:
    found = Overlay.from_openapi(document).lookup(
        "/MAAS/api/2.0/machines/{system_id}/", "POST", "deploy")
    assert found is not None
    assert found.types["bridge_fd"] == "integer" and found.types["install_kvm"] == "boolean"
    assert found.returns == "A JSON object containing information about the deployed machine."
    assert [status for status, _ in found.raises] == [403, 404, 503]
    assert found.raised_text(404) == "The requested machine is not found."
    assert found.raised_text(409) == ""


def test_every_action_of_3_7_but_the_undocumented_ones_is_overlaid() -> None:
    # doc_oapi.py leaves out is_action_in_progress (no docstring); paths without a
    # trailing slash ("/scripts/{name}op-download") are matched too.
    client = Client.from_release("3.7", cache=False)
    missing = {(h.cli_name, a.name) for h in client.description.handlers.values()
               for a in h.actions.values() if h.action_overlay(a) is None}
    assert {action for _, action in missing} == {"is_action_in_progress"}
    assert ("node-script", "download") not in missing


def test_required_flags_come_from_the_request_body_schema(document: Any) -> None:
    found = Overlay.from_openapi(document).lookup(
        "/MAAS/api/2.0/account/", "POST", "delete_authorisation_token")
    assert found is not None and found.required == {"token_key"}


def test_the_compact_form_reads_back_equal(document: Any) -> None:
    overlay = Overlay.from_openapi(document)
    compact = overlay.to_compact()
    assert Overlay.from_compact(compact).actions == overlay.actions
    assert len(compact) < len(json.dumps(document)) / 4  # what the cache holds


@pytest.mark.parametrize("junk", [None, [], {"paths": []}, {"paths": {"/x/": "y"}},
                                  {"paths": {"/x/": {"get": "y", "parameters": {}}}}])
def test_a_malformed_document_gives_an_empty_overlay(junk: Any) -> None:
    assert len(Overlay.from_openapi(junk)) == 0


def test_yaml_is_read_with_pyyaml_and_json_without_it(
        document: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    small = {"paths": {"/users/op-whoami": document["paths"]["/users/op-whoami"]}}
    assert parse_document(yaml.safe_dump(small).encode()) == small
    monkeypatch.setattr(openapi_module, "optional_module", lambda extra, module: None)
    assert parse_document(json.dumps(small).encode()) == small  # JSON needs no PyYAML
    with caplog.at_level(logging.DEBUG, "maas_dyn.maas"):
        assert parse_document(yaml.safe_dump(small).encode()) is None
    assert "needs PyYAML" in caplog.text


# -- merged into the handlers ------------------------------------------------------------


def test_from_release_3_7_has_returns_and_raises_per_action() -> None:
    doc = Client.from_release("3.7", cache=False).machine.deploy.__doc__
    assert "A JSON object containing information about the deployed machine." in doc
    assert "MachineNotFoundError: HTTP 404: The requested machine is not found." in doc
    assert ("ServiceUnavailableError: HTTP 503: MAAS attempted to allocate an IP address"
            in doc)
    assert "ConflictError: HTTP 409, the object is locked or busy." in doc  # undocumented


def test_releases_without_a_shipped_document_keep_the_generic_text() -> None:
    doc = Client.from_release("3.6", cache=False).machine.deploy.__doc__
    assert "HTTP 404, no such object." in doc and "The requested machine" not in doc


def test_required_parameters_are_marked_in_help() -> None:
    client = Client.from_release("3.7", cache=False)
    params = {p.wire_name: p for p in client.dhcpsnippets.create.operation.details.params}
    assert params["name"].required and params["value"].required
    assert not params["description"].required


def test_untyped_describe_parameters_get_the_openapi_type(document: Any) -> None:
    client = Client.from_release("3.7", cache=False)
    plain = Client.from_release("3.7", cache=False, openapi=False)
    overlaid = {p.wire_name: p for p in client.machine.deploy.operation.details.params}
    before = {p.wire_name: p for p in plain.machine.deploy.operation.details.params}
    assert overlaid["bridge_fd"].annotation is int
    assert before.keys() == overlaid.keys()  # describe stays the source of names


def test_requests_are_the_same_with_and_without_the_overlay() -> None:
    sent = []
    for openapi in (True, False):
        transport = _answer(200)
        client = Client.from_release("3.7", url=BASE, api_key=KEY, cache=False,
                                     transport=transport, openapi=openapi)
        client.machine.deploy("abc", distro_series="jammy", bridge_fd=3)
        request = transport.requests[0][0]
        # The multipart boundary is random per request; everything else must match.
        boundary = re.search(r"boundary=(\S+)", request.headers["Content-Type"])
        assert boundary is not None and isinstance(request.body, bytes)
        sent.append((request.method, request.url,
                     request.body.replace(boundary.group(1).encode(), b"B")))
    assert sent[0] == sent[1]


def test_a_wrong_type_warns_before_sending_and_is_sent_as_given() -> None:
    transport = _answer(200)
    client = Client.from_release("3.7", url=BASE, api_key=KEY, cache=False,
                                 transport=transport)
    with pytest.warns(ParameterTypeWarning, match="'bridge_fd': 'soon' is not an integer"):
        client.machine.deploy("abc", bridge_fd="soon")
    assert b"soon" in (transport.requests[0][0].body or b"")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.machine.deploy("abc", bridge_fd="15", install_kvm="true", comment=3)
        client.machine.deploy("abc", bridge_fd=15, install_kvm=True)
    warnings.simplefilter("error", ParameterTypeWarning)  # the strict rule
    try:
        before = len(transport.requests)
        with pytest.raises(ParameterTypeWarning):
            client.machine.deploy("abc", install_kvm="perhaps")
        assert len(transport.requests) == before  # refused before sending
    finally:
        warnings.resetwarnings()


def test_an_error_of_a_documented_status_carries_the_servers_text_as_hint() -> None:
    client = Client.from_release("3.7", url=BASE, api_key=KEY, cache=False,
                                 transport=_answer(503, b"no IPs"))
    client.retry = client.retry.never()
    with pytest.raises(errors.ServiceUnavailableError) as caught:
        client.machine.deploy("abc")
    assert caught.value.hint.startswith("MAAS attempted to allocate an IP address")
    assert "retry later" in caught.value.hint  # the generic hint stays, after it


# -- live regions: fetched with the description, cached with it ----------------------------


def test_a_live_region_serving_yaml_is_overlaid_and_cached(
        tmp_path: Path, document: Any) -> None:
    describe = json.dumps(load_shipped("maas", "3.7")).encode()
    served = yaml.safe_dump(document).encode()
    cache = DescriptionCache("maas", tmp_path)
    with responses.RequestsMock() as mocked:
        mocked.get(API + "describe/", body=describe, content_type="application/json")
        mocked.get(API + "openapi.yaml", body=served, content_type="application/openapi+yaml")
        cold = Client(BASE, KEY, cache=cache)
        assert len(mocked.calls) == 2
        warm = Client(BASE, KEY, cache=cache)
        assert len(mocked.calls) == 2  # the overlay came from the cache, like describe
    for client in (cold, warm):
        assert "The requested machine is not found." in client.machine.deploy.__doc__
    assert cold.description.overlay is not None and warm.description.overlay is not None
    assert warm.description.overlay.actions == cold.description.overlay.actions


def test_openapi_false_never_fetches_it() -> None:
    with responses.RequestsMock() as mocked:
        mocked.get(API + "describe/", json=load_shipped("maas", "3.7"))
        client = Client(BASE, KEY, cache=False, openapi=False)
        assert len(mocked.calls) == 1 and client.description.overlay is None


def test_a_busy_region_is_not_cached_as_without_overlay(tmp_path: Path) -> None:
    cache = DescriptionCache("maas", tmp_path)
    with responses.RequestsMock() as mocked:
        mocked.get(API + "describe/", json=load_shipped("maas", "3.7"))
        mocked.get(API + "openapi.yaml", status=503, body="starting")
        assert Client(BASE, KEY, cache=cache).description.overlay is None
        mocked.replace(responses.GET, API + "openapi.yaml",
                       json=load_shipped_openapi("3.7"))
        assert Client(BASE, KEY, cache=cache).description.overlay is not None
        assert len(mocked.calls) == 3  # describe, 503, then the overlay on the next connect


def test_an_unreachable_overlay_is_not_cached_as_absent(tmp_path: Path) -> None:
    cache = DescriptionCache("maas", tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(API + "describe/", json=load_shipped("maas", "3.7"))
        mocked.get(API + "openapi.yaml", body=ConnectionError("reset"))
        assert Client(BASE, KEY, cache=cache).description.overlay is None
        assert len(mocked.calls) == 2  # one attempt: no retries for an addition
        mocked.replace(responses.GET, API + "openapi.yaml",
                       json=load_shipped_openapi("3.7"))
        assert Client(BASE, KEY, cache=cache).description.overlay is not None
        assert len(mocked.calls) == 3  # tried again on the next connect
