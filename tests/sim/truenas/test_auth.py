"""Login flows: password, API key, token, OTP, the legacy methods, and their failures."""

from __future__ import annotations

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import RpcClient


def _password(sim: TrueNASSimulator, **extra: object) -> dict[str, object]:
    return {"mechanism": "PASSWORD_PLAIN", "username": sim.username, "password": sim.password,
            **extra}


def test_password_login_and_me(sim: TrueNASSimulator, client: RpcClient) -> None:
    reply = client.call("auth.login_ex", _password(sim))
    assert reply["response_type"] == "SUCCESS"
    assert reply["authenticator"] == "LEVEL_1"
    assert reply["user_info"]["pw_name"] == sim.username
    me = client.call("auth.me")
    assert me["pw_uid"] == 950 and me["source"] == "LOCAL"
    assert me["privilege"]["roles"] == {"$set": ["FULL_ADMIN"]}
    assert me["two_factor_config"]["secret_configured"] is False
    quiet = client.call("auth.login_ex", _password(sim, login_options={"user_info": False}))
    assert quiet["user_info"] is None
    sessions = client.call("auth.sessions", [["current", "=", True]])
    assert sessions[0]["credentials"] == "LOGIN_PASSWORD"
    assert client.call("auth.mechanism_choices") == ["API_KEY_PLAIN", "TOKEN_PLAIN",
                                                     "PASSWORD_PLAIN"]


def test_failures_say_nothing(sim: TrueNASSimulator, client: RpcClient) -> None:
    for data in (_password(sim, password="wrong"), _password(sim, username="nobody")):
        assert client.call("auth.login_ex", data) == {"response_type": "AUTH_ERR"}
    assert client.error("auth.me")["data"]["errname"] == "ENOTAUTHENTICATED"
    root = {"mechanism": "PASSWORD_PLAIN", "username": "root", "password": ""}
    assert client.call("auth.login_ex", root)["response_type"] == "AUTH_ERR"


def test_api_key_login(sim: TrueNASSimulator, client: RpcClient) -> None:
    key = {"mechanism": "API_KEY_PLAIN", "username": sim.username, "api_key": sim.api_key}
    assert client.call("auth.login_ex", key)["response_type"] == "SUCCESS"
    sessions = client.call("auth.sessions")
    assert sessions[0]["credentials_data"]["api_key"] == {"id": 1, "name": "maas-dyn-sim"}
    for bad in (f"{sim.api_key}x", "1-", "x-y", "99-abc"):
        assert client.call("auth.login_ex", {**key, "api_key": bad})["response_type"] == (
            "AUTH_ERR")
    assert client.call("auth.login_ex", {**key, "username": "root"})["response_type"] == (
        "AUTH_ERR")


def test_legacy_login_methods(sim: TrueNASSimulator, client: RpcClient) -> None:
    assert client.call("auth.login", sim.username, "wrong") is False
    assert client.call("auth.login", sim.username, sim.password) is True
    assert client.call("auth.login_with_api_key", "nonsense") is False
    assert client.call("auth.login_with_api_key", sim.api_key) is True
    token = client.call("auth.generate_token", 60)
    fresh = RpcClient(sim.url)
    assert fresh.call("auth.login_with_token", token) is True
    assert fresh.call("auth.login_with_token", "bogus") is False
    fresh.close()
    other = RpcClient(sim.url)
    assert other.call("auth.login", sim.otp_username, sim.otp_password) is False
    assert other.call("auth.login", sim.otp_username, sim.otp_password, "000000x") is False
    assert other.call("auth.login", sim.otp_username, sim.otp_password,
                      sim.totp_now()) is True
    other.close()


def test_token_login(sim: TrueNASSimulator, admin: RpcClient) -> None:
    token = admin.call("auth.generate_token", 300, {}, True, True)
    user = RpcClient(sim.url)
    login = {"mechanism": "TOKEN_PLAIN", "token": token}
    reply = user.call("auth.login_ex", login)
    assert reply["response_type"] == "SUCCESS"
    assert reply["user_info"]["pw_name"] == sim.username
    data = user.call("auth.sessions", [["current", "=", True]], {"get": True})
    assert data["credentials"] == "TOKEN"
    assert data["credentials_data"]["parent"]["credentials"] == "LOGIN_PASSWORD"
    again = RpcClient(sim.url)
    assert again.call("auth.login_ex", login) == {"response_type": "AUTH_ERR"}  # single use
    expired = admin.call("auth.generate_token", 0)
    assert again.call("auth.login_ex", {**login, "token": expired}) == {
        "response_type": "AUTH_ERR"}
    job_token = admin.call("auth.generate_token", 60, {"filename": "x"})
    assert again.call("auth.login_ex", {**login, "token": job_token}) == {
        "response_type": "AUTH_ERR"}
    user.close()
    again.close()


def test_generate_token_for_jobs(sim: TrueNASSimulator, admin: RpcClient) -> None:
    assert "job does not exist" in admin.error("auth.generate_token", 60, {"job": 99})[
        "data"]["reason"]
    bulk = admin.call("core.bulk", "core.ping", [[]])
    reason = admin.error("auth.generate_token", 60, {"job": bulk})["data"]["reason"]
    assert "not suitable for download token" in reason


def test_otp_login(sim: TrueNASSimulator, client: RpcClient) -> None:
    step = {"mechanism": "PASSWORD_PLAIN", "username": sim.otp_username,
            "password": sim.otp_password}
    assert client.call("auth.login_ex", step) == {"response_type": "OTP_REQUIRED",
                                                  "username": sim.otp_username}
    otp = {"mechanism": "OTP_TOKEN", "otp_token": "abcdef"}  # never a valid code
    assert client.call("auth.login_ex_continue", otp)["response_type"] == "OTP_REQUIRED"
    reply = client.call("auth.login_ex_continue", {**otp, "otp_token": sim.totp_now()})
    assert reply["response_type"] == "SUCCESS"
    assert client.call("auth.me")["two_factor_config"]["secret_configured"] is True


def test_otp_attempts_are_limited(sim: TrueNASSimulator, client: RpcClient) -> None:
    step = {"mechanism": "PASSWORD_PLAIN", "username": sim.otp_username,
            "password": sim.otp_password}
    wrong = {"mechanism": "OTP_TOKEN", "otp_token": "x"}
    client.call("auth.login_ex", step)
    answers = [client.call("auth.login_ex", wrong)["response_type"] for _ in range(4)]
    assert answers == ["OTP_REQUIRED", "OTP_REQUIRED", "OTP_REQUIRED", "AUTH_ERR"]
    error = client.error("auth.login_ex", wrong)
    assert error["data"]["reason"] == "[EINVAL] OTP_TOKEN: no authentication in progress"


def test_another_mechanism_abandons_the_otp_step(sim: TrueNASSimulator,
                                                 client: RpcClient) -> None:
    client.call("auth.login_ex", {"mechanism": "PASSWORD_PLAIN", "username": sim.otp_username,
                                  "password": sim.otp_password})
    assert client.call("auth.login_ex", _password(sim))["response_type"] == "SUCCESS"
    assert client.error("auth.login_ex", {"mechanism": "OTP_TOKEN", "otp_token": "1"})[
        "data"]["errname"] == "EINVAL"


def test_logout(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "alert.list")
    assert admin.call("auth.logout") is True
    assert admin.error("auth.me")["data"]["errname"] == "ENOTAUTHENTICATED"
    admin.login(sim)
    sim.raise_alert("Test", "after logout")
    assert admin.notifications.empty()


def test_unknown_mechanism_is_a_validation_error(admin: RpcClient) -> None:
    error = admin.error("auth.login_ex", {"mechanism": "SCRAM"})
    assert error["code"] == -32602
    assert "does not match any of the expected tags" in error["data"]["extra"][0][1]


def test_malformed_scram_is_auth_err() -> None:
    # SCRAM is modelled from 26.0 (tests/sim/truenas/test_scram.py); a client-first
    # message it cannot read (no key id, a nonce that is not base64) fails like any login.
    with TrueNASSimulator(version="26.0", speed=200) as sim:
        client = RpcClient(sim.url)
        scram = {"mechanism": "SCRAM", "scram_type": "CLIENT_FIRST_MESSAGE",
                 "rfc_str": "n,,n=user,r=nonce"}
        assert client.call("auth.login_ex", scram) == {"response_type": "AUTH_ERR"}
        client.close()
