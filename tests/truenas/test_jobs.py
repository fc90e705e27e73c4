"""Jobs: events, the polling fallback, results, failures, aborts, progress, reconnects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas import Client, Job, JobValidationFailed
from maas_dyn.truenas.jobs import FINISHED, MAX_LOST_POLLS, STATES, JobTracker
from maas_dyn.truenas.messages import Event
from tests.truenas.fakes import FakeError, FakeServer, call_error


@pytest.fixture
def jobs_server(server: FakeServer) -> FakeServer:
    server.handlers["pool.create"] = lambda data: server.start_job("pool.create", [data])
    return server


POOL = {"name": "tank", "topology": {"data": [{"type": "STRIPE", "disks": ["sda"]}]},
        "encryption_options": {"passphrase": "PASSPHRASE-SECRET"}}


def when(condition: Callable[[], bool], action: Callable[[], Any]) -> threading.Thread:
    """Run ``action`` in a thread once ``condition`` holds (not after a guessed delay)."""
    def run() -> None:
        _wait_for(condition)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.005)


@pytest.fixture
def background() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(5)


def test_states_table() -> None:
    assert set(STATES) == {"WAITING", "RUNNING", "SUCCESS", "FAILED", "ABORTED"}
    assert {"SUCCESS", "FAILED", "ABORTED"} == FINISHED


def test_job_followed_by_events(jobs_server: FakeServer, make_client: Callable[..., Client],
                                background: list[threading.Thread]) -> None:
    client = make_client(job_poll_interval=30)  # polls would take 30 s: events must do it
    job = client.pool.create(POOL)
    assert isinstance(job, Job) and job.method == "pool.create"

    def progress() -> None:
        jobs_server.update_job(job.id, progress={"percent": 50, "description": "half",
                                                 "extra": None})
        time.sleep(0.05)
        jobs_server.update_job(job.id, state="SUCCESS", result={"id": 1, "name": "tank"},
                               progress={"percent": 100, "description": "done", "extra": None})

    seen: list[dict[str, Any]] = []
    background.append(when(lambda: bool(jobs_server.subscribed("core.get_jobs")), progress))  # waiting
    started = time.monotonic()
    assert job.wait(timeout=10, on_progress=seen.append) == {"id": 1, "name": "tank"}
    assert time.monotonic() - started < 5
    assert [p["percent"] for p in seen] == [0, 50, 100]
    assert job.done and job.state == "SUCCESS" and job.progress["percent"] == 100
    assert jobs_server.subscribed("core.get_jobs")  # one subscription for the connection
    second = client.pool.create(POOL)
    jobs_server.update_job(second.id, emit=False, state="SUCCESS", result=2)
    assert second.wait(timeout=5) == 2
    assert len(jobs_server.subscribed("core.get_jobs")) == 1


def test_job_that_ended_before_the_subscription(jobs_server: FakeServer,
                                                make_client: Callable[..., Client]) -> None:
    client = make_client(job_poll_interval=30)
    job = client.pool.create(POOL)
    jobs_server.update_job(job.id, emit=False, state="SUCCESS", result="early")
    assert job.wait(timeout=5) == "early"


def test_polling_when_events_are_refused(jobs_server: FakeServer,
                                         make_client: Callable[..., Client],
                                         background: list[threading.Thread]) -> None:
    def refuse(link: Any, name: str) -> Any:
        raise call_error("Not authorized", "EACCES", 13)

    jobs_server.handlers["core.subscribe"] = refuse
    client = make_client(job_poll_interval=0.1)
    job = client.pool.create(POOL)
    background.append(when(lambda: any(m == "core.get_jobs" for m, _ in jobs_server.calls), lambda: jobs_server.update_job(
        job.id, emit=False, state="SUCCESS", result="polled")))
    assert job.wait(timeout=5) == "polled"
    assert sum(1 for m, _ in jobs_server.calls if m == "core.get_jobs") >= 2


def test_a_poll_refused_as_too_many_calls_is_polled_again(
        jobs_server: FakeServer, make_client: Callable[..., Client],
        background: list[threading.Thread]) -> None:
    # Found by the chaos run under load: the server's limit of calls in flight refused a
    # poll, and job.wait() ended with an error about core.get_jobs, not the job.
    get_jobs = jobs_server.handlers["core.get_jobs"]
    refused: list[int] = []

    def busy_once(*args: Any) -> Any:
        if len(refused) < 2:
            refused.append(1)
            raise FakeError(-32000, "Maximum number of concurrent calls (20) has exceeded")
        return get_jobs(*args)

    jobs_server.handlers["core.get_jobs"] = busy_once
    jobs_server.handlers["core.subscribe"] = lambda link, name: (_ for _ in ()).throw(
        call_error("Not authorized", "EACCES", 13))  # no events: polls decide
    client = make_client(job_poll_interval=0.05)
    job = client.pool.create(POOL)
    background.append(when(lambda: len(refused) == 2, lambda: jobs_server.update_job(
        job.id, emit=False, state="SUCCESS", result="after two refusals")))
    assert job.wait(timeout=5) == "after two refusals"
    assert len(refused) == 2


def test_failed_job(jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    job = client.pool.create(POOL)
    jobs_server.update_job(job.id, state="FAILED", error="[EIO] disk sda failed",
                           exception="Traceback ...\nOSError", exc_info={
                               "type": "CallError", "errname": "EIO", "extra": None})
    with pytest.raises(errors.JobFailed) as caught:
        job.wait(timeout=5)
    failure = caught.value
    assert failure.job_id == job.id and failure.state == "FAILED"
    assert failure.errname == "EIO" and failure.reason == "[EIO] disk sda failed"
    assert failure.trace == "Traceback ...\nOSError" and failure.method == "pool.create"
    assert isinstance(failure, errors.CallError) and failure.status == -32001
    text = f"{failure} {failure.data} {job!r} {job.record}"
    assert "PASSPHRASE-SECRET" not in text and "credentials" not in text


def test_failed_validation_job(jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    job = client.pool.create(POOL)
    jobs_server.update_job(job.id, state="FAILED", error="[EINVAL] data.name: exists",
                           exc_info={"type": "VALIDATION",
                                     "extra": [["data.name", "exists", 22],
                                               ["data.topology", "bad", 22]]})
    with pytest.raises(JobValidationFailed) as caught:
        job.wait(timeout=5)
    assert isinstance(caught.value, errors.JobFailed)
    assert isinstance(caught.value, errors.ValidationError)
    assert caught.value.errors == [("data.name", "exists", 22), ("data.topology", "bad", 22)]
    assert caught.value.status == -32602


def test_abort(jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    job = client.pool.create(POOL)
    job.abort()
    assert ("core.job_abort", [job.id]) in jobs_server.calls
    with pytest.raises(errors.JobFailed) as caught:
        job.wait(timeout=5)
    assert caught.value.state == "ABORTED" and "aborted" in caught.value.hint


def test_wait_timeout(jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    job = client.pool.create(POOL)
    with pytest.raises(errors.Timeout, match="keeps running on the server"):
        job.wait(timeout=0.1)
    assert not job.done
    assert repr(job) == f"<Job {job.id} pool.create RUNNING 0%>"


def test_unknown_job(jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client()
    with pytest.raises(errors.CallError, match="no job 999"):
        Job(client, 999, "x.y").wait(timeout=1)
    assert repr(Job(client, 5)) == "<Job 5  started>"


def test_call_with_job_true_waits_like_midclt(jobs_server: FakeServer,
                                             make_client: Callable[..., Client],
                                             background: list[threading.Thread]) -> None:
    client = make_client()
    background.append(when(lambda: bool(jobs_server.subscribed("core.get_jobs")),
                           lambda: jobs_server.update_job(1, state="SUCCESS", result=7)))
    seen: list[Any] = []
    assert client.call("pool.create", POOL, job=True, on_progress=seen.append) == 7
    assert seen
    jobs_server.handlers["pool.create"] = lambda data: {"not": "a job id"}
    client.validate = False
    with pytest.raises(errors.ConfigurationError, match="did not start a job"):
        client.call("pool.create", POOL, job=True)
    assert client.call("pool.create", POOL) == {"not": "a job id"}
    assert client.pool.create(POOL) == {"not": "a job id"}


def test_waiting_survives_a_dropped_connection(jobs_server: FakeServer,
                                               make_client: Callable[..., Client],
                                               background: list[threading.Thread]) -> None:
    client = make_client(job_poll_interval=0.1)
    job = client.pool.create(POOL)
    first = jobs_server.link

    def drop_then_finish() -> None:
        first.drop()
        # The job ends once the client is back (on a new link), not after a guessed pause.
        _wait_for(lambda: jobs_server.link is not first)
        jobs_server.update_job(job.id, state="SUCCESS", result="after reconnect")

    background.append(when(lambda: bool(jobs_server.subscribed("core.get_jobs")), drop_then_finish))
    assert job.wait(timeout=10) == "after reconnect"
    assert jobs_server.link is not first  # reconnected and logged in again
    assert [m for m, _ in jobs_server.calls].count("pool.create") == 1  # never re-sent


def test_waiting_survives_polls_that_fail_for_a_while(
        jobs_server: FakeServer, make_client: Callable[..., Client],
        background: list[threading.Thread]) -> None:
    # Found by the chaos run: a poll that timed out or could not reconnect escaped from
    # job.wait() as an error naming core.get_jobs, not the job the caller waited for.
    client = make_client(job_poll_interval=0.05, retry=RetryPolicy.never())
    job = client.pool.create(POOL)
    jobs_server.open_failures = [errors.ConnectionFailed("refused")] * (MAX_LOST_POLLS - 1)

    def drop_then_finish() -> None:
        first = jobs_server.link
        first.drop()
        # The job ends once every failing reconnect was tried and the client is back.
        _wait_for(lambda: not jobs_server.open_failures and jobs_server.link is not first)
        jobs_server.update_job(job.id, state="SUCCESS", result="after the outage")

    background.append(when(lambda: bool(jobs_server.subscribed("core.get_jobs")), drop_then_finish))
    assert job.wait(timeout=10) == "after the outage"
    assert jobs_server.open_failures == []


def test_waiting_gives_up_after_too_many_lost_polls_naming_the_job(
        jobs_server: FakeServer, make_client: Callable[..., Client]) -> None:
    client = make_client(job_poll_interval=0.02, retry=RetryPolicy.never())
    job = client.pool.create(POOL)
    jobs_server.open_failures = [errors.ConnectionFailed("refused")] * (MAX_LOST_POLLS + 5)
    jobs_server.link.drop()
    with pytest.raises(errors.ConnectionClosed) as caught:  # started: not safe to resend
        job.wait(timeout=10)
    assert not isinstance(caught.value, errors.ConnectionFailed)
    message = str(caught.value)
    assert f"job {job.id} (pool.create)" in message and "may still be running" in message
    assert caught.value.method == "pool.create"
    # At most one reconnect per lost poll (no subscribing while disconnected); the
    # first poll may instead fail on the dropped link before the reader notices it.
    tries = MAX_LOST_POLLS + 5 - len(jobs_server.open_failures)
    assert MAX_LOST_POLLS - 1 <= tries <= MAX_LOST_POLLS


def test_tracker_keeps_final_states_and_counts_watchers() -> None:
    tracker = JobTracker()
    tracker.update(1, {"state": "RUNNING"})  # not watched: ignored
    assert tracker.snapshot(1) == (0, {})
    tracker.watch(1)
    tracker.watch(1)
    tracker.on_event(Event("changed", "core.get_jobs", 1, {"id": 1, "state": "SUCCESS"}))
    tracker.on_event(Event("changed", "core.get_jobs", None, {"id": 1, "state": "RUNNING"}))
    tracker.on_event(Event("removed", "core.get_jobs", 1, None))
    assert tracker.snapshot(1) == (1, {"id": 1, "state": "SUCCESS"})
    assert tracker.wait_change(1, 0, 0.01)
    assert not tracker.wait_change(1, 1, 0.01)
    tracker.unwatch(1)
    assert tracker.snapshot(1)[1] == {"id": 1, "state": "SUCCESS"}
    tracker.unwatch(1)
    assert tracker.snapshot(1) == (0, {})
    tracker.wake()


def test_job_merge_keeps_final_state(jobs_server: FakeServer,
                                     make_client: Callable[..., Client]) -> None:
    job = Job(make_client(), 1, "x")
    job._merge({"state": "SUCCESS", "result": 1})
    job._merge({"state": "RUNNING"})
    assert job.state == "SUCCESS" and job.progress == {}


def test_failure_seen_before_its_details(jobs_server: FakeServer,
                                         make_client: Callable[..., Client]) -> None:
    # An event caught the FAILED state before the error fields were filled in: the client
    # asks once more, so the failure gets its proper type.
    client = make_client()
    job = client.pool.create(POOL)
    jobs_server.update_job(job.id, state="FAILED", error="[EINVAL] bad")
    jobs_server.jobs[job.id]["exc_info"] = {"type": "VALIDATION",
                                            "extra": [["data.name", "bad", 22]]}
    with pytest.raises(JobValidationFailed):
        job.wait(timeout=5)
    forgotten = Job(client, 999, "pool.create")  # and a job the server forgot meanwhile
    forgotten._merge({"state": "FAILED", "error": "gone"})
    with pytest.raises(errors.JobFailed, match="gone"):
        forgotten._outcome()
