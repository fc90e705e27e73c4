"""The HTTP server: keep-alive, loopback only, clean start/stop, unexpected errors."""

from __future__ import annotations

import http.client
import threading

import pytest
import requests

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.request import ApiRequest
from maas_dyn.sim.maas.responses import Response
from tests.sim.races import (
    check_stop_ends_a_restart_downtime,
    port_taker,
    read_while_writing,
    refuses,
)

from .conftest import Api, raw_request


def test_keep_alive_reuses_one_connection(sim: MAASSimulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", "/MAAS/api/2.0/version/")
            response = connection.getresponse()
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(response.read())
        assert connection.sock is not None
        first_socket = connection.sock
        connection.request("DELETE", "/MAAS/api/2.0/tags/none/")
        response = connection.getresponse()
        response.read()
        assert response.status == 401
        assert connection.sock is first_socket
    finally:
        connection.close()


def test_binds_loopback_on_a_random_port(sim: MAASSimulator) -> None:
    assert sim.url.startswith("http://127.0.0.1:")
    assert sim.port > 0
    assert sim._server is not None
    assert sim._server.server_address[0] == "127.0.0.1"


def test_stop_joins_every_thread_and_is_idempotent() -> None:
    # Only this simulator's threads count: a session-scoped one (the pytest plugin's)
    # may be serving other tests at the same time.
    others = set(threading.enumerate())

    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate()
                if t.name.startswith("maas-sim") and t not in others]

    sim = MAASSimulator(machines=1).start()
    session = requests.Session()
    try:
        session.get(sim.url + "api/2.0/version/", timeout=10)  # leaves a keep-alive connection
        assert ours()
    finally:
        sim.stop()
    sim.stop()
    assert not ours()
    session.close()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url
    sim.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            sim.start()
        assert requests.get(sim.url + "api/2.0/version/", timeout=10).status_code == 200
    finally:
        sim.stop()


def test_fixed_port_and_bad_arguments() -> None:
    with MAASSimulator(machines=0) as first:
        port = first.port
    with MAASSimulator(machines=0, port=port) as second:
        assert second.port == port
    with pytest.raises(ValueError):
        MAASSimulator(machines=-1)
    with pytest.raises(ValueError):
        MAASSimulator(speed=0)


def test_unexpected_errors_become_500_with_hash(sim: MAASSimulator, api: Api,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: ApiRequest, origin: str) -> Response | None:
        raise RuntimeError("boom")

    assert sim._server is not None
    monkeypatch.setattr(sim._server, "app", broken)
    response = api.get("version/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["X-MAAS-API-Hash"]


def test_every_answer_carries_the_hash_even_stdlib_errors(sim: MAASSimulator) -> None:
    head = raw_request(sim, b"HEAD /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405") and b"X-MAAS-API-Hash: " in head
    options = raw_request(sim, b"OPTIONS /MAAS/ HTTP/1.1\r\nHost: x\r\n"
                                b"Connection: close\r\n\r\n")
    assert options.startswith(b"HTTP/1.1 501") and b"X-MAAS-API-Hash: " in options
    crowded = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(120))
    too_many = raw_request(sim, crowded + b"\r\n")
    assert too_many.startswith(b"HTTP/1.1 431") and b"X-MAAS-API-Hash: " in too_many
    bad_length = raw_request(sim, b"POST /MAAS/api/2.0/tags/ HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length: many\r\n\r\n")
    assert bad_length.startswith(b"HTTP/1.1 400")


def test_lazy_export_from_maas_dyn_sim() -> None:
    import maas_dyn.sim

    assert maas_dyn.sim.MAASSimulator is MAASSimulator


def test_restart_closes_connections_refuses_then_serves_the_same_port(sim: MAASSimulator,
                                                                      api: Api) -> None:
    port, machines = sim.port, len(sim.state.machines)
    assert api.get("version/").status_code == 200  # a keep-alive connection to break
    probes: list[bool] = []
    sim.restart(downtime=0.2, on_down=lambda: probes.append(refuses(port)))
    assert probes == [True]
    assert sim.port == port and len(sim.state.machines) == machines
    assert api.get("version/").status_code == 200  # the pooled connection is replaced


def test_stop_during_a_restart_downtime_ends_it_without_serving_again() -> None:
    check_stop_ends_a_restart_downtime(MAASSimulator(machines=0).start(), "maas-sim")


def test_stop_from_on_down_does_not_deadlock() -> None:
    sim = MAASSimulator(machines=0).start()
    port = sim.port
    sim.restart(downtime=30, on_down=sim.stop)  # returns at once: the stop ended it
    assert refuses(port)
    with pytest.raises(RuntimeError, match="not running"):
        sim.restart()


def test_restart_that_cannot_bind_again_names_the_port_and_stays_stopped() -> None:
    with MAASSimulator(machines=0) as sim:
        port = sim.port
        with port_taker(port) as occupy:  # another process takes it while the region is down
            with pytest.raises(RuntimeError, match=f"port {port}"):
                sim.restart(downtime=0.2, on_down=occupy)
            with pytest.raises(RuntimeError, match="not running"):
                _ = sim.port
        sim.stop()  # still fine: stopped already
        sim.start()  # the requested port (0): a free one
        assert requests.get(sim.url + "api/2.0/version/", timeout=10).status_code == 200


def test_counters_are_snapshots(sim: MAASSimulator, api: Api) -> None:
    assert api.post("tags/", data={"name": "once"}).status_code == 200
    counts, writes = sim.request_counts, sim.handled_writes
    assert api.post("tags/", data={"name": "once"}).status_code == 400  # sent again
    assert sim.request_counts.total() == counts.total() + 1
    (key,) = writes
    assert writes[key] == [200]  # the snapshot did not change
    assert sim.handled_writes[key] == [200, 400]


def test_counters_can_be_iterated_while_the_server_counts(sim: MAASSimulator) -> None:
    dispatcher = sim._dispatcher

    def count(n: int) -> None:  # what server threads do on each request
        dispatcher._count(dispatcher._request_counts, ("GET", "H", f"op{n}"))
        dispatcher._log_write(("POST", f"/p/{n}", "op"), 200)

    def read() -> None:
        for _key in sim.request_counts:
            pass
        for _key, _statuses in sim.handled_writes.items():
            pass

    read_while_writing(count, read)


def test_restart_needs_a_running_simulator_and_a_sane_downtime() -> None:
    sim = MAASSimulator(machines=0)
    with pytest.raises(RuntimeError, match="not running"):
        sim.restart()
    with sim, pytest.raises(ValueError, match="downtime"):
        sim.restart(-1)
