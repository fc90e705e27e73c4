"""MAAS cassettes: HTTP sessions recorded and replayed through vcrpy.

A MAAS client sends through ``requests``, which vcrpy intercepts. Requests are matched
by meaning, not by bytes: method, path, ``op`` and the decoded parameters (multipart
bodies are decoded with :func:`~maas_dyn.maas.encode.decode_fields`, so boundaries do
not matter), and the OAuth header without its nonce and timestamp (new on every send).
The host and port are not compared, so a session recorded against one server replays
for a client pointed anywhere. Secrets are redacted as they are recorded
(:mod:`maas_dyn.testing.redact`); a live request is redacted the same way before it is
matched, so redacted values still match.

A cassette is a file people edit and merge by hand, so a replay checks the whole file
before it answers anything: one that is not a usable cassette (not UTF-8, not YAML, a
missing or mistyped key) fails with a ``ValueError`` naming the file and the problem,
never with whatever vcrpy or ``requests`` would trip over later. vcrpy's YAML loader is
safe: ``!!python/object`` tags are refused, not run.
"""

from __future__ import annotations

import copy
import json
import os
import reprlib
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from maas_dyn._optional import require
from maas_dyn.maas.encode import decode_fields, encode_request
from maas_dyn.testing.errors import CassetteMismatchError
from maas_dyn.testing.redact import OAUTH_PARAMS, REDACTED, SECRET_HEADERS, Redactor, oauth_params

__all__ = ["MATCHER", "Mode", "http_cassette", "read_cassette", "request_key"]

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


# What the YAML loader raises on a file it cannot read, besides yaml.YAMLError: ValueError
# (``!!int x``), TypeError, IndexError... from the constructors of odd tags, and
# RecursionError for absurd nesting.
_PARSE_ERRORS = (AttributeError, LookupError, RecursionError, TypeError, ValueError)


class _Unusable(Exception):
    """What is wrong with a cassette's contents; :func:`read_cassette` adds the file."""


def _typed(value: Any, kind: type | tuple[type, ...], what: str, expected: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Unusable(f"{what} must be {expected}, not {_show(value)}")
    return value


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _show(value: Any) -> str:
    # reprlib: bounded in length and in depth, for huge or absurdly nested values
    return f"{type(value).__name__} {_REPR.repr(value)[:120]}"


def _check_headers(value: Any, what: str, request: bool) -> None:
    # vcrpy reads a request header's first value (a plain string works too), and
    # replays every value of a response header (a string would be split in letters).
    expected = "a string or a list of strings" if request else "a list of strings"
    headers = _typed(value, dict, what, f"a mapping of names to {expected}")
    for name, values in headers.items():
        _typed(name, str, f"a name in {what}", "a string")
        where = f"{what}[{_REPR.repr(name)}]"
        if request and isinstance(values, str):
            continue
        _typed(values, list, where, expected)
        if request and not values:
            raise _Unusable(f"{where} must hold a value")
        for item in values:
            _typed(item, str, f"a value of {where}", "a string")


def _utf8(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, from a "\ud800" escape
        raise _Unusable(f"{what} cannot be encoded as UTF-8: {exc}") from exc


def _request(raw: Any) -> Any:
    from vcr.request import Request  # type: ignore[import-untyped]

    fields = _typed(raw, dict, "'request'", "a mapping")
    missing = sorted({"method", "uri", "body", "headers"} - set(fields))
    if missing or len(fields) != 4:
        raise _Unusable(f"'request' must have exactly the keys body, headers, method and "
                        f"uri, not {sorted(map(str, fields))}")
    method = _typed(fields["method"], str, "the request method", "a string")
    if not method:
        raise _Unusable("the request method is empty")
    uri = _typed(fields["uri"], str, "the request uri", "a string")
    body = fields["body"]
    if body is not None:
        body = _utf8(_typed(body, (str, bytes), "the request body",
                            "a string, binary or null"), "the request body")
    _check_headers(fields["headers"], "the request headers", request=True)
    try:
        request = Request(method, uri, body, fields["headers"])  # parses the uri
        # Matching redacts a request, then decodes its parameters: both must work.
        request_key(redact_request(Redactor(), request))
    except ValueError as exc:  # a bad URL, or a Content-Type that is not latin-1
        raise _Unusable(f"the request cannot be matched: {exc}") from exc
    return request


def _response(raw: Any) -> dict[str, Any]:
    fields = _typed(raw, dict, "'response'", "a mapping")
    status = _typed(fields.get("status"), dict, "the response status",
                    "a mapping with code and message")
    code = _typed(status.get("code"), int, "the response status code",
                  "an integer from 100 to 999")
    if not 100 <= code <= 999:  # what http.client accepts from a server
        raise _Unusable(f"the response status code must be from 100 to 999, not {code}")
    _typed(status.get("message"), str, "the response status message", "a string")
    _check_headers(fields.get("headers"), "the response headers", request=False)
    body = _typed(fields.get("body"), dict, "the response body", "a mapping with string")
    string = _typed(body.get("string"), (str, bytes), "the response body string",
                    "a string or binary")
    response: dict[str, Any] = copy.deepcopy(fields)
    response["body"]["string"] = _utf8(string, "the response body string")
    return response


def read_cassette(path: str | os.PathLike[str]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Read and check a cassette: what vcrpy replays, and nothing it would trip over.

    Args:
        path: The YAML cassette.

    Returns:
        ``(requests, responses)``: vcrpy requests, and responses with bytes bodies.

    Raises:
        FileNotFoundError: There is no such file.
        ValueError: The file is not a usable cassette (the message names it, and says
            which interaction is wrong and how).
        MissingExtraError: vcrpy or PyYAML is not installed (the ``record`` extra).
    """
    require("record", "reading MAAS cassettes")
    import yaml
    from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no cassette at {source}; record one first "
                                "(maas_dyn.testing.record or maas-dyn --record FILE)")
    try:
        text = source.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"cassette {source} is not UTF-8 text: {exc}") from exc
    if not text.strip():
        raise ValueError(f"cassette {source} is empty; record it again")
    try:
        data = yamlserializer.deserialize(text)  # vcrpy's safe loader
    except (yaml.YAMLError, *_PARSE_ERRORS) as exc:
        raise ValueError(f"cassette {source} cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ValueError(f"cassette {source} is not a vcrpy cassette: it needs a list of "
                         f"'interactions', and holds {_show(data)}; record it again")
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        raise ValueError(f"cassette {source}: 'metadata' must be a mapping, not "
                         f"{_show(data['metadata'])}")
    requests, responses = [], []
    for number, interaction in enumerate(data["interactions"], start=1):
        try:
            item = _typed(interaction, dict, "it", "a mapping with request and response")
            requests.append(_request(item.get("request")))
            responses.append(_response(item.get("response")))
        except _Unusable as exc:
            raise ValueError(f"cassette {source}, interaction {number}: {exc}; fix it or "
                             "record it again") from exc.__cause__
    return requests, responses


class _CheckedPersister:
    """vcrpy's file persister, loading through :func:`read_cassette`."""

    @staticmethod
    def load_cassette(cassette_path: str, serializer: Any) -> tuple[list[Any], list[Any]]:
        from vcr.persisters.filesystem import CassetteNotFoundError  # type: ignore[import-untyped]

        if not Path(cassette_path).is_file():
            raise CassetteNotFoundError()  # recording: vcrpy starts an empty cassette
        return read_cassette(cassette_path)

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: Any, serializer: Any) -> None:
        from vcr.persisters.filesystem import FilesystemPersister

        FilesystemPersister.save_cassette(cassette_path, cassette_dict, serializer)


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
        ValueError: Replaying a file that is not a usable cassette (see
            :func:`read_cassette`), before the block runs.
        CassetteMismatchError: A request the cassette has no (more) answers for, or
            leaving a replay with recorded requests not made.
        MissingExtraError: vcrpy or PyYAML is not installed (the ``record`` extra).
    """
    require("record", "recording and replaying MAAS cassettes")
    import vcr  # type: ignore[import-untyped]  # only recording and replaying pay for vcrpy
    from vcr.errors import CannotOverwriteExistingCassetteException  # type: ignore[import-untyped]

    target = Path(path)
    if mode == "replay" and not target.is_file():
        raise FileNotFoundError(f"no cassette at {target}; record one first "
                                "(maas_dyn.testing.record or maas-dyn --record FILE)")
    if mode == "record":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # a recording replaces, never extends, a cassette
    redactor = Redactor()
    recording = mode == "record"
    config = vcr.VCR(
        record_mode="all" if recording else "none",
        match_on=[MATCHER],
        before_record_request=partial(redact_request, redactor),
        # Responses pass these hooks only when recorded (vcrpy also runs them on the
        # loaded ones): a replay answers what the file holds, as a server would have.
        before_record_response=partial(redact_response, redactor) if recording else None,
        decode_compressed_response=recording,  # redacted as text, so stored unzipped
    )
    config.register_matcher(MATCHER, match_requests)
    config.register_persister(_CheckedPersister)
    # No repeats: identical polls replay in order, each recorded answer once.
    with config.use_cassette(str(target), allow_playback_repeats=False) as cassette:
        try:
            yield cassette
        except CannotOverwriteExistingCassetteException as exc:
            raise CassetteMismatchError(
                f"{target.name} has no recorded answer for this request: {exc}") from exc
        left = _unplayed(cassette) if mode == "replay" else []
        if left:
            raise CassetteMismatchError(
                f"{len(left)} recorded request(s) of {target.name} were not made: "
                + ", ".join(left[:5]) + (" ..." if len(left) > 5 else ""))
