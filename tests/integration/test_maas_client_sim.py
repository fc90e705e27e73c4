"""The MAAS client against the embedded simulator over real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client, DescriptionChangedWarning
from maas_dyn.retry import RetryPolicy
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows.waiters import get_waiter

FAST = RetryPolicy(total=3, backoff_factor=0.01, max_total_time=5)


@pytest.fixture
def sim() -> Iterator[MAASSimulator]:
    with MAASSimulator(version="3.7", machines=8, speed=500.0, seed=3) as running:
        yield running


@pytest.fixture
def client(sim: MAASSimulator) -> Iterator[Client]:
    with Client(sim.url, sim.api_key, cache=False, retry=FAST, timeout=(2, 5)) as connected:
        yield connected


def _ready(client: Client) -> str:
    return next(m["system_id"] for m in client.machines.read() if m["status_name"] == "Ready")


def test_connect_and_explore(client: Client, sim: MAASSimulator) -> None:
    assert client.users.whoami()["username"] == "admin"
    assert client.last_response is not None
    assert client.last_response.headers["X-MAAS-API-Hash"] == client.description.hash
    assert client.version.read()["version"].startswith("3.7")
    assert len(client.machines.read()) == 8


def test_full_machine_lifecycle(client: Client) -> None:
    system_id = _ready(client)
    assert client.machine.commission(system_id)["status_name"] == "Commissioning"
    get_waiter(client, "machine_commissioned", interval=0.05, timeout=20).wait(system_id)
    allocated = client.machines.allocate(system_id=system_id)
    assert allocated["status_name"] == "Allocated"
    client.machine.deploy(system_id, distro_series="jammy")
    deployed = get_waiter(client, "machine_deployed", interval=0.05, timeout=20).wait(system_id)
    assert deployed["osystem"] == "ubuntu" and deployed["distro_series"] == "jammy"
    assert deployed["power_state"] == "on"
    client.machine.release(system_id, comment="done")
    released = get_waiter(client, "machine_released", interval=0.05, timeout=20).wait(system_id)
    assert released["owner"] is None and released["power_state"] == "off"


def test_invalid_transition_is_a_conflict(client: Client) -> None:
    system_id = next(m["system_id"] for m in client.machines.read()
                     if m["status_name"] == "New")
    with pytest.raises((errors.ConflictError, errors.BadRequestError)) as info:
        client.machine.release(system_id)
    assert "New" in info.value.message


def test_tags(client: Client) -> None:
    ids = [m["system_id"] for m in client.machines.read()][:3]
    client.tags.create(name="k8s", comment="workers")
    client.tag.update_nodes("k8s", add=ids)
    assert sorted(m["system_id"] for m in client.tag.machines("k8s")) == sorted(ids)
    client.tag.update_nodes("k8s", remove=ids[:1])
    assert len(client.tag.machines("k8s")) == 2
    with pytest.raises(errors.NotFoundError):
        client.tag.read("nope")


def test_networks(client: Client) -> None:
    fabric = client.fabrics.create(name="fabric-test")
    vlan = client.vlans.create(fabric["id"], vid=42, name="v42")
    assert client.vlan.read(fabric["id"], 42)["name"] == "v42"
    subnet = client.subnets.create(cidr="10.42.0.0/24", vlan=vlan["id"])
    assert subnet["cidr"] == "10.42.0.0/24"
    assert any(s["id"] == subnet["id"] for s in client.subnets.read())


def test_storage_layout(client: Client) -> None:
    system_id = _ready(client)
    client.machine.set_storage_layout(system_id, storage_layout="lvm")
    devices = client.block_devices.read(system_id)
    assert devices and all("id" in d for d in devices)


def test_field_errors(client: Client) -> None:
    with pytest.raises(errors.BadRequestError) as info:
        client.tags.create()
    assert "name" in info.value.field_errors


def test_auth_failures(sim: MAASSimulator) -> None:
    with Client(sim.url, "nobody:nothing:wrong", cache=False) as stranger:
        with pytest.raises(errors.UnauthorizedError) as info:
            stranger.users.whoami()
        assert "wrong" not in str(info.value)
    consumer, token, _ = sim.api_key.split(":")
    with Client(sim.url, f"{consumer}:{token}:badsecret", cache=False) as forged, \
            pytest.raises(errors.AuthenticationError):
        forged.users.whoami()
    with Client(sim.url, cache=False) as anonymous:
        assert anonymous.version.read()["version"]
        with pytest.raises(errors.UnauthorizedError):
            anonymous.machines.read()


def test_non_admin_is_forbidden_admin_actions(sim: MAASSimulator) -> None:
    key = sim.add_user("alice")
    with Client(sim.url, key, cache=False) as alice, pytest.raises(errors.ForbiddenError):
        alice.users.create(username="bob", email="b@example.com", password="x",
                           is_superuser=False)


def test_503_with_retry_after_is_retried(client: Client, sim: MAASSimulator) -> None:
    sim.faults.unavailable(retry_after=0, times=2, method="GET", op="read")
    assert client.tags.read() is not None


def test_deploy_is_not_resent_after_503(client: Client, sim: MAASSimulator) -> None:
    system_id = _ready(client)
    sim.faults.unavailable(retry_after=0, times=1, op="deploy")
    before = sim.request_counts[("POST", "MachineHandler", "deploy")]
    with pytest.raises(errors.ServiceUnavailableError):
        client.machine.deploy(system_id)
    assert sim.request_counts[("POST", "MachineHandler", "deploy")] == before + 1


def test_locked_machine_conflict(client: Client, sim: MAASSimulator) -> None:
    sim.faults.locked(retry_after=0, times=1, op="deploy")
    with pytest.raises(errors.ConflictError) as info:
        client.machine.deploy(_ready(client))
    assert info.value.retry_after == "0"


def test_slow_reply_times_out(sim: MAASSimulator) -> None:
    with Client(sim.url, sim.api_key, cache=False, timeout=(2, 0.3),
                retry=RetryPolicy.never()) as impatient:
        sim.faults.slow(1.0, times=1, op="whoami")
        with pytest.raises(errors.Timeout):
            impatient.users.whoami()


def _client_sockets(port: int) -> int:
    found = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the descriptor listdir used, already closed
            target = os.readlink(f"/proc/self/fd/{name}")
            if target.startswith("socket:") and _peer_port(int(name)) == port:
                found += 1
    return found


def _peer_port(fd: int) -> int | None:
    duplicate = socket.socket(fileno=os.dup(fd))
    try:
        return int(duplicate.getpeername()[1])
    except OSError:  # a listening or unconnected socket
        return None
    finally:
        duplicate.close()


def test_kept_errors_keep_no_socket_open() -> None:
    # Found by the chaos run: kept errors reached the connection pool through their
    # causes' tracebacks and urllib3's .pool, so sockets stayed open after close().
    with MAASSimulator(machines=40, speed=500.0, seed=3) as sim:
        kept: list[errors.MaasDynError] = []
        with Client(sim.url, sim.api_key, cache=False, timeout=(2, 0.2),
                    retry=RetryPolicy.never()) as impatient:
            machines = [m["system_id"] for m in impatient.machines.read()]
            sim.faults.slow(0.5, probability=0.3, op="deploy")
            sim.faults.drop(probability=0.2, op="deploy")

            def deploy(system_id: str) -> None:
                try:
                    impatient.machine.deploy(system_id)
                except (errors.Timeout, errors.ConnectionClosed, errors.ConflictError) as exc:
                    kept.append(exc)

            with ThreadPoolExecutor(8) as workers:
                list(workers.map(deploy, machines))
        gc.collect()
        assert any(isinstance(e, errors.Timeout) for e in kept)
        assert _client_sockets(sim.port) == 0


class _CallersOwnError(Exception):
    response = None  # the attribute name the transport clears on requests' errors


def test_releasing_references_leaves_the_callers_own_exception_alone(
        client: Client, sim: MAASSimulator) -> None:
    # Found in review: requests' errors chain to the exception being handled, and the
    # release walked into it, wiping the caller's traceback and attributes.
    try:
        raise _CallersOwnError("keep me")
    except _CallersOwnError as outer:
        outer.response = "the caller's"
        sim.faults.drop(times=1, method="POST")
        with pytest.raises(errors.ConnectionClosed):
            client.machine.deploy(_ready(client))
        assert outer.__traceback__ is not None and outer.response == "the caller's"


FILE_KEY = "FILEKEY-SECRET-123456"


def test_secret_query_values_stay_out_of_errors_and_logs(
        sim: MAASSimulator, caplog: pytest.LogCaptureFixture) -> None:
    # Found by the secrets audit: a file key (files get_by_key: the file to anyone with
    # it) was quoted in errors and DEBUG lines, including urllib3's request line.
    failures: list[BaseException] = []
    with caplog.at_level(logging.DEBUG), \
            Client(sim.url, sim.api_key, cache=False, timeout=(2, 0.3),
                   retry=RetryPolicy.never()) as impatient:
        with pytest.raises(errors.NotFoundError) as missing:
            impatient.files.get_by_key(key=FILE_KEY)
        failures.append(missing.value)
        sim.faults.slow(1.0, times=1, op="get_by_key")
        with pytest.raises(errors.Timeout) as slow:
            impatient.files.get_by_key(key=FILE_KEY)
        failures.append(slow.value)
    # The simulator logs its request lines like a real region: only the client counts.
    client_log = "\n".join(r.getMessage() for r in caplog.records
                           if not r.name.startswith("maas_dyn.sim"))
    shown = [client_log] + ["".join(traceback.format_exception(f)) for f in failures]
    shown += [f.url for f in failures if isinstance(f, errors.MAASAPIError | errors.Timeout)]
    assert "key=<redacted>" in shown[1]
    assert not [text for text in shown if FILE_KEY in text]


def test_dropped_connection(client: Client, sim: MAASSimulator) -> None:
    sim.faults.drop(times=1, method="POST")
    with pytest.raises(errors.ConnectionClosed):
        client.machine.deploy(_ready(client))
    sim.faults.drop(times=1, method="GET", op="whoami")
    assert client.users.whoami()["username"] == "admin"  # a GET is retried


def test_server_upgrade_swaps_the_description(client: Client, sim: MAASSimulator) -> None:
    old_hash = client.description.hash
    sim.swap_description("3.6")
    with pytest.warns(DescriptionChangedWarning):
        client.users.whoami()
    assert client.description.hash != old_hash
    assert "reserved_ip" in client.handlers  # 3.6 has ReservedIp too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.users.whoami()


@pytest.mark.filterwarnings("ignore::maas_dyn.maas.DescriptionChangedWarning")
def test_calls_do_not_wait_for_another_threads_refresh(client: Client,
                                                        sim: MAASSimulator) -> None:
    # Found in review: the refresh ran under the client's lock with retries, so every
    # thread whose (already successful) answer carried the new hash waited behind it.
    describe = ("GET", "describe", "describe")
    fetched = sim.request_counts[describe]
    sim.faults.slow(2.0, times=1, op="describe")
    sim.swap_description("3.6")
    refreshing = threading.Thread(target=client.users.whoami)
    refreshing.start()
    try:
        deadline = time.monotonic() + 5
        while sim.request_counts[describe] == fetched and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.request_counts[describe] == fetched + 1  # the refresh is under way
        assert client.users.whoami()["username"] == "admin"  # answered meanwhile
        assert refreshing.is_alive()
    finally:
        refreshing.join(10)


def test_unmodelled_action_answers_501(client: Client) -> None:
    # Adding a chassis needs a real BMC to talk to, so the simulator does not model it.
    with pytest.raises(errors.MAASAPIError) as info:
        client.machines.add_chassis(chassis_type="virsh", hostname="qemu+ssh://h/system")
    assert info.value.status == 501
    assert "MachinesHandler" in info.value.message


def test_connect_takes_the_api_url_that_maas_dyn_list_prints() -> None:
    import maas_dyn
    from maas_dyn.sim.maas import MAASSimulator

    with MAASSimulator(machines=2) as sim, maas_dyn.maas.connect(
            f"{sim.url}api/2.0/", api_key=sim.api_key, cache=False) as client:
        assert client.url == sim.url
        assert len(client.machines.read()) == 2
