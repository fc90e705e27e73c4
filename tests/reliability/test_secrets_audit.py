"""Secrets audit: known secrets never reach logs, reprs, errors or files; safe defaults hold.

Both clients talk to their simulators with every logger of ``maas_dyn`` at DEBUG; all text
they produce (log records, reprs, ``str()`` of the errors raised in real failure paths,
cache files) is searched for the secrets. Cassettes and ``--debug`` output have their own
audits in tests/testing/test_secrets.py and tests/cli/test_debug.py.
"""

from __future__ import annotations

import inspect
import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from maas_dyn.errors import ConfigurationError, MaasDynError
from maas_dyn.maas import Client as MAASClient
from maas_dyn.maas.transport import RequestsTransport
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client as TrueNASClient


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    # Structured fields in ``extra`` are part of what a JSON formatter would write.
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(__dict__)s"))
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
    assert "DEBUG" in output  # the audit really saw debug logging
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
    assert "DEBUG" in output
    assert [s for s in secrets if s in output] == []
    _assert_private(cache)


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
