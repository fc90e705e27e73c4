"""Before a command changes many machines: show them, and ask (or be told ``--yes``).

A bulk action shows how many machines its filters matched and which, then asks on the
terminal before acting on more than one. Without a terminal (a script, cron, CI) it
refuses unless ``--yes`` was given: an unattended run must say in writing that it means
every machine. ``--dry-run`` shows the same list and sends nothing that changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maas_dyn.cli._common.exits import CLIError, UsageError
from maas_dyn.cli._common.runtime import Runtime

__all__ = ["NotConfirmed", "confirm", "describe_selection", "filters_text"]

# How many machines the selection summary names before it only counts.
_SHOWN = 20


class NotConfirmed(CLIError):
    """The user did not confirm a bulk action; nothing was sent (exit code 1)."""


def filters_text(filters: Sequence[tuple[str, str]]) -> str:
    """Render filters as the user typed them: ``k=v,k=v``."""
    return ",".join(f"{key}={value}" for key, value in filters)


def describe_selection(found: Sequence[Mapping[str, Any]], filters: Sequence[tuple[str, str]],
                       noun: str = "machines") -> str:
    """Say how many objects the filters matched and name the first of them.

    Args:
        found: The matched objects.
        filters: The filters used.
        noun: What they are, plural.

    Returns:
        Lines for stderr, ending in a newline.
    """
    lines = [f"{len(found)} {noun} match {filters_text(filters)}:"]
    for node in found[:_SHOWN]:
        lines.append(f"  {node.get('system_id', '?')}  {node.get('hostname', '')}  "
                     f"{node.get('status_name', '')}".rstrip())
    if len(found) > _SHOWN:
        lines.append(f"  ... and {len(found) - _SHOWN} more")
    return "\n".join(lines) + "\n"


def confirm(runtime: Runtime, count: int, what: str, *, yes: bool) -> None:
    """Ask before acting on more than one machine.

    Args:
        runtime: Where to ask (stdin must be a terminal) and print.
        count: How many machines the action would reach.
        what: The action, e.g. ``"machine power-off"``.
        yes: ``--yes`` was given.

    Raises:
        UsageError: More than one machine, no ``--yes`` and no terminal to ask on.
        NotConfirmed: The user answered anything but yes.
    """
    if count <= 1 or yes:
        return
    isatty = getattr(runtime.stdin, "isatty", None)
    if not (callable(isatty) and isatty()):
        raise UsageError(f"{what} would act on {count} machines and there is no terminal to "
                         f"confirm on: pass --yes to go ahead, or --dry-run to list them; "
                         f"nothing was sent")
    runtime.stderr.write(f"{what} on these {count} machines? [y/N] ")
    runtime.stderr.flush()
    try:
        answer = runtime.stdin.readline()
    except (EOFError, OSError):
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed("not confirmed; nothing was sent")
