"""The ``maas-dyn`` entry point: dispatch to a command, map errors to exit codes.

Grammar (the official ``maas`` CLI's, see ``maas-dyn -h``)::

    maas-dyn login PROFILE URL [KEY]        KEY '-' reads stdin; no KEY: anonymous
    maas-dyn logout PROFILE
    maas-dyn list                           names and URLs, never keys
    maas-dyn refresh [PROFILE...]
    maas-dyn profiles import [--from PATH] [--force]
    maas-dyn completion bash|zsh|fish
    maas-dyn PROFILE HANDLER ACTION [PATH-PARAM...] [key=value ...] [key@=FILE ...]
    maas-dyn PROFILE health [-o text|json|prometheus] [--watch SECONDS [--count N]]
    maas-dyn diff OLD NEW [-o text|markdown|json]  /  maas-dyn docs WHAT --to DIR
    maas-dyn PROFILE machines ACTION --all-matching KEY=VALUE[,...] [--wait]  (bulk)
    maas-dyn workflow PROFILE provision|release|tag|power ...
    maas-dyn sim ...  /  maas-dyn demo ...  (the simulator and the demo, when installed)
    maas-dyn --record FILE PROFILE ...      also record the session into a cassette

A first word that is not a command is a profile name (``env`` reads ``MAAS_URL`` and
``MAAS_API_KEY``). Command modules are imported only when their command runs, so a
command pays only for what it uses.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from maas_dyn.cli._common.commands import Command, load_command
from maas_dyn.cli._common.entry import run_entry
from maas_dyn.cli._common.exits import (
    CLIError,
    ExitCode,
    UsageError,
    error_text,
    exit_code_for,
)
from maas_dyn.cli._common.recording import maas_recording
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.errors import MaasDynError

if TYPE_CHECKING:
    from maas_dyn.maas.transport import Transport

__all__ = ["COMMANDS", "PROFILE_COMMANDS", "Command", "main"]


COMMANDS: dict[str, Command] = {
    "login": Command("maas_dyn.cli.maas.meta", "login", "login PROFILE URL [KEY]",
                     "Check the key, then store the region's URL, key and API as PROFILE."),
    "logout": Command("maas_dyn.cli.maas.meta", "logout", "logout PROFILE", "Forget a profile."),
    "list": Command("maas_dyn.cli.maas.meta", "list_command", "list",
                    "Stored profiles and their URLs."),
    "refresh": Command("maas_dyn.cli.maas.meta", "refresh", "refresh [PROFILE...]",
                       "Fetch the API descriptions again."),
    "profiles": Command("maas_dyn.cli.maas.meta", "profiles_command",
                        "profiles import [--from PATH]",
                        "Copy the official CLI's profiles (~/.maascli.db)."),
    "completion": Command("maas_dyn.cli._common.completion", "completion_command",
                          "completion bash|zsh|fish", "Print a shell completion script."),
    "__complete": Command("maas_dyn.cli._common.completion", "complete_command", hidden=True),
    "workflow": Command("maas_dyn.cli.maas.workflow", "main",
                        "workflow PROFILE provision|release|tag|power ...",
                        "Run a workflow over machines (-h for each); bulk, with progress."),
    "diff": Command("maas_dyn.cli._common.diff", "maas_diff",
                    "diff OLD NEW [-o text|markdown|json]",
                    "What changes between two releases, files or profiles' servers."),
    "docs": Command("maas_dyn.cli._common.docs", "maas_docs",
                    "docs RELEASE|FILE|PROFILE --to DIR",
                    "Write a Markdown and HTML reference of every handler and action."),
    "sim": Command("maas_dyn.cli._common.sim", "main", "sim maas|truenas [options]",
                   "Run an embedded simulator (prints its URL and credentials).",
                   external=True),
    "demo": Command("maas_dyn.demo", "main", "demo ...",
                    "A guided tour against the simulator.", external=True),
}


# What a profile word can be followed by besides HANDLER ACTION, for `maas-dyn -h`.
PROFILE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("PROFILE health [-o text|json|prometheus] [--watch SECONDS] [--textfile PATH]",
     "Check the region's health for monitoring (exit 0 OK .. 3 UNKNOWN, as Nagios)."),
    ("PROFILE machines ACTION --all-matching FILTERS [--dry-run] [--yes] [--wait]",
     "Run an action on every machine the filters select (checked, listed, confirmed)."),
)


def _top_help(runtime: Runtime) -> str:
    from maas_dyn.cli.maas.helptext import top_help

    visible = [(c.usage, c.summary) for c in COMMANDS.values() if not c.hidden]
    return top_help([*visible, *PROFILE_COMMANDS], runtime.store.names())


def _dispatch(argv: list[str], runtime: Runtime) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        runtime.stdout.write(_top_help(runtime))
        return ExitCode.OK if argv else ExitCode.USAGE
    if argv[0] == "--version":
        from maas_dyn._version import __version__

        print(f"maas-dyn {__version__}", file=runtime.stdout)
        return ExitCode.OK
    word, rest = argv[0], argv[1:]
    if word.startswith("-"):
        raise UsageError(f"options go after the profile: maas-dyn PROFILE HANDLER ACTION "
                         f"... {word}")
    command = COMMANDS.get(word)
    if command is None:
        from maas_dyn.cli.maas.command import run

        return run(word, rest, runtime)
    function = load_command(word, command)
    result: Any = function(rest) if command.external else function(rest, runtime)
    return int(result or 0)


def main(argv: list[str] | None = None, *, transport: Transport | None = None) -> int:
    """Run ``maas-dyn``.

    Args:
        argv: The arguments (``sys.argv[1:]`` when ``None``).
        transport: Send requests through this instead of ``requests`` (tests).

    Returns:
        The exit code (see :data:`maas_dyn.cli._common.exits.EXIT_CODES`).
    """
    runtime = Runtime.from_process(transport)

    def on_error(exc: Exception) -> int:
        runtime.note(error_text(exc))
        return exit_code_for(exc)

    return run_entry(runtime, sys.argv[1:] if argv is None else argv, _dispatch,
                     maas_recording, errors=(CLIError, MaasDynError), on_error=on_error,
                     interrupted="interrupted")

if __name__ == "__main__":  # pragma: no cover - run by the subprocess tests
    raise SystemExit(main())
