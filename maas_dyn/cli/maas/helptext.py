"""Help text generated from the profile's description, at every level.

``maas-dyn PROFILE -h`` lists handlers, ``maas-dyn PROFILE HANDLER -h`` its actions,
``maas-dyn PROFILE HANDLER ACTION -h`` the action's HTTP line, path parameters and
documented parameters with their types. Summaries are the first paragraph of each doc,
as in the official CLI.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable, Sequence

from maas_dyn.cli._common.exits import EXIT_CODES
from maas_dyn.cli.maas.parser import OPTIONS, Target, usage_line
from maas_dyn.maas.describe import Description, HandlerSpec
from maas_dyn.maas.docparse import parse_action_doc

__all__ = ["action_help", "handler_help", "profile_help", "summary", "top_help"]

WIDTH = 100
_PARAGRAPH = re.compile(r"\n\s*\n")


def summary(doc: str) -> str:
    """Return the first paragraph of a doc on one line (the official CLI's title)."""
    text = inspect.cleandoc(doc or "")
    first = _PARAGRAPH.split(text, maxsplit=1)[0]
    lines = [line for line in first.splitlines() if not line.lstrip().startswith(":")]
    return " ".join(" ".join(lines).split())


def _rows(rows: Iterable[tuple[str, str]], indent: int = 2) -> list[str]:
    items = list(rows)
    width = min(max((len(name) for name, _ in items), default=0), 30)
    out = []
    for name, text in items:
        head = " " * indent + name.ljust(width) + "  "
        if len(head) > indent + width + 2:  # a long name gets its own line
            out.append(head.rstrip())
            head = " " * (indent + width + 2)
        wrapped = textwrap.wrap(text, WIDTH - len(head)) or [""]
        out.append(head + wrapped[0])
        out += [" " * len(head) + line for line in wrapped[1:]]
    return out


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _options() -> list[str]:
    rows = [(", ".join(o.flags) + (f" {o.metavar}" if o.metavar else ""), o.help)
            for o in OPTIONS]
    return ["Options (anywhere after the profile):", *_rows(rows)]


def top_help(commands: Sequence[tuple[str, str]], profiles: Sequence[str]) -> str:
    """Return ``maas-dyn -h``.

    Args:
        commands: ``(name, summary)`` of the visible commands.
        profiles: Stored profile names.

    Returns:
        The help text.
    """
    lines = [
        "usage: maas-dyn COMMAND ...   (-h for help, --version)",
        "       maas-dyn PROFILE HANDLER ACTION [PATH-PARAM...] [key=value ...] "
        "[key@=FILE ...] [options]",
        "",
        *_wrap("A client for the MAAS API built from the region's own description, with "
               "the grammar of the official `maas` CLI."),
        "",
        "Commands:",
        *_rows(commands),
        "",
        *_wrap("Profiles: " + (", ".join(profiles) or "none yet; add one with `maas-dyn "
                                                      "login PROFILE URL [KEY]`")),
        *_wrap("The profile name 'env' uses MAAS_URL and MAAS_API_KEY (anonymous when unset) "
               "from the environment instead of a stored profile.", indent="  "),
        "",
        *_options(),
        "",
        "Options for any command (anywhere on the line):",
        *_rows((("--log-format json|text", "Write the library's log records to stderr, as "
                 "JSON lines or text (stdout stays the command's output)."),
                ("--log-level LEVEL", "DEBUG (the wire), INFO (one line per change; the "
                 "default with --log-format), WARNING, ERROR."),
                ("--record FILE", "First on the line: also record the session into a "
                 "cassette."))),
        "",
        "Exit codes:",
        *_rows((str(int(code)), meaning) for code, meaning in EXIT_CODES),
    ]
    return "\n".join(lines) + "\n"


def profile_help(profile: str, url: str, description: Description) -> str:
    """Return ``maas-dyn PROFILE -h``: the handlers with one-line summaries."""
    lines = [
        f"usage: maas-dyn {profile} HANDLER ACTION [PATH-PARAM...] [key=value ...] "
        "[key@=FILE ...] [options]",
        "",
        f"Issue commands to the MAAS region at {url}.",
        "",
        "Handlers:",
        *_rows((h.cli_name, summary(h.doc)) for h in description.handlers.values()),
        "",
        *_options(),
    ]
    return "\n".join(lines) + "\n"


def handler_help(profile: str, handler: HandlerSpec) -> str:
    """Return ``maas-dyn PROFILE HANDLER -h``: the actions with one-line summaries."""
    params = " ".join(p.upper() for p in handler.params)
    rows = [
        (action.cli_name,
         (summary(action.doc) or action.method)
         + (" (anonymous: sent unsigned)" if action.unsigned else ""))
        for action in handler.actions.values()
    ]
    lines = [
        f"usage: maas-dyn {profile} {handler.cli_name} ACTION {params} [key=value ...]"
        .replace("  ", " "),
        "",
        summary(handler.doc) or handler.resource,
        "",
        f"Path: {handler.path}",
        *([f"Path parameters: {params}"] if params else []),
        "",
        "Actions:",
        *_rows(rows),
    ]
    return "\n".join(lines) + "\n"


def action_help(profile: str, target: Target) -> str:
    """Return ``maas-dyn PROFILE HANDLER ACTION -h``: HTTP line, parameters, prose."""
    handler, action = target.handler, target.action
    parsed = parse_action_doc(action.doc)
    query = f"?op={action.op}" if action.op else ""
    lines = [
        f"usage: {usage_line(profile, target)} [options]",
        "",
        summary(action.doc) or f"{action.method} {handler.path}{query}",
        "",
        f"HTTP: {action.method} {handler.path}{query}"
        + ("  (sent unsigned: only the anonymous handler has it)" if action.unsigned else ""),
    ]
    if handler.params:
        lines += ["", "Path parameters (in this order):",
                  *_rows((p.upper(), parsed.params[p].text if p in parsed.params else
                          f"The {{{p}}} of {handler.path}") for p in handler.params)]
    documented = [p for name, p in parsed.params.items()
                  if name not in handler.params and (p.text or p.type_text)]
    overlay = handler.action_overlay(action)  # the region's openapi.yaml (MAAS 3.3 on)
    if overlay is not None:
        documented = [p._replace(required=p.required or p.name in overlay.required,
                                 type_text=p.type_text or overlay.types.get(p.name, ""))
                      for p in documented]
    lines += ["", *_wrap("Parameters (key=value; repeat a key to send several values; key@=FILE "
                         "sends a file; undocumented keys are sent too):")]
    if documented:
        lines += _rows(
            (f"{p.name}={(p.type_text or 'value').upper()}",
             ("Required. " if p.required and not p.text.lower().startswith("required") else "")
             + p.text)
            for p in documented
        )
    else:
        lines.append("  none documented")
    if parsed.body:
        lines += ["", "Description:", textwrap.indent(parsed.body, "  ")]
    if overlay is not None and overlay.returns:
        lines += ["", "Returns:", *_wrap(overlay.returns, "  ")]
    if overlay is not None and overlay.raises:
        lines += ["", "Raises (as the server documents each status):",
                  *_rows((f"HTTP {status}", text) for status, text in overlay.raises)]
    lines += ["", *_options()]
    return "\n".join(lines) + "\n"
