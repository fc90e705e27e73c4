"""``maas-dyn diff OLD NEW`` and ``truenas-dyn diff OLD NEW``: what changes in an upgrade.

Each side is a shipped release, a description file or a profile (its live server); see
:mod:`maas_dyn.cli._common.descriptions`. The diff itself is :mod:`maas_dyn.health.diff`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from maas_dyn.cli._common.descriptions import Source, maas_description, truenas_methods
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.health.diff import (
    ApiSurface,
    ReleaseDiff,
    diff_surfaces,
    maas_surface,
    truenas_surface,
)

__all__ = ["OUTPUTS", "maas_diff", "truenas_diff"]

OUTPUTS: Mapping[str, Callable[[ReleaseDiff], str]] = {
    "text": ReleaseDiff.to_text,
    "markdown": ReleaseDiff.to_markdown,
    "json": ReleaseDiff.to_json,
}


def _arguments(prog: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog, description="Compare two API descriptions: what an upgrade adds, removes "
        "and changes. Each side is a shipped release, a description file, or a profile.")
    parser.add_argument("old", help="the earlier side")
    parser.add_argument("new", help="the later side")
    parser.add_argument("-o", "--output", choices=list(OUTPUTS), default="text")
    return parser.parse_args(argv)


def _write(old: Source, new: Source, surface: Callable[[Mapping[str, Any]], ApiSurface],
           output: str, out: TextIO) -> int:
    diff = diff_surfaces(surface(old[1]), surface(new[1]), old[0], new[0])
    out.write(OUTPUTS[output](diff))
    return 0


def maas_diff(argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn diff OLD NEW [-o text|markdown|json]``.

    Args:
        argv: The arguments after ``diff``.
        runtime: Streams, profiles and transport.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    args = _arguments("maas-dyn diff", argv)
    old, new = maas_description(args.old, runtime), maas_description(args.new, runtime)
    return _write(old, new, maas_surface, args.output, runtime.stdout)


def truenas_diff(argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn diff OLD NEW [-o text|markdown|json]``.

    Args:
        argv: The arguments after ``diff``.
        runtime: Streams and the ``truenas-dyn`` profiles.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    args = _arguments("truenas-dyn diff", argv)
    old, new = truenas_methods(args.old, runtime), truenas_methods(args.new, runtime)
    return _write(old, new, truenas_surface, args.output, runtime.stdout)
