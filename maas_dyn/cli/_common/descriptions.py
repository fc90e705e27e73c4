"""Where ``diff`` and ``docs`` get a description: a shipped release, a file, or a server.

A word is tried in that order: a release shipped with the package (``3.7``,
``25.10``), then a file (JSON, or gzipped JSON as the package ships them), then a
profile, whose server is asked for its description now.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maas_dyn._shipped import Dialect, load_shipped, shipped_releases
from maas_dyn.cli._common.exits import UsageError
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.errors import DescriptionError

__all__ = ["Source", "maas_description", "read_file", "truenas_methods"]

Source = tuple[str, Mapping[str, Any]]  # (label for reports, document)


def read_file(path: Path) -> Mapping[str, Any]:
    """Read a description file: JSON, or gzipped JSON.

    Args:
        path: The file.

    Returns:
        The document.

    Raises:
        DescriptionError: The file cannot be read or is not a JSON object.
    """
    try:
        raw = path.read_bytes()
        document = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (OSError, ValueError) as exc:
        raise DescriptionError(f"cannot read a description from {path}: {exc}") from exc
    if not isinstance(document, Mapping):
        raise DescriptionError(f"{path} holds JSON, but not a description (an object)")
    return document


def _offline(dialect: Dialect, word: str) -> Source | None:
    if word in shipped_releases(dialect):
        name = "MAAS" if dialect == "maas" else "TrueNAS"
        return f"{name} {word}", load_shipped(dialect, word)
    path = Path(word)
    if path.is_file():
        return path.name, read_file(path)
    return None


def _hint(dialect: Dialect) -> str:
    return (f"a shipped release ({', '.join(shipped_releases(dialect))}), a description file, "
            "or a profile")


def maas_description(word: str, runtime: Runtime) -> Source:
    """Resolve a MAAS description word.

    Args:
        word: A shipped release, a file, or a profile (``env`` included).
        runtime: The profile store and transport.

    Returns:
        ``(label, describe document)``; a profile's is fetched from its server now.

    Raises:
        UsageError: The word is none of these.
    """
    found = _offline("maas", word)
    if found is not None:
        return found
    from maas_dyn.cli.maas.session import open_session  # only a live server needs a client

    try:
        profile = runtime.store.resolve(word, runtime.environ)
    except UsageError as exc:
        raise UsageError(f"{exc}; expected {_hint('maas')}") from exc
    session = open_session(profile, runtime)
    try:
        return f"{word} ({profile.url})", session.fetch()
    finally:
        session.client.close()


def truenas_methods(word: str, runtime: Runtime) -> Source:
    """Resolve a TrueNAS description word.

    Args:
        word: A shipped release, a file, or a ``truenas-dyn`` profile.
        runtime: Its store holds the ``truenas-dyn`` profiles.

    Returns:
        ``(label, core.get_methods document)``; a profile's comes from its server.

    Raises:
        UsageError: The word is none of these.
    """
    found = _offline("truenas", word)
    if found is not None:
        return found
    from maas_dyn.truenas import connect  # only a live server needs a client

    try:
        profile = runtime.store.load(word)
    except UsageError as exc:
        raise UsageError(f"{exc}; expected {_hint('truenas')}") from exc
    with connect(profile.url, **profile.client_options()) as client:
        assert client.methods is not None  # connect() loaded them
        return f"{word} ({client.version or profile.url})", client.methods.document
