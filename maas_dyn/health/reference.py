"""A browsable reference of any release, rendered from its description.

Both dialects reduce their description to :class:`RefNamespace` rows (a namespace, its
doc, its operations with their generated docstrings, CLI form and Python example);
:func:`write_reference` turns them into one Markdown and one HTML page per namespace
plus an index. No Markdown library is needed: the HTML is written from the same rows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from maas_dyn._dynamic import OperationDetails, python_identifier, render_docstring
from maas_dyn.maas.describe import Description
from maas_dyn.maas.handlers import ActionOperation
from maas_dyn.truenas.methods import Methods

__all__ = ["RefNamespace", "RefOperation", "maas_reference", "truenas_reference",
           "write_reference"]


class RefOperation(NamedTuple):
    """One operation of the reference.

    Attributes:
        name: Its name within the namespace.
        docstring: The generated Google-style docstring.
        cli: The command line that calls it.
        python: A Python call that calls it.
    """

    name: str
    docstring: str
    cli: str
    python: str


class RefNamespace(NamedTuple):
    """One page of the reference.

    Attributes:
        name: Namespace name (a MAAS handler, a TrueNAS service).
        doc: Its documentation.
        operations: Its operations, sorted.
    """

    name: str
    doc: str
    operations: Sequence[RefOperation]


def _python_call(prefix: str, details: OperationDetails) -> str:
    args = [p.name.upper() for p in details.params if p.kind == "positional"]
    args += [f"{p.name}=..." for p in details.params if p.kind != "positional" and p.required]
    return f"{prefix}({', '.join(args)})"


def maas_reference(description: Description) -> list[RefNamespace]:
    """Reduce a MAAS description to reference pages, one per handler.

    Args:
        description: The parsed describe document.

    Returns:
        The pages, sorted by handler CLI name.
    """
    pages = []
    for spec in sorted(description.handlers.values(), key=lambda h: h.cli_name):
        operations = []
        for action in spec.actions.values():
            details = ActionOperation(spec, action).details
            cli = dict(details.notes).get("CLI", "")
            operations.append(RefOperation(
                action.cli_name, render_docstring(details), cli,
                _python_call(f"client.{spec.name}.{action.name}", details),
            ))
        pages.append(RefNamespace(spec.cli_name, spec.doc.strip(),
                                  sorted(operations, key=lambda o: o.name)))
    return pages


def truenas_reference(methods: Methods) -> list[RefNamespace]:
    """Reduce a ``core.get_methods`` document to reference pages, one per namespace.

    A namespace is a method's dotted prefix (``pool.dataset`` for
    ``pool.dataset.query``); methods without a dot share the ``(root)`` page.

    Args:
        methods: The document, as :class:`maas_dyn.truenas.Methods`.

    Returns:
        The pages, sorted by namespace.
    """
    grouped: dict[str, list[RefOperation]] = {}
    for name in methods:  # sorted by name
        details = methods.specs[name].details()
        namespace, _, leaf = name.rpartition(".")
        attribute = ".".join(python_identifier(part) for part in name.split("."))
        grouped.setdefault(namespace, []).append(RefOperation(
            leaf, render_docstring(details), dict(details.notes).get("CLI", ""),
            _python_call(f"client.{attribute}", details)))
    return [RefNamespace(namespace or "(root)", f"TrueNAS namespace ``{namespace or '(root)'}``"
                         f": {len(operations)} methods.", operations)
            for namespace, operations in sorted(grouped.items())]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name) or "root"


def _markdown(page: RefNamespace) -> str:
    lines = [f"# {page.name}", "", page.doc or "", ""]
    for op in page.operations:
        lines += [f"## {op.name}", "", "```sh", op.cli, "```", "", "```python", op.python,
                  "```", "", "```text", op.docstring.rstrip(), "```", ""]
    return "\n".join(lines)


def _html(page: RefNamespace, title: str) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(page.name)} - "
             f"{esc(title)}</title></head><body>", "<p><a href='index.html'>index</a></p>",
             f"<h1>{esc(page.name)}</h1>", f"<pre>{esc(page.doc)}</pre>"]
    for op in page.operations:
        parts += [f"<h2 id='{esc(op.name)}'>{esc(op.name)}</h2>",
                  f"<pre><code>{esc(op.cli)}</code></pre>",
                  f"<pre><code>{esc(op.python)}</code></pre>",
                  f"<pre>{esc(op.docstring)}</pre>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reference(pages: Iterable[RefNamespace], out: Path, title: str,
                    formats: Sequence[str] = ("md", "html")) -> list[Path]:
    """Write the reference: one file per page and format, plus an index per format.

    Args:
        pages: The pages.
        out: Output directory (created if needed).
        title: Title of the index, e.g. ``"MAAS 3.7"``.
        formats: ``"md"`` and/or ``"html"``.

    Returns:
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pages = list(pages)
    count = sum(len(p.operations) for p in pages)
    if "md" in formats:
        for page in pages:
            written.append(out / f"{_slug(page.name)}.md")
            written[-1].write_text(_markdown(page), encoding="utf-8")
        index = [f"# {title}", "", f"{len(pages)} namespaces, {count} operations.", ""]
        index += [f"- [{p.name}]({_slug(p.name)}.md) ({len(p.operations)})" for p in pages]
        written.append(out / "index.md")
        written[-1].write_text("\n".join(index) + "\n", encoding="utf-8")
    if "html" in formats:
        for page in pages:
            written.append(out / f"{_slug(page.name)}.html")
            written[-1].write_text(_html(page, title), encoding="utf-8")
        items = "".join(f"<li><a href='{_slug(p.name)}.html'>{html.escape(p.name)}</a> "
                        f"({len(p.operations)})</li>" for p in pages)
        written.append(out / "index.html")
        written[-1].write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><p>{len(pages)} namespaces, "
            f"{count} operations.</p><ul>{items}</ul></body></html>", encoding="utf-8")
    return written
