"""Loading the ``core.get_methods`` document: in one call or per service, and cached.

The full document is ~5 MB on a 25.10 system. :data:`DISCOVERY` names the ways to get
it: ``"full"`` asks for everything in one call; ``"per-service"`` asks
``core.get_services`` for the service names and then ``core.get_methods(service)`` for
each, a few at a time on the one connection, so no single answer is large. ``"full"``
falls back to per-service when the full call times out.

Documents are cached on disk per server URL and user (what a user sees depends on its
roles), keyed by the server's version (``system.version``): after an upgrade the
version differs and the document is fetched again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from maas_dyn._cache import DescriptionCache
from maas_dyn.errors import DescriptionError, Timeout, TrueNASAPIError
from maas_dyn.truenas.jsonrpc import dumps

__all__ = ["DISCOVERY", "Discovery", "MethodsCache", "fetch_methods", "server_version"]

_log = logging.getLogger("maas_dyn.truenas")

Discovery = Literal["full", "per-service"]
CallFn = Callable[[str, list[Any]], Any]

# Per-service requests in flight at once (within the connection's call limit).
PARALLEL_SERVICES = 8


def _full(call: CallFn) -> dict[str, Any]:
    document = call("core.get_methods", [])
    if not isinstance(document, Mapping):
        raise DescriptionError("core.get_methods did not answer with a {name: metadata} object")
    return dict(document)


def _per_service(call: CallFn) -> dict[str, Any]:
    services = call("core.get_services", [])
    if not isinstance(services, Mapping):
        raise DescriptionError("core.get_services did not answer with a {name: info} object")
    document: dict[str, Any] = {}
    # The pool's context manager joins its threads before returning.
    with ThreadPoolExecutor(PARALLEL_SERVICES, thread_name_prefix="maas_dyn-truenas-discovery") \
            as pool:
        for part in pool.map(lambda name: call("core.get_methods", [name]), sorted(services)):
            if isinstance(part, Mapping):
                document.update(part)
    return document


DISCOVERY: Mapping[str, Callable[[CallFn], dict[str, Any]]] = {
    "full": _full,
    "per-service": _per_service,
}


def fetch_methods(call: CallFn, mode: Discovery = "full") -> dict[str, Any]:
    """Fetch the method document of a logged-in session.

    Args:
        call: Calls a method on the session: ``call(method, params) -> result``.
        mode: ``"full"`` or ``"per-service"`` (see :data:`DISCOVERY`).

    Returns:
        ``{method name: metadata}``.

    Raises:
        DescriptionError: The server's answers have the wrong shape.
        TrueNASAPIError: The server refused (e.g. the session is not logged in).
    """
    try:
        return DISCOVERY[mode](call)
    except Timeout:
        if mode != "full":
            raise
        _log.warning("core.get_methods timed out; fetching the methods service by service")
        return _per_service(call)


class MethodsCache:
    """Method documents on disk, per server URL and user, keyed by server version.

    Args:
        cache: The description cache (``DescriptionCache("truenas")``).
        url: The server URL.
        user: Who is logged in (documents depend on roles).
    """

    def __init__(self, cache: DescriptionCache, url: str, user: str):
        self._cache = cache
        self._key_url = f"{url} user={user}"

    def load(self, version: str) -> dict[str, Any] | None:
        """Return the cached document for a server version, if any."""
        found = self._cache.load(self._key_url, version)
        if found is None:
            return None
        try:
            document = json.loads(found[1])
        except ValueError:
            _log.warning("ignoring a corrupt cached method document for %s", self._key_url)
            return None
        return document if isinstance(document, dict) else None

    def store(self, version: str, document: Mapping[str, Any]) -> None:
        """Store the document for a server version."""
        self._cache.store(self._key_url, version, dumps(document).encode())


def server_version(call: CallFn) -> str | None:
    """Ask the server for its version (``system.version``); ``None`` if it will not say.

    Args:
        call: Calls a method on the session.

    Returns:
        e.g. ``"TrueNAS-25.10.0"``.
    """
    try:
        version = call("system.version", [])
    except TrueNASAPIError as exc:
        _log.debug("system.version failed (%s); not using the method cache", exc)
        return None
    return str(version) if version else None
