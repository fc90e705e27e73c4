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

from maas_dyn.cli._common.exits import CLIError, UsageError
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.truenas import main
from maas_dyn.cli.truenas import output as truenas_output

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


def store() -> ProfileStore:
    return ProfileStore(dialect="truenas")


def nas_profile(name: str, url: str, username: str | None, api_key: str) -> Profile:
    return Profile(name, url, api_key, dialect="truenas", username=username)


@pytest.fixture
def profile(sim: Any) -> Profile:
    """A stored profile "nas" logging in with the simulator's API key (no stored methods)."""
    stored = nas_profile("nas", sim.url, sim.username, sim.api_key)
    store().save(stored)
    return stored


# -- login and profiles -----------------------------------------------------------------------

def test_login_saves_a_private_profile(sim: Any, run: Callable[..., Run],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_API_KEY", sim.api_key)
    result = run("login", "nas", sim.url, "--username", sim.username)
    assert result.code == 0 and "profile saved" in result.err
    profiles = store()
    path = profiles.root / "nas.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(profiles.root.stat().st_mode) == 0o700
    assert profiles.load("nas").api_key == sim.api_key
    assert sim.api_key not in result.out + result.err
    assert sim.api_key not in repr(profiles.load("nas"))
    # The method document and its index are kept beside the profile, private too.
    methods = profiles.root / ".methods" / "nas.json"
    assert stat.S_IMODE(methods.stat().st_mode) == 0o600
    assert "pool.query" in (profiles.index("nas") or {})["methods"]
    listed = run("list")
    assert listed.out == f"nas\t{sim.url}\n"
    assert run("profiles").out == listed.out  # the former spelling
    assert run("nas", "ping").out == "pong\n"
    assert run("logout", "nas").code == 0
    assert run("logout", "nas").code == 2
    assert run("logout").code == 2


def test_login_with_a_password_from_the_environment(sim: Any, run: Callable[..., Run],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_PASSWORD", sim.password)
    monkeypatch.setattr("sys.stdin", io.StringIO(sim.username + "\n"))
    result = run("login", "pw", sim.url, "--password")
    assert result.code == 0, result.err
    assert "created the API key" in result.err
    # The profile keeps a new API key, never the password.
    stored = json.loads((store().root / "pw.json").read_text())
    assert "password" not in stored and stored["api_key"] != sim.password
    saved = store().load("pw")
    assert saved.api_key and saved.api_key != sim.password
    assert saved.api_key not in result.err + result.out
    assert run("pw", "call", "core.ping").out == '"pong"\n'


def test_login_refused_saves_nothing(sim: Any, run: Callable[..., Run],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_PASSWORD", "wrong-SECRET")
    result = run("login", "bad", sim.url, "--password", "-u", sim.username)
    assert result.code == 1 and "refused" in result.err and "wrong-SECRET" not in result.err
    assert store().names() == []
    assert run("login", "x", "ftp://nas").code == 2  # before asking for the key


def test_login_usage_errors(run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUENAS_API_KEY", "k")
    assert run("login").code == 2
    reserved = run("login", "sim", "wss://nas")
    assert reserved.code == 2 and "reserved for a command" in reserved.err
    assert run("login", "list", "wss://nas").code == 2
    bad = run("login", "../evil", "wss://nas")
    assert bad.code == 2 and "invalid profile name" in bad.err
    insecure = run("login", "far", "ws://nas.example", "-u", "admin")
    assert insecure.code == 2 and "revoke" in insecure.err


@pytest.mark.parametrize("host", ["nas.example", "10.0.0.9", "nas.example:443"])
def test_login_refuses_a_bare_host_at_once(host: str, run: Callable[..., Run],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no connection may be tried")

    monkeypatch.setattr("maas_dyn.truenas.connect", never)
    result = run("login", "nas", host, "-u", "admin")
    assert result.code == 2
    assert "has no scheme" in result.err and "wss://HOST" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("password", [False, True])
def test_login_with_stdin_closed_is_a_usage_error(password: bool, sim: Any,
                                                  run: Callable[..., Run],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUENAS_API_KEY", raising=False)
    monkeypatch.delenv("TRUENAS_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # like </dev/null
    extra = ["--password"] if password else []
    result = run("login", "nas", sim.url, "--username", sim.username, *extra)
    assert result.code == 2 and "stdin is closed" in result.err
    assert "Traceback" not in result.err and store().names() == []


def test_login_reads_a_piped_key(sim: Any, run: Callable[..., Run],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUENAS_API_KEY", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(sim.api_key + "\n"))
    result = run("login", "piped", sim.url, "-u", sim.username)
    assert result.code == 0, result.err
    assert store().load("piped").api_key == sim.api_key


def test_a_stored_password_is_refused_with_the_way_forward(run: Callable[..., Run]) -> None:
    profiles = store()
    profiles.root.mkdir(parents=True)
    (profiles.root / "old.json").write_text(json.dumps(
        {"name": "old", "url": "wss://nas/api/current", "username": "admin",
         "api_key": None, "password": "hunter2", "verify": True}))
    result = run("old", "call", "core.ping")
    assert result.code == 2 and "log in again" in result.err and "hunter2" not in result.err


def test_profile_store_errors(tmp_path: Path) -> None:
    profiles = ProfileStore(tmp_path / "p", dialect="truenas")
    assert profiles.names() == []
    with pytest.raises(UsageError, match="unknown profile 'x'.*truenas-dyn login"):
        profiles.load("x")
    profiles.root.mkdir(parents=True)
    (profiles.root / "broken.json").write_text("{not json")
    with pytest.raises(CLIError, match="cannot read profile"):
        profiles.load("broken")


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
    assert "namespaces:" in top.out and "  pool\n" in top.out


@pytest.fixture
def offline_profile(sim: Any, profile: Profile, monkeypatch: pytest.MonkeyPatch) -> Profile:
    """The "nas" profile with the method document stored, as login leaves it."""
    from maas_dyn.cli.truenas.catalog import build_index
    from maas_dyn.truenas import connect

    with connect(sim.url, username=sim.username, api_key=sim.api_key) as client:
        document = client.methods.document  # type: ignore[union-attr]
    stored = Profile("nas", sim.url, sim.api_key, document, "truenas", sim.username)
    store().save(stored, build_index(document))

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("help and names must not connect")

    monkeypatch.setattr("maas_dyn.truenas.connect", offline)
    return stored


@pytest.mark.parametrize("argv", [
    ("nas",), ("nas", "-h"), ("nas", "pool"), ("nas", "pool", "-h"),
    ("nas", "pool", "dataset", "query", "-h"), ("nas", "call", "pool.query", "-h"),
])
def test_help_and_listings_are_offline(offline_profile: Profile, run: Callable[..., Run],
                                       argv: tuple[str, ...]) -> None:
    result = run(*argv)
    assert result.code == 0, result.err
    assert result.out


@pytest.mark.parametrize("argv", [
    ("nas", "call", "pool.qeury"), ("nas", "pool", "qeury"), ("nas", "call", "pool.qeury", "-h"),
])
def test_did_you_mean_for_methods_in_both_forms(profile: Profile, run: Callable[..., Run],
                                                argv: tuple[str, ...]) -> None:
    result = run(*argv)
    assert result.code == 2, result.err
    assert "did you mean pool.query" in result.err


@pytest.mark.parametrize("command", ["call", "ping", "subscribe"])
def test_command_help(profile: Profile, run: Callable[..., Run], command: str) -> None:
    result = run("nas", command, "-h")
    assert result.code == 0 and f"usage: truenas-dyn PROFILE {command}" in result.out
    assert "-h, --help" in result.out


def test_version(run: Callable[..., Run]) -> None:
    from maas_dyn._version import __version__

    result = run("--version")
    assert result.code == 0 and result.out == f"truenas-dyn {__version__}\n"


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
    (("nosuch", "call", "core.ping"), 2, "unknown profile 'nosuch'"),
    (("nas", "pol", "query"), 2, "did you mean pool?"),
    (("nas", "pool", "qery"), 2, "unknown method 'pool.qery'; did you mean pool.query"),
    (("nas", "pool", "create", '{"name": 5}'), 2, "  data.name: must be string"),
    (("nas", "call", "no.such.method"), 2, "unknown method 'no.such.method'"),
    (("nas", "call"), 2, "usage"),
    (("nas", "call", "core.ping", "--bogus"), 2, "unrecognized arguments: --bogus"),
    (("nas", "call", "core.ping", "-o", "xml"), 2, "invalid choice: 'xml'"),
    (("nas", "call", "core.ping", "-o"), 2, "expected one argument"),
    (("nas", "call", "core.ping", "-t", "soon"), 2, "invalid float value"),
    (("nas", "call", "core.ping", "-n", "1"), 2, "unrecognized arguments: -n"),
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
    store().save(nas_profile("nas", sim.url, sim.username, sim.api_key))
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
    store().save(nas_profile("gone", "ws://127.0.0.1:9/api/current", "a", "1-b"))
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

    monkeypatch.setattr("maas_dyn.cli.truenas.calls._run_call", interrupted)
    result = run("nas", "call", "core.ping")
    assert result.code == 130 and "interrupted" in result.err


# -- output helpers -------------------------------------------------------------------------------

def test_progress_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = truenas_output.ProgressBar(stream, width=10)
    bar.update({"percent": 50, "description": "half way"})
    bar.update({"percent": None})
    bar.finish()
    assert "[#####-----]  50.0% half way" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    quiet = io.StringIO()
    silent = truenas_output.ProgressBar(quiet)
    silent.update({"percent": 10})
    silent.finish()
    assert quiet.getvalue() == ""


def test_render_handles_ejson_values() -> None:
    from datetime import datetime, timezone

    value = {"when": datetime(2025, 1, 1, tzinfo=timezone.utc), "tags": {"b", "a"}}
    assert json.loads(truenas_output.render(value, "json", True)) == {
        "when": "2025-01-01T00:00:00+00:00", "tags": ["a", "b"]}
    assert "when" in truenas_output.render(value, "table", False)
    with pytest.raises(TypeError):
        truenas_output.render({"x": object()}, "json", False)


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

