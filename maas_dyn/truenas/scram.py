"""The client side of TrueNAS's ``SCRAM`` login (26.0+): API keys that never cross the wire.

``auth.login_ex`` carries RFC 5802 SCRAM-SHA-512 in two calls::

    {"mechanism": "SCRAM", "scram_type": "CLIENT_FIRST_MESSAGE", "rfc_str": "n,,n=admin:1,r=..."}
      -> {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
          "rfc_str": "r=...,s=<salt>,i=<iterations>", "user_info": null}
    {"mechanism": "SCRAM", "scram_type": "CLIENT_FINAL_MESSAGE", "rfc_str": "c=...,r=...,p=..."}
      -> {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE",
          "rfc_str": "v=<server signature>", "user_info": {...}}

TrueNAS specifics (truenas/middleware ``api/v26_0_0/auth.py`` ``AuthSCRAM``;
truenas/api_client ``scram_impl.py``, ``py_scram/``): the user name carries the API key
id (``n=admin:1``); the secret is the part of the key after ``<id>-``; nonces are base64
of 32 random bytes and the combined nonce is base64 of client-nonce bytes + server-nonce
bytes; iterations must lie in [50 000, 5 000 000]. Over TLS the exchange is bound to the
server certificate (RFC 5929 ``tls-server-end-point``, GS2 header
``p=tls-server-end-point``), read from the live socket, so it holds with ``verify=False``
too: a man in the middle presenting another certificate cannot complete the proof.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maas_dyn._scram import (
    MAX_ITERATIONS,
    MIN_ITERATIONS,
    ScramKeys,
    ScramSyntaxError,
    auth_message,
    b64,
    client_proof,
    derive_keys,
    gs2_header,
    keys_from_client_key,
    new_nonce,
    parse_attributes,
    server_signature,
    unb64,
)

__all__ = ["DerivedApiKey", "ScramExchange", "ScramStepError", "split_api_key"]

_RAW_KEY = re.compile(r"^(\d+)-(\S+)$")

STEP_FIRST = "client-first (step 1 of 4)"
STEP_SERVER_FIRST = "server-first (step 2 of 4)"
STEP_FINAL = "client-final (step 3 of 4)"
STEP_SERVER_FINAL = "server-final (step 4 of 4)"


class ScramStepError(Exception):
    """One step of the exchange failed; the login turns it into an AuthenticationError.

    Attributes:
        step: Which step (``client-first``, ``server-first``, ``client-final``,
            ``server-final``).
        text: What happened (never a secret).
        hint: What to do.
    """

    def __init__(self, step: str, text: str, hint: str):
        super().__init__(f"{step}: {text}")
        self.step = step
        self.text = text
        self.hint = hint


def split_api_key(value: str) -> tuple[int, str]:
    """Split ``"<id>-<secret>"`` into its id and secret.

    Args:
        value: The API key as TrueNAS shows it.

    Returns:
        ``(id, secret)``.

    Raises:
        ValueError: Not of that form (the message holds no part of the value).
    """
    match = _RAW_KEY.match(value.strip())
    if match is None:
        raise ValueError("an API key looks like <id>-<secret>, e.g. 1-AbC...")
    return int(match.group(1)), match.group(2)


@dataclass(frozen=True, repr=False)
class DerivedApiKey:
    """An API key kept as SCRAM keys: enough to log in by SCRAM, not to send in plain.

    What a profile stores instead of the raw key (as the official client's
    "precomputed" key material). Whoever holds it can log in as the key's user by SCRAM,
    so it is still a secret, but it cannot be replayed as ``API_KEY_PLAIN`` nor used
    on another box.

    Attributes:
        key_id: The API key's id.
        keys: ClientKey, StoredKey, ServerKey and the salt and iterations they were
            derived with.
    """

    key_id: int
    keys: ScramKeys

    def __repr__(self) -> str:
        return f"DerivedApiKey(key_id={self.key_id}, keys=<hidden>)"

    def to_dict(self) -> dict[str, Any]:
        """Serialise for a profile (base64 values)."""
        return {"api_key_id": self.key_id, "salt": b64(self.keys.salt),
                "iterations": self.keys.iterations, "client_key": b64(self.keys.client_key),
                "server_key": b64(self.keys.server_key)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DerivedApiKey:
        """Read what :meth:`to_dict` wrote.

        Raises:
            ValueError: A field is missing or malformed.
        """
        try:
            keys = keys_from_client_key(unb64(str(data["salt"])), int(data["iterations"]),
                                        unb64(str(data["client_key"])),
                                        unb64(str(data["server_key"])))
            return cls(int(data["api_key_id"]), keys)
        except (KeyError, TypeError, ValueError) as exc:
            name = exc.args[0] if isinstance(exc, KeyError) else "a field"
            raise ValueError(f"derived API key material is incomplete or malformed ({name})") \
                from None


class ScramExchange:
    """One SCRAM-SHA-512 login attempt, message by message.

    Args:
        username: The API key's user.
        key: The raw key (``"<id>-<secret>"``) or its :class:`DerivedApiKey`.
        binding: The ``tls-server-end-point`` value of the server certificate, or
            ``None`` for an unbound exchange (``ws://``).

    Raises:
        ScramStepError: The user name cannot be sent, or the key is malformed.
    """

    def __init__(self, username: str, key: str | DerivedApiKey, binding: bytes | None):
        if not username or "," in username or "=" in username:
            raise ScramStepError(STEP_FIRST, "the user name is empty or contains ',' or '='",
                                 "pass the username the API key belongs to")
        self._secret: bytes | None = None
        self._keys: ScramKeys | None = None
        if isinstance(key, DerivedApiKey):
            self.key_id, self._keys = key.key_id, key.keys
        else:
            try:
                self.key_id, secret = split_api_key(key)
            except ValueError as exc:
                raise ScramStepError(STEP_FIRST, str(exc), "check the API key") from None
            self._secret = secret.encode()
        self._binding = binding
        self._nonce = new_nonce()
        self._gs2 = gs2_header(binding is not None)
        self._first_bare = f"n={username}:{self.key_id},r={b64(self._nonce)}"
        self._message = b""
        self.derived: ScramKeys | None = self._keys

    def first(self) -> dict[str, Any]:
        """The ``auth.login_ex`` argument of step 1."""
        return {"mechanism": "SCRAM", "scram_type": "CLIENT_FIRST_MESSAGE",
                "rfc_str": self._gs2 + self._first_bare}

    def final(self, reply: Mapping[str, Any]) -> dict[str, Any]:
        """Check the server-first message and build the ``auth.login_ex`` argument of step 3.

        Args:
            reply: The answer to step 1 (``SCRAM_RESPONSE`` / ``SERVER_FIRST_RESPONSE``).

        Returns:
            The client-final call argument.

        Raises:
            ScramStepError: The server-first message is malformed, does not echo the
                client nonce, or asks for iterations out of range.
        """
        text = _rfc_str(reply, "SERVER_FIRST_RESPONSE", STEP_SERVER_FIRST)
        try:
            attrs = parse_attributes(text, "rsi")
            combined, salt, iterations = unb64(attrs["r"]), unb64(attrs["s"]), int(attrs["i"])
        except (ScramSyntaxError, ValueError):
            raise ScramStepError(STEP_SERVER_FIRST, "the server-first message is malformed",
                                 "the server does not speak TrueNAS SCRAM; report this") \
                from None
        if not combined.startswith(self._nonce) or len(combined) <= len(self._nonce):
            raise ScramStepError(STEP_SERVER_FIRST, "the server did not echo the client nonce",
                                 "the answer is not to this login; retry, and suspect a relay")
        if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
            raise ScramStepError(
                STEP_SERVER_FIRST,
                f"the server asks for {iterations} PBKDF2 iterations, outside the accepted "
                f"[{MIN_ITERATIONS}, {MAX_ITERATIONS}]",
                "a genuine TrueNAS uses 500000; check that this is the right server")
        if not salt:
            raise ScramStepError(STEP_SERVER_FIRST, "the server sent an empty salt",
                                 "check that this is the right server")
        keys = self._keys
        if keys is None:
            assert self._secret is not None
            keys = derive_keys(self._secret, salt, iterations)
        elif (keys.salt, keys.iterations) != (salt, iterations):
            raise ScramStepError(
                STEP_SERVER_FIRST,
                "the stored SCRAM keys were derived with another salt or iteration count "
                "than the server now uses (the API key was reset or replaced)",
                "log in again with the current raw API key")
        self.derived = keys
        cbind = b64(self._gs2.encode() + (self._binding or b""))
        final_bare = f"c={cbind},r={attrs['r']}"
        self._message = auth_message(self._first_bare, text, final_bare)
        proof = client_proof(keys, self._message)
        return {"mechanism": "SCRAM", "scram_type": "CLIENT_FINAL_MESSAGE",
                "rfc_str": f"{final_bare},p={b64(proof)}"}

    def verify(self, reply: Mapping[str, Any]) -> None:
        """Check the server's signature (step 4): the server, too, knows the key.

        Args:
            reply: The answer to step 3 (``SCRAM_RESPONSE`` / ``SERVER_FINAL_RESPONSE``).

        Raises:
            ScramStepError: Malformed, or the signature does not match.
        """
        text = _rfc_str(reply, "SERVER_FINAL_RESPONSE", STEP_SERVER_FINAL)
        assert self.derived is not None
        try:
            signature = unb64(parse_attributes(text, "v")["v"])
        except ScramSyntaxError:
            raise ScramStepError(STEP_SERVER_FINAL, "the server-final message is malformed",
                                 "the server does not speak TrueNAS SCRAM; report this") \
                from None
        expected = server_signature(self.derived.server_key, self._message)
        if not hmac.compare_digest(signature, expected):
            raise ScramStepError(
                STEP_SERVER_FINAL,
                "the server's signature does not match: it does not hold this API key, or "
                "something between client and server altered the exchange",
                "do not use this connection; check the URL, the certificate and the network "
                "path (a man in the middle is possible)")


def _rfc_str(reply: Mapping[str, Any], scram_type: str, step: str) -> str:
    if reply.get("scram_type") != scram_type or not isinstance(reply.get("rfc_str"), str):
        raise ScramStepError(step, f"expected a {scram_type}, got scram_type="
                             f"{reply.get('scram_type')!r}",
                             "the server does not speak TrueNAS SCRAM; report this")
    return str(reply["rfc_str"])
