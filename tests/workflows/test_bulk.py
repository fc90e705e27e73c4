"""Tests of maas_dyn/workflows/bulk.py."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.workflows.bulk import describe_error, run_bulk


def test_every_target_is_accounted_for_in_order() -> None:
    def call(target: int) -> int:
        if target % 3 == 0:
            raise errors.ConflictError("locked", status=409)
        return target * 10

    result = run_bulk(call, range(10), concurrency=4)
    assert [i.target for i in result.items] == list(range(10))
    assert [i.value for i in result.succeeded] == [10, 20, 40, 50, 70, 80]
    assert [i.target for i in result.failed] == [0, 3, 6, 9]
    assert all(isinstance(i.error, errors.ConflictError) for i in result.failed)
    assert result.summary().endswith(f"6 succeeded, 4 failed of 10 in {result.seconds:.1f} s")
    assert "0: ConflictError: 409: locked" in result.summary()


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    running = peak = 0
    release = threading.Event()

    def call(target: int) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(0.01)
        with lock:
            running -= 1

    run_bulk(call, range(40), concurrency=5)
    assert 1 < peak <= 5


def test_only_retryable_errors_are_retried() -> None:
    attempts: dict[str, int] = {}
    slept: list[float] = []

    def call(target: str) -> str:
        attempts[target] = attempts.get(target, 0) + 1
        if target == "busy" and attempts[target] < 3:
            raise errors.ServiceUnavailableError("busy", status=503)
        if target == "broken":
            raise errors.ConnectionClosed("reset mid-call")
        return "done"

    result = run_bulk(call, ["busy", "broken", "fine"], retries=3, retry_delay=1,
                      sleep=slept.append)
    assert [i.ok for i in result.items] == [True, False, True]
    assert attempts == {"busy": 3, "broken": 1, "fine": 1}
    assert sorted(slept) == [1, 2]


def test_progress_plain_and_terminal() -> None:
    plain = io.StringIO()
    run_bulk(lambda t: t, range(20), progress=plain, label="deploy")
    assert plain.getvalue().splitlines()[-1] == "deploy: 20/20 done, 0 failed"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    run_bulk(lambda t: t, range(3), progress=tty)
    assert tty.getvalue().count("\r") == 3 and tty.getvalue().endswith("0 failed\n")


def test_keyboard_interrupt_propagates() -> None:
    def call(target: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_bulk(call, [1])


def test_describe_error() -> None:
    assert describe_error(errors.ConflictError("x", status=409)) == "ConflictError (409)"
    assert describe_error(ValueError("x")) == "ValueError"


# -- stopping a run -----------------------------------------------------------------------


def test_ctrl_c_stops_waits_at_once_and_keeps_every_outcome() -> None:
    import os
    import signal

    from maas_dyn.workflows.bulk import BulkInterrupted
    from maas_dyn.workflows.cancel import pause

    both_running = threading.Barrier(2, timeout=30)

    def call(target: int) -> str:
        both_running.wait()  # the two workers are inside their calls
        if target == 0:
            os.kill(os.getpid(), signal.SIGINT)  # reaches the main thread, as Ctrl-C does
        for _ in range(3000):  # at most 300 s of polls, unless the run is stopped
            pause(0.1)
        return "never"

    with pytest.raises(BulkInterrupted) as caught:
        run_bulk(call, range(6), concurrency=2)
    items = caught.value.result.items
    assert [i.target for i in items] == list(range(6))
    for item in items[:2]:  # stopped in their wait: a Cancelled error, not a hang
        assert isinstance(item.error, errors.Cancelled) and item.attempts == 1
    for item in items[2:]:  # never started, nothing sent
        assert isinstance(item.error, errors.Cancelled) and not item.error.sent
        assert item.attempts == 0


def test_a_stop_set_elsewhere_ends_the_run_without_an_interrupt() -> None:
    from maas_dyn.workflows.cancel import pause

    stop = threading.Event()

    def call(target: int) -> None:
        stop.set()
        pause(60)

    result = run_bulk(call, range(4), concurrency=1, stop=stop)
    assert all(isinstance(i.error, errors.Cancelled) for i in result.items)
    assert [i.attempts for i in result.items] == [1, 0, 0, 0]


def test_a_stopped_retry_keeps_the_real_error() -> None:
    stop = threading.Event()

    def call(target: int) -> None:
        stop.set()
        raise errors.ServiceUnavailableError("busy", status=503)

    result = run_bulk(call, [1], retries=3, retry_delay=60, stop=stop)
    assert isinstance(result.items[0].error, errors.ServiceUnavailableError)
    assert result.items[0].attempts == 1


def test_pause_outside_a_run_just_sleeps() -> None:
    from maas_dyn.workflows.cancel import current_stop, pause

    assert current_stop() is None
    pause(0)
