"""The command table both CLIs are built from: a word, the module and function behind it.

Command modules are imported only when their command runs, so a command pays only for
what it uses (``maas-dyn list`` never imports the HTTP stack).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from maas_dyn.cli._common.exits import UsageError

__all__ = ["Command", "load_command"]


@dataclass(frozen=True)
class Command:
    """A command word and where its implementation lives.

    Attributes:
        module: Module imported when the command runs.
        function: Its function: ``f(argv, runtime) -> int``, or ``f(argv) -> int`` for
            an external command.
        usage: Its synopsis for ``maas-dyn -h``.
        summary: One line for ``maas-dyn -h``.
        hidden: Left out of help and completion.
        external: Implemented outside the CLI package (called as ``f(argv)``).
    """

    module: str
    function: str
    usage: str = ""
    summary: str = ""
    hidden: bool = False
    external: bool = False


def load_command(name: str, command: Command) -> Callable[..., int]:
    """Import a command's module and return its function.

    Args:
        name: The command word, for the message.
        command: Its row.

    Returns:
        The function.

    Raises:
        UsageError: The command's module is not installed (an optional part).
    """
    try:
        module = importlib.import_module(command.module)
    except ModuleNotFoundError as exc:
        # Only "this command is not installed"; a missing dependency inside it is a bug
        # to see in full.
        if exc.name is None or not command.module.startswith(exc.name):
            raise
        raise UsageError(f"the {name!r} command is not available in this installation "
                         f"({command.module} is missing)") from exc
    function: Callable[..., int] = getattr(module, command.function)
    return function
