"""The commands that manage profiles: login, logout, list, refresh, profiles import.

``login`` does what the official one does: a signed ``GET users/?op=whoami`` (401 means
the key was rejected), then an unsigned ``GET describe/``, then the profile is stored.
``list`` shows names and URLs only, never keys.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maas_dyn.cli._common.exits import CLIError, UsageError
from maas_dyn.cli._common.options import new_parser
from maas_dyn.cli._common.profiles import (
    OFFICIAL_DATABASE,
    Profile,
    api_url,
    check_name,
    read_official_profiles,
    split_api_url,
)
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.maas.session import Session, open_session
from maas_dyn.errors import MAASAPIError, MaasDynError, UnauthorizedError
from maas_dyn.maas.encode import encode_request
from maas_dyn.maas.oauth import parse_api_key

__all__ = ["list_command", "login", "logout", "profiles_command", "refresh"]

# API version -> (path, op) of the signed request that checks a key; 1.0 has no whoami.
_KEY_CHECKS = {"1.0": ("nodegroups/", "list")}
_DEFAULT_KEY_CHECK = ("users/", "whoami")


def _read_key(given: str | None, runtime: Runtime) -> str | None:
    key = runtime.stdin.readline() if given == "-" else given
    key = (key or "").strip()
    if key:
        parse_api_key(key)  # a malformed key is a usage error before any request
    return key or None


def _check_key(session: Session, version: str) -> None:
    path, op = _KEY_CHECKS.get(version, _DEFAULT_KEY_CHECK)
    url = f"{session.client.url}api/{version}/{path}"
    try:
        session.client.send(encode_request("GET", url, op, []))
    except UnauthorizedError as exc:
        raise CLIError("The MAAS server rejected your API key.") from exc
    except MAASAPIError as exc:  # transport errors keep their own message
        raise CLIError(f"The MAAS server gave an unexpected response: {exc}") from exc


def _scheme_checked(url: str) -> str:
    # "region:5240" parses as scheme "region"; say the rule before any connection is tried.
    if not url.startswith(("http://", "https://")):
        host = url.rpartition("://")[2].strip("/") or "region:5240"
        raise UsageError(f"the region URL must start with http:// or https://, got {url!r}; "
                         f"e.g. http://{host}/MAAS/")
    return api_url(url)


def _ca_bundle(path: Path) -> str:
    # Stored as an absolute path: later commands run from other folders.
    try:
        text = path.expanduser().read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the CA certificates in {str(path)!r}: {exc}") from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise UsageError(f"{str(path)!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return str(path.expanduser().resolve())


def login(argv: list[str], runtime: Runtime) -> int:
    """``maas-dyn login PROFILE URL [KEY]``: check the key, fetch the API, store a profile."""
    parser = new_parser("maas-dyn login", "Log in to a MAAS region: check the API key, fetch "
                        "the API description and store both under PROFILE.")
    parser.add_argument("profile", help="The name you will use for this region and key.")
    parser.add_argument("url", help="The region's URL, e.g. http://region:5240/MAAS/ (or "
                        "http://region:5240/MAAS/api/2.0/ to name the API version).")
    parser.add_argument("key", nargs="?", help="The API key consumer:token:secret; '-' reads "
                        "it from stdin; leave it out for anonymous access.")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument("-k", "--insecure", action="store_true",
                       help="Do not verify the server's TLS certificate.")
    trust.add_argument("--cacerts", type=Path, metavar="FILE",
                       help="Trust the CA certificate(s) in FILE (PEM) for this region, as "
                       "the official CLI's --cacerts; kept with the profile.")
    args = parser.parse_args(argv)
    name = check_name(args.profile)
    url = _scheme_checked(args.url)
    key = _read_key(args.key, runtime)
    verify: bool | str = True if args.cacerts is None else _ca_bundle(args.cacerts)
    session = open_session(Profile(name, url, key, verify=verify), runtime,
                           insecure=args.insecure)
    if key is not None:
        _check_key(session, split_api_url(url)[1])
    document = session.fetch()
    runtime.store.save(Profile(name, url, key, document, verify=verify,
                               openapi=session.overlay))
    print(f"\nYou are now logged in to the MAAS server at {url} with the profile name "
          f"'{name}'.\n\nFor help with the available commands, try:\n\n  maas-dyn {name} "
          "--help\n", file=runtime.stdout)
    return 0


def logout(argv: list[str], runtime: Runtime) -> int:
    """``maas-dyn logout PROFILE``: forget a profile and its key."""
    parser = new_parser("maas-dyn logout", "Forget a stored profile and its API key.")
    parser.add_argument("profile")
    runtime.store.delete(parser.parse_args(argv).profile)
    return 0


def list_command(argv: list[str], runtime: Runtime) -> int:
    """``maas-dyn list``: profile names and URLs (never keys)."""
    new_parser("maas-dyn list", "List stored profiles: name and URL.").parse_args(argv)
    for name in runtime.store.names():
        print(name, runtime.store.load(name).url, file=runtime.stdout)
    return 0


def refresh(argv: list[str], runtime: Runtime) -> int:
    """``maas-dyn refresh [PROFILE...]``: fetch the API description again."""
    parser = new_parser("maas-dyn refresh", "Fetch the API description of the given "
                        "profiles again (all profiles when none are given).")
    parser.add_argument("profiles", nargs="*")
    parser.add_argument("-k", "--insecure", action="store_true",
                        help="Do not verify the server's TLS certificate.")
    args = parser.parse_args(argv)
    status = 0
    for name in args.profiles or runtime.store.names():
        profile = runtime.store.load(name)
        try:
            stale = replace(profile, description=None)
            session = open_session(stale, runtime, insecure=args.insecure)
            document = session.fetch()
        except MaasDynError as exc:
            runtime.note(f"cannot refresh {name!r}: {exc}")
            status = 1
            continue
        runtime.store.save(replace(profile, description=document, openapi=session.overlay))
        print(f"{name}: description {str(document.get('hash', ''))[:12] or 'unhashed'}",
              file=runtime.stdout)
    return status


def profiles_command(argv: list[str], runtime: Runtime) -> int:
    """``maas-dyn profiles import [--from PATH] [--force]``: copy the official CLI's profiles."""
    parser = new_parser("maas-dyn profiles", "Manage profiles.")
    parser.add_argument("action", choices=("import",),
                        help="import: copy the profiles of the official maas CLI.")
    parser.add_argument("--from", dest="source", type=Path, default=OFFICIAL_DATABASE,
                        metavar="PATH", help=f"Its database (default {OFFICIAL_DATABASE}).")
    parser.add_argument("--force", action="store_true",
                        help="Replace stored profiles of the same name.")
    args = parser.parse_args(argv)
    existing = set(runtime.store.names())
    for profile in read_official_profiles(args.source):
        if profile.name in existing and not args.force:
            runtime.note(f"skipped {profile.name!r}: a profile of that name exists "
                         "(--force replaces it)")
            continue
        try:
            runtime.store.save(profile)
        except UsageError as exc:
            runtime.note(f"skipped {profile.name!r}: {exc}")
            continue
        print(f"imported {profile.name} {profile.url}", file=runtime.stdout)
    return 0
