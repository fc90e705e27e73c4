"""The client against the embedded TrueNAS simulator, over real sockets on 127.0.0.1."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas import Client, Event, JobValidationFailed, connect

sim_module = pytest.importorskip("maas_dyn.sim.truenas")
TrueNASSimulator = sim_module.TrueNASSimulator


@pytest.fixture(scope="module")
def sim(truenas_sim_factory: Callable[..., Any]) -> Any:
    return truenas_sim_factory(version="25.10", speed=50.0)  # the plugin's, module-long


@pytest.fixture
def make(sim: Any) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make_client(**options: Any) -> Client:
        options.setdefault("username", sim.username)
        if not any(k in options for k in ("api_key", "token", "password")):
            options["password"] = sim.password
        options.setdefault("cache", False)
        client = connect(sim.url, **options)
        made.append(client)
        return client

    yield make_client
    for client in made:
        client.close()
    sim.faults.clear()


@pytest.fixture
def nas(make: Callable[..., Client]) -> Client:
    return make()


# -- logging in -------------------------------------------------------------------------------

def test_password_api_key_token_and_otp_logins(sim: Any, make: Callable[..., Client]) -> None:
    by_password = make()
    assert by_password.version and by_password.methods is not None
    assert by_password.auth.me()["pw_name"] == sim.username
    by_key = make(api_key=sim.api_key)
    assert by_key.auth.me()["pw_name"] == sim.username
    token = by_password.call("auth.generate_token", 300)
    by_token = make(token=token, username=None)
    assert by_token.core.ping() == "pong"
    by_otp = make(username=sim.otp_username, password=sim.otp_password, otp=sim.totp_now)
    assert by_otp.auth.me()["pw_name"] == sim.otp_username


def test_refused_logins(sim: Any, make: Callable[..., Client]) -> None:
    with pytest.raises(errors.AuthenticationError) as wrong:
        make(password="not-the-password")
    assert "not-the-password" not in str(wrong.value)
    with pytest.raises(errors.AuthenticationError, match="one-time password"):
        make(username=sim.otp_username, password=sim.otp_password)
    with pytest.raises(errors.AuthenticationError):
        make(username=sim.otp_username, password=sim.otp_password, otp="000000")


def test_every_release_connects(make: Callable[..., Client]) -> None:
    for release in ("25.04", "26.0"):
        with TrueNASSimulator(version=release, speed=50.0) as other:
            client = connect(other.url, username=other.username, password=other.password,
                             cache=False)
            try:
                assert client.methods is not None and len(client.methods) > 700
                assert client.disk.query([["name", "=", "sda"]])[0]["name"] == "sda"
            finally:
                client.close()


# -- calls ----------------------------------------------------------------------------------

def test_calls_and_errors(nas: Client) -> None:
    disks = nas.disk.query([["name", "^", "sd"]], {"order_by": ["name"]})
    assert [d["name"] for d in disks][:2] == ["sda", "sdb"]
    assert nas.call("disk.query", [["name", "=", "sdb"]])[0]["name"] == "sdb"
    assert nas["system.info"]()["hostname"] == "truenas-sim"
    with pytest.raises(errors.MethodNotFound):
        nas.call("no.such.method")
    nas.validate = False
    with pytest.raises(errors.ValidationError) as caught:
        nas.pool.create({"name": 5})
    assert caught.value.errors
    nas.validate = True
    with pytest.raises(errors.InvalidParametersError):
        nas.pool.create({"name": 5})


def test_pipelined_calls_from_threads(nas: Client) -> None:
    results: list[str] = []

    def worker() -> None:
        for _ in range(25):
            results.append(nas.core.ping())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["pong"] * 200


# -- jobs -----------------------------------------------------------------------------------

def test_job_success_with_progress(sim: Any, nas: Client) -> None:
    seen: list[float] = []
    job = nas.pool.create({"name": "tank", "topology": {
        "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}})
    pool = job.wait(timeout=30, on_progress=lambda p: seen.append(p["percent"]))
    assert pool["name"] == "tank" and job.state == "SUCCESS"
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) >= 3
    assert nas.pool.query([["name", "=", "tank"]])[0]["name"] == "tank"
    again = nas.pool.create({"name": "tank", "topology": {
        "data": [{"type": "STRIPE", "disks": ["sdc"]}]}})
    with pytest.raises(JobValidationFailed) as caught:
        again.wait(timeout=30)
    assert any("already exists" in message for _, message, _ in caught.value.errors)


def test_job_failure_and_call_with_job_true(sim: Any, nas: Client) -> None:
    sim.faults.fail_jobs("pool.create", 1, errmsg="disk on fire")
    with pytest.raises(errors.JobFailed, match="disk on fire") as caught:
        nas.call("pool.create", {"name": "burnt", "topology": {
            "data": [{"type": "STRIPE", "disks": ["sde"]}]}}, job=True)
    assert caught.value.state == "FAILED" and caught.value.job_id > 0


def test_job_abort() -> None:
    # At speed 1 a FULL wipe takes 10 real seconds: the abort comes first on any machine
    # (a job aborted while still WAITING never starts, so no head start is needed).
    with TrueNASSimulator(speed=1.0) as slow, \
            connect(slow.url, username=slow.username, password=slow.password,
                    cache=False) as client:
        job = client.disk.wipe("sdh", "FULL")
        job.abort()
        with pytest.raises(errors.JobFailed) as caught:
            job.wait(timeout=30)
    assert caught.value.state == "ABORTED"


def test_jobs_over_the_legacy_protocol(sim: Any) -> None:
    client = Client(sim.legacy_url, username=sim.username, password=sim.password, cache=False)
    try:
        assert client.endpoint.protocol == "legacy"
        job = client.disk.wipe("sdg", "QUICK")
        assert job.wait(timeout=30) is None
        stream = client.events("alert.list", timeout=5)
        sim.raise_alert("LegacyAlert", "over /websocket")
        assert next(stream).fields["klass"] == "LegacyAlert"
        stream.close()
    finally:
        client.close()


def test_legacy_keepalive_pings_with_core_ping_and_keeps_the_connection(sim: Any) -> None:
    # The middleware never answers DDP's {"msg": "ping"} (nor does the simulator now): a
    # keep-alive that waited for its pong would drop every idle legacy connection.
    client = Client(sim.legacy_url, username=sim.username, password=sim.password,
                    cache=False, ping_interval=0.2)
    try:
        link = client._conn
        before = sim.call_counts["core.ping"]
        deadline = time.monotonic() + 60
        while sim.call_counts["core.ping"] < before + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.call_counts["core.ping"] >= before + 3  # idle: pinged, and answered
        assert client._conn is link and not link.closed  # never dropped nor replaced
        assert client.call("core.ping") == "pong"
    finally:
        client.close()


# -- events ---------------------------------------------------------------------------------

def test_events_callback_and_iterator(sim: Any, nas: Client) -> None:
    received: list[Event] = []
    arrived = threading.Event()

    def callback(event: Event) -> None:
        received.append(event)
        arrived.set()

    with nas.subscribe("alert.list", callback), nas.events("alert.list", timeout=5) as stream:
        sim.raise_alert("TestAlert", "hello from the simulator")
        event = next(stream)
        assert event.collection == "alert.list" and event.msg == "added"
        assert event.fields["text"] == "hello from the simulator"
        assert arrived.wait(5)
    assert received[0].fields["klass"] == "TestAlert"


# -- files ----------------------------------------------------------------------------------

def test_upload_then_download(sim: Any, nas: Client, tmp_path: Path) -> None:
    source = tmp_path / "hello.txt"
    source.write_bytes(b"hello through /_upload\n" * 100)
    assert nas.upload("filesystem.put", ["/mnt/tank/hello.txt", {}], source) is True
    target = io.BytesIO()
    written = nas.download("filesystem.get", ["/mnt/tank/hello.txt"], "hello.txt", target)
    assert written == len(source.read_bytes()) and target.getvalue() == source.read_bytes()
    config = tmp_path / "config.db"
    assert nas.download("config.save", [{}], "config.db", config) > 0
    with pytest.raises(errors.JobFailed):
        nas.download("filesystem.get", ["/mnt/tank/missing"], "x", io.BytesIO(), timeout=10)


# -- connections ----------------------------------------------------------------------------

def test_reconnect_after_restart(sim: Any, nas: Client) -> None:
    received: list[Event] = []
    nas.subscribe("alert.list", received.append)
    sim.restart()
    deadline = time.monotonic() + 5
    while nas.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert nas.core.ping() == "pong"  # reconnects and logs in again
    sim.raise_alert("AfterRestart", "resubscribed")
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received and received[0].fields["klass"] == "AfterRestart"


def test_a_failed_reconnect_names_the_call_that_was_not_sent(sim: Any, nas: Client) -> None:
    sim.restart()
    deadline = time.monotonic() + 5
    while nas.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    sim.faults.drop_connection(1, method="auth.login_ex")  # the login step of the reconnect
    with pytest.raises(errors.ConnectionFailed) as caught:  # certainly not sent: may resend
        nas.pool.query()
    assert "pool.query was not sent" in str(caught.value)
    assert caught.value.method == "pool.query"
    assert "auth.login_ex" in str(caught.value)  # the step that failed stays visible
    assert nas.pool.query() is not None  # the next call reconnects


def _restart_with_downtime(sim: Any, nas: Client, downtime: float) -> threading.Thread:
    restarting = threading.Thread(target=sim.restart, kwargs={"downtime": downtime})
    restarting.start()
    deadline = time.monotonic() + 5
    while nas.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return restarting


def test_a_refused_reconnect_is_a_connection_failure_naming_the_call(
        sim: Any, make: Callable[..., Client]) -> None:
    nas = make(retry=RetryPolicy.never())
    restarting = _restart_with_downtime(sim, nas, 1.0)
    try:
        with pytest.raises(errors.ConnectionFailed, match="system.info was not sent"):
            nas.system.info()
    finally:
        restarting.join(10)
    assert nas.system.info()["version"]  # back after the downtime, same port


def test_calls_wait_for_a_restarting_middleware_within_the_retry_policy(
        sim: Any, nas: Client) -> None:
    restarting = _restart_with_downtime(sim, nas, 0.6)
    try:
        assert nas.system.info()["version"]  # refused, then retried after 0.5 s and 1 s
    finally:
        restarting.join(10)


def test_calls_in_flight_fail_with_connection_closed(sim: Any, nas: Client) -> None:
    sim.faults.slow_replies(2.0, 1, method="disk.query")
    failures: list[BaseException] = []

    def slow() -> None:
        try:
            nas.disk.query()
        except BaseException as exc:
            failures.append(exc)

    before = sim.call_counts["disk.query"]
    slowed = sim.faults.fired.get("slow", 0)
    worker = threading.Thread(target=slow)
    worker.start()
    # The restart comes once the call is in flight: its slow reply has begun.
    deadline = time.monotonic() + 30
    while sim.faults.fired.get("slow", 0) == slowed and time.monotonic() < deadline:
        time.sleep(0.01)
    sim.restart()
    worker.join(10)
    assert len(failures) == 1 and isinstance(failures[0], errors.ConnectionClosed)
    assert nas.core.ping() == "pong"
    assert sim.call_counts["disk.query"] == before + 1  # never re-sent


def test_dropped_after_the_method_ran(sim: Any, nas: Client) -> None:
    sim.faults.drop_connection(1, method="system.info", when="after")
    with pytest.raises(errors.ConnectionClosed, match="not re-sent"):
        nas.system.info()
    assert nas.system.info()["hostname"] == "truenas-sim"


def test_connection_refused() -> None:
    with pytest.raises(errors.ConnectionFailed):
        connect("ws://127.0.0.1:9/api/current", username="a", password="b", cache=False,
                connect_timeout=2)


def test_method_cache_on_disk(sim: Any, make: Callable[..., Client]) -> None:
    first = make(cache=True)
    before = sim.call_counts["core.get_methods"]
    second = make(cache=True)
    assert len(second.methods or ()) == len(first.methods or ())
    assert sim.call_counts["core.get_methods"] == before  # read from the cache
