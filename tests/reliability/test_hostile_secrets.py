"""Servers that echo secrets back: errors, logs and CLI output mask them (issue 17, B).

A hostile or merely careless server quotes the request in its error: the MAAS OAuth
``Authorization`` header (whose PLAINTEXT signature is ``&<token secret>``), the TrueNAS
login parameters. Each client's funnel masks its own secret values, in any form and
under any name, before the error reaches the caller, a log line or a CLI's stderr.
Cassettes hide password and key hashes (``unixhash``, ``smbhash``, ``keyhash``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from websockets.sync.server import ServerConnection, serve

from maas_dyn.errors import MaasDynError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.maas import MockTransport, RawResponse
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.retry import RetryPolicy

CONSUMER, TOKEN, SECRET = "consumerKEY123", "tokenKEY456789", "secretSECRET0123456789"
KEY = f"{CONSUMER}:{TOKEN}:{SECRET}"
PASSWORD = "Hunter2-Pass/word+x"
_MAAS_SECRETS = (TOKEN, SECRET, quote(SECRET), f"&{SECRET}")
_TRUENAS_SECRETS = (PASSWORD, quote(PASSWORD, safe=""), json.dumps(PASSWORD)[1:-1])


def _everything(error: BaseException) -> str:
    """Every text an error carries: str, repr, args and each attribute."""
    parts = [str(error), repr(error), repr(error.args)]
    parts += [repr(value) for value in vars(error).values()]
    return "\n".join(parts)


def _assert_hidden(text: str, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked"


# --- MAAS ------------------------------------------------------------------------------


def _echo(status: int, kind: str) -> MockTransport:
    def answer(request: PreparedRequest, authorization: str | None) -> RawResponse:
        echoed = f"Unrecognised signature: Authorization: {authorization} for {request.url}"
        if kind == "json":
            body = json.dumps({"__all__": [echoed], "authorization": authorization}).encode()
            headers = {"Content-Type": "application/json"}
        else:
            body = f"<html><title>{echoed}</title></html>".encode() if kind == "html" \
                else echoed.encode()
            headers = {"Content-Type": f"text/{kind}"}
        return RawResponse(status, {**headers, "X-Echo": str(authorization)}, body)

    return MockTransport(answer)


@pytest.mark.parametrize(("status", "kind"), [(401, "plain"), (400, "json"), (403, "html"),
                                              (500, "plain"), (400, "plain")])
def test_maas_error_echoing_the_oauth_header_is_masked(
        doc37: Any, status: int, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="maas_dyn")
    client = MAASClient("http://127.0.0.1:5240/MAAS/", api_key=KEY, description=doc37,
                        transport=_echo(status, kind), retry=RetryPolicy.never(),
                        cache=False)
    with pytest.raises(MaasDynError) as raised:
        client.users.whoami()
    _assert_hidden(_everything(raised.value), _MAAS_SECRETS)
    _assert_hidden(caplog.text, _MAAS_SECRETS)
    assert "Unrecognised signature" in str(raised.value)  # the server's words stay


def test_maas_cli_stderr_masks_an_echoed_header(
        doc37: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.cli.maas import main

    ProfileStore().save(Profile("admin", "http://127.0.0.1:5240/MAAS/api/2.0/", KEY, doc37))
    for kind in ("plain", "json"):
        code = main(["admin", "users", "whoami"], transport=_echo(400, kind))
        captured = capsys.readouterr()
        assert code != 0
        _assert_hidden(captured.out + captured.err, _MAAS_SECRETS)
        code = main(["admin", "users", "whoami", "--debug"], transport=_echo(401, kind))
        captured = capsys.readouterr()
        _assert_hidden(captured.out + captured.err, _MAAS_SECRETS)


# --- TrueNAS ---------------------------------------------------------------------------


@pytest.fixture
def echoing_nas() -> Iterator[str]:
    """A JSON-RPC server on 127.0.0.1 whose every error quotes the call it got."""
    def handle(ws: ServerConnection) -> None:
        for frame in ws:
            call = json.loads(frame)
            quoted = json.dumps(call["params"])
            ws.send(json.dumps({"jsonrpc": "2.0", "id": call["id"], "error": {
                "code": -32001, "message": f"Method call error: {frame}",
                "data": {"error": 22, "errname": "EINVAL",
                         "reason": f"[EINVAL] {call['method']}({quoted}) refused",
                         "trace": {"class": "ValueError", "formatted": f"locals: {call}",
                                   "repr": repr(call["params"])},
                         "extra": [["password", f"bad value {call['params']!r}", 22]]}}}))

    with serve(handle, "127.0.0.1", 0, compression=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/api/current"
        finally:
            server.shutdown()
            thread.join(10)


def test_truenas_login_error_echoing_the_password_is_masked(
        echoing_nas: str, caplog: pytest.LogCaptureFixture) -> None:
    from maas_dyn.truenas import Client

    caplog.set_level(logging.DEBUG, logger="maas_dyn")
    with pytest.raises(MaasDynError) as raised:
        Client(echoing_nas, username="root", password=PASSWORD, retry=RetryPolicy.never(),
               connect_timeout=10).call("core.ping")
    text = _everything(raised.value)
    assert "EINVAL" in text or "refused" in text  # the server's words stay
    _assert_hidden(text, _TRUENAS_SECRETS)
    _assert_hidden(caplog.text, _TRUENAS_SECRETS)


def test_truenas_cli_stderr_masks_an_echoed_password(
        echoing_nas: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.cli.truenas import main

    # `truenas-dyn login` logs in at once: the server's echo reaches the CLI's stderr.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    code = main(["login", "nas", echoing_nas, "--password", "-u", "root"])
    captured = capsys.readouterr()
    assert code != 0
    assert captured.err.strip()
    _assert_hidden(captured.out + captured.err, _TRUENAS_SECRETS)


# --- the shared masking step -------------------------------------------------------------


def test_secret_mask_hides_every_form_and_every_secret_named_pair() -> None:
    from maas_dyn._secrets import REDACTED, SecretMask

    mask = SecretMask([PASSWORD, None, "ab"])
    text = (f"{PASSWORD} {quote(PASSWORD, safe='')} {json.dumps(PASSWORD)} "
            'oauth_signature="&other" "token": "tok-123" password=pw1234 ab stays')
    masked = mask.text(text)
    _assert_hidden(masked, (*_TRUENAS_SECRETS, "&other", "tok-123", "pw1234"))
    assert masked.endswith("ab stays") and REDACTED in masked


# --- cassettes ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["unixhash", "smbhash", "keyhash"])
def test_cassettes_hide_password_and_key_hashes(field: str) -> None:
    from maas_dyn.testing.redact import REDACTED, Redactor

    value = "$6$rounds=656000$SaltSaltSalt$HashHashHashHashHash"
    record = {"id": 1, "username": "root", field: value, "sshpubkey": "ssh-ed25519 AAAA"}
    redactor = Redactor()
    redacted = redactor.result("user.query", [record])
    assert redacted[0][field] == REDACTED
    assert redacted[0]["sshpubkey"] == "ssh-ed25519 AAAA"
    assert value not in redactor.text(f"echoed {value} later")


def test_truenas_job_failure_quoting_its_arguments_is_masked() -> None:
    import types

    from maas_dyn._secrets import SecretMask
    from maas_dyn.errors import JobFailed
    from maas_dyn.truenas.jobs import Job

    host = types.SimpleNamespace(secret_mask=SecretMask([PASSWORD]))
    job = Job(host, 7, "user.create")  # type: ignore[arg-type]
    job._merge({"id": 7, "method": "user.create", "state": "FAILED",
                "error": f"[EINVAL] user.create: password {PASSWORD!r} refused",
                "exception": f"Traceback ...\n  data={{'password': {PASSWORD!r}}}",
                "exc_info": {"type": "CallError", "errname": "EINVAL"}})
    with pytest.raises(JobFailed) as raised:
        job._outcome()
    assert "refused" in str(raised.value)
    _assert_hidden(_everything(raised.value), _TRUENAS_SECRETS)
