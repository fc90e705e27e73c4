"""Parameter validation with MAAS's answers: field errors as JSON, mandatory params as text.

MAAS validates most calls with Django forms, which collect every field error and answer
400 with ``{"field": ["message", ...]}``. Some calls use ``get_mandatory_param`` instead,
which answers 400 with the plain text ``No provided <name>!``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import BadRequest, ValidationFailed

# A MAC address with ':' or '-' separators, and one DNS label (a hostname).
MAC_ADDRESS = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")
HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
REQUIRED = "This field is required."
NOT_INTEGER = "Enter a whole number."

_TRUE = frozenset({"true", "1", "on", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "off", "no", "n", "f", ""})
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)
_SIZE_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}


class Form:
    """Read fields from request parameters and collect errors like a Django form.

    Call the typed readers, then :meth:`validate` to raise all errors at once.

    Args:
        params: The request parameters.
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self.errors: dict[str, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        """Record an error for a field (``"__all__"`` for the whole form).

        Args:
            name: Field name.
            message: The message MAAS would give.
        """
        self.errors.setdefault(name, []).append(message)

    def string(
        self, name: str, *, required: bool = False, default: str | None = None
    ) -> str | None:
        """Read a text field.

        Args:
            name: Field name.
            required: Record "This field is required." when absent or blank.
            default: Value when absent.

        Returns:
            The value, or ``default``.
        """
        value = self.params.get(name)
        if value is None or (required and not value.strip()):
            if required:
                self.error(name, REQUIRED)
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        min_value: int | None = None,
    ) -> int | None:
        """Read an integer field.

        Args:
            name: Field name.
            required: Whether a value must be sent.
            default: Value when absent.
            min_value: Smallest accepted value.

        Returns:
            The value, or ``default`` when absent or invalid.
        """
        raw = self.string(name, required=required)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.error(name, NOT_INTEGER)
            return default
        if min_value is not None and value < min_value:
            self.error(name, f"Ensure this value is greater than or equal to {min_value}.")
            return default
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        """Read a boolean field (true/false, 1/0, on/off, yes/no).

        Args:
            name: Field name.
            default: Value when absent.

        Returns:
            The value.
        """
        raw = self.params.get(name)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered not in _FALSE:
            self.error(name, f"'{raw}' is not a valid boolean.")
        return False

    def choice(
        self,
        name: str,
        choices: Collection[str],
        *,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        """Read a field whose value must be one of ``choices``.

        Args:
            name: Field name.
            choices: Accepted values.
            required: Whether a value must be sent.
            default: Value when absent.

        Returns:
            The value, or ``default`` when absent or invalid.
        """
        value = self.string(name, required=required)
        if value is None:
            return default
        if value not in choices:
            self.error(name, invalid_choice(value))
            return default
        return value

    def size(self, name: str, *, unit: int = 1, required: bool = False) -> int | None:
        """Read a size such as ``4096``, ``8G`` or ``1.5T``.

        Args:
            name: Field name.
            unit: Bytes per unit of the answer (1 for bytes, 2**20 for MiB).
            required: Whether a value must be sent.

        Returns:
            The size in ``unit``, or None when absent or invalid.
        """
        raw = self.string(name, required=required)
        if raw is None or raw == "":
            return None
        parsed = parse_size(raw, unit)
        if parsed is None:
            self.error(name, f"Invalid size '{raw}'.")
        return parsed

    def hostname(self, name: str = "hostname") -> str | None:
        """Read a hostname and check it with MAAS's ``validate_hostname``.

        Args:
            name: Field name.

        Returns:
            The value (None when absent or invalid).
        """
        value = self.string(name)
        if value is None:
            return None
        problem = hostname_error(value)
        if problem is not None:
            self.error(name, problem)
            return None
        return value

    def validate(self) -> None:
        """Raise every recorded error at once.

        Raises:
            ValidationFailed: At least one error was recorded.
        """
        if self.errors:
            raise ValidationFailed(self.errors)


_LABEL_CHARS = re.compile(r"[a-zA-Z0-9-]*$")


def domain_name_error(name: str) -> str | None:
    """Check a DNS name as ``maascommon.utils.dns.validate_domain_name`` does.

    Args:
        name: The name.

    Returns:
        MAAS's message for the first rule broken, or None when the name is valid.
    """
    if len(name) > 255:
        return "Hostname is too long.  Maximum allowed is 255 characters."
    for label in name.split("."):
        # Rules in MAAS's order; each message is MAAS's, with the label as repr().
        if not label:
            return "DNS name contains an empty label."
        if len(label) > 63:
            return f"Label is too long: {label!r}.  Maximum allowed is 63 characters."
        if label.startswith("-") or label.endswith("-"):
            return f"Label cannot start or end with hyphen: {label!r}."
        if not _LABEL_CHARS.match(label):
            return f"Label contains disallowed characters: {label!r}."
    return None


def hostname_error(hostname: str) -> str | None:
    """Check a hostname as ``maascommon.utils.dns.validate_hostname`` does.

    The host label may not hold ``_`` (the domain part may); every label may hold only
    ASCII letters, digits and inner hyphens, so spaces, ``=`` and the like are refused.

    Args:
        hostname: The hostname, possibly with its domain.

    Returns:
        MAAS's message, or None when the hostname is valid.
    """
    if len(hostname) > 255:
        return "Hostname is too long.  Maximum allowed is 255 characters."
    host = hostname.split(".", maxsplit=1)[0]
    if "_" in host:
        return f"Host label cannot contain underscore: {host!r}."
    return domain_name_error(hostname)


# formencode validators that MAAS's get_optional_param applies (maasserver/api/utils.py):
# the value, or the message MAAS puts after "Invalid <key>: ".
_STRING_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_STRING_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})


def _string_bool(raw: str) -> tuple[Any, str | None]:
    lowered = raw.strip().lower()
    if lowered == "":
        return None, None
    if lowered in _STRING_TRUE:
        return True, None
    if lowered in _STRING_FALSE:
        return False, None
    return None, "Value should be 'true' or 'false'"


def _int(raw: str) -> tuple[Any, str | None]:
    if raw.strip() == "":
        return None, None
    try:
        return int(raw), None
    except ValueError:
        return None, "Please enter an integer value"


PARAM_VALIDATORS: Mapping[str, Callable[[str], tuple[Any, str | None]]] = {
    "StringBool": _string_bool,
    "Int": _int,
}


def optional_params(params: Params, table: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """Read parameters the way ``get_optional_param(data, key, default, validator)`` does.

    Args:
        params: Request parameters.
        table: Parameter name -> (validator name in :data:`PARAM_VALIDATORS`, default).

    Returns:
        Name -> value (the default when absent).

    Raises:
        BadRequest: A value the validator refuses: plain text
            ``Invalid <key>: <formencode's message>``, as MAAS answers.
    """
    found: dict[str, Any] = {}
    for name, (validator, default) in table.items():
        raw = params.get(name)
        if raw is None:
            found[name] = default
            continue
        value, problem = PARAM_VALIDATORS[validator](raw)
        if problem is not None:
            raise BadRequest(f"Invalid {name}: {problem}")
        found[name] = value
    return found


def invalid_choice(value: str) -> str:
    """Word a rejected choice like Django.

    Args:
        value: The rejected value.

    Returns:
        The message.
    """
    return f"Select a valid choice. {value} is not one of the available choices."


def parse_size(raw: str, unit: int = 1) -> int | None:
    """Parse a size with an optional K/M/G/T/P suffix (powers of 1024).

    A bare number is taken to be in ``unit`` already.

    Args:
        raw: The text, e.g. ``"8G"``.
        unit: Bytes per unit of the answer.

    Returns:
        The size in ``unit``, or None when the text is not a size.
    """
    match = _SIZE.match(raw)
    if match is None:
        return None
    number, suffix = float(match.group(1)), match.group(2).upper()
    if not suffix:
        return int(number)
    return int(number * 1024 ** _SIZE_POWER[suffix] // unit)


def mandatory(params: Params, name: str) -> str:
    """Read a parameter the way ``get_mandatory_param`` does.

    Args:
        params: Request parameters.
        name: Field name.

    Returns:
        The value.

    Raises:
        BadRequest: The parameter is absent (plain text "No provided <name>!").
    """
    value = params.get(name)
    if value is None:
        raise BadRequest(f"No provided {name}!")
    return value
