"""A profile's :class:`~maas_dyn.maas.Client`, and keeping the profile's description current.

A stored profile carries its description, so its client is built without network
I/O. Every describe document the client fetches (``login``, ``refresh``, or the
client's own refresh when a response's ``X-MAAS-API-Hash`` shows an upgrade) is
recorded from the ``after-receive`` hook, so the profile can store exactly what the
server sent. The ``env`` pseudo-profile has no file: it uses the library's
description cache instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from maas_dyn.cli._common.profiles import ENV_PROFILE, Profile, ProfileStore, split_api_url
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.maas.client import Client
from maas_dyn.maas.openapi import Overlay
from maas_dyn.maas.response import Response

__all__ = ["Session", "open_session"]

# A description without handlers: a client that has not fetched the real one yet.
_NO_HANDLERS: Mapping[str, Any] = {"resources": []}


@dataclass
class Session:
    """A client and the profile it was made from.

    Attributes:
        client: The client.
        profile: The profile.
        describe_url: Where the client fetches the description.
    """

    client: Client
    profile: Profile
    describe_url: str
    _fetched: bytes | None = None

    def record(self, *, response: Response) -> None:
        """Hook for ``after-receive``: keep the body of a fetched description."""
        if response.url == self.describe_url and response.status == 200:
            self._fetched = response.content

    @property
    def fetched(self) -> Mapping[str, Any] | None:
        """The description the client fetched during this session, if it fetched one."""
        return None if self._fetched is None else dict(json.loads(self._fetched))

    @property
    def overlay(self) -> Mapping[str, Any] | None:
        """The client's OpenAPI overlay in the form a profile stores, or ``None``."""
        overlay = self.client.description.overlay
        return None if overlay is None else dict(json.loads(overlay.to_compact()))

    def fetch(self) -> Mapping[str, Any]:
        """Fetch the server's description now (unsigned ``GET describe/``).

        Returns:
            The document.
        """
        self.client.refresh()
        assert self._fetched is not None  # refresh() succeeded, so the hook saw it
        return dict(json.loads(self._fetched))

    def save_new_description(self, store: ProfileStore) -> bool:
        """Store a description fetched during the session in the (stored) profile.

        Args:
            store: Where the profile lives.

        Returns:
            Whether the profile was rewritten.
        """
        document = self.fetched
        if document is None or self.profile.name == ENV_PROFILE:
            return False
        store.save(replace(self.profile, description=document, openapi=self.overlay))
        return True


def _stored_overlay(profile: Profile) -> Overlay | bool:
    if profile.openapi is None:
        return True  # fetched with the description, if the region serves one
    try:
        return Overlay.from_compact(json.dumps(profile.openapi).encode())
    except (ValueError, TypeError):
        return True  # unreadable: the next refresh or login replaces it


def open_session(profile: Profile, runtime: Runtime, *, insecure: bool = False) -> Session:
    """Build the client for a profile, without network I/O for a stored profile.

    Args:
        profile: A stored profile (its description is used; without one the client
            has no handlers until :meth:`Session.fetch`), or the ``env``
            pseudo-profile (cached description, fetched when not cached).
        runtime: Supplies the transport.
        insecure: Skip TLS certificate verification (else the profile's CA bundle, if
            it has one, or the system's trust store).

    Returns:
        The session.
    """
    base, version = split_api_url(profile.url)
    env = profile.name == ENV_PROFILE
    description = None if env else (profile.description or _NO_HANDLERS)
    verify: bool | str = False if insecure else profile.verify
    # The OpenAPI overlay is kept with the description: in the profile (fetched again
    # only when the description is), or in the env profile's description cache.
    client = Client(base, profile.api_key, description=description, cache=env,
                    verify=verify, transport=runtime.transport, api_version=version,
                    openapi=_stored_overlay(profile))
    session = Session(client, profile, f"{client.url}api/{version}/describe/")
    client.hooks.register("after-receive", session.record)
    return session
