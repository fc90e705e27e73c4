"""Helpers shared by the MAAS and TrueNAS simulator tests: races a test provokes on purpose."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

#: Writes a writer makes at most, and seconds the reader reads, in :func:`read_while_writing`.
MAX_WRITES = 50_000
READ_SECONDS = 0.5


def read_while_writing(write: Callable[[int], None], read: Callable[[], None]) -> None:
    """Call ``read`` over and over while another thread calls ``write(n)`` as fast as it can.

    Threads switch very often meanwhile, so a reader iterating a dict the writer changes
    would fail ("dictionary changed size during iteration"). Bounded in writes and time.

    Args:
        write: One write, given its number.
        read: One full read (it iterates what it reads).
    """
    done = threading.Event()

    def writer_loop() -> None:
        n = 0
        while not done.is_set() and n < MAX_WRITES:
            write(n)
            n += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    writer = threading.Thread(target=writer_loop)
    writer.start()
    try:
        deadline = time.monotonic() + READ_SECONDS
        while time.monotonic() < deadline and writer.is_alive():
            read()
    finally:
        done.set()
        writer.join(10)
        sys.setswitchinterval(interval)


@contextmanager
def port_taker(port: int) -> Iterator[Callable[[], None]]:
    """Yield a function that listens on ``port`` (as another process would, while a
    restarting server is down); the socket is closed when the block ends.

    Args:
        port: The port to take on 127.0.0.1.

    Yields:
        The function to call (e.g. as a restart's ``on_down``).
    """
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def occupy() -> None:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()

    try:
        yield occupy
    finally:
        blocker.close()


def refuses(port: int) -> bool:
    """Tell whether 127.0.0.1:``port`` refuses connections (nothing listens there).

    Args:
        port: The port.

    Returns:
        True when the connection is refused.
    """
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


class Restartable(Protocol):
    """What both simulators offer for restarts."""

    @property
    def port(self) -> int:
        """The bound port."""

    def restart(self, downtime: float = 0.0, on_down: Callable[[], None] | None = None) -> None:
        """Restart with the port closed for ``downtime`` seconds."""

    def stop(self) -> None:
        """Stop serving."""


def check_stop_ends_a_restart_downtime(sim: Restartable, server_thread: str) -> None:
    """Stop ``sim`` while a restart waits out a 30 s downtime in another thread.

    The stop must end the downtime at once, and nothing may serve again: the port
    refuses, no thread named like ``server_thread`` (a prefix) is left.

    Args:
        sim: A running simulator.
        server_thread: The prefix of its server threads' names.
    """
    others = set(threading.enumerate())
    port = sim.port
    down = threading.Event()
    errors: list[BaseException] = []

    def restart() -> None:
        try:
            sim.restart(downtime=30, on_down=down.set)
        except BaseException as exc:
            errors.append(exc)

    restarting = threading.Thread(target=restart)
    restarting.start()
    try:
        assert down.wait(10)
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 5  # not the 30 s downtime
        restarting.join(5)
        assert not restarting.is_alive()
        assert errors == []
        assert refuses(port)
        assert not [t for t in threading.enumerate()
                    if t.name.startswith(server_thread) and t not in others]
        try:
            _ = sim.port
        except RuntimeError as exc:
            assert "not running" in str(exc)
        else:
            raise AssertionError("the simulator still has a port after stop()")
    finally:
        sim.stop()
        restarting.join(35)
