"""The manual: it builds with ``mkdocs build --strict`` and every example runs.

Python blocks run in-process; every line of an ``sh`` block runs in bash against the
simulators (placeholders replaced by the SUBSTITUTIONS table, servers started and
stopped, the README's install commands left to CI, which runs them).

Each page's ``python`` blocks run in order in one namespace. A page with a
``<!-- docs-setup: maas truenas -->`` comment (outside code blocks) gets running
simulators and the names its examples use (see docs/contributing-docs.md).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(page for page in DOCS.rglob("*.md") if "_hooks" not in page.parts)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SETUP = re.compile(r"^<!-- docs-setup: ([a-z ]+) -->$", re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    return [body for language, body in FENCE.findall(text) if language == "python"]


def setups(text: str) -> set[str]:
    outside = FENCE.sub("", text)
    return {word for found in SETUP.findall(outside) for word in found.split()}


@contextlib.contextmanager
def servers(wanted: set[str]) -> Iterator[dict[str, Any]]:
    """Start the simulators a page asks for; yield the names its examples use."""
    assert wanted <= {"maas", "truenas"}, wanted
    names: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if "maas" in wanted:
            from maas_dyn.sim.maas import MAASSimulator

            sim = stack.enter_context(MAASSimulator(machines=8, speed=100.0))
            names.update(maas_sim=sim, MAAS_URL=sim.url, MAAS_API_KEY=sim.api_key)
        if "truenas" in wanted:
            from maas_dyn.sim.truenas import TrueNASSimulator

            nas = stack.enter_context(TrueNASSimulator(speed=200.0))
            names.update(nas_sim=nas, NAS_URL=nas.url, NAS_USER=nas.username,
                         NAS_PASSWORD=nas.password)
        yield names


def test_the_manual_has_the_pages_it_promises() -> None:
    names = {page.stem for page in PAGES}
    assert {"index", "getting-started", "exploring", "cli", "errors", "bulk-async",
            "workflows", "health", "testing", "simulators"} <= names
    assert sum(len(python_blocks(page.read_text())) for page in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_python_example_runs(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    import asyncio

    try:
        with servers(setups(text)) as names:
            namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}", **names}
            for number, block in enumerate(blocks, start=1):
                code = compile(block, f"{page.name} (python block {number})", "exec")
                exec(code, namespace)  # the examples are ours, in docs/
    finally:
        # asyncio.run() leaves the main thread without an event loop; code that asks
        # for one (python-libmaas in simulators.md) must find a fresh one, as it would
        # in a process of its own.
        asyncio.set_event_loop_policy(None)
    capsys.readouterr()


def test_setup_markers_are_read_outside_code_blocks() -> None:
    text = "<!-- docs-setup: maas -->\n```text\n<!-- docs-setup: truenas -->\n```\n"
    assert setups(text) == {"maas"}
    assert python_blocks("```python\nx = 1\n```\n```sh\nls\n```\n") == ["x = 1\n"]


# The suite builds the whole manual and the API reference, with the reference of one
# release of each server (building all 15 takes minutes; `tox -e docs` builds them all
# and runs these tests on that site: MAAS_DYN_DOCS_RELEASES=all).
FAST_RELEASES = "maas:3.7 truenas:26.0"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with ``mkdocs build --strict``."""
    import os

    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    releases = os.environ.get("MAAS_DYN_DOCS_RELEASES", FAST_RELEASES)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "MAAS_DYN_DOCS_RELEASES": "" if releases == "all" else releases}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False, env=env)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    return out


def test_the_manual_builds_without_warnings(site: Path) -> None:
    assert (site / "health" / "index.html").exists()
    reference = (site / "reference" / "maas_dyn.health" / "index.html").read_text()
    assert "check_maas" in reference
    assert not (site / "_hooks").exists()
    # Searchable: the guides, the API reference and the server reference are indexed.
    index = (site / "search" / "search_index.json").read_text()
    for term in ("machine_deployed", "create_raid", "enable_kernel_crash_dump",
                 "pool.dataset.create", "python-libmaas"):
        assert term in index, term


RAW = {
    "a reST role": re.compile(r":(?:mod|class|func|meth|attr|data|exc|obj):[`<]"),
    "a ForwardRef": re.compile(r"ForwardRef\("),
    "a function's repr": re.compile(r"(?:<|&lt;)function [\w.<>]+ at 0x"),
    "a reST literal marker": re.compile(r"::</p>"),
    "an empty entry": re.compile(r'<div class="doc doc-contents[^"]*">\s*</div>'),
}


def test_the_reference_pages_show_no_raw_markup(site: Path) -> None:
    pages = sorted((site / "reference").rglob("*.html")) + sorted((site / "servers").rglob(
        "*.html"))
    assert len(pages) > 30
    found = {f"{page.relative_to(site)}: {what}" for page in pages
             for what, pattern in RAW.items() if pattern.search(page.read_text())}
    assert not found, sorted(found)


def test_the_api_reference_documents_every_public_name(site: Path) -> None:
    import importlib
    import inspect

    sys.path.insert(0, str(DOCS / "_hooks"))
    try:
        from api_reference import MODULES
    finally:
        sys.path.remove(str(DOCS / "_hooks"))
    for module_name in MODULES:
        page = (site / "reference" / module_name / "index.html").read_text()
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if inspect.ismodule(getattr(module, name)) or name.startswith("__"):
                continue  # a module has its own page; __version__ is on the index
            assert f'id="{module_name}.{name}"' in page, (module_name, name)
    waiters = (site / "reference" / "maas_dyn.workflows" / "index.html").read_text()
    assert "machine_deployed" in waiters and "truenas_job" in waiters


def test_every_shipped_release_has_its_reference_pages(site: Path) -> None:
    import os

    from maas_dyn._shipped import load_shipped, shipped_releases
    from maas_dyn.health.reference import release_pages
    from maas_dyn.maas import Description

    built = os.environ.get("MAAS_DYN_DOCS_RELEASES", FAST_RELEASES)
    for dialect in ("maas", "truenas"):
        releases = shipped_releases(dialect)  # type: ignore[arg-type]
        index = (site / "servers" / "index.html").read_text()
        for number, release in enumerate(releases):
            if built == "all" or f"{dialect}:{release}" in built.split():
                folder = site / "servers" / dialect / release
                assert (folder / "index.html").exists(), (dialect, release)
                assert (folder / "changes" / "index.html").exists() == (number > 0)
                assert f"{dialect}/{release}/" in index
            if dialect == "maas":  # every handler has its page, even where not built
                pages = release_pages("maas", release, releases[number - 1] if number else None)
                handlers = Description(load_shipped("maas", release)).handlers
                assert len(pages) == len(handlers) + 1 + (number > 0), release
    deploy = (site / "servers" / "maas" / "3.7" / "machine" / "index.html").read_text()
    for form in ("client.machine.deploy(SYSTEM_ID)", "maas-dyn PROFILE machine deploy SYSTEM_ID",
                 "POST /MAAS/api/2.0/machines/{system_id}/?op=deploy", "distro_series"):
        assert form in deploy, form
    dataset = (site / "servers" / "truenas" / "26.0" / "pool.dataset" / "index.html").read_text()
    assert "client.pool.dataset.create(DATA)" in dataset
    assert '"method": "pool.dataset.create"' in dataset
    assert "midclt call pool.dataset.create DATA" in dataset


# -- shell examples ----------------------------------------------------------------------
# Every `sh` line runs against the simulators, with the placeholders a reader replaces
# replaced by this table (what the docs write -> what the test uses).
SUBSTITUTIONS = (
    ("http://region:5240/MAAS/", "{maas_url}"),
    (" wss://nas.example ", " {nas_url} "),
    (" nas.example ", " {nas_url} "),
    ("--username admin", "--username {nas_user}"),
    ("abc123", "{ready_machine}"),
    ("/var/lib/node_exporter/textfile/", ""),
    ("--watch 60", "--watch 0.05 --count 2"),
)
# Lines run by CI or another test exactly as written (prefix -> what runs them).
RUN_ELSEWHERE = {
    "python3 -m venv .venv && .venv/bin/pip install -q '.[sim]' && .venv/bin/maas-dyn demo":
        "the README's first command (tests/test_demo.py runs the demo)",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest":
        ".ci/run, which runs this suite",
    "pip install -e '.[docs]'": "the test extra installs the docs extra's mkdocs",
    "mkdocs build --strict": "test_the_manual_builds_without_warnings",
}
# Servers that run until stopped: started, checked for their banner, stopped.
SERVERS = ("maas-dyn sim ", "truenas-dyn sim")
# Exit statuses a line may end with (health reports WARNING/CRITICAL as 1/2).
ACCEPTED = {"health": {0, 1, 2}}


def shell_lines(text: str) -> list[str]:
    lines = []
    for language, body in FENCE.findall(text):
        if language == "sh":
            lines += [line.split("  #")[0].strip() for line in body.splitlines()
                      if line.strip() and not line.lstrip().startswith("#")]
    return lines


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both simulators, logged-in profiles `admin` and `nas`, and a work folder."""
    import os

    from maas_dyn.sim.maas import MAASSimulator
    from maas_dyn.sim.truenas import TrueNASSimulator
    from maas_dyn.truenas import connect

    work = tmp_path_factory.mktemp("shell")
    with MAASSimulator(machines=6, speed=500.0, seed=5) as maas, \
            TrueNASSimulator(speed=500.0) as nas:
        with connect(nas.url, username=nas.username, password=nas.password) as client:
            client.pool.create({"name": "tank", "topology": {"data": [
                {"type": "MIRROR", "disks": ["sda", "sdb"]}]}}).wait(timeout=60)
        (work / "api-key").write_text(maas.api_key)
        env = {**os.environ, "MAAS_DYN_CONFIG_DIR": str(work / "config"),
               "MAAS_DYN_CACHE_DIR": str(work / "cache"), "TRUENAS_API_KEY": nas.api_key,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        context = {"maas": maas, "nas": nas, "env": env, "work": work,
                   "maas_url": maas.url, "nas_url": nas.url, "nas_user": nas.username}
        run_line(context, f"maas-dyn login admin {maas.url} {maas.api_key}")
        run_line(context, f"truenas-dyn login nas {nas.url} --username {nas.username}")
        yield context


def run_line(context: dict[str, Any], line: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["bash", "-c", line], cwd=context["work"], env=context["env"],
                            capture_output=True, text=True, timeout=120, check=False)
    accepted = next((codes for word, codes in ACCEPTED.items() if f" {word}" in line), {0})
    assert result.returncode in accepted, f"{line}\n{result.stdout[-2000:]}\n{result.stderr}"
    return result


def run_server(context: dict[str, Any], line: str) -> None:
    import os
    import signal
    import threading

    child = subprocess.Popen(["bash", "-c", f"exec {line} --port 0"], cwd=context["work"],
                             env=context["env"], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        assert child.stdout is not None
        # readline() has no timeout: a server that never prints its banner is stopped,
        # and readline() then sees the end of the pipe.
        watchdog = threading.Timer(30, os.killpg, (child.pid, signal.SIGKILL))
        watchdog.start()
        try:
            banner = "".join(child.stdout.readline() for _ in range(2))
        finally:
            watchdog.cancel()
        assert "URL" in banner.upper(), banner
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:  # deaf to SIGTERM: it must not outlive the test
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)


def run_subscription(context: dict[str, Any], line: str) -> None:
    child = subprocess.Popen(["bash", "-c", line], cwd=context["work"], env=context["env"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for attempt in range(50):  # raise alerts until the subscriber has one and exits
            context["nas"].raise_alert("DocsExample", f"alert {attempt}", "WARNING")
            try:
                child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        if child.poll() is None:
            child.kill()
        out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "DocsExample" in out


@pytest.mark.parametrize("page", [p for p in PAGES if shell_lines(p.read_text())],
                         ids=lambda p: p.stem)
def test_every_shell_example_runs(page: Path, shell: dict[str, Any]) -> None:
    from maas_dyn.maas import Client

    with Client(shell["maas_url"], shell["maas"].api_key, cache=False) as client:
        ready = next(m["system_id"] for m in client.machines.read()
                     if m["status_name"] in ("Ready", "Allocated"))
    values = {**shell, "ready_machine": ready}
    for line in shell_lines(page.read_text(encoding="utf-8")):
        if line in RUN_ELSEWHERE:
            continue
        for written, used in SUBSTITUTIONS:
            line = line.replace(written, used.format(**values))
        if line.startswith(SERVERS):
            run_server(shell, line)
        elif " subscribe " in line:
            run_subscription(shell, line)
        else:
            run_line(shell, line)


def test_lines_run_elsewhere_are_the_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_two = next(body.strip().splitlines() for _, body in FENCE.findall(readme))
    assert [line for line in RUN_ELSEWHERE if line.startswith("python3")] == first_two
    # CI runs the test command as written, then the Python matrix (tests/test_ci.py).
    assert first_two[1] in (ROOT / ".ci" / "run").read_text().splitlines()


# -- screenshots ---------------------------------------------------------------------------
# Headless Chromium (Debian's `chromium`) photographs the built site: the home page in the
# light and the dark scheme, a guide, an API reference page and a server reference page.
# Skipped where chromium is not installed (CI machines may not have it); docs/screenshots.sh
# keeps the pictures (MAAS_DYN_DOCS_SCREENSHOTS=DIR) for a person to look at.
SHOTS = {
    "home": ("", False),
    "home-dark": ("", True),
    "guide-provisioning": ("guides/provisioning/", False),
    "api-maas_dyn.maas": ("reference/maas_dyn.maas/", False),
    "server-maas-3.7-tags": ("servers/maas/3.7/tags/", False),
}


def _png_luminance(data: bytes) -> tuple[float, int]:
    """Mean luminance (0-255) of an 8-bit RGB(A) PNG, and how many distinct grey levels."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    line = bytearray(stride)
    total, levels, samples = 0, set(), 0
    for row in range(height):  # each row is unfiltered against the one above
        line = _unfilter(raw, row, stride, channels, line)
        for x in range(0, stride, channels * 2):
            grey = (line[x] * 299 + line[x + 1] * 587 + line[x + 2] * 114) // 1000
            total += grey
            samples += 1
            levels.add(grey)
    return total / samples, len(levels)


def _unfilter(raw: bytes, row: int, stride: int, channels: int,
              previous: bytearray) -> bytearray:
    start = row * (stride + 1)
    kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
    for i in range(stride):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                  else corner)) & 0xFF
    return line


def test_screenshots_of_the_site(site: Path, tmp_path: Path) -> None:
    import functools
    import http.server
    import os
    import shutil
    import threading

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    kept = os.environ.get("MAAS_DYN_DOCS_SCREENSHOTS")
    out = Path(kept or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    # The same layout (1280x900 CSS pixels); pictures kept for people are full size, those
    # only checked here are a quarter, which decodes in a fraction of the time.
    scale = "1" if kept else "0.25"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for name, (path, dark) in SHOTS.items():
            picture = out / f"{name}.png"
            subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=1280,900", f"--force-device-scale-factor={scale}",
                 f"--screenshot={picture}",
                 *(["--force-dark-mode"] if dark else []),
                 f"http://127.0.0.1:{server.server_address[1]}/{path}"],
                capture_output=True, timeout=120, check=False)
            assert picture.exists(), name
            mean, levels = _png_luminance(picture.read_bytes())
            assert levels > 20, f"{name}: a blank page ({levels} grey levels)"
            if dark:
                assert mean < 110, f"{name}: not dark (mean luminance {mean:.0f})"
            else:
                assert mean > 170, f"{name}: not light (mean luminance {mean:.0f})"
    finally:
        server.shutdown()
        server.server_close()
