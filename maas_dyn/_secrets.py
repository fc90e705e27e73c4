"""What is a secret, decided once for logs, errors, ``--debug`` output and cassettes.

:data:`SECRET_NAMES` names the parameters, JSON keys, multipart fields and query keys
whose values are secrets; :func:`redact_query` hides such values in URLs and in any text
quoting one (a requests error message, a log line); :func:`redact_text` also hides quoted
``name="value"`` / ``"name": "value"`` pairs and credential headers.

A server may echo a request back in its error text (the ``Authorization`` header, the
login parameters). Each client therefore keeps a :class:`SecretMask` of its own secret
values, and its funnel passes every error it raises through :meth:`SecretMask.error`:
the values are hidden wherever they appear, whatever name (or none) they are under.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SECRET_NAMES",
    "SecretMask",
    "SecretName",
    "is_secret_name",
    "protect_urllib3_logs",
    "redact_query",
    "redact_text",
]

REDACTED = "<redacted>"


@dataclass(frozen=True)
class SecretName:
    """Names whose values are secrets.

    Attributes:
        pattern: Searched (case-insensitively) in a parameter, key, field or query name.
        why: Where such secrets occur.
    """

    pattern: str
    why: str


SECRET_NAMES: tuple[SecretName, ...] = (
    SecretName(r"password|passwd|passphrase|(^|_)pass$",
               "auth.login_ex and user.create passwords, MAAS users, BMC power_pass"),
    SecretName(r"secret", "MAAS token_secret, TOTP secrets"),
    SecretName(r"token", "TOKEN_PLAIN logins, otp_token, MAAS token_key, auth_token in URLs"),
    SecretName(r"api_?key|consumer_key", "TrueNAS API keys, MAAS OAuth consumer keys"),
    SecretName(r"private_?key", "TLS and SSH private keys"),
    SecretName(r"^key$", "MAAS file keys: files get_by_key hands out a file to anyone with it"),
    SecretName(r"(^|_)k_g$", "IPMI K_g BMC keys (MAAS power_parameters_k_g)"),
    SecretName(r"^(unix|smb|key|nt|lm|pw|password)_?hash$",
               "password and key hashes: TrueNAS user unixhash/smbhash, api_key keyhash"),
    SecretName(r"^(client|server|stored)_?key$|^salt$|^rfc_str$|^(client_)?proof$",
               "SCRAM: derived API key material (ClientKey, ServerKey, StoredKey, salt; "
               "api_key entries and profiles), auth.login_ex SCRAM messages (rfc_str carries "
               "the client proof and the server signature)"),
    SecretName(r"^oauth_(signature|nonce)$",
               "OAuth header parameters a server may echo (the PLAINTEXT signature is "
               "&token_secret)"),
)
_SECRET_NAME = re.compile("|".join(f"(?:{rule.pattern})" for rule in SECRET_NAMES), re.I)

# A query parameter inside any string: "...?auth_token=abc&x=1", "... &key=abc (Caused",
# and "name=value" standing alone in a message.
_QUERY_PAIR = re.compile(r"(^|[?&;\s])([^=&;\s\"'#?]+)=([^&;\s\"'#]*)")


def is_secret_name(name: str) -> bool:
    """Tell whether values of ``name`` are secrets.

    Args:
        name: A parameter, key, field or query name.

    Returns:
        Whether a rule of :data:`SECRET_NAMES` matches it.
    """
    return bool(_SECRET_NAME.search(name))


def redact_query(text: str, hide: Callable[[str], str] | None = None) -> str:
    """Hide the values of secret query parameters in a URL or in any text quoting one.

    Args:
        text: A URL, a message, a log line.
        hide: Called with each secret value (unquoted); returns what replaces it.
            Default: :data:`REDACTED`.

    Returns:
        The text with each such value replaced.
    """
    def replace(match: re.Match[str]) -> str:
        lead, name, value = match.groups()
        if value and is_secret_name(unquote(name)):
            return f"{lead}{name}={hide(unquote(value)) if hide else REDACTED}"
        return match.group(0)

    return _QUERY_PAIR.sub(replace, text)


# name="value", name='value', "name": "value" (JSON, Python reprs, OAuth headers).
_QUOTED_PAIR = re.compile(
    r"""(["']?)([A-Za-z_][\w.-]*)\1(\s*[:=]\s*)(["'])((?:\\.|(?!\4).)*)\4""")
# A credential header quoted in a message, up to the end of its line.
_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization|cookie)([\"']?\s*[:=]\s*)[^\r\n]+")


def redact_text(text: str) -> str:
    """Hide values under secret names anywhere in a text (a server's message, a log line).

    Covers query parameters (:func:`redact_query`), quoted pairs such as
    ``oauth_signature="&abc"``, ``"password": "abc"`` or ``'token': 'abc'``, and the rest
    of a line quoting an ``Authorization`` or ``Cookie`` header.

    Args:
        text: The text.

    Returns:
        The text with each such value replaced by :data:`REDACTED`.
    """
    def pair(match: re.Match[str]) -> str:
        quote_mark, name, separator, value_quote, value = match.groups()
        if value and is_secret_name(name):
            return f"{quote_mark}{name}{quote_mark}{separator}{value_quote}{REDACTED}{value_quote}"
        return match.group(0)

    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return redact_query(_QUOTED_PAIR.sub(pair, text))


# Shorter secret values are not searched for in text: they would hide ordinary words.
MIN_SECRET_LENGTH = 4
# Nesting of error data walked by SecretMask; deeper containers are replaced whole.
_MAX_MASK_DEPTH = 32
_TEXT_ATTRIBUTES = ("message", "hint", "url", "reason", "location", "errname")
_DATA_ATTRIBUTES = ("data", "trace", "field_errors", "errors", "headers", "result")
_E = TypeVar("_E", bound=BaseException)


def _forms(secret: str) -> set[str]:
    # How a server may quote a value back: as is, URL-encoded, JSON-escaped, base64.
    forms = {secret, quote(secret, safe=""), quote_plus(secret),
             json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode().rstrip("=")}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretMask:
    """A client's own secret values, hidden from any text a server sends back.

    Args:
        secrets: The values (API key parts, passwords, tokens); ``None`` and values
            shorter than :data:`MIN_SECRET_LENGTH` are skipped.
    """

    def __init__(self, secrets: Iterable[str | None] = ()):
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms |= _forms(secret)
        # Longest first: a secret that contains another is hidden whole.
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes = [form.encode() for form in ordered]

    def __repr__(self) -> str:
        return f"SecretMask({len(self._bytes)} form(s), values hidden)"

    def text(self, text: str) -> str:
        """Hide the secrets (and values under secret names) in a text.

        Args:
            text: Text from a server, or built from it.

        Returns:
            The text, each secret replaced by :data:`REDACTED`.
        """
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return redact_text(text)

    def bytes(self, data: bytes) -> bytes:
        """Hide the secrets in a raw body.

        Args:
            data: Bytes from a server.

        Returns:
            The bytes, each secret (in its UTF-8 form) replaced.
        """
        for form in self._bytes:
            data = data.replace(form, REDACTED.encode())
        return data

    def value(self, value: Any, depth: int = 0) -> Any:
        """Hide the secrets in every string of decoded data.

        Args:
            value: JSON-like data (dicts, lists, tuples, strings...).
            depth: Levels already walked.

        Returns:
            A copy with each string masked; containers deeper than 32 levels
            become :data:`REDACTED` whole (nothing is left unchecked).
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.bytes(value)
        if isinstance(value, (dict, list, tuple)) and depth >= _MAX_MASK_DEPTH:
            return REDACTED
        if isinstance(value, dict):
            return {self.value(k, depth + 1): self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(item, depth + 1) for item in value)
        return value

    def error(self, error: _E) -> _E:
        """Hide the secrets in an exception's arguments and attributes, in place.

        Args:
            error: The exception about to be raised (built from a server's answer).

        Returns:
            The same exception.
        """
        error.args = tuple(self.value(arg) for arg in error.args)
        for name in _TEXT_ATTRIBUTES:
            found = getattr(error, name, None)
            if isinstance(found, str):
                setattr(error, name, self.text(found))
        for name in _DATA_ATTRIBUTES:
            found = getattr(error, name, None)
            if found is not None and not callable(found):
                setattr(error, name, self.value(found))
        content = getattr(error, "content", None)
        if isinstance(content, bytes):
            error.content = self.bytes(content)  # type: ignore[attr-defined]
        return error


class _RedactFilter(logging.Filter):
    """Hides secret query values in records of urllib3's request log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = redact_query(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


_FILTER = _RedactFilter()


def protect_urllib3_logs() -> None:
    """Make urllib3's DEBUG request lines (which quote the query string) hide secrets.

    Idempotent; called by every client that sends HTTP through ``requests``.
    """
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
