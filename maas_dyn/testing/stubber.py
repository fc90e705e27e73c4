"""A stubber for MAAS clients, in the spirit of botocore's ``Stubber``.

Queue the calls a script is expected to make, with the responses to give::

    client = maas_dyn.maas.Client.from_release("3.7", api_key="c:t:s")
    with Stubber(client) as stub:
        stub.add_response("machine", "deploy", {"status_name": "Deploying"},
                          path=("abc123",), expected_params={"distro_series": "jammy"})
        my_script(client)          # calls client.machine.deploy("abc123", distro_series="jammy")
    # leaving the block asserts every queued response was used

Each expectation is checked against the client's real description when it is added:
an unknown handler or action, a wrong number of path parameters or a parameter the
action does not document fails at once. Each call is then checked against the next
expectation (handler, action, path, parameters) by decoding the request the client
really encoded, so the stub exercises the whole funnel except the network.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maas_dyn._dynamic import unknown_name
from maas_dyn.errors import UnknownActionError
from maas_dyn.maas.client import Client
from maas_dyn.maas.describe import ActionSpec, HandlerSpec
from maas_dyn.maas.docparse import parse_action_doc
from maas_dyn.maas.encode import PreparedRequest, decode_fields, expand_path
from maas_dyn.maas.transport import RawResponse, TimeoutSpec, Transport
from maas_dyn.testing.errors import StubAssertionError

__all__ = ["StubAssertionError", "Stubber"]

_JSON = {"Content-Type": "application/json"}


@dataclass
class _Expected:
    handler: HandlerSpec
    action: ActionSpec
    url: str
    params: Mapping[str, Any] | None
    reply: RawResponse
    label: str = field(default="")


def _normalise(params: Mapping[str, Any]) -> dict[str, list[str | bytes]]:
    out: dict[str, list[str | bytes]] = {}
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            text: str | bytes = item if isinstance(item, bytes) else (
                ("true" if item else "false") if isinstance(item, bool) else str(item))
            out.setdefault(name, []).append(text)
    return out


class _StubTransport:
    def __init__(self, stubber: Stubber):
        self.stubber = stubber

    def send(self, request: PreparedRequest, authorization: str | None,
             timeout: TimeoutSpec) -> RawResponse:
        return self.stubber._answer(request)

    def close(self) -> None:
        """Nothing to release."""


class Stubber:
    """Replaces a MAAS client's network with queued, checked responses.

    Args:
        client: The client to stub (built from any description, even offline).
        allow_undocumented: Accept expected parameters the description does not
            document (MAAS docs are incomplete).
    """

    def __init__(self, client: Client, *, allow_undocumented: bool = False):
        self.client = client
        self.allow_undocumented = allow_undocumented
        self._queue: deque[_Expected] = deque()
        self._saved: Transport | None = None

    def _resolve(self, handler: str, action: str) -> tuple[HandlerSpec, ActionSpec]:
        spec = self.client.description.handler(handler)
        if spec is None:
            raise self.client._unknown(handler)
        found = spec.action(action)
        if found is None:
            raise unknown_name(UnknownActionError, f"handler {handler!r}", action, spec.actions)
        return spec, found

    def _check_params(self, spec: HandlerSpec, action: ActionSpec,
                      params: Mapping[str, Any]) -> None:
        documented = set(parse_action_doc(action.doc).params) - set(spec.params)
        unknown = sorted(set(params) - documented)
        if unknown and not self.allow_undocumented:
            raise StubAssertionError(
                f"{spec.cli_name} {action.cli_name} does not document {', '.join(unknown)}; "
                f"documented: {', '.join(sorted(documented)) or 'none'} "
                "(Stubber(..., allow_undocumented=True) accepts them)"
            )

    def _add(self, handler: str, action: str, path: Sequence[Any],
             expected_params: Mapping[str, Any] | None, reply: RawResponse) -> None:
        spec, found = self._resolve(handler, action)
        if len(path) != len(spec.params):
            raise StubAssertionError(
                f"{spec.cli_name} takes {len(spec.params)} path parameter(s) "
                f"({', '.join(spec.params) or 'none'}), {len(path)} given"
            )
        if expected_params is not None:
            self._check_params(spec, found, expected_params)
        url = expand_path(spec.path, dict(zip(spec.params, path, strict=True)))
        self._queue.append(_Expected(spec, found, url, expected_params, reply,
                                     f"{spec.cli_name} {found.cli_name}"))

    def add_response(self, handler: str, action: str, response: Any = None, *,
                     path: Sequence[Any] = (), expected_params: Mapping[str, Any] | None = None,
                     status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        """Queue a successful response.

        Args:
            handler: Handler name (Python, CLI or resource form).
            action: Action name.
            response: The body: JSON-serialisable data, ``str`` (text) or ``bytes``.
            path: Expected path parameters.
            expected_params: Expected parameters (``None``: do not check them).
            status: HTTP status to answer.
            headers: Extra response headers.
        """
        if isinstance(response, bytes):
            body, kind = response, {"Content-Type": "application/octet-stream"}
        elif isinstance(response, str):
            body, kind = response.encode(), {"Content-Type": "text/plain; charset=utf-8"}
        else:
            body, kind = json.dumps(response).encode(), _JSON
        self._add(handler, action, path, expected_params,
                  RawResponse(status, {**kind, **(headers or {})}, body))

    def add_client_error(self, handler: str, action: str, *, status: int = 400,
                         message: str = "", field_errors: Mapping[str, Sequence[str]] | None = None,
                         path: Sequence[Any] = (),
                         expected_params: Mapping[str, Any] | None = None) -> None:
        """Queue an error answer; the client raises its typed error for ``status``.

        Args:
            handler: Handler name.
            action: Action name.
            status: HTTP status (400, 401, 403, 404, 409, 503...).
            message: Plain-text body, when no ``field_errors`` are given.
            field_errors: A 400's ``{field: [message, ...]}`` JSON body.
            path: Expected path parameters.
            expected_params: Expected parameters.
        """
        if field_errors is not None:
            reply = RawResponse(status, _JSON, json.dumps(field_errors).encode())
        else:
            reply = RawResponse(status, {"Content-Type": "text/plain"}, message.encode())
        self._add(handler, action, path, expected_params, reply)

    def _answer(self, request: PreparedRequest) -> RawResponse:
        if not self._queue:
            raise StubAssertionError(f"unexpected call {request.method} {request.url}: "
                                     "no response is queued")
        expected = self._queue.popleft()
        op, fields = decode_fields(request.url, request.headers, request.body)
        path = request.url.split("?", 1)[0]
        problems = []
        if request.method != expected.action.method or op != expected.action.op:
            problems.append(f"got {request.method} op={op}, expected {expected.label}")
        if not path.endswith(expected.url):
            problems.append(f"got path {path}, expected {expected.url}")
        if expected.params is not None:
            got: dict[str, list[str | bytes]] = {}
            for name, value in fields:
                got.setdefault(name, []).append(value)
            if got != _normalise(expected.params):
                problems.append(f"got params {got}, expected {_normalise(expected.params)}")
        if problems:
            raise StubAssertionError(f"call did not match {expected.label}: "
                                     + "; ".join(problems))
        return expected.reply

    def activate(self) -> None:
        """Route the client's requests to the stubber."""
        if self._saved is None:
            self._saved = self.client._transport
            self.client._transport = _StubTransport(self)

    def deactivate(self) -> None:
        """Give the client its own transport back."""
        if self._saved is not None:
            self.client._transport, self._saved = self._saved, None

    def assert_no_pending_responses(self) -> None:
        """Fail if queued responses were not used.

        Raises:
            StubAssertionError: Naming the unused expectations.
        """
        if self._queue:
            pending = ", ".join(e.label for e in self._queue)
            raise StubAssertionError(f"{len(self._queue)} expected call(s) not made: {pending}")

    def __enter__(self) -> Stubber:
        self.activate()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.deactivate()
        if exc_type is None:
            self.assert_no_pending_responses()
