"""pytest fixtures for testing scripts that use maas_dyn (registered as a ``pytest11`` plugin).

Installing maas_dyn makes these fixtures available in every test suite:

=======================  ========  ================================================================
fixture                  scope     what it gives
=======================  ========  ================================================================
``maas_sim``             session   an embedded MAAS region on 127.0.0.1, at high speed
``truenas_sim``          session   an embedded TrueNAS middleware on 127.0.0.1, at high speed
``maas_client``          function  a ``maas_dyn.maas.Client`` for ``maas_sim`` (admin key)
``truenas_client``       function  a ``maas_dyn.truenas.Client`` logged in to ``truenas_sim``
``maas_stub``            function  an active :class:`~maas_dyn.testing.Stubber`; its ``.client``
``truenas_stub``         function  an active :class:`~maas_dyn.testing.TrueNASStubber`; ``.client``
``maas_release``         session   the MAAS release simulated and stubbed (``"3.7"``)
``truenas_release``      session   the TrueNAS release simulated and stubbed (``"25.10"``)
``maas_sim_factory``     session   ``start(**options)``: more MAAS simulators, own settings
``truenas_sim_factory``  session   ``start(**options)``: more TrueNAS simulators
=======================  ========  ================================================================

Override ``maas_release`` or ``truenas_release`` in a ``conftest.py`` to test against
another release. The simulators are shared by the whole session (what one test creates,
the next one sees) and stopped when it ends; the ``maas_dyn_sim_scope`` ini option
(``module``, ``package``...) narrows that, for suites that check nothing outlives a module.
The factories start simulators with other settings (``machines=``, ``speed=``, ``seed=``,
``version=``: the simulators' own arguments), stopped when the factory's scope ends:
``sim = maas_sim_factory(machines=6, seed=11)``. Stubbed clients never touch the network; a
test that passes with answers still queued fails at teardown.

Nothing but pytest is imported, and no server is started, until a test uses a fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from maas_dyn.maas import Client as MAASClient
    from maas_dyn.sim.maas import MAASSimulator
    from maas_dyn.sim.truenas import TrueNASSimulator
    from maas_dyn.testing.stubber import Stubber
    from maas_dyn.testing.truenas_stubber import TrueNASStubber
    from maas_dyn.truenas import Client as TrueNASClient

# Simulated seconds per second: a 300 s MAAS deployment takes a third of a second.
MAAS_SPEED = 1000.0
TRUENAS_SPEED = 200.0
# Where stubbed clients would send, were anything sent: a closed local port.
STUB_MAAS_URL = "http://127.0.0.1:9/MAAS/"
STUB_TRUENAS_URL = "ws://127.0.0.1:9/api/current"
STUB_MAAS_KEY = "stub-consumer:stub-token:stub-secret"

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    """Keep each phase's report, so a stub's teardown knows whether the test passed."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report


def _passed(request: pytest.FixtureRequest) -> bool:
    report = request.node.stash.get(_REPORTS, {}).get("call")
    return report is not None and report.passed


@pytest.fixture(scope="session")
def maas_release() -> str:
    """The MAAS release the simulator serves and stubbed clients are built from."""
    return "3.7"


@pytest.fixture(scope="session")
def truenas_release() -> str:
    """The TrueNAS release the simulator serves and stubbed clients are built from."""
    return "25.10"


SCOPE_INI = "maas_dyn_sim_scope"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ``maas_dyn_sim_scope`` ini option.

    Args:
        parser: pytest's option parser.
    """
    parser.addini(SCOPE_INI, "scope of the maas_dyn simulator fixtures (default: session)",
                  default="session")


def _sim_scope(fixture_name: str, config: pytest.Config) -> Literal[
        "session", "package", "module", "class", "function"]:
    scope = str(config.getini(SCOPE_INI) or "session")
    if scope not in ("session", "package", "module", "class", "function"):
        raise pytest.UsageError(f"{SCOPE_INI} = {scope!r}: use session, package, module, "
                                "class or function")
    return scope  # type: ignore[return-value]


@pytest.fixture(scope=_sim_scope)
def maas_sim_factory(maas_release: str) -> Iterator[Callable[..., MAASSimulator]]:
    """Start MAAS simulators with any settings; all stop when the fixture's scope ends.

    Yields:
        ``start(**options)``: the ``MAASSimulator`` arguments, defaulting to
        ``version=maas_release`` and the plugin's speed; returns the running simulator.
    """
    from maas_dyn.sim.maas import MAASSimulator

    with ExitStack() as started:

        def start(**options: Any) -> MAASSimulator:
            options.setdefault("version", maas_release)
            options.setdefault("speed", MAAS_SPEED)
            return started.enter_context(MAASSimulator(**options))

        yield start


@pytest.fixture(scope=_sim_scope)
def truenas_sim_factory(truenas_release: str) -> Iterator[Callable[..., TrueNASSimulator]]:
    """Start TrueNAS simulators with any settings; all stop when the fixture's scope ends.

    Yields:
        ``start(**options)``: the ``TrueNASSimulator`` arguments, defaulting to
        ``version=truenas_release`` and the plugin's speed; returns the running simulator.
    """
    from maas_dyn.sim.truenas import TrueNASSimulator

    with ExitStack() as started:

        def start(**options: Any) -> TrueNASSimulator:
            options.setdefault("version", truenas_release)
            options.setdefault("speed", TRUENAS_SPEED)
            return started.enter_context(TrueNASSimulator(**options))

        yield start


@pytest.fixture(scope=_sim_scope)
def maas_sim(maas_sim_factory: Callable[..., MAASSimulator]) -> MAASSimulator:
    """A MAAS region simulator for the session, started on first use."""
    return maas_sim_factory()


@pytest.fixture(scope=_sim_scope)
def truenas_sim(truenas_sim_factory: Callable[..., TrueNASSimulator]) -> TrueNASSimulator:
    """A TrueNAS middleware simulator for the session, started on first use."""
    return truenas_sim_factory()


@pytest.fixture
def maas_client(maas_sim: MAASSimulator) -> Iterator[MAASClient]:
    """A client of ``maas_sim`` with the administrator's key."""
    from maas_dyn.maas import Client

    # The simulator serves the shipped description of its release, so building from it
    # is the same client as fetching it, without a megabyte per test.
    with Client.from_release(maas_sim.version, url=maas_sim.url, api_key=maas_sim.api_key,
                             cache=False) as client:
        yield client


@pytest.fixture
def truenas_client(truenas_sim: TrueNASSimulator) -> Iterator[TrueNASClient]:
    """A client logged in to ``truenas_sim`` as its administrator."""
    from maas_dyn.truenas import Client

    with Client.from_release(truenas_sim.version, url=truenas_sim.url,
                             username=truenas_sim.username, password=truenas_sim.password,
                             cache=False) as client:
        client.ping()  # connect and log in now: a broken setup fails here, not mid-test
        yield client


@pytest.fixture
def maas_stub(request: pytest.FixtureRequest, maas_release: str) -> Iterator[Stubber]:
    """An active MAAS stubber on an offline client (``maas_stub.client``)."""
    from maas_dyn.maas import Client
    from maas_dyn.testing.stubber import Stubber

    client = Client.from_release(maas_release, url=STUB_MAAS_URL, api_key=STUB_MAAS_KEY,
                                 cache=False)
    stub = Stubber(client)
    stub.activate()
    yield stub
    stub.deactivate()
    if _passed(request):
        stub.assert_no_pending_responses()


@pytest.fixture
def truenas_stub(request: pytest.FixtureRequest, truenas_release: str
                 ) -> Iterator[TrueNASStubber]:
    """An active TrueNAS stubber on an offline client (``truenas_stub.client``)."""
    from maas_dyn.testing.truenas_stubber import TrueNASStubber
    from maas_dyn.truenas import Client

    with Client.from_release(truenas_release, url=STUB_TRUENAS_URL, cache=False) as client:
        stub = TrueNASStubber(client)
        stub.activate()
        yield stub
        stub.deactivate()
    if _passed(request):
        stub.assert_no_pending_responses()
