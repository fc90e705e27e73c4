"""Helpers of the soak runs: a simulator in a child process, simulated-time pacing, samples.

The simulator runs in its own process (started through the real ``maas-dyn sim`` CLI) so
that what the test process samples (RSS, traced memory, descriptors, threads) is the
client's alone.
"""

from __future__ import annotations

import gc
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOAK_MINUTES = 30  # simulated; only the speed changes between CI and the long run
WARM_UP_MINUTE = 3  # growth is measured from this sample (caches, pools, threads filled)
# Short in CI (~9 s a soak); the reliability tox env sets 30 (~60 s a soak).
DEFAULT_SPEED = 200.0
# Real-time budget of a soak, as a multiple of its expected duration (plus startup slack):
# only a guard against a hung soak, so generous enough for a machine busy with other work.
DEADLINE_FACTOR = 10.0

MAAS_BANNER = (r"(?m)^MAAS URL:\s*(?P<url>\S+)", r"(?m)^API key:\s*(?P<api_key>\S+)")
TRUENAS_BANNER = (r"(?m)^\s*url:\s*(?P<url>\S+)",
                  r"(?m)^\s*api key:\s*(?P<username>\S+) / (?P<api_key>\S+)")


def soak_speed() -> float:
    """Return the simulator speed (simulated seconds per real second) of this run.

    Returns:
        ``MAAS_DYN_SOAK_SPEED``, or :data:`DEFAULT_SPEED`.
    """
    return float(os.environ.get("MAAS_DYN_SOAK_SPEED", DEFAULT_SPEED))


def real_budget(speed: float) -> float:
    """Return the real seconds a soak may take before it is failed as stuck.

    Args:
        speed: Simulated seconds per real second.

    Returns:
        :data:`DEADLINE_FACTOR` times the expected duration, plus startup slack.
    """
    # At least ten minutes: under two CPU burners and other suites a soak's 1,500 calls
    # took over 100 s; the budget only tells a hung soak from a slow one.
    return max(DEADLINE_FACTOR * SOAK_MINUTES * 60 / speed + 10.0, 600.0)


def _read_banner(child: subprocess.Popen[bytes], patterns: tuple[str, ...],
                 timeout: float) -> dict[str, str]:
    # select() on the raw descriptor: a child that never prints must not hang the test.
    assert child.stdout is not None
    fd, text = child.stdout.fileno(), ""
    found: dict[int, dict[str, str]] = {}
    end = time.monotonic() + timeout
    while len(found) < len(patterns) and (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # the child exited
            break
        text += chunk.decode("utf-8", "replace")
        for index, pattern in enumerate(patterns):
            if index not in found and (match := re.search(pattern, text)):
                found[index] = match.groupdict()
    if len(found) < len(patterns):
        raise RuntimeError(f"the simulator did not print its URL and credentials within "
                           f"{timeout} s; it printed {text!r}")
    return {key: value for groups in found.values() for key, value in groups.items()}


@contextmanager
def sim_process(server: str, speed: float, banner: tuple[str, ...],
                timeout: float = 30.0) -> Iterator[dict[str, str]]:
    """Run ``maas-dyn sim SERVER --port 0 --speed SPEED`` in a child process.

    The child is always stopped (SIGTERM, then SIGKILL after ``timeout``) and its pipe
    and log file closed.

    Args:
        server: ``"maas"`` or ``"truenas"``.
        speed: Simulated seconds per real second.
        banner: Regular expressions with named groups, all to be found in its banner.
        timeout: Seconds to wait for the banner, and for the child to stop.

    Yields:
        The named groups of the banner (``url``, ``api_key``...).
    """
    command = [sys.executable, "-m", "maas_dyn.cli.maas", "sim", server, "--port", "0",
               "--speed", repr(speed)]
    with tempfile.TemporaryFile() as log:  # its stderr, shown if the banner never comes
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=log, cwd=ROOT)
        try:
            try:
                found = _read_banner(child, banner, timeout)
            except RuntimeError as exc:
                log.seek(0)
                raise RuntimeError(f"{exc}; stderr: {log.read()[-2000:]!r}") from None
            yield found
        finally:
            child.terminate()
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=timeout)
            assert child.stdout is not None
            child.stdout.close()


class SimTime:
    """The soak's clock: simulated seconds since the start, at the simulator's speed.

    Args:
        speed: Simulated seconds per real second.
    """

    def __init__(self, speed: float):
        self.speed = speed
        self.started = time.monotonic()
        self.deadline = self.started + real_budget(speed)

    def now(self) -> float:
        """Return simulated seconds since the start."""
        return (time.monotonic() - self.started) * self.speed

    def sleep_until(self, simulated: float) -> None:
        """Sleep until a simulated time (never past the deadline)."""
        target = min(self.started + simulated / self.speed, self.deadline)
        time.sleep(max(0.0, target - time.monotonic()))

    def check(self) -> None:
        """Fail a soak that overran its real-time budget (it would otherwise look hung)."""
        if time.monotonic() >= self.deadline:
            raise AssertionError(f"the soak overran its budget of {real_budget(self.speed):.0f} "
                                 f"real seconds at simulated second {self.now():.0f}")


@dataclass
class Counters:
    """What the soak did, sampled with the resources.

    Attributes:
        calls: Calls that succeeded.
        failures: Calls that raised.
        events: Events received.
        errors: The first few failures, as text (not the exceptions: they can hold sockets).
    """

    calls: int = 0
    failures: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make one call, counting it; a failure is recorded and ``None`` returned."""
        try:
            result = function(*args, **kwargs)
        except Exception as exc:
            self.failures += 1
            if len(self.errors) < 10:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return None
        self.calls += 1
        return result


@dataclass(frozen=True)
class Sample:
    """Resources of the test process at one simulated minute."""

    minute: int
    rss_kib: int
    traced_bytes: int
    fds: int
    threads: int
    calls: int
    events: int


def _rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident = int(statm.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") // 1024


def take_sample(minute: int, counters: Counters) -> Sample:
    """Sample RSS, traced memory, descriptors and threads (after a full collection)."""
    # Collected first: garbage cycles waiting for the collector are not a leak.
    gc.collect()
    # The MAAS client's deadline watchdog is one thread for the process that comes and goes
    # with activity (it ends after a second idle): not a per-client thread that could leak.
    threads = sum(1 for t in threading.enumerate() if t.name != "maas_dyn-deadline")
    return Sample(minute, _rss_kib(), tracemalloc.get_traced_memory()[0],
                  len(os.listdir("/proc/self/fd")), threads, counters.calls, counters.events)


@dataclass
class SoakResult:
    """Samples of one soak and where traced memory grew between warm-up and the end."""

    speed: float
    real_seconds: float
    cycles: int
    samples: list[Sample]
    top_growth: list[str]

    @property
    def growth(self) -> dict[str, int]:
        """Growth of each resource from the warm-up sample to the last one."""
        first, last = self.samples[WARM_UP_MINUTE], self.samples[-1]
        return {"rss_kib": last.rss_kib - first.rss_kib,
                "traced_bytes": last.traced_bytes - first.traced_bytes,
                "fds": last.fds - first.fds, "threads": last.threads - first.threads}


def run_soak(counters: Counters, cycle: Callable[[int], None],
             each_minute: Callable[[int], None], cycle_seconds: float,
             speed: float) -> SoakResult:
    """Run ``cycle`` every ``cycle_seconds`` simulated seconds for :data:`SOAK_MINUTES`.

    A sample is taken at every simulated minute (minute 0 to the last), then
    ``each_minute(minute)`` runs (for minutes 0 to the last but one). Every cycle runs,
    however late: the counts of cycles, samples and minutes never depend on the machine.
    tracemalloc traces the whole run; it is stopped after unless it was already tracing.

    Args:
        counters: Sampled with the resources.
        cycle: The steady calls, given the cycle's index.
        each_minute: The once-a-minute work (a lifecycle step, a job).
        cycle_seconds: Simulated seconds between the starts of two cycles.
        speed: Simulated seconds per real second (the simulator's ``--speed``).

    Returns:
        The samples and the lines where traced memory grew most after warm-up.
    """
    # Paced by simulated time but never short of work: every cycle and every minute's
    # work runs exactly once, late or not, so what the soak does (and the counts the tests
    # check) is the same on a fast machine and a busy one. Late cycles only run closer
    # together; the simulator's clock, which runs on regardless, is then ahead of them.
    per_minute = round(60 / cycle_seconds)
    assert per_minute * cycle_seconds == 60, "a cycle must divide the simulated minute"
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        clock, samples = SimTime(speed), list[Sample]()
        warm: tracemalloc.Snapshot | None = None
        cycles = 0
        for index in range(SOAK_MINUTES * per_minute):
            clock.check()
            minute, first_of_minute = divmod(index, per_minute)
            if first_of_minute == 0:
                if minute == WARM_UP_MINUTE:
                    # Taken before the warm-up sample, so the snapshot's own memory
                    # counts in the warm-up sample as in the last one.
                    warm = tracemalloc.take_snapshot()
                samples.append(take_sample(minute, counters))
                each_minute(minute)
            cycle(index)
            cycles += 1
            clock.sleep_until((index + 1) * cycle_seconds)
        samples.append(take_sample(SOAK_MINUTES, counters))
        real = time.monotonic() - clock.started
        top: list[str] = []
        if warm is not None:
            ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
            diff = tracemalloc.take_snapshot().filter_traces(ignore).compare_to(
                warm.filter_traces(ignore), "lineno")
            top = [str(stat) for stat in diff[:8]]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return SoakResult(speed, real, cycles, samples, top)


def report(name: str, result: SoakResult, directory: Path, **figures: Any) -> str:
    """Write every sample as JSON to ``DIRECTORY/soak-NAME.json`` and return a text table.

    Args:
        name: ``"maas"`` or ``"truenas"``.
        result: The soak's result.
        directory: Where the JSON goes (pytest's base temporary directory).
        **figures: More figures for the summary and the file.

    Returns:
        The table of samples and a summary line, for the terminal.
    """
    growth = result.growth
    data = {"name": name, "speed": result.speed, "simulated_minutes": SOAK_MINUTES,
            "warm_up_minute": WARM_UP_MINUTE, "real_seconds": round(result.real_seconds, 2),
            "cycles": result.cycles, "growth": growth, **figures,
            "top_traced_growth": result.top_growth,
            "samples": [asdict(sample) for sample in result.samples]}
    path = directory / f"soak-{name}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    lines = [f"\n{name} soak: {SOAK_MINUTES} simulated min at --speed {result.speed:g} "
             f"in {result.real_seconds:.1f} s real, {result.cycles} cycles",
             " min   rss KiB  traced KiB  fds  thr   calls  events"]
    lines += [f"{s.minute:4d} {s.rss_kib:9d} {s.traced_bytes / 1024:11.1f} {s.fds:4d} "
              f"{s.threads:4d} {s.calls:7d} {s.events:7d}" for s in result.samples]
    lines.append(f"growth from minute {WARM_UP_MINUTE}: rss {growth['rss_kib']:+d} KiB, "
                 f"traced {growth['traced_bytes'] / 1024:+.1f} KiB, fds {growth['fds']:+d}, "
                 f"threads {growth['threads']:+d}; {figures}; JSON: {path}")
    return "\n".join(lines)
