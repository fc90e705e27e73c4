"""Health checks as a Prometheus exporter: ``/metrics`` for one server, ``/probe`` for a fleet.

``maas-dyn PROFILE health --serve HOST:PORT`` (and ``truenas-dyn``) runs this. A scrape
of ``/metrics`` checks the profile given on the command line; ``/probe?target=NAME``
checks any stored profile, in the style of blackbox_exporter, so one exporter serves a
fleet and Prometheus does the scheduling, storage and alerting::

    scrape_configs:
      - job_name: maas
        metrics_path: /probe
        static_configs: [{targets: [region-a, region-b]}]
        relabel_configs:
          - {source_labels: [__address__], target_label: __param_target}
          - {source_labels: [__param_target], target_label: instance}
          - {target_label: __address__, replacement: "127.0.0.1:9812"}

Scrapes are bounded: at most ``max_concurrent`` checks run at once (one at a time per
target), and a check that takes longer than ``timeout`` seconds is answered with the
target's UNKNOWN report (``*_health_up 0`` and its reason), never a 500 or a hung scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from maas_dyn.health.checks import Report, unreachable_report
from maas_dyn.health.output import render

__all__ = ["CONTENT_TYPE", "Exporter"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Exporter:
    """Serve health reports over HTTP for Prometheus.

    Args:
        check: Checks one target by name and returns its report (an UNKNOWN report for
            a target that cannot be checked); called on a worker thread.
        dialect: ``"maas"`` or ``"truenas"``, for the reports of timed-out checks.
        default: The target ``/metrics`` checks.
        timeout: Seconds a scrape waits for its check.
        max_concurrent: Checks running at once.
    """

    def __init__(self, check: Callable[[str], Report], *, dialect: str, default: str,
                 timeout: float = 30.0, max_concurrent: int = 4):
        self._check = check
        self.dialect = dialect
        self.default = default
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max(1, max_concurrent),
                                        thread_name_prefix="maas_dyn-exporter")
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def report(self, target: str) -> Report:
        """Check a target within the timeout; a check that overruns gives UNKNOWN.

        Args:
            target: The profile name.

        Returns:
            The report.
        """
        with self._locks_guard:
            lock = self._locks.setdefault(target, threading.Lock())

        def locked() -> Report:
            with lock:  # one check of a target at a time; the others wait their turn
                return self._check(target)

        future = self._pool.submit(locked)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            return unreachable_report(self.dialect, target,
                                      f"the check of {target} took longer than "
                                      f"{self.timeout:g} s")

    def page(self, path: str) -> tuple[int, str, str]:
        """Answer one request path: ``(status, content type, body)``."""
        parts = urlsplit(path)
        if parts.path == "/metrics":
            return 200, CONTENT_TYPE, render(self.report(self.default), "prometheus")
        if parts.path == "/probe":
            targets = parse_qs(parts.query).get("target", [])
            if len(targets) != 1 or not targets[0]:
                return 400, "text/plain; charset=utf-8", "probe needs ?target=PROFILE\n"
            return 200, CONTENT_TYPE, render(self.report(targets[0]), "prometheus")
        if parts.path == "/":
            return (200, "text/html; charset=utf-8",
                    f"<html><body><h1>maas_dyn {self.dialect} health exporter</h1>"
                    f'<p><a href="/metrics">/metrics</a> ({self.default}), '
                    "/probe?target=PROFILE</p></body></html>\n")
        return 404, "text/plain; charset=utf-8", "not found: try /metrics or /probe\n"

    def start(self, host: str, port: int) -> ThreadingHTTPServer:
        """Listen on ``host:port`` (0 picks a free port) and serve in a thread.

        Args:
            host: The address to bind, e.g. ``127.0.0.1``.
            port: The port.

        Returns:
            The server (``server_address`` tells the port).
        """
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, content_type, body = exporter.page(self.path)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes every 15 s would flood stderr

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="maas_dyn-exporter-http",
                         daemon=True).start()
        self._server = server
        return server

    def close(self) -> None:
        """Stop serving and stop the checks' pool (checks in flight finish on their own)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._pool.shutdown(wait=False, cancel_futures=True)
