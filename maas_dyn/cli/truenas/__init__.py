"""``truenas-dyn``: a command line for TrueNAS with the grammar of ``midclt``.

::

    truenas-dyn login PROFILE wss://HOST [--username USER] [--password] [--no-verify]
    truenas-dyn list                          (alias: profiles) names and URLs, never keys
    truenas-dyn PROFILE call METHOD [JSON-ARG ...] [-j] [-o json|yaml|table]
    truenas-dyn PROFILE pool dataset query '[["name","^","tank"]]'
    truenas-dyn PROFILE pool dataset query -h
    truenas-dyn PROFILE subscribe alert.list [-n COUNT] [-t SECONDS]
    truenas-dyn PROFILE ping
    truenas-dyn completion bash|zsh|fish
    truenas-dyn sim [--version 25.10] [--port 6000]

Shaped like ``maas-dyn`` (:mod:`maas_dyn.cli.maas`): the same :class:`Command` table,
:class:`~maas_dyn.cli._common.runtime.Runtime`, profile store
(:mod:`maas_dyn.cli._common.profiles`), exit codes and errors (:mod:`maas_dyn.cli._common.exits`),
output formats and completion. A first word that is not a command is a profile name;
command modules are imported only when their command runs.
"""

from __future__ import annotations

import sys
from typing import Any

from maas_dyn.cli._common.commands import Command, load_command
from maas_dyn.cli._common.entry import run_entry
from maas_dyn.cli._common.exits import CLIError, ExitCode, UsageError, exit_code_for
from maas_dyn.cli._common.recording import truenas_recording
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.truenas.output import EXIT_CODES
from maas_dyn.errors import (
    InvalidParametersError,
    MaasDynError,
    UnknownNameError,
    ValidationError,
)

__all__ = ["COMMANDS", "PROFILE_COMMANDS", "main"]

PROG = "truenas-dyn"
_LOGIN = "maas_dyn.cli.truenas.login"
_CALLS = "maas_dyn.cli.truenas.calls"

COMMANDS: dict[str, Command] = {
    "login": Command(_LOGIN, "login",
                     "login PROFILE wss://HOST [-u USER] [--password] [--no-verify | "
                     "--ca-bundle FILE] [--allow-insecure-api-key]",
                     "Log in and store the URL, an API key and the method document."),
    "logout": Command(_LOGIN, "logout", "logout PROFILE", "Forget a profile."),
    "list": Command(_LOGIN, "list_command", "list", "Stored profiles and their URLs."),
    "profiles": Command(_LOGIN, "list_command", hidden=True),  # the former spelling of list
    "completion": Command("maas_dyn.cli._common.completion", "completion_command",
                          "completion bash|zsh|fish", "Print a shell completion script."),
    "__complete": Command("maas_dyn.cli._common.completion", "complete_command", hidden=True),
    "diff": Command("maas_dyn.cli._common.diff", "truenas_diff",
                    "diff OLD NEW [-o text|markdown|json]",
                    "What changes between two releases, files or profiles' servers."),
    "docs": Command("maas_dyn.cli._common.docs", "truenas_docs",
                    "docs RELEASE|FILE|PROFILE --to DIR",
                    "Write a Markdown and HTML reference of every method."),
    "sim": Command("maas_dyn.sim.truenas.cli", "main",
                   "sim [--version RELEASE] [--port PORT] [--speed SPEED]",
                   "Run the embedded TrueNAS simulator.", external=True),
}

# Commands after a profile name: f(profile, argv, runtime) -> int.
PROFILE_COMMANDS: dict[str, Command] = {
    "call": Command(_CALLS, "call", "call METHOD [JSON-ARG ...] [-j] [-o FORMAT] [-t S]",
                    "Call a method by name, like `midclt call`."),
    "ping": Command(_CALLS, "ping", "ping", "Log in and answer pong."),
    "subscribe": Command(_CALLS, "subscribe", "subscribe NAME [-n COUNT] [-t SECONDS]",
                         "Print the events of a collection as JSON lines."),
    "health": Command("maas_dyn.cli._common.health", "truenas_health",
                      "health [-o text|json|prometheus] [--watch S [--count N]]",
                      "Checks for monitoring (exit 0 OK .. 3 UNKNOWN)."),
}

NOTES = """\
The namespace form `PROFILE NAMESPACE [...] METHOD [JSON-ARG ...]` calls the method the
longest run of words names; `PROFILE -h` lists the namespaces, `PROFILE NAMESPACE -h`
its methods, `... METHOD -h` the method's parameters (offline, from the profile).
JSON-ARGs that are not JSON are sent as strings. -j waits for a job like `midclt call -j`.
login reads the API key (or with --password the password, turned into a new API key:
no password is stored) from $TRUENAS_API_KEY / $TRUENAS_PASSWORD, the terminal, or stdin.
"""


def _usage(runtime: Runtime) -> str:
    lines = [f"usage: {PROG} {c.usage}" if i == 0 else f"       {PROG} {c.usage}"
             for i, c in enumerate(c for c in COMMANDS.values() if not c.hidden)]
    lines += [f"       {PROG} PROFILE {c.usage}" for c in PROFILE_COMMANDS.values()]
    lines += [f"       {PROG} PROFILE NAMESPACE [...] METHOD [JSON-ARG ...] [-j] [-o FORMAT]",
              f"       {PROG} --record FILE PROFILE ...   (records the session)",
              f"       {PROG} ... --log-format json|text [--log-level LEVEL]   "
              "(library records on stderr)",
              f"       {PROG} --version"]
    codes = "".join(f"  {int(code):<4}{text}\n" for code, text in EXIT_CODES)
    names = ", ".join(runtime.store.names()) or "none yet"
    return "\n".join(lines) + f"\n\n{NOTES}\nprofiles: {names}\n\nexit codes:\n{codes}"


def _dispatch(argv: list[str], runtime: Runtime) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        (runtime.stdout if argv else runtime.stderr).write(_usage(runtime))
        return ExitCode.OK if argv else ExitCode.USAGE
    if argv[0] == "--version":
        from maas_dyn._version import __version__

        runtime.stdout.write(f"{PROG} {__version__}\n")
        return ExitCode.OK
    word, rest = argv[0], argv[1:]
    if word.startswith("-"):
        raise UsageError(f"options go after the profile: {PROG} PROFILE call METHOD ... {word}")
    command = COMMANDS.get(word)
    if command is not None:
        function = load_command(word, command)
        result: Any = function(rest) if command.external else function(rest, runtime)
        return int(result or 0)
    profile = runtime.store.load(word)
    handler = PROFILE_COMMANDS.get(rest[0]) if rest else None
    if handler is not None:
        return int(load_command(rest[0], handler)(profile, rest[1:], runtime))
    from maas_dyn.cli.truenas.calls import namespace

    return namespace(profile, rest, runtime)


def _report(exc: BaseException) -> str:
    # Problems are listed one per line rather than inline in the message.
    head, details = str(exc), []
    if isinstance(exc, InvalidParametersError) and exc.errors:
        head = str(exc).partition(": ")[0] + ":"
        details = [f"{where}: {', '.join(what)}" for where, what in exc.errors.items()]
    elif isinstance(exc, ValidationError) and exc.errors:
        head = f"the server refused the parameters of {exc.method}:"
        details = [f"{attr or '(call)'}: {message}" for attr, message, _ in exc.errors]
    return "".join(f"{line}\n" for line in [f"{PROG}: error: {head}",
                                              *(f"  {d}" for d in details)])


# What ends a command, besides maas-dyn's rules (exit_code_for): a name the document
# lacks is a usage error; a local file that cannot be read or written is a failure.
_ERRORS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UnknownNameError, ExitCode.USAGE),
    (OSError, ExitCode.FAILURE),
)


def _exit_code(exc: Exception) -> int:
    found = next((code for kind, code in _ERRORS if isinstance(exc, kind)), None)
    return int(found if found is not None else exit_code_for(exc))


def main(argv: list[str] | None = None) -> int:
    """Run ``truenas-dyn``.

    Args:
        argv: The arguments; ``sys.argv[1:]`` when omitted.

    Returns:
        The exit code: 0 ok, 1 server or connection error, 2 usage error, 130 Ctrl-C.
    """
    runtime = Runtime.from_process(dialect="truenas")

    def on_error(exc: Exception) -> int:
        runtime.stderr.write(_report(exc))
        return _exit_code(exc)

    return run_entry(runtime, sys.argv[1:] if argv is None else argv, _dispatch,
                     truenas_recording, errors=(CLIError, MaasDynError, OSError),
                     on_error=on_error,
                     interrupted="interrupted (a job keeps running on the server)")
