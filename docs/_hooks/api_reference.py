"""MkDocs hook: the Python API reference, rendered by mkdocstrings at build time.

Every module of :data:`MODULES` gets a page ``reference/<module>.md`` holding one
``::: module`` directive: mkdocstrings' Python handler reads the source (no import, so
signatures show the annotations and defaults as written), renders the Google-style
docstrings, and links every type it knows. ``reference/index.md`` lists the modules
with their one-line summaries.

The package's docstrings still use a few Sphinx roles (``:class:`Client```) and
literal-block markers (``Example::``); the ``on_page_content`` hook turns each role into
a cross-reference to the object's entry (or into plain code where the name is not
documented) and drops the second colon, so no raw reST reaches a page.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

MODULES = {
    "maas_dyn": "Top-level shortcuts: connect to either server, the version.",
    "maas_dyn.maas": "The MAAS client: connect, handlers and actions, waiters.",
    "maas_dyn.truenas": "The TrueNAS client: login, methods, jobs, events, files.",
    "maas_dyn.aio.maas": "The MAAS client for asyncio.",
    "maas_dyn.aio.truenas": "The TrueNAS client for asyncio.",
    "maas_dyn.errors": "One exception tree for both servers.",
    "maas_dyn.retry": "The retry policy.",
    "maas_dyn.workflows": "Waiters, machine selection, bulk runs; the workflow modules.",
    "maas_dyn.workflows.provisioning": "Commission, test, deploy and release machines.",
    "maas_dyn.workflows.tagging": "Find new machines and tag them by hardware facts.",
    "maas_dyn.workflows.storage": "MAAS layouts and RAID; TrueNAS pools and datasets.",
    "maas_dyn.workflows.network": "VLANs, subnets with ranges, interface links.",
    "maas_dyn.workflows.power": "IPMI and Redfish settings, power actions and queries.",
    "maas_dyn.workflows.bulk": "One call per target, bounded concurrency, every outcome.",
    "maas_dyn.health": "Health checks for monitoring systems.",
    "maas_dyn.health.diff": "What changes between two releases of an API.",
    "maas_dyn.health.reference": "The per-release reference of a server's API.",
    "maas_dyn.testing": "Stubbers and cassettes for your own tests.",
    "maas_dyn.sim.maas": "The embedded MAAS region simulator.",
    "maas_dyn.sim.truenas": "The embedded TrueNAS middleware simulator.",
}

# :class:`~a.b.C`, :func:`f`, :mod:`m`, ... as the HTML shows them after Markdown:
# the role's name, then the target in a <code> element.
_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj|const):"
                   r"<code>(~|!)?([\w.]+)(?:\(\))?</code>")


@cache
def _exported() -> dict[str, str]:
    """Short name -> documented path, for names exported by exactly one module."""
    seen: dict[str, set[str]] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            seen.setdefault(name, set()).add(f"{module_name}.{name}")
    return {name: paths.pop() for name, paths in seen.items() if len(paths) == 1}


def _crossref(match: re.Match[str]) -> str:
    mark, target = match.group(1), match.group(2)
    shown = target.rsplit(".", 1)[-1] if mark == "~" else target
    head = target.split(".", 1)[0]
    identifier = target if head == "maas_dyn" else _exported().get(head, "")
    if identifier and head not in (target, "maas_dyn"):
        identifier += target[len(head):]
    if not identifier:
        return f"<code>{shown}</code>"
    return (f'<autoref identifier="{identifier}" optional hover>'
            f"<code>{shown}</code></autoref>")


# reST's literal-block marker: "Example::" (or a lone "::") before an indented block,
# which Markdown already shows as code.
_LITERAL = re.compile(r"<p>::</p>|(<p>(?:(?!</p>).)*?):(:</p>)", re.DOTALL)


def on_page_content(html: str, page: Page, **kwargs: Any) -> str:
    """Turn the Sphinx roles and literal markers left in docstrings into Markdown's."""
    html = _LITERAL.sub(lambda m: f"{m.group(1)}{m.group(2)}" if m.group(1) else "", html)
    return _ROLE.sub(_crossref, html)


def _page(module_name: str) -> str:
    return "\n".join([
        f"# `{module_name}`", "",
        f"::: {module_name}",
        "    options:",
        "      show_root_heading: false",
        "      show_root_toc_entry: false",
        "",
    ])


def _index() -> str:
    lines = ["# API reference", "",
             "The Python API of maas_dyn, rendered from its docstrings when the site is "
             "built. The handlers and actions of MAAS and the methods of TrueNAS are not "
             "here: they come from the server's own description, and each shipped release "
             "has its own [server API reference](../servers/index.md).", "",
             "| Module | What it holds |", "| --- | --- |"]
    lines += [f"| [`{name}`]({name}.md) | {summary} |" for name, summary in MODULES.items()]
    return "\n".join(lines) + "\n"


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    """List the modules' pages under "API reference" in the navigation."""
    for number, item in enumerate(config.nav or []):
        if isinstance(item, dict) and isinstance(item.get("API reference"), str):
            config.nav[number] = {"API reference": [  # type: ignore[index]
                item["API reference"], *({name: f"reference/{name}.md"} for name in MODULES)]}
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated reference pages to the build."""
    files.append(File.generated(config, "reference/index.md", content=_index()))
    for name in MODULES:
        files.append(File.generated(config, f"reference/{name}.md", content=_page(name)))
    return files
