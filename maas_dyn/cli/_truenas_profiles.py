"""``truenas-dyn`` profiles: a name for a server URL and the credentials to log in with.

Each profile is one JSON file, ``<config dir>/truenas-profiles/<name>.json`` (the config
dir is :func:`maas_dyn._paths.user_config_dir`, overridden by ``MAAS_DYN_CONFIG_DIR``),
written atomically with mode 0600 in a 0700 directory because it holds a secret::

    {"name": "nas", "url": "wss://nas/api/current", "username": "admin",
     "api_key": "1-..." or null, "password": "..." or null, "verify": true,
     "allow_insecure_api_key": false}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maas_dyn._files import make_private_dirs, write_private
from maas_dyn._paths import user_config_dir
from maas_dyn.cli.profiles import PROFILE_NAME

__all__ = ["COMMANDS", "Profile", "ProfileError", "ProfileStore"]

# Words that are commands, so never profile names.
COMMANDS = frozenset({"login", "logout", "profiles", "sim", "help"})


class ProfileError(Exception):
    """A profile cannot be used (unknown, unreadable, or a bad name)."""


@dataclass(frozen=True)
class Profile:
    """One stored profile; secrets never appear in its ``repr``.

    Attributes:
        name: The profile's name.
        url: The server URL, e.g. ``wss://nas/api/current``.
        username: Who logs in.
        api_key: API key, when the profile logs in with one.
        password: Password, when the profile logs in with one.
        verify: TLS verification: ``True``, ``False`` or a CA bundle path.
        allow_insecure_api_key: Send the API key over ``ws://`` to a remote host anyway.
    """

    name: str
    url: str
    username: str | None = None
    api_key: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    verify: bool | str = True
    allow_insecure_api_key: bool = False

    def client_options(self) -> dict[str, Any]:
        """Return the :class:`maas_dyn.truenas.Client` options of this profile."""
        return {"username": self.username, "api_key": self.api_key, "password": self.password,
                "verify": self.verify, "allow_insecure_api_key": self.allow_insecure_api_key}


def check_name(name: str) -> str:
    """Reject names that cannot be stored or that would shadow a command.

    Args:
        name: A profile name given on the command line.

    Returns:
        The name.

    Raises:
        ProfileError: The name is reserved or not usable as a file name.
    """
    if name in COMMANDS:
        raise ProfileError(f"{name!r} is a command; choose another profile name")
    if not PROFILE_NAME.match(name):
        raise ProfileError(f"invalid profile name {name!r}: use letters, digits and . _ @ + -")
    return name


class ProfileStore:
    """The folder of profiles.

    Args:
        root: The folder; defaults to ``<config dir>/truenas-profiles``.
    """

    def __init__(self, root: Path | None = None):
        self.root = root or user_config_dir() / "truenas-profiles"

    def _path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.json"

    def save(self, profile: Profile) -> Path:
        """Write a profile (mode 0600, directory 0700).

        Args:
            profile: The profile.

        Returns:
            The file written.
        """
        path = self._path(profile.name)
        make_private_dirs(self.root)
        write_private(path, json.dumps(asdict(profile), indent=2).encode())
        return path

    def load(self, name: str) -> Profile:
        """Read a profile.

        Args:
            name: The profile's name.

        Returns:
            The profile.

        Raises:
            ProfileError: No such profile, or the file is unreadable.
        """
        path = self._path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Profile(**data)
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none yet"
            raise ProfileError(f"no profile named {name!r} (known: {known}); create it with "
                               f"'truenas-dyn login {name} URL'") from None
        except (OSError, ValueError, TypeError) as exc:
            raise ProfileError(f"the profile file {path} cannot be read: {exc}") from None

    def delete(self, name: str) -> bool:
        """Remove a profile.

        Args:
            name: The profile's name.

        Returns:
            Whether it existed.
        """
        path = self._path(name)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def names(self) -> list[str]:
        """List the stored profiles' names, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json"))
