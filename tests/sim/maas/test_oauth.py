"""OAuth 1.0a PLAINTEXT: accepted keys, MAAS's 401 answers, anonymous handlers."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.oauth import OAuthVerifier, Token, parse_authorization
from maas_dyn.sim.maas.responses import Unauthorized

from .conftest import Api


def _header(api_key: str, *, secret: str | None = None, timestamp: int | None = None,
            nonce: str | None = None, method: str = "PLAINTEXT") -> str:
    consumer, token, real_secret = api_key.split(":")
    return (
        'OAuth realm="", oauth_version="1.0", '
        f'oauth_signature_method="{method}", oauth_consumer_key="{consumer}", '
        f'oauth_token="{token}", oauth_signature="%26{secret or real_secret}", '
        f'oauth_nonce="{nonce or uuid.uuid4().hex}", '
        f'oauth_timestamp="{timestamp or int(time.time())}"'
    )


def _whoami(sim: MAASSimulator, header: str) -> requests.Response:
    return requests.get(
        sim.url + "api/2.0/users/", params={"op": "whoami"},
        headers={"Authorization": header}, timeout=10,
    )


def test_hand_made_plaintext_header_is_accepted(sim: MAASSimulator) -> None:
    response = _whoami(sim, _header(sim.api_key))
    assert response.status_code == 200
    assert response.json()["username"] == "admin"


def test_unknown_token_is_401_with_maas_wording(sim: MAASSimulator) -> None:
    consumer, _, secret = sim.api_key.split(":")
    response = _whoami(sim, _header(f"{consumer}:nosuchtoken:{secret}"))
    assert response.status_code == 401
    assert response.text == "Authorization Error: 'Invalid access token: nosuchtoken'"
    assert response.headers["WWW-Authenticate"].startswith("OAuth")


def test_unknown_consumer_is_401_invalid_api_key(sim: MAASSimulator) -> None:
    _, token, secret = sim.api_key.split(":")
    response = _whoami(sim, _header(f"nosuchconsumer:{token}:{secret}"))
    assert response.status_code == 401
    assert response.text == "Authorization Error: Invalid API key."


def test_bad_signature_is_401_without_leaking_the_secret(sim: MAASSimulator) -> None:
    response = _whoami(sim, _header(sim.api_key, secret="wrong"))
    assert response.status_code == 401
    assert "Invalid signature" in response.text
    assert sim.api_key.split(":")[2] not in response.text


def test_stale_timestamp_is_401(sim: MAASSimulator) -> None:
    response = _whoami(sim, _header(sim.api_key, timestamp=int(time.time()) - 301))
    assert response.status_code == 401
    assert "Expired timestamp" in response.text


def test_reused_nonce_is_401(sim: MAASSimulator) -> None:
    header = _header(sim.api_key, nonce="fixed-nonce", timestamp=int(time.time()))
    assert _whoami(sim, header).status_code == 200
    again = _whoami(sim, header)
    assert again.status_code == 401
    assert again.text == "Authorization Error: 'Nonce already used: fixed-nonce'"


def test_hmac_signature_method_is_refused(sim: MAASSimulator) -> None:
    response = _whoami(sim, _header(sim.api_key, method="HMAC-SHA1"))
    assert response.status_code == 401
    assert "Signature method HMAC-SHA1 not supported" in response.text


def test_requests_oauthlib_plaintext_client_works(api: Api) -> None:
    assert api.get("users/", op="whoami").json()["is_superuser"] is True


def test_no_credentials_is_401_unless_anonymous_handler(anon: Api) -> None:
    unauthorised = anon.get("users/", op="whoami")
    assert unauthorised.status_code == 401
    assert anon.get("version/").status_code == 200
    in_progress = anon.get("machines/", op="is_action_in_progress",
                           params={"mac_address": "52:54:00:00:00:01"})
    assert in_progress.status_code == 200
    assert in_progress.json() is False
    # The anonymous handler of /nodes/ answers on /devices/ too, as MAAS's resources do.
    assert anon.get("devices/", op="is_registered",
                    params={"mac_address": "52:54:00:00:00:01"}).status_code == 200
    refused = anon.post("machines/", op="accept", data={"machines": "x"})
    assert refused.status_code == 401
    assert refused.text == "You must be logged in to accept machines."


def test_non_admin_gets_403_on_admin_actions(user_api: Api) -> None:
    created = user_api.post("users/", data={"username": "bob", "email": "b@x",
                                            "password": "p", "is_superuser": "0"})
    assert created.status_code == 403
    assert created.text == "This method is reserved for admin users."
    assert user_api.post("maas/", op="set_config", data={"name": "maas_name", "value": "x"}
                         ).status_code == 403
    assert user_api.get("users/", op="whoami").json()["username"] == "alice"


def test_incomplete_oauth_header_counts_as_anonymous(sim: MAASSimulator) -> None:
    assert parse_authorization('OAuth oauth_consumer_key="a"') is None
    assert parse_authorization("Basic abc") is None
    assert parse_authorization(None) is None
    response = _whoami(sim, 'OAuth oauth_consumer_key="a"')
    assert response.status_code == 401
    assert response.text == "Forbidden"


class _Store:
    def __init__(self, token: Token) -> None:
        self.token = token

    def has_consumer(self, consumer_key: str) -> bool:
        return consumer_key == self.token.consumer_key

    def find_token(self, token_key: str) -> Token | None:
        return self.token if token_key == self.token.token_key else None


def _params(**changes: str) -> dict[str, str]:
    params = {
        "oauth_consumer_key": "c",
        "oauth_token": "t",
        "oauth_signature": "&s",
        "oauth_signature_method": "PLAINTEXT",
        "oauth_timestamp": "1000",
        "oauth_nonce": "n",
    }
    params.update(changes)
    return params


def test_verifier_checks_in_maas_order() -> None:
    verifier = OAuthVerifier(_Store(Token("c", "t", "s", "u")), wall_clock=lambda: 1000.0)
    assert verifier.verify(_params()).username == "u"
    cases = {
        "OAuth version 2.0 not supported.": _params(oauth_version="2.0"),
        "Invalid timestamp: soon": _params(oauth_timestamp="soon", oauth_nonce="n2"),
        "Expired timestamp": _params(oauth_timestamp="1", oauth_nonce="n3"),
    }
    for message, params in cases.items():
        with pytest.raises(Unauthorized, match=message):
            verifier.verify(params)


def test_nonce_cache_is_bounded_and_expires() -> None:
    now = [1000.0]
    verifier = OAuthVerifier(
        _Store(Token("c", "t", "s", "u")), wall_clock=lambda: now[0], max_nonces=2
    )
    for nonce in ("a", "b", "c"):
        verifier.verify(_params(oauth_nonce=nonce))
    # "a" was evicted by the bound, so it is accepted once more.
    verifier.verify(_params(oauth_nonce="a"))
    now[0] += 1000  # everything expires; the timestamp is now stale instead
    with pytest.raises(Unauthorized, match="Expired"):
        verifier.verify(_params(oauth_nonce="d"))
    verifier.verify(_params(oauth_nonce="c", oauth_timestamp="2000"))
