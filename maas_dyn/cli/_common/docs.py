"""``maas-dyn docs WHAT --to DIR`` and ``truenas-dyn docs WHAT --to DIR``: a reference to browse.

``WHAT`` is a shipped release, a description file or a profile (its live server); the
reference has one Markdown and one styled HTML page per handler or namespace, each
operation with its parameters, the Python call, the command line and the HTTP request
or JSON-RPC message (:mod:`maas_dyn.health.reference`): the pages of the online
manual's server reference.

``-o`` means the output format in every other command of both CLIs, so the directory
is ``--to DIR``; the former ``-o DIR`` / ``--out DIR`` still work, with a deprecation
note on stderr.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from maas_dyn.cli._common.descriptions import maas_description, truenas_methods
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.health.reference import (
    RefNamespace,
    maas_reference,
    truenas_reference,
    write_reference,
)

__all__ = ["maas_docs", "truenas_docs"]

_FORMATS = {"both": ("md", "html"), "md": ("md",), "html": ("html",)}


def _arguments(prog: str, argv: list[str], err: TextIO) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog, description="Write a reference of every operation of a release, a "
        "description file, or a profile's server: one page per namespace with each "
        "operation's parameters and types, the Python call, the command line and the "
        "wire form, plus an index. The Markdown pages are those of the online manual's "
        "server reference; the HTML pages are styled (light and dark) and need no network "
        "(open index.html; its box filters the operations).")
    parser.add_argument("what", help="a shipped release (e.g. 3.7, 26.0), a description "
                        "file (JSON or .json.gz), or a profile (its server is asked now)")
    parser.add_argument("--to", dest="out", type=Path, metavar="DIR",
                        help="the directory to write (created if needed)")
    # The former spelling; -o is the output format everywhere else.
    parser.add_argument("-o", "--out", dest="old_out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=list(_FORMATS), default="both",
                        help="md, html, or both (the default)")
    args = parser.parse_args(argv)
    if args.old_out is not None:
        err.write(f"{prog}: note: -o/--out DIR is deprecated; use --to DIR (-o is the "
                  "output format in every other command)\n")
        args.out = args.out or args.old_out
    if args.out is None:
        parser.error("the directory is required: --to DIR")
    return args


def _write(pages: Sequence[RefNamespace], title: str, args: argparse.Namespace,
           out: TextIO) -> int:
    written = write_reference(pages, args.out, title, _FORMATS[args.format])
    index = args.out / ("index.html" if args.format != "md" else "index.md")
    out.write(f"{title}: {len(written)} files in {args.out} (start at {index})\n")
    return 0


def maas_docs(argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn docs RELEASE|FILE|PROFILE --to DIR [--format both|md|html]``.

    Args:
        argv: The arguments after ``docs``.
        runtime: Streams, profiles and transport.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    from maas_dyn.maas.describe import Description

    args = _arguments("maas-dyn docs", argv, runtime.stderr)
    label, document = maas_description(args.what, runtime)
    return _write(maas_reference(Description(document)), label, args, runtime.stdout)


def truenas_docs(argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn docs RELEASE|FILE|PROFILE --to DIR [--format both|md|html]``.

    Args:
        argv: The arguments after ``docs``.
        runtime: Streams and the ``truenas-dyn`` profiles.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    from maas_dyn.truenas.methods import Methods

    args = _arguments("truenas-dyn docs", argv, runtime.stderr)
    label, document = truenas_methods(args.what, runtime)
    return _write(truenas_reference(Methods(document)), label, args, runtime.stdout)
