"""TrueNAS client benchmarks: each figure is a ratio against a baseline measured in this run.

Run: python benchmarks/bench_truenas.py [--quick]

Prints, against the TrueNAS simulator (25.10) on 127.0.0.1, run in its own process as a
real server would be (in this process its threads would compete for our GIL):
- sequential core.ping round trip through the client / a raw websocket-client
  send/recv loop doing the same JSON-RPC call                          target <= 1.15
- pipelined throughput from 8 threads over one client connection / sequential
                                                                       target >= 3
- the same two with 2 ms of server latency per call (an in-process simulator with a
  slow_replies fault), where pipelining is what it is for
- calls/s the simulator sustains over 1 connection and over 8 connections
- time to build a client from the 25.10 get_methods document (offline), and the same
  with every signature and docstring rendered
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import websocket

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._sim_process import join_all, read_banner, stop
from maas_dyn._shipped import load_shipped
from maas_dyn.truenas import Client, connect

QUICK = "--quick" in sys.argv
CALLS = 500 if QUICK else 3000
ROUNDS = 3 if QUICK else 7
THREADS = 8


@dataclass
class Server:
    url: str
    username: str
    password: str


@contextmanager
def simulator() -> Iterator[Server]:
    """Run `truenas-dyn sim` in a child process and read its banner."""
    command = [sys.executable, "-c", "import sys; from maas_dyn.sim.truenas.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "--version", "25.10", "--speed", "50"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        banner = read_banner(child, lambda text: "password:" in text, timeout=60)
        if "password:" not in banner:
            raise RuntimeError(f"the simulator did not start: {banner!r}")
        url = re.search(r"url:\s+(\S+)", banner)
        login = re.search(r"password:\s+(\S+) / (\S+)", banner)
        assert url and login
        yield Server(url[1], login[1], login[2])
    finally:
        stop(child, 10)


def raw_loop(url: str, username: str, password: str) -> Callable[[int], float]:
    """A websocket-client socket doing JSON-RPC by hand: the floor to compare with."""
    # Each recv() gives up after 60 s, as a client call does (call_timeout).
    ws = websocket.create_connection(url, timeout=60, enable_multithread=True)
    ids = itertools.count(1)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": "auth.login_ex",
                        "params": [{"mechanism": "PASSWORD_PLAIN", "username": username,
                                    "password": password}]}))
    assert json.loads(ws.recv())["result"]["response_type"] == "SUCCESS"

    def run(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            ws.send(json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": "core.ping",
                                "params": []}))
            assert json.loads(ws.recv())["result"] == "pong"
        return calls / (time.perf_counter() - start)

    run.close = ws.close  # type: ignore[attr-defined]
    return run


def client_loop(client: Client) -> Callable[[int], float]:
    def run(calls: int) -> float:
        ping = client.core.ping
        start = time.perf_counter()
        for _ in range(calls):
            ping()
        return calls / (time.perf_counter() - start)

    return run


def pipelined(client: Client, calls: int) -> float:
    per_thread = calls // THREADS
    barrier = threading.Barrier(THREADS + 1, timeout=60)

    def worker() -> None:
        ping = client.core.ping
        barrier.wait()
        for _ in range(per_thread):
            ping()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    join_all(threads)
    return per_thread * THREADS / (time.perf_counter() - start)


def connections(sim: Server, count: int, calls: int) -> float:
    """Aggregate calls/s of ``count`` clients, one connection and one thread each."""
    clients = [connect(sim.url, username=sim.username, password=sim.password, cache=False)
               for _ in range(count)]
    barrier = threading.Barrier(count + 1, timeout=60)
    per_client = calls // count

    def worker(client: Client) -> None:
        barrier.wait()
        for _ in range(per_client):
            client.core.ping()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    join_all(threads)
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return per_client * count / elapsed


def with_latency(delay: float, calls: int) -> tuple[float, float]:
    """Sequential and 8-thread calls/s when every core.ping takes ``delay`` on the server."""
    from maas_dyn.sim.truenas import TrueNASSimulator

    with TrueNASSimulator(version="25.10") as sim:
        sim.faults.slow_replies(delay, method="core.ping")
        with connect(sim.url, username=sim.username, password=sim.password,
                     cache=False) as client:
            sequential = client_loop(client)(calls)
            return sequential, pipelined(client, calls)


def build_times(document: dict[str, object]) -> tuple[float, float]:
    samples, full = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client = Client.from_methods(document)
        samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert client.methods is not None
        for name in client.methods:
            target = client[name]
            inspect.signature(target)
            inspect.getdoc(target)
        full.append(time.perf_counter() - start + samples[-1])
    return statistics.median(samples), statistics.median(full)


def main() -> int:
    document = load_shipped("truenas", "25.10")
    build, rendered = build_times(document)
    with simulator() as sim:
        client = connect(sim.url, username=sim.username, password=sim.password, cache=False)
        raw = raw_loop(sim.url, sim.username, sim.password)
        mine = client_loop(client)
        raw(200)
        mine(200)
        raw_rates, client_rates = [], []
        for _ in range(ROUNDS):  # interleaved, so machine noise hits both alike
            raw_rates.append(raw(CALLS))
            client_rates.append(mine(CALLS))
        threaded = statistics.median(pipelined(client, CALLS) for _ in range(ROUNDS))
        raw.close()  # type: ignore[attr-defined]
        client.close()
        over_one = connections(sim, 1, CALLS)
        over_eight = connections(sim, THREADS, CALLS)
    slow_sequential, slow_pipelined = with_latency(0.002, CALLS // 10)
    raw_rate, client_rate = statistics.median(raw_rates), statistics.median(client_rates)
    # Each round's two loops ran back to back: their ratio is the least noisy figure.
    ratio = statistics.median(r / c for r, c in zip(raw_rates, client_rates, strict=True))
    speedup = threaded / client_rate
    print(f"core.ping, raw websocket-client loop : {raw_rate:8.0f} calls/s "
          f"({1e6 / raw_rate:.0f} us per round trip)")
    print(f"core.ping, through the client        : {client_rate:8.0f} calls/s "
          f"({1e6 / client_rate:.0f} us)   round-trip ratio {ratio:.2f} (median of {ROUNDS} "
          f"interleaved rounds; target <= 1.15) {'OK' if ratio <= 1.15 else 'MISSED'}")
    print(f"core.ping, {THREADS} threads on one client   : {threaded:8.0f} calls/s"
          f"   ratio to sequential {speedup:.2f} (target >= 3) "
          f"{'OK' if speedup >= 3 else 'MISSED'}")
    slow_speedup = slow_pipelined / slow_sequential
    print(f"with 2 ms server latency: sequential {slow_sequential:.0f} calls/s, {THREADS} threads "
          f"on one connection {slow_pipelined:.0f} calls/s, ratio {slow_speedup:.2f} "
          f"(target >= 3) {'OK' if slow_speedup >= 3 else 'MISSED'}")
    print(f"simulator, 1 connection              : {over_one:8.0f} calls/s")
    print(f"simulator, {THREADS} connections             : {over_eight:8.0f} calls/s")
    print(f"build client from 25.10 document      : {build * 1000:8.1f} ms "
          f"({len(document)} methods)")
    print(f"  ... with every signature + docstring: {rendered * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
