"""MkDocs hook: the API reference, generated from the package's docstrings at build time.

Every module of :data:`MODULES` gets a page ``reference/<module>.md`` listing the names of
its ``__all__`` with their signatures and docstrings (classes with their public methods
and properties); ``reference/index.md`` links them. Docstrings are shown as written
(Google style), in text blocks, so nothing in them can break the strict build.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

MODULES = (
    "maas_dyn",
    "maas_dyn.maas",
    "maas_dyn.truenas",
    "maas_dyn.errors",
    "maas_dyn.retry",
    "maas_dyn.aio.maas",
    "maas_dyn.aio.truenas",
    "maas_dyn.workflows",
    "maas_dyn.health",
    "maas_dyn.health.diff",
    "maas_dyn.health.reference",
    "maas_dyn.testing",
    "maas_dyn.sim.maas",
    "maas_dyn.sim.truenas",
)


def _text(doc: str | None) -> list[str]:
    cleaned = inspect.cleandoc(doc or "").replace("```", "'''")
    return ["```text", cleaned or "(no docstring)", "```", ""]


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _members(cls: type) -> list[str]:
    lines: list[str] = []
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            lines += [f"#### `{cls.__name__}.{name}` (property)", "", *_text(member.__doc__)]
        elif inspect.isfunction(member) or isinstance(member, (classmethod, staticmethod)):
            function = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                else member
            lines += [f"#### `{cls.__name__}.{name}{_signature(function)}`", "",
                      *_text(function.__doc__)]
    return lines


def _page(module_name: str) -> str:
    module = importlib.import_module(module_name)
    lines = [f"# `{module_name}`", "", *_text(module.__doc__)]
    for name in sorted(getattr(module, "__all__", [])):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            lines += [f"## class `{name}{_signature(obj)}`", "", *_text(obj.__doc__),
                      *_members(obj)]
        elif callable(obj):
            lines += [f"## `{name}{_signature(obj)}`", "", *_text(obj.__doc__)]
        else:
            lines += [f"## `{name}`", "", f"A `{type(obj).__name__}`.", ""]
    return "\n".join(lines)


def _index() -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings when the documentation is built. Handlers and "
             "methods of a server are not listed here: they come from the server's own "
             "description (see `maas-dyn docs` and `truenas-dyn docs`).", ""]
    lines += [f"- [`{name}`]({name}.md)" for name in MODULES]
    return "\n".join(lines) + "\n"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated reference pages to the build."""
    files.append(File.generated(config, "reference/index.md", content=_index()))
    for name in MODULES:
        files.append(File.generated(config, f"reference/{name}.md", content=_page(name)))
    return files
