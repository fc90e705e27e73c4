"""A browsable reference of any release, rendered from its description.

Both dialects reduce their description to :class:`RefNamespace` rows (a namespace, its
doc, its operations with their parameters, the Python call, the command line and the
wire form: the HTTP request of a MAAS action, the JSON-RPC message of a TrueNAS method).
The same rows make three outputs:

- :func:`namespace_markdown` and :func:`index_markdown`: the Markdown pages of the
  documentation site (``docs/_hooks/server_reference.py`` builds one set per shipped
  release with :func:`release_pages`);
- :func:`write_reference`: those Markdown pages written to a folder, and styled,
  self-contained HTML pages with the same content (light and dark, with a search box
  on the index), which is what ``maas-dyn docs`` and ``truenas-dyn docs`` write.

No Markdown library is needed: the HTML is written from the same rows.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from maas_dyn._dynamic import OperationDetails, python_identifier, render_docstring
from maas_dyn.health.diff import ReleaseDiff, diff_releases
from maas_dyn.maas.describe import Description
from maas_dyn.maas.handlers import ActionOperation
from maas_dyn.truenas.methods import Methods

__all__ = ["RefNamespace", "RefOperation", "RefParam", "index_markdown", "maas_reference",
           "namespace_markdown", "release_pages", "truenas_reference", "write_reference"]


class RefParam(NamedTuple):
    """One parameter of an operation, as the reference shows it.

    Attributes:
        name: The Python name (the server's name when it differs is in ``wire_name``).
        type_text: The type as the server documents it.
        required: Whether the server documents it as required.
        description: The server's words about it.
        positional: Whether it is passed by position (path parameters, JSON-RPC params).
        wire_name: The name on the wire.
    """

    name: str
    type_text: str
    required: bool
    description: str
    positional: bool = False
    wire_name: str = ""


class RefOperation(NamedTuple):
    """One operation of the reference.

    Attributes:
        name: Its name within the namespace.
        docstring: The generated Google-style docstring (what ``help()`` shows).
        cli: The command line that calls it.
        python: A Python call that calls it.
        summary: Its one-line summary.
        body: The server's prose after the summary.
        params: Its parameters.
        returns: What a call returns.
        wire: The HTTP request line (MAAS) or the JSON-RPC message (TrueNAS).
        job: Whether it runs as a job (TrueNAS).
        roles: The roles allowed to call it (TrueNAS), comma-separated.
    """

    name: str
    docstring: str
    cli: str
    python: str
    summary: str = ""
    body: str = ""
    params: tuple[RefParam, ...] = ()
    returns: str = ""
    wire: str = ""
    job: bool = False
    roles: str = ""


class RefNamespace(NamedTuple):
    """One page of the reference.

    Attributes:
        name: Namespace name (a MAAS handler, a TrueNAS service).
        doc: Its documentation.
        operations: Its operations, sorted.
        dialect: ``"maas"`` or ``"truenas"``.
    """

    name: str
    doc: str
    operations: Sequence[RefOperation]
    dialect: str = "maas"


def _python_call(prefix: str, details: OperationDetails) -> str:
    args = [p.name.upper() for p in details.params if p.kind == "positional"]
    args += [f"{p.name}=..." for p in details.params if p.kind != "positional" and p.required]
    return f"{prefix}({', '.join(args)})"


def _params(details: OperationDetails) -> tuple[RefParam, ...]:
    return tuple(RefParam(p.name, p.type_text, p.required, p.description.strip(),
                          p.kind == "positional", p.wire_name) for p in details.params)


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
            notes = dict(details.notes)
            operations.append(RefOperation(
                action.cli_name, render_docstring(details), notes.get("CLI", ""),
                _python_call(f"client.{spec.name}.{action.name}", details),
                summary=details.summary.strip(), body=details.body.strip(),
                params=_params(details), returns=details.returns.strip(),
                wire=notes.get("HTTP", ""),
            ))
        pages.append(RefNamespace(spec.cli_name, spec.doc.strip(),
                                  sorted(operations, key=lambda o: o.name), "maas"))
    return pages


def _jsonrpc(name: str, details: OperationDetails) -> str:
    params = ", ".join(p.name.upper() for p in details.params)
    return ('{"jsonrpc": "2.0", "id": 1, "method": ' + json.dumps(name)
            + f', "params": [{params}]}}')


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
        spec = methods.specs[name]
        details = spec.details()
        notes = dict(details.notes)
        namespace, _, leaf = name.rpartition(".")
        attribute = ".".join(python_identifier(part) for part in name.split("."))
        grouped.setdefault(namespace, []).append(RefOperation(
            leaf, render_docstring(details), notes.get("CLI", ""),
            _python_call(f"client.{attribute}", details),
            summary=details.summary.strip(), body=details.body.strip(),
            params=_params(details), returns=details.returns.strip(),
            wire=_jsonrpc(name, details), job=spec.job, roles=notes.get("Roles", "")))
    return [RefNamespace(namespace or "(root)", f"TrueNAS namespace ``{namespace or '(root)'}``"
                         f": {len(operations)} methods.", operations, "truenas")
            for namespace, operations in sorted(grouped.items())]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name) or "root"


# -- Markdown ---------------------------------------------------------------------------

def _prose(text: str) -> str:
    """Server prose made safe for Markdown: no raw HTML, links or headings of its own."""
    text = html.escape(text, quote=False).replace("[", "\\[")
    return re.sub(r"^(\s*)#", r"\1\\#", text, flags=re.MULTILINE)


def _cell(text: str) -> str:
    return " ".join(_prose(text).split()).replace("|", "\\|") or " "


def _code(label: str, text: str) -> str:
    # Material for MkDocs shows a block's title from this span (its "title=" option).
    return (f'<div class="language-text highlight"><span class="filename">{label}</span>'
            f"<pre><span></span><code>{html.escape(text, quote=False)}</code></pre></div>")


def _cli(page: RefNamespace, op: RefOperation) -> str:
    """The ``maas-dyn``/``truenas-dyn`` command, and the official tool's equivalent."""
    if page.dialect == "maas":
        official = op.cli
        ours = re.sub(r"^maas ", "maas-dyn ", official)
        return f"{ours}\n{official}    # the official CLI"
    method = op.wire.split('"method": ', 1)[-1].split(",", 1)[0].strip('"')
    args = " ".join(p.name.upper() for p in op.params)
    midclt = f"midclt call {method} {args}".rstrip()
    return f"{op.cli}\n{midclt}    # midclt"


def _op_markdown(page: RefNamespace, op: RefOperation) -> list[str]:
    wire = "HTTP" if page.dialect == "maas" else "JSON-RPC"
    lines = [f"## {op.name}", "", _prose(op.summary or "Undocumented operation."), ""]
    if op.job:
        lines += ['!!! note "Runs as a job"', "    The call returns a `Job` at once; "
                  "`job.wait()` returns the result (`truenas-dyn` waits for it).", ""]
    # Plain <pre> blocks, styled as the site's code blocks: a release has hundreds of
    # operations, and highlighting each call would make the site's build slow.
    lines += [_code("Python", op.python), _code("Command line", _cli(page, op)),
              _code(wire, op.wire or "(not documented)"), ""]
    if op.body:
        lines += [_prose(op.body), ""]
    if op.params:
        lines += ["| Parameter | Type | Required | Description |", "| --- | --- | --- | --- |"]
        lines += [f"| `{p.name}` | {_cell(p.type_text)} | "
                  f"{'yes' if p.required else 'optional'} | {_cell(p.description)} |"
                  for p in op.params]
        lines.append("")
    if op.returns:
        lines += [f"**Returns:** {_prose(' '.join(op.returns.split()))}", ""]
    if op.roles:
        lines += [f"**Roles:** {_prose(op.roles)}", ""]
    return lines


def namespace_markdown(page: RefNamespace, title: str, *, changes: str = "",
                       notes: Sequence[str] = ()) -> str:
    """One namespace as a Markdown page.

    Args:
        page: The namespace.
        title: The release, e.g. ``"MAAS 3.7"``.
        changes: A link target for the release's changes, if there is one.
        notes: What changed in this namespace since the release before (Markdown lines).

    Returns:
        The page's Markdown.
    """
    kind = "handler" if page.dialect == "maas" else "namespace"
    links = f"[All of {_prose(title)}](index.md)"
    if changes:
        links += f" · [What changed in this release]({changes})"
    lines = [f"# {_prose(page.name)}", "", f"*{_prose(title)} {kind}* · {links}", "",
             _prose(page.doc) if page.doc else "", ""]
    if notes:
        lines += [f'!!! info "Changed in {_prose(title)}"', ""]
        lines += [f"    - {note}" for note in notes[:_MAX_NOTES]]
        if len(notes) > _MAX_NOTES:
            lines.append(f"    - ... and {len(notes) - _MAX_NOTES} more ([all]({changes}))")
        lines.append("")
    if page.operations:
        lines += ["| Operation | Summary |", "| --- | --- |"]
        lines += [f"| [{op.name}](#{_anchor(op.name)}) | {_cell(op.summary)} |"
                  for op in page.operations]
        lines.append("")
    for op in page.operations:
        lines += _op_markdown(page, op)
    return "\n".join(lines)


def _anchor(name: str) -> str:
    # MkDocs' default slugify (the toc extension's): lower case, word characters and -.
    slug = re.sub(r"[^\w\s-]", "", name).strip().lower()
    return re.sub(r"[-\s]+", "-", slug)


def _how_to_call(dialect: str) -> list[str]:
    if dialect == "maas":
        return ["Each operation shows the Python call, the `maas-dyn` command line (the "
                "official `maas` CLI's grammar) and the HTTP request. Parameters go in the "
                "query string of a GET and in a multipart form otherwise; a parameter "
                "given several times (a list) is repeated. Every call may raise the "
                "errors of [Errors and retries](../../../errors.md).", ""]
    return ["Each method shows the Python call, the `truenas-dyn` command line (`midclt`'s "
            "grammar) and the JSON-RPC 2.0 message sent on the WebSocket "
            "(`wss://HOST/api/current`). Parameters are positional. Every call may raise "
            "the errors of [Errors and retries](../../../errors.md).", ""]


def index_markdown(pages: Sequence[RefNamespace], title: str, *, intro: Sequence[str] = (),
                   changes: str = "") -> str:
    """The index of a release's reference as Markdown.

    Args:
        pages: The namespaces.
        title: The release, e.g. ``"MAAS 3.7"``.
        intro: Paragraphs to put before the table.
        changes: A link target for the release's changes, if there is one.

    Returns:
        The page's Markdown.
    """
    count = sum(len(p.operations) for p in pages)
    lines = [f"# {_prose(title)}", "", f"{len(pages)} namespaces, {count} operations.", ""]
    if changes:
        lines += [f"[What changed in this release]({changes})", ""]
    lines += [*intro, "| Namespace | Operations | About |", "| --- | --- | --- |"]
    for page in pages:
        about = page.doc.strip().split("\n\n")[0] if page.dialect == "maas" else ""
        ops = ", ".join(op.name for op in page.operations)
        lines.append(f"| [{_prose(page.name)}]({_slug(page.name)}.md) | {_cell(ops)} | "
                     f"{_cell(about)} |")
    return "\n".join(lines) + "\n"


# -- the documentation site's pages ----------------------------------------------------

_MAX_NOTES = 12


def _notes(diff: ReleaseDiff) -> dict[str, list[str]]:
    """Namespace -> what changed in it, as Markdown list items."""
    notes: dict[str, list[str]] = {}

    def add(key: str, what: str) -> None:
        namespace, _, operation = key.partition(" ")
        if namespace not in diff.namespaces_added:
            notes.setdefault(namespace, []).append(f"`{operation}`{what}")

    for namespace in diff.namespaces_added:
        notes[namespace] = ["new in this release"]
    for key in diff.operations_added:
        add(key, " added")
    for key in diff.operations_removed:
        add(key, " removed")
    for key, param in diff.params_added:
        add(key, f": parameter `{param}` added")
    for key, param in diff.params_removed:
        add(key, f": parameter `{param}` removed")
    for key, param, old, new in diff.params_retyped:
        add(key, f": `{param}` is {_prose(new)} (was {_prose(old)})")
    for key in diff.became_jobs:
        add(key, " now runs as a job")
    for key in diff.stopped_being_jobs:
        add(key, " no longer runs as a job")
    return notes


def _release_label(dialect: str, release: str) -> str:
    return f"{'MAAS' if dialect == 'maas' else 'TrueNAS'} {release}"


def release_pages(dialect: Literal["maas", "truenas"], release: str,
                  previous: str | None = None) -> dict[str, str]:
    """Every page of one shipped release's reference, for the documentation site.

    Args:
        dialect: ``"maas"`` or ``"truenas"``.
        release: A shipped release, e.g. ``"3.7"``.
        previous: The release before it, whose diff becomes ``changes.md``.

    Returns:
        File name (relative to the release's folder) -> Markdown.
    """
    from maas_dyn._shipped import load_shipped

    document = load_shipped(dialect, release)
    pages = (maas_reference(Description(document)) if dialect == "maas"
             else truenas_reference(Methods(document)))
    title = _release_label(dialect, release)
    changes = "changes.md" if previous else ""
    diff = diff_releases(dialect, previous, release) if previous else None
    notes = _notes(diff) if diff else {}
    files = {f"{_slug(p.name)}.md": namespace_markdown(p, title, changes=changes,
                                                       notes=notes.get(p.name, ()))
             for p in pages}
    files["index.md"] = index_markdown(pages, title, intro=_how_to_call(dialect),
                                       changes=changes)
    if previous and diff:
        text = diff.to_markdown().split("\n", 1)[1]
        command = "maas-dyn" if dialect == "maas" else "truenas-dyn"
        files["changes.md"] = (
            f"# What changed in {title}\n\nFrom {_release_label(dialect, previous)} to "
            f"{title} ([the {release} reference](index.md)); `{command} diff {previous} "
            f"{release}` prints the same.\n{text}")
    return files


# -- styled HTML -----------------------------------------------------------------------

_CSS = """
:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--code:#f6f8fa;--accent:#3f51b5;
--head:#3f51b5;--headfg:#fff}
:root[data-theme=dark]{--bg:#1e2129;--fg:#e2e4e9;--muted:#9aa1ad;--line:#3b4050;
--code:#282c36;--accent:#8c9eff;--head:#2b2f3b;--headfg:#e2e4e9}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#1e2129;--fg:#e2e4e9;
--muted:#9aa1ad;--line:#3b4050;--code:#282c36;--accent:#8c9eff;--head:#2b2f3b;--headfg:#e2e4e9}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:var(--head);color:var(--headfg);padding:.7rem 1.5rem;display:flex;
gap:1rem;align-items:center}header a{color:var(--headfg);text-decoration:none;font-weight:600}
header .grow{flex:1}header button{background:none;border:1px solid var(--headfg);
color:var(--headfg);border-radius:4px;cursor:pointer;padding:.2rem .6rem}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem 4rem}a{color:var(--accent)}
h1{font-weight:400;font-size:2rem}h2{border-top:1px solid var(--line);padding-top:1rem;
margin-top:2rem;font-weight:500}pre,code{font-family:ui-monospace,"SFMono-Regular",Menlo,
Consolas,monospace;font-size:.85em}pre{background:var(--code);padding:.6rem .8rem;
border-radius:4px;overflow-x:auto}pre .label{display:block;color:var(--muted);font-size:.8em}
:not(pre)>code{background:var(--code);padding:.1em .3em;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9em}th,td{text-align:left;
border-bottom:1px solid var(--line);padding:.4rem .5rem;vertical-align:top}
.muted{color:var(--muted)}.job{border-left:4px solid var(--accent);padding:.3rem .8rem;
background:var(--code)}.prose{white-space:pre-wrap}
input[type=search]{width:100%;padding:.5rem .7rem;font-size:1rem;border:1px solid var(--line);
border-radius:4px;background:var(--bg);color:var(--fg)}
"""

_SCRIPT = """
(function(){var t=localStorage.getItem('maas-dyn-theme');if(t)document.documentElement.
setAttribute('data-theme',t);window.toggleTheme=function(){var d=document.documentElement,
dark=d.getAttribute('data-theme')==='dark'||(!d.getAttribute('data-theme')&&
matchMedia('(prefers-color-scheme: dark)').matches),n=dark?'light':'dark';
d.setAttribute('data-theme',n);localStorage.setItem('maas-dyn-theme',n);};
window.filterRows=function(q){q=q.toLowerCase();document.querySelectorAll('tr[data-text]').
forEach(function(r){r.style.display=r.getAttribute('data-text').indexOf(q)<0?'none':'';});};
})();
"""


_LITERAL = re.compile(r"``(.+?)``|`([^`\n]+)`")


def _inline(text: str) -> str:
    """Escaped text with its ``literals`` (as the servers' docs write them) as code."""
    return _LITERAL.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>",
                        html.escape(text))


def _html_page(title: str, heading: str, body: Sequence[str], *, home: bool = True) -> str:
    esc = html.escape
    nav = "<a href='index.html'>index</a>" if home else ""
    return "\n".join([
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style><script>{_SCRIPT}</script>",
        "</head><body>",
        f"<header><span class='grow'>{esc(heading)}</span>{nav}"
        "<button onclick='toggleTheme()' title='light or dark'>&#9680;</button></header>",
        "<main>", *body, "</main></body></html>"])


def _html_op(page: RefNamespace, op: RefOperation) -> list[str]:
    esc = html.escape
    wire = "HTTP" if page.dialect == "maas" else "JSON-RPC"
    parts = [f"<h2 id='{esc(op.name)}'>{esc(op.name)}</h2>",
             f"<p>{_inline(op.summary or 'Undocumented operation.')}</p>"]
    if op.job:
        parts.append("<p class='job'>Runs as a job: the call returns a <code>Job</code> at "
                     "once; <code>job.wait()</code> returns the result.</p>")
    parts += [f"<pre><span class='label'>Python</span><code>{esc(op.python)}</code></pre>",
              f"<pre><span class='label'>Command line</span><code>{esc(_cli(page, op))}"
              "</code></pre>",
              f"<pre><span class='label'>{wire}</span><code>{esc(op.wire)}</code></pre>"]
    if op.body:
        parts.append(f"<p class='prose'>{_inline(op.body)}</p>")
    if op.params:
        rows = "".join(f"<tr><td><code>{esc(p.name)}</code></td><td>{esc(p.type_text)}</td>"
                       f"<td>{'yes' if p.required else 'optional'}</td>"
                       f"<td>{_inline(p.description)}</td></tr>" for p in op.params)
        parts.append("<table><tr><th>Parameter</th><th>Type</th><th>Required</th>"
                     f"<th>Description</th></tr>{rows}</table>")
    if op.returns:
        parts.append(f"<p><strong>Returns:</strong> {_inline(op.returns)}</p>")
    if op.roles:
        parts.append(f"<p><strong>Roles:</strong> {esc(op.roles)}</p>")
    parts.append(f"<details><summary>help() text</summary><pre>{esc(op.docstring)}</pre>"
                 "</details>")
    return parts


def _html(page: RefNamespace, title: str) -> str:
    esc = html.escape
    body = [f"<h1>{esc(page.name)}</h1>", f"<p class='prose'>{_inline(page.doc)}</p>"]
    for op in page.operations:
        body += _html_op(page, op)
    return _html_page(f"{page.name} - {title}", title, body)


def _html_index(pages: Sequence[RefNamespace], title: str) -> str:
    esc = html.escape
    count = sum(len(p.operations) for p in pages)
    rows = []
    for p in pages:
        ops = ", ".join(op.name for op in p.operations)
        text = f"{p.name} {ops} {' '.join(op.summary for op in p.operations)}".lower()
        rows.append(f"<tr data-text='{esc(text)}'><td><a href='{_slug(p.name)}.html'>"
                    f"{esc(p.name)}</a> ({len(p.operations)})</td>"
                    f"<td class='muted'>{esc(ops)}</td></tr>")
    body = [f"<h1>{esc(title)}</h1>", f"<p>{len(pages)} namespaces, {count} operations.</p>",
            "<input type='search' placeholder='Filter namespaces and operations' "
            "oninput='filterRows(this.value)' autofocus>",
            f"<table><tr><th>Namespace</th><th>Operations</th></tr>{''.join(rows)}</table>"]
    return _html_page(title, title, body, home=False)


def write_reference(pages: Iterable[RefNamespace], out: Path, title: str,
                    formats: Sequence[str] = ("md", "html")) -> list[Path]:
    """Write the reference: one file per page and format, plus an index per format.

    The Markdown pages are the documentation site's; the HTML pages hold the same
    content, styled (light and dark) and self-contained, the index with a filter box.

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
    if "md" in formats:
        for page in pages:
            written.append(out / f"{_slug(page.name)}.md")
            written[-1].write_text(namespace_markdown(page, title), encoding="utf-8")
        written.append(out / "index.md")
        intro = _how_to_call(pages[0].dialect)[:1] if pages else []
        intro = [re.sub(r" Every call may raise.*", "", line) for line in intro] + [""]
        written[-1].write_text(index_markdown(pages, title, intro=intro), encoding="utf-8")
    if "html" in formats:
        for page in pages:
            written.append(out / f"{_slug(page.name)}.html")
            written[-1].write_text(_html(page, title), encoding="utf-8")
        written.append(out / "index.html")
        written[-1].write_text(_html_index(pages, title), encoding="utf-8")
    return written
