"""On-disk cache of server descriptions, keyed by server URL and document version.

Layout: ``<root>/<dialect>/<sha256(url)[:32]>/<key>.json`` plus a ``latest`` file naming
the key last stored for that URL. Each server's folder keeps at most ``max_entries``
documents (the newest; each is ~0.5 MB and a new one comes with every upgrade).
Directories are created 0700 and files 0600 (a description can reveal what a server
runs); writes go through a temporary file and an atomic rename so a crash never leaves
half a document behind.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from maas_dyn._files import make_private_dirs, write_private
from maas_dyn._paths import user_cache_dir

__all__ = ["DescriptionCache"]

_log = logging.getLogger("maas_dyn.cache")
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._-]")
# Documents kept per server: the current one plus a few an older region (or a second
# region behind the same address, mid-upgrade) may still serve.
DEFAULT_MAX_ENTRIES = 4


class DescriptionCache:
    """Stores and finds description documents (as the raw bytes the server sent).

    Args:
        dialect: ``"maas"`` or ``"truenas"``; one sub-directory each.
        root: Base directory; defaults to the user cache directory.
        max_entries: Documents kept per server; storing one more removes the least
            recently written (never the one just stored).
    """

    def __init__(self, dialect: str, root: Path | None = None,
                 max_entries: int = DEFAULT_MAX_ENTRIES):
        self.root = (root or user_cache_dir()) / dialect
        self.max_entries = max(1, max_entries)

    def _folder(self, url: str) -> Path:
        return self.root / hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def load(self, url: str, key: str | None = None) -> tuple[str, bytes] | None:
        """Find a cached document.

        Args:
            url: The server URL the document came from.
            key: The document's hash or version; ``None`` means the latest stored.

        Returns:
            ``(key, raw bytes)``, or ``None`` when nothing usable is cached.
        """
        folder = self._folder(url)
        try:
            if key is None:
                key = (folder / "latest").read_text(encoding="ascii").strip()
            return key, (folder / f"{_SAFE_KEY.sub('_', key)}.json").read_bytes()
        except (OSError, UnicodeDecodeError) as exc:
            _log.debug("no cached description for %s: %s", url, exc)
            return None

    def store(self, url: str, key: str, raw: bytes) -> Path | None:
        """Store a document and mark it as the latest for ``url``.

        A cache that cannot be written (read-only home, full disk) is not an error for
        the caller: it is logged and ``None`` is returned.

        Args:
            url: The server URL the document came from.
            key: The document's hash or version.
            raw: The document's bytes.

        Returns:
            The file written, or ``None`` if the cache could not be written.
        """
        folder = self._folder(url)
        path = folder / f"{_SAFE_KEY.sub('_', key)}.json"
        try:
            # <base>/<dialect>/<url hash>: the base is maas_dyn's own directory too.
            make_private_dirs(folder, keep=2)
            write_private(path, raw)
            write_private(folder / "latest", key.encode("ascii", "replace"))
        except OSError as exc:
            _log.warning("could not write the description cache in %s: %s", folder, exc)
            return None
        self._prune(folder, keep=path)
        return path

    def _prune(self, folder: Path, keep: Path) -> None:
        try:
            entries = [(entry.stat().st_mtime_ns, entry) for entry in folder.glob("*.json")
                       if entry != keep]
        except OSError:
            return  # another process pruned meanwhile: nothing to do
        entries.sort(reverse=True)
        for _, entry in entries[self.max_entries - 1:]:
            try:
                entry.unlink()
            except OSError as exc:
                _log.debug("could not prune %s from the description cache: %s", entry, exc)

    def forget(self, url: str) -> None:
        """Remove the ``latest`` mark for ``url`` so the next connect fetches afresh."""
        (self._folder(url) / "latest").unlink(missing_ok=True)
