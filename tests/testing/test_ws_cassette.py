"""Tests of TrueNAS cassettes (maas_dyn/testing/ws_cassette.py), against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.testing import CassetteMismatchError, record, replay
from maas_dyn.testing._peer import PeerLink
from maas_dyn.testing.ws_cassette import WSRecorder, read_cassette
from maas_dyn.truenas import Client

REPLAY_URL = "ws://127.0.0.1:9/api/current"


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def offline(truenas_sim: Any) -> Iterator[Client]:
    # The simulator's administrator has its name as password: redacting the password
    # redacts the name too, so a replay logs in with the same password to match.
    with Client.from_release("25.10", url=REPLAY_URL, username=truenas_sim.username,
                             password=truenas_sim.password, cache=False) as client:
        yield client


def session(client: Client, raise_alert: Any) -> tuple[Any, ...]:
    """Calls, an error, a subscription with an event, and a job: what the cassette keeps."""
    version = client.system.version()
    with pytest.raises(errors.ValidationError) as failed:
        client.pool.dataset.create({"name": "nowhere/child"})
    with client.events("alert.list", timeout=10) as stream:
        raise_alert()
        alert = next(stream)
    client.ping()  # keep-alive pings are neither recorded nor expected
    wiped = client.call("disk.wipe", "sdd", "QUICK", job=True)
    return version, failed.value.errors, alert.fields["klass"], wiped


def test_record_then_replay_a_session(truenas_client: Client, truenas_sim: Any,
                                      offline: Client, tmp_path: Path) -> None:
    cassette = tmp_path / "session.jsonl"
    with record(truenas_client, cassette):
        recorded = session(truenas_client, lambda: truenas_sim.raise_alert("CassetteAlert",
                                                                           "recorded"))
    kinds = [entry["kind"] for entry in entries(cassette)]
    assert kinds[:3] == ["cassette", "connect", "call"]
    assert {"error", "notification", "job", "result"} <= set(kinds)
    assert "core.ping" not in cassette.read_text()
    assert truenas_client.system.version() == recorded[0]  # its own opener is back
    with replay(offline, cassette):
        assert session(offline, lambda: None) == recorded


def test_replay_fails_loudly_on_a_different_session(truenas_client: Client, offline: Client,
                                                    tmp_path: Path) -> None:
    cassette = tmp_path / "version.jsonl"
    with record(truenas_client, cassette):
        truenas_client.system.version()
    with pytest.raises(CassetteMismatchError, match="expects call system.version"), \
            replay(offline, cassette):
        offline.system.info()
    with pytest.raises(CassetteMismatchError, match="1 recorded call"), \
            replay(offline, cassette):
        offline.ping()  # connects and logs in, but never calls system.version
    with pytest.raises(CassetteMismatchError, match="the end of the cassette"), \
            replay(offline, cassette):
        offline.system.version()
        offline.system.version()
    with pytest.raises(CassetteMismatchError, match="opened a connection"), \
            replay(offline, cassette):
        offline.system.version()
        offline.opener = offline.opener  # drops the connection: the next call reconnects
        offline.system.version()
    twice = tmp_path / "twice.jsonl"
    with record(truenas_client, twice):
        truenas_client.system.version()
        truenas_client.opener = truenas_client.opener  # a new connection, in the cassette
        truenas_client.system.version()
    with pytest.raises(CassetteMismatchError, match="expects a new connection"), \
            replay(offline, twice):
        offline.system.version()
        offline.system.version()
    stranger = Client.from_release("25.10", url=REPLAY_URL, username="stranger",
                                   password="pw-stranger", cache=False)
    with pytest.raises(CassetteMismatchError, match="auth.login_ex"), \
            replay(stranger, cassette):
        stranger.system.version()
    stranger.close()


def test_cassette_files_are_checked(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(FileNotFoundError, match="record one first"):
        read_cassette(missing)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "cassette", "format": "other", "version": 1}\n')
    with pytest.raises(ValueError, match="is not a version 1"):
        read_cassette(bad)
    header = '{"kind": "cassette", "format": "maas_dyn.truenas", "version": 1}\n'
    bad.write_text(header + '{"kind": "mystery"}\n')
    with pytest.raises(ValueError, match="unknown kind: mystery"):
        read_cassette(bad)
    bad.write_text(header + '{"kind": "result", "n": 1, "result": null}\n')
    with pytest.raises(ValueError, match="answers call 1 before it is made"):
        read_cassette(bad)
    # Found by the cassette fuzzer: these escaped as decode errors naming no file.
    bad.write_bytes(header.encode() + b'{"kind": "\xff\xfe"}\n')
    with pytest.raises(ValueError, match=f"{bad} is not UTF-8 text"):
        read_cassette(bad)
    bad.write_text(header + '{"kind": \n')
    with pytest.raises(ValueError, match=f"{bad} holds a line that is not JSON"):
        read_cassette(bad)


def test_legacy_protocol_and_other_objects_are_refused(tmp_path: Path) -> None:
    with Client.from_release("25.10", url="ws://127.0.0.1:9/websocket", cache=False) as legacy:
        with pytest.raises(errors.ConfigurationError, match="legacy"):
            record(legacy, tmp_path / "x.jsonl").__enter__()
        replaying = replay(legacy, tmp_path / "x.jsonl")
        with pytest.raises(FileNotFoundError):
            replaying.__enter__()
    with pytest.raises(TypeError, match="not object"):
        record(object(), tmp_path / "x.jsonl").__enter__()


def test_a_closed_peer_link_refuses_frames() -> None:
    link = PeerLink(lambda *args: None)
    link.close()
    with pytest.raises(errors.ConnectionClosed):
        link.send('{"jsonrpc": "2.0", "id": 1, "method": "core.ping", "params": []}')
    with pytest.raises(errors.ConnectionClosed):
        link.recv()


class _Link:
    """A Link that replays canned frames, for the recorder's odd cases."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)

    def recv(self) -> str:
        return self.frames.pop(0)

    def close(self) -> None:
        self.frames.clear()

    def abort(self) -> None:
        self.frames.clear()


def test_the_recorder_skips_what_is_not_part_of_a_session(tmp_path: Path) -> None:
    recorder = WSRecorder(tmp_path / "odd.jsonl")
    inner = _Link(["not json", "[1, 2]", '{"jsonrpc": "2.0", "id": 99, "result": 1}',
                   '{"jsonrpc": "2.0", "id": 1, "result": "echo KNOWN-SECRET-1"}'])
    link = recorder.wrap(lambda url, verify, timeout: inner)(REPLAY_URL, True, 1.0)
    link.send('{"jsonrpc": "2.0", "method": "collection_update"}')  # no id: not a call
    link.send('{"jsonrpc": "2.0", "id": 1, "method": "auth.login_with_token", '
              '"params": ["KNOWN-SECRET-1"]}')
    received = [link.recv() for _ in range(4)]
    assert received[:2] == ["not json", "[1, 2]"]
    link.close()
    link.abort()
    assert inner.sent and not inner.frames
    saved = entries(recorder.save())
    assert [entry["kind"] for entry in saved] == ["cassette", "connect", "call", "result"]
    assert saved[-2]["params"] == ["<redacted>"]
    assert saved[-1]["result"] == "echo <redacted>"  # scrubbed where it reappears
