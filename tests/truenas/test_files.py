"""Uploads and downloads over HTTP, with the transfer tokens kept secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from maas_dyn import errors
from maas_dyn._secrets import protect_urllib3_logs
from maas_dyn.truenas import Client
from maas_dyn.truenas.files import download, upload
from tests.truenas.fakes import FakeServer

BASE = "https://nas.test"
SECRET = "DLTOKEN-SECRET-999"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _parts(request: Any) -> bytes:
    return request.body if isinstance(request.body, bytes) else request.body.encode()


def test_upload_sends_data_then_file(http: responses.RequestsMock, tmp_path: Path) -> None:
    http.post(BASE + "/_upload", json={"job_id": 12})
    source = tmp_path / "hello.txt"
    source.write_bytes(b"file contents")
    with requests.Session() as session:
        job_id = upload(session, BASE, "TOK", "filesystem.put", ["/mnt/tank/x"], source=source)
    assert job_id == 12
    sent = http.calls[0].request
    assert sent.headers["Authorization"] == "Token TOK"
    body = _parts(sent)
    assert body.index(b'name="data"') < body.index(b'name="file"; filename="hello.txt"')
    assert b'{"method": "filesystem.put", "params": ["/mnt/tank/x"]}' in body
    assert b"file contents" in body


def test_upload_from_a_file_object(http: responses.RequestsMock) -> None:
    http.post(BASE + "/_upload", json={"job_id": 3})
    with requests.Session() as session:
        assert upload(session, BASE, "T", "m", [], source=io.BytesIO(b"x"), filename="n") == 3
        assert upload(session, BASE, "T", "m", [], source=io.BytesIO(b"x")) == 3
    assert b'filename="upload"' in _parts(http.calls[1].request)


@pytest.mark.parametrize(("status", "body", "error"), [
    (403, "Invalid token", errors.AuthenticationError),
    (401, "nope", errors.AuthenticationError),
    (500, "boom", errors.TrueNASAPIError),
    (200, "not json", errors.TrueNASAPIError),
])
def test_upload_errors(http: responses.RequestsMock, status: int, body: str,
                       error: type[Exception]) -> None:
    http.post(BASE + "/_upload", body=body, status=status)
    with requests.Session() as session, pytest.raises(error) as caught:
        upload(session, BASE, "SECRET-TOKEN", "m", [], source=io.BytesIO(b"x"))
    assert "SECRET-TOKEN" not in str(caught.value)


def test_upload_connection_failure(http: responses.RequestsMock) -> None:
    http.post(BASE + "/_upload", body=requests.ConnectionError("refused"))
    with requests.Session() as session, pytest.raises(errors.ConnectionFailed) as caught:
        upload(session, BASE, "SECRET-TOKEN", "m", [], source=io.BytesIO(b"x"))
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_download_to_a_path_and_a_file_object(http: responses.RequestsMock,
                                              tmp_path: Path) -> None:
    http.get(BASE + "/_download/4", body=b"x" * 100_000)
    with requests.Session() as session:
        target = tmp_path / "config.tar"
        assert download(session, BASE, f"/_download/4?auth_token={SECRET}", target) == 100_000
        assert target.read_bytes() == b"x" * 100_000
        buffer = io.BytesIO()
        assert download(session, BASE, f"{BASE}/_download/4?auth_token={SECRET}", buffer) \
            == 100_000


def test_download_errors_hide_the_token(http: responses.RequestsMock) -> None:
    http.get(BASE + "/_download/4", body="Invalid token " + SECRET, status=403)
    http.get(BASE + "/_download/5", body=requests.ConnectionError(
        f"Max retries exceeded with url: /_download/5?auth_token={SECRET}"))
    http.get(BASE + "/_download/6", body=requests.Timeout("read timed out"))
    with requests.Session() as session:
        with pytest.raises(errors.AuthenticationError) as denied:
            download(session, BASE, f"/_download/4?auth_token={SECRET}", io.BytesIO())
        with pytest.raises(errors.ConnectionFailed) as failed:
            download(session, BASE, f"/_download/5?auth_token={SECRET}", io.BytesIO())
        with pytest.raises(errors.Timeout) as slow:
            download(session, BASE, f"/_download/6?auth_token={SECRET}", io.BytesIO())
    for caught in (denied, failed, slow):
        text = f"{caught.value} {caught.value.url} {caught.value!r}"
        assert SECRET not in text and "auth_token=<redacted>" in text
    assert failed.value.__context__ is None


def test_urllib3_request_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    protect_urllib3_logs()
    protect_urllib3_logs()  # once only
    logger = logging.getLogger("urllib3.connectionpool")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.DEBUG, "urllib3.connectionpool"):
        logger.debug('%s://%s:%s "%s %s %s" %s %s', "https", "nas", 443, "GET",
                     f"/_download/1?auth_token={SECRET}", "HTTP/1.1", 200, None)
        logger.debug(f"plain /_download/1?auth_token={SECRET}")
    assert SECRET not in caplog.text and caplog.text.count("auth_token=<redacted>") == 2


# -- through the client ------------------------------------------------------------------------

def test_client_upload_and_download(server: FakeServer, make_client: Callable[..., Client],
                                    http: responses.RequestsMock, tmp_path: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    def accepted(request: Any) -> tuple[int, dict[str, str], str]:
        job = server.start_job("filesystem.put")
        server.update_job(job, emit=False, state="SUCCESS", result=True)
        return 200, {}, json.dumps({"job_id": job})

    http.add_callback(responses.POST, BASE + "/_upload", callback=accepted)
    http.get(re.compile(BASE + r"/_download/\d+"), body=b"TARDATA")

    def core_download(method: str, args: list[Any], filename: str, *rest: Any) -> Any:
        job = server.start_job(method)
        server.update_job(job, emit=False, state="SUCCESS", result=None)
        return [job, f"/_download/{job}?auth_token={SECRET}"]

    server.handlers["core.download"] = core_download
    client = make_client()
    source = tmp_path / "x.bin"
    source.write_bytes(b"payload")
    with caplog.at_level(logging.DEBUG):
        assert client.upload("filesystem.put", ["/mnt/tank/x.bin"], source) is True
        job = client.upload("filesystem.put", ["/mnt/tank/y"], source, wait=False)
        assert job.wait(timeout=5) is True
        target = tmp_path / "config.tar"
        assert client.download("config.save", [{}], "config.tar", target) == 7
    assert target.read_bytes() == b"TARDATA"
    token_calls = [p for m, p in server.calls if m == "auth.generate_token"]
    assert token_calls[0] == [300, {}, True, True]  # single-use, bound to our address
    assert http.calls[0].request.headers["Authorization"] == "Token TOKEN-SECRET-123"
    assert "TOKEN-SECRET-123" not in caplog.text and SECRET not in caplog.text


def test_client_download_job_failure(server: FakeServer, make_client: Callable[..., Client],
                                     http: responses.RequestsMock) -> None:
    http.get(re.compile(BASE + r"/_download/\d+"), body=b"")

    def core_download(method: str, args: list[Any], filename: str, *rest: Any) -> Any:
        job = server.start_job(method)
        server.update_job(job, emit=False, state="FAILED", error="no space")
        return [job, f"/_download/{job}?auth_token={SECRET}"]

    server.handlers["core.download"] = core_download
    client = make_client()
    with pytest.raises(errors.JobFailed, match="no space"):
        client.download("config.save", [{}], "config.tar", io.BytesIO(), timeout=5)


def test_old_servers_get_a_plain_token_request(server: FakeServer,
                                               make_client: Callable[..., Client],
                                               http: responses.RequestsMock) -> None:
    http.post(BASE + "/_upload", json={"job_id": 1})
    server.document["auth.generate_token"]["accepts"] = \
        server.document["auth.generate_token"]["accepts"][:1]
    client = make_client()
    client.upload("filesystem.put", ["/x"], io.BytesIO(b"1"), wait=False)
    assert [p for m, p in server.calls if m == "auth.generate_token"] == [[300]]
