"""API-key logins by SCRAM-SHA-512 (maas_dyn/truenas/scram.py and its use in login.py).

Against the 26.0 simulator (the server side of SCRAM, on ws:// and on TLS with channel
binding), through a link that plays man in the middle, and against an exchange recorded
with the official client's own SCRAM code (truenas/api_client is not on PyPI, so it
cannot run in the suite; see tests/fixtures/truenas/SOURCES.md).
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from maas_dyn import errors
from maas_dyn._scram import b64, derive_keys, tls_server_end_point, unb64
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client, Credentials, DerivedApiKey
from maas_dyn.truenas.login import LoginChannel, login
from maas_dyn.truenas.scram import ScramExchange, split_api_key
from maas_dyn.truenas.transport import Link, open_link

ITERATIONS = 50_000  # the least a client accepts: quick, and still in range
RECORDED = json.loads((Path(__file__).parents[1] / "fixtures" / "truenas"
                       / "scram-sha512-exchange-api-client.json").read_text())


class Tamper:
    """A link that reads and rewrites what passes (a man in the middle)."""

    def __init__(self, link: Link, inbound: Callable[[str], str] | None = None,
                 certificate: bytes | None = None):
        self._link = link
        self._inbound = inbound
        self._certificate = certificate
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)
        self._link.send(text)

    def recv(self) -> str | bytes:
        data = self._link.recv()  # the reader decodes; websocket-client hands bytes
        if self._inbound is None:
            return data
        text = data.decode() if isinstance(data, bytes) else data
        return self._inbound(text)

    def close(self) -> None:
        self._link.close()

    def abort(self) -> None:
        self._link.abort()

    def peer_certificate(self) -> bytes | None:
        if self._certificate is not None:
            return self._certificate
        getter = getattr(self._link, "peer_certificate", None)
        return getter() if getter else None


class Wire:
    """Opens links through :class:`Tamper` and keeps every one."""

    def __init__(self, inbound: Callable[[str], str] | None = None,
                 certificate: bytes | None = None):
        self.inbound = inbound
        self.certificate = certificate
        self.links: list[Tamper] = []

    def opener(self, url: str, verify: bool | str, timeout: float) -> Link:
        link = Tamper(open_link(url, verify=verify, timeout=timeout), self.inbound,
                      self.certificate)
        self.links.append(link)
        return link

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(text) for link in self.links for text in link.sent]

    def logins(self) -> list[str]:
        return [m["params"][0].get("scram_type", m["params"][0]["mechanism"])
                for m in self.sent() if m.get("method") == "auth.login_ex"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "server.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other = ca.issue_cert("127.0.0.1").cert_chain_pems[0].bytes().decode()
    return {"cert": str(folder / "server.pem"), "ca": str(folder / "ca.pem"),
            "other": ssl.PEM_cert_to_DER_cert(other)}


@pytest.fixture(scope="module")
def sims(truenas_sim_factory: Callable[..., TrueNASSimulator],
         tls: dict[str, Any]) -> dict[str, TrueNASSimulator]:
    """Hardened 26.0 boxes (SCRAM only), on ws:// and on TLS, and a TLS box with plain too."""
    return {
        "ws": truenas_sim_factory(version="26.0", auth_mechanisms=["SCRAM"],
                                  scram_iterations=ITERATIONS),
        "tls": truenas_sim_factory(version="26.0", auth_mechanisms=["SCRAM"],
                                   scram_iterations=ITERATIONS, tls_cert=tls["cert"]),
        "open-tls": truenas_sim_factory(version="26.0", scram_iterations=ITERATIONS,
                                        tls_cert=tls["cert"]),
    }


@pytest.fixture
def make() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make_client(sim: TrueNASSimulator, **options: Any) -> Client:
        options.setdefault("username", sim.username)
        options.setdefault("api_key", sim.api_key)
        options.setdefault("cache", False)
        options.setdefault("ping_interval", 0)
        client = Client(sim.url, **options)
        made.append(client)
        return client

    yield make_client
    for client in made:
        client.close()


def _session_credentials(client: Client) -> str:
    return str(client.call("auth.sessions", [["current", "=", True]],
                           {"get": True})["credentials"])


# -- against the simulator --------------------------------------------------------------------

def test_scram_over_ws_to_loopback_is_unbound(sims: dict[str, TrueNASSimulator],
                                              make: Callable[..., Client]) -> None:
    wire = Wire()
    client = make(sims["ws"], opener=wire.opener)
    assert client.login_mechanism == "SCRAM"
    assert _session_credentials(client) == "API_KEY"
    first = next(m["params"][0]["rfc_str"] for m in wire.sent()
                 if m.get("method") == "auth.login_ex")
    assert first.startswith("n,,n=") and f":{split_api_key(sims['ws'].api_key)[0]}," in first
    # The key never crossed the wire, in any form.
    text = "".join(link_text for link in wire.links for link_text in link.sent)
    assert split_api_key(sims["ws"].api_key)[1] not in text


@pytest.mark.parametrize("verify", ["ca", False])
def test_scram_over_tls_is_channel_bound(sims: dict[str, TrueNASSimulator], tls: dict[str, Any],
                                         make: Callable[..., Client], verify: Any) -> None:
    wire = Wire()
    client = make(sims["tls"], opener=wire.opener, verify=tls["ca"] if verify else False)
    assert client.login_mechanism == "SCRAM"
    assert wire.logins() == ["CLIENT_FIRST_MESSAGE", "CLIENT_FINAL_MESSAGE"]
    assert wire.sent()[1]["params"][0]["rfc_str"].startswith("p=tls-server-end-point,,")


def test_plain_api_keys_are_refused_by_a_hardened_box(sims: dict[str, TrueNASSimulator],
                                                      make: Callable[..., Client]) -> None:
    with pytest.raises(errors.AuthenticationError, match="does not allow the API_KEY_PLAIN") \
            as caught:
        make(sims["ws"], api_key_mechanism="API_KEY_PLAIN")
    assert sims["ws"].api_key not in str(caught.value)
    assert make(sims["ws"], password=None).call("auth.mechanism_choices") == ["SCRAM"]


def test_wrong_key(sims: dict[str, TrueNASSimulator], make: Callable[..., Client],
                   caplog: pytest.LogCaptureFixture) -> None:
    key_id, secret = split_api_key(sims["ws"].api_key)
    wrong = f"{key_id}-{secret[::-1]}"
    with caplog.at_level(logging.DEBUG), \
            pytest.raises(errors.AuthenticationError, match="client-final.*the API key is wrong") \
            as caught:
        make(sims["ws"], api_key=wrong)
    assert caught.value.hint
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert wrong not in text and secret[::-1] not in text and secret not in text


def test_unknown_key_id_fails_at_the_first_step(sims: dict[str, TrueNASSimulator],
                                                make: Callable[..., Client]) -> None:
    with pytest.raises(errors.AuthenticationError, match=r"client-first \(step 1"):
        make(sims["ws"], api_key="999-" + "a" * 64)


def test_tampered_server_signature(sims: dict[str, TrueNASSimulator],
                                   make: Callable[..., Client]) -> None:
    def flip(text: str) -> str:
        # A relay that answered "success" without the key cannot forge v=.
        return re.sub(r'"v=(.)', lambda m: '"v=' + ("A" if m.group(1) != "A" else "B"), text)

    wire = Wire(inbound=flip)
    with pytest.raises(errors.AuthenticationError,
                       match="server-final.*signature does not match") as caught:
        make(sims["ws"], opener=wire.opener)
    assert "man in the middle" in caught.value.hint
    # The session the server opened was given up at once.
    assert any(m.get("method") == "auth.logout" for m in wire.sent())


def test_channel_binding_mismatch(sims: dict[str, TrueNASSimulator], tls: dict[str, Any],
                                  make: Callable[..., Client]) -> None:
    # The client sees another certificate than the server presents: a TLS-intercepting
    # relay in between. The proof, bound to the wrong certificate, is refused.
    wire = Wire(certificate=tls["other"])
    with pytest.raises(errors.AuthenticationError, match="channel binding did not match"):
        make(sims["tls"], opener=wire.opener, verify=False)


def test_reconnect_logs_in_by_scram_again(sims: dict[str, TrueNASSimulator],
                                          make: Callable[..., Client]) -> None:
    wire = Wire()
    client = make(sims["ws"], opener=wire.opener)
    derived = client.derived_api_key
    assert derived is not None
    sims["ws"].restart()  # every session drops
    # A call sent before the client sees the drop fails as in flight (never re-sent):
    # wait until it has seen it, with a deadline, as a caller retrying would.
    deadline = time.monotonic() + 30
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not client.connected
    assert client.core.ping() == "pong"
    assert len(wire.links) == 2
    assert wire.logins() == ["CLIENT_FIRST_MESSAGE", "CLIENT_FINAL_MESSAGE"] * 2
    assert client.derived_api_key == derived  # reused, not derived again


@pytest.mark.parametrize(("channel", "plain"), [
    (LoginChannel(tls=True, verified=False), False),   # wss:// with verify=False
    (LoginChannel(tls=False), False),                  # ws:// to another host
    (LoginChannel(tls=True, verified=True), True),     # nobody in between could strip it
    (LoginChannel(loopback=True), True),               # the answer never left this machine
])
def test_a_stripped_advertisement_moves_to_plain_only_where_trusted(
        channel: LoginChannel, plain: bool) -> None:
    sent: list[Any] = []

    def call(method: str, params: list[Any]) -> Any:
        sent.append((method, params))
        if method == "auth.mechanism_choices":
            return ["API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN"]  # SCRAM stripped
        return {"response_type": "SUCCESS"}

    credentials = Credentials("admin", api_key="1-secret")
    if not plain:
        with pytest.raises(errors.AuthenticationError, match="man in the middle") as caught:
            login(call, credentials, "wss://nas.example/api/current", channel)
        assert "API_KEY_PLAIN" in caught.value.hint
        assert sent == [("auth.mechanism_choices", [])]  # the key was not sent
        # The caller's explicit choice is honoured.
        credentials = Credentials("admin", api_key="1-secret",
                                  api_key_mechanism="API_KEY_PLAIN")
    login(call, credentials, "wss://nas.example/api/current", channel)
    assert sent[-1][1][0]["mechanism"] == "API_KEY_PLAIN"
    assert credentials.used == "API_KEY_PLAIN"


def test_stripping_scram_on_the_wire(sims: dict[str, TrueNASSimulator], tls: dict[str, Any],
                                     make: Callable[..., Client]) -> None:
    def strip(text: str) -> str:
        return text.replace('"SCRAM"', '"STRIPPED"')

    # A SCRAM-only box: a stripped list leads the client to try plain (the channel is
    # verified TLS to this machine), and the box itself refuses it. The key is not lost.
    with pytest.raises(errors.AuthenticationError, match="does not allow the API_KEY_PLAIN"):
        make(sims["tls"], opener=Wire(inbound=strip).opener, verify=tls["ca"])
    # A box that takes both: plain on the trusted channel, SCRAM once nobody strips it.
    assert make(sims["open-tls"], opener=Wire(inbound=strip).opener,
                verify=tls["ca"]).login_mechanism == "API_KEY_PLAIN"
    assert make(sims["open-tls"], verify=tls["ca"]).login_mechanism == "SCRAM"


def test_pinned_scram_never_downgrades() -> None:
    credentials = Credentials("admin", api_key="1-k")
    credentials.used = "SCRAM"

    def call(method: str, params: list[Any]) -> Any:
        assert method == "auth.mechanism_choices", "nothing but the question may be sent"
        return ["API_KEY_PLAIN"]

    channel = LoginChannel(tls=True, verified=True)
    with pytest.raises(errors.AuthenticationError, match="downgrade"):
        login(call, credentials, "wss://nas/api/current", channel)


def test_explicit_scram_on_a_pre_26_server(truenas_sim_factory: Callable[..., TrueNASSimulator],
                                           make: Callable[..., Client]) -> None:
    sim = truenas_sim_factory(version="25.10")
    with pytest.raises(errors.AuthenticationError, match="does not offer it"):
        make(sim, api_key_mechanism="SCRAM")
    assert make(sim).login_mechanism == "API_KEY_PLAIN"  # loopback: the answer is trusted


def test_derived_key_logs_in_without_the_raw_key(sims: dict[str, TrueNASSimulator],
                                                 make: Callable[..., Client]) -> None:
    derived = make(sims["ws"]).derived_api_key
    assert derived is not None
    stored = json.loads(json.dumps(derived.to_dict()))
    assert split_api_key(sims["ws"].api_key)[1] not in json.dumps(stored)
    again = DerivedApiKey.from_dict(stored)
    assert "hidden" in repr(again) and stored["client_key"] not in repr(again)
    assert make(sims["ws"], api_key=again).login_mechanism == "SCRAM"
    with pytest.raises(errors.ConfigurationError, match="raw API key"):
        make(sims["ws"], api_key=again, api_key_mechanism="API_KEY_PLAIN")
    with pytest.raises(ValueError, match="malformed"):
        DerivedApiKey.from_dict({**stored, "salt": "%%%"})


def test_derived_key_after_a_reset(sims: dict[str, TrueNASSimulator],
                                   make: Callable[..., Client]) -> None:
    derived = make(sims["ws"]).derived_api_key
    assert derived is not None
    keys = derived.keys
    other_salt = DerivedApiKey(derived.key_id, type(keys)(b"x" * 16, keys.iterations,
                                                          keys.client_key, keys.stored_key,
                                                          keys.server_key))
    with pytest.raises(errors.AuthenticationError, match="reset or replaced"):
        make(sims["ws"], api_key=other_salt)


# -- the server-first message, checked before any proof is sent ---------------------------------

@pytest.mark.parametrize(("server_first", "message"), [
    ("r={nonce},s=c2FsdA==,i=4096", "iterations, outside"),
    ("r={nonce},s=c2FsdA==,i=99999999", "iterations, outside"),
    ("r=AAAA{nonce},s=c2FsdA==,i=50000", "did not echo the client nonce"),
    ("r={nonce},i=50000", "malformed"),
])
def test_server_first_is_checked(server_first: str, message: str) -> None:
    replies: list[Any] = [["SCRAM"]]

    def call(method: str, params: list[Any]) -> Any:
        if params and params[0].get("scram_type") == "CLIENT_FIRST_MESSAGE":
            nonce = params[0]["rfc_str"].rsplit("r=", 1)[1]
            combined = b64(unb64(nonce) + b"s" * 32)
            return {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
                    "rfc_str": server_first.format(nonce=combined), "user_info": None}
        if method == "auth.login_ex":
            raise AssertionError("no proof may be sent after a bad server-first message")
        return replies.pop(0)

    with pytest.raises(errors.AuthenticationError, match=f"server-first.*{message}"):
        login(call, Credentials("admin", api_key="1-secret"), "ws://127.0.0.1/api/current")


# -- against an exchange recorded with the official client's SCRAM code ------------------------

@pytest.mark.parametrize("variant", ["unbound", "bound"])
def test_recorded_exchange_of_the_official_client(variant: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = RECORDED["exchanges"][variant]
    monkeypatch.setattr("maas_dyn.truenas.scram.new_nonce",
                        lambda: unb64(RECORDED["client_nonce"]))
    binding = unb64(RECORDED["channel_binding"]) if variant == "bound" else None
    exchange = ScramExchange(RECORDED["username"], RECORDED["api_key"], binding)
    assert exchange.first()["rfc_str"] == recorded["client_first"]
    final = exchange.final({"scram_type": "SERVER_FIRST_RESPONSE",
                            "rfc_str": recorded["server_first"]})
    assert final["rfc_str"] == recorded["client_final"]
    exchange.verify({"scram_type": "SERVER_FINAL_RESPONSE", "rfc_str": recorded["server_final"]})
    assert exchange.derived is not None
    assert b64(exchange.derived.client_key) == RECORDED["client_key"]
    assert b64(exchange.derived.server_key) == RECORDED["server_key"]
    assert b64(exchange.derived.stored_key) == RECORDED["stored_key"]


def test_recorded_certificate_binding() -> None:
    assert b64(tls_server_end_point(unb64(RECORDED["certificate"]))) \
        == RECORDED["channel_binding"]


# -- the remaining refusals, each with its step and advice --------------------------------------

def _scripted(*answers: Any) -> Callable[[str, list[Any]], Any]:
    """A session answering mechanism_choices, then the login_ex calls, in order."""
    queue = list(answers)

    def call(method: str, params: list[Any]) -> Any:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return call


LOOPBACK = "ws://127.0.0.1/api/current"


@pytest.mark.parametrize(("answers", "credentials", "channel", "match"), [
    # 25.04.2 to 25.10.2 fail mechanism_choices before login: no SCRAM there.
    ([errors.CallError("'NoneType' object has no attribute 'may_create_auth_token'")],
     Credentials("admin", api_key="1-k", api_key_mechanism="SCRAM"), None,
     "no list"),
    ([["API_KEY_PLAIN"]],
     Credentials("admin", api_key=DerivedApiKey(1, derive_keys(b"k", b"salt", 1))),
     None, "only derived SCRAM keys"),
    ([["SCRAM"]], Credentials(api_key="1-k"), None, "needs the user"),
    ([["SCRAM"], errors.CallError("SCRAM: not allowed", errname="EOPNOTSUPP")],
     Credentials("admin", api_key="1-k"), None, r"client-first.*refused the SCRAM mechanism"),
    ([["SCRAM"], {"response_type": "EXPIRED"}], Credentials("admin", api_key="1-k"), None,
     "expired"),
    ([["SCRAM"], {"response_type": "SUCCESS"}], Credentials("admin", api_key="1-k"), None,
     "unexpected answer"),
    ([["SCRAM"], {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE",
                  "rfc_str": "v=AAAA"}], Credentials("admin", api_key="1-k"), None,
     "expected a SERVER_FIRST_RESPONSE"),
    ([["SCRAM"]], Credentials("admin", api_key="not-a-key"), None, "looks like <id>-<secret>"),
    ([["SCRAM"]], Credentials("ad,min", api_key="1-k"), None, "contains ','"),
    ([["SCRAM"]], Credentials("admin", api_key="1-k"),
     LoginChannel(tls=True, verified=True, certificate=b"\x30\x03\x02\x01\x00"),
     "cannot bind SCRAM to the server certificate"),
])
def test_refusals(answers: list[Any], credentials: Credentials, channel: LoginChannel | None,
                  match: str) -> None:
    with pytest.raises(errors.AuthenticationError, match=match) as caught:
        login(_scripted(*answers), credentials, LOOPBACK, channel)
    assert caught.value.hint
    assert "1-k" not in str(caught.value)


def test_unknown_mechanism_choice_is_a_configuration_error() -> None:
    with pytest.raises(errors.ConfigurationError, match="api_key_mechanism"):
        Credentials("admin", api_key="1-k", api_key_mechanism="PLAIN")
