"""Server descriptions shipped with the package, one per release.

The simulators, ``Client.from_release()`` and release diffs read these so that nothing
needs a live server. Files live in ``maas_dyn/descriptions/<dialect>/<release>.json.gz``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from maas_dyn.errors import DescriptionError

Dialect = Literal["maas", "truenas"]


def _sort_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split(".") if part.isdigit())


def shipped_releases(dialect: Dialect) -> list[str]:
    """List the releases whose description ships with the package.

    Args:
        dialect: ``"maas"`` or ``"truenas"``.

    Returns:
        Release names such as ``["1.9", ..., "3.7"]``, oldest first.
    """
    folder = resources.files("maas_dyn") / "descriptions" / dialect
    names = [
        entry.name.removesuffix(".json.gz")
        for entry in folder.iterdir()
        if entry.name.endswith(".json.gz")
    ]
    return sorted(names, key=_sort_key)


def load_shipped(dialect: Dialect, release: str) -> Any:
    """Load the description document shipped for one release.

    Args:
        dialect: ``"maas"`` or ``"truenas"``.
        release: A name from :func:`shipped_releases`, e.g. ``"3.7"`` or ``"25.10"``.

    Returns:
        The parsed JSON document.

    Raises:
        DescriptionError: No description ships for that release.
    """
    import gzip  # only offline construction reads shipped files

    entry = resources.files("maas_dyn") / "descriptions" / dialect / f"{release}.json.gz"
    if not entry.is_file():
        known = ", ".join(shipped_releases(dialect))
        raise DescriptionError(
            f"no {dialect} description ships for release {release!r}; shipped: {known}"
        )
    return json.loads(gzip.decompress(entry.read_bytes()))


def load_shipped_openapi(release: str) -> Any:
    """Load the v2 OpenAPI document shipped for one MAAS release, if one ships.

    These are what ``/MAAS/api/2.0/openapi.yaml`` serves (MAAS 3.3 on), as JSON; see
    ``maas_dyn/descriptions/maas/openapi/SOURCES.md`` for which releases and how.

    Args:
        release: A MAAS release name, e.g. ``"3.7"``.

    Returns:
        The parsed document, or ``None`` when none ships for that release.
    """
    import gzip  # only offline construction reads shipped files

    folder = resources.files("maas_dyn") / "descriptions" / "maas" / "openapi"
    entry = folder / f"{release}.json.gz"
    if not entry.is_file():
        return None
    return json.loads(gzip.decompress(entry.read_bytes()))
