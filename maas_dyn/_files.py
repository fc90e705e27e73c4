"""Private files: written atomically and readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_private"]


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
