"""Fuzz cassette files: TrueNAS JSON lines and MAAS vcrpy YAML, loaded and replayed.

A cassette is a file people edit and merge by hand. ``read_cassette`` documents
``ValueError`` for a file that is not a usable cassette; the replayer adds
``CassetteMismatchError``. Nothing else (``KeyError``, ``AttributeError``...) may escape.

MAAS cassettes start from the real ``cassettes/maas-deploy.yaml``, mutated as data
(interactions dropped, duplicated, swapped; request and response keys deleted or
retyped) and as bytes (truncated, invalid UTF-8, YAML syntax garbage, ``!!python/...``
tags), then replayed the way a user would: a client built offline from the shipped 3.7
description makes the recorded session's calls inside ``replay(client, path)``, with
every socket connection refused. Allowed: success, ``ValueError`` naming the file,
``CassetteMismatchError``, and the client's typed ``MaasDynError`` (a recorded answer
that is garbage fails as the same answer from a live server would). No YAML tag may run
code, and no replay may try to connect.
"""

from __future__ import annotations

import copy
import json
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from hypothesis import given
from hypothesis import strategies as st

from maas_dyn.errors import MaasDynError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.retry import RetryPolicy
from maas_dyn.testing import replay
from maas_dyn.testing.errors import CassetteMismatchError
from maas_dyn.testing.ws_cassette import WSReplayer, read_cassette
from tests.reliability.fuzzing import fuzz_settings, json_values, record

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "truenas-pool-create.jsonl"
LINES: list[dict[str, Any]] = [json.loads(line) for line in REAL.read_text().splitlines()]


@st.composite
def cassette_bytes(draw: st.DrawFn) -> bytes:
    lines: list[Any] = [dict(line) for line in LINES]
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "swap", "retype", "remove_key", "replace",
                                     "duplicate"]))
        line = lines[index]
        if kind == "drop" and len(lines) > 1:
            del lines[index]
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif kind == "duplicate":
            lines.insert(index, line)
        elif kind == "replace":
            lines[index] = draw(json_values)
        elif isinstance(line, dict) and line:
            key = draw(st.sampled_from(sorted(line)))
            if kind == "retype":
                line[key] = draw(json_values)
            else:
                del line[key]
    text = "\n".join(json.dumps(line) for line in lines).encode()
    tail = draw(st.sampled_from([b"", b"\n{", b"\n\xff\xfe", b"\n" + b"[" * 5000, b"\nnull"]))
    cut = draw(st.none() | st.integers(0, len(text)))
    return (text if cut is None else text[:cut]) + tail


def _load_and_connect(path: Path) -> None:
    read_cassette(path)
    replayer = WSReplayer(path)
    link = replayer.open("ws://127.0.0.1:1/api/current", True, 1.0)
    link.close()


@fuzz_settings
@given(cassette_bytes())
def test_broken_cassettes_fail_with_documented_errors(raw: bytes) -> None:
    record("truenas cassettes (loader + replayer)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.jsonl"
        path.write_bytes(raw)
        try:
            _load_and_connect(path)
        except CassetteMismatchError as exc:
            str(exc)
        except ValueError as exc:
            assert str(path) in str(exc), exc  # an unusable file is named


def test_the_real_cassette_loads() -> None:
    assert read_cassette(REAL)


# -- MAAS: vcrpy YAML cassettes, replayed by a client built offline --------------------------

MAAS_REAL = REAL.parent / "maas-deploy.yaml"
MAAS_TEXT = MAAS_REAL.read_text(encoding="utf-8")
MAAS_DATA: dict[str, Any] = yaml.safe_load(MAAS_TEXT)
SYSTEM_ID = "vkgfwy"  # the machine the recorded session deploys
POLLS = 4  # the session's recorded `machine read` polls
EXECUTED: list[str] = []  # a YAML tag that ran code would append here


def fuzz_cassette_executed(*args: Any, **kwargs: Any) -> str:
    """What the ``!!python/object/apply`` tags name: a safe loader never calls it."""
    EXECUTED.append(repr(args))
    return "executed"


_MAAS_ODD: list[Any] = [
    None, "", "200", 999, -1, 0, 2**70, True, 1.5, "é" * 3, "\x00\t\r\n", "ü" * 100_000,
    b"\xff\xfe", [], {}, [None], {"string": None}, ["x", 1], {1: 2},
]
_URIS = [
    "", "::::", "http://[::1", "http://127.0.0.1:99999/MAAS/api/2.0/machines/",
    "/MAAS/api/2.0/machines/?status=ready", "http://h\u00e9\u00e9/MAAS/api/2.0/machines/",
    "http://127.0.0.1/MAAS/api/2.0/machines/vkgfwy/?op=deploy&op=release&%ff=%zz",
    "http://127.0.0.1/" + "a/" * 50_000, "mailto:x", "http://user:pw@127.0.0.1/MAAS/",
]
_METHODS = ["", "get", "G E T", "DELETE", "PÖST", "GET\r\nX: y", "X" * 10_000]
_HEADER_NAMES: list[Any] = [
    "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Location",
    "Retry-After", "Authorization", "Set-Cookie", 1, None, "", "Bad Name", "Ü", "X\r\nY",
]
_HEADER_VALUES: list[Any] = [
    None, "text", 5, [], [5], [None], ["a", "b"], ["\u00e9"], ["x" * 100_000], [b"\xff"],
    ["application/json; charset=latin-9"], ["text/plain; charset=nope"], ["application/json"],
    ["multipart/form-data; boundary=\u00e9"], ["multipart/form-data; boundary="],
    ["gzip"], ["deflate"], ["br"], ["chunked"], ["-1"], ["99999999999999999999"], ["1"],
    ["OAuth garbage"], ['OAuth oauth_token="\u00e9'], ["a\r\nX-Injected: 1"], ["http://[::1"],
]
# Dropped into the raw YAML text: syntax errors, dangerous and unusual tags, odd bytes.
_GARBAGE: list[bytes] = [
    b"[", b"]", b"{", b"}", b"\t", b"\t- x", b": : :", b"\n- ", b"\x00", b"\xff\xfe\xfd",
    b"\xef\xbb\xbf", b"\xc3", b"'", b'"', b"&anchor", b"*nowhere", b"\n...\n", b"\n---\n",
    b"%YAML 9.9\n", b"\n? [a, b]\n: c\n", b" !!binary not-base64 ", b" !!int x ",
    b" !!python/object/apply:tests.reliability.test_fuzz_cassettes.fuzz_cassette_executed"
    b" [1] ",
    b"\n!!python/object/apply:tests.reliability.test_fuzz_cassettes.fuzz_cassette_executed"
    b" {args: [2]}\n",
    b" !!python/object/new:tests.reliability.test_fuzz_cassettes.Exploit {state: {a: 1}} ",
    b" !!python/object:tests.reliability.test_fuzz_cassettes.Exploit {state: {a: 1}} ",
    b" !!python/name:tests.reliability.test_fuzz_cassettes.fuzz_cassette_executed ",
    b" !!python/module:os ",
    b" !!python/object/new:_io.BytesIO {state: 5} ",
    b" !!python/object/new:_io.BytesIO {state: [[1, 2]]} ",
    b" !!python/object/new:_io.BytesIO x ",
    b" !!python/object/apply:builtins.iter {args: 5} ",
    b" !!python/object/apply:builtins.iter {args: [[1, 2]]} ",
    b" !!python/tuple [a, b] ", b" !!python/str x ", b" !!set {a} ", b" !!omap [a: 1] ",
    b" &loop [*loop] ", b"[" * 5000, b"{a: " * 3000, b"[" * 3000 + b"]" * 3000,
]
# Whole files that are YAML, or nearly, but no cassette.
_WHOLE: list[bytes] = [
    b"", b" \n\t\n", b"null", b"[]", b"42", b"interactions: 5", b"interactions: [5]",
    b"interactions: []\nmetadata: 5", b"interactions: []\nversion: 1", b"\xef\xbb\xbf",
    b"[" * 3000 + b"]" * 3000, b"interactions: " + b"[" * 3000 + b"]" * 3000,
    b"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\ninteractions: [*c, *c, *c, *c, *c, *c]",
    b"interactions: &i [{request: {method: GET, uri: /, body: null, headers: {}}, "
    b"response: *i}]",
]


class Exploit:
    """Named by ``!!python/object`` tags: instantiating it records that code ran."""

    def __init__(self) -> None:
        EXECUTED.append("Exploit")  # pragma: no cover - only if a loader were unsafe

    def __setstate__(self, state: Any) -> None:
        EXECUTED.append("Exploit")  # pragma: no cover - only if a loader were unsafe


def _odd(draw: st.DrawFn) -> Any:
    return draw(st.sampled_from(_MAAS_ODD) | json_values | st.binary(max_size=20))


def _mutate_part(draw: st.DrawFn, part: dict[str, Any], side: str) -> None:
    if side == "request":
        key = draw(st.sampled_from(["method", "uri", "body", "headers", "*"]))
        if key == "method":
            part[key] = draw(st.sampled_from(_METHODS)) if draw(st.booleans()) else _odd(draw)
            return
        if key == "uri":
            part[key] = draw(st.sampled_from(_URIS)) if draw(st.booleans()) else _odd(draw)
            return
    else:
        key = draw(st.sampled_from(["status", "code", "message", "headers", "body",
                                    "string", "*"]))
        if key in ("code", "message"):
            status = part.get("status")
            if isinstance(status, dict):
                if draw(st.booleans()):
                    status[key] = draw(st.sampled_from([None, "200", "abc", 999, 99, 1000,
                                                        -200, 2.5, True, "", "ÖK", 600]))
                else:
                    status.pop(key, None)
            return
        if key == "string":
            body = part.get("body")
            if isinstance(body, dict):
                choice = draw(st.sampled_from(["missing", "bytes", "str", "odd", "json"]))
                if choice == "missing":
                    body.pop("string", None)
                elif choice == "bytes":
                    body["string"] = draw(st.binary(max_size=30)) + b"\xff"
                elif choice == "str":
                    body["string"] = draw(st.text(max_size=30))
                elif choice == "json":
                    body["string"] = json.dumps(draw(json_values))
                else:
                    body["string"] = _odd(draw)
            return
    if key == "headers":
        headers = part.get(key)
        if isinstance(headers, dict) and draw(st.integers(0, 4)):
            name = draw(st.sampled_from(sorted(headers, key=str) + _HEADER_NAMES))
            headers[name] = draw(st.sampled_from(_HEADER_VALUES))
        else:
            part[key] = draw(st.sampled_from([None, "Content-Type: x", [], [["a", "b"]], 5]))
        return
    if key == "*":
        key = draw(st.sampled_from(sorted(part))) if part else "body"
    if draw(st.booleans()):
        part.pop(key, None)
    else:
        part[key] = _odd(draw)


_CODES = [100, 101, 200, 201, 204, 206, 301, 302, 304, 307, 400, 401, 403, 404, 409, 410,
          418, 429, 500, 502, 503, 504, 599, 600, 999]
_BODIES: list[bytes] = [
    b"", b"null", b"[]", b"{}", b"{", b'{"system_id": 5}', b'"text"', b"<html><title>x</title>",
    b"\xff\xfe\x00", b"[" * 100_000, b"1" * 100_000, b'{"__all__": ["bad"]}', b"\x1f\x8b\x08",
    b"\xef\xbb\xbf[]", "\u00e9\u4e2d".encode(),
]


def _garbage_reply(draw: st.DrawFn) -> dict[str, Any]:
    """A reply well formed as a cassette entry that a broken server might have sent."""
    headers: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([n for n in _HEADER_NAMES if isinstance(n, str) and n]))
        headers[name] = draw(st.sampled_from([v for v in _HEADER_VALUES if isinstance(v, list)
                                              and all(isinstance(x, str) for x in v)]))
    body: bytes = draw(st.sampled_from(_BODIES) | st.binary(max_size=40)
                       | st.builds(lambda v: json.dumps(v).encode(), json_values))
    return {"status": {"code": draw(st.sampled_from(_CODES)),
                       "message": draw(st.sampled_from(["OK", "", "Ünknown", "x" * 1000]))},
            "headers": headers,
            "body": {"string": body if draw(st.booleans()) else body.decode("latin-1")}}


@st.composite
def maas_cassette_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(_WHOLE))
    data: Any = copy.deepcopy(MAAS_DATA)
    interactions: list[Any] = data["interactions"]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["drop", "duplicate", "swap", "replace", "request",
                                     "response", "request", "response", "top", "reply",
                                     "reply"]))
        if not interactions:
            break
        index = draw(st.integers(0, len(interactions) - 1))
        item = interactions[index]
        if kind == "drop":
            del interactions[index]
        elif kind == "duplicate":
            interactions.insert(index, copy.deepcopy(item))
        elif kind == "swap":
            other = draw(st.integers(0, len(interactions) - 1))
            interactions[index], interactions[other] = interactions[other], interactions[index]
        elif kind == "replace":
            interactions[index] = _odd(draw)
        elif kind == "reply" and isinstance(item, dict):
            item["response"] = _garbage_reply(draw)
        elif kind == "top":
            key = draw(st.sampled_from(["interactions", "version", "metadata", "extra"]))
            data[key] = _odd(draw)
            if key != "interactions" and draw(st.booleans()):
                data.pop(key, None)
            if draw(st.integers(0, 9)) == 0:
                data = _odd(draw)
            break
        elif isinstance(item, dict):
            part = item.get(kind)
            if isinstance(part, dict):
                _mutate_part(draw, part, kind)
            elif draw(st.booleans()):
                item.pop(kind, None)
            else:
                item[kind] = _odd(draw)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans())).encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_GARBAGE)) + text[at:]
    cut = draw(st.none() | st.none() | st.integers(0, len(text)))
    return text if cut is None else text[:cut]


@contextmanager
def _no_sockets() -> Iterator[list[Any]]:
    """Refuse, and note, every connection attempt: a replay must never open one."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("the network is off in this test")

    with mock.patch.object(socket.socket, "connect", refuse), \
            mock.patch.object(socket.socket, "connect_ex", refuse), \
            mock.patch.object(socket, "create_connection", refuse):
        yield attempts


def _replay_deploy(path: Path) -> None:
    """Replay ``path`` as a user would: an offline client, the recorded session's calls."""
    client = MAASClient.from_release("3.7", url="http://127.0.0.1:9/MAAS/",
                                     api_key="replay:replay-token:replay-secret",
                                     cache=False, retry=RetryPolicy(total=0))
    with replay(client, path):
        client.machines.read(status="ready")
        client.machine.deploy(SYSTEM_ID, distro_series="jammy")
        for _ in range(POLLS):
            client.machine.read(SYSTEM_ID)


@fuzz_settings
@given(maas_cassette_bytes())
def test_broken_maas_cassettes_fail_with_documented_errors(raw: bytes) -> None:
    record("maas cassettes (loader + replayer)")
    EXECUTED.clear()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.yaml"
        path.write_bytes(raw)
        with _no_sockets() as attempts:
            try:
                _replay_deploy(path)
            except (CassetteMismatchError, MaasDynError) as exc:
                str(exc)
            except ValueError as exc:  # an unusable file: the message names it
                assert path.name in str(exc), repr(exc)
        assert attempts == [], "a replay tried to open a connection"
    assert EXECUTED == [], "a YAML tag in a cassette ran code"


def test_the_real_maas_cassette_replays() -> None:
    with _no_sockets() as attempts:
        _replay_deploy(MAAS_REAL)
    assert attempts == []
