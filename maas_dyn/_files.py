"""Private files: written atomically and readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_private_dirs", "write_private"]


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically.

    The data goes to a temporary file in the same folder, which is then renamed over
    ``path``, so a reader never sees half a file and a crash leaves the old one.

    Args:
        path: The file to write; its folder must exist.
        data: The bytes.
    """
    import tempfile  # only writers need it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_private_dirs(folder: Path, *, keep: int = 1) -> None:
    """Create ``folder`` and its missing parents with mode 0700, up to the user's folder.

    ``mkdir(parents=True)`` gives the parents it creates the umask's mode (often 0755),
    so each missing level is created 0700 one at a time. The levels above maas_dyn's
    own folder (e.g. ``~/.config``) are the user's: created if missing, modes left alone.

    Args:
        folder: The folder to create.
        keep: How many levels above ``folder`` belong to maas_dyn (1: its parent, e.g.
            ``~/.config/maas_dyn`` for ``~/.config/maas_dyn/profiles``).
    """
    outside = folder.parents[keep]
    outside.mkdir(parents=True, exist_ok=True)
    missing = [folder, *(p for p in folder.parents if p != outside and outside in p.parents)]
    for level in reversed(missing):
        level.mkdir(mode=0o700, exist_ok=True)
