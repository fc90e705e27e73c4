"""The simulator's server side of SCRAM (sim/truenas/services/auth.py) and --auth-mechanisms."""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import websocket

from maas_dyn._scram import derive_keys, unb64
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.cli import build_parser
from maas_dyn.truenas.scram import ScramExchange
from tests.sim.truenas.conftest import TIMEOUT, RpcClient

ITERATIONS = 50_000
RECORDED = json.loads((Path(__file__).parents[2] / "fixtures" / "truenas"
                       / "scram-sha512-exchange-api-client.json").read_text())
AUTH_ERR = {"response_type": "AUTH_ERR"}


@pytest.fixture
def sim26() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(version="26.0", speed=200.0, scram_iterations=ITERATIONS) as sim:
        yield sim


@pytest.fixture
def rpc(sim26: TrueNASSimulator) -> Iterator[RpcClient]:
    client = RpcClient(sim26.url)
    yield client
    client.close()


def _scram(kind: str, text: str) -> dict[str, str]:
    return {"mechanism": "SCRAM", "scram_type": kind, "rfc_str": text}


def test_mechanism_choices_follow_the_release() -> None:
    with TrueNASSimulator(version="26.0", speed=200.0) as sim:
        assert sim.auth_mechanisms == ("API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN", "SCRAM")
    with TrueNASSimulator(version="25.10", speed=200.0) as sim:
        assert "SCRAM" not in sim.auth_mechanisms
    with pytest.raises(ValueError, match="does not offer the login mechanism"):
        TrueNASSimulator(version="25.10", auth_mechanisms=["SCRAM"])


def test_a_hardened_box_accepts_only_its_mechanisms() -> None:
    with TrueNASSimulator(version="26.0", speed=200.0, auth_mechanisms=["SCRAM"],
                          scram_iterations=ITERATIONS) as sim:
        client = RpcClient(sim.url)
        assert client.call("auth.mechanism_choices") == ["SCRAM"]
        for data in ({"mechanism": "PASSWORD_PLAIN", "username": sim.username,
                      "password": sim.password},
                     {"mechanism": "API_KEY_PLAIN", "username": sim.username,
                      "api_key": sim.api_key}):
            error = client.error("auth.login_ex", data)
            assert error["data"]["errname"] in ("EOPNOTSUPP", "ENOTSUP")
            assert "not supported at current authenticator level" in error["data"]["reason"]
        exchange = ScramExchange(sim.username, sim.api_key, None)
        reply = client.call("auth.login_ex", exchange.first())
        reply = client.call("auth.login_ex", exchange.final(reply))
        exchange.verify(reply)
        assert reply["user_info"]["pw_name"] == sim.username
        assert client.call("auth.me")["pw_name"] == sim.username
        client.close()


def test_final_without_first_is_a_call_error(rpc: RpcClient) -> None:
    error = rpc.error("auth.login_ex", _scram("CLIENT_FINAL_MESSAGE", "c=biws,r=x,p=y"))
    assert "SCRAM authentication is not in progress" in error["data"]["reason"]


def test_another_mechanism_abandons_the_conversation(sim26: TrueNASSimulator,
                                                     rpc: RpcClient) -> None:
    exchange = ScramExchange(sim26.username, sim26.api_key, None)
    reply = rpc.call("auth.login_ex", exchange.first())
    assert rpc.call("auth.login_ex", {"mechanism": "PASSWORD_PLAIN", "username": "x",
                                      "password": "y"}) == AUTH_ERR
    error = rpc.error("auth.login_ex", exchange.final(reply))
    assert "not in progress" in error["data"]["reason"]


@pytest.mark.parametrize("first", [
    "p=tls-server-end-point,,n={user}:{key},r={nonce}",   # binding without TLS
    "p=tls-unique,,n={user}:{key},r={nonce}",              # a binding it does not serve
    "n,,n={user}:0,r={nonce}",                             # password SCRAM: not in 26.0
    "n,,n=nobody:{key},r={nonce}",                         # not the key's user
    "n,a=other,n={user}:{key},r={nonce}",                  # an authzid
    "n,,n={user}:{key},r=c2hvcnQ=",                        # a nonce of the wrong size
])
def test_first_messages_that_fail(sim26: TrueNASSimulator, rpc: RpcClient, first: str) -> None:
    key_id = sim26.api_key.split("-")[0]
    nonce = "A" * 43 + "="
    text = first.format(user=sim26.username, key=key_id, nonce=nonce)
    assert rpc.call("auth.login_ex", _scram("CLIENT_FIRST_MESSAGE", text)) == AUTH_ERR


def test_a_revoked_key_fails(sim26: TrueNASSimulator, rpc: RpcClient) -> None:
    key_id = int(sim26.api_key.split("-")[0])
    with sim26.state.lock:
        sim26.state.tables["api_key"][key_id]["revoked"] = True
    exchange = ScramExchange(sim26.username, sim26.api_key, None)
    assert rpc.call("auth.login_ex", exchange.first()) == AUTH_ERR


def test_replays_the_official_clients_recorded_exchange(
        sim26: TrueNASSimulator, rpc: RpcClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The key, salt and server nonce of the recording, so that the simulator must answer
    # byte for byte what the official client's code computed.
    key_id, secret = RECORDED["api_key"].split("-", 1)
    state = sim26.state
    with state.lock:
        record = copy.deepcopy(next(iter(state.tables["api_key"].values())))
        record.update(id=int(key_id), username=RECORDED["username"])
        state.tables["api_key"][int(key_id)] = record
        state.api_key_secrets[int(key_id)] = secret
        state.api_key_scram[int(key_id)] = (secret, derive_keys(
            secret.encode(), unb64(RECORDED["salt"]), RECORDED["iterations"]))
    monkeypatch.setattr("maas_dyn.sim.truenas.services.auth.secrets.token_bytes",
                        lambda size: unb64(RECORDED["server_nonce"])[:size])
    recorded = RECORDED["exchanges"]["unbound"]
    reply = rpc.call("auth.login_ex", _scram("CLIENT_FIRST_MESSAGE", recorded["client_first"]))
    assert reply == {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
                     "rfc_str": recorded["server_first"], "user_info": None}
    reply = rpc.call("auth.login_ex", _scram("CLIENT_FINAL_MESSAGE", recorded["client_final"]))
    assert (reply["scram_type"], reply["rfc_str"]) == ("SERVER_FINAL_RESPONSE",
                                                       recorded["server_final"])
    assert rpc.call("auth.me")["pw_name"] == RECORDED["username"]


def test_a_tampered_proof_fails(sim26: TrueNASSimulator, rpc: RpcClient) -> None:
    exchange = ScramExchange(sim26.username, sim26.api_key, None)
    final = exchange.final(rpc.call("auth.login_ex", exchange.first()))
    final["rfc_str"] = final["rfc_str"][:-4] + ("AAA=" if not final["rfc_str"].endswith("AAA=")
                                                else "BBB=")
    assert rpc.call("auth.login_ex", final) == AUTH_ERR


def _tls_call(url: str, *messages: dict[str, Any]) -> list[Any]:
    ws = websocket.create_connection(url, timeout=TIMEOUT, sslopt={"cert_reqs": ssl.CERT_NONE})
    try:
        replies = []
        for number, data in enumerate(messages, 1):
            ws.send(json.dumps({"jsonrpc": "2.0", "id": number, "method": "auth.login_ex",
                                "params": [data]}))
            replies.append(json.loads(ws.recv())["result"])
        return replies
    finally:
        ws.close()


def test_over_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem"))
    with TrueNASSimulator(version="26.0", speed=200.0, scram_iterations=ITERATIONS,
                          tls_cert=str(tmp_path / "server.pem")) as sim:
        assert sim.url.startswith("wss://") and sim.base_url.startswith("https://")
        key_id = sim.api_key.split("-")[0]
        # "y": the client could bind but believes the server cannot; over TLS this server
        # can, so the flag was tampered with (RFC 5802 section 6).
        first = f"y,,n={sim.username}:{key_id},r={'A' * 43}="
        assert _tls_call(sim.url, _scram("CLIENT_FIRST_MESSAGE", first)) == [AUTH_ERR]
        # Unbound SCRAM stays possible over TLS (binding is the client's choice).
        exchange = ScramExchange(sim.username, sim.api_key, None)
        ws = websocket.create_connection(sim.url, timeout=TIMEOUT,
                                         sslopt={"cert_reqs": ssl.CERT_NONE})
        try:
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.login_ex",
                                "params": [exchange.first()]}))
            reply = json.loads(ws.recv())["result"]
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "auth.login_ex",
                                "params": [exchange.final(reply)]}))
            exchange.verify(json.loads(ws.recv())["result"])
        finally:
            ws.close()


def test_cli_switches() -> None:
    args = build_parser().parse_args(["--version", "26.0", "--auth-mechanisms", "SCRAM, TOKEN_PLAIN",
                                      "--scram-iterations", "60000"])
    assert args.auth_mechanisms == ["SCRAM", "TOKEN_PLAIN"]
    assert args.scram_iterations == 60000 and args.tls_cert is None
