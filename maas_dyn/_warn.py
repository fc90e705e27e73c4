"""Warnings that point at the user's line, however deep inside maas_dyn they start."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


def warn_user(message: str, category: type[Warning]) -> None:
    """Emit a warning attributed to the first caller outside the maas_dyn package.

    A fixed ``stacklevel`` breaks whenever the call path inside the package changes;
    walking the stack to the first foreign frame does not.

    Args:
        message: The warning text.
        category: The warning class.
    """
    level = 2  # 1 would be this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
