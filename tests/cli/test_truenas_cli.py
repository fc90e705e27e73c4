"""``truenas-dyn`` in-process and as a subprocess, against the TrueNAS simulator."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.cli import _truenas_output
from maas_dyn.cli._truenas_profiles import Profile, ProfileError, ProfileStore
from maas_dyn.cli.truenas import main

sim_module = pytest.importorskip("maas_dyn.sim.truenas")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def sim(truenas_sim_factory: Callable[..., Any]) -> Any:
    return truenas_sim_factory(version="25.10", speed=50.0)  # the plugin's, module-long


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def profile(sim: Any) -> Profile:
    """A stored profile "nas" logging in with the simulator's API key."""
    stored = Profile("nas", sim.url, sim.username, api_key=sim.api_key)
    ProfileStore().save(stored)
    return stored


# -- login and profiles -----------------------------------------------------------------------

def test_login_saves_a_private_profile(sim: Any, run: Callable[..., Run],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": sim.api_key)
    result = run("login", "nas", sim.url, "--username", sim.username)
    assert result.code == 0 and "profile saved" in result.err
    store = ProfileStore()
    path = store.root / "nas.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert store.load("nas").api_key == sim.api_key
    assert sim.api_key not in result.out + result.err
    assert sim.api_key not in repr(store.load("nas"))
    listed = run("profiles")
    assert listed.out == f"nas\t{sim.url}\n"
    assert run("nas", "ping").out == "pong\n"
    assert run("logout", "nas").code == 0
    assert run("logout", "nas").code == 2
    assert run("logout").code == 2


def test_login_with_a_password_from_the_environment(sim: Any, run: Callable[..., Run],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_PASSWORD", sim.password)
    monkeypatch.setattr("builtins.input", lambda prompt="": sim.username)
    result = run("login", "pw", sim.url, "--password")
    assert result.code == 0
    assert ProfileStore().load("pw").password == sim.password


def test_login_refused_saves_nothing(sim: Any, run: Callable[..., Run],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wrong-SECRET")
    result = run("login", "bad", sim.url, "--password", "-u", sim.username)
    assert result.code == 1 and "refused" in result.err and "wrong-SECRET" not in result.err
    assert ProfileStore().names() == []
    assert run("login", "x", "ftp://nas").code == 2  # (after asking for the key)


def test_login_usage_errors(run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "k")
    assert run("login").code == 2
    reserved = run("login", "sim", "nas")
    assert reserved.code == 2 and "is a command" in reserved.err
    bad = run("login", "../evil", "nas")
    assert bad.code == 2 and "invalid profile name" in bad.err
    insecure = run("login", "far", "ws://nas.example", "-u", "admin")
    assert insecure.code == 2 and "revoke" in insecure.err


def test_profile_store_errors(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "p")
    assert store.names() == []
    with pytest.raises(ProfileError, match="no profile named 'x'"):
        store.load("x")
    store.root.mkdir(parents=True)
    (store.root / "broken.json").write_text("{not json")
    with pytest.raises(ProfileError, match="cannot be read"):
        store.load("broken")


# -- calls --------------------------------------------------------------------------------------

def test_call_like_midclt(profile: Profile, run: Callable[..., Run]) -> None:
    result = run("nas", "call", "core.ping")
    assert result.code == 0 and json.loads(result.out) == "pong"
    disks = run("nas", "call", "disk.query", '[["name", "=", "sda"]]')
    assert [d["name"] for d in json.loads(disks.out)] == ["sda"]
    table = run("nas", "call", "disk.query", '[["name", "^", "sd"]]', "-o", "table")
    assert table.out.splitlines()[0].split()[0] == "name" and "sdb" in table.out


def test_namespace_form(profile: Profile, run: Callable[..., Run]) -> None:
    result = run("nas", "disk", "query", '[["name", "=", "sdb"]]')
    assert result.code == 0 and json.loads(result.out)[0]["name"] == "sdb"
    assert json.loads(run("nas", "system", "info").out)["hostname"] == "truenas-sim"
    # A plain word that is not JSON is sent as a string.
    missing = run("nas", "pool", "scrub", "run", "nopool")
    assert missing.code == 1 and "nopool" in missing.err


def test_jobs_wait_with_minus_j(sim: Any, profile: Profile, run: Callable[..., Run]) -> None:
    spec = '{"name": "clitank", "topology": {"data": [{"type": "STRIPE", "disks": ["sdd"]}]}}'
    started = run("nas", "pool", "create", spec)
    assert started.code == 0 and isinstance(json.loads(started.out), int)  # the job id
    waited = run("nas", "call", "disk.wipe", '"sdc"', '"QUICK"', "-j", "-t", "30")
    assert waited.code == 0 and json.loads(waited.out) is None
    sim.faults.fail_jobs("disk.wipe", 1, errmsg="simulated wipe failure")
    failed = run("nas", "disk", "wipe", "sdc", "QUICK", "-j")
    assert failed.code == 1 and "simulated wipe failure" in failed.err


def test_help_is_built_for_the_one_method_asked(profile: Profile, run: Callable[..., Run],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.truenas import methods

    rendered: list[str] = []
    real = methods.MethodSpec.details

    def counting(self: methods.MethodSpec) -> Any:
        rendered.append(self.name)
        return real(self)

    monkeypatch.setattr(methods.MethodSpec, "details", counting)
    result = run("nas", "pool", "dataset", "query", "-h")
    assert result.code == 0
    assert result.out.startswith("pool.dataset.query(filters: list[typing.Any] = []")
    assert "Args:" in result.out
    assert rendered == ["pool.dataset.query"]
    assert "pool.dataset.query" in run("nas", "call", "pool.dataset.query", "-h").out
    namespace = run("nas", "pool", "dataset")
    assert "Methods:" in namespace.out and "query" in namespace.out
    top = run("nas")
    assert "Namespaces:" in top.out and "  pool\n" in top.out


def test_subscribe(sim: Any, profile: Profile, run: Callable[..., Run]) -> None:
    done = threading.Event()

    def raise_until_seen() -> None:
        # No guessed head start: alerts keep coming until the command has taken one, so
        # the first after its subscription is the one it prints (bounded in count).
        for _ in range(1000):
            sim.raise_alert("CliAlert", "seen by truenas-dyn subscribe")
            if done.wait(0.02):
                return

    raiser = threading.Thread(target=raise_until_seen)
    raiser.start()
    try:
        result = run("nas", "subscribe", "alert.list", "-n", "1", "-t", "30")
    finally:
        done.set()
        raiser.join(10)
    assert result.code == 0
    event = json.loads(result.out)
    assert event["collection"] == "alert.list" and event["fields"]["klass"] == "CliAlert"
    assert run("nas", "subscribe", "alert.list", "-t", "0.1").code == 0


@pytest.mark.parametrize(("argv", "code", "message"), [
    (("nosuch", "call", "core.ping"), 2, "no profile named 'nosuch'"),
    (("nas", "pol", "query"), 2, "did you mean pool?"),
    (("nas", "pool", "qery"), 2, "pool has no method 'qery'; did you mean query?"),
    (("nas", "pool", "create", '{"name": 5}'), 2, "  data.name: must be string"),
    (("nas", "call", "no.such.method"), 1, "Method does not exist"),
    (("nas", "call"), 2, "usage"),
    (("nas", "call", "core.ping", "--bogus"), 2, "unknown option --bogus"),
    (("nas", "call", "core.ping", "-o", "xml"), 2, "-o takes json or table"),
    (("nas", "call", "core.ping", "-o"), 2, "needs a value"),
    (("nas", "call", "core.ping", "-t", "soon"), 2, "takes a number"),
    (("nas", "call", "core.ping", "-n", "1"), 2, "does not apply"),
    (("nas", "subscribe"), 2, "usage"),
    (("nas", "ping", "extra"), 2, "usage"),
])
def test_errors_and_exit_codes(profile: Profile, run: Callable[..., Run], argv: tuple[str, ...],
                               code: int, message: str) -> None:
    result = run(*argv)
    assert result.code == code, result.err
    assert message in result.err
    assert profile.api_key not in result.err  # type: ignore[operator]


def test_server_validation_errors_are_listed(sim: Any, run: Callable[..., Run]) -> None:
    ProfileStore().save(Profile("nas", sim.url, sim.username, api_key=sim.api_key))
    from maas_dyn.truenas import connect

    with connect(sim.url, username=sim.username, api_key=sim.api_key, validate=False) as nas, \
            pytest.raises(Exception) as caught:
        nas.pool.create({"name": 5})
    from maas_dyn.cli.truenas import _report

    text = _report(caught.value)
    assert text.startswith("truenas-dyn: error: the server refused the parameters of "
                           "pool.create:\n  ")


def test_negative_numbers_and_double_dash(profile: Profile, run: Callable[..., Run]) -> None:
    result = run("nas", "call", "disk.query", "--", '[["name", "=", "-1"]]')
    assert result.code == 0 and json.loads(result.out) == []
    assert run("nas", "call", "core.ping", "-1").code == 1  # sent: the server refuses it


def test_unreachable_server(run: Callable[..., Run]) -> None:
    ProfileStore().save(Profile("gone", "ws://127.0.0.1:9/api/current", "a", password="b"))
    result = run("gone", "call", "core.ping")
    assert result.code == 1 and "could not connect" in result.err


def test_usage_and_sim_dispatch(run: Callable[..., Run]) -> None:
    empty = run()
    assert empty.code == 2 and "usage: truenas-dyn" in empty.err
    helped = run("-h")
    assert helped.code == 0 and "exit codes:" in helped.out and "130" in helped.out
    sim_help = run("sim", "--help")
    assert sim_help.code == 0 and "truenas-dyn sim" in sim_help.out


def test_interrupt(profile: Profile, run: Callable[..., Run],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("maas_dyn.cli.truenas._run_call", interrupted)
    result = run("nas", "call", "core.ping")
    assert result.code == 130 and "interrupted" in result.err


# -- output helpers -------------------------------------------------------------------------------

def test_progress_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = _truenas_output.ProgressBar(stream, width=10)
    bar.update({"percent": 50, "description": "half way"})
    bar.update({"percent": None})
    bar.finish()
    assert "[#####-----]  50.0% half way" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    quiet = io.StringIO()
    silent = _truenas_output.ProgressBar(quiet)
    silent.update({"percent": 10})
    silent.finish()
    assert quiet.getvalue() == ""


def test_render_handles_ejson_values() -> None:
    from datetime import datetime, timezone

    value = {"when": datetime(2025, 1, 1, tzinfo=timezone.utc), "tags": {"b", "a"}}
    assert json.loads(_truenas_output.render(value, "json", True)) == {
        "when": "2025-01-01T00:00:00+00:00", "tags": ["a", "b"]}
    assert "when" in _truenas_output.render(value, "table", False)
    with pytest.raises(TypeError):
        _truenas_output.render({"x": object()}, "json", False)


# -- as a subprocess ------------------------------------------------------------------------------

def test_as_a_subprocess(sim: Any, tmp_path: Path) -> None:
    env = {**os.environ, "MAAS_DYN_CONFIG_DIR": str(tmp_path / "config"),
           "MAAS_DYN_CACHE_DIR": str(tmp_path / "cache"), "TRUENAS_API_KEY": sim.api_key,
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "maas_dyn.cli.truenas"]
    login = subprocess.run([*command, "login", "nas", sim.url, "-u", sim.username], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert login.returncode == 0, login.stderr
    ping = subprocess.run([*command, "nas", "call", "core.ping"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert ping.returncode == 0 and ping.stdout.strip() == '"pong"'
    bad = subprocess.run([*command, "nas", "pol"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert bad.returncode == 2 and "did you mean pool" in bad.stderr
    assert sim.api_key not in login.stdout + login.stderr + ping.stderr + bad.stderr


@pytest.fixture(autouse=True)
def no_client_threads_left() -> Iterator[None]:
    """Every thread the client starts is joined before main() returns."""
    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("maas_dyn-truenas")}

    before = ours()
    yield
    assert not {t for t in ours() - before if t.is_alive()}
