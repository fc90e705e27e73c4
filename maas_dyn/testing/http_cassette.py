"""MAAS cassettes: HTTP sessions recorded and replayed through vcrpy.

A MAAS client sends through ``requests``, which vcrpy intercepts. Requests are matched
by meaning, not by bytes: method, path, ``op`` and the decoded parameters (multipart
bodies are decoded with :func:`~maas_dyn.maas.encode.decode_fields`, so boundaries do
not matter), and the OAuth header without its nonce and timestamp (new on every send).
The host and port are not compared, so a session recorded against one server replays
for a client pointed anywhere. Secrets are redacted as they are recorded
(:mod:`maas_dyn.testing.redact`); a live request is redacted the same way before it is
matched, so redacted values still match.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from maas_dyn.maas.encode import decode_fields, encode_request
from maas_dyn.testing.errors import CassetteMismatchError
from maas_dyn.testing.redact import OAUTH_PARAMS, REDACTED, SECRET_HEADERS, Redactor, oauth_params

__all__ = ["MATCHER", "Mode", "http_cassette", "request_key"]

Mode = Literal["record", "replay"]
MATCHER = "maas_request"  # the name the matcher is registered under in vcrpy
# Any base URL: decode_fields only reads the body's fields from it.
_NOWHERE = "http://cassette.invalid/"


def _oauth_key(header: str | None) -> tuple[tuple[str, str], ...] | None:
    if header is None:
        return None
    params = oauth_params(header)
    return tuple(sorted((name, value) for name, value in params.items()
                        if name not in OAUTH_PARAMS or OAUTH_PARAMS[name].compared))


def request_key(request: Any) -> tuple[Any, ...]:
    """What a recorded and a live request must share to match.

    Args:
        request: A vcrpy request.

    Returns:
        ``(method, path, op, fields, OAuth parameters without nonce and timestamp)``.
    """
    op, fields = decode_fields(request.uri, request.headers, request.body)
    return (request.method, urlsplit(request.uri).path, op, tuple(fields),
            _oauth_key(request.headers.get("Authorization")))


def match_requests(live: Any, recorded: Any) -> None:
    """The vcrpy matcher.

    Raises:
        AssertionError: The requests differ (vcrpy shows the message).
    """
    mine, theirs = request_key(live), request_key(recorded)
    if mine != theirs:
        raise AssertionError(f"{mine[:3]} != {theirs[:3]}" if mine[:3] != theirs[:3]
                             else f"parameters or signing differ: {mine[3:]} != {theirs[3:]}")


def _set_length(headers: MutableMapping[str, Any], body: bytes, as_list: bool) -> None:
    # A body shortened by redaction must not be replayed with its old length: urllib3
    # would wait for, or complain about, the missing bytes.
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = [str(len(body))] if as_list else str(len(body))


def _redact_multipart(redactor: Redactor, headers: MutableMapping[str, Any],
                      body: bytes) -> bytes:
    _, fields = decode_fields(_NOWHERE, headers, body)
    cleaned = [(name, redactor.data(value) if isinstance(value, bytes)
                else redactor.field(name, value)) for name, value in fields]
    if cleaned == fields:
        return body
    encoded = encode_request("POST", _NOWHERE, None, cleaned)
    headers["Content-Type"] = encoded.headers["Content-Type"]
    return encoded.body or b""


def redact_request(redactor: Redactor, request: Any) -> Any:
    """``before_record_request``: a redacted copy of a request (vcrpy sends the original).

    Args:
        redactor: Applies the rules and remembers the secrets it saw.
        request: The vcrpy request.

    Returns:
        The copy to record or to match.
    """
    request = copy.deepcopy(request)
    headers = request.headers
    for name in list(headers):
        if name.lower() == "authorization":
            headers[name] = redactor.authorization(headers[name])
        elif name.lower() in SECRET_HEADERS:
            headers[name] = REDACTED
    request.uri = redactor.text(request.uri)
    body = request.body
    if isinstance(body, bytes) and body:
        if str(headers.get("Content-Type", "")).startswith("multipart/form-data"):
            body = _redact_multipart(redactor, headers, body)
        request.body = redactor.data(body)
        _set_length(headers, request.body, as_list=False)
    return request


def redact_response(redactor: Redactor, response: dict[str, Any]) -> dict[str, Any]:
    """``before_record_response``: a redacted copy of a recorded response.

    Args:
        redactor: Applies the rules and remembers the secrets it saw.
        response: vcrpy's ``{"status", "headers": {name: [values]}, "body": {"string"}}``.

    Returns:
        The copy to record.
    """
    response = copy.deepcopy(response)
    headers: dict[str, list[str]] = response["headers"]
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
    body = response["body"].get("string")
    if isinstance(body, bytes) and body:
        response["body"]["string"] = cleaned = _redact_body(redactor, headers, body)
        if cleaned != body:
            _set_length(headers, cleaned, as_list=True)
    return response


def _redact_body(redactor: Redactor, headers: Mapping[str, list[str]], body: bytes) -> bytes:
    kind = next((values[0] for name, values in headers.items()
                 if name.lower() == "content-type" and values), "")
    if "json" in kind:
        try:
            data = json.loads(body)
        except ValueError:
            return redactor.data(body)
        cleaned = redactor.value(data)
        if cleaned != data:
            body = json.dumps(cleaned).encode("utf-8")
    return redactor.data(body)


def _unplayed(cassette: Any) -> list[str]:
    return [f"{request.method} {urlsplit(request.uri).path}?{urlsplit(request.uri).query}"
            for index, request in enumerate(cassette.requests)
            if not cassette.play_counts[index]]


@contextmanager
def http_cassette(path: str | os.PathLike[str], mode: Mode) -> Iterator[Any]:
    """Record every ``requests`` call into a cassette, or answer them from one.

    Args:
        path: The YAML cassette.
        mode: ``"record"`` (replaces the file) or ``"replay"`` (no network: a request
            the cassette lacks fails, and requests left unplayed fail at the end).

    Yields:
        The vcrpy cassette.

    Raises:
        FileNotFoundError: Replaying a cassette that does not exist.
        CassetteMismatchError: Leaving a replay with recorded requests not made.
    """
    import vcr  # type: ignore[import-untyped]  # only recording and replaying pay for vcrpy

    target = Path(path)
    if mode == "replay" and not target.is_file():
        raise FileNotFoundError(f"no cassette at {target}; record one first "
                                "(maas_dyn.testing.record or maas-dyn --record FILE)")
    if mode == "record":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # a recording replaces, never extends, a cassette
    redactor = Redactor()
    config = vcr.VCR(
        record_mode="all" if mode == "record" else "none",
        match_on=[MATCHER],
        before_record_request=partial(redact_request, redactor),
        before_record_response=partial(redact_response, redactor),
        decode_compressed_response=True,  # bodies are redacted as text, so never gzipped
    )
    config.register_matcher(MATCHER, match_requests)
    # No repeats: identical polls replay in order, each recorded answer once.
    with config.use_cassette(str(target), allow_playback_repeats=False) as cassette:
        yield cassette
        left = _unplayed(cassette) if mode == "replay" else []
        if left:
            raise CassetteMismatchError(
                f"{len(left)} recorded request(s) of {target.name} were not made: "
                + ", ".join(left[:5]) + (" ..." if len(left) > 5 else ""))
