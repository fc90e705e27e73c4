"""What a handler answers: a response value and the errors that become responses.

MAAS answers most calls with JSON and its errors with plain text, except validation
errors which are a JSON object of field -> messages (Django form errors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """One HTTP answer before transport headers are added.

    Attributes:
        status: HTTP status code.
        body: The encoded body.
        content_type: Value of the ``Content-Type`` header ("" for no body).
        headers: Extra headers as (name, value) pairs.
    """

    status: int
    body: bytes = b""
    content_type: str = TEXT_TYPE
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        """Build a JSON answer.

        Args:
            data: Anything :func:`json.dumps` accepts.
            status: HTTP status code.

        Returns:
            The response.
        """
        return cls(status, json.dumps(data).encode(), JSON_TYPE)

    @classmethod
    def raw_json(cls, body: bytes, status: int = 200) -> Response:
        """Build a JSON answer from already serialised bytes (cached documents).

        Args:
            body: Encoded JSON.
            status: HTTP status code.

        Returns:
            The response.
        """
        return cls(status, body, JSON_TYPE)

    @classmethod
    def text(cls, message: str, status: int = 200) -> Response:
        """Build a plain-text answer.

        Args:
            message: The body text.
            status: HTTP status code.

        Returns:
            The response.
        """
        return cls(status, message.encode(), TEXT_TYPE)

    @classmethod
    def no_content(cls) -> Response:
        """Build the empty 204 answer MAAS gives to deletes.

        Returns:
            The response.
        """
        return cls(204, b"", "")


class ApiError(Exception):
    """An error that the dispatcher turns into an HTTP answer.

    Args:
        status: HTTP status code.
        message: Plain-text body.
        headers: Extra headers, e.g. ``WWW-Authenticate``.
    """

    def __init__(
        self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = tuple(headers)

    def to_response(self) -> Response:
        """Render the error.

        Returns:
            The plain-text response.
        """
        return Response(self.status, self.message.encode(), TEXT_TYPE, self.headers)


class BadRequest(ApiError):
    """HTTP 400 with a plain-text message (``MAASAPIBadRequest``)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class Unauthorized(ApiError):
    """HTTP 401 (``Unauthorized`` / OAuth failures)."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message, (("WWW-Authenticate", 'OAuth realm="OAuth"'),))


class Forbidden(ApiError):
    """HTTP 403 (``PermissionDenied``)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(403, message)


class NotFound(ApiError):
    """HTTP 404 worded like Django's ``get_object_or_404``.

    Args:
        model: The model name MAAS uses, e.g. ``"Machine"``.
    """

    def __init__(self, model: str) -> None:
        super().__init__(404, f"No {model} matches the given query.")


class Conflict(ApiError):
    """HTTP 409 (``NodeStateViolation`` and friends)."""

    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class ValidationFailed(ApiError):
    """HTTP 400 whose body is a JSON object of field -> messages.

    Args:
        errors: Field name (``"__all__"`` for form-wide errors) -> messages.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {name: list(messages) for name, messages in errors.items()}
        super().__init__(400, json.dumps(self.errors))

    def to_response(self) -> Response:
        """Render the field errors as JSON.

        Returns:
            The 400 response.
        """
        return Response(400, self.message.encode(), JSON_TYPE)


class NotModelled(ApiError):
    """HTTP 501: the simulator knows the action but does not model it.

    Args:
        handler: Handler name from the description.
        action: Action name from the description.
        op: The ``op`` of the action (``None`` for RESTful actions).
        detail: What exactly is missing, when only part of an action is modelled.
    """

    def __init__(self, handler: str, action: str, op: str | None, detail: str = "") -> None:
        what = detail or f"{handler}.{action}"
        message = f"{what} is not modelled by the maas_dyn simulator"
        self.body = {"handler": handler, "action": action, "op": op, "message": message}
        super().__init__(501, message)

    def to_response(self) -> Response:
        """Render the machine-readable body.

        Returns:
            The 501 response.
        """
        return Response.json(self.body, 501)
