"""Fuzz MAAS responses: decoding, error mapping and the whole client funnel.

Responses come from a proxy as often as from MAAS (HTML error pages, truncated bodies,
wrong Content-Type, odd ``Retry-After``). Whatever arrives, a call returns or raises a
documented error, and the retry policy never sleeps past its own bounds.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from maas_dyn._shipped import load_shipped
from maas_dyn.errors import MAASAPIError
from maas_dyn.maas import Client
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.response import decode_body, error_for
from maas_dyn.maas.transport import MockTransport, RawResponse
from maas_dyn.retry import RetryPolicy
from tests.reliability.fuzzing import fuzz_settings, json_values, only_typed_errors, record

DOCUMENT = load_shipped("maas", "3.7")
KEY = "consumerKEY:tokenKEY:SECRETsecretSECRET"

_content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=nope",
    "text/html", "text/html; charset=latin-1", "text/plain; charset=\"utf-16\"",
    "application/octet-stream", "", "application/problem+json", "text/plain; charset=",
    "TEXT/HTML;;;", "application/json; charset=utf-32", "text/plain; charset=idna",
]) | st.text(max_size=30)

_bodies = st.sampled_from([
    b"", b"{", b'{"system_id": "abc"', b"<html><title>502 Bad Gateway</title></html>",
    b"<html><body><h1>Oops</h1>" + b"x" * 10_000, b"\xff\xfe\xfd", b"null", b"[1, 2",
    "<title>é</title>".encode("latin-1"), b"[" * 50_000, b'"\xc3\x28"', b"NaN", b"1e999",
    json.dumps({"hostname": ["taken"], "x": 1}).encode(),
]) | st.binary(max_size=60) | json_values.map(lambda v: json.dumps(v).encode())

_retry_after = st.none() | st.sampled_from([
    "0", "1", "-5", "1e400", "nan", "inf", "99999999999", "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT", "", " 2 ", "٣",
]) | st.text(max_size=10)

_statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 410, 418, 429,
                             500, 502, 503, 504, 599]) | st.integers(100, 999)


@st.composite
def raw_responses(draw: st.DrawFn) -> RawResponse:
    headers: dict[str, str] = {"Content-Type": draw(_content_types)}
    retry_after = draw(_retry_after)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if draw(st.booleans()):
        headers["X-MAAS-API-Hash"] = draw(st.sampled_from(["", "other", DOCUMENT["hash"]]))
    return RawResponse(draw(_statuses), CaseInsensitiveDict(headers), draw(_bodies))


@fuzz_settings
@given(raw_responses(), st.sampled_from(["machine", "machines", ""]))
def test_decoding_and_error_mapping_fail_typed(raw: RawResponse, handler: str) -> None:
    record("maas responses (decode_body/error_for)")
    only_typed_errors(lambda: decode_body(raw))
    error = error_for(raw, "GET", "http://127.0.0.1:5240/MAAS/api/2.0/machines/", handler)
    assert isinstance(error, MAASAPIError)
    assert len(str(error)) < 5000  # an HTML page is summarised, not pasted into the message
    repr(error)


@fuzz_settings
@given(st.lists(raw_responses(), min_size=1, max_size=5))
def test_client_funnel_fails_typed_and_sleeps_bounded(responses: list[RawResponse]) -> None:
    record("maas responses (client funnel)")
    queue = list(responses)

    def answer(request: PreparedRequest, authorization: str | None) -> RawResponse:
        # Keep answering with the last response once the list runs out (retries).
        return queue.pop(0) if len(queue) > 1 else queue[0]

    policy = RetryPolicy(total=3, backoff_max=5.0, max_total_time=30.0)
    client = Client.from_description(DOCUMENT, url="http://127.0.0.1:5240/MAAS/",
                                     api_key=KEY, cache=False, retry=policy,
                                     transport=MockTransport(answer))
    slept: list[float] = []
    client._sleep = slept.append
    only_typed_errors(lambda: client.machines.read())
    only_typed_errors(lambda: client.machine.deploy("abc123", distro_series="jammy"))
    assert all(0 <= wait <= 30.0 for wait in slept), slept
    # Two calls, each at most one request plus one describe refresh (a new hash header).
    assert len(slept) <= 4 * policy.total


def _policy_delay(policy: RetryPolicy, header: Any) -> float | None:
    return policy.delay(1, "GET", status=503, retry_after=header, elapsed=0.0)


@fuzz_settings
@given(_retry_after)
def test_retry_after_is_always_bounded(header: str | None) -> None:
    record("maas responses (Retry-After)")
    # Retry-After may ask for more than backoff_max, but never past max_total_time.
    wait = _policy_delay(RetryPolicy(backoff_max=5.0, max_total_time=60.0), header)
    assert wait is None or 0 <= wait <= 60.0
