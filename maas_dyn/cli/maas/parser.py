"""Command-line parsing, built lazily for the one command being run.

The official CLI builds an argparse tree of every handler and action of every profile
on each run. Here a profile command builds a single small parser of the options in
:data:`OPTIONS` (positional words are collected as they come), and the words are then
resolved against the profile's description: handler, action, path parameters, and
``key=value`` / ``key@=FILE`` fields. Path parameters go after the action, as in the
official CLI (``vlan read 5 0``); between handler and action (``vlan 5 0 read``) is
accepted too when the word after them is an action and the word after the handler is
not.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path
from typing import Any

from maas_dyn._dynamic import closest
from maas_dyn.cli._common.exits import UsageError, unknown
from maas_dyn.cli._common.options import Option, new_parser
from maas_dyn.maas.describe import ActionSpec, Description, HandlerSpec
from maas_dyn.maas.docparse import parse_action_doc

__all__ = [
    "BARE_WORD_FIELDS",
    "FORMATS",
    "OPTIONS",
    "Options",
    "Target",
    "documented_params",
    "find_action",
    "find_handler",
    "parse_fields",
    "parse_filters",
    "parse_options",
    "require_path_args",
    "undocumented_fields",
    "usage_line",
]

FORMATS = ("json", "yaml", "table")
DEFAULT_TIMEOUT = 2400.0  # a little over the region's own 30-minute give-up, so its verdict wins
DEFAULT_INTERVAL = 5.0

# (handler, action) -> the field a word without "=" is sent as, as the official CLI does
# for `sshkeys import lp:user` (keysource=lp:user).
BARE_WORD_FIELDS: dict[tuple[str, str], str] = {("sshkeys", "import"): "keysource"}

# The official CLI splits a field at its first "=" or "@=".
_FIELD_SPLIT = re.compile(r"(=|@=)")
_LOOKS_LIKE_FIELD = re.compile(r"[^=@\s]+@?=")
# A parameter-like name in prose: lower case words joined by "_".
_SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def parse_filters(text: str) -> tuple[tuple[str, str], ...]:
    """Parse ``--all-matching`` filters: ``key=value[,key=value...]``, in order.

    Args:
        text: e.g. ``"tags=k8s,zone=rack-a"`` (a repeated key sends several values).

    Returns:
        ``(name, value)`` pairs.

    Raises:
        argparse.ArgumentTypeError: A part is not ``key=value``.
    """
    pairs = [part.partition("=") for part in text.split(",") if part.strip()]
    if not pairs or any(not key.strip() or not sep for key, sep, _ in pairs):
        raise argparse.ArgumentTypeError(f"expected key=value[,key=value...], got {text!r}")
    return tuple((key.strip(), value) for key, _, value in pairs)


OPTIONS: tuple[Option, ...] = (
    Option(("-o", "--output"), "output",
           "Print JSON answers as json (pretty), yaml or table; default: as sent "
           "(pretty on a terminal).", "FORMAT", choices=FORMATS),
    Option(("-d", "--debug"), "debug",
           "Print each request and response to stderr, secrets redacted."),
    Option(("-k", "--insecure"), "insecure", "Do not verify the server's TLS certificate."),
    Option(("--wait",), "wait",
           "After the action, poll the machine until its status settles (deploy, "
           "commission, release, test, rescue-mode, exit-rescue-mode, abort...)."),
    Option(("--timeout",), "timeout", f"With --wait: give up after SECONDS "
           f"(default {DEFAULT_TIMEOUT:.0f}).", "SECONDS", _seconds, default=DEFAULT_TIMEOUT),
    Option(("--interval",), "interval", f"With --wait: poll every SECONDS "
           f"(default {DEFAULT_INTERVAL:.0f}).", "SECONDS", _seconds, default=DEFAULT_INTERVAL),
    Option(("--all-matching",), "all_matching",
           "Bulk: run the action on every machine `machines read FILTERS` finds, e.g. "
           "`maas-dyn admin machines deploy --all-matching tags=k8s --wait`; prints one "
           "outcome per machine, exits 1 if any failed.", "FILTERS", parse_filters, default=()),
    Option(("--concurrency",), "concurrency", "With --all-matching: machines worked on at "
           "once (default 8).", "N", _positive, default=8),
    Option(("--retries",), "retries", "With --all-matching: retry a machine up to N times "
           "after an error the server did not act on (409, 503, refused; default 0).", "N",
           _count, default=0),
    Option(("--strict",), "strict", "Refuse key=value parameters the server's description "
           "does not document (by default they are sent with a warning)."),
    Option(("-y", "--yes"), "yes", "With --all-matching: act on every matching machine "
           "without asking (needed when there is no terminal to ask on)."),
    Option(("--dry-run",), "dry_run", "With --all-matching: list the matching machines and "
           "what would be done to them; send nothing that changes anything."),
    Option(("-h", "--help"), "help", "Show help for the profile, handler or action given."),
)


@dataclass(frozen=True)
class Options:
    """The parsed command line of a profile command.

    Attributes:
        words: Positional words after the profile, in order.
        output: ``json``, ``yaml``, ``table`` or ``None`` (as sent).
        debug: ``--debug`` given.
        insecure: ``--insecure`` given.
        wait: ``--wait`` given.
        timeout: ``--timeout`` seconds.
        interval: ``--interval`` seconds.
        all_matching: ``--all-matching`` filters, ``(name, value)`` pairs.
        concurrency: ``--concurrency``.
        retries: ``--retries``.
        strict: ``--strict`` given.
        yes: ``--yes`` given.
        dry_run: ``--dry-run`` given.
        help: ``-h`` given.
        forced: Words after ``--``: positional whatever they look like (a path parameter
            may contain ``=``).
    """

    words: tuple[str, ...]
    output: str | None
    debug: bool
    insecure: bool
    wait: bool
    timeout: float
    interval: float
    all_matching: tuple[tuple[str, str], ...]
    concurrency: int
    retries: int
    strict: bool
    yes: bool
    dry_run: bool
    help: bool
    forced: tuple[str, ...] = ()


def parse_options(prog: str, argv: Sequence[str]) -> Options:
    """Parse the options of a profile command; options may come anywhere.

    Args:
        prog: e.g. ``"maas-dyn admin"``.
        argv: The arguments after the profile name.

    Returns:
        The options and the positional words.

    Raises:
        UsageError: An unknown option or a bad option value.
    """
    usage = f"{prog} HANDLER ACTION [PATH-PARAM...] [key=value ...] [key@=FILE ...] [options]"
    parser = new_parser(prog, usage=usage, add_help=False)  # help is generated per level
    for option in OPTIONS:
        if option.metavar is None:
            parser.add_argument(*option.flags, dest=option.dest, action="store_true",
                                help=option.help)
        else:
            parser.add_argument(*option.flags, dest=option.dest, type=option.convert,
                                choices=option.choices, default=option.default,
                                metavar=option.metavar, help=option.help)
    parser.add_argument("words", nargs="*")
    arguments = list(argv)
    # Everything after "--" is positional; split here, as argparse would drop the marker.
    cut = arguments.index("--") if "--" in arguments else len(arguments)
    parsed = parser.parse_intermixed_args(arguments[:cut])
    values = {name: getattr(parsed, name) for name in Options.__dataclass_fields__
              if name != "forced"}
    values["words"] = tuple(parsed.words)
    return Options(**values, forced=tuple(arguments[cut + 1:]))


def find_handler(description: Description, word: str) -> HandlerSpec:
    """Find a handler by its CLI, Python or resource name.

    Args:
        description: The profile's description.
        word: What the user typed.

    Returns:
        The handler.

    Raises:
        UsageError: No such handler (with the closest names).
    """
    found = description.handler(word)
    if found is None:
        names = [h.cli_name for h in description.handlers.values()]
        raise unknown("handler", word, names, "`maas-dyn PROFILE -h` lists them")
    return found


@dataclass(frozen=True)
class Target:
    """What a profile command addresses.

    Attributes:
        handler: The handler.
        action: The action.
        path_args: Path parameters given (maybe fewer than needed: see
            :func:`require_path_args`).
        rest: The remaining words: fields.
    """

    handler: HandlerSpec
    action: ActionSpec
    path_args: tuple[str, ...]
    rest: tuple[str, ...]


def _is_field(word: str) -> bool:
    return _LOOKS_LIKE_FIELD.match(word) is not None


def _path_words(handler: HandlerSpec, action: ActionSpec, words: Sequence[str]
                ) -> tuple[str, ...]:
    """The words after the action that are path parameters.

    A word is a path parameter while the action still needs one, unless it looks like
    ``key=value`` with a key the action documents: MAAS names may contain ``=`` (a file
    called ``a=b``), parameters are documented.
    """
    documented = set(documented_params(handler, action)) | set(BARE_WORD_FIELDS.values())

    def positional(word: str) -> bool:
        return not _is_field(word) or _FIELD_SPLIT.split(word, maxsplit=1)[0] not in documented

    return tuple(takewhile(positional, words[:len(handler.params)]))


def find_action(handler: HandlerSpec, words: Sequence[str], forced: Sequence[str] = ()
                ) -> Target:
    """Find the action and the path parameters among the words after the handler.

    Args:
        handler: The handler.
        words: The words after it.
        forced: Words given after ``--``: they fill the path parameters still missing
            whatever they look like; the rest are fields.

    Returns:
        The target.

    Raises:
        UsageError: No action given, or no such action (with the closest names).
    """
    names = [a.cli_name for a in handler.actions.values()]
    if not words:
        raise UsageError(f"missing ACTION after {handler.cli_name!r}; its actions: "
                         f"{', '.join(names)}")
    count = len(handler.params)
    action = handler.action(words[0])
    if action is not None:
        path = _path_words(handler, action, words[1:])
        fill = max(0, count - len(path))
        return Target(handler, action, (*path, *forced[:fill]),
                      (*words[1 + len(path):], *forced[fill:]))
    later = handler.action(words[count]) if 0 < count < len(words) else None
    if later is not None and not any(_is_field(w) for w in words[:count]):
        return Target(handler, later, tuple(words[:count]), tuple(words[count + 1:]))
    culprit = words[0]
    if 0 < count < len(words) and not closest(culprit, names) and closest(words[count], names):
        culprit = words[count]  # path parameters first, then a mistyped action
    raise unknown("action", culprit, names, f"handler {handler.cli_name!r}")


def usage_line(profile: str, target: Target) -> str:
    """Return the usage line of an action, e.g. ``maas-dyn admin vlan read FABRIC_ID VID``."""
    params = " ".join(p.upper() for p in target.handler.params)
    return " ".join(part for part in (
        "maas-dyn", profile, target.handler.cli_name, target.action.cli_name, params,
        "[key=value ...] [key@=FILE ...]") if part)


def require_path_args(profile: str, target: Target) -> None:
    """Check that every path parameter was given.

    Args:
        profile: The profile word, for the usage line.
        target: The resolved target.

    Raises:
        UsageError: Some are missing.
    """
    missing = target.handler.params[len(target.path_args):]
    if missing:
        raise UsageError(
            f"missing path parameter {' '.join(m.upper() for m in missing)} for "
            f"{target.handler.cli_name} {target.action.cli_name}; usage: "
            f"{usage_line(profile, target)}"
        )


def documented_params(handler: HandlerSpec, action: ActionSpec) -> list[str]:
    """Return the parameter names an action's doc documents (path parameters excluded)."""
    return [
        name for name, param in parse_action_doc(action.doc).params.items()
        if name not in handler.params and "{" not in name and (param.text or param.type_text)
    ]


def undocumented_fields(target: Target, fields: Sequence[tuple[str, Any]]
                        ) -> dict[str, list[str]]:
    """Return the field names the action's doc does not document, with the closest ones.

    A documented name with a placeholder (``power_parameters_{param}``) documents every
    name it matches, and a ``snake_case`` name the doc's prose mentions documents itself
    and the names it prefixes (3.7's ``machine update`` documents ``power_parameters_*``
    only in prose).

    Args:
        target: The resolved target.
        fields: The parsed fields.

    Returns:
        Undocumented name -> the closest documented names (maybe none), in order.
    """
    doc = parse_action_doc(target.action.doc).params
    names = [n for n in doc if n not in target.handler.params]
    patterns = [re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(n)) + r"\Z")
                for n in names if "{" in n]
    plain = {n for n in names if "{" not in n} | set(BARE_WORD_FIELDS.values())
    mentioned = set(_SNAKE_WORD.findall(target.action.doc)) - set(target.handler.params)
    found: dict[str, list[str]] = {}
    for name, _ in fields:
        if (name in plain or name in mentioned or name in found
                or any(p.match(name) for p in patterns)
                or any(name.startswith(word + "_") for word in mentioned)):
            continue
        found[name] = closest(name, sorted(plain))
    return found


def _readable(path: Path) -> str:
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    return "" if os.access(path, os.R_OK) else "permission denied"


def parse_fields(target: Target) -> list[tuple[str, str | Path]]:
    """Turn the field words into ``(name, value)`` pairs in command-line order.

    ``key=value`` gives text; ``key@=FILE`` gives the file's path (sent as a file part,
    or as its content in a GET); a bare word is the value of the action's bare-word
    field if it has one (``sshkeys import lp:user`` -> ``keysource=lp:user``).

    Args:
        target: The resolved target.

    Returns:
        The fields.

    Raises:
        UsageError: A malformed word, or a file that cannot be read.
    """
    bare = BARE_WORD_FIELDS.get((target.handler.cli_name, target.action.cli_name))
    fields: list[tuple[str, str | Path]] = []
    for word in target.rest:
        parts = _FIELD_SPLIT.split(word, maxsplit=1)
        if len(parts) != 3 or not parts[0]:
            if bare is not None:
                fields.append((bare, word))
                continue
            hint = closest(word, documented_params(target.handler, target.action))
            suggestion = f"; did you mean {', '.join(h + '=VALUE' for h in hint)}?" if hint else ""
            raise UsageError(f"{word!r} is not a key=value or key@=FILE pair{suggestion}")
        name, separator, value = parts
        if separator == "=":
            fields.append((name, value))
            continue
        path = Path(value).expanduser()
        problem = _readable(path)
        if problem:
            raise UsageError(f"cannot read {value!r} given as {name}@=FILE: {problem}")
        fields.append((name, path))
    return fields
