"""Redaction of secrets from recorded sessions: one table of rules for both dialects.

What is a secret is decided by the tables below, not at call sites:

- :data:`SECRET_NAMES` (the library's one table, from :mod:`maas_dyn._secrets`): names
  of parameters, JSON keys, multipart fields and query keys whose values are secrets
  (``auth.login_ex`` passwords and API keys, ``user.create`` passwords, MAAS
  ``token_secret``, ``auth_token`` in download URLs...).
- :data:`SECRET_POSITIONS`: positional parameters of the pre-24.10 TrueNAS logins.
- :data:`SECRET_RESULTS`: results that are secrets (``auth.generate_token``...).
- :data:`OAUTH_PARAMS`: which parts of a MAAS ``Authorization`` header are secret, and
  which a replay compares (never the nonce or the timestamp).

Every value removed by a rule is also remembered, and scrubbed wherever else it appears
(a password echoed in a job record, a token inside a text body): see :class:`Redactor`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from maas_dyn._secrets import REDACTED, SECRET_NAMES, SecretName, is_secret_name, redact_query

__all__ = [
    "OAUTH_PARAMS",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_NAMES",
    "SECRET_POSITIONS",
    "SECRET_RESULTS",
    "OAuthParam",
    "Redactor",
    "SecretName",
    "oauth_params",
]

# Shorter strings are not scrubbed as literals: they would garble unrelated text (real
# secrets are long: MAAS key parts have 18 and 32 characters, TrueNAS keys ~64).
MIN_LITERAL = 6

# Pre-24.10 TrueNAS logins take their secrets positionally: method -> secret positions.
SECRET_POSITIONS: Mapping[str, tuple[int, ...]] = {
    "auth.login": (1, 2),  # username, password, otp_token
    "auth.login_with_api_key": (0,),
    "auth.login_with_token": (0,),
}

# Results that are secrets: method -> keys of the result holding one (empty: all of it).
SECRET_RESULTS: Mapping[str, tuple[str, ...]] = {
    "auth.generate_token": (),
    "api_key.create": ("key",),
    "api_key.update": ("key",),  # with reset=True it answers a new key
}

# HTTP headers whose whole value is a secret (Authorization is parsed: OAUTH_PARAMS).
SECRET_HEADERS = frozenset({"cookie", "set-cookie", "x-csrftoken"})


@dataclass(frozen=True)
class OAuthParam:
    """How one parameter of an OAuth ``Authorization`` header is treated.

    Attributes:
        secret: Redacted when recorded.
        compared: Compared when a replayed request is matched to a recorded one.
    """

    secret: bool
    compared: bool


OAUTH_PARAMS: Mapping[str, OAuthParam] = {
    "oauth_consumer_key": OAuthParam(secret=True, compared=True),
    "oauth_token": OAuthParam(secret=True, compared=True),
    "oauth_signature": OAuthParam(secret=True, compared=True),  # "&" + token secret
    "oauth_nonce": OAuthParam(secret=False, compared=False),  # new on every send
    "oauth_timestamp": OAuthParam(secret=False, compared=False),
    "oauth_version": OAuthParam(secret=False, compared=True),
    "oauth_signature_method": OAuthParam(secret=False, compared=True),
}
_UNKNOWN_OAUTH = OAuthParam(secret=True, compared=True)  # unknown: assume the worst

_OAUTH_PAIR = re.compile(r'(\w+)="([^"]*)"')


def oauth_params(header: str) -> dict[str, str]:
    """Parse an ``OAuth k="v", ...`` header into its (still quoted) parameters.

    Args:
        header: The header's value.

    Returns:
        ``{name: value}``.
    """
    return dict(_OAUTH_PAIR.findall(header))


class Redactor:
    """Applies the rules, and scrubs every secret it has seen wherever it appears."""

    def __init__(self) -> None:
        self._literals: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._raw_pattern: re.Pattern[bytes] | None = None

    def learn(self, secret: str) -> None:
        """Remember a secret, to scrub it from every later string and body.

        Args:
            secret: The value (ignored when shorter than :data:`MIN_LITERAL`, or
                already a redaction mark).
        """
        if len(secret) < MIN_LITERAL or REDACTED in secret or secret in self._literals:
            return
        self._literals.add(secret)
        # Longest first, so a secret inside another is not half-replaced.
        ordered = "|".join(map(re.escape, sorted(self._literals, key=len, reverse=True)))
        self._pattern = re.compile(ordered)
        self._raw_pattern = re.compile(ordered.encode("utf-8"))

    @staticmethod
    def secret_name(name: str) -> bool:
        """Tell whether values of ``name`` are secrets.

        Args:
            name: A parameter, key, field or query name.

        Returns:
            Whether a rule of :data:`SECRET_NAMES` matches it.
        """
        return is_secret_name(name)

    def hide(self, value: str) -> str:
        """Redact one secret value, remembering it to scrub it elsewhere.

        Args:
            value: The secret.

        Returns:
            :data:`REDACTED`.
        """
        self.learn(value)
        return REDACTED

    # -- values -----------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Redact secret query parameters in ``text`` and every known secret.

        Args:
            text: Any string: a URL, a message, a value.

        Returns:
            The redacted text.
        """
        text = redact_query(text, self.hide)
        return text if self._pattern is None else self._pattern.sub(REDACTED, text)

    def data(self, raw: bytes) -> bytes:
        """Scrub every known secret from a body.

        Args:
            raw: Body bytes (text or binary).

        Returns:
            The body with each known secret replaced by :data:`REDACTED`.
        """
        if self._raw_pattern is None:
            return raw
        return self._raw_pattern.sub(REDACTED.encode("ascii"), raw)

    def value(self, value: Any) -> Any:
        """Redact a JSON-like value: secret keys at any depth, and every string.

        Args:
            value: Mappings, lists, strings and scalars.

        Returns:
            A redacted copy.
        """
        if isinstance(value, Mapping):
            return {key: self.field(str(key), item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def field(self, name: str, value: Any) -> Any:
        """Redact the value of a named field, parameter or key.

        Only text is a secret: a flag such as ``password_disabled: true`` is kept.

        Args:
            name: The field's name, matched against :data:`SECRET_NAMES`.
            value: Its value.

        Returns:
            The redacted value.
        """
        if isinstance(value, str) and value and self.secret_name(name):
            return self.hide(value)
        return self.value(value)

    # -- TrueNAS calls ----------------------------------------------------------------------

    def params(self, method: str, params: list[Any]) -> list[Any]:
        """Redact a call's positional parameters.

        Args:
            method: The method called.
            params: Its parameters.

        Returns:
            A redacted copy.
        """
        secret = SECRET_POSITIONS.get(method, ())
        return [self.hide(item) if index in secret and isinstance(item, str) and item
                else self.value(item) for index, item in enumerate(params)]

    def result(self, method: str, result: Any) -> Any:
        """Redact a call's result.

        Args:
            method: The method that answered.
            result: Its result.

        Returns:
            A redacted copy.
        """
        keys = SECRET_RESULTS.get(method)
        if keys == () and isinstance(result, str):
            return self.hide(result)
        if keys and isinstance(result, Mapping):
            result = {k: self.hide(v) if k in keys and isinstance(v, str) else v
                      for k, v in result.items()}
        return self.value(result)

    # -- MAAS requests ----------------------------------------------------------------------

    def authorization(self, header: str) -> str:
        """Redact the secret parameters of an OAuth ``Authorization`` header.

        Args:
            header: ``OAuth oauth_consumer_key="...", ...`` (or any other scheme, which
                is redacted whole).

        Returns:
            The header with secret values replaced; nonce and timestamp are kept.
        """
        params = oauth_params(header)
        if not header.startswith("OAuth ") or not params:
            return self.hide(header)
        shown = []
        for name, value in params.items():
            secret = OAUTH_PARAMS.get(name, _UNKNOWN_OAUTH).secret
            if secret:
                # The PLAINTEXT signature is "consumer secret&token secret".
                for part in (value, *unquote(value).split("&")):
                    self.learn(part)
            shown.append(f'{name}="{REDACTED if secret else value}"')
        return "OAuth " + ", ".join(shown)
