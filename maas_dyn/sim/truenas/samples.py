"""Build values that are valid against a JSON Schema of the description.

Two uses: the simulator builds its records from the ``returns`` schemas (``full=True``
gives every property, so a record has exactly the keys the real server's has), and tests
build minimal valid ``params`` for every method from the ``accepts`` schemas.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from maas_dyn.sim.truenas.schema import validate

__all__ = ["sample", "sample_params"]

Schema = dict[str, Any]

# Strings for ``format`` values found in the descriptions.
_FORMATS = {
    "uri": "http://example.com",
    "email": "user@example.com",
    "ipvanyinterface": "192.0.2.10/24",
    "date-time": "2025-01-01T00:00:00",
    "file-path": "/mnt/tank",
}

# Tried in order until one satisfies pattern and length bounds.
_STRING_CANDIDATES = (
    "x", "a:a", "0x0", "naa.0123456789abcdef", "00:11:22:33:44:55", "a/1", "a.b",
)


def _string(schema: Schema) -> str:
    low = int(schema.get("minLength") or 0)
    fmt = schema.get("format")
    candidates = [_FORMATS[fmt]] if fmt in _FORMATS else []
    candidates += [c.ljust(low, "x") for c in _STRING_CANDIDATES]
    for candidate in candidates:
        if not validate({**schema, "type": "string"}, candidate):
            return candidate
    return "x" * max(low, 1)


def _integer(schema: Schema) -> int:
    if "minimum" in schema:
        return int(schema["minimum"])
    if "exclusiveMinimum" in schema:
        return int(schema["exclusiveMinimum"]) + 1
    if "maximum" in schema and schema["maximum"] < 0:
        return int(schema["maximum"])
    return 0


def _array(schema: Schema, full: bool) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [sample(item, full=full) for item in prefix]
    count = int(schema.get("minItems") or 0)
    items = schema.get("items")
    item = items[0] if isinstance(items, list) and items else items
    return [sample(item, full=full) if isinstance(item, dict) else None for _ in range(count)]


def _object(schema: Schema, full: bool) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = set(schema.get("required", ()))
    out = {}
    for name, prop in properties.items():
        wanted = full or name in required or (isinstance(prop, dict) and prop.get("_required_"))
        if wanted:
            out[name] = sample(prop, full=full)
    return out


_BY_TYPE: dict[str, Callable[[Schema, bool], Any]] = {
    "string": lambda s, full: _string(s),
    "integer": lambda s, full: _integer(s),
    "number": lambda s, full: float(_integer(s)),
    "float": lambda s, full: float(_integer(s)),
    "boolean": lambda s, full: False,
    "null": lambda s, full: None,
    "array": _array,
    "object": _object,
}


def _branches(schema: Schema) -> list[Schema]:
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    typed = [b for b in branches if isinstance(b, dict)]
    # Prefer null: an absent value is the most neutral record field and argument.
    return sorted(typed, key=lambda b: b.get("type") != "null")


def _tagged(schema: Schema, discriminator: Schema, full: bool) -> Any:
    # A discriminated union needs its tag even where the branch gives it a default.
    branch = next(b for b in schema["oneOf"] if isinstance(b, dict))
    value = sample(branch, full=full)
    prop = discriminator.get("propertyName", "")
    tag_schema = branch.get("properties", {}).get(prop)
    if isinstance(value, dict) and isinstance(tag_schema, dict):
        value[prop] = sample(tag_schema, full=full)
    return value


def sample(schema: object, *, full: bool = False) -> Any:
    """Build a value valid against ``schema``.

    Args:
        schema: A JSON Schema.
        full: Include every object property (records); otherwise only required ones.

    Returns:
        A valid value: the schema's default when it has one, else the simplest value.
    """
    if not isinstance(schema, dict) or not schema:
        return None
    if "default" in schema and not validate(schema, schema["default"]):
        return copy.deepcopy(schema["default"])
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if "enum" in schema:
        choices = [choice for choice in schema["enum"] if choice is not None]
        return copy.deepcopy(choices[0] if choices else None)
    discriminator = schema.get("discriminator")
    if "oneOf" in schema and isinstance(discriminator, dict):
        return _tagged(schema, discriminator, full)
    if "anyOf" in schema or "oneOf" in schema:
        for branch in _branches(schema):
            candidate = sample(branch, full=full)
            if not validate(schema, candidate):
                return candidate
        return None
    declared = schema.get("type")
    if declared is None:
        return _object(schema, full) if "properties" in schema else None
    types = [declared] if isinstance(declared, str) else list(declared)
    name = "null" if "null" in types else types[0]
    return _BY_TYPE.get(name, _BY_TYPE["object"])(schema, full)


def sample_params(accepts: list[Schema]) -> list[Any]:
    """Build the shortest valid ``params`` array for a method.

    Args:
        accepts: The method's ``accepts`` schemas.

    Returns:
        One value per required positional parameter (optional trailing ones omitted).
    """
    required = [i for i, s in enumerate(accepts) if s.get("_required_", "default" not in s)]
    count = max(required) + 1 if required else 0
    return [sample(schema) for schema in accepts[:count]]

