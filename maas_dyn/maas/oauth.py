"""OAuth 1.0a PLAINTEXT signing, the way MAAS expects it.

A MAAS API key is ``consumer_key:token_key:token_secret`` with an empty consumer secret.
Every send (retries included) is signed afresh because the region rejects a reused
nonce and a timestamp more than 300 seconds off.
"""

from __future__ import annotations

from typing import Any

from maas_dyn.errors import InvalidAPIKeyError

__all__ = ["Credentials", "parse_api_key"]

_HOW_TO_GET_ONE = (
    "create one with `maas apikey --username=NAME` on the region, or in the web UI "
    "under your user preferences > API keys"
)


class Credentials:
    """The three parts of a MAAS API key. The secret never appears in ``repr``.

    Args:
        consumer_key: OAuth consumer key.
        token_key: OAuth token key.
        token_secret: OAuth token secret.
    """

    __slots__ = ("_signer", "consumer_key", "token_key", "token_secret")

    def __init__(self, consumer_key: str, token_key: str, token_secret: str):
        self.consumer_key = consumer_key
        self.token_key = token_key
        self.token_secret = token_secret
        self._signer: Any = None

    def __repr__(self) -> str:
        return f"Credentials(consumer_key={self.consumer_key[:4]!r}…, secret hidden)"

    def secrets(self) -> tuple[str, ...]:
        """Return the values that must never be logged or recorded."""
        return (self.token_key, self.token_secret, f"{self.consumer_key}:{self.token_key}")

    def authorization(self, method: str, url: str) -> str:
        """Return a freshly signed ``Authorization`` header value.

        Args:
            method: HTTP method of the request.
            url: Full request URL.

        Returns:
            ``OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", ...`` with a
            new nonce and the current timestamp.
        """
        signer = self._signer
        if signer is None:
            # oauthlib costs ~10 ms to import; only a signed request pays for it.
            from oauthlib import oauth1

            signer = oauth1.Client(
                self.consumer_key,
                client_secret="",
                resource_owner_key=self.token_key,
                resource_owner_secret=self.token_secret,
                signature_method=oauth1.SIGNATURE_PLAINTEXT,
            )
            self._signer = signer
        _, headers, _ = signer.sign(url, http_method=method)
        value: str = headers["Authorization"]
        return value


def parse_api_key(api_key: str) -> Credentials:
    """Split a MAAS API key into its parts.

    Args:
        api_key: ``consumer_key:token_key:token_secret``.

    Returns:
        The credentials.

    Raises:
        InvalidAPIKeyError: The key does not have three non-empty parts. The message
            never repeats the key.
    """
    if not isinstance(api_key, str):
        raise InvalidAPIKeyError(
            f"a MAAS API key is text, not {type(api_key).__name__}; {_HOW_TO_GET_ONE}"
        )
    parts = api_key.strip().split(":")
    if len(parts) != 3 or not all(parts):
        raise InvalidAPIKeyError(
            "a MAAS API key has three non-empty parts separated by colons "
            f"(consumer:token:secret), this one has {len(parts)} part(s); {_HOW_TO_GET_ONE}"
        )
    return Credentials(*parts)
