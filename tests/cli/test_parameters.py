"""Parameters the server does not document: warned about (with the closest names) or refused."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest

from maas_dyn.maas import Client, MockTransport, RawResponse, UndocumentedParameterWarning
from tests.cli.conftest import Result


def test_an_undocumented_parameter_is_sent_with_a_warning_and_a_suggestion(
        cli: Callable[..., Result]) -> None:
    done = cli("admin", "machine", "deploy", "abc", "distro_seris=jammy")
    assert done.code == 0
    assert ("maas-dyn: warning: 'distro_seris' is not documented for machine deploy; did you "
            "mean distro_series? (sent as given; --strict refuses)") in done.err
    assert len(done.transport.requests) == 1  # sent, as the official CLI would


def test_strict_refuses_before_sending(cli: Callable[..., Result]) -> None:
    done = cli("admin", "machine", "deploy", "abc", "distro_seris=jammy", "--strict")
    assert done.code == 2 and "did you mean distro_series?" in done.err
    assert done.transport.requests == []


@pytest.mark.parametrize("argv", [
    ("machine", "deploy", "abc", "distro_series=jammy", "hwe_kernel=ga-24.04"),
    # 3.7 documents power_parameters_* only in the prose of machine update.
    ("machine", "update", "abc", "power_parameters_power_address=10.0.0.1"),
    ("sshkeys", "import", "lp:someone"),  # the bare word is the documented keysource
])
def test_documented_parameters_raise_no_warning(cli: Callable[..., Result],
                                                argv: tuple[str, ...]) -> None:
    done = cli("admin", *argv, "--strict")
    assert done.code == 0, done.err
    assert "warning" not in done.err


def test_the_library_warning_names_the_closest_parameter() -> None:
    client = Client.from_release(
        "3.7", url="http://127.0.0.1:5240/MAAS/", api_key="a:b:c",
        transport=MockTransport(lambda r, a: RawResponse(200, {"Content-Type":
                                                               "application/json"}, b"{}")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.machine.deploy("abc", distro_seris="jammy")
    assert [w.category for w in caught] == [UndocumentedParameterWarning]
    assert str(caught[0].message).endswith("(did you mean distro_series?)")
    assert caught[0].filename == __file__  # points at the user's line
