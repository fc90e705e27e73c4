"""A small JSON-Schema validator for the ``accepts`` schemas of ``core.get_methods``.

It covers what the shipped descriptions use: ``type`` (incl. lists and the old ``float``),
``properties``, ``required`` and the per-property ``_required_`` flag,
``additionalProperties``, ``items`` (schema, or the middleware's one-element list form),
``prefixItems``, ``enum``, ``const``, ``anyOf``, ``oneOf`` with a ``discriminator``,
numeric and length bounds, ``pattern``, ``uniqueItems``, ``nullable`` and local ``$ref``.

Problems are reported like the middleware's pydantic layer (``api/base/handler/accept.py``):
the attribute is the argument name followed by the dotted location (``data.topology.data.0``),
a discriminated union adds its tag (``data.PASSWORD_PLAIN.password``), and messages are
pydantic's. Every problem is reported, not only the first one.

Bounded, as a server must be against what clients (or a hostile methods document) send:
``pattern`` runs through :mod:`maas_dyn._regex` (a static heuristic refuses patterns with
nested or ambiguous repeats and backreferences, and values longer than 4096 characters;
such a pattern is not enforced, as pydantic's linear-time engine would not backtrack on
it either), and schema nesting deeper than :data:`MAX_DEPTH` (through ``anyOf`` or a
self-referencing ``$ref``) fails validation with a problem instead of a RecursionError.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from maas_dyn._regex import search
from maas_dyn.sim.truenas.exceptions import EINVAL

__all__ = ["MAX_DEPTH", "Problem", "apply_defaults", "conform", "validate", "validate_params"]

# Schema levels walked at most; deeper nesting is refused (it exists in no real schema).
MAX_DEPTH = 64
_TOO_DEEP = f"Schema nesting deeper than {MAX_DEPTH} levels is not supported"

Problem = tuple[str, str, int]
Schema = dict[str, Any]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    # Datetimes count as strings: the simulator's own records hold them until ejson encodes.
    "string": (lambda v: isinstance(v, (str, datetime)), "Input should be a valid string"),
    "integer": (_is_int, "Input should be a valid integer"),
    "number": (_is_number, "Input should be a valid number"),
    "float": (_is_number, "Input should be a valid number"),
    "boolean": (lambda v: isinstance(v, bool), "Input should be a valid boolean"),
    "null": (lambda v: v is None, "Input should be None"),
    "object": (lambda v: isinstance(v, dict), "Input should be a valid dictionary"),
    "array": (lambda v: isinstance(v, list), "Input should be a valid list"),
}


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _choices(values: Sequence[object]) -> str:
    shown = [_show(value) for value in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _same(left: object, right: object) -> bool:
    # JSON equality: true is not 1, unlike in Python.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return left == right


def _types_of(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _accepts_type(schema: Schema, value: object) -> bool:
    types = _types_of(schema)
    return not types or any(_TYPES[name][0](value) for name in types if name in _TYPES)


def _item_schema(items: object) -> Schema | None:
    # The middleware writes ``items`` as a list of alternatives (almost always one).
    if isinstance(items, dict):
        return items
    if isinstance(items, list) and items:
        return items[0] if len(items) == 1 else {"anyOf": items}
    return None


class _Validator:
    """Walks one value against one schema, collecting every problem."""

    def __init__(self, root: Schema, depth: int = 0):
        self.root = root
        self.problems: list[Problem] = []
        self.depth = depth

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message, EINVAL))

    def resolve(self, schema: Schema) -> Schema:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = {key: value for key, value in schema.items() if key != "$ref"}
        return {**target, **merged}

    def check(self, schema: object, value: object, path: str) -> None:
        if not isinstance(schema, dict) or not schema:
            return
        if self.depth >= MAX_DEPTH:
            self.fail(path, _TOO_DEEP)
            return
        self.depth += 1
        try:
            self._check(self.resolve(schema), value, path)
        finally:
            self.depth -= 1

    def _check(self, schema: Schema, value: object, path: str) -> None:
        if value is None and schema.get("nullable"):
            return
        for keywords, rule in _RULES:
            if not keywords.isdisjoint(schema) and rule(self, schema, value, path) is _STOP:
                return

    def sub_problems(self, schema: Schema, value: object, path: str) -> list[Problem]:
        inner = _Validator(self.root, self.depth)
        inner.check(schema, value, path)
        return inner.problems

    # --- keyword rules; each returns _STOP to end checks of the current schema ---

    def rule_any_of(self, schema: Schema, value: object, path: str) -> object:
        branches = [self.resolve(b) for b in schema["anyOf"] if isinstance(b, dict)]
        results = [self.sub_problems(branch, value, path) for branch in branches]
        if any(not problems for problems in results):
            return None
        fitting = [problems for branch, problems in zip(branches, results, strict=True)
                   if branch and _accepts_type(branch, value)]
        self.problems.extend((fitting or results)[0])
        return _STOP

    def rule_one_of(self, schema: Schema, value: object, path: str) -> object:
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, dict):
            return self.rule_any_of({"anyOf": schema["oneOf"]}, value, path)
        prop = discriminator.get("propertyName", "")
        if not isinstance(value, dict):
            self.fail(path, "Input should be a valid dictionary or object to extract fields from")
            return _STOP
        if prop not in value:
            self.fail(_join(path, prop), "Field required")
            return _STOP
        tag = value[prop]
        branch = _tagged_branch(schema, tag)
        if branch is None:
            expected = ", ".join(_show(t) for t in discriminator.get("mapping", {}))
            self.fail(path, f"Input tag {_show(tag)} found using {_show(prop)} does not match "
                            f"any of the expected tags: {expected}")
            return _STOP
        self.check(branch, value, _join(path, tag))
        return _STOP

    def rule_const(self, schema: Schema, value: object, path: str) -> object:
        if not _same(schema["const"], value):
            self.fail(path, f"Input should be {_show(schema['const'])}")
            return _STOP
        return None

    def rule_enum(self, schema: Schema, value: object, path: str) -> object:
        options = schema["enum"]
        if not any(_same(option, value) for option in options):
            self.fail(path, f"Input should be {_choices(options)}")
            return _STOP
        return None

    def rule_type(self, schema: Schema, value: object, path: str) -> object:
        types = [name for name in _types_of(schema) if name in _TYPES]
        if types and not any(_TYPES[name][0](value) for name in types):
            self.fail(path, _TYPES[types[0]][1])
            return _STOP
        return None

    def rule_string(self, schema: Schema, value: object, path: str) -> object:
        if not isinstance(value, str):
            return None
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(low, int) and len(value) < low:
            self.fail(path, f"String should have at least {_plural(low, 'character')}")
        if isinstance(high, int) and len(value) > high:
            self.fail(path, f"String should have at most {_plural(high, 'character')}")
        pattern = schema.get("pattern")
        # search() is None for a pattern it will not run: not enforced (see the docstring).
        if isinstance(pattern, str) and search(pattern, value) is False:
            self.fail(path, f"String should match pattern '{pattern}'")
        return None

    def rule_number(self, schema: Schema, value: object, path: str) -> object:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        number = float(value)
        for keyword, holds, words in _BOUNDS:
            bound = schema.get(keyword)
            if isinstance(bound, (int, float)) and not holds(number, float(bound)):
                self.fail(path, f"Input should be {words} {bound}")
        return None

    def rule_array(self, schema: Schema, value: object, path: str) -> object:
        if not isinstance(value, list):
            return None
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) and len(value) < low:
            self.fail(path, f"List should have at least {_plural(low, 'item')} after "
                            f"validation, not {len(value)}")
        if isinstance(high, int) and len(value) > high:
            self.fail(path, f"List should have at most {_plural(high, 'item')} after "
                            f"validation, not {len(value)}")
        if schema.get("uniqueItems") and any(
            _same(a, b) for i, a in enumerate(value) for b in value[i + 1:]
        ):
            self.fail(path, "List items should be unique")
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        rest = _item_schema(schema.get("items"))
        for index, item in enumerate(value):
            item_schema = prefix[index] if index < len(prefix) else rest
            if item_schema is not None:
                self.check(item_schema, item, _join(path, index))
        return None

    def rule_object(self, schema: Schema, value: object, path: str) -> object:
        if not isinstance(value, dict):
            return None
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = _required(schema, properties)
        # Problems come in declaration order, as pydantic reports them.
        for name, prop in properties.items():
            if name in value:
                self.check(prop, value[name], _join(path, name))
            elif name in required:
                self.fail(_join(path, name), "Field required")
        for name in required:
            if name not in properties and name not in value:
                self.fail(_join(path, name), "Field required")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                continue
            if extra is False:
                self.fail(_join(path, key), "Extra inputs are not permitted")
            elif isinstance(extra, dict):
                self.check(extra, item, _join(path, key))
        return None


_STOP = object()

_BOUNDS: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
    ("minimum", lambda v, b: v >= b, "greater than or equal to"),
    ("exclusiveMinimum", lambda v, b: v > b, "greater than"),
    ("maximum", lambda v, b: v <= b, "less than or equal to"),
    ("exclusiveMaximum", lambda v, b: v < b, "less than"),
)

# Checked in this order; a rule that finds the value unusable stops the rest.
_RULES: tuple[tuple[frozenset[str], Callable[[_Validator, Schema, object, str], object]], ...] = (
    (frozenset({"anyOf"}), _Validator.rule_any_of),
    (frozenset({"oneOf"}), _Validator.rule_one_of),
    (frozenset({"const"}), _Validator.rule_const),
    (frozenset({"enum"}), _Validator.rule_enum),
    (frozenset({"type"}), _Validator.rule_type),
    (frozenset({"minLength", "maxLength", "pattern"}), _Validator.rule_string),
    (frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
     _Validator.rule_number),
    (frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}),
     _Validator.rule_array),
    (frozenset({"properties", "additionalProperties", "required"}), _Validator.rule_object),
)


def _required(schema: Schema, properties: dict[str, Any]) -> list[str]:
    names = [name for name in schema.get("required", []) if isinstance(name, str)]
    flagged = [name for name, prop in properties.items()
               if isinstance(prop, dict) and prop.get("_required_") and name not in names]
    return names + flagged


def _tagged_branch(schema: Schema, tag: object) -> Schema | None:
    mapping = schema["discriminator"].get("mapping", {})
    # Tags that are not strings (booleans) are mapped by their Python spelling ("True").
    key = tag if isinstance(tag, str) else str(tag) if isinstance(tag, (bool, int)) else None
    if key not in mapping:
        return None
    title = str(mapping[key]).rsplit("/", 1)[-1]
    for branch in schema["oneOf"]:
        if isinstance(branch, dict) and branch.get("title") == title:
            return branch
    return None


def validate(schema: Schema, value: object, path: str = "") -> list[Problem]:
    """Validate one value.

    Args:
        schema: A JSON Schema (one element of ``accepts``).
        value: The value to check.
        path: Attribute name of the value, e.g. the argument name.

    Returns:
        Every problem found, as ``(attribute, message, errno)``; empty when valid.
    """
    validator = _Validator(schema)
    validator.check(schema, value, path)
    return validator.problems


def _is_required_argument(schema: Schema) -> bool:
    return bool(schema.get("_required_", "default" not in schema))


def _absent_argument(schema: Schema) -> Any:
    # An optional argument without a documented default has a pydantic default_factory;
    # an empty object (with its own defaults) or list stands in for it.
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    types = _types_of(schema)
    if "object" in types:
        return apply_defaults(schema, {})
    return [] if "array" in types else None


def validate_params(accepts: Sequence[Schema], params: Sequence[object]
                    ) -> tuple[list[Any], list[Problem]]:
    """Validate positional parameters and fill in defaults.

    Args:
        accepts: The method's ``accepts`` list (one schema per positional parameter).
        params: The ``params`` array of the call.

    Returns:
        ``(arguments, problems)``: one argument per schema with defaults applied (only
        meaningful when ``problems`` is empty), and every problem found.
    """
    if len(params) > len(accepts):
        message = f"Too many arguments (expected {len(accepts)}, found {len(params)})"
        return list(params), [("", message, EINVAL)]
    problems: list[Problem] = []
    arguments: list[Any] = []
    for index, schema in enumerate(accepts):
        name = str(schema.get("_name_") or schema.get("title") or index)
        if index < len(params):
            problems.extend(validate(schema, params[index], name))
            arguments.append(params[index])
        elif _is_required_argument(schema):
            problems.append((name, "Field required", EINVAL))
            arguments.append(None)
        else:
            arguments.append(_absent_argument(schema))
    if problems:
        return arguments, problems
    return [apply_defaults(s, a) for s, a in zip(accepts, arguments, strict=True)], problems


def apply_defaults(schema: Schema, value: Any, _depth: int = 0) -> Any:
    """Fill in the defaults of absent object properties, recursively.

    Args:
        schema: The schema ``value`` is valid against.
        value: A valid value.
        _depth: Schema levels already walked (internal; bounds the recursion).

    Returns:
        A copy of ``value`` with every absent property that has a default filled in.
    """
    if not isinstance(schema, dict) or _depth >= MAX_DEPTH:
        return value
    _depth += 1
    if "anyOf" in schema or "oneOf" in schema:
        branch = _matching_branch(schema, value)
        return value if branch is None else apply_defaults(branch, value, _depth)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        filled = dict(value)
        for name, prop in schema["properties"].items():
            if name in filled:
                filled[name] = apply_defaults(prop, filled[name], _depth)
            elif isinstance(prop, dict) and "default" in prop:
                filled[name] = copy.deepcopy(prop["default"])
        return filled
    if isinstance(value, list):
        item = _item_schema(schema.get("items"))
        return value if item is None else [apply_defaults(item, entry, _depth)
                                           for entry in value]
    return value


def _matching_branch(schema: Schema, value: object) -> Schema | None:
    if "oneOf" in schema and isinstance(schema.get("discriminator"), dict):
        prop = schema["discriminator"].get("propertyName", "")
        return _tagged_branch(schema, value.get(prop)) if isinstance(value, dict) else None
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    for branch in branches:
        if isinstance(branch, dict) and not validate(branch, value):
            return branch
    return None


def conform(schema: Schema, value: Any, _depth: int = 0) -> Any:
    """Drop the keys a release's schema does not allow, recursively.

    Lets one hand-built object serve releases whose shapes differ by a key or two (25.04
    credentials have no ``login_id``). Of a union, the branch that keeps the most keys
    while the trimmed value is valid against it wins.

    Args:
        schema: The schema the value should follow.
        value: The value.
        _depth: Schema levels already walked (internal; bounds the recursion).

    Returns:
        A trimmed copy (or ``value`` itself when nothing applies).
    """
    if not isinstance(schema, dict) or _depth >= MAX_DEPTH:
        return value
    _depth += 1
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        fits = [trimmed for branch in branches if isinstance(branch, dict)
                and not validate(branch, trimmed := conform(branch, value, _depth))]
        return max(fits, key=_keys_in) if fits else value
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        closed = schema.get("additionalProperties") is False
        return {key: conform(properties.get(key, {}), item, _depth)
                for key, item in value.items()
                if not closed or key in properties}
    item = _item_schema(schema.get("items"))
    if isinstance(value, list) and item is not None:
        return [conform(item, entry, _depth) for entry in value]
    return value


def _keys_in(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_keys_in(item) for item in value.values())
    if isinstance(value, list):
        return sum(_keys_in(item) for item in value)
    return 0
