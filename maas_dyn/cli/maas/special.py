"""Actions the official CLI carries out as more than one request, as a table.

- ``boot-resources create ... content@=FILE``: a multipart POST where ``content`` is
  replaced by the file's ``size`` and ``sha256`` (fields sorted by name, one value per
  name, as the official CLI sends them), then, unless the server already has the file,
  the file is PUT as ``application/octet-stream`` in 4 MiB chunks to the new resource
  file's ``upload_uri``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from maas_dyn.cli._common.exits import CLIError, UsageError
from maas_dyn.maas.client import Client
from maas_dyn.maas.describe import ActionSpec, HandlerSpec
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.response import Response

__all__ = ["CHUNK_SIZE", "CUSTOM_ACTIONS", "perform"]

Fields = Sequence[tuple[str, Any]]

CHUNK_SIZE = 1 << 22  # the official CLI uploads 4 MiB per signed PUT


def _size_and_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def _resource_file(data: Any) -> Mapping[str, Any] | None:
    # The newest set of the created resource must hold exactly one file: the upload.
    sets = data.get("sets") if isinstance(data, Mapping) else None
    if not isinstance(sets, Mapping) or not sets:
        return None
    files = sets[max(sets)].get("files")
    if not isinstance(files, Mapping) or len(files) != 1:
        return None
    found = next(iter(files.values()))
    return found if isinstance(found, Mapping) else None


def _create_boot_resource(client: Client, handler: HandlerSpec, action: ActionSpec,
                          path_args: Sequence[str], fields: Fields) -> Response:
    contents = [value for name, value in fields if name == "content"]
    if not contents or not isinstance(contents[-1], Path):
        raise UsageError("boot-resources create uploads the image given as content@=FILE; "
                         "add one")
    content = contents[-1]
    size, sha256 = _size_and_sha256(content)
    data = {name: value for name, value in fields if name != "content"}
    data.update(size=str(size), sha256=sha256)
    response = client.request(handler.name, action.name, *path_args,
                              fields=sorted(data.items()))
    upload = _resource_file(response.data)
    if upload is None:
        raise CLIError("the server's answer does not identify the created resource's file, "
                       "so the content was not uploaded")
    if not upload.get("complete"):
        target = urljoin(response.url, str(upload["upload_uri"]))
        headers = {"Content-Type": "application/octet-stream"}
        with content.open("rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                client.send(PreparedRequest("PUT", target, dict(headers), chunk),
                            handler.cli_name)
    return response


def _call(client: Client, handler: HandlerSpec, action: ActionSpec, path_args: Sequence[str],
          fields: Fields) -> Response:
    return client.request(handler.name, action.name, *path_args, fields=fields)


Performer = Callable[[Client, HandlerSpec, ActionSpec, Sequence[str], Fields], Response]

# (handler, action) -> how the command is carried out instead of one request.
CUSTOM_ACTIONS: dict[tuple[str, str], Performer] = {
    ("boot-resources", "create"): _create_boot_resource,
}


def perform(client: Client, handler: HandlerSpec, action: ActionSpec,
            path_args: Sequence[str], fields: Fields) -> Response:
    """Carry out a command: one request, or the action's special sequence.

    Args:
        client: The client.
        handler: The handler.
        action: The action.
        path_args: Path parameter values.
        fields: ``(name, value)`` pairs in command-line order.

    Returns:
        The response to print.
    """
    custom = CUSTOM_ACTIONS.get((handler.cli_name, action.cli_name), _call)
    return custom(client, handler, action, path_args, fields)
