"""Option rows and argparse parsers whose errors are one-line usage errors (exit code 2).

Both command lines declare their options as :class:`Option` rows and parse with
:func:`new_parser`, so a mistyped option reads the same in both, with the closest
spellings.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from maas_dyn._dynamic import closest
from maas_dyn.cli._common.exits import UsageError

__all__ = ["Option", "new_parser"]


@dataclass(frozen=True)
class Option:
    """One option of profile commands.

    Attributes:
        flags: Its spellings.
        dest: Attribute name in :class:`Options`.
        help: One-line help.
        metavar: Name of its value; ``None`` for a flag without value.
        convert: Converts the value.
        choices: Allowed values.
        default: Value when not given.
    """

    flags: tuple[str, ...]
    dest: str
    help: str
    metavar: str | None = None
    convert: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    default: Any = None


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are :class:`UsageError` with suggestions."""

    def error(self, message: str) -> NoReturn:
        words = message.partition("unrecognized arguments:")[2].split()
        flags = [flag for action in self._actions for flag in action.option_strings]
        hint = closest(words[0], flags) if words else []
        suffix = f"; did you mean {', '.join(hint)}?" if hint else ""
        raise UsageError(f"{message}{suffix} (see `{self.prog} -h`)")


def new_parser(prog: str, description: str = "", usage: str | None = None, *,
               add_help: bool = True) -> argparse.ArgumentParser:
    """Create a parser whose errors become one-line usage errors (exit code 2).

    Args:
        prog: Program name shown in messages, e.g. ``"maas-dyn login"``.
        description: Help text.
        usage: Usage line, if argparse's own is not right.
        add_help: Whether argparse handles ``-h`` itself.

    Returns:
        The parser (abbreviated options are not accepted).
    """
    return _Parser(prog=prog, description=description, usage=usage, allow_abbrev=False,
                   add_help=add_help)
