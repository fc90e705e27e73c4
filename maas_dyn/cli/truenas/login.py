"""``truenas-dyn login``, ``logout`` and ``list``: the profiles.

A profile stores an API key, never a password. ``login --password`` logs in with the
password once and asks the server for a new API key (``api_key.create``), which is
what the profile keeps; tokens of ``auth.generate_token`` are not used because they
expire within minutes. Where the server logs API keys in by SCRAM (TrueNAS 26.0+), the
profile keeps the SCRAM keys derived from the key (ClientKey, ServerKey, salt, iterations)
instead of the key itself, and remembers that it used SCRAM so that it never falls back
to sending a key in plain. Secrets are read from the environment
(``TRUENAS_API_KEY``, ``TRUENAS_PASSWORD``), from the terminal without echo, or as one
line of a piped stdin; a closed stdin is a usage error, not a traceback.
"""

from __future__ import annotations

import getpass
import socket
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from maas_dyn.cli._common.exits import CLIError, UsageError
from maas_dyn.cli._common.options import new_parser
from maas_dyn.cli._common.profiles import Profile, check_name
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.truenas.catalog import build_index
from maas_dyn.errors import TrueNASAPIError

__all__ = ["ENV_API_KEY", "ENV_PASSWORD", "SCHEMES", "list_command", "login", "logout"]

ENV_API_KEY = "TRUENAS_API_KEY"
ENV_PASSWORD = "TRUENAS_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
# The URL schemes login accepts; a bare host is refused at once rather than guessed,
# because a guessed wss:// to a host without TLS hangs until the TLS timeout.
SCHEMES = ("wss", "ws", "https", "http")
_SCHEME_RULE = ("give the URL with its scheme: wss://HOST (TLS, the normal case; https:// "
                "also works) or ws://HOST (no TLS: only for this machine, or with "
                "--allow-insecure-api-key)")


def _parser() -> Any:
    parser = new_parser("truenas-dyn login", description=(
        "Log in to a TrueNAS server and save the profile (mode 0600). The profile keeps an "
        "API key: with --password, a new key is created for the user."))
    parser.add_argument("profile")
    parser.add_argument("url", help="wss://nas.example or wss://nas.example/api/current")
    parser.add_argument("-u", "--username", help="the user (asked for with --password)")
    parser.add_argument("--password", action="store_true",
                        help="log in with the password once and create an API key to store")
    parser.add_argument("--no-verify", action="store_true", help="do not verify TLS")
    parser.add_argument("--ca-bundle", help="verify TLS against this CA bundle")
    parser.add_argument("--allow-insecure-api-key", action="store_true",
                        help="send the API key over ws:// to a remote host anyway")
    return parser


def _check_url(url: str, allow_insecure: bool) -> str:
    """Refuse, before asking for any secret, a URL that cannot work."""
    from maas_dyn.truenas.endpoint import is_loopback, parse_endpoint

    if urlsplit(url.strip()).scheme.lower() not in SCHEMES or "://" not in url:
        raise UsageError(f"{url!r} has no scheme; {_SCHEME_RULE}")
    endpoint = parse_endpoint(url)  # InvalidURLError: a usage error too
    if not endpoint.secure and not allow_insecure and not is_loopback(endpoint.host):
        raise UsageError(
            f"refusing to log in over unencrypted ws:// to {endpoint.host}: TrueNAS 25.04+ "
            "revokes an API key received that way. Use wss://, or --allow-insecure-api-key")
    return endpoint.url


def _ask(runtime: Runtime, prompt: str, variable: str | None, secret: bool) -> str:
    value = runtime.environ.get(variable, "") if variable else ""
    if not value:
        where = f"set {variable}, " if variable else ""
        try:
            if runtime.stdin.isatty():
                value = getpass.getpass(prompt) if secret else input(prompt)
            else:  # piped: one line, no prompt (getpass would warn about echo)
                value = runtime.stdin.readline()
        except EOFError:
            value = ""
        if not value.strip():
            raise UsageError(f"no {prompt.rstrip(': ').lower()} given (stdin is closed or "
                             f"empty); {where}pipe it on stdin, or run login in a terminal")
    return value.strip()


def _new_api_key(client: Any, profile: str, username: str | None) -> tuple[str, str]:
    """Create the API key the profile will keep; return ``(key, key name)``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"truenas-dyn {profile}@{socket.gethostname()} {stamp}"
    spec = client.methods.get("api_key.create") if client.methods is not None else None
    properties = (spec.accepts[0].get("properties", {}) if spec and spec.accepts else {})
    data: dict[str, Any] = {"name": name}
    if "username" in properties and username:  # 24.10+: keys belong to a user
        data["username"] = username
    try:
        reply = client.call("api_key.create", data)
    except TrueNASAPIError as exc:
        raise CLIError(
            f"logged in, but could not create an API key for {username or 'this user'} "
            f"({exc}); create one in the web UI (Credentials > API Keys) and run "
            f"`truenas-dyn login {profile} URL -u USER` with it") from exc
    return str(reply["key"]), name


def _key_material(client: Any, api_key: str, username: str | None, created: bool,
                  options: dict[str, Any]) -> tuple[str | None, Any, str | None]:
    """What the profile keeps: ``(raw key or None, SCRAM keys or None, mechanism)``."""
    from maas_dyn.truenas import Client

    if not created:  # logged in with the key itself: keep what that login used
        derived = client.derived_api_key
        if client.login_mechanism == "SCRAM" and derived is not None:
            return None, derived.to_dict(), "SCRAM"
        return api_key, None, client.login_mechanism
    # A key just created with the password: derive its SCRAM keys by logging in with it
    # once, where the server offers SCRAM; otherwise the first use decides.
    try:
        offered = client.call("auth.mechanism_choices")
    except TrueNASAPIError:
        offered = []
    if "SCRAM" not in (offered or ()):
        return api_key, None, None
    document = client.methods.document if client.methods is not None else None
    with Client(client.endpoint.url, username=username, api_key=api_key,
                api_key_mechanism="SCRAM", methods=document, cache=False, ping_interval=0,
                **options) as keyed:
        keyed.call("auth.me")
        derived = keyed.derived_api_key
    assert derived is not None
    return None, derived.to_dict(), "SCRAM"


def login(argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn login PROFILE URL [--username USER] [--password] ...``.

    Args:
        argv: The arguments after ``login``.
        runtime: Streams, environment and the profile store.

    Returns:
        0 (errors are raised and mapped to exit codes by the entry point).
    """
    from maas_dyn.truenas import connect  # only commands that talk pay for it

    args = _parser().parse_args(argv)
    name = check_name(args.profile, "truenas")
    url = _check_url(args.url, args.allow_insecure_api_key)
    username = args.username
    options: dict[str, Any] = {
        "verify": args.ca_bundle or not args.no_verify,
        "allow_insecure_api_key": args.allow_insecure_api_key}
    if args.password:
        username = username or _ask(runtime, "Username: ", None, secret=False)
        credentials = {"password": _ask(runtime, "Password: ", ENV_PASSWORD, secret=True)}
    else:
        credentials = {"api_key": _ask(runtime, "API key: ", ENV_API_KEY, secret=True)}
    created = ""
    with connect(url, username=username, **credentials, **options) as client:
        api_key = credentials.get("api_key")
        if api_key is None:
            api_key, created = _new_api_key(client, name, username)
        document = client.methods.document if client.methods is not None else None
        kept, scram, mechanism = _key_material(client, api_key, username, bool(created),
                                               options)
        profile = Profile(name, client.endpoint.url, kept, document, "truenas", username,
                          options["verify"], args.allow_insecure_api_key, client.version,
                          scram, mechanism)
        path = runtime.store.save(profile, build_index(document) if document else None)
        if created:
            runtime.note(f"created the API key {created!r} for {username}; the profile keeps "
                         f"{'its SCRAM keys' if scram else 'it'}, not the password (revoke it "
                         "in Credentials > API Keys)")
        elif scram:
            runtime.note("logged in by SCRAM; the profile keeps the SCRAM keys derived from "
                         "the API key, not the key itself")
        runtime.note(f"logged in to {client.endpoint.url} as {username or 'the key owner'} "
                     f"({client.version or 'unknown version'}, "
                     f"{len(client.methods or ())} methods); profile saved in {path}")
    return 0


def logout(argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn logout PROFILE``: forget the profile (the key stays valid).

    Args:
        argv: The arguments after ``logout``.
        runtime: The profile store.

    Returns:
        0.
    """
    if len(argv) != 1:
        raise UsageError("usage: truenas-dyn logout PROFILE")
    runtime.store.delete(argv[0])
    return 0


def list_command(argv: list[str], runtime: Runtime) -> int:
    """Run ``truenas-dyn list`` (alias ``profiles``): names and URLs, never keys.

    Args:
        argv: Nothing.
        runtime: The profile store.

    Returns:
        0.
    """
    if argv:
        raise UsageError("usage: truenas-dyn list")
    for name in runtime.store.names():
        try:
            url = runtime.store.load(name).url
        except CLIError:  # unreadable, or an old profile holding a password: say so, go on
            url = f"(cannot be used; log in again: truenas-dyn login {name} URL)"
        runtime.stdout.write(f"{name}\t{url}\n")
    return 0
