"""``maas-dyn PROFILE health`` and ``truenas-dyn PROFILE health``: checks for monitoring.

::

    maas-dyn PROFILE health [-o text|json|prometheus] [--watch SECONDS [--count N]]
                            [--window SECONDS] [--threshold NAME=WARNING,CRITICAL ...]
                            [--textfile PATH] [--serve HOST:PORT]

The exit code is the status of the (last) check, as monitoring plugins report it:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the server cannot be reached or refuses the
credentials; the reason is one line on stderr). A usage error is UNKNOWN too (3): Nagios
and its kin read 2 as CRITICAL, and a mistyped check must not page anyone as if the
region were down. ``--textfile PATH`` also writes the Prometheus form to PATH for
node_exporter's textfile collector, atomically (a temporary file in the same folder,
then a rename), so the collector never reads half a file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from maas_dyn.cli._common.exits import CLIError, ExitCode, UsageError
from maas_dyn.cli._common.options import new_parser
from maas_dyn.cli._common.profiles import Profile
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.errors import MaasDynError
from maas_dyn.health.checks import Report, Threshold, is_fatal, unreachable_report
from maas_dyn.health.exporter import Exporter
from maas_dyn.health.output import FORMATS, render

__all__ = ["HealthUsageError", "maas_health", "run_checks", "truenas_health", "write_textfile"]

# A watch without --count runs until interrupted.
_FOREVER = sys.maxsize


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _threshold(text: str) -> tuple[str, float, float]:
    name, _, limits = text.partition("=")
    warning, _, critical = limits.partition(",")
    try:
        return name.strip(), float(warning), float(critical)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected NAME=WARNING,CRITICAL (e.g. subnet_usage=0.7,0.9), not {text!r}"
        ) from None


class HealthUsageError(UsageError):
    """A health command line that cannot be run: UNKNOWN (3), as monitoring plugins exit."""

    code = ExitCode.UNKNOWN


def _arguments(prog: str, argv: list[str], known: Mapping[str, Threshold]
               ) -> tuple[argparse.Namespace, dict[str, Threshold]]:
    try:
        return _parse(prog, argv, known)
    except UsageError as exc:
        raise HealthUsageError(str(exc)) from None


def _parse(prog: str, argv: list[str], known: Mapping[str, Threshold]
           ) -> tuple[argparse.Namespace, dict[str, Threshold]]:
    parser = new_parser(
        prog, "Check the server's health. Exit code: 0 OK, 1 WARNING, 2 CRITICAL, "
        "3 UNKNOWN (server unreachable, or a usage error).")
    parser.add_argument("-o", "--output", choices=list(FORMATS), default="text")
    parser.add_argument("--watch", type=_positive, metavar="SECONDS",
                        help="check again every SECONDS until interrupted")
    parser.add_argument("--count", type=_count, metavar="N",
                        help="with --watch: stop after N checks")
    parser.add_argument("--window", type=_positive, default=3600.0, metavar="SECONDS",
                        help="what counts as recent for errors and failed jobs (3600)")
    parser.add_argument("--threshold", type=_threshold, action="append", default=[],
                        metavar="NAME=WARNING,CRITICAL",
                        help=f"change a threshold; names: {', '.join(sorted(known))}")
    parser.add_argument("--textfile", type=Path, metavar="PATH",
                        help="also write the Prometheus form to PATH (atomically), for "
                        "node_exporter's textfile collector")
    parser.add_argument("--serve", type=_address, metavar="HOST:PORT",
                        help="run a Prometheus exporter: /metrics checks this profile, "
                        "/probe?target=PROFILE any stored profile (until Ctrl-C)")
    parser.add_argument("--scrape-timeout", type=_positive, default=30.0, metavar="SECONDS",
                        help="with --serve: answer UNKNOWN for a check slower than this (30)")
    args = parser.parse_args(argv)
    if args.serve is not None and (args.watch is not None or args.textfile is not None):
        parser.error("--serve answers scrapes; it goes without --watch and --textfile")
    if args.count is not None and args.watch is None:
        parser.error("--count needs --watch")
    thresholds = {}
    for name, warning, critical in args.threshold:
        if name not in known:
            parser.error(f"unknown threshold {name!r}; choose from {', '.join(sorted(known))}")
        thresholds[name] = replace(known[name], warning=warning, critical=critical)
    return args, thresholds


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (e.g. 127.0.0.1:9812), not {text!r}")
    return host.strip("[]"), int(port)


def serve(exporter: Exporter, address: tuple[str, int], runtime: Runtime,
          stop: threading.Event | None = None) -> int:
    """Serve scrapes until interrupted (or ``stop`` is set, for tests).

    Args:
        exporter: The exporter.
        address: ``(host, port)``.
        runtime: Where to say where it listens.
        stop: Ends the serving when set.

    Returns:
        0 once stopped.
    """
    server = exporter.start(*address)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    runtime.note(f"serving health on http://{host}:{port}/metrics ({exporter.default}) and "
                 f"/probe?target=PROFILE; Ctrl-C stops")
    try:
        (stop or threading.Event()).wait()
    finally:
        exporter.close()
    return 0


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (node_exporter's textfile collector).

    The text goes to a temporary file in the same folder, then is renamed over ``path``:
    a reader sees the old file or the new one, never a part of one.

    Args:
        path: The ``.prom`` file.
        text: Its new content.

    Raises:
        OSError: The folder cannot be written.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # the collector runs as another user
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_checks(check: Callable[[], Report], args: argparse.Namespace, out: TextIO,
               err: TextIO, *, prog: str, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run a check once, or repeatedly with ``--watch``, and print every report.

    Args:
        check: Runs one check.
        args: The parsed options (``output``, ``watch``, ``count``).
        out: Where reports go.
        err: Where the one-line reason of an UNKNOWN goes (for non-text outputs).
        prog: Program name for that line.
        sleep: Waits between checks (a seam for tests).

    Returns:
        The exit code of the last check.
    """
    runs = 1 if args.watch is None else (args.count or _FOREVER)
    report = None
    for run in range(runs):
        if run:
            sleep(args.watch)
            if args.output == "text":
                out.write("\n")
        report = check()
        out.write(render(report, args.output))
        out.flush()
        if args.textfile is not None:
            write_textfile(args.textfile, render(report, "prometheus"))
        if report.reason and args.output != "text":
            err.write(f"{prog}: UNKNOWN: {report.reason}\n")
    assert report is not None  # range(runs) is never empty
    return report.exit_code


def _maas_checker(name: str, runtime: Runtime, thresholds: Mapping[str, Threshold],
                  window: float) -> Callable[[], Report]:
    """A check of one maas-dyn profile that keeps its session between checks."""
    from maas_dyn.cli._common.profiles import ENV_PROFILE
    from maas_dyn.cli.maas.session import Session, open_session
    from maas_dyn.health.maas_rules import check_maas
    from maas_dyn.maas.client import DescriptionChangedWarning

    profile = runtime.store.resolve(name, runtime.environ)
    session: Session | None = None

    def check() -> Report:
        nonlocal session
        try:
            if session is None:
                session = open_session(profile, runtime)
                if profile.description is None and profile.name != ENV_PROFILE:
                    session.fetch()  # an imported profile without a description
            with warnings.catch_warnings():
                # An upgraded region is no health problem; the profile is updated below.
                warnings.simplefilter("ignore", DescriptionChangedWarning)
                report = check_maas(session.client, thresholds=thresholds, window=window)
        except MaasDynError as exc:
            if not is_fatal(exc):
                raise
            session = None  # build the client again on the next check
            return unreachable_report("maas", profile.url, exc)
        session.save_new_description(runtime.store)
        return report

    return check


def _fleet(dialect: str, make: Callable[[str], Callable[[], Report]]) -> Callable[[str], Report]:
    # /probe?target=NAME: one checker per profile, made on its first scrape.
    checkers: dict[str, Callable[[], Report]] = {}

    def check(target: str) -> Report:
        try:
            if target not in checkers:
                checkers[target] = make(target)
            return checkers[target]()
        except (CLIError, MaasDynError) as exc:
            return unreachable_report(dialect, target, f"{target}: {exc}")

    return check


def maas_health(name: str, argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn PROFILE health``.

    Args:
        name: The profile word.
        argv: The arguments after ``health``.
        runtime: The CLI runtime (streams, profiles, transport).

    Returns:
        The exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    """
    from maas_dyn.health.maas_rules import THRESHOLDS

    args, thresholds = _arguments(f"maas-dyn {name} health", argv, THRESHOLDS)

    def make(target: str) -> Callable[[], Report]:
        return _maas_checker(target, runtime, thresholds, args.window)

    if args.serve is not None:
        exporter = Exporter(_fleet("maas", make), dialect="maas", default=name,
                            timeout=args.scrape_timeout)
        return serve(exporter, args.serve, runtime)
    return run_checks(make(name), args, runtime.stdout, runtime.stderr, prog="maas-dyn")


def _truenas_checker(profile: Profile, thresholds: Mapping[str, Threshold], window: float
                     ) -> tuple[Callable[[], Report], Callable[[], None]]:
    """A check of one truenas-dyn profile that keeps its connection, and how to close it."""
    from maas_dyn.health.truenas_rules import check_truenas
    from maas_dyn.truenas import Client, connect

    client: Client | None = None

    def check() -> Report:
        nonlocal client
        try:
            if client is None:
                client = connect(profile.url, **profile.client_options())
        except MaasDynError as exc:
            if not is_fatal(exc):
                raise
            return unreachable_report("truenas", profile.url, exc)
        return check_truenas(client, thresholds=thresholds, window=window)

    def close() -> None:
        if client is not None:
            client.close()

    return check, close


def truenas_health(profile: Profile, argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn PROFILE health``.

    Args:
        profile: The ``truenas-dyn`` profile.
        argv: The arguments after ``health``.
        runtime: Where to write (``runtime.stdout``, ``runtime.stderr``).

    Returns:
        The exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    """
    from maas_dyn.health.truenas_rules import THRESHOLDS

    args, thresholds = _arguments(f"truenas-dyn {profile.name} health", argv, THRESHOLDS)
    closers: list[Callable[[], None]] = []

    def make(target: str) -> Callable[[], Report]:
        chosen = profile if target == profile.name else runtime.store.load(target)
        check, close = _truenas_checker(chosen, thresholds, args.window)
        closers.append(close)
        return check

    try:
        if args.serve is not None:
            exporter = Exporter(_fleet("truenas", make), dialect="truenas",
                                default=profile.name, timeout=args.scrape_timeout)
            return serve(exporter, args.serve, runtime)
        return run_checks(make(profile.name), args, runtime.stdout, runtime.stderr,
                          prog="truenas-dyn")
    finally:
        for close in closers:
            close()
