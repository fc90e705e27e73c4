"""CLI profiles of both CLIs: a name for a server URL, its API key and its cached description.

One :class:`Profile` and one :class:`ProfileStore` serve both dialects; a store holds the
profiles of one dialect (:data:`DIALECTS`), in its own folder of the config dir
(:func:`maas_dyn._paths.user_config_dir`, overridden by ``MAAS_DYN_CONFIG_DIR``). Each
profile is one JSON file written atomically with mode 0600 in a 0700 folder because it
holds the API key.

``maas-dyn``, ``<config dir>/profiles/<name>.json``::

    {"name": "admin", "url": "http://region:5240/MAAS/api/2.0/",
     "api_key": "consumer:token:secret" or null, "description": {...}}

``url`` is the API URL, as the official CLI stores it. The pseudo-profile ``env`` is
never stored: it reads ``MAAS_URL`` and ``MAAS_API_KEY`` from the environment.
Profiles of the official CLI are imported from its sqlite database ``~/.maascli.db``.

``truenas-dyn``, ``<config dir>/truenas-profiles/<name>.json``::

    {"dialect": "truenas", "name": "nas", "url": "wss://nas/api/current",
     "api_key": "1-...", "username": "admin", "verify": true,
     "allow_insecure_api_key": false, "version": "TrueNAS-25.10.0",
     "login_mechanism": "API_KEY_PLAIN"}

A profile of a server that logged the key in by SCRAM (TrueNAS 26.0+) keeps the derived
SCRAM keys instead of the key itself, as the official client's key files may
(``"api_key": null, "scram": {"api_key_id", "salt", "iterations", "client_key",
"server_key"}, "login_mechanism": "SCRAM"``): enough to log in by SCRAM, useless for
sending in plain. ``login_mechanism`` is the mechanism of the first login and is kept:
a SCRAM profile never falls back to plain (a downgrade someone in between could cause).

The server's ``core.get_methods`` document (5 MB for 26.0) is kept beside it, in
``.methods/<name>.json``, with a small index for completion (``.methods/<name>.index.json``),
so that listing profiles stays fast and help and completion work offline. A password
is never stored: ``truenas-dyn login`` turns one into an API key.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from maas_dyn._files import make_private_dirs, write_private
from maas_dyn._paths import user_config_dir
from maas_dyn.cli._common.exits import CLIError, UsageError, unknown

__all__ = [
    "DIALECTS",
    "ENV_KEY",
    "ENV_PROFILE",
    "ENV_URL",
    "OFFICIAL_DATABASE",
    "PROFILE_NAME",
    "Dialect",
    "Profile",
    "ProfileStore",
    "api_url",
    "read_official_profiles",
    "split_api_url",
]

ENV_PROFILE = "env"
ENV_URL = "MAAS_URL"
ENV_KEY = "MAAS_API_KEY"
OFFICIAL_DATABASE = Path("~/.maascli.db")
DEFAULT_API_VERSION = "2.0"

# A profile name is a file name too: no separators, no leading dot.
# What a profile name may be in both CLIs: it is a file name, and not an option.
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*\Z")
_API_SUFFIX = re.compile(r"api/(?P<version>[0-9.]+)/\Z")
# Where a truenas-dyn profile's method document and completion index live, beside it.
_SIDE_FOLDER = ".methods"


@dataclass(frozen=True)
class Dialect:
    """What differs between the two CLIs' profile stores.

    Attributes:
        name: ``"maas"`` or ``"truenas"``.
        folder: The store's folder in the config dir.
        program: The CLI's name, for messages.
        commands: Module whose ``COMMANDS`` table lists words that are not profile names.
        login: How to create a profile, for messages.
        side_description: The description is kept beside the profile file, not in it.
    """

    name: str
    folder: str
    program: str
    commands: str
    login: str
    side_description: bool


DIALECTS: Mapping[str, Dialect] = {
    "maas": Dialect("maas", "profiles", "maas-dyn", "maas_dyn.cli.maas",
                    "maas-dyn login PROFILE URL KEY", side_description=False),
    "truenas": Dialect("truenas", "truenas-profiles", "truenas-dyn", "maas_dyn.cli.truenas",
                       "truenas-dyn login PROFILE wss://HOST", side_description=True),
}


def api_url(url: str) -> str:
    """Return the API URL for a region URL, the form the official CLI stores.

    ``http://region:5240/MAAS/`` becomes ``http://region:5240/MAAS/api/2.0/``; a URL
    that already names an API version keeps it (``.../api/1.0/`` for MAAS 1.9); a URL
    without a path gets ``/MAAS/``.

    Args:
        url: What the user typed.

    Returns:
        The API URL, ending in ``/api/VERSION/``.
    """
    parts = urlsplit(url.strip())
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if path == "/":
        path = "/MAAS/"
    if not _API_SUFFIX.search(path):
        path += f"api/{DEFAULT_API_VERSION}/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def split_api_url(url: str) -> tuple[str, str]:
    """Split an API URL into the region's base URL and the API version.

    Args:
        url: e.g. ``http://region:5240/MAAS/api/2.0/``.

    Returns:
        ``("http://region:5240/MAAS/", "2.0")``.
    """
    normalised = api_url(url)
    match = _API_SUFFIX.search(normalised)
    assert match is not None  # api_url always adds the suffix
    return normalised[: match.start()], match["version"]


@dataclass(frozen=True)
class Profile:
    """A stored (or environment) profile. The key never appears in ``repr``.

    Attributes:
        name: The profile's name.
        url: The API URL, e.g. ``http://region:5240/MAAS/api/2.0/`` or
            ``wss://nas/api/current``.
        api_key: ``consumer:token:secret`` (MAAS) or ``id-secret`` (TrueNAS), or
            ``None`` for anonymous access.
        description: The cached describe or ``core.get_methods`` document, or ``None``
            (not cached, or not loaded).
        dialect: ``"maas"`` or ``"truenas"`` (a key of :data:`DIALECTS`).
        username: TrueNAS: who the API key belongs to.
        verify: TrueNAS: TLS verification, ``True``, ``False`` or a CA bundle path.
        allow_insecure_api_key: TrueNAS: send the API key over ``ws://`` to a remote host.
        version: TrueNAS: the server version the description belongs to.
        scram: TrueNAS: the derived SCRAM keys (``DerivedApiKey.to_dict()``) kept
            instead of the raw key, or ``None``.
        login_mechanism: TrueNAS: how the profile's first login went (``SCRAM`` or
            ``API_KEY_PLAIN``); later logins insist on it.
        openapi: MAAS: the region's OpenAPI overlay (``Overlay.to_compact()`` as JSON)
            fetched with the description, or ``None`` (none, or the region has none).
    """

    name: str
    url: str
    api_key: str | None = field(default=None, repr=False)
    description: Mapping[str, Any] | None = field(default=None, repr=False)
    dialect: str = "maas"
    username: str | None = None
    verify: bool | str = True
    allow_insecure_api_key: bool = False
    version: str | None = None
    scram: Mapping[str, Any] | None = field(default=None, repr=False)
    login_mechanism: str | None = None
    openapi: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Return the document stored on disk (a TrueNAS description is stored beside it).

        The description's ``handlers`` list is dropped when it has ``resources``: it is
        a backward-compatible copy of them, and every command parses the profile.
        """
        if self.dialect != "maas":
            return {"dialect": self.dialect, "name": self.name, "url": self.url,
                    "api_key": self.api_key, "username": self.username, "verify": self.verify,
                    "allow_insecure_api_key": self.allow_insecure_api_key,
                    "version": self.version, "scram": self.scram,
                    "login_mechanism": self.login_mechanism}
        description = self.description
        if description is not None and "resources" in description:
            description = {k: v for k, v in description.items() if k != "handlers"}
        stored = {"name": self.name, "url": self.url, "api_key": self.api_key,
                  "description": description}
        if isinstance(self.verify, str):  # `maas-dyn login --cacerts FILE`
            stored["cacerts"] = self.verify
        if self.openapi is not None:  # MAAS 3.3 on; absent keeps older files unchanged
            stored["openapi"] = self.openapi
        return stored

    def client_options(self) -> dict[str, Any]:
        """Return the :class:`maas_dyn.truenas.Client` options of a TrueNAS profile.

        The mechanism of the first login is insisted on, so that no one in between can
        move a SCRAM profile to sending its key (a plain profile stays plain until
        ``login`` is run again against a server that offers SCRAM).

        Raises:
            UsageError: The stored SCRAM keys are unreadable.
        """
        api_key: Any = self.api_key
        if self.scram is not None:
            from maas_dyn.truenas.scram import DerivedApiKey

            try:
                api_key = DerivedApiKey.from_dict(self.scram)
            except ValueError as exc:
                raise UsageError(f"the profile {self.name!r}: {exc}; log in again: "
                                 f"truenas-dyn login {self.name} {self.url}") from None
        options = {"username": self.username, "api_key": api_key, "verify": self.verify,
                   "allow_insecure_api_key": self.allow_insecure_api_key}
        if self.login_mechanism in ("SCRAM", "API_KEY_PLAIN"):
            options["api_key_mechanism"] = self.login_mechanism
        return options


def _from_json(name: str, data: Mapping[str, Any], dialect: str) -> Profile:
    if dialect == "maas":
        cacerts = data.get("cacerts")
        openapi = data.get("openapi")
        return Profile(name, data["url"], data.get("api_key"), data.get("description"),
                       verify=cacerts if isinstance(cacerts, str) and cacerts else True,
                       openapi=openapi if isinstance(openapi, dict) else None)
    if data.get("password"):
        # Profiles of truenas-dyn before 0.x held the password in clear.
        raise UsageError(
            f"the profile {name!r} holds a password, which {DIALECTS[dialect].program} no "
            f"longer stores; log in again to replace it with an API key: "
            f"`{DIALECTS[dialect].program} login {name} {data['url']} --username USER`")
    scram = data.get("scram")
    return Profile(name, data["url"], data.get("api_key"), None, dialect,
                   data.get("username"), data.get("verify", True),
                   bool(data.get("allow_insecure_api_key")), data.get("version"),
                   scram if isinstance(scram, Mapping) else None, data.get("login_mechanism"))


def check_name(name: str, dialect: str = "maas") -> str:
    """Reject names that cannot be stored or that would shadow a command.

    Args:
        name: A profile name given on the command line.
        dialect: Whose commands the name must not shadow (a key of :data:`DIALECTS`).

    Returns:
        The name.

    Raises:
        UsageError: The name is reserved or not usable as a file name.
    """
    # The command table is the list of reserved words.
    commands = importlib.import_module(DIALECTS[dialect].commands).COMMANDS

    if name == ENV_PROFILE or name in commands:
        raise UsageError(f"{name!r} is reserved for a command; choose another profile name")
    if not PROFILE_NAME.match(name):
        raise UsageError(
            f"invalid profile name {name!r}: use letters, digits and . _ @ + - "
            "(not starting with a dot or dash)"
        )
    return name


class ProfileStore:
    """The directory of stored profiles of one dialect.

    Args:
        root: The directory; defaults to ``user_config_dir() / "profiles"`` for MAAS and
            ``user_config_dir() / "truenas-profiles"`` for TrueNAS.
        dialect: ``"maas"`` or ``"truenas"`` (a key of :data:`DIALECTS`).
    """

    def __init__(self, root: Path | None = None, dialect: str = "maas"):
        self.dialect = DIALECTS[dialect]
        self.root = root or user_config_dir() / self.dialect.folder

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def _side(self, name: str, kind: str = "") -> Path:
        return self.root / _SIDE_FOLDER / f"{name}{kind}.json"

    def _hint(self) -> str:
        return f"see `{self.dialect.program} list`; log in with `{self.dialect.login}`"

    def names(self) -> list[str]:
        """Return the stored profile names, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(path.stem for path in self.root.glob("*.json"))

    def load(self, name: str) -> Profile:
        """Read a stored profile.

        Args:
            name: Its name.

        Returns:
            The profile.

        Raises:
            UsageError: No such profile (with the closest names).
            CLIError: The file cannot be read or is not a profile.
        """
        path = self._path(name)
        if not PROFILE_NAME.match(name) or not path.is_file():
            raise unknown("profile", name, self.names(), self._hint())
        try:
            return _from_json(name, json.loads(path.read_bytes()), self.dialect.name)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CLIError(f"cannot read profile {name!r} from {path}: {exc}") from exc

    def description(self, name: str) -> Mapping[str, Any] | None:
        """Read the description kept beside a profile (TrueNAS), if there is one.

        Args:
            name: The profile's name.

        Returns:
            The document, or ``None`` when none is stored or it cannot be read.
        """
        return self._read_side(name, "")

    def index(self, name: str) -> Mapping[str, Any] | None:
        """Read the completion index kept beside a profile (TrueNAS), if there is one.

        Args:
            name: The profile's name.

        Returns:
            The index written by :meth:`save`, or ``None``.
        """
        return self._read_side(name, ".index")

    def _read_side(self, name: str, kind: str) -> Mapping[str, Any] | None:
        if not PROFILE_NAME.match(name):
            return None
        try:
            found = json.loads(self._side(name, kind).read_bytes())
        except (OSError, ValueError):
            return None  # not cached: callers ask the server instead
        return found if isinstance(found, Mapping) else None

    def resolve(self, name: str, environ: Mapping[str, str]) -> Profile:
        """Return the stored profile ``name``, or the ``env`` pseudo-profile.

        Args:
            name: The profile word of the command line.
            environ: Where ``MAAS_URL`` and ``MAAS_API_KEY`` are read for ``env``.

        Returns:
            The profile.

        Raises:
            UsageError: Unknown profile, or ``env`` without ``MAAS_URL``.
        """
        if name != ENV_PROFILE:
            return self.load(name)
        url = environ.get(ENV_URL, "").strip()
        if not url:
            raise UsageError(f"the profile 'env' needs {ENV_URL} (and {ENV_KEY} unless "
                             "anonymous) in the environment")
        return Profile(ENV_PROFILE, api_url(url), environ.get(ENV_KEY, "").strip() or None)

    def save(self, profile: Profile, index: Mapping[str, Any] | None = None) -> Path:
        """Store a profile (replacing one of the same name), private to the user.

        Args:
            profile: The profile.
            index: TrueNAS: a small completion index of the description, stored beside it.

        Returns:
            The file written.

        Raises:
            CLIError: The file cannot be written.
        """
        path = self._path(check_name(profile.name, self.dialect.name))
        try:
            make_private_dirs(self.root)
            self.root.chmod(0o700)  # also when it existed with wider permissions
            if self.dialect.side_description:
                self._save_side(profile, index)
            write_private(path, json.dumps(profile.to_json()).encode("utf-8"))
        except OSError as exc:
            raise CLIError(f"cannot write profile {profile.name!r} to {path}: {exc}") from exc
        return path

    def _save_side(self, profile: Profile, index: Mapping[str, Any] | None) -> None:
        side = self.root / _SIDE_FOLDER
        for kind, document in (("", profile.description), (".index", index)):
            if document is None:
                # A stale document of an earlier login would describe another server.
                self._side(profile.name, kind).unlink(missing_ok=True)
                continue
            side.mkdir(mode=0o700, exist_ok=True)
            write_private(self._side(profile.name, kind), json.dumps(document).encode("utf-8"))

    def delete(self, name: str) -> None:
        """Remove a stored profile.

        Args:
            name: Its name.

        Raises:
            UsageError: No such profile.
        """
        if name not in self.names():
            raise unknown("profile", name, self.names(), f"see `{self.dialect.program} list`")
        self._path(name).unlink()
        for kind in ("", ".index"):
            self._side(name, kind).unlink(missing_ok=True)


def read_official_profiles(database: Path) -> list[Profile]:
    """Read the profiles of the official ``maas`` CLI from its sqlite database.

    The database has a table ``profiles(id, name, data)`` where ``data`` is JSON:
    ``{"name", "url" (the API URL), "credentials": [consumer, token, secret] or null,
    "description": {...}}`` (newer releases add ``cacerts``, which is not imported).

    Args:
        database: Path of the database, normally ``~/.maascli.db``.

    Returns:
        The profiles, in the database's order.

    Raises:
        UsageError: The file does not exist.
        CLIError: The file is not a readable profile database.
    """
    import sqlite3  # only this command needs it

    path = database.expanduser()
    if not path.is_file():
        raise UsageError(f"no official maas CLI profile database at {path} "
                         "(give another one with --from PATH)")
    try:
        # Read-only, so that a locked or foreign file is never modified.
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT name, data FROM profiles ORDER BY id").fetchall()
        profiles = []
        for name, data in rows:
            info = json.loads(data)
            credentials = info.get("credentials")
            key = ":".join(credentials) if credentials else None
            profiles.append(Profile(name, api_url(info["url"]), key, info.get("description")))
    except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"cannot read profiles from {path}: {exc}") from exc
    return profiles
