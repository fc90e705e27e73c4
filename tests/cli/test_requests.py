"""The exact HTTP request of each command, as the official maas CLI sends it."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from maas_dyn.cli.maas.parser import find_action, find_handler
from maas_dyn.maas.describe import Description

from ..conftest import load_json, maas_fixture_files
from .conftest import API, Recorder, Result, json_reply, multipart

Parts = list[tuple[str, str | None, bytes]] | None

# argv after the profile -> method, URL after the API root, multipart parts (None: no body).
# Commands are split like a shell would; "FILE" is replaced by the path of a file holding b"file\ncontent".
CASES: list[tuple[str, str, str, Parts]] = [
    ("machines read", "GET", "/machines/", None),
    ("machines read hostname=a hostname=b", "GET", "/machines/?hostname=a&hostname=b", None),
    ("machines read hostname=a zone=z hostname=b", "GET",
     "/machines/?hostname=a&zone=z&hostname=b", None),
    ("machines read hostname=a+b&c=d", "GET", "/machines/?hostname=a%2Bb%26c%3Dd", None),
    ("machines read hostname@=FILE", "GET", "/machines/?hostname=file%0Acontent", None),
    ("users whoami", "GET", "/users/?op=whoami", None),
    ("events query level=DEBUG limit=10", "GET", "/events/?op=query&level=DEBUG&limit=10", None),
    ("machine power-parameters abc", "GET", "/machines/abc/?op=power_parameters", None),
    ("boot_resources is_importing", "GET", "/boot-resources/?op=is_importing", None),
    ("vlan read 5 0", "GET", "/fabrics/5/vlans/0/", None),
    ("vlan 5 0 read", "GET", "/fabrics/5/vlans/0/", None),
    ("partition read abc 3 7", "GET", "/nodes/abc/blockdevices/3/partition/7", None),
    ("license-key read ubuntu jammy", "GET", "/license-key/ubuntu/jammy", None),
    ("zone read my/zone", "GET", "/zones/my%2Fzone/", None),
    ("zone delete myzone", "DELETE", "/zones/myzone/", None),
    ("files delete filename=a", "DELETE", "/files/?filename=a", None),
    ("machine power-on abc", "POST", "/machines/abc/?op=power_on", None),
    ("machine deploy abc distro_series=jammy user_data@=FILE", "POST",
     "/machines/abc/?op=deploy",
     [("distro_series", None, b"jammy"), ("user_data", "user_data", b"file\ncontent")]),
    ("machines allocate tags=a cpu_count=2 tags=b", "POST", "/machines/?op=allocate",
     [("tags", None, b"a"), ("cpu_count", None, b"2"), ("tags", None, b"b")]),
    ("machines create architecture=amd64/generic mac_addresses=aa mac_addresses=bb "
     "power_type=manual", "POST", "/machines/",
     [("architecture", None, b"amd64/generic"), ("mac_addresses", None, b"aa"),
      ("mac_addresses", None, b"bb"), ("power_type", None, b"manual")]),
    ("machine release abc erase=true quick_erase=true", "POST", "/machines/abc/?op=release",
     [("erase", None, b"true"), ("quick_erase", None, b"true")]),
    ("machine update abc hostname=n2", "PUT", "/machines/abc/", [("hostname", None, b"n2")]),
    ("vlan update 5 0 name=x mtu=9000", "PUT", "/fabrics/5/vlans/0/",
     [("name", None, b"x"), ("mtu", None, b"9000")]),
    ("zones create name=z description=a=b", "POST", "/zones/",
     [("name", None, b"z"), ("description", None, b"a=b")]),
    ("tag update-nodes t add=a add=b remove=c", "POST", "/tags/t/?op=update_nodes",
     [("add", None, b"a"), ("add", None, b"b"), ("remove", None, b"c")]),
    ("files create filename=f content@=FILE", "POST", "/files/",
     [("filename", None, b"f"), ("content", "content", b"file\ncontent")]),
    ("sshkeys import lp:someone", "POST", "/account/prefs/sshkeys/?op=import",
     [("keysource", None, b"lp:someone")]),
    ("sshkeys import keysource=gh:other", "POST", "/account/prefs/sshkeys/?op=import",
     [("keysource", None, b"gh:other")]),
    ("account create-authorisation-token name=cli", "POST",
     "/account/?op=create_authorisation_token", [("name", None, b"cli")]),
    ("maas set-config name=ntp_servers 'value=a b'", "POST", "/maas/?op=set_config",
     [("name", None, b"ntp_servers"), ("value", None, b"a b")]),
    ("machine deploy abc not_documented=1", "POST", "/machines/abc/?op=deploy",
     [("not_documented", None, b"1")]),
    ("machine deploy abc -- key=-1", "POST", "/machines/abc/?op=deploy", [("key", None, b"-1")]),
    # MAAS names may contain "=": a word fills a path parameter the action still needs
    # unless its key is a documented parameter, and "--" makes the rest positional.
    ("file read a=b", "GET", "/files/a=b/", None),
    ("file read -- distro_series=x", "GET", "/files/distro_series=x/", None),
    ("vlan read 5 name=x", "GET", "/fabrics/5/vlans/name=x/", None),
]


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "upload.txt"
    path.write_bytes(b"file\ncontent")
    return path


@pytest.mark.parametrize(("command", "method", "url", "parts"), CASES,
                         ids=[c[0] for c in CASES])
def test_exact_request(cli: Callable[..., Result], upload: Path, command: str, method: str,
                       url: str, parts: Parts) -> None:
    argv = [word.replace("FILE", str(upload)) for word in shlex.split(command)]
    result = cli("admin", *argv)
    assert result.code == 0, result.err
    [(request, authorization)] = result.transport.requests
    assert (request.method, request.url) == (method, API + url)
    assert authorization is not None and authorization.startswith("OAuth ")
    if parts is None:
        assert request.body is None and "Content-Type" not in request.headers
    else:
        assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        assert multipart(request) == parts


def test_anonymous_only_action_is_sent_unsigned(cli: Callable[..., Result]) -> None:
    result = cli("admin", "machines", "is-action-in-progress")
    [(request, authorization)] = result.transport.requests
    assert request.url == API + "/machines/?op=is_action_in_progress"
    assert authorization is None


def test_boot_resources_create_uploads_in_chunks(cli: Callable[..., Result], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("maas_dyn.cli.maas.special.CHUNK_SIZE", 4)
    image = tmp_path / "root.tgz"
    image.write_bytes(b"0123456789")
    created = {"id": 9, "sets": {
        "20200101": {"files": {"old": {}, "other": {}}},
        "20250101": {"files": {"root.tgz": {"complete": False,
                                            "upload_uri": "/MAAS/api/2.0/boot-resources/9/upload/1/"}}},
    }}
    transport = Recorder()
    transport.queue.append(json_reply(created, 201))
    result = cli("admin", "boot-resources", "create", "name=custom/img", "title=T",
                 "architecture=amd64/generic", f"content@={image}", transport=transport)
    assert result.code == 0, result.err
    first, *chunks = [request for request, _ in transport.requests]
    assert (first.method, first.url) == ("POST", API + "/boot-resources/")
    assert multipart(first) == [  # sorted by name, content replaced by size and sha256
        ("architecture", None, b"amd64/generic"), ("name", None, b"custom/img"),
        ("sha256", None, hashlib.sha256(b"0123456789").hexdigest().encode()),
        ("size", None, b"10"), ("title", None, b"T"),
    ]
    assert [(c.method, c.url, c.body) for c in chunks] == [
        ("PUT", API + "/boot-resources/9/upload/1/", part) for part in (b"0123", b"4567", b"89")
    ]
    assert all(c.headers["Content-Type"] == "application/octet-stream" for c in chunks)
    assert json.loads(result.out)["id"] == 9


@pytest.mark.parametrize(("answer", "code", "puts"), [
    ({"sets": {"1": {"files": {"f": {"complete": True}}}}}, 0, 0),
    ({"sets": {}}, 1, 0),
    ({"sets": {"1": {"files": {}}}}, 1, 0),
    ([], 1, 0),
])
def test_boot_resources_create_edge_cases(cli: Callable[..., Result], upload: Path,
                                          answer: Any, code: int, puts: int) -> None:
    transport = Recorder(json_reply(answer))
    result = cli("admin", "boot-resources", "create", "name=x", f"content@={upload}",
                 transport=transport)
    assert result.code == code
    assert len(transport.requests) == 1 + puts
    if code:
        assert "does not identify the created resource's file" in result.err


def test_boot_resources_create_needs_a_content_file(cli: Callable[..., Result]) -> None:
    result = cli("admin", "boot-resources", "create", "name=x", "content=inline")
    assert result.code == 2 and "content@=FILE" in result.err
    assert result.transport.requests == []


# -- the whole 3.7 description ----------------------------------------------------------------

def _every_action(doc: Any) -> list[tuple[str, str]]:
    description = Description(doc)
    return [(h.cli_name, a.cli_name) for h in description.handlers.values()
            for a in h.actions.values()]


def test_every_action_of_3_7_sends_its_request(cli: Callable[..., Result], doc37: Any,
                                               upload: Path) -> None:
    description = Description(doc37)
    # One answer that also satisfies boot-resources create's upload step.
    transport = Recorder(json_reply({"sets": {"1": {"files": {"f": {"complete": True}}}}}))
    checked = 0
    for handler in description.handlers.values():
        values = {p: f"v{i}-{p}" for i, p in enumerate(handler.params)}
        path = handler.path.format(**{p: quote(v) for p, v in values.items()})
        for action in handler.actions.values():
            extra = [f"content@={upload}"] if handler.cli_name == "boot-resources" else []
            before = len(transport.requests)
            result = cli("admin", handler.cli_name, action.cli_name, *values.values(), *extra,
                         transport=transport)
            assert result.code == 0, (handler.cli_name, action.cli_name, result.err)
            request, authorization = transport.requests[before]
            query = f"?op={action.op}" if action.op else ""
            assert request.method == action.method
            assert request.url.split("?")[0] == "http://127.0.0.1:5240" + path
            assert request.url.startswith(f"http://127.0.0.1:5240{path}{query}")
            assert (authorization is None) is action.unsigned
            checked += 1
    assert checked == len(_every_action(doc37)) > 350


# -- names: the official CLI's, for every release in the fixtures -----------------------------

_WORDS = re.compile(r"([A-Z]*[a-z0-9]+|[A-Z]+)(?:(?=[^a-z0-9])|\Z)")


def _official_commands(doc: Any) -> list[tuple[str, str, str]]:
    """(handler command, action command, action name) as maascli's register_resources makes them."""
    resources = doc.get("resources") or [{"name": h["name"], "auth": h, "anon": None}
                                         for h in doc["handlers"]]
    found = []
    for resource in resources:
        handler = "-".join(w.lower() for w in _WORDS.findall(resource["name"])
                           if w.lower() != "handler")
        names: dict[str, None] = {}
        for side in (resource.get("auth"), resource.get("anon")):
            for action in (side or {}).get("actions", []):
                names.setdefault(action["name"])
        found += [(handler, "-".join(_WORDS.findall(name)), name) for name in names]
    return found


@pytest.mark.parametrize("path", maas_fixture_files(), ids=lambda p: p.name)
def test_official_names_resolve_in_every_fixture(path: Path) -> None:
    doc = load_json(path)
    description = Description(doc)
    commands = _official_commands(doc)
    assert commands
    for handler_word, action_word, wire_name in commands:
        handler = find_handler(description, handler_word)
        params = [f"p{i}" for i in range(len(handler.params))]
        target = find_action(handler, [action_word, *params])
        assert target.action.wire_name == wire_name
        assert target.path_args == tuple(params)


def test_python_style_names_are_accepted(cli: Callable[..., Result]) -> None:
    result = cli("admin", "block_devices", "read", "abc")
    assert result.transport.last.url == API + "/nodes/abc/blockdevices/"
    result = cli("admin", "MachineHandler", "power_parameters", "abc")
    assert result.transport.last.url == API + "/machines/abc/?op=power_parameters"




def test_an_upload_chunk_is_sent_raw_not_as_a_form(doc37: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.cli.maas import main
    from tests.maas.test_describe import _with_upload_handler

    from .conftest import KEY, Recorder

    ProfileStore().save(Profile("v38", API + "/", KEY, _with_upload_handler(doc37)))
    chunk = b"\x00\x01image bytes\r\n--not-a-boundary--\xff"
    (tmp_path / "chunk.bin").write_bytes(chunk)
    transport = Recorder()
    code = main(["v38", "boot-resource-file-upload", "update", "7", "9",
                 f"content@={tmp_path / 'chunk.bin'}", "--strict"], transport=transport)
    assert code == 0, capsys.readouterr().err
    request, authorization = transport.requests[0]
    assert (request.method, request.url) == ("PUT", API + "/boot-resources/7/upload/9/")
    assert request.body == chunk and request.headers["Content-Type"] == (
        "application/octet-stream")
    assert authorization is not None  # signed like every call
