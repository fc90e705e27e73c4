"""Run a simulator in a child process (as a real server would be) and read its banner."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def maas_sim_process(*options: str, timeout: float = 60.0) -> Iterator[tuple[str, str]]:
    """Start ``maas-dyn sim maas OPTIONS`` on a free port; yield ``(url, api_key)``."""
    command = [sys.executable, "-c", "import sys; from maas_dyn.sim.maas.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "--port", "0", *options]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        url = key = ""
        for _ in range(20):  # the banner is a few lines
            line = child.stdout.readline()
            if not line:
                break
            if match := re.match(r"MAAS URL:\s*(\S+)", line):
                url = match.group(1)
            if match := re.match(r"API key:\s*(\S+)", line):
                key = match.group(1)
            if url and key:
                break
        if not (url and key):
            raise RuntimeError("the simulator did not print its URL and key")
        yield url, key
    finally:
        child.terminate()
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=timeout)
