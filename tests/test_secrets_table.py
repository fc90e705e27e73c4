"""The one table of secret names, and query redaction (maas_dyn/_secrets.py)."""

from __future__ import annotations

import logging

import pytest

from maas_dyn._secrets import REDACTED, is_secret_name, protect_urllib3_logs, redact_query


@pytest.mark.parametrize(("text", "expected"), [
    ("http://r/MAAS/api/2.0/files/?op=get_by_key&key=abc", "?op=get_by_key&key=<redacted>"),
    ("ws://nas/_download/1?auth_token=T1&x=1", "?auth_token=<redacted>&x=1"),
    ("failed: password=hunter2 and api%5Fkey=K", "password=<redacted> and api%5Fkey=<redacted>"),
    ("?power_parameters_power_pass=p;k_g=KG", "power_pass=<redacted>;k_g=<redacted>"),
    ("GET /machines/?hostname=a&status=ready", "?hostname=a&status=ready"),
    ("url: /files/?op=get_by_key&key=abc (Caused by X)", "&key=<redacted> (Caused by X)"),
    ("token=", "token="),  # nothing to hide
])
def test_secret_query_values_are_hidden(text: str, expected: str) -> None:
    redacted = redact_query(text)
    assert redacted.endswith(expected)
    assert redacted.count(REDACTED) == expected.count(REDACTED)


def test_hide_sees_each_unquoted_secret() -> None:
    seen: list[str] = []
    assert redact_query("?token=a%2Fb&name=x", lambda value: seen.append(value) or "H") \
        == "?token=H&name=x"
    assert seen == ["a/b"]


def test_names() -> None:
    assert is_secret_name("key") and is_secret_name("TOKEN_SECRET")
    assert not is_secret_name("keyring") and not is_secret_name("hostname")


def test_urllib3_request_lines_hide_secrets(caplog: pytest.LogCaptureFixture) -> None:
    protect_urllib3_logs()
    logger = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG, "urllib3.connectionpool"):
        logger.debug('%s "%s %s"', "http://r", "GET", "/MAAS/api/2.0/files/?op=get_by_key&key=S3")
    assert "S3" not in caplog.text and "key=<redacted>" in caplog.text
