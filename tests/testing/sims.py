"""Simulators for this project's tests of the plugin: the plugin's fixtures, one module long.

Users get the plugin's session-wide simulators. This project's own suite also has tests
that assert no simulator thread is left running (tests/sim/maas/test_server.py), so
its tests import these instead: the same fixtures, narrowed to a module, so each
module stops what it started.
The session scope itself is tested in a pytester session (test_pytest_plugin.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.testing.pytest_plugin import MAAS_SPEED, TRUENAS_SPEED


@pytest.fixture(scope="module")
def maas_sim(maas_release: str) -> Iterator[MAASSimulator]:
    with MAASSimulator(version=maas_release, speed=MAAS_SPEED) as sim:
        yield sim


@pytest.fixture(scope="module")
def truenas_sim(truenas_release: str) -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(version=truenas_release, speed=TRUENAS_SPEED) as sim:
        yield sim
