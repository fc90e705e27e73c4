"""MkDocs hook: a reference of every shipped server release, generated at build time.

For each release whose description ships in ``maas_dyn/descriptions/`` the site gets
``servers/<dialect>/<release>/``: an index of its handlers (MAAS) or namespaces
(TrueNAS), one page per handler or namespace with every action or method (parameters
and types, the Python call, the command line, the HTTP request or JSON-RPC message),
and ``changes.md``, the diff from the release before. ``servers/index.md`` lists them.
The pages are those of :func:`maas_dyn.health.reference.release_pages`, which
``maas-dyn docs`` also writes.

``MAAS_DYN_DOCS_RELEASES`` (e.g. ``"maas:3.7 truenas:26.0"``) limits the build to some
releases (the fast build of the test suite); unset or ``all``, every shipped release is
built.
"""

from __future__ import annotations

import os
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from maas_dyn._shipped import shipped_releases
from maas_dyn.health.reference import release_pages

DIALECTS = {"maas": "MAAS", "truenas": "TrueNAS"}


def _releases() -> list[tuple[str, str, str | None]]:
    """(dialect, release, the release before it) for each release to build."""
    wanted = set(os.environ.get("MAAS_DYN_DOCS_RELEASES", "").split()) - {"all"}
    found = []
    for dialect in DIALECTS:
        releases = shipped_releases(dialect)  # type: ignore[arg-type]
        for number, release in enumerate(releases):
            if not wanted or f"{dialect}:{release}" in wanted:
                found.append((dialect, release, releases[number - 1] if number else None))
    return found


def _index(releases: list[tuple[str, str, str | None]]) -> str:
    lines = ["# Server API reference", "",
             "One reference per server release whose description ships with maas_dyn, "
             "generated from that description when this site is built. Each lists every "
             "MAAS handler and action, or every TrueNAS method, with its parameters and "
             "types, the Python call, the command line and the HTTP request or JSON-RPC "
             "message; each release links to what changed since the one before.", "",
             "Your server may run a release not listed here, or carry patches: "
             "`maas-dyn docs PROFILE --to DIR` and `truenas-dyn docs PROFILE --to DIR` "
             "write the same pages from the server itself (see "
             "[Release diffs and references](../diffs.md)).", ""]
    for dialect, label in DIALECTS.items():
        mine = [(release, previous) for d, release, previous in releases if d == dialect]
        if not mine:
            continue
        lines += [f"## {label}", "", "| Release | Changes |", "| --- | --- |"]
        for release, previous in reversed(mine):
            changes = (f"[since {previous}]({dialect}/{release}/changes.md)" if previous
                       else "(the oldest shipped)")
            lines.append(f"| [{label} {release}]({dialect}/{release}/index.md) | {changes} |")
        lines.append("")
    return "\n".join(lines)


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    """Put the release indexes into the navigation, under "Server API reference"."""
    releases = _releases()
    section: list[Any] = ["servers/index.md"]
    for dialect, label in DIALECTS.items():
        entries = [{f"{label} {release}": f"servers/{dialect}/{release}/index.md"}
                   for d, release, _ in reversed(releases) if d == dialect]
        if entries:
            section.append({label: entries})
    nav = config.nav or []
    at = next((n for n, item in enumerate(nav)
               if isinstance(item, dict) and "API reference" in item), len(nav))
    nav.insert(at, {"Server API reference": section})
    config.nav = nav
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every release's pages to the build."""
    releases = _releases()
    files.append(File.generated(config, "servers/index.md", content=_index(releases)))
    for dialect, release, previous in releases:
        pages = release_pages(dialect, release, previous)  # type: ignore[arg-type]
        for name, text in pages.items():
            files.append(File.generated(config, f"servers/{dialect}/{release}/{name}",
                                        content=text))
    return files
