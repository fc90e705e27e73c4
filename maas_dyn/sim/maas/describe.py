"""The served description: a MAAS describe document, its hash, and its URIs rewritten.

The document is a shipped release's or any file a user hands over (``--description``),
including releases the package has never seen. It is served exactly as given except
that every handler's ``uri`` points at the simulator (MAAS adds ``uri`` per request,
after hashing, so the hash stays valid). Reading and checking a document is the
client's code (:mod:`maas_dyn.maas.describe`: the same validation and the same hash),
so the simulator accepts exactly the documents the client can use.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maas_dyn._shipped import load_shipped, load_shipped_openapi
from maas_dyn.maas.describe import Description as ClientDescription
from maas_dyn.maas.describe import compute_hash

_API_PREFIX = re.compile(r"^(/.*?/api/[^/]+/)")
# maasserver/urls_api.py routes "openapi.yaml" to doc_oapi.endpoint (MAAS 3.3 on), an
# anonymous view answering yaml.dump(get_api_endpoint()) as this media type.
OPENAPI_NAME = "openapi.yaml"
OPENAPI_MEDIA_TYPE = "application/openapi+yaml"


@dataclass(frozen=True)
class HandlerRef:
    """One handler of the description and where it sits.

    Attributes:
        resource: Name of the resource that holds it.
        side: ``"auth"`` or ``"anon"``.
        handler: The handler object from the document.
    """

    resource: str
    side: str
    handler: dict[str, Any]


class Description:
    """A MAAS API description document as the simulator serves it.

    Args:
        release: The release it was shipped for, e.g. ``"3.7"``.
        document: The parsed describe document.

    Raises:
        ValueError: The document has no handler paths to derive the API prefix from.
    """

    def __init__(self, release: str, document: dict[str, Any]) -> None:
        self.release = release
        self.document = document
        self.hash: str = document["hash"]
        self.api_prefix = _find_prefix(document)
        self._served: dict[str, bytes] = {}
        self._lock = threading.Lock()
        # The v2 OpenAPI document (MAAS 3.3 on), served as JSON text: JSON is YAML, so
        # any YAML reader takes it, and the simulator needs no YAML writer. None: the
        # region has no openapi.yaml (before 3.3, or no document ships for the release).
        self.openapi: bytes | None = None

    @classmethod
    def shipped(cls, release: str) -> Description:
        """Load the description shipped with the package for a release.

        Args:
            release: A release name such as ``"3.7"``.

        Returns:
            The description.
        """
        description = cls(release, load_shipped("maas", release))
        openapi = load_shipped_openapi(release)
        if openapi is not None:
            description.openapi = json.dumps(openapi, sort_keys=True).encode()
        return description

    @classmethod
    def load(cls, source: str | os.PathLike[str] | dict[str, Any],
             release: str = "custom") -> Description:
        """Load any describe document: a JSON file (gzip allowed) or a parsed document.

        The client's reader validates it first, so a document the client could not use
        is refused here too; a document without ``hash`` gets the one MAAS would give.

        Args:
            source: Path of the file, or the document itself.
            release: Label of the release it comes from (facts such as the default
                series follow a known label; unknown labels get the newest facts).

        Returns:
            The description.

        Raises:
            maas_dyn.errors.DescriptionError: The document is not usable.
            OSError: The file cannot be read.
            ValueError: The file is not JSON.
        """
        if isinstance(source, dict):
            document = copy.deepcopy(source)
        else:
            raw = Path(source).read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            document = json.loads(raw)
        ClientDescription(document)
        if not isinstance(document.get("hash"), str):
            document["hash"] = compute_hash(document)
        return cls(release, document)

    @property
    def describe_path(self) -> str:
        """Path at which the document itself is served, e.g. ``/MAAS/api/2.0/describe/``."""
        return self.api_prefix + "describe/"

    @property
    def openapi_path(self) -> str:
        """Path of the v2 OpenAPI document, e.g. ``/MAAS/api/2.0/openapi.yaml``."""
        return self.api_prefix + OPENAPI_NAME

    def handlers(self) -> Iterator[HandlerRef]:
        """Iterate over every anon and auth handler of every resource.

        Yields:
            The handlers in document order.
        """
        for resource in self.document.get("resources", ()):
            for side in ("auth", "anon"):
                handler = resource.get(side)
                if handler:
                    yield HandlerRef(resource["name"], side, handler)

    def served(self, origin: str) -> bytes:
        """Return the document with every ``uri`` rewritten to ``origin``.

        Args:
            origin: Scheme, host and port, e.g. ``http://127.0.0.1:5240``.

        Returns:
            The encoded JSON (cached per origin).
        """
        with self._lock:
            cached = self._served.get(origin)
            if cached is None:
                cached = json.dumps(_rewrite_uris(self.document, origin)).encode()
                self._served[origin] = cached
            return cached


def _find_prefix(document: dict[str, Any]) -> str:
    for resource in document.get("resources", ()):
        for side in ("auth", "anon"):
            handler = resource.get(side)
            match = _API_PREFIX.match(handler["path"]) if handler else None
            if match:
                return match.group(1)
    raise ValueError("the description has no handler path to take the API prefix from")


def _rewrite_uris(document: dict[str, Any], origin: str) -> dict[str, Any]:
    rewritten = copy.deepcopy(document)
    handlers = [
        resource[side]
        for resource in rewritten.get("resources", ())
        for side in ("auth", "anon")
        if resource.get(side)
    ]
    handlers.extend(rewritten.get("handlers", ()))
    for handler in handlers:
        handler["uri"] = origin + handler["path"]
    return rewritten
