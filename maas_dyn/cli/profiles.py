"""CLI profiles: a name for a region's API URL, its API key and its cached description.

Each profile is one JSON file, ``<config dir>/profiles/<name>.json`` (the config dir is
:func:`maas_dyn._paths.user_config_dir`, overridden by ``MAAS_DYN_CONFIG_DIR``), written
atomically with mode 0600 in a 0700 directory because it holds the API key::

    {"name": "admin", "url": "http://region:5240/MAAS/api/2.0/",
     "api_key": "consumer:token:secret" or null, "description": {...}}

``url`` is the API URL, as the official CLI stores it. The pseudo-profile ``env`` is
never stored: it reads ``MAAS_URL`` and ``MAAS_API_KEY`` from the environment.
Profiles of the official CLI are imported from its sqlite database ``~/.maascli.db``.
"""

from __future__ import annotations

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
from maas_dyn.cli.exits import CLIError, UsageError, unknown

__all__ = [
    "ENV_KEY",
    "ENV_PROFILE",
    "ENV_URL",
    "OFFICIAL_DATABASE",
    "PROFILE_NAME",
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
        url: The API URL, e.g. ``http://region:5240/MAAS/api/2.0/``.
        api_key: ``consumer:token:secret``, or ``None`` for anonymous access.
        description: The cached describe document, or ``None`` to use the library's
            description cache (the ``env`` profile).
    """

    name: str
    url: str
    api_key: str | None = field(default=None, repr=False)
    description: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Return the document stored on disk.

        The description's ``handlers`` list is dropped when it has ``resources``: it is
        a backward-compatible copy of them, and every command parses the profile.
        """
        description = self.description
        if description is not None and "resources" in description:
            description = {k: v for k, v in description.items() if k != "handlers"}
        return {"name": self.name, "url": self.url, "api_key": self.api_key,
                "description": description}


def check_name(name: str) -> str:
    """Reject names that cannot be stored or that would shadow a command.

    Args:
        name: A profile name given on the command line.

    Returns:
        The name.

    Raises:
        UsageError: The name is reserved or not usable as a file name.
    """
    from maas_dyn.cli.maas import COMMANDS  # the command table is the list of reserved words

    if name == ENV_PROFILE or name in COMMANDS:
        raise UsageError(f"{name!r} is reserved for a command; choose another profile name")
    if not PROFILE_NAME.match(name):
        raise UsageError(
            f"invalid profile name {name!r}: use letters, digits and . _ @ + - "
            "(not starting with a dot or dash)"
        )
    return name


class ProfileStore:
    """The directory of stored profiles.

    Args:
        root: The directory; defaults to ``user_config_dir() / "profiles"``.
    """

    def __init__(self, root: Path | None = None):
        self.root = root or user_config_dir() / "profiles"

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

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
            raise unknown("profile", name, self.names(),
                          "see `maas-dyn list`; log in with `maas-dyn login PROFILE URL KEY`")
        try:
            data = json.loads(path.read_bytes())
            return Profile(name, data["url"], data.get("api_key"), data.get("description"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CLIError(f"cannot read profile {name!r} from {path}: {exc}") from exc

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

    def save(self, profile: Profile) -> Path:
        """Store a profile (replacing one of the same name), private to the user.

        Args:
            profile: The profile.

        Returns:
            The file written.

        Raises:
            CLIError: The file cannot be written.
        """
        path = self._path(check_name(profile.name))
        try:
            make_private_dirs(self.root)
            self.root.chmod(0o700)  # also when it existed with wider permissions
            write_private(path, json.dumps(profile.to_json()).encode("utf-8"))
        except OSError as exc:
            raise CLIError(f"cannot write profile {profile.name!r} to {path}: {exc}") from exc
        return path

    def delete(self, name: str) -> None:
        """Remove a stored profile.

        Args:
            name: Its name.

        Raises:
            UsageError: No such profile.
        """
        if name not in self.names():
            raise unknown("profile", name, self.names(), "see `maas-dyn list`")
        self._path(name).unlink()


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
