"""Tests of the pytest plugin (maas_dyn/testing/pytest_plugin.py), loaded by its entry point."""

from __future__ import annotations

import importlib
import socket
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from maas_dyn.maas import Client as MAASClient
from maas_dyn.testing import Stubber, TrueNASStubber
from maas_dyn.truenas import Client as TrueNASClient

pytest_plugins = ["pytester"]

# The plugin module and what importing it may import of maas_dyn: nothing of a dialect.
PLUGIN = "maas_dyn.testing.pytest_plugin"
CHEAP = {"maas_dyn", "maas_dyn._lazy", "maas_dyn._version", "maas_dyn.testing", PLUGIN}
INNER = ["-p", "no:cacheprovider", "-p", "no:pytest_cov", "-p", "no:asyncio", "-q"]


def test_the_plugin_is_registered_through_its_entry_point(
        pytestconfig: pytest.Config) -> None:
    assert [ep.value for ep in entry_points(group="pytest11") if ep.name == "maas_dyn"] == [
        PLUGIN]
    assert pytestconfig.pluginmanager.get_plugin("maas_dyn") is sys.modules[PLUGIN]


def test_importing_the_plugin_imports_no_dialect() -> None:
    # Imported afresh (the session's modules are put back afterwards), so what the plugin
    # costs every test suite is measured, not what this one imported already.
    saved = {name: module for name, module in sys.modules.items()
             if name == "maas_dyn" or name.startswith("maas_dyn.")}
    for name in saved:
        del sys.modules[name]
    try:
        importlib.import_module(PLUGIN)
        fresh = {name for name in sys.modules if name == "maas_dyn" or name.startswith("maas_dyn.")}
    finally:
        for name in [n for n in sys.modules if n == "maas_dyn" or n.startswith("maas_dyn.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    assert fresh == CHEAP


def test_connected_clients(maas_client: MAASClient, truenas_client: TrueNASClient) -> None:
    assert maas_client.users.whoami()["username"] == "admin"
    assert truenas_client.connected and truenas_client.system.version().startswith("TrueNAS")


def test_stubbed_clients(maas_stub: Stubber, truenas_stub: TrueNASStubber) -> None:
    maas_stub.add_response("users", "whoami", {"username": "stubbed"})
    truenas_stub.add_response("system.version", "TrueNAS-stubbed")
    assert maas_stub.client.users.whoami() == {"username": "stubbed"}
    assert truenas_stub.client.system.version() == "TrueNAS-stubbed"


def test_a_passing_test_with_answers_left_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_forgets_to_call(maas_stub):
            maas_stub.add_response("users", "whoami", {})

        def test_forgets_too(truenas_stub):
            truenas_stub.add_response("system.version", "x")

        def test_fails_on_its_own(maas_stub):
            maas_stub.add_response("users", "whoami", {})
            assert False, "its own failure"

        def test_fails_too(truenas_stub):
            truenas_stub.add_response("system.version", "x")
            assert False, "its own failure"
    """)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=2, failed=2, errors=2)
    result.stdout.fnmatch_lines(["*1 expected call(s) not made: users whoami*",
                                 "*1 expected call(s) not made: system.version*"])
    assert "its own failure" in result.stdout.str()


def test_releases_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def maas_release():
            return "2.0"
    """)
    pytester.makepyfile("""
        def test_release(maas_stub, truenas_release):
            assert maas_stub.client.description.handler("vm-clusters") is None
            assert truenas_release == "25.10"
    """)
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_simulators_start_on_use_and_stop_at_session_end(pytester: pytest.Pytester,
                                                         tmp_path: Path) -> None:
    ports = tmp_path / "ports"
    pytester.makepyfile(f"""
        def test_stub_only(maas_stub):
            pass

        def test_both(maas_sim, truenas_sim):
            with open({str(ports)!r}, "w") as out:
                out.write(f"{{maas_sim.port}} {{truenas_sim.port}}")
    """)
    shown = pytester.runpytest(*INNER, "--setup-show", "-k", "stub_only")
    shown.assert_outcomes(passed=1)
    assert "maas_sim" not in shown.stdout.str()  # not used, not started
    pytester.runpytest(*INNER, "-k", "both").assert_outcomes(passed=1)
    for port in map(int, ports.read_text().split()):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more


def test_the_scope_ini_option_and_the_factories(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        maas_dyn_sim_scope = module
    """)
    pytester.makepyfile(test_one="""
        PORTS = []

        def test_factory_settings(maas_sim, maas_sim_factory, truenas_sim_factory):
            other = maas_sim_factory(machines=3, seed=4)
            assert other.port != maas_sim.port and other.version == "3.7"
            assert other.speed == 1000.0
            assert truenas_sim_factory(version="26.0").version == "26.0"
            PORTS.append(maas_sim.port)

        def test_same_module_same_sim(maas_sim):
            assert PORTS == [maas_sim.port]
    """, test_two="""
        import test_one

        def test_another_module_another_sim(maas_sim):
            assert maas_sim.port not in test_one.PORTS
    """)
    pytester.runpytest(*INNER).assert_outcomes(passed=3)


def test_a_bad_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        maas_dyn_sim_scope = forever
    """)
    pytester.makepyfile("""
        def test_sim(maas_sim):
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*maas_dyn_sim_scope = 'forever'*"])
