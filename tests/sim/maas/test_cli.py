"""``maas-dyn sim maas``: prints URL and key, serves until SIGTERM, exits 0."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest
import requests

from maas_dyn.sim.maas.cli import build_parser, main


def _serve_then_terminate(results: list[int], others: set[threading.Thread],
                          returned: threading.Event) -> None:
    # Threads of simulators that were already running (other fixtures) are not ours.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not returned.is_set():
        names = [t.name for t in threading.enumerate() if t not in others and
                 t.name.startswith("maas-sim-") and not t.name.startswith("maas-sim-conn-")]
        ports = [int(n.rsplit("-", 1)[1]) for n in names if n.rsplit("-", 1)[1].isdigit()]
        if ports:
            url = f"http://127.0.0.1:{ports[0]}/MAAS/api/2.0/version/"
            results.append(requests.get(url, timeout=10).status_code)
            break
        time.sleep(0.02)
    if not returned.is_set():  # once main() has returned, the signal would hit pytest
        os.kill(os.getpid(), signal.SIGTERM)


def test_cli_serves_until_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    results: list[int] = []
    returned = threading.Event()
    helper = threading.Thread(target=_serve_then_terminate,
                              args=(results, set(threading.enumerate()), returned))
    previous = signal.getsignal(signal.SIGTERM)
    helper.start()
    try:
        status = main(["--port", "0", "--machines", "3", "--speed", "10", "--version", "3.6"])
    finally:
        returned.set()
        helper.join(10)
    assert status == 0
    assert results == [200]
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MAAS URL: http://127.0.0.1:") and out[0].endswith("/MAAS/")
    assert out[1].startswith("API key:  ") and out[1].count(":") == 3
    assert signal.getsignal(signal.SIGTERM) is previous


def test_cli_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--machines", "-1", "--port", "0"]) == 2
    assert "--machines" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version", "9.9"])


def test_cli_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port), "--machines", "0"]) == 1
    assert "cannot listen" in capsys.readouterr().err
