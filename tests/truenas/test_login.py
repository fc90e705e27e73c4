"""Login flows: mechanisms, OTP, refusals, legacy fallbacks, and no secrets anywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.truenas import Client, Credentials
from maas_dyn.truenas.endpoint import parse_endpoint
from maas_dyn.truenas.login import MECHANISMS, RESPONSES, check_api_key_transport, login
from tests.truenas.conftest import API_KEY, PASSWORD
from tests.truenas.fakes import FakeError, FakeServer

URL = "wss://nas.test/api/current"


class Recorder:
    """A scripted ``call(method, params)`` for the login function."""

    def __init__(self, *replies: Any):
        self.replies = list(replies)
        self.calls: list[tuple[str, list[Any]]] = []

    def __call__(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


SUCCESS = {"response_type": "SUCCESS", "user_info": {"pw_name": "admin"}}
PRE_26 = ["API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN"]  # auth.mechanism_choices


def test_tables_cover_every_mechanism_and_answer() -> None:
    assert [m.name for m in MECHANISMS] == ["API_KEY_PLAIN", "PASSWORD_PLAIN", "TOKEN_PLAIN"]
    assert set(RESPONSES) == {"SUCCESS", "OTP_REQUIRED", "AUTH_ERR", "EXPIRED", "REDIRECT"}


@pytest.mark.parametrize(("creds", "payload"), [
    (Credentials("admin", password="pw"), {"mechanism": "PASSWORD_PLAIN", "username": "admin",
                                           "password": "pw"}),
    (Credentials("admin", api_key="1-k"), {"mechanism": "API_KEY_PLAIN", "username": "admin",
                                           "api_key": "1-k"}),
    (Credentials(token="t"), {"mechanism": "TOKEN_PLAIN", "token": "t"}),
])
def test_login_ex_payloads(creds: Credentials, payload: dict[str, str]) -> None:
    # An API key first asks which mechanisms the server offers (SCRAM would win).
    asks = [PRE_26] if creds.api_key else []
    call = Recorder(*asks, SUCCESS)
    assert login(call, creds, URL) == "auth.login_ex"
    assert call.calls[len(asks):] == [("auth.login_ex", [payload])]


@pytest.mark.parametrize(("creds", "method", "params"), [
    (Credentials("admin", password="pw"), "auth.login", ["admin", "pw"]),
    (Credentials("admin", password="pw", otp="123456"), "auth.login", ["admin", "pw", "123456"]),
    (Credentials("admin", password="pw", otp=lambda: "654321"), "auth.login",
     ["admin", "pw", "654321"]),
    (Credentials("admin", api_key="1-k"), "auth.login_with_api_key", ["1-k"]),
    (Credentials(token="t"), "auth.login_with_token", ["t"]),
])
def test_legacy_fallback_when_login_ex_is_missing(creds: Credentials, method: str,
                                                  params: list[str]) -> None:
    asks = [errors.MethodNotFound("no")] if creds.api_key else []
    call = Recorder(*asks, errors.MethodNotFound("no"), True)
    assert login(call, creds, URL) == method
    assert call.calls[1 + len(asks)] == (method, params)


def test_api_key_without_username_goes_straight_to_the_legacy_method() -> None:
    call = Recorder(PRE_26, True)
    assert login(call, Credentials(api_key="1-k"), URL) == "auth.login_with_api_key"
    assert call.calls == [("auth.mechanism_choices", []), ("auth.login_with_api_key", ["1-k"])]


def test_legacy_refusal() -> None:
    call = Recorder(errors.MethodNotFound("no"), False)
    with pytest.raises(errors.AuthenticationError, match="refused") as caught:
        login(call, Credentials("admin", password="pw-SECRET"), URL)
    assert caught.value.method == "auth.login" and "pw-SECRET" not in str(caught.value)


@pytest.mark.parametrize(("reply", "match"), [
    ({"response_type": "AUTH_ERR"}, "refused the credentials"),
    ({"response_type": "EXPIRED"}, "expired"),
    ({"response_type": "REDIRECT", "urls": ["wss://nas-b/api/current"]}, "not active"),
    ({"response_type": "SOMETHING_NEW"}, "unexpected answer"),
    ("garbage", "unexpected answer"),
])
def test_refusals(reply: Any, match: str) -> None:
    with pytest.raises(errors.AuthenticationError, match=match) as caught:
        login(Recorder(reply), Credentials("admin", password="pw-SECRET"), URL)
    text = f"{caught.value} {caught.value.hint}"
    assert "pw-SECRET" not in text
    if "urls" in str(reply):
        assert "nas-b" in caught.value.hint


OTP_REQUIRED = {"response_type": "OTP_REQUIRED", "username": "admin"}


def test_otp_step_with_a_string() -> None:
    call = Recorder(OTP_REQUIRED, SUCCESS)
    login(call, Credentials("admin", password="pw", otp=" 123456 "), URL)
    assert call.calls[1] == ("auth.login_ex_continue",
                             [{"mechanism": "OTP_TOKEN", "otp_token": "123456"}])


def test_otp_prompt_is_asked_again_after_a_wrong_code() -> None:
    codes = iter(["111111", "222222"])
    call = Recorder(OTP_REQUIRED, OTP_REQUIRED, SUCCESS)
    login(call, Credentials("admin", password="pw", otp=lambda: next(codes)), URL)
    assert [c[1][0]["otp_token"] for c in call.calls[1:]] == ["111111", "222222"]


def test_otp_attempts_are_bounded() -> None:
    call = Recorder(OTP_REQUIRED, OTP_REQUIRED, OTP_REQUIRED, OTP_REQUIRED)
    with pytest.raises(errors.AuthenticationError, match="3 attempts"):
        login(call, Credentials("admin", password="pw", otp=lambda: "000000"), URL)
    call = Recorder(OTP_REQUIRED, OTP_REQUIRED)
    with pytest.raises(errors.AuthenticationError, match="1 attempts"):
        login(call, Credentials("admin", password="pw", otp="000000"), URL)


def test_otp_wrong_code_answered_auth_err() -> None:
    call = Recorder(OTP_REQUIRED, {"response_type": "AUTH_ERR"})
    with pytest.raises(errors.AuthenticationError, match="one-time password was refused"):
        login(call, Credentials("admin", password="pw", otp="000000"), URL)


def test_otp_needed_but_not_given() -> None:
    with pytest.raises(errors.AuthenticationError, match="one-time password") as caught:
        login(Recorder(OTP_REQUIRED), Credentials("admin", password="pw"), URL)
    assert "otp=" in caught.value.hint


# -- credentials ------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "exactly one"),
    ({"password": "a", "token": "b"}, r"got password, token"),
    ({"password": "a"}, "needs username"),
])
def test_bad_credentials(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=match):
        Credentials(**kwargs)


def test_credentials_repr_hides_secrets() -> None:
    assert repr(Credentials("admin", password="pw-SECRET")) == \
        "Credentials(username='admin', password=<hidden>)"
    assert repr(Credentials(token="tok-SECRET")) == "Credentials(token=<hidden>)"


# -- API keys over plain connections -----------------------------------------------------------

@pytest.mark.parametrize(("url", "allowed"), [
    ("ws://10.0.0.5/api/current", False),
    ("ws://nas.example", False),
    ("ws://127.0.0.1:6000/api/current", True),
    ("ws://localhost/api/current", True),
    ("wss://10.0.0.5/api/current", True),
])
def test_api_key_transport_guard(url: str, allowed: bool) -> None:
    endpoint = parse_endpoint(url)
    creds = Credentials("admin", api_key=API_KEY)
    if allowed:
        check_api_key_transport(endpoint, creds, False)
    else:
        with pytest.raises(errors.ConfigurationError, match="would revoke the key") as caught:
            check_api_key_transport(endpoint, creds, False)
        assert API_KEY not in str(caught.value)
        check_api_key_transport(endpoint, creds, True)  # the user accepts the risk
    check_api_key_transport(endpoint, Credentials("admin", password="pw"), False)
    check_api_key_transport(endpoint, None, False)


def test_client_refuses_before_connecting(server: FakeServer,
                                          make_client: Callable[..., Client]) -> None:
    with pytest.raises(errors.ConfigurationError, match="revoke"):
        make_client("ws://nas.example/api/current", api_key=API_KEY)
    assert server.links == []


# -- through the client -----------------------------------------------------------------------

def test_client_login_flows(server: FakeServer, make_client: Callable[..., Client]) -> None:
    make_client()
    assert server.calls[0] == ("auth.login_ex", [{"mechanism": "PASSWORD_PLAIN",
                                                  "username": "admin", "password": PASSWORD}])
    make_client(api_key=API_KEY)
    logins = [params[0] for method, params in server.calls if method == "auth.login_ex"]
    assert logins[-1] == {"mechanism": "API_KEY_PLAIN", "username": "admin", "api_key": API_KEY}
    make_client(token="tok", username=None)
    logins = [params[0] for method, params in server.calls if method == "auth.login_ex"]
    assert logins[-1] == {"mechanism": "TOKEN_PLAIN", "token": "tok"}


def test_client_otp_with_callback(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.login_replies = [OTP_REQUIRED, SUCCESS]
    asked: list[int] = []
    make_client(otp=lambda: asked.append(1) or "123456")
    assert asked == [1]
    assert ("auth.login_ex_continue", [{"mechanism": "OTP_TOKEN", "otp_token": "123456"}]) \
        in server.calls


def test_client_login_refused_leaves_no_threads(server: FakeServer,
                                               make_client: Callable[..., Client]) -> None:
    server.login_replies = [{"response_type": "AUTH_ERR"}]
    with pytest.raises(errors.AuthenticationError):
        make_client()
    assert server.link.closed


def test_client_falls_back_to_legacy_login(server: FakeServer,
                                           make_client: Callable[..., Client]) -> None:
    def missing(data: Any) -> Any:
        raise FakeError(-32601, "Method does not exist")

    server.handlers["auth.login_ex"] = missing
    make_client()
    assert ("auth.login", ["admin", PASSWORD]) in server.calls


def test_no_secret_in_logs_reprs_or_errors(server: FakeServer, make_client: Callable[..., Client],
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        client = make_client()
        client.core.ping()
        text = repr(client) + repr(client._credentials) + caplog.text
        server.login_replies = [{"response_type": "AUTH_ERR"}]
        with pytest.raises(errors.AuthenticationError) as caught:
            make_client(api_key=API_KEY)
        text += str(caught.value) + repr(caught.value) + caplog.text
    assert PASSWORD not in text and API_KEY not in text
