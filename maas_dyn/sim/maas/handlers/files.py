"""MAAS's file storage: per-user files, downloadable anonymously by their key."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from maas_dyn.sim.maas.models import StoredFile
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import BadRequest, NotFound, Response
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import mandatory

OCTETS = "application/octet-stream"


@action("FilesHandler", "create")
def create(context: Context) -> Response:
    """Store an uploaded file (one multipart part with a filename) under a name."""
    state = context.state
    filename = context.params.get("filename")
    if not filename:
        raise BadRequest("Filename not supplied")
    uploads = context.params.files
    if not uploads:
        raise BadRequest("File not supplied")
    if len(uploads) != 1 or sum(len(parts) for parts in uploads.values()) != 1:
        raise BadRequest("Exactly one file must be supplied")
    content = next(iter(uploads.values()))[0]
    existing = state.files.get((context.username, filename))
    key = existing.key if existing else state.new_key(30)
    state.files[(context.username, filename)] = StoredFile(filename, context.username, content,
                                                           key)
    return Response(201, b"", "")


@action("FilesHandler", "read")
def read(context: Context) -> list[dict[str, Any]]:
    """List the caller's files, optionally only names starting with ``prefix``."""
    prefix = context.params.get("prefix") or ""
    mine = sorted(
        (f for (owner, _), f in context.state.files.items() if owner == context.username),
        key=lambda f: f.filename,
    )
    return [_summary(context.state, f) for f in mine if f.filename.startswith(prefix)]


@action("FilesHandler", "get")
def get(context: Context) -> Response:
    """Return the content of one of the caller's files by name."""
    filename = mandatory(context.params, "filename")
    found = context.state.files.get((context.username, filename))
    if found is None:
        return Response.text("File not found", 404)
    return Response(200, found.content, OCTETS)


@action(("FilesHandler", "AnonFilesHandler"), "get_by_key")
def get_by_key(context: Context) -> Response:
    """Return the content of any file by its key (no credentials needed)."""
    key = mandatory(context.params, "key")
    found = next((f for f in context.state.files.values() if f.key == key), None)
    if found is None:
        raise NotFound("FileStorage")
    return Response(200, found.content, OCTETS)


@action("FilesHandler", "delete")
def delete_by_parameter(context: Context) -> None:
    """Delete one of the caller's files named by the ``filename`` parameter."""
    _forget(context, mandatory(context.params, "filename"))


@action("FileHandler", "read")
def read_one(context: Context) -> Response:
    """Return a file with its content base64-encoded."""
    found = context.state.files.get((context.username, context.arg("filename")))
    if found is None:
        # MAAS marks this 404 so clients can tell it from a missing endpoint.
        return Response(404, b"Not Found", headers=(("Workaround", "bug1123986"),))
    document = _summary(context.state, found)
    document["content"] = base64.b64encode(found.content).decode()
    return Response.json(document)


@action("FileHandler", "delete")
def delete(context: Context) -> None:
    """Delete one of the caller's files."""
    _forget(context, context.arg("filename"))


def _forget(context: Context, filename: str) -> None:
    if context.state.files.pop((context.username, filename), None) is None:
        raise NotFound("FileStorage")


def _summary(state: State, item: StoredFile) -> dict[str, Any]:
    files = f"{state.api_prefix}files/"
    return {
        "filename": item.filename,
        "anon_resource_uri": f"{files}?{urlencode({'op': 'get_by_key', 'key': item.key})}",
        "resource_uri": f"{files}{item.filename}/",
    }
