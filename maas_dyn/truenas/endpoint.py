"""Server URLs: what ``connect("nas.example")`` means, and keeping secrets out of URLs.

The default endpoint is ``wss://HOST/api/current`` (JSON-RPC 2.0). ``/api/vXX.YY.Z`` pins
an API version; ``/websocket`` is the legacy protocol. File transfers go to the same
host over HTTP(S) (``/_upload``, ``/_download/...``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from maas_dyn._secrets import redact_query
from maas_dyn.errors import InvalidURLError

__all__ = ["Endpoint", "Protocol", "is_loopback", "parse_endpoint"]

Protocol = Literal["jsonrpc", "legacy"]

CURRENT_PATH = "/api/current"
LEGACY_PATH = "/websocket"
_PINNED = re.compile(r"^/api/v\d+\.\d+(\.\d+)?$")
_SCHEMES = {"wss": "wss", "ws": "ws", "https": "wss", "http": "ws"}


def is_loopback(host: str) -> bool:
    """Tell whether a host name or address is this machine.

    Args:
        host: A host name or IP address (IPv6 without brackets).

    Returns:
        True for ``localhost`` and loopback addresses.
    """
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects.

    Attributes:
        url: The WebSocket URL, e.g. ``wss://nas/api/current``.
        protocol: ``"jsonrpc"`` (``/api/...``) or ``"legacy"`` (``/websocket``).
        host: Host name or address.
        secure: Whether the connection uses TLS.
        http_base: ``https://host[:port]`` (or ``http://``) for file transfers.
    """

    url: str
    protocol: Protocol
    host: str
    secure: bool
    http_base: str

    def legacy(self) -> Endpoint:
        """Return the legacy ``/websocket`` endpoint of the same server."""
        return replace(self, url=self._origin() + LEGACY_PATH, protocol="legacy")

    def _origin(self) -> str:
        scheme = "wss" if self.secure else "ws"
        return scheme + self.http_base[self.http_base.index("://"):]


def parse_endpoint(url: str, api_version: str | None = None) -> Endpoint:
    """Turn what the user gave into an :class:`Endpoint`.

    ``"nas.example"`` becomes ``wss://nas.example/api/current``; ``https://`` and
    ``http://`` become ``wss://`` and ``ws://``; an empty path becomes ``/api/current``
    (or ``/api/v<api_version>``).

    Args:
        url: Host name, or URL.
        api_version: Pin this API version, e.g. ``"25.10.0"``.

    Returns:
        The endpoint.

    Raises:
        InvalidURLError: Unknown scheme, no host, credentials in the URL, an unexpected
            path, or a path that contradicts ``api_version``.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidURLError("the TrueNAS URL must be text like wss://nas.example/api/current")
    text = url.strip()
    if "://" not in text:
        text = "wss://" + text
    parts = urlsplit(text)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise InvalidURLError(
            f"the TrueNAS URL must start with wss://, ws://, https:// or http://, "
            f"got {parts.scheme}://")
    if parts.username or parts.password:
        raise InvalidURLError("do not put credentials in the URL; pass username=, password=, "
                              "api_key= or token= instead")
    host = parts.hostname
    if not host:
        raise InvalidURLError(f"the TrueNAS URL has no host: {redact_query(url)!r}")
    try:
        port = parts.port
    except ValueError:
        raise InvalidURLError(f"the TrueNAS URL has an invalid port: {redact_query(url)!r}") \
            from None
    path = parts.path.rstrip("/")
    pinned = f"/api/v{api_version.removeprefix('v')}" if api_version else None
    if path in ("", "/api"):
        path = pinned or CURRENT_PATH
    elif pinned and path != pinned:
        raise InvalidURLError(f"the URL path {path} contradicts api_version={api_version!r}")
    elif path not in (CURRENT_PATH, LEGACY_PATH) and not _PINNED.match(path):
        raise InvalidURLError(
            f"unexpected path {path!r}: use /api/current, /api/vXX.YY.Z or /websocket")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    secure = scheme == "wss"
    return Endpoint(
        url=f"{scheme}://{netloc}{path}",
        protocol="legacy" if path == LEGACY_PATH else "jsonrpc",
        host=host,
        secure=secure,
        http_base=f"{'https' if secure else 'http'}://{netloc}",
    )
