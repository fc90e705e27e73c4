"""``truenas-dyn sim``: banner, credentials and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from maas_dyn.sim.truenas.cli import main


def test_serves_until_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert main(["--version", "25.04", "--speed", "20", "--seed", "1"]) == 0
    finally:
        timer.cancel()  # if main() failed before the signal, it must not hit pytest later
        timer.join(10)
    out = capsys.readouterr().out
    assert "TrueNAS 25.04 simulator (v25.04.0)" in out
    assert "ws://127.0.0.1:" in out and "/api/current" in out
    assert "truenas_admin / truenas_admin" in out
    assert "api key:      truenas_admin / 1-" in out
    assert "otp user:     otp_admin / otp_admin_password" in out
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_rejects_unknown_releases(capsys: pytest.CaptureFixture[str]) -> None:
    # Without --description only shipped releases can be served.
    assert main(["--version", "1.0"]) == 2
    assert "no description ships for 1.0" in capsys.readouterr().err
