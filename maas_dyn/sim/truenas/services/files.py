"""Methods that move files through pipes.

Uploads: ``filesystem.put``, ``config.upload``. Downloads: ``filesystem.get``,
``config.save``, ``system.debug``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import sqlite3
import tarfile
import tempfile

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.registry import Call, MethodTable

__all__ = ["methods"]

methods = MethodTable()

_CHUNK_SECONDS = 0.5
_CONFIG_PATH = "/data/freenas-v1.db"
_PWENC_PATH = "/data/pwenc_secret"
# Archive names and paths of the authorized_keys files config.save may include.
_KEY_FILES = (("truenas_admin_authorized_keys", "/home/truenas_admin/.ssh/authorized_keys"),
              ("root_authorized_keys", "/root/.ssh/authorized_keys"))


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
        # plugins/filesystem.py get(): ``if not os.path.isfile(path)`` raises a plain
        # CallError (errno EFAULT), for a missing file and a directory alike.
        raise CallError(f"{path} is not a file")
    call.step(50, f"Reading {path}", _CHUNK_SECONDS)
    call.write_output(data)


def _database(call: Call) -> bytes:
    """The configuration database: an uploaded one, else a real SQLite file of the state."""
    with call.rt.state.lock:
        uploaded = call.rt.state.files.get(_CONFIG_PATH)
        users = [(u["id"], u["username"], u["uid"], u["full_name"])
                 for u in call.rt.state.tables.get("user", {}).values()]
        groups = [(g["id"], g["group"], g["gid"])
                  for g in call.rt.state.tables.get("group", {}).values()]
    if uploaded is not None:
        return uploaded
    # A file a client can open with sqlite3 (the middleware streams /data/freenas-v1.db),
    # with the account tables under the middleware's own table names.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "freenas-v1.db")
        database = sqlite3.connect(path)
        try:
            with database:
                database.execute("CREATE TABLE system_settings (id INTEGER PRIMARY KEY, "
                                 "stg_hostname TEXT, stg_release TEXT)")
                database.execute("INSERT INTO system_settings VALUES (1, ?, ?)",
                                 (call.rt.hostname, call.rt.catalog.release))
                database.execute("CREATE TABLE account_bsdusers (id INTEGER PRIMARY KEY, "
                                 "bsdusr_username TEXT, bsdusr_uid INTEGER, "
                                 "bsdusr_full_name TEXT)")
                database.executemany("INSERT INTO account_bsdusers VALUES (?, ?, ?, ?)", users)
                database.execute("CREATE TABLE account_bsdgroups (id INTEGER PRIMARY KEY, "
                                 "bsdgrp_group TEXT, bsdgrp_gid INTEGER)")
                database.executemany("INSERT INTO account_bsdgroups VALUES (?, ?, ?)", groups)
        finally:
            database.close()
        with open(path, "rb") as handle:
            return handle.read()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


@methods.method("config.save")
def config_save(call: Call) -> None:
    """Run ``config.save(options)``: stream the configuration database.

    As ``plugins/config.py``: with no option set the database file itself; with
    ``secretseed`` or ``root_authorized_keys`` a tar of ``freenas-v1.db`` plus those files
    (``pool_keys`` is ignored).
    """
    options = dict(call.arg(0) or {})
    options.pop("pool_keys", None)
    call.step(50, "Saving configuration", _CHUNK_SECONDS)
    database = _database(call)
    if not any(options.values()):
        call.write_output(database)
        return
    members = {"freenas-v1.db": database}
    if options.get("secretseed"):
        with call.rt.state.lock:
            members["pwenc_secret"] = call.rt.state.files.setdefault(
                _PWENC_PATH, call.rt.rng.randbytes(32))
    if options.get("root_authorized_keys"):
        with call.rt.state.lock:
            members.update({name: call.rt.state.files[path] for name, path in _KEY_FILES
                            if path in call.rt.state.files})
    call.write_output(_tar(members))


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
