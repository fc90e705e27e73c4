"""OAuth 1.0a PLAINTEXT verification as MAAS (piston3 + python-oauth) performs it.

Checks run in the order of ``OAuthServer.verify_request``: version, consumer, token,
timestamp, nonce, signature method, signature. Failures carry MAAS's wording, which
wraps the OAuth library message as ``Authorization Error: '<message>'``; secrets never
appear in a message.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

from maas_dyn.sim.maas.responses import Unauthorized

TIMESTAMP_THRESHOLD = 300
SUPPORTED_METHODS = ("PLAINTEXT",)
# piston3 treats a request as OAuth-signed only when all of these are present.
REQUIRED_PARAMS = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
)
_PARAM = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*,?')


@dataclass(frozen=True)
class Token:
    """One API key: ``consumer_key:token_key:token_secret``.

    Attributes:
        consumer_key: The consumer part.
        token_key: The token part.
        token_secret: The secret part (the consumer secret is always empty).
        username: The owner.
        name: The consumer name shown by ``account list-authorisation-tokens``.
    """

    consumer_key: str
    token_key: str
    token_secret: str
    username: str
    name: str = "MAAS consumer"

    @property
    def api_key(self) -> str:
        """The key as users paste it: ``consumer:token:secret``."""
        return f"{self.consumer_key}:{self.token_key}:{self.token_secret}"


class TokenStore(Protocol):
    """Where the verifier looks keys up."""

    def has_consumer(self, consumer_key: str) -> bool:
        """Tell whether a consumer key exists."""

    def find_token(self, token_key: str) -> Token | None:
        """Return the token with this key, if any."""


def parse_authorization(header: str | None) -> dict[str, str] | None:
    """Extract OAuth parameters from an ``Authorization`` header.

    Args:
        header: The header value, or None.

    Returns:
        Parameter name -> percent-decoded value, or None when the header is not an
        OAuth header carrying every parameter piston requires (then the request counts
        as anonymous, as in MAAS).
    """
    if not header or not header.lstrip().lower().startswith("oauth "):
        return None
    params = {
        name: unquote(quoted if quoted is not None else bare)
        for name, quoted, bare in _PARAM.findall(header.lstrip()[len("oauth ") :])
    }
    if not all(params.get(name) for name in REQUIRED_PARAMS):
        return None
    return params


class _NonceCache:
    """Nonces seen recently, bounded in size and age."""

    def __init__(self, max_entries: int, max_age: float) -> None:
        self._seen: OrderedDict[tuple[str, str, str, str], float] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age

    def check_and_add(self, key: tuple[str, str, str, str], now: float) -> bool:
        """Record a nonce; return False when it was already recorded."""
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return True

    def _expire(self, now: float) -> None:
        # Entries are in arrival order, so the oldest are at the front.
        while self._seen:
            oldest_key = next(iter(self._seen))
            if now - self._seen[oldest_key] <= self._max_age:
                break
            del self._seen[oldest_key]


class OAuthVerifier:
    """Verify signed requests against a token store.

    Args:
        store: Where consumers and tokens are looked up.
        wall_clock: Source of the current Unix time (timestamps are real time, not
            simulated time, because clients sign with their own clock).
        threshold: Largest accepted difference between timestamp and now, in seconds.
        max_nonces: Bound of the replay cache.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        wall_clock: Callable[[], float] = time.time,
        threshold: int = TIMESTAMP_THRESHOLD,
        max_nonces: int = 100_000,
    ) -> None:
        self._store = store
        self._wall_clock = wall_clock
        self._threshold = threshold
        self._nonces = _NonceCache(max_nonces, max_age=2.0 * threshold)
        self._lock = threading.Lock()

    def verify(self, params: dict[str, str]) -> Token:
        """Check one request's OAuth parameters.

        Args:
            params: From :func:`parse_authorization`.

        Returns:
            The token that signed the request.

        Raises:
            Unauthorized: Any check failed (HTTP 401 with MAAS's message).
        """
        version = params.get("oauth_version", "1.0")
        if version != "1.0":
            raise _error(f"OAuth version {version} not supported.")
        consumer_key, token_key = params["oauth_consumer_key"], params["oauth_token"]
        if not self._store.has_consumer(consumer_key):
            # MAAS replaces the library's "Invalid consumer." with a friendlier text.
            raise Unauthorized("Authorization Error: Invalid API key.")
        token = self._store.find_token(token_key)
        if token is None or token.consumer_key != consumer_key:
            raise _error(f"Invalid access token: {token_key}")
        self._check_timestamp(params["oauth_timestamp"])
        nonce_key = (consumer_key, token_key, params["oauth_nonce"], params["oauth_timestamp"])
        with self._lock:
            fresh = self._nonces.check_and_add(nonce_key, self._wall_clock())
        if not fresh:
            raise _error(f"Nonce already used: {params['oauth_nonce']}")
        method = params["oauth_signature_method"]
        if method not in SUPPORTED_METHODS:
            supported = ", ".join(SUPPORTED_METHODS)
            raise _error(
                f"Signature method {method} not supported try one of the following: {supported}"
            )
        # PLAINTEXT: the signature is "<consumer secret>&<token secret>", secret empty.
        if params["oauth_signature"] != f"&{token.token_secret}":
            raise _error("Invalid signature.")
        return token

    def _check_timestamp(self, raw: str) -> None:
        try:
            timestamp = int(raw)
        except ValueError:
            raise _error(f"Invalid timestamp: {raw}") from None
        now = int(self._wall_clock())
        if abs(now - timestamp) > self._threshold:
            raise _error(
                f"Expired timestamp: given {timestamp} and now {now} has a greater "
                f"difference than threshold {self._threshold}"
            )


def _error(message: str) -> Unauthorized:
    return Unauthorized(f"Authorization Error: {message!r}")
