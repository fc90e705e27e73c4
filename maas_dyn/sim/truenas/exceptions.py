"""Exceptions that simulated methods raise, mirroring the middleware's own.

The middleware turns a handful of exception classes into wire errors; handlers here raise
the same kinds so that :mod:`maas_dyn.sim.truenas.rpc` and
:mod:`maas_dyn.sim.truenas.legacy` can shape the reply exactly as a real server would.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Iterable, Iterator

__all__ = [
    "EINVAL",
    "ENOENT",
    "ENOMETHOD",
    "ENOTAUTHENTICATED",
    "CallError",
    "JobAborted",
    "MatchNotFound",
    "MethodNotFound",
    "ValidationErrors",
    "errname",
    "instance_not_found",
]

EINVAL = _errno.EINVAL
ENOENT = _errno.ENOENT

# Error numbers the middleware adds above the OS range (truenas_api_client ErrnoMixin).
ENOMETHOD = 201
ENOTAUTHENTICATED = 207
_CUSTOM_ERRNAMES = {
    201: "ENOMETHOD",
    202: "ESERVICESTARTFAILURE",
    203: "EALERTCHECKERUNAVAILABLE",
    204: "EREMOTENODEERROR",
    205: "EDATASETISLOCKED",
    206: "EINVALIDRRDTIMESTAMP",
    207: "ENOTAUTHENTICATED",
    208: "ESSLCERTVERIFICATIONERROR",
    209: "EREBOOTREQUIRED",
    210: "EHAUNAVAILABLE",
}


def errname(code: int) -> str:
    """Name an error number the way the middleware does.

    Args:
        code: An OS errno or one of the middleware's own numbers (201-210).

    Returns:
        The symbolic name, e.g. ``"ENOENT"``, or ``"EUNKNOWN"``.
    """
    return _errno.errorcode.get(code) or _CUSTOM_ERRNAMES.get(code) or "EUNKNOWN"


class CallError(Exception):
    """A method ran and failed (wire: -32001 "Method call error").

    Attributes:
        errmsg: The message without the errno prefix.
        errno: Error number sent as ``error.data.error``.
        extra: Optional extra payload sent as ``error.data.extra``.
    """

    def __init__(self, errmsg: str, errno: int = _errno.EFAULT, extra: object = None):
        super().__init__(errmsg)
        self.errmsg = errmsg
        self.errno = errno
        self.extra = extra

    def __str__(self) -> str:
        return f"[{errname(self.errno)}] {self.errmsg}"


class ValidationErrors(Exception):
    """One or more invalid attributes (wire: -32602 "Invalid params").

    Attributes:
        errors: ``[(attribute, message, errno), ...]`` in the order found.
    """

    def __init__(self, errors: Iterable[tuple[str | None, str, int]] = ()):
        self.errors: list[tuple[str | None, str, int]] = list(errors)
        super().__init__(self.errors)

    def add(self, attribute: str | None, message: str, errno: int = EINVAL) -> None:
        """Record one more invalid attribute.

        Args:
            attribute: Dotted attribute name, e.g. ``"data.name"``.
            message: What is wrong with it.
            errno: Error number; EINVAL unless the problem is e.g. a missing object.
        """
        self.errors.append((attribute, message, errno))

    def check(self) -> None:
        """Raise this exception if any error was recorded.

        Raises:
            ValidationErrors: At least one error was added.
        """
        if self.errors:
            raise self

    def __iter__(self) -> Iterator[tuple[str | None, str, int]]:
        return iter(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __str__(self) -> str:
        return "".join(f"[{errname(code)}] {attr}: {msg}\n" for attr, msg, code in self.errors)


def instance_not_found(message: str) -> ValidationErrors:
    """Build the error the middleware's ``get_instance`` raises for a missing id.

    Args:
        message: e.g. ``"User 42 does not exist"``.

    Returns:
        A :class:`ValidationErrors` with one ENOENT entry and no attribute, as
        ``InstanceNotFound`` is on the wire.
    """
    return ValidationErrors([(None, message, ENOENT)])


class MatchNotFound(IndexError):
    """``get: true`` matched nothing; the middleware lets this IndexError escape."""


class MethodNotFound(Exception):
    """The requested method is not in the served description (wire: -32601)."""


class JobAborted(Exception):
    """Raised inside a job body when ``core.job_abort`` asked it to stop."""
