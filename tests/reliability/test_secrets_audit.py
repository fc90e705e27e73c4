"""Secrets audit: known secrets never reach logs, reprs, errors or files; safe defaults hold.

Both clients talk to their simulators with every logger of ``maas_dyn`` at DEBUG; all text
they produce (log records, reprs, ``str()`` of the errors raised in real failure paths,
cache files) is searched for the secrets.

Both command lines are then audited end to end, in-process, against a simulator each test
starts and stops: every command family that prints or stores data (login and profiles,
reads and actions in every output format with ``--debug`` where it is accepted, bulk runs
and workflows, the error paths, ``--record`` cassettes, ``health`` in text, JSON and
Prometheus form, ``docs``, ``diff``, completion and help, and for ``truenas-dyn`` jobs and
event subscriptions) runs with known secrets. Every stdout and stderr, every maas_dyn log
record, every warning and every file written (profiles, caches, cassettes, docs, the
working and home directories) is searched for each secret, plain, URL-encoded, in base64 at
each byte alignment and in the OAuth PLAINTEXT signature form ``&<secret>``; profile files
may hold only their own login credential. Profile and cache files must be 0600 in 0700
folders. Focused cassette and ``--debug`` audits are in tests/testing/test_secrets.py and
tests/cli/test_debug.py.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import logging
import os
import sqlite3
import stat
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from maas_dyn.errors import ConfigurationError, MaasDynError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.maas.transport import RequestsTransport
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client as TrueNASClient


class _RecordFormatter(logging.Formatter):
    """The usual line, then every attribute of the record: structured fields in ``extra``
    (and the raw ``msg`` and ``args``) are part of what a JSON formatter would write."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{super().format(record)} {record.__dict__!r}"


class _StrictHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def handleError(self, record: logging.LogRecord) -> None:
        # A record that cannot be written would go unaudited: fail instead.
        raise  # noqa: PLE0704 - called by logging inside its except block


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = _StrictHandler(stream)
    handler.setFormatter(_RecordFormatter("%(levelname)s %(name)s %(message)s"))
    # The simulators log under maas_dyn.sim (their own frames, with their own secrets);
    # the audit is about what the clients write.
    handler.addFilter(lambda record: not record.name.startswith("maas_dyn.sim"))
    logger = logging.getLogger("maas_dyn")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _files_text(folder: Path) -> str:
    return "".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                   if p.is_file())


def _assert_private(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode & ~expected == 0, f"{path} has mode {oct(mode)}"


def _failures(*calls: object) -> list[str]:
    texts = []
    for call in calls:
        try:
            call()  # type: ignore[operator]
        except MaasDynError as exc:
            texts += [str(exc), repr(exc), repr(exc.__dict__)]
    assert texts, "every call was expected to fail"
    return texts


def test_maas_client_leaks_no_key(debug_log: io.StringIO) -> None:
    cache = Path(os.environ["MAAS_DYN_CACHE_DIR"])
    with MAASSimulator() as sim:
        secrets = [sim.api_key, *sim.api_key.split(":")]
        with MAASClient(sim.url, api_key=sim.api_key) as client:  # cache on: it is audited
            client.machines.read()
            client.users.whoami()
            texts = [repr(client), str(client), repr(client.machines)]
            texts += _failures(lambda: client.machine.read("nosuchid"),
                               lambda: client.machine.deploy("nosuchid"))
        with MAASClient(sim.url, api_key=sim.api_key.replace(":", "x:", 1)) as bad:
            texts += _failures(lambda: bad.users.whoami())
    output = "\n".join([debug_log.getvalue(), *texts, _files_text(cache)])
    assert "DEBUG maas_dyn." in debug_log.getvalue()  # the audit really saw debug logging
    assert [s for s in secrets if len(s) >= 6 and s in output] == []
    _assert_private(cache)


def test_truenas_client_leaks_no_credentials(debug_log: io.StringIO) -> None:
    cache = Path(os.environ["MAAS_DYN_CACHE_DIR"])
    with TrueNASSimulator() as sim:
        # The simulator's admin password is its user name (which may be shown): audit a
        # user of our own with a password that is nothing else.
        user, password = "audited", "audit-SECRET-password-9"
        secrets = [password, sim.api_key]
        with TrueNASClient(sim.url, username=sim.username, api_key=sim.api_key) as admin:
            admin.user.create({"username": user, "full_name": "Audit", "password": password,
                               "group_create": True})
            key = admin.api_key.create({"name": user, "username": user})["key"]
            secrets.append(key)
        with TrueNASClient(sim.url, username=user, password=password) as client:
            client.call("system.info")
            texts = [repr(client), repr(client.pool)]
            texts += _failures(lambda: client.call("no.such.method"),
                               lambda: client.call("pool.get_instance", 987654))
        with TrueNASClient(sim.url, username=user, api_key=key) as client:
            client.call("system.info")
            texts.append(repr(client))
        texts += _failures(lambda: TrueNASClient(sim.url, username=user,
                                                 password=password + "-wrong"))
    output = "\n".join([debug_log.getvalue(), *texts, _files_text(cache)])
    assert "DEBUG maas_dyn." in debug_log.getvalue()
    assert [s for s in secrets if s in output] == []
    _assert_private(cache)


# -- the command lines, end to end ---------------------------------------------------------

# Bounds each CLI audit (pytest-timeout): a hang fails the test instead of the run.
CLI_AUDIT_TIMEOUT = 90


def _secret_forms(name: str, secret: str) -> list[tuple[str, str, str]]:
    """(secret name, form, text) for each way the secret could be written out."""
    assert len(secret) >= 8, f"{name} is too short to be searched for reliably"
    quoted = quote(secret, safe="")
    forms = [("plain", secret), ("URL-encoded", quoted), ("form-encoded", quote_plus(secret)),
             ("OAuth signature", "&" + secret), ("OAuth signature, URL-encoded", "%26" + quoted)]
    raw = secret.encode()
    for shift in range(3):  # base64 of the secret inside a longer text, at each alignment
        for kind, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * shift + raw).decode("ascii")
            # Only the characters made of the secret's bits alone.
            forms.append((f"{kind} at offset {shift}",
                          text[-(-shift * 8 // 6):(shift + len(raw)) * 8 // 6]))
    seen: set[str] = set()
    return [(name, form, text) for form, text in forms if not (text in seen or seen.add(text))]


@dataclass
class _CLIAudit:
    """Runs one command line in-process and keeps every text it produces, labelled."""

    # Nothing secret in the repr: pytest shows the arguments of failing frames.
    prog: str
    main: Callable[[list[str]], int] = field(repr=False)
    capsys: pytest.CaptureFixture[str] = field(repr=False)
    secrets: dict[str, str] = field(repr=False)
    texts: list[tuple[str, str]] = field(default_factory=list, repr=False)
    # profile file name -> the credential fields it may hold, and their values
    credentials: dict[str, dict[str, str | None]] = field(default_factory=dict, repr=False)

    @property
    def forms(self) -> list[tuple[str, str, str]]:
        return [form for name, secret in self.secrets.items()
                for form in _secret_forms(name, secret)]

    def scrub(self, text: str) -> str:
        """The text with every secret form replaced by the secret's name."""
        for name, _, value in sorted(self.forms, key=lambda f: -len(f[2])):
            text = text.replace(value, f"<{name}>")
        return text

    def run(self, *argv: str, codes: tuple[int, ...] = (0,)) -> str:
        """Run ``prog argv``; keep its stdout and stderr; check its exit code."""
        code = self.main(list(argv))
        captured = self.capsys.readouterr()
        label = self.scrub(" ".join([self.prog, *argv]))
        self.texts += [(f"stdout of `{label}`", captured.out),
                       (f"stderr of `{label}`", captured.err)]
        assert code in codes, f"`{label}` exited {code}: {self.scrub(captured.err[-800:])}"
        return captured.out

    def add_files(self, root: Path, *folders: Path) -> int:
        """Keep the text of every file under the folders; profiles lose their credential."""
        count = 0
        for folder in folders:
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if not path.is_file():
                    continue
                text = path.read_bytes().decode("utf-8", "replace")
                if path.parent.name in ("profiles", "truenas-profiles"):
                    text = self._without_credentials(path, text)
                self.texts.append((f"file {path.relative_to(root)}", text))
                count += 1
        return count

    def _without_credentials(self, path: Path, text: str) -> str:
        document = json.loads(text)
        expected = self.credentials.get(path.name)
        assert expected is not None, f"unexpected profile file {path.name}"
        wrong = sorted(key for key in expected if document.pop(key, None) != expected[key])
        # The login credential is the profile's reason to exist; nothing else may be there.
        assert not wrong, f"{path.name} does not hold its own login credential in {wrong}"
        return json.dumps(document)

    def leaks(self) -> list[str]:
        """Where a secret appears: "<output>: <secret name> (<form>)", one per pair."""
        found: dict[tuple[str, str], str] = {}
        forms = self.forms
        for label, text in self.texts:
            for name, form, value in forms:
                if value in text:
                    found.setdefault((label, name), form)
        return [f"{label}: {name} ({form})" for (label, name), form in found.items()]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _assert_private_tree(folder: Path) -> list[Path]:
    """Every folder from ``folder`` down is 0700, every file 0600; returns the files."""
    assert folder.is_dir(), f"{folder} was never written"
    files = []
    for path in [folder, *sorted(folder.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path} has mode {oct(mode)}, expected {oct(expected)}"
        files += [path] if path.is_file() else []
    return files


@pytest.fixture
def cli_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The folders a CLI run may write: config and cache (from tests/conftest.py), output
    files, and a working and a home directory of their own; inputs are apart."""
    folders = {"config": Path(os.environ["MAAS_DYN_CONFIG_DIR"]),
               "cache": Path(os.environ["MAAS_DYN_CACHE_DIR"])}
    for name in ("out", "cwd", "home", "inputs"):
        folders[name] = tmp_path / name
        folders[name].mkdir()
    monkeypatch.chdir(folders["cwd"])
    monkeypatch.setenv("HOME", str(folders["home"]))
    for variable in ("MAAS_URL", "MAAS_API_KEY", "TRUENAS_API_KEY", "TRUENAS_PASSWORD",
                     "MAAS_DYN_POWER_PASS"):
        monkeypatch.delenv(variable, raising=False)
    return folders


def _finish(audit: _CLIAudit, debug_log: io.StringIO, caught: list[warnings.WarningMessage],
            tmp_path: Path, folders: dict[str, Path]) -> None:
    audit.texts.append(("maas_dyn log records at DEBUG", debug_log.getvalue()))
    audit.texts += [(f"warning {w.category.__name__}", str(w.message)) for w in caught]
    written = audit.add_files(tmp_path, *(folders[name] for name in
                                          ("config", "cache", "out", "cwd", "home")))
    logged = "DEBUG maas_dyn." in debug_log.getvalue()
    assert logged, "the audit saw no debug logging"
    leaks = audit.leaks()
    assert not leaks, f"secrets found in {len(leaks)} place(s) of {len(audit.texts)} " \
                      "outputs:\n" + "\n".join(leaks)
    assert written > 20, "the audit saw too few files to be meaningful"


@pytest.mark.timeout(CLI_AUDIT_TIMEOUT)
def test_maas_dyn_command_line_leaks_no_secret(debug_log: io.StringIO, tmp_path: Path,
                                               cli_dirs: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.cli.maas import main

    out, inputs = cli_dirs["out"], cli_dirs["inputs"]
    user_password, bmc_field, bmc_env = ("carol-SECRET-password-1", "bmc-SECRET-field-pass-7",
                                         "bmc-SECRET-env-pass-8")
    with MAASSimulator(machines=6, speed=20_000.0) as sim, \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = sim.api_key
        consumer, token, secret = key.split(":")
        viewer_key = sim.add_user("viewer")  # not an administrator: 403 on power settings
        wrong_key = f"{consumer}:{token}:wrongSECRETwrongSECRET00"
        audit = _CLIAudit("maas-dyn", main, capsys, {
            "API key": key, "consumer key": consumer, "token key": token,
            "token secret": secret, "viewer's API key": viewer_key,
            **{f"viewer's key part {i}": part for i, part in enumerate(viewer_key.split(":"))},
            "wrong token secret": wrong_key.rsplit(":", 1)[1],
            "user password": user_password, "BMC password (field)": bmc_field,
            "BMC password (environment)": bmc_env,
        })
        run = audit.run
        # Profiles: the key as an argument, from stdin, recorded, imported; then listed.
        for name in ("lab", "rec", "viewer", "imported"):
            audit.credentials[f"{name}.json"] = {"api_key": viewer_key if name == "viewer"
                                                 else key}
        run("login", "lab", sim.url, key)
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{key}\n"))
        run("login", "lab2", sim.url, "-")
        run("--record", str(out / "login.yaml"), "login", "rec", sim.url, key)
        run("login", "viewer", sim.url, viewer_key)
        database = inputs / "maascli.db"
        with closing(sqlite3.connect(database)) as db, db:
            db.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT, data TEXT)")
            db.execute("INSERT INTO profiles (name, data) VALUES (?, ?)", ("imported", json.dumps(
                {"name": "imported", "url": f"{sim.url}api/2.0/",
                 "credentials": key.split(":"), "description": None})))
        run("profiles", "import", "--from", str(database))
        run("list")
        run("refresh")
        run("refresh", "lab")
        run("logout", "lab2")
        machines = sorted(sim.state.machines)
        ready = sorted(m.system_id for m in sim.state.machines.values()
                       if m.status.label == "Ready")
        # Reads, in every format, with and without --debug.
        run("lab", "users", "whoami", "--debug")
        run("lab", "machines", "read")
        for output in ("json", "yaml", "table"):
            run("lab", "machines", "read", "-o", output, "--debug")
            run("lab", "machine", "read", machines[0], "-o", output)
        run("imported", "users", "read", "-o", "yaml")  # fetches and saves its description
        # Actions with secret parameters (and --debug), in every format.
        for index, output in enumerate(("json", "yaml", "table")):
            run("lab", "users", "create", f"username=carol{index}", "email=c@example.com",
                f"password={user_password}", "is_superuser=0", "--debug", "-o", output)
            run("lab", "machine", "update", machines[index], "power_type=ipmi",
                "power_parameters_power_address=10.9.9.9", "power_parameters_power_user=admin",
                f"power_parameters_power_pass={bmc_field}", "--debug", "-o", output)
        run("lab", "machine", "deploy", ready[0], "distro_series=noble", "--wait",
            "--interval", "0.01", "--timeout", "30", "--debug")
        # Bulk and workflows; the workflow reads the BMC password from the environment.
        run("lab", "machines", "deploy", "--all-matching", "status=ready", "--wait",
            "--interval", "0.01", "--timeout", "30", "--debug", "-o", "json", "--yes")
        monkeypatch.setenv("MAAS_DYN_POWER_PASS", bmc_env)
        for output in ("json", "yaml", "table"):
            run("workflow", "lab", "power", "set", machines[1], "--type", "ipmi", "--address",
                "10.9.9.8", "--user", "admin", "-o", output)
            run("workflow", "lab", "power", "query", "--all-matching", "status=deployed",
                "-o", output)
        run("workflow", "lab", "tag", "--dry-run", "-o", "json")
        run("workflow", "lab", "release", ready[0], "--no-wait", "-o", "table")
        monkeypatch.delenv("MAAS_DYN_POWER_PASS")
        # Errors: a wrong key, a malformed one, invalid parameters, an unknown action,
        # handler and profile, 400/403/404/501 from the server.
        run("login", "bad", sim.url, wrong_key, codes=(1,))
        run("login", "bad", sim.url, f"{consumer}:{token}", codes=(2,))
        run("lab", "users", "create", "username=carol0", "email=c@example.com",
            f"password={user_password}", "is_superuser=0", "--debug", codes=(1,))
        run("viewer", "machine", "update", machines[3], "power_type=ipmi",
            "power_parameters_power_address=10.9.9.7", f"power_parameters_power_pass={bmc_field}",
            "--debug", "-o", "json", codes=(1,))
        run("lab", "machines", "read", "status=bogus", "-o", "yaml", "--debug", codes=(1,))
        run("lab", "machine", "read", "nosuchid", "--debug", codes=(1,))
        run("lab", "machines", "add-chassis", "chassis_type=virsh",
            "hostname=qemu+ssh://virsh@10.9.9.6/system", "-d", codes=(1,))  # unmodelled: 501
        run("lab", "machine", "details", machines[3], "-d")
        run("lab", "machine", "frobnicate", machines[3], codes=(2,))
        run("lab", "frobnicators", "read", codes=(2,))
        run("lab", "machine", "deploy", "--debug", codes=(2,))
        run("lba", "users", "whoami", codes=(2,))
        run("lab", "users", "whoami", "--output", "xml", codes=(2,))
        # The environment profile (the library's description cache), right and wrong key.
        monkeypatch.setenv("MAAS_URL", sim.url)
        monkeypatch.setenv("MAAS_API_KEY", key)
        run("env", "users", "whoami", "--debug", "-o", "json")
        run("env", "health", "-o", "json")
        monkeypatch.setenv("MAAS_API_KEY", wrong_key)
        run("env", "users", "whoami", "--debug", codes=(1,))
        run("env", "health", "-o", "prometheus", codes=(3,))
        monkeypatch.delenv("MAAS_API_KEY")
        monkeypatch.delenv("MAAS_URL")
        # Cassettes: a write with secrets, an error, a bulk run.
        run("--record", str(out / "create.yaml"), "lab", "users", "create", "username=dave",
            "email=d@example.com", f"password={user_password}", "is_superuser=0", "--debug")
        run("--record", str(out / "refused.yaml"), "lab", "users", "create",
            "username=dave", "email=d@example.com", f"password={user_password}", codes=(1,))
        run("--record", str(out / "power.yaml"), "lab", "machine", "update", machines[4],
            "power_type=ipmi", "power_parameters_power_address=10.9.9.6",
            f"power_parameters_power_pass={bmc_field}", "-o", "yaml")
        # Health, docs, diff, help, completion.
        for output in ("text", "json", "prometheus"):
            run("lab", "health", "-o", output, codes=(0, 1, 2))
        run("lab", "health", "--watch", "0.01", "--count", "2", codes=(0, 1, 2))
        run("docs", "lab", "-o", str(out / "docs"))
        for output in ("text", "markdown", "json"):
            run("diff", "lab", "3.6", "-o", output)
        run("diff", "3.6", "imported", "-o", "json")
        run("-h")
        run("lab", "-h")
        run("lab", "users", "create", "-h")
        run("--version")
        run("completion", "bash")
        run("__complete", "lab", "users", "")
        assert len(list((out / "docs").iterdir())) > 10
        # The secret-bearing requests did reach the cassettes (redacted).
        assert 'oauth_signature="<redacted>"' in (out / "login.yaml").read_text()
        assert 'name=\\"password\\"\\r\\n\\r\\n<redacted>' in (out / "create.yaml").read_text()
        assert 'power_pass\\"\\r\\n\\r\\n<redacted>' in (out / "power.yaml").read_text()
    _finish(audit, debug_log, caught, tmp_path, cli_dirs)
    profiles = _assert_private_tree(cli_dirs["config"] / "profiles")
    assert sorted(p.name for p in profiles) == sorted(audit.credentials)
    assert _assert_private_tree(cli_dirs["cache"])  # the env profile's description
    assert not any(cli_dirs["cwd"].iterdir()) and not any(cli_dirs["home"].iterdir())


@pytest.mark.timeout(CLI_AUDIT_TIMEOUT)
def test_truenas_dyn_command_line_leaks_no_secret(debug_log: io.StringIO, tmp_path: Path,
                                                  cli_dirs: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from maas_dyn.cli._common.profiles import Profile, ProfileStore
    from maas_dyn.cli.truenas import main

    out = cli_dirs["out"]
    # The simulator's administrator has its user name as password, which is shown as a
    # name: passwords are audited with users of our own.
    user, password, new_password = "audited", "audit-SECRET-password-9", "audit-SECRET-new-3"
    with TrueNASSimulator(speed=1000.0) as sim, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrong_key = "1-" + "5ecre7" * 10
        audit = _CLIAudit("truenas-dyn", main, capsys, {
            "API key": sim.api_key, "API key secret part": sim.api_key.partition("-")[2],
            "user password": password, "user's new password": new_password,
            "wrong password": password + "-wrong", "wrong API key": wrong_key,
            "OTP user's password": sim.otp_password, "OTP secret": sim.otp_secret,
        })
        run = audit.run
        answers = {"API key: ": sim.api_key, "Password: ": password, "Username: ": user}
        monkeypatch.setattr("getpass.getpass", lambda prompt="": answers[prompt])
        monkeypatch.setattr("builtins.input", lambda prompt="": answers[prompt])
        monkeypatch.setattr("sys.stdin", _Terminal())  # login asks on a terminal only
        # Profiles: API key asked for, from the environment (recorded), and a password
        # (turned into a new API key: no profile holds a password).
        audit.credentials.update({
            "nas.json": {"api_key": sim.api_key},
            "keyed.json": {"api_key": sim.api_key},
            "revoked.json": {"api_key": wrong_key},
        })
        run("login", "nas", sim.url, "-u", sim.username)
        monkeypatch.setenv("TRUENAS_API_KEY", sim.api_key)
        run("--record", str(out / "login.jsonl"), "login", "keyed", sim.url,
            "--username", sim.username)
        monkeypatch.delenv("TRUENAS_API_KEY")
        new_user = {"username": user, "full_name": "Audit", "password": password,
                    "group_create": True}
        created = json.loads(run("nas", "call", "user.create", json.dumps(new_user)))
        run("nas", "user", "create", json.dumps({**new_user, "username": user + "2"}),
            "-o", "table")
        run("login", "pw", sim.url, "--password")  # username and password asked for
        created_key = ProfileStore(dialect="truenas").load("pw").api_key
        assert created_key and created_key != password
        audit.secrets["created API key"] = created_key
        audit.credentials["pw.json"] = {"api_key": created_key}
        run("list")
        run("profiles")
        # Reads, in both formats.
        for output in ("json", "table"):
            run("nas", "call", "system.info", "-o", output)
            run("pw", "user", "query", json.dumps([["username", "=", user]]), "-o", output)
            run("pw", "call", "auth.me", "-o", output)
        run("nas", "ping")
        # Actions with secrets; a job (with its progress) and one recorded.
        run("nas", "call", "user.update", str(created["id"]),
            json.dumps({"password": new_password}))
        run("--record", str(out / "update.jsonl"), "nas", "user", "update",
            str(created["id"]), json.dumps({"password": password}), "-o", "table")
        run("pw", "call", "-j", "service.control", "RESTART", "ssh")
        run("--record", str(out / "job.jsonl"), "pw", "service", "control", "START", "ssh",
            "-j", "-o", "table")
        for output in ("json", "table"):
            run("pw", "call", "core.get_jobs", json.dumps([["method", "=", "service.control"]]),
                "-o", output)
        # Events, each made to happen while subscribed.
        alert = threading.Timer(0.3, sim.raise_alert, ("Disk", "sdc is hot"))
        alert.start()
        run("pw", "subscribe", "alert.list", "-n", "1", "-t", "10")
        failed = threading.Timer(0.3, sim.conditions.fail_job)
        failed.start()
        run("--record", str(out / "events.jsonl"), "nas", "subscribe", "core.get_jobs",
            "-n", "1", "-t", "10")
        alert.join(5)
        failed.join(5)
        # Errors: wrong credentials, two-factor, a refused plain ws:// key, parameters
        # refused by the client and by the server, unknown names, a missing object.
        for name, variable, value, extra in (
                ("wrong", "TRUENAS_PASSWORD", password + "-wrong", ["--password", "-u", user]),
                ("otp", "TRUENAS_PASSWORD", sim.otp_password,
                 ["--password", "-u", sim.otp_username]),
                ("revoked", "TRUENAS_API_KEY", wrong_key, ["-u", sim.username])):
            monkeypatch.setenv(variable, value)
            run("login", name, sim.url, *extra, codes=(1,))
            monkeypatch.delenv(variable)
        run("login", "far", "ws://nas.example/api/current", "-u", sim.username, codes=(2,))
        ProfileStore(dialect="truenas").save(
            Profile("revoked", sim.url, wrong_key, dialect="truenas", username=sim.username))
        run("revoked", "call", "system.info", codes=(1,))
        run("revoked", "health", "-o", "json", codes=(3,))
        run("nas", "user", "create", json.dumps({**new_user, "uid": "x", "bogus": 1}),
            codes=(2,))
        run("nas", "call", "user.create", json.dumps({**new_user, "bogus": 1}), codes=(1,))
        run("--record", str(out / "refused.jsonl"), "pw", "call", "user.create",
            json.dumps(new_user), codes=(1,))
        run("nas", "call", "no.such.method", codes=(2,))
        run("nas", "call", "pool.get_instance", "987654", codes=(1,))
        run("nas", "nosuch", "thing", codes=(2,))
        run("nas", "user", "frobnicate", codes=(2,))
        run("nas", "call", "system.info", "--verbose", codes=(2,))
        run("nosuch", "ping", codes=(2,))
        # Health, docs, diff, help.
        for output in ("text", "json", "prometheus"):
            run("pw", "health", "-o", output, codes=(0, 1, 2))
        run("docs", "nas", "--to", str(out / "docs"))
        for output in ("text", "markdown", "json"):
            run("diff", "pw", "26.0", "-o", output)
        run("-h")
        run("nas")
        run("nas", "user", "update", "-h")
        run("nas", "call", "user.create", "-h")
        run("logout", "keyed")
        del audit.credentials["keyed.json"]
        assert len(list((out / "docs").iterdir())) > 10
        # The secret-bearing calls did reach the cassettes (redacted).
        assert '"password": "<redacted>"' in (out / "update.jsonl").read_text()
        assert '"API_KEY_PLAIN"' in (out / "job.jsonl").read_text()  # no profile keeps a password
        assert '"core.get_jobs"' in (out / "events.jsonl").read_text()
    _finish(audit, debug_log, caught, tmp_path, cli_dirs)
    profiles = _assert_private_tree(cli_dirs["config"] / "truenas-profiles")
    assert sorted(p.name for p in profiles if p.parent.name != ".methods") \
        == sorted(audit.credentials)
    assert _assert_private_tree(cli_dirs["cache"])  # the server's methods
    assert not any(cli_dirs["cwd"].iterdir()) and not any(cli_dirs["home"].iterdir())


# -- safe defaults ------------------------------------------------------------------------------

def test_tls_verification_is_on_by_default() -> None:
    assert RequestsTransport().session.verify is True
    assert inspect.signature(MAASClient).parameters["verify"].default is True
    assert inspect.signature(TrueNASClient).parameters["verify"].default is True


def test_api_key_over_plain_ws_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        TrueNASClient("ws://nas.example.com/api/current", api_key="1-abcdefsecret",
                      methods={}, cache=False)
    # Loopback is allowed (the simulators), and so is an explicit opt-in.
    TrueNASClient("ws://127.0.0.1:1/api/current", api_key="1-abcdefsecret", methods={},
                  cache=False).close()


def test_every_network_operation_has_a_timeout() -> None:
    maas = inspect.signature(MAASClient).parameters["timeout"].default
    assert maas is not None and all(0 < t <= 600 for t in maas)
    truenas = inspect.signature(TrueNASClient).parameters
    assert 0 < truenas["connect_timeout"].default <= 60
    assert truenas["call_timeout"].default is not None
    assert 0 < truenas["call_timeout"].default <= 600


def test_retries_are_bounded_in_count_and_time() -> None:
    policy = RetryPolicy()
    assert 0 <= policy.total <= 10
    assert policy.max_total_time <= 600 and policy.backoff_max <= policy.max_total_time
    # A server asking to be retried much later ends the retries instead of hanging.
    assert policy.delay(1, "GET", status=503, retry_after="100000", elapsed=0.0) is None
    # Non-idempotent requests the server may have received are never re-sent.
    assert policy.delay(1, "POST", status=503, elapsed=0.0) is None
