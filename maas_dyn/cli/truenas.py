"""``truenas-dyn``: a command line for TrueNAS with the grammar of ``midclt``.

::

    truenas-dyn login PROFILE URL [--username USER] [--password] [--no-verify]
    truenas-dyn PROFILE call METHOD [JSON-ARG ...] [-j] [-o json|table]
    truenas-dyn PROFILE pool dataset query '[["name","^","tank"]]'
    truenas-dyn PROFILE pool dataset query -h
    truenas-dyn PROFILE subscribe alert.list [-n COUNT] [-t SECONDS]
    truenas-dyn PROFILE ping
    truenas-dyn sim [--version 25.10] [--port 6000]

Each JSON-ARG is parsed as JSON, and taken as a plain string when it is not JSON (as
``midclt`` does). The namespace form resolves the longest run of words that names a
method of the server's own ``core.get_methods`` (cached per server version); help for
it is rendered for the one method asked about.
"""

from __future__ import annotations

import getpass
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from maas_dyn._dynamic import closest
from maas_dyn.cli._truenas_output import EXIT_CODES, ProgressBar, render
from maas_dyn.cli._truenas_profiles import Profile, ProfileError, ProfileStore, check_name
from maas_dyn.cli.exits import ExitCode
from maas_dyn.cli.recording import recorded, take_record_option, truenas_recording
from maas_dyn.errors import (
    ConfigurationError,
    InvalidParametersError,
    MaasDynError,
    UnknownNameError,
    ValidationError,
)

__all__ = ["main"]

PROG = "truenas-dyn"
ENV_API_KEY = "TRUENAS_API_KEY"
ENV_PASSWORD = "TRUENAS_PASSWORD"  # noqa: S105 - the name of a variable, not a secret

USAGE = f"""\
usage: {PROG} login PROFILE URL [--username USER] [--password] [--no-verify |
                   --ca-bundle FILE] [--allow-insecure-api-key]
       {PROG} logout PROFILE
       {PROG} profiles
       {PROG} PROFILE call METHOD [JSON-ARG ...] [-j] [-o json|table] [-t SECONDS]
       {PROG} PROFILE NAMESPACE [...] METHOD [JSON-ARG ...] [-j] [-o json|table] [-h]
       {PROG} PROFILE subscribe NAME [-n COUNT] [-t SECONDS]
       {PROG} PROFILE ping
       {PROG} PROFILE health [-o text|json|prometheus] [--watch SECONDS [--count N]]
       {PROG} diff OLD NEW [-o text|markdown|json]
       {PROG} docs RELEASE|FILE|PROFILE -o DIR
       {PROG} sim [--version RELEASE] [--port PORT] [--speed SPEED]
       {PROG} --record FILE PROFILE ...   (any profile command; records the session)

login asks for the API key (or, with --password, the password) unless ${ENV_API_KEY}
or ${ENV_PASSWORD} is set. JSON-ARGs that are not JSON are sent as strings. -j waits for
a job like `midclt call -j` (with a progress bar on a terminal).
"""


class UsageError(Exception):
    """The command line cannot be carried out as typed (exit code 2)."""


@dataclass
class Streams:
    """Where the command writes."""

    out: TextIO
    err: TextIO


# -- options ------------------------------------------------------------------------------

# option -> (key, takes a value)
_FLAGS: Mapping[str, tuple[str, bool]] = {
    "-j": ("job", False), "--job": ("job", False),
    "-o": ("output", True), "--output": ("output", True),
    "-t": ("timeout", True), "--timeout": ("timeout", True),
    "-n": ("count", True), "--count": ("count", True),
    "-h": ("help", False), "--help": ("help", False),
}


def _is_json(token: str) -> bool:
    try:
        json.loads(token)
    except ValueError:
        return False
    return True


def _split(tokens: Sequence[str], allowed: set[str]) -> tuple[dict[str, Any], list[str]]:
    """Separate options (anywhere, as midclt allows) from words and JSON arguments."""
    options: dict[str, Any] = {}
    words: list[str] = []
    items = iter(tokens)
    for item in items:
        if item == "--":
            words.extend(items)
            break
        flag = _FLAGS.get(item)
        if flag is None and item.startswith("-") and not _is_json(item):
            raise UsageError(f"unknown option {item}")
        if flag is None:
            words.append(item)
            continue
        key, takes_value = flag
        if key not in allowed:
            raise UsageError(f"option {item} does not apply here")
        options[key] = next(items, None) if takes_value else True
        if takes_value and options[key] is None:
            raise UsageError(f"option {item} needs a value")
    return options, words


def _number(options: Mapping[str, Any], key: str, kind: Callable[[str], Any]) -> Any:
    value = options.get(key)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise UsageError(f"--{key} takes a number, not {value!r}") from None


def _output(options: Mapping[str, Any]) -> str:
    output = str(options.get("output") or "json")
    if output not in ("json", "table"):
        raise UsageError(f"-o takes json or table, not {output!r}")
    return output


def _argument(token: str) -> Any:
    try:
        return json.loads(token)
    except ValueError:
        return token  # midclt sends what is not JSON as a string


# -- clients ------------------------------------------------------------------------------

def _client(profile: Profile, *, methods: bool) -> Any:
    from maas_dyn.truenas import Client, connect  # only commands that talk pay for it

    if methods:
        return recorded(connect(profile.url, **profile.client_options()))
    # Calls by name need no method document: connect lazily, send unchecked (midclt-like).
    return recorded(Client.from_methods({}, url=profile.url, **profile.client_options()))


def _print_result(result: Any, options: Mapping[str, Any], streams: Streams) -> None:
    streams.out.write(render(result, _output(options), streams.out.isatty()))


def _run_call(client: Any, method: str, args: list[Any], options: Mapping[str, Any],
              streams: Streams) -> int:
    timeout = _number(options, "timeout", float)
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if options.get("job"):
        bar = ProgressBar(streams.err)
        try:
            result = client.call(method, *args, job=True, on_progress=bar.update, **extra)
        finally:
            bar.finish()
    else:
        result = client.call(method, *args, **extra)
    _print_result(result, options, streams)
    return ExitCode.OK


# -- commands -------------------------------------------------------------------------------

def _login(argv: list[str], store: ProfileStore, streams: Streams) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog=f"{PROG} login", description=(
        "Log in to a TrueNAS server and save the profile (mode 0600)."))
    parser.add_argument("profile")
    parser.add_argument("url", help="e.g. nas.example or wss://nas.example/api/current")
    parser.add_argument("-u", "--username", help="the user (asked for with --password)")
    parser.add_argument("--password", action="store_true",
                        help="log in with a password instead of an API key")
    parser.add_argument("--no-verify", action="store_true", help="do not verify TLS")
    parser.add_argument("--ca-bundle", help="verify TLS against this CA bundle")
    parser.add_argument("--allow-insecure-api-key", action="store_true",
                        help="send the API key over ws:// to a remote host anyway")
    args = parser.parse_args(argv)
    check_name(args.profile)
    username = args.username
    if args.password:
        username = username or input("Username: ").strip()
        secret = {"password": os.environ.get(ENV_PASSWORD) or getpass.getpass("Password: ")}
    else:
        secret = {"api_key": os.environ.get(ENV_API_KEY) or getpass.getpass("API key: ")}
    verify: bool | str = args.ca_bundle or not args.no_verify
    profile = Profile(args.profile, args.url, username, verify=verify,
                      allow_insecure_api_key=args.allow_insecure_api_key, **secret)
    with _client(profile, methods=True) as client:
        profile = Profile(**{**profile.__dict__, "url": client.endpoint.url})
        path = store.save(profile)
        streams.err.write(f"Logged in to {client.endpoint.url} as {username or 'API key owner'} "
                          f"({client.version or 'unknown version'}, "
                          f"{len(client.methods or ())} methods); profile saved in {path}\n")
    return ExitCode.OK


def _logout(argv: list[str], store: ProfileStore, streams: Streams) -> int:
    if len(argv) != 1:
        raise UsageError(f"usage: {PROG} logout PROFILE")
    if not store.delete(argv[0]):
        raise UsageError(f"no profile named {argv[0]!r}")
    return ExitCode.OK


def _profiles(argv: list[str], store: ProfileStore, streams: Streams) -> int:
    for name in store.names():
        streams.out.write(f"{name}\t{store.load(name).url}\n")
    return ExitCode.OK


def _sim(argv: list[str], store: ProfileStore, streams: Streams) -> int:
    from maas_dyn.sim.truenas.cli import main as sim_main  # the simulator is optional

    return sim_main(argv)


def _call(profile: Profile, argv: list[str], streams: Streams) -> int:
    options, words = _split(argv, {"job", "output", "timeout", "help"})
    if not words:
        raise UsageError(f"usage: {PROG} PROFILE call METHOD [JSON-ARG ...] [-j]")
    method, args = words[0], [_argument(w) for w in words[1:]]
    if options.get("help"):
        with _client(profile, methods=True) as client:
            streams.out.write(_method_help(client, method))
        return ExitCode.OK
    with _client(profile, methods=False) as client:
        return _run_call(client, method, args, options, streams)


def _ping(profile: Profile, argv: list[str], streams: Streams) -> int:
    if argv:
        raise UsageError(f"usage: {PROG} PROFILE ping")
    with _client(profile, methods=False) as client:
        seconds = client.ping()
    streams.out.write("pong\n")
    if streams.err.isatty():
        streams.err.write(f"round trip {seconds * 1000:.1f} ms\n")
    return ExitCode.OK


def _subscribe(profile: Profile, argv: list[str], streams: Streams) -> int:
    options, words = _split(argv, {"count", "timeout"})
    if len(words) != 1:
        raise UsageError(f"usage: {PROG} PROFILE subscribe NAME [-n COUNT] [-t SECONDS]")
    count = _number(options, "count", int)
    with _client(profile, methods=False) as client, \
            client.events(words[0], timeout=_number(options, "timeout", float)) as stream:
        for seen, event in enumerate(stream, start=1):
            record = {"msg": event.msg, "collection": event.collection, "id": event.id,
                      "fields": event.fields}
            streams.out.write(render(record, "json", False))
            streams.out.flush()
            if count is not None and seen >= count:
                break
    return ExitCode.OK


def _method_help(client: Any, method: str) -> str:
    target = client[method]
    signature = inspect.signature(target)
    return f"{method}{signature}\n\n{inspect.getdoc(target) or ''}\n"


def _resolve(client: Any, words: list[str]) -> tuple[str, list[str]]:
    """Find the longest run of words naming a method or namespace."""
    known = client.methods
    prefixes = {".".join(name.split(".")[:depth]) for name in known
                for depth in range(1, name.count(".") + 2)}
    path = ""
    used = 0
    for index in range(len(words)):
        candidate = ".".join(words[: index + 1])
        if candidate not in prefixes:
            break
        path, used = candidate, index + 1
    if not path:
        top = sorted({name.split(".")[0] for name in known})
        hint = closest(words[0], top)
        raise UsageError(f"the server has no namespace {words[0]!r}"
                         + (f"; did you mean {', '.join(hint)}?" if hint else ""))
    return path, words[used:]


def _namespace(profile: Profile, argv: list[str], streams: Streams) -> int:
    options, words = _split(argv, {"job", "output", "timeout", "help"})
    with _client(profile, methods=True) as client:
        if not words:
            top = sorted({name.split(".")[0] for name in client.methods})
            streams.out.write("Namespaces:\n" + "".join(f"  {n}\n" for n in top))
            return ExitCode.OK
        path, rest = _resolve(client, words)
        if path in client.methods:
            if options.get("help"):
                streams.out.write(_method_help(client, path))
                return ExitCode.OK
            return _run_call(client, path, [_argument(w) for w in rest], options, streams)
        if rest:
            children = sorted({n[len(path) + 1:].split(".")[0] for n in client.methods
                               if n.startswith(path + ".")})
            hint = closest(rest[0], children)
            raise UsageError(f"{path} has no method {rest[0]!r}"
                             + (f"; did you mean {', '.join(hint)}?" if hint else ""))
        streams.out.write((inspect.getdoc(client[path]) or path) + "\n")
        return ExitCode.OK


def _later(module: str, function: str) -> Callable[..., int]:
    """A command implemented in another module, imported only when it runs."""
    def run(*args: Any) -> int:
        return int(getattr(importlib.import_module(module), function)(*args))
    return run


_COMMANDS: Mapping[str, Callable[[list[str], ProfileStore, Streams], int]] = {
    "login": _login,
    "logout": _logout,
    "profiles": _profiles,
    "sim": _sim,
    "diff": _later("maas_dyn.cli.diff", "truenas_diff"),
    "docs": _later("maas_dyn.cli.docs", "truenas_docs"),
}
_PROFILE_COMMANDS: Mapping[str, Callable[[Profile, list[str], Streams], int]] = {
    "call": _call,
    "ping": _ping,
    "subscribe": _subscribe,
    "health": _later("maas_dyn.cli.health", "truenas_health"),
}


def _usage() -> str:
    codes = "".join(f"  {int(code):<4}{text}\n" for code, text in EXIT_CODES)
    return f"{USAGE}\nexit codes:\n{codes}"


def _dispatch(argv: list[str], store: ProfileStore, streams: Streams) -> int:
    if not argv:
        streams.err.write(_usage())
        return ExitCode.USAGE
    if argv[0] in ("-h", "--help", "help"):
        streams.out.write(_usage())
        return ExitCode.OK
    command = _COMMANDS.get(argv[0])
    if command is not None:
        return command(argv[1:], store, streams)
    profile = store.load(argv[0])
    rest = argv[1:]
    handler = _PROFILE_COMMANDS.get(rest[0]) if rest else None
    if handler is not None:
        return handler(profile, rest[1:], streams)
    return _namespace(profile, rest, streams)


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


# exception class -> exit code; the first match wins.
_ERRORS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (ProfileError, ExitCode.USAGE),
    (InvalidParametersError, ExitCode.USAGE),
    (UnknownNameError, ExitCode.USAGE),
    (ConfigurationError, ExitCode.USAGE),
    (MaasDynError, ExitCode.FAILURE),
    (OSError, ExitCode.FAILURE),
)


def main(argv: list[str] | None = None) -> int:
    """Run ``truenas-dyn``.

    Args:
        argv: The arguments; ``sys.argv[1:]`` when omitted.

    Returns:
        The exit code: 0 ok, 1 server or connection error, 2 usage error.
    """
    streams = Streams(sys.stdout, sys.stderr)
    try:
        record, args = take_record_option(sys.argv[1:] if argv is None else argv)
        with truenas_recording(record):
            return int(_dispatch(args, ProfileStore(), streams))
    except KeyboardInterrupt:
        streams.err.write(f"{PROG}: interrupted (a job keeps running on the server)\n")
        return ExitCode.INTERRUPTED
    except SystemExit as exc:  # argparse of `login` ends this way
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.USAGE
    except tuple(kind for kind, _ in _ERRORS) as exc:
        streams.err.write(_report(exc))
        return next(int(code) for kind, code in _ERRORS if isinstance(exc, kind))


if __name__ == "__main__":
    sys.exit(main())
