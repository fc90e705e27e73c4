"""Run a simulator in a child process (as a real server would be) and read its banner.

Also the bounded waits the benchmarks share: for a child process and for worker threads.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAAS_URL = re.compile(r"^MAAS URL:[ \t]*(\S+)", re.MULTILINE)
MAAS_KEY = re.compile(r"^API key:[ \t]*(\S+)", re.MULTILINE)


def read_banner(child: subprocess.Popen[str], done: Callable[[str], bool],
                timeout: float = 60.0, max_lines: int = 20) -> str:
    """Read the child's output until ``done(banner)``, at most ``max_lines`` lines.

    ``readline()`` has no timeout: a child still silent after ``timeout`` s is killed,
    which ends its output, so this returns what was printed by then.
    """
    assert child.stdout is not None
    watchdog = threading.Timer(timeout, child.kill)
    watchdog.start()
    banner = ""
    try:
        for _ in range(max_lines):  # the banner is a few lines
            line = child.stdout.readline()
            if not line:
                break
            banner += line
            if done(banner):
                break
    finally:
        watchdog.cancel()
    return banner


def stop(child: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Terminate the child, and kill it if it has not exited after ``timeout`` s."""
    child.terminate()
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=timeout)


def join_all(threads: list[threading.Thread], timeout: float = 300.0) -> None:
    """Join every thread; fail if one is still running after ``timeout`` s in all."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise RuntimeError(f"threads still running after {timeout:g} s: {stuck}")


@contextmanager
def maas_sim_process(*options: str, timeout: float = 60.0) -> Iterator[tuple[str, str]]:
    """Start ``maas-dyn sim maas OPTIONS`` on a free port; yield ``(url, api_key)``."""
    command = [sys.executable, "-c", "import sys; from maas_dyn.sim.maas.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "--port", "0", *options]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, cwd=ROOT)
    try:
        banner = read_banner(child, lambda text: bool(MAAS_URL.search(text)
                                                      and MAAS_KEY.search(text)), timeout)
        url, key = MAAS_URL.search(banner), MAAS_KEY.search(banner)
        if not (url and key):
            raise RuntimeError(f"the simulator did not print its URL and key: {banner!r}")
        yield url[1], key[1]
    finally:
        stop(child, timeout)
