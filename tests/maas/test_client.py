"""Tests of the MAAS client and its funnel (maas_dyn/maas/client.py) with `responses`."""

from __future__ import annotations

import json
import logging
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from maas_dyn import errors
from maas_dyn._cache import DescriptionCache
from maas_dyn._shipped import load_shipped
from maas_dyn.maas import (
    Client,
    DescriptionChangedWarning,
    MockTransport,
    RawResponse,
    UndocumentedParameterWarning,
    connect,
)
from maas_dyn.retry import RetryPolicy

BASE = "http://127.0.0.1:5240/MAAS/"
API = BASE + "api/2.0/"
KEY = "consumerKEY:tokenKEY:secretKEY"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def doc_bytes() -> bytes:
    return json.dumps(load_shipped("maas", "3.7")).encode()


@pytest.fixture
def mocked(doc_bytes: bytes) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(API + "describe/", body=doc_bytes, headers={**JSON})
        mock.get(API + "openapi.yaml", status=404)  # a region before MAAS 3.3
        yield mock


@pytest.fixture
def client(mocked: responses.RequestsMock) -> Client:
    c = Client(BASE, api_key=KEY, cache=False)
    c._sleep = lambda seconds: None
    return c


def oauth(request: Any) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', request.headers["Authorization"]))


# -- connect ------------------------------------------------------------------------------


def test_connect_fetches_the_description_unsigned(mocked: responses.RequestsMock) -> None:
    c = connect(BASE, KEY, cache=False)
    assert [call.request.url for call in mocked.calls] == [API + "describe/",
                                                         API + "openapi.yaml"]
    assert all("Authorization" not in call.request.headers for call in mocked.calls)
    assert c.description.hash == "36763f1444f05f8c565d0292aabefcaa9ece4369"
    assert c._transport.session.verify is True  # TLS verification is on by default


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("http://127.0.0.1:5240/MAAS", BASE),
        ("http://127.0.0.1:5240/MAAS/", BASE),
        ("http://127.0.0.1:5240", BASE),
        ("  http://127.0.0.1:5240/MAAS/?x=1  ", BASE),
    ],
)
def test_url_forms(mocked: responses.RequestsMock, given: str, base: str) -> None:
    assert Client(given, cache=False).url == base


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "must be text"),
        ("region:5240/MAAS", "must start with http"),
        ("ftp://region/MAAS", "must start with http"),
        ("http:///MAAS/", "has no host"),
        ("http://region:99999/MAAS/", "invalid port"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(errors.InvalidURLError, match=message):
        Client(url, cache=False)


def test_proxy_prefix_is_kept() -> None:
    client = Client.from_release("3.7", url="https://proxy.example/region1/MAAS/",
                                 transport=MockTransport(lambda r, a: RawResponse(
                                     200, JSON, b"{}")))
    client.users.whoami()
    request, _ = client._transport.requests[0]
    assert request.url == "https://proxy.example/region1/MAAS/api/2.0/users/?op=whoami"


def test_unreachable_server_is_connection_failed() -> None:
    with pytest.raises(errors.ConnectionFailed, match="cannot connect"):
        Client("http://127.0.0.1:9/MAAS/", cache=False, retry=RetryPolicy.never())


def test_html_page_is_not_a_server() -> None:
    with responses.RequestsMock() as mock:
        mock.get(API + "describe/", body="<html><title>Router</title></html>",
                 content_type="text/html")
        with pytest.raises(errors.NotAServerError, match="text/html, not a MAAS API"):
            Client(BASE, cache=False)


def test_missing_describe_is_not_a_server() -> None:
    with responses.RequestsMock() as mock:
        mock.get(API + "describe/", status=404)
        with pytest.raises(errors.NotAServerError, match="HTTP 404"):
            Client(BASE, cache=False)


def test_malformed_json_is_not_a_server() -> None:
    with responses.RequestsMock() as mock:
        mock.get(API + "describe/", body=b"{not json", headers=JSON)
        with pytest.raises(errors.NotAServerError, match="malformed body"):
            Client(BASE, cache=False)


def test_json_that_is_not_a_description() -> None:
    with responses.RequestsMock() as mock:
        mock.get(API + "describe/", json={"hello": "world"})
        with pytest.raises(errors.DescriptionError, match="no 'resources' list"):
            Client(BASE, cache=False)


def test_offline_description_forms(doc_bytes: bytes) -> None:
    for form in (doc_bytes, doc_bytes.decode(), json.loads(doc_bytes)):
        assert "machines" in Client.from_description(form).handlers
    with pytest.raises(errors.NotAServerError, match="not valid JSON"):
        Client.from_description(b"nope")


# -- requests -----------------------------------------------------------------------------


def test_read_with_repeated_keys_is_signed(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(API + "machines/", json=[{"system_id": "abc"}])
    assert client.machines.read(hostname=["node-1", "node-2"]) == [{"system_id": "abc"}]
    request = mocked.calls[-1].request
    assert request.url == API + "machines/?hostname=node-1&hostname=node-2"
    assert oauth(request)["oauth_token"] == "tokenKEY"


def test_deploy_is_multipart_post_with_op(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(API + "machines/abc123/", json={"status_name": "Deploying"})
    client.machine.deploy("abc123", distro_series="jammy")
    request = mocked.calls[-1].request
    assert request.url == API + "machines/abc123/?op=deploy"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="distro_series"\r\n\r\njammy' in request.body


def test_maas_api_call_style(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(API + "machines/abc/", json={})
    mocked.get(API + "maas/", json=60)
    mocked.post(API + "users/", json={"username": "u1"})
    client.machine.deploy(system_id="abc")
    assert mocked.calls[-1].request.url == API + "machines/abc/?op=deploy"
    assert client.maas.get_config(params={"name": "node_timeout"}) == 60
    assert mocked.calls[-1].request.url == API + "maas/?op=get_config&name=node_timeout"
    client.users.create(files={"username": "u1", "password": "pw", "is_superuser": 0})
    body = mocked.calls[-1].request.body
    assert b'name="username"\r\n\r\nu1' in body and b'name="is_superuser"\r\n\r\n0' in body


def test_compat_keyword_must_be_a_dict(client: Client) -> None:
    with pytest.raises(errors.InvalidParametersError, match="takes a dict"):
        client.maas.get_config(params=["name"])


def test_undocumented_keyword_is_sent_with_a_warning(client: Client,
                                                     mocked: responses.RequestsMock) -> None:
    mocked.get(API + "users/", json={})
    with pytest.warns(UndocumentedParameterWarning, match="'colour' is not documented") as rec:
        client.users.whoami(colour="blue")
    assert rec[0].filename == __file__  # points at the caller's line
    assert mocked.calls[-1].request.url.endswith("?op=whoami&colour=blue")


def test_anonymous_only_action_is_sent_unsigned(client: Client,
                                                mocked: responses.RequestsMock) -> None:
    mocked.get(API + "machines/", json=False)
    assert client.machines.is_action_in_progress(mac_address="aa:bb") is False
    assert "Authorization" not in mocked.calls[-1].request.headers


def test_anonymous_client_sends_no_authorization(mocked: responses.RequestsMock) -> None:
    mocked.get(API + "version/", json={"version": "3.7.3"})
    anon = Client(BASE, cache=False)
    assert anon.version.read()["version"] == "3.7.3"
    assert "Authorization" not in mocked.calls[-1].request.headers


def test_missing_path_parameter(client: Client) -> None:
    with pytest.raises(errors.InvalidParametersError, match="system_id"):
        client.machine.deploy()


def test_call_by_name(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(API + "fabrics/5/vlans/0/", json={"vid": 0})
    assert client.call("vlan", "read", 5, 0) == {"vid": 0}
    assert client.call("VlanHandler", "read", fabric_id=5, vid=0) == {"vid": 0}
    with pytest.raises(errors.UnknownActionError, match="did you mean read"):
        client.call("vlan", "raed")
    with pytest.raises(errors.UnknownHandlerError, match="did you mean vlan"):
        client.call("vlna", "read")


def test_unknown_handler_attribute(client: Client) -> None:
    with pytest.raises(errors.UnknownHandlerError, match="did you mean machine"):
        _ = client.machin
    assert not hasattr(client, "zzz")
    with pytest.raises(AttributeError):
        _ = client._nothing


# -- responses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Content-Type": "application/json"}, b'{"a": 1}', {"a": 1}),
        ({"Content-Type": "application/json"}, b"", None),
        ({"Content-Type": "text/plain; charset=latin-1"}, "caf\xe9".encode("latin-1"), "caf\xe9"),
        ({"Content-Type": "text/plain; charset=nonsense"}, b"ok", "ok"),
        ({"Content-Type": "application/octet-stream"}, b"\x00\x01", b"\x00\x01"),
        ({}, b"raw", b"raw"),
    ],
)
def test_decoding_by_content_type(headers: dict[str, str], body: bytes, expected: Any) -> None:
    transport = MockTransport(lambda r, a: RawResponse(200, headers, body))
    client = Client.from_release("3.7", url=BASE, transport=transport)
    assert client.machine.get_curtin_config("abc") == expected
    assert client.last_response is not None
    assert client.last_response.status == 200
    assert client.last_response.content == body


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.UnauthorizedError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (410, errors.GoneError),
        (418, errors.MAASAPIError),
        (500, errors.MAASAPIError),
        (503, errors.ServiceUnavailableError),
        (504, errors.GatewayTimeoutError),
    ],
)
def test_error_per_status(status: int, cls: type[errors.MAASAPIError],
                          mocked: responses.RequestsMock) -> None:
    client = Client(BASE, api_key=KEY, cache=False, retry=RetryPolicy.never())
    mocked.get(API + "tags/", status=status, body="server says no", content_type="text/plain")
    with pytest.raises(cls) as info:
        client.tags.read()
    error = info.value
    assert type(error) is cls
    assert isinstance(error, errors.MAASAPIError)
    assert error.status == status and error.message == "server says no"
    assert error.method == "GET" and error.url == API + "tags/"
    assert str(error).startswith(f"{status}: server says no (GET {API}tags/)")
    assert "KEY" not in str(error) and "KEY" not in repr(error.headers)


def test_401_is_an_authentication_error() -> None:
    assert issubclass(errors.UnauthorizedError, errors.AuthenticationError)


def test_400_field_errors(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(API + "tags/", status=400, json={"name": ["This field is required."],
                                                  "comment": "Too long."})
    with pytest.raises(errors.BadRequestError) as info:
        client.tags.create(comment="x" * 10)
    assert info.value.field_errors == {"name": ["This field is required."],
                                       "comment": ["Too long."]}
    assert "name: This field is required." in str(info.value)


def test_404_from_machine_is_machine_not_found(client: Client,
                                               mocked: responses.RequestsMock) -> None:
    mocked.get(API + "machines/nope/", status=404, body="")
    with pytest.raises(errors.MachineNotFoundError, match="no message"):
        client.machine.read("nope")


def test_html_error_page_gives_its_title(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(API + "tags/", status=502, body="<html><head><title>502 Bad Gateway</title>"
               "</head><body>nginx</body></html>", content_type="text/html")
    with pytest.raises(errors.MAASAPIError, match="502: 502 Bad Gateway"):
        client.tags.read()
    mocked.get(API + "zones/", status=500, body="<p>Internal <b>error</b></p>",
               content_type="text/html")
    with pytest.raises(errors.MAASAPIError, match="500: Internal error"):
        client.zones.read()


# -- retries ------------------------------------------------------------------------------


def test_get_is_retried_with_retry_after_and_resigned(client: Client,
                                                      mocked: responses.RequestsMock) -> None:
    slept: list[float] = []
    client._sleep = slept.append
    mocked.get(API + "tags/", status=503, headers={"Retry-After": "7"}, body="busy")
    mocked.get(API + "tags/", json=[])
    assert client.tags.read() == []
    attempts = [c.request for c in mocked.calls if c.request.url == API + "tags/"]
    assert len(attempts) == 2
    assert slept == [7.0]
    assert oauth(attempts[0])["oauth_nonce"] != oauth(attempts[1])["oauth_nonce"]


def test_post_is_never_resent_after_a_reply(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(API + "machines/abc/", status=503, body="busy")
    with pytest.raises(errors.ServiceUnavailableError):
        client.machine.deploy("abc")
    assert len([c for c in mocked.calls if c.request.method == "POST"]) == 1


def test_connection_failure_before_sending_is_retried_for_post(client: Client) -> None:
    sent: list[str] = []

    def flaky(request: Any, authorization: str | None) -> RawResponse:
        sent.append(authorization or "")
        if len(sent) == 1:
            raise errors.ConnectionFailed("refused")
        return RawResponse(200, JSON, b"{}")

    client._transport = MockTransport(flaky)
    assert client.machine.deploy("abc") == {}
    assert len(sent) == 2 and sent[0] != sent[1]


def test_connection_closed_after_sending_is_not_retried_for_post(client: Client) -> None:
    def broken(request: Any, authorization: str | None) -> RawResponse:
        raise errors.ConnectionClosed("reset", method=request.method, url=request.url)

    transport = MockTransport(broken)
    client._transport = transport
    with pytest.raises(errors.ConnectionClosed):
        client.machine.deploy("abc")
    assert len(transport.requests) == 1
    with pytest.raises(errors.ConnectionClosed):
        client.machines.read()
    assert len(transport.requests) == 1 + 1 + client.retry.total


def test_retries_stop_at_the_total(client: Client, mocked: responses.RequestsMock) -> None:
    client.retry = RetryPolicy(total=2, backoff_factor=0)
    mocked.get(API + "tags/", status=503, body="busy")
    with pytest.raises(errors.ServiceUnavailableError):
        client.tags.read()
    assert len([c for c in mocked.calls if c.request.url == API + "tags/"]) == 3


def test_transport_errors_from_requests(client: Client, mocked: responses.RequestsMock) -> None:
    client.retry = RetryPolicy.never()
    mocked.get(API + "tags/", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.Timeout):
        client.tags.read()
    mocked.get(API + "zones/", body=requests.exceptions.ConnectTimeout("slow"))
    with pytest.raises(errors.ConnectionFailed, match="timed out connecting"):
        client.zones.read()
    mocked.get(API + "spaces/", body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(errors.ConnectionFailed, match="TLS handshake"):
        client.spaces.read()
    mocked.get(API + "fabrics/", body=requests.exceptions.ConnectionError("reset by peer"))
    with pytest.raises(errors.ConnectionClosed, match="broke"):
        client.fabrics.read()
    mocked.get(API + "domains/", body=requests.exceptions.InvalidURL("bad"))
    with pytest.raises(errors.ConnectionFailed, match="invalid URL"):
        client.domains.read()


# -- description cache --------------------------------------------------------------------


def test_cache_miss_then_hit(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    cache = DescriptionCache("maas", tmp_path)
    first = Client(BASE, KEY, cache=cache)
    assert len(mocked.calls) == 2  # describe, then openapi.yaml (404 here: before 3.3)
    second = Client(BASE, KEY, cache=cache)
    assert len(mocked.calls) == 2  # warm connect: no round trip, not even for the overlay
    assert second.description.hash == first.description.hash
    files = list((tmp_path / "maas").rglob("*.json"))
    assert [f.stat().st_mode & 0o777 for f in files] == [0o600]
    assert (tmp_path / "maas-openapi").is_dir()  # "no overlay" is cached too
    assert all(d.stat().st_mode & 0o777 == 0o700 for d in (tmp_path / "maas").iterdir())


def test_stale_hash_refreshes_and_warns(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    cache = DescriptionCache("maas", tmp_path)
    old = load_shipped("maas", "3.6")
    cache.store(BASE, old["hash"], json.dumps(old).encode())
    client = Client(BASE, KEY, cache=cache)
    assert client.description.hash == old["hash"]
    # A cache from before overlays existed: its overlay is fetched once, describe is not.
    assert [call.request.url for call in mocked.calls] == [API + "openapi.yaml"]
    mocked.get(API + "users/", json={"username": "admin"},
               headers={"X-MAAS-API-Hash": "36763f1444f05f8c565d0292aabefcaa9ece4369"})
    with pytest.warns(DescriptionChangedWarning, match="handlers were refreshed") as rec:
        assert client.users.whoami() == {"username": "admin"}
    assert rec[0].filename == __file__
    assert client.description.hash == "36763f1444f05f8c565d0292aabefcaa9ece4369"
    assert "reserved_ip" in client.handlers  # 3.7 handler set installed
    assert Client(BASE, KEY, cache=cache).description.hash.startswith("36763f14")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.users.whoami()  # same hash now: no second refresh


def test_failed_refresh_keeps_the_answer_of_a_call_that_succeeded(
        client: Client, mocked: responses.RequestsMock, doc_bytes: bytes,
        caplog: pytest.LogCaptureFixture) -> None:
    # Found by the chaos run: a deploy the region had acted on raised the refresh's 503,
    # and bulk runs retry 503s, so the machine was deployed twice.
    new_hash = "f" * 40
    mocked.post(API + "machines/abc/", json={"status_name": "Deploying"},
                headers={"X-MAAS-API-Hash": new_hash})
    mocked.replace(responses.GET, API + "describe/", status=503, body="starting")
    old_hash = client.description.hash
    assert client.machine.deploy(system_id="abc") == {"status_name": "Deploying"}
    assert client.description.hash == old_hash  # the old handlers stay usable
    assert "could not use the new description" in caplog.text
    assert _describe_fetches(mocked) == 2  # connect, then one try: the back-off retries
    client.machine.deploy(system_id="abc")
    assert _describe_fetches(mocked) == 2  # backing off
    described = json.loads(doc_bytes)
    described["hash"] = new_hash
    mocked.replace(responses.GET, API + "describe/", json=described)
    client._refresh_not_before = 0.0  # the back-off is over
    with pytest.warns(DescriptionChangedWarning):
        client.machine.deploy(system_id="abc")
    assert client.description.hash == new_hash and client._refresh_failures == 0


def test_refresh_back_off_doubles_up_to_a_minute(client: Client) -> None:
    delays = []
    for _ in range(1200):  # far past where 2.0 ** n would overflow without its cap
        before = time.monotonic()
        client._refresh_failed("test")
        delays.append(round(client._refresh_not_before - before))
    assert delays[:7] == [1, 2, 4, 8, 16, 32, 60] and set(delays[7:]) == {60}
    client._refresh_not_before = 0.0
    client.refresh()  # a refresh that works starts the back-off over
    assert client._refresh_failures == 0


def test_a_refresh_that_brings_another_hash_backs_off(
        client: Client, mocked: responses.RequestsMock) -> None:
    # Two regions behind one address mid-upgrade: the answer names a hash the describe
    # endpoint does not serve; without a back-off every call would fetch 500 KiB.
    mocked.get(API + "users/", json={"username": "admin"},
               headers={"X-MAAS-API-Hash": "e" * 40})
    for _ in range(5):
        client.users.whoami()
    assert _describe_fetches(mocked) == 2  # connect, then one refresh


def _describe_fetches(mocked: responses.RequestsMock) -> int:
    return sum(1 for call in mocked.calls if call.request.url.endswith("describe/"))


def test_refresh_forces_a_fetch(client: Client, mocked: responses.RequestsMock) -> None:
    before = len(mocked.calls)
    client.refresh()
    assert len(mocked.calls) == before + 2  # describe and its overlay


def test_corrupt_cache_is_ignored(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    cache = DescriptionCache("maas", tmp_path)
    cache.store(BASE, "abc", b"{broken")
    assert Client(BASE, cache=cache).description.hash.startswith("36763f14")
    assert _describe_fetches(mocked) == 1


def test_unwritable_cache_is_not_fatal(tmp_path: Path, mocked: responses.RequestsMock,
                                       caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    client = Client(BASE, cache=DescriptionCache("maas", blocker))
    assert "machines" in client.handlers
    assert "could not write the description cache" in caplog.text


# -- hooks, repr, logs --------------------------------------------------------------------


def test_hooks_see_requests_and_responses(client: Client, mocked: responses.RequestsMock) -> None:
    seen: list[str] = []
    mocked.get(API + "tags/", json=[])

    def before(request: Any, attempt: int) -> None:
        seen.append(f"send {request.method} {attempt}")

    def after(response: Any) -> None:
        seen.append(f"got {response.status}")

    client.hooks.register("before-send", before)
    client.hooks.register("after-receive", after)
    client.tags.read()
    client.hooks.unregister("before-send", before)
    client.hooks.unregister("before-send", before)
    client.tags.read()
    assert seen == ["send GET 1", "got 200", "got 200"]


def test_no_secret_in_repr_errors_or_logs(client: Client, mocked: responses.RequestsMock,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="maas_dyn")
    mocked.get(API + "tags/", status=401, body="Authorization Error")
    with pytest.raises(errors.UnauthorizedError) as info:
        client.tags.read()
    texts = [repr(client), str(info.value), repr(info.value), caplog.text,
             repr(client._credentials), repr(info.value.headers)]
    for text in texts:
        assert "secretKEY" not in text and "tokenKEY" not in text
    assert "authenticated" in repr(client)


def test_context_manager_closes(mocked: responses.RequestsMock) -> None:
    with Client(BASE, cache=False) as c:
        assert c.handlers


def test_request_keeps_field_order_and_returns_the_response(client: Client,
                                                           mocked: responses.RequestsMock) -> None:
    mocked.get(API + "machines/", json=[], headers={"X-Extra": "1"})
    response = client.request("machines", "read", fields=[("tags", "a"), ("zone", "z"),
                                                          ("tags", "b")])
    assert response.status == 200 and response.data == [] and response.headers["X-Extra"] == "1"
    assert mocked.calls[-1].request.url == API + "machines/?tags=a&zone=z&tags=b"
    mocked.post(API + "fabrics/5/vlans/", json={"vid": 7})
    assert client.request("vlans", "create", 5, fields=[("vid", 7)]).data == {"vid": 7}
    with pytest.raises(errors.InvalidParametersError, match="takes 1 path parameter"):
        client.request("vlans", "create", 5, 6)
    with pytest.raises(errors.InvalidParametersError, match="fabric_id"):
        client.request("vlans", "create")
    with pytest.raises(errors.UnknownActionError, match="did you mean create"):
        client.request("vlans", "creat")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5240/MAAS/", "http://127.0.0.1:5240/MAAS", "http://127.0.0.1:5240",
    "http://127.0.0.1:5240/MAAS/api/2.0/", "http://127.0.0.1:5240/MAAS/api/2.0",
])
def test_every_url_form_the_cli_prints_connects(url: str) -> None:
    from maas_dyn.maas import MockTransport, RawResponse

    seen: list[str] = []

    def answer(request: Any, authorization: str | None) -> RawResponse:
        seen.append(request.url)
        return RawResponse(200, {"Content-Type": "application/json"}, b"{}")

    client = Client.from_release("3.7", url=url, api_key="a:b:c",
                                 transport=MockTransport(answer))
    assert client.url == "http://127.0.0.1:5240/MAAS/"
    client.users.whoami()
    assert seen == ["http://127.0.0.1:5240/MAAS/api/2.0/users/?op=whoami"]


def test_an_api_url_names_the_describe_version() -> None:
    from maas_dyn.errors import InvalidURLError
    from maas_dyn.maas.client import _normalise_url

    assert _normalise_url("https://r/proxy/MAAS/api/1.0/") == (
        "https://r/proxy/MAAS/", "https://r/proxy", "1.0")
    with pytest.raises(InvalidURLError, match="names API 1.0"):
        Client("http://r/MAAS/api/1.0/", api_version="2.0", cache=False)
