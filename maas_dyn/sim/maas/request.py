"""Decoding what a MAAS client sends: query strings, multipart and urlencoded forms.

The official CLI sends GET/DELETE parameters in the query string and POST/PUT
parameters as ``multipart/form-data`` (one part per value, parts with a filename are
files); python-libmaas base64-encodes every part; other clients use
``application/x-www-form-urlencoded``. Bodies are read by the parser shared with the
client, :mod:`maas_dyn.maas.formdata`, which follows Django's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from maas_dyn.maas.formdata import FormDataError, parse_form
from maas_dyn.sim.maas.responses import BadRequest

MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Params:
    """Request parameters: each name maps to all the values sent for it.

    Attributes:
        values: Field name -> values, in the order they arrived.
        files: Field name -> contents of the parts that carried a filename.
    """

    values: Mapping[str, list[str]] = field(default_factory=dict)
    files: Mapping[str, list[bytes]] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the last value of ``name`` (like Django's ``QueryDict.get``).

        Args:
            name: Field name.
            default: Returned when the field is absent.

        Returns:
            The value or ``default``.
        """
        found = self.values.get(name)
        return found[-1] if found else default

    def get_list(self, name: str) -> list[str]:
        """Return every value of ``name``.

        Args:
            name: Field name.

        Returns:
            The values, possibly empty.
        """
        return list(self.values.get(name, ()))

    def has(self, name: str) -> bool:
        """Tell whether ``name`` was sent at all (even with an empty value).

        Args:
            name: Field name.

        Returns:
            True when present.
        """
        return name in self.values or name in self.files

    def file(self, name: str) -> bytes | None:
        """Return the content of the last file part called ``name``.

        Args:
            name: Field name.

        Returns:
            The bytes, or None when no such file was sent.
        """
        found = self.files.get(name)
        return found[-1] if found else None

    def names(self) -> Iterator[str]:
        """Iterate over the names of all fields (files included).

        Yields:
            Field names.
        """
        yield from self.values
        yield from (name for name in self.files if name not in self.values)


@dataclass(frozen=True)
class ApiRequest:
    """One decoded HTTP request.

    Attributes:
        method: Upper-case HTTP method.
        path: URL path without the query string.
        query: Parameters from the query string.
        form: Parameters from the body (POST/PUT).
        headers: Request headers with lower-case names.
        body: The raw body (kept for uploads of octet streams).
    """

    method: str
    path: str
    query: Params
    form: Params
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def op(self) -> str | None:
        """The ``op`` selecting a non-RESTful action, from the query or the form."""
        return self.query.get("op") or self.form.get("op")

    @property
    def data(self) -> Params:
        """The parameters a handler reads: the body for POST/PUT, else the query."""
        return self.form if self.method in ("POST", "PUT") else self.query


def parse_query(query: str) -> Params:
    """Decode a query string, keeping repeated keys and blank values.

    Args:
        query: The part of the URL after ``?``.

    Returns:
        The parameters.
    """
    return Params(parse_qs(query, keep_blank_values=True))


def parse_body(content_type: str, body: bytes) -> Params:
    """Decode a POST/PUT body as the region's Django does (:mod:`maas_dyn.maas.formdata`).

    Args:
        content_type: The ``Content-Type`` header ("" when absent).
        body: The raw body.

    Returns:
        The parameters; an empty set for bodies that are not forms.

    Raises:
        BadRequest: Django's parser refuses the body.
    """
    try:
        form = parse_form(content_type, body)
    except FormDataError as exc:
        raise BadRequest(str(exc)) from exc
    return Params(form.values, form.files)
