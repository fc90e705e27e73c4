"""Methods that move files through pipes.

Uploads: ``filesystem.put``, ``config.upload``. Downloads: ``filesystem.get``,
``config.save``, ``system.debug``.
"""

from __future__ import annotations

import errno
import io
import json
import tarfile

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.registry import Call, MethodTable

__all__ = ["methods"]

methods = MethodTable()

_CHUNK_SECONDS = 0.5
_CONFIG_PATH = "/data/freenas-v1.db"


@methods.method("filesystem.put")
def put(call: Call) -> bool:
    """Run ``filesystem.put(path, options)``: store the uploaded file."""
    path, options = call.args[0], call.args[1]
    data = call.input_bytes()
    call.step(50, f"Writing {path}", _CHUNK_SECONDS)
    with call.rt.state.lock:
        previous = call.rt.state.files.get(path, b"") if options.get("append") else b""
        call.rt.state.files[path] = previous + data
    return True


@methods.method("filesystem.get")
def get(call: Call) -> None:
    """Run ``filesystem.get(path)``: stream a stored file to the downloader."""
    path = call.args[0]
    with call.rt.state.lock:
        data = call.rt.state.files.get(path)
    if data is None:
        raise CallError(f"{path}: file does not exist", errno.ENOENT)
    call.step(50, f"Reading {path}", _CHUNK_SECONDS)
    call.write_output(data)


@methods.method("config.save")
def config_save(call: Call) -> None:
    """Run ``config.save(options)``: stream the (simulated) configuration database."""
    call.step(50, "Saving configuration", _CHUNK_SECONDS)
    with call.rt.state.lock:
        data = call.rt.state.files.get(_CONFIG_PATH, b"SQLite format 3\x00")
    call.write_output(data)


@methods.method("config.upload")
def config_upload(call: Call) -> None:
    """Run ``config.upload()``: accept an uploaded configuration database."""
    data = call.input_bytes()
    if not data:
        raise CallError("No configuration file was uploaded", errno.EINVAL)
    call.step(50, "Uploading configuration", _CHUNK_SECONDS)
    with call.rt.state.lock:
        call.rt.state.files[_CONFIG_PATH] = data


@methods.method("system.debug")
def debug(call: Call) -> None:
    """Run ``system.debug()``: stream a small debug tarball."""
    call.step(10, "Collecting debug information", _CHUNK_SECONDS)
    summary = json.dumps({"hostname": call.rt.hostname,
                          "release": call.rt.catalog.release}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        entry = tarfile.TarInfo("debug/summary.json")
        entry.size = len(summary)
        archive.addfile(entry, io.BytesIO(summary))
    call.progress(90, "Preparing debug file for streaming")
    call.write_output(buffer.getvalue())
