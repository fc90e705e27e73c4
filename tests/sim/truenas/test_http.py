"""HTTP endpoints: versions, uploads and downloads."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from typing import Any

import pytest
import requests

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import TIMEOUT, RpcClient


def _upload(sim: TrueNASSimulator, data: object, content: bytes | None = b"hello",
            **kwargs: Any) -> requests.Response:
    parts: list[tuple[str, Any]] = [("data", (None, json.dumps(data)))]
    if content is not None:
        parts.append(("file", ("upload.bin", content)))
    return requests.post(f"{sim.base_url}/_upload", files=parts, timeout=TIMEOUT, **kwargs)


PUT = {"method": "filesystem.put", "params": ["/mnt/tank/hello.txt", {}]}


def test_versions_and_unknown_paths(sim: TrueNASSimulator) -> None:
    reply = requests.get(f"{sim.base_url}/api/versions", timeout=TIMEOUT)
    assert reply.status_code == 200 and reply.json() == [
        "v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1", "v25.10.2", "v25.10.3",
        "v25.10.4", "v25.10.5"]
    assert reply.headers["Content-Type"] == "application/json"
    assert requests.get(f"{sim.base_url}/nope", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{sim.base_url}/_upload", timeout=TIMEOUT).status_code == 405
    assert requests.post(f"{sim.base_url}/api/current", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{sim.base_url}/api/current", timeout=TIMEOUT).status_code == 426


def test_upload_then_download(sim: TrueNASSimulator, admin: RpcClient) -> None:
    reply = _upload(sim, PUT, auth=(sim.username, sim.password))
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json"
    job = admin.wait_job(reply.json()["job_id"])
    assert job["state"] == "SUCCESS" and job["result"] is True
    assert job["credentials"]["type"] == "LOGIN_PASSWORD"
    job_id, url = admin.call("core.download", "filesystem.get", ["/mnt/tank/hello.txt"],
                             "hello.txt")
    assert url.startswith(f"/_download/{job_id}?auth_token=")
    download = requests.get(sim.base_url + url, timeout=TIMEOUT)
    assert download.status_code == 200 and download.content == b"hello"
    assert download.headers["Content-Disposition"] == 'attachment; filename="hello.txt"'
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert requests.get(sim.base_url + url, timeout=TIMEOUT).status_code == 401  # single use
    assert sim.call_counts["filesystem.put"] == 1 and sim.call_counts["filesystem.get"] == 1


@pytest.mark.parametrize("how", ["bearer-key", "bearer-token", "token", "query"])
def test_upload_credentials(sim: TrueNASSimulator, admin: RpcClient, how: str) -> None:
    token = admin.call("auth.generate_token", 60)
    headers = {"bearer-key": {"Authorization": f"Bearer {sim.api_key}"},
               "bearer-token": {"Authorization": f"Bearer {token}"},
               "token": {"Authorization": f"Token {token}"}}.get(how, {})
    params = {"auth_token": token} if how == "query" else {}
    reply = _upload(sim, PUT, headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    assert admin.wait_job(reply.json()["job_id"])["state"] == "SUCCESS"


@pytest.mark.parametrize(("data", "kwargs", "status", "text"), [
    (PUT, {}, 401, ""),
    (PUT, {"auth": ("truenas_admin", "wrong")}, 401, "Bad username or password"),
    (PUT, {"auth": ("otp_admin", "otp_admin_password")}, 401,
     "HTTP Basic Auth is unavailable when OTP is enabled"),
    (PUT, {"headers": {"Authorization": "Bearer nonsense"}}, 403, "Invalid token"),
    (PUT, {"headers": {"Authorization": "Basic abc"}}, 400, ""),
    (PUT, {"headers": {"Authorization": "Basic /w=="}}, 400, ""),
    (PUT, {"headers": {"Authorization": "Digest x"}}, 401, ""),
    ({"params": []}, {"auth": ("truenas_admin", "truenas_admin")}, 422, ""),
    ({"method": "no.such", "params": []}, {"auth": ("truenas_admin", "truenas_admin")}, 422,
     "[ENOMETHOD] Service 'no' not found"),
    ({"method": "core.ping"}, {"auth": ("truenas_admin", "truenas_admin")}, 412,
     "[EINVAL] core.ping is not a job method"),
    ({"method": "filesystem.put", "params": [5]}, {"auth": ("truenas_admin", "truenas_admin")},
     500, "[EINVAL] path: Input should be a valid string\n"),
])
def test_upload_errors(sim: TrueNASSimulator, data: object, kwargs: dict[str, Any], status: int,
                       text: str) -> None:
    reply = _upload(sim, data, **kwargs)
    assert (reply.status_code, reply.text) == (status, text)


def test_upload_payload_errors(sim: TrueNASSimulator) -> None:
    auth = (sim.username, sim.password)
    missing_file = _upload(sim, PUT, content=None, auth=auth)
    assert (missing_file.status_code, missing_file.text) == (
        405, '"file" not found as second part on payload')
    swapped = requests.post(f"{sim.base_url}/_upload", auth=auth, timeout=TIMEOUT,
                            files=[("file", ("x", b"1")), ("data", (None, "{}"))])
    assert (swapped.status_code, swapped.text) == (405, '"data" part must be the first on payload')
    broken = requests.post(f"{sim.base_url}/_upload", auth=auth, timeout=TIMEOUT,
                           files=[("data", (None, "{nope"))])
    assert broken.status_code == 400
    plain = requests.post(f"{sim.base_url}/_upload", auth=auth, data=b"raw", timeout=TIMEOUT)
    assert (plain.status_code, plain.text) == (405, "No part found on payload")


def test_config_round_trip_and_debug(sim: TrueNASSimulator, admin: RpcClient) -> None:
    upload = _upload(sim, {"method": "config.upload"}, content=b"SQLite format 3\x00db",
                     headers={"Authorization": "Basic " + base64.b64encode(
                         f"{sim.username}:{sim.password}".encode()).decode()})
    assert admin.wait_job(upload.json()["job_id"])["state"] == "SUCCESS"
    empty = _upload(sim, {"method": "config.upload"}, content=b"", auth=(sim.username,
                                                                         sim.password))
    assert admin.wait_job(empty.json()["job_id"])["error"] == (
        "[EINVAL] No configuration file was uploaded")
    _, url = admin.call("core.download", "config.save", [{}], "config.db")
    assert requests.get(sim.base_url + url, timeout=TIMEOUT).content == b"SQLite format 3\x00db"
    _, url = admin.call("core.download", "system.debug", [], "debug.tgz")
    with tarfile.open(fileobj=io.BytesIO(requests.get(sim.base_url + url,
                                                      timeout=TIMEOUT).content)) as archive:
        assert archive.getnames() == ["debug/summary.json"]


def test_download_refusals(sim: TrueNASSimulator, admin: RpcClient) -> None:
    job_id, url = admin.call("core.download", "filesystem.get", ["/missing"], "m")
    assert requests.get(f"{sim.base_url}/_download/{job_id}", timeout=TIMEOUT).status_code == 401
    assert requests.get(f"{sim.base_url}/_download/abc", timeout=TIMEOUT).status_code == 404
    other = url.replace(f"/_download/{job_id}", f"/_download/{job_id + 1}")
    assert requests.get(sim.base_url + other, timeout=TIMEOUT).status_code == 401
    token = admin.call("auth.generate_token", 60, {"job": job_id, "filename": "again"})
    reply = requests.get(f"{sim.base_url}/_download/{job_id}?auth_token={token}",
                         timeout=TIMEOUT)
    assert (reply.status_code, reply.content) == (200, b"")
    assert admin.wait_job(job_id)["error"] == "[EFAULT] /missing is not a file"
    assert "not a job method" in admin.error("core.download", "core.ping", [], "x")["data"][
        "reason"]
