"""Tests of maas_dyn/maas/response.py: hints chosen by what the server said."""

from __future__ import annotations

import json

import pytest

from maas_dyn.errors import ConflictError
from maas_dyn.maas.response import error_for
from maas_dyn.maas.transport import RawResponse


def _error(status: int, body: str, media: str = "text/plain") -> str:
    error = error_for(RawResponse(status, {"Content-Type": media}, body.encode()), "POST",
                      "http://r/MAAS/api/2.0/machines/abc/?op=deploy")
    return error.hint


@pytest.mark.parametrize(("message", "hint"), [
    ("Can't deploy a machine that is in the 'Deployed' state", "status does not allow"),
    ("Cannot release node: it is locked.", "unlock it first"),
    ("Node abc is busy, please retry", "busy with this object"),
    ("something else entirely", "busy or in a state"),
])
def test_a_409_hint_follows_what_the_server_said(message: str, hint: str) -> None:
    assert hint in _error(409, message)


def test_a_400_hint_does_not_send_a_shell_user_to_an_attribute() -> None:
    body = json.dumps({"distro_series": ["'x' is not a valid distro_series."]})
    assert "field_errors" not in _error(400, body, "application/json")
    assert isinstance(error_for(RawResponse(409, {}, b"x"), "POST", "u"), ConflictError)
