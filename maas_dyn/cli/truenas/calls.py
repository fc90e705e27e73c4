"""``truenas-dyn PROFILE call|ping|subscribe|NAMESPACE...``: talking to the server.

::

    truenas-dyn PROFILE call METHOD [JSON-ARG ...] [-j] [-o FORMAT] [-t SECONDS] [-h]
    truenas-dyn PROFILE NAMESPACE [...] METHOD [JSON-ARG ...] [-j] [-o FORMAT] [-h]
    truenas-dyn PROFILE subscribe NAME [-n COUNT] [-t SECONDS]
    truenas-dyn PROFILE ping

Each JSON-ARG is parsed as JSON, and taken as a plain string when it is not JSON (as
``midclt`` does); options may come anywhere. Names are resolved and help is rendered
from the method document stored with the profile, so ``-h``, listings and
did-you-mean need no server; the server is asked only when the profile has no
document (made by an older ``truenas-dyn``) or names a method the document lacks.
"""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from maas_dyn.cli._common.exits import UsageError
from maas_dyn.cli._common.options import Option, new_parser
from maas_dyn.cli._common.profiles import Profile
from maas_dyn.cli._common.recording import recorded
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.truenas.catalog import Catalog
from maas_dyn.cli.truenas.output import FORMATS, ProgressBar, render
from maas_dyn.errors import MethodNotFound

__all__ = ["OPTIONS", "call", "namespace", "ping", "subscribe"]


# Every option of the profile commands (maas-dyn's Option rows); each command takes the
# ones it names.
OPTIONS: Mapping[str, Option] = {o.dest: o for o in (
    Option(("-j", "--job"), "job", "wait for the job and print its result (midclt call -j)"),
    Option(("-o", "--output"), "output", "print the result as json, yaml or table "
           "(default: json, one line unless stdout is a terminal)", "FORMAT",
           choices=FORMATS),
    Option(("-t", "--timeout"), "timeout", "seconds to wait (for the reply, the job, or "
           "the events)", "SECONDS", float),
    Option(("-n", "--count"), "count", "stop after COUNT events", "COUNT", int),
    Option(("-h", "--help"), "help", "show help (of the method or namespace given)"),
)}


def _parse(prog: str, usage: str, argv: list[str], takes: tuple[str, ...]) \
        -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    parser = new_parser(prog, usage=usage, add_help=False)  # -h is the method's help
    for dest in takes:
        option = OPTIONS[dest]
        if option.metavar is None:
            parser.add_argument(*option.flags, dest=dest, action="store_true",
                                help=option.help)
        else:
            parser.add_argument(*option.flags, dest=dest, type=option.convert,
                                choices=option.choices, metavar=option.metavar,
                                help=option.help)
    parser.add_argument("words", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_intermixed_args(argv), parser


def _argument(token: str) -> Any:
    try:
        return json.loads(token)
    except ValueError:
        return token  # midclt sends what is not JSON as a string


def _client(profile: Profile, *, methods: bool) -> Any:
    from maas_dyn.truenas import Client, connect  # only commands that talk pay for it

    if methods:
        return recorded(connect(profile.url, **profile.client_options()))
    # Calls by name need no method document: connect lazily, send unchecked (midclt-like).
    return recorded(Client.from_methods({}, url=profile.url, **profile.client_options()))


def _catalog(profile: Profile, runtime: Runtime) -> Catalog:
    index = runtime.store.index(profile.name)
    if index is not None:
        return Catalog.from_index(index)
    with _client(profile, methods=True) as client:  # a profile of an older truenas-dyn
        return Catalog.from_names(client.methods or ())


@contextmanager
def _offline(profile: Profile, runtime: Runtime) -> Iterator[Any]:
    """A client built from the stored document (no I/O), or a live one without it."""
    from maas_dyn.truenas import Client

    document = runtime.store.description(profile.name)
    if document is None:
        with _client(profile, methods=True) as client:
            yield client
        return
    with Client.from_methods(document, url=profile.url, cache=False) as client:
        yield client


def _method_help(client: Any, method: str) -> str:
    target = client[method]
    return f"{method}{inspect.signature(target)}\n\n{inspect.getdoc(target) or ''}\n"


def _run_call(client: Any, method: str, args: list[Any], options: argparse.Namespace,
              runtime: Runtime, *, catalog: Callable[[], Catalog]) -> int:
    extra: dict[str, Any] = {} if options.timeout is None else {"timeout": options.timeout}
    try:
        if options.job:
            bar = ProgressBar(runtime.stderr)
            try:
                result = client.call(method, *args, job=True, on_progress=bar.update, **extra)
            finally:
                bar.finish()
        else:
            result = client.call(method, *args, **extra)
    except MethodNotFound:
        # Sent unchecked (private methods exist), so the server's word decides; the
        # suggestion comes from the document, with the same exit code as a namespace typo.
        raise catalog().unknown_method(method) from None
    runtime.stdout.write(render(result, options.output, runtime.stdout.isatty()))
    return 0


CALL_USAGE = "truenas-dyn PROFILE call METHOD [JSON-ARG ...] [-j] [-o FORMAT] [-t SECONDS]"


def call(profile: Profile, argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn PROFILE call METHOD [JSON-ARG ...]``, like ``midclt call``.

    Args:
        profile: The profile.
        argv: The arguments after ``call``.
        runtime: Streams and the profile store.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    options, parser = _parse(f"truenas-dyn {profile.name} call", CALL_USAGE, argv,
                             ("job", "output", "timeout", "help"))
    if not options.words:
        if options.help:
            runtime.stdout.write(parser.format_help())
            return 0
        raise UsageError(f"usage: {CALL_USAGE}")
    method, args = options.words[0], [_argument(w) for w in options.words[1:]]
    if options.help:
        catalog = _catalog(profile, runtime)
        if method not in catalog:
            raise catalog.unknown_method(method)
        with _offline(profile, runtime) as client:
            runtime.stdout.write(_method_help(client, method))
        return 0
    with _client(profile, methods=False) as client:
        return _run_call(client, method, args, options, runtime,
                         catalog=lambda: _catalog(profile, runtime))


def ping(profile: Profile, argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn PROFILE ping``: log in and print ``pong``.

    Args:
        profile: The profile.
        argv: The arguments after ``ping`` (only ``-h``).
        runtime: Streams.

    Returns:
        0.
    """
    usage = "truenas-dyn PROFILE ping"
    options, parser = _parse(f"truenas-dyn {profile.name} ping", usage, argv, ("help",))
    if options.help:
        runtime.stdout.write(parser.format_help())
        return 0
    if options.words:
        raise UsageError(f"usage: {usage}")
    with _client(profile, methods=False) as client:
        seconds = client.ping()
    runtime.stdout.write("pong\n")
    if runtime.stderr.isatty():
        runtime.stderr.write(f"round trip {seconds * 1000:.1f} ms\n")
    return 0


def subscribe(profile: Profile, argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn PROFILE subscribe NAME [-n COUNT] [-t SECONDS]``: print events.

    Args:
        profile: The profile.
        argv: The arguments after ``subscribe``.
        runtime: Streams.

    Returns:
        0.
    """
    usage = "truenas-dyn PROFILE subscribe NAME [-n COUNT] [-t SECONDS]"
    options, parser = _parse(f"truenas-dyn {profile.name} subscribe", usage, argv,
                             ("count", "timeout", "help"))
    if options.help:
        runtime.stdout.write(parser.format_help())
        return 0
    if len(options.words) != 1:
        raise UsageError(f"usage: {usage}")
    with _client(profile, methods=False) as client, \
            client.events(options.words[0], timeout=options.timeout) as stream:
        for seen, event in enumerate(stream, start=1):
            record = {"msg": event.msg, "collection": event.collection, "id": event.id,
                      "fields": event.fields}
            runtime.stdout.write(render(record, None, False))
            runtime.stdout.flush()
            if options.count is not None and seen >= options.count:
                break
    return 0


def namespace(profile: Profile, argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn PROFILE NAMESPACE [...] METHOD [JSON-ARG ...]`` (or its help).

    Args:
        profile: The profile.
        argv: The arguments after the profile name.
        runtime: Streams and the profile store.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    usage = "truenas-dyn PROFILE NAMESPACE [...] METHOD [JSON-ARG ...] [-j] [-o FORMAT] [-h]"
    options, _ = _parse(f"truenas-dyn {profile.name}", usage, argv,
                        ("job", "output", "timeout", "help"))
    words: list[str] = options.words
    catalog = _catalog(profile, runtime)
    if not words:
        from maas_dyn.cli.truenas import PROFILE_COMMANDS

        commands = "".join(f"  {c.usage:<36}{c.summary}\n" for c in PROFILE_COMMANDS.values())
        runtime.stdout.write(f"usage: {usage}\n\ncommands:\n{commands}\nnamespaces:\n"
                             + "".join(f"  {n}\n" for n in catalog.children()))
        return 0
    path, rest = catalog.resolve(words)
    if path in catalog:
        if options.help:
            with _offline(profile, runtime) as client:
                runtime.stdout.write(_method_help(client, path))
            return 0
        with _client(profile, methods=True) as client:
            return _run_call(client, path, [_argument(w) for w in rest], options, runtime,
                             catalog=lambda: catalog)
    if rest:
        raise catalog.unknown_method(f"{path}.{rest[0]}")
    with _offline(profile, runtime) as client:
        runtime.stdout.write((inspect.getdoc(client[path]) or path) + "\n")
    return 0
