"""``record`` and ``replay``: one pair of context managers for both dialects.

::

    with maas_dyn.testing.record(maas, "deploy.yaml"):        # a MAAS client: vcrpy YAML
        maas.machine.deploy("abc123")
    with maas_dyn.testing.replay(nas, "pool.jsonl"):          # a TrueNAS client: JSON lines
        nas.pool.create({...}).wait()

A MAAS session is recorded where ``requests`` sends it (see
:mod:`~maas_dyn.testing.http_cassette`); a TrueNAS session at the client's opener,
including the login (see :mod:`~maas_dyn.testing.ws_cassette`). Secrets are redacted
in both. A replay needs no server: a request the cassette lacks fails, and so does
leaving the block with recorded calls not made.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from maas_dyn.testing._peer import require_jsonrpc

__all__ = ["record", "replay"]

PathLike = str | os.PathLike[str]


# Client module -> whether its clients speak TrueNAS. A client's module is imported
# already, so looking it up in sys.modules imports neither dialect.
_DIALECTS = (("maas_dyn.truenas.client", True), ("maas_dyn.maas.client", False))


def _truenas(client: Any) -> bool:
    for module, truenas in _DIALECTS:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(client, loaded.Client):
            return truenas
    raise TypeError(f"record and replay take a maas_dyn.maas.Client or a "
                    f"maas_dyn.truenas.Client, not {type(client).__name__}")


@contextmanager
def record(client: Any, path: PathLike) -> Iterator[None]:
    """Record the client's calls inside the block into a cassette (replacing the file).

    A TrueNAS client's current connection is closed first, so the cassette starts
    with a fresh login; its own opener is back when the block ends. A MAAS session is
    recorded where ``requests`` sends it, so every ``requests`` call inside the block is
    recorded, and a client built with another ``transport=`` records nothing.

    Args:
        client: A ``maas_dyn.maas.Client`` or ``maas_dyn.truenas.Client``.
        path: The cassette: YAML for MAAS, JSON lines for TrueNAS.

    Yields:
        Nothing; the cassette is written when the block ends, even after an error.

    Raises:
        TypeError: ``client`` is neither.
        ConfigurationError: A TrueNAS client on the legacy ``/websocket`` protocol.
    """
    if not _truenas(client):
        from maas_dyn.testing.http_cassette import http_cassette

        with http_cassette(path, "record"):
            yield
        return
    from maas_dyn.testing.ws_cassette import WSRecorder

    require_jsonrpc(client.endpoint.url, "cassette recording")
    recorder = WSRecorder(path)
    own = client.opener
    client.opener = recorder.wrap(own)
    try:
        yield
    finally:
        client.opener = own
        recorder.save()


@contextmanager
def replay(client: Any, path: PathLike) -> Iterator[None]:
    """Answer the client's calls inside the block from a cassette, with no server.

    Args:
        client: A ``maas_dyn.maas.Client`` or ``maas_dyn.truenas.Client`` (a TrueNAS
            one built offline, e.g. ``Client.from_release("25.10", username=...,
            password=...)``, replays a recorded login too).
        path: The cassette.

    Yields:
        Nothing.

    Raises:
        TypeError: ``client`` is neither.
        FileNotFoundError: There is no cassette at ``path``.
        ValueError: The file is not a usable cassette (not UTF-8, not YAML or JSON
            lines, a missing or mistyped key), before the block runs.
        CassetteMismatchError: A call the cassette does not have (for MAAS, vcrpy's
            ``CannotOverwriteExistingCassetteException`` is its ``__cause__``), or
            recorded calls left unmade at the end of the block.
    """
    if not _truenas(client):
        from maas_dyn.testing.http_cassette import http_cassette

        with http_cassette(path, "replay"):
            yield
        return
    from maas_dyn.testing.ws_cassette import WSReplayer

    replayer = WSReplayer(path)
    own = client.opener
    client.opener = replayer.open
    try:
        yield
        replayer.assert_all_played()
    finally:
        client.opener = own
