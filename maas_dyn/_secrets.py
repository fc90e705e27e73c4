"""What is a secret, decided once for logs, errors, ``--debug`` output and cassettes.

:data:`SECRET_NAMES` names the parameters, JSON keys, multipart fields and query keys
whose values are secrets; :func:`redact_query` hides such values in URLs and in any text
quoting one (a requests error message, a log line).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = [
    "REDACTED",
    "SECRET_NAMES",
    "SecretName",
    "is_secret_name",
    "protect_urllib3_logs",
    "redact_query",
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
