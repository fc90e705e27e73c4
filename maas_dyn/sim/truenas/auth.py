"""Credentials of logged-in sessions and the tokens ``auth.generate_token`` hands out.

Credential kinds and their ``dump()`` follow the middleware's ``SessionManagerCredentials``
classes (``LOGIN_PASSWORD``, ``LOGIN_TWOFACTOR``, ``API_KEY``, ``TOKEN``); that dump is
what ``core.get_jobs`` shows as a job's ``credentials``.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["Credentials", "Token", "TokenStore"]

# An unused token expires after this many seconds when the caller gives no ttl.
DEFAULT_TOKEN_TTL = 600


@dataclass(frozen=True)
class Credentials:
    """How a session authenticated.

    Attributes:
        kind: ``LOGIN_PASSWORD``, ``LOGIN_TWOFACTOR``, ``API_KEY`` or ``TOKEN``.
        username: The account behind the session.
        api_key: ``{"id", "name"}`` of the key used (``API_KEY`` only).
        parent: The credentials that generated the token (``TOKEN`` only).
        login_at: When the session logged in.
        login_id: Unique id of this login.
    """

    kind: str
    username: str
    api_key: dict[str, Any] | None = None
    parent: Credentials | None = None
    login_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    login_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def dump(self) -> dict[str, Any]:
        """Describe the credentials as the middleware's ``dump_credentials`` does.

        Returns:
            ``{"type": kind, "data": {...}}``.
        """
        data: dict[str, Any]
        if self.parent is not None:
            data = {"parent": self.parent.dump(), "login_id": self.login_id,
                    "username": self.username}
        else:
            data = {"username": self.username, "login_id": self.login_id,
                    "login_at": self.login_at}
            if self.api_key is not None:
                data["api_key"] = {"id": self.api_key["id"], "name": self.api_key["name"]}
        return {"type": self.kind, "data": data}

    @property
    def root(self) -> Credentials:
        """The credentials at the start of a token chain (self when not a token)."""
        return self.parent.root if self.parent is not None else self


@dataclass
class Token:
    """A token from ``auth.generate_token``.

    Attributes:
        value: The token string.
        ttl: Seconds of inactivity after which it expires (``None``: never).
        attributes: Free-form attributes; download tokens carry ``job`` and ``filename``.
        origin: Peer address the token is bound to (``None``: any).
        parent: Credentials of the session that generated it.
        single_use: Destroyed after first use.
        last_used: Monotonic time of creation or last use.
    """

    value: str
    ttl: int | None
    attributes: dict[str, Any]
    origin: str | None
    parent: Credentials
    single_use: bool
    last_used: float = field(default_factory=time.monotonic)

    def expired(self, now: float) -> bool:
        """Tell whether the token outlived its ttl.

        Args:
            now: Current monotonic time.

        Returns:
            True when expired.
        """
        return self.ttl is not None and now - self.last_used > self.ttl


class TokenStore:
    """Thread-safe store of live tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}

    def create(self, parent: Credentials, *, ttl: int | None = DEFAULT_TOKEN_TTL,
               attributes: dict[str, Any] | None = None, origin: str | None = None,
               single_use: bool = False) -> Token:
        """Issue a token.

        Args:
            parent: Credentials of the requesting session.
            ttl: Seconds of inactivity before expiry.
            attributes: Token attributes.
            origin: Bind the token to this peer address.
            single_use: Destroy after first use.

        Returns:
            The new token.
        """
        token = Token(secrets.token_urlsafe(48), ttl, dict(attributes or {}), origin, parent,
                      single_use)
        with self._lock:
            self._tokens[token.value] = token
        return token

    def find(self, value: str, origin: str) -> Token | None:
        """Look a live token up and mark it used.

        Args:
            value: The token string.
            origin: Peer address of the user.

        Returns:
            The token, or ``None`` when unknown, expired or bound to another origin.
        """
        now = time.monotonic()
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return None
            if token.expired(now):
                del self._tokens[value]
                return None
            if token.origin is not None and token.origin != origin:
                return None
            token.last_used = now
            return token

    def destroy(self, token: Token) -> None:
        """Forget a token (after its single use, or on logout).

        Args:
            token: The token.
        """
        with self._lock:
            self._tokens.pop(token.value, None)
