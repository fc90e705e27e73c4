"""Client-side validation of call parameters against a method's ``accepts`` schemas.

It covers the JSON-Schema the middleware publishes: ``type`` (also lists, and the old
``float``), ``nullable``, ``const``, ``enum``, string length and ``pattern``, numeric
bounds, ``items`` (the middleware writes it as a list: each item must match one of
the listed schemas), ``prefixItems``, item counts and ``uniqueItems``, ``properties``,
``required``, ``additionalProperties``, ``anyOf`` and ``oneOf`` (with a
``discriminator``, the tag picks the branch).

It errs on the side of sending: formats are not checked, a pattern Python cannot
compile is skipped, an integral float passes as an integer, and the per-property
``_required_`` flag of old-style schemas is ignored (update methods take partial
objects); only the object's ``required`` list counts. Every problem is reported at
once, keyed by a dotted location like the server's (``data.topology.data.0.type``).

Validation is bounded against a hostile or broken server: ``pattern`` runs through
:mod:`maas_dyn._regex` (a static heuristic, not a linear-time engine: a pattern with a
nested or ambiguous repeat or a backreference is skipped, and so is a value longer than
4096 characters), and schemas nested deeper than :data:`MAX_DEPTH` are not descended
into (what lies below is left to the server) instead of exhausting the stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from maas_dyn._dynamic import closest
from maas_dyn._regex import search

__all__ = ["MAX_DEPTH", "Problems", "check_value", "validate_params"]

# Schema levels the checker descends (a server's anyOf nested 200 deep would otherwise
# raise RecursionError on every call of that method).
MAX_DEPTH = 64

Problems = dict[str, list[str]]
Schema = Mapping[str, Any]


def _anything(value: object) -> bool:
    return True  # a type name this validator does not know: leave it to the server


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: Mapping[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "float": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, (list, tuple)),
}
_JSON_NAMES: Mapping[type, str] = {
    str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null",
    dict: "object", list: "array", tuple: "array",
}


def _json_type(value: object) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    return json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) \
        else repr(value)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _schemas(value: object) -> list[Schema]:
    # Sub-schemas as the server sent them. One that is not an object (``true``, or junk)
    # becomes ``{}``, which accepts anything: positions in prefixItems stay aligned, and
    # the server, not this client, has the last word on what it meant.
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, Mapping) else {} for item in value]


def _length(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _declared_types(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        types = [declared]
    elif isinstance(declared, list):
        types = [t for t in declared if isinstance(t, str)]
    else:
        return []  # absent, or not a type name the server could mean
    if schema.get("nullable") is True and "null" not in types:
        types.append("null")
    return types


class _Checker:
    """Walks one value along its schema, collecting every problem."""

    def __init__(self, depth: int = 0) -> None:
        self.problems: Problems = {}
        self.depth = depth

    def add(self, path: str, message: str) -> None:
        self.problems.setdefault(path or "(value)", []).append(message)

    def check(self, schema: Schema, value: Any, path: str) -> None:
        if not isinstance(schema, Mapping):
            return  # a malformed sub-schema from the server constrains nothing
        if self.depth >= MAX_DEPTH:
            return  # deeper than any real schema: leave the rest to the server
        self.depth += 1
        try:
            self._check(schema, value, path)
        finally:
            self.depth -= 1

    def _check(self, schema: Schema, value: Any, path: str) -> None:
        types = _declared_types(schema)
        if types and not any(_TYPES.get(t, _anything)(value) for t in types):
            self.add(path, f"must be {' or '.join(types)}, not {_json_type(value)}")
            return  # nothing else about a value of the wrong type is worth saying
        for keywords, rule in _RULES:
            if any(keyword in schema for keyword in keywords):
                rule(self, schema, value, path)

    def valid(self, schema: Schema, value: Any) -> bool:
        probe = _Checker(self.depth)
        probe.check(schema, value, "")
        return not probe.problems

    # -- keyword rules ------------------------------------------------------------------

    def const(self, schema: Schema, value: Any, path: str) -> None:
        if not _same(value, schema["const"]):
            self.add(path, f"must be {_show(schema['const'])}")

    def enum(self, schema: Schema, value: Any, path: str) -> None:
        options = schema["enum"]
        if not isinstance(options, list):
            return
        if not any(_same(value, option) for option in options):
            self.add(path, "must be one of " + ", ".join(_show(o) for o in options))

    def min_length(self, schema: Schema, value: Any, path: str) -> None:
        limit = _length(schema["minLength"])
        if isinstance(value, str) and limit is not None and len(value) < limit:
            self.add(path, f"must have at least {limit} character(s)")

    def max_length(self, schema: Schema, value: Any, path: str) -> None:
        limit = _length(schema["maxLength"])
        if isinstance(value, str) and limit is not None and len(value) > limit:
            self.add(path, f"must have at most {limit} character(s)")

    def pattern(self, schema: Schema, value: Any, path: str) -> None:
        # search() is None for a pattern it will not run: unchecked, not a problem.
        if isinstance(value, str) and search(str(schema["pattern"]), value) is False:
            self.add(path, f"must match the pattern {schema['pattern']}")

    def bound(self, schema: Schema, value: Any, path: str) -> None:
        if not _is_number(value):
            return
        for keyword, fails, text in _BOUNDS:
            limit = schema.get(keyword)
            if _is_number(limit) and fails(value, limit):
                self.add(path, f"must be {text} {limit}")

    def items(self, schema: Schema, value: Any, path: str) -> None:
        if not isinstance(value, (list, tuple)):
            return
        spec = schema["items"]
        choices = [spec] if isinstance(spec, Mapping) else [s for s in _schemas(spec) if s]
        if not choices:
            return
        for index, item in enumerate(value):
            self.one_of_choices(choices, item, _join(path, index))

    def prefix_items(self, schema: Schema, value: Any, path: str) -> None:
        if isinstance(value, (list, tuple)):
            subs = _schemas(schema["prefixItems"])
            for index, (sub, item) in enumerate(zip(subs, value, strict=False)):
                self.check(sub, item, _join(path, index))

    def item_count(self, schema: Schema, value: Any, path: str) -> None:
        if not isinstance(value, (list, tuple)):
            return
        low, high = _length(schema.get("minItems")), _length(schema.get("maxItems"))
        if low is not None and len(value) < low:
            self.add(path, f"must have at least {low} item(s)")
        if high is not None and len(value) > high:
            self.add(path, f"must have at most {high} item(s)")

    def unique(self, schema: Schema, value: Any, path: str) -> None:
        if schema["uniqueItems"] is True and isinstance(value, (list, tuple)):
            seen = [json.dumps(item, sort_keys=True, default=str) for item in value]
            if len(set(seen)) != len(seen):
                self.add(path, "must not repeat items")

    def required(self, schema: Schema, value: Any, path: str) -> None:
        required = schema["required"]
        if isinstance(value, Mapping) and isinstance(required, list):
            for key in (k for k in required if isinstance(k, str)):
                if key not in value:
                    self.add(_join(path, key), "is required")

    def properties(self, schema: Schema, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            return
        known = schema["properties"]
        if not isinstance(known, Mapping):
            return
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            sub = known.get(key)
            if sub is not None:
                self.check(sub, item, _join(path, key))
            elif extra is False:
                hint = closest(str(key), known)
                self.add(_join(path, key), "is not a known field" +
                         (f"; did you mean {', '.join(hint)}?" if hint else ""))
            elif isinstance(extra, Mapping):
                self.check(extra, item, _join(path, key))

    def additional(self, schema: Schema, value: Any, path: str) -> None:
        # Only when there is no "properties" (else handled there): a map of values.
        extra = schema["additionalProperties"]
        if "properties" in schema or not isinstance(value, Mapping):
            return
        for key, item in value.items():
            if extra is False:
                self.add(_join(path, key), "is not a known field")
            elif isinstance(extra, Mapping):
                self.check(extra, item, _join(path, key))

    def any_of(self, schema: Schema, value: Any, path: str) -> None:
        self.one_of_choices(_schemas(schema["anyOf"]), value, path)

    def one_of(self, schema: Schema, value: Any, path: str) -> None:
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, Mapping) and isinstance(value, Mapping):
            self.tagged(discriminator, _schemas(schema["oneOf"]), value, path)
        else:
            # Overlapping branches are common in published schemas: "at least one" is
            # the safe reading.
            self.one_of_choices(_schemas(schema["oneOf"]), value, path)

    def one_of_choices(self, choices: Sequence[Schema], value: Any, path: str) -> None:
        if not choices:
            return
        if len(choices) == 1:
            self.check(choices[0], value, path)
            return
        if any(self.valid(choice, value) for choice in choices):
            return
        typed = [c for c in choices
                 if not _declared_types(c) or any(_TYPES.get(t, _anything)(value)
                                                  for t in _declared_types(c))]
        if len(typed) == 1:
            self.check(typed[0], value, path)  # the only branch of the right type
            return
        kinds = sorted({t for c in choices for t in _declared_types(c)}) or ["another shape"]
        self.add(path, f"matches none of the allowed shapes ({', '.join(kinds)})")

    def tagged(self, discriminator: Mapping[str, Any], choices: Sequence[Schema],
               value: Mapping[str, Any], path: str) -> None:
        prop = str(discriminator.get("propertyName"))
        branches = {tag: choice for choice in choices for tag in _tags(choice, prop)}
        tag = value.get(prop)
        branch = branches.get(tag) if isinstance(tag, (str, int)) else None
        if branch is None:
            options = ", ".join(_show(t) for t in branches)
            wrong = "is required" if prop not in value else "must be"
            self.add(_join(path, prop), f"{wrong} one of {options}")
            return
        self.check(branch, value, path)


def _tags(choice: Schema, prop: str) -> list[Any]:
    # The values of the tag property that select this branch (its const or enum).
    properties = choice.get("properties")
    sub = properties.get(prop) if isinstance(properties, Mapping) else None
    if not isinstance(sub, Mapping):
        return []
    if "const" in sub:
        return [sub["const"]]
    enum = sub.get("enum")
    return [tag for tag in enum if isinstance(tag, (str, int))] if isinstance(enum, list) else []


def _same(left: object, right: object) -> bool:
    # JSON equality: true is not 1.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return left == right


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("minimum", lambda v, lim: v < lim, ">="),
    ("maximum", lambda v, lim: v > lim, "<="),
    ("exclusiveMinimum", lambda v, lim: v <= lim, ">"),
    ("exclusiveMaximum", lambda v, lim: v >= lim, "<"),
)

# keywords that trigger a rule -> the rule; each rule runs at most once per schema node.
_RULES: tuple[tuple[tuple[str, ...], Callable[[_Checker, Schema, Any, str], None]], ...] = (
    (("const",), _Checker.const),
    (("enum",), _Checker.enum),
    (("minLength",), _Checker.min_length),
    (("maxLength",), _Checker.max_length),
    (("pattern",), _Checker.pattern),
    (tuple(keyword for keyword, _, _ in _BOUNDS), _Checker.bound),
    (("items",), _Checker.items),
    (("prefixItems",), _Checker.prefix_items),
    (("minItems", "maxItems"), _Checker.item_count),
    (("uniqueItems",), _Checker.unique),
    (("required",), _Checker.required),
    (("properties",), _Checker.properties),
    (("additionalProperties",), _Checker.additional),
    (("anyOf",), _Checker.any_of),
    (("oneOf",), _Checker.one_of),
)


def check_value(schema: Schema, value: Any, path: str = "") -> Problems:
    """Check one value against one schema.

    Args:
        schema: A JSON Schema from ``accepts``.
        value: The value.
        path: Location prefix of the problems, e.g. the parameter's name.

    Returns:
        ``{location: [problem, ...]}``; empty when the value is acceptable.
    """
    checker = _Checker()
    checker.check(schema, value, path)
    return checker.problems


def validate_params(accepts: Sequence[Schema], params: Sequence[Any],
                    filled: Collection[int] = ()) -> Problems:
    """Check a call's positional parameters against the method's ``accepts`` list.

    Args:
        accepts: One schema per positional parameter.
        params: The parameters to send.
        filled: Positions the client filled with the schema's own default (not
            checked: some published defaults do not match their own schema).

    Returns:
        ``{location: [problem, ...]}`` for every problem; empty when all is well.
    """
    checker = _Checker()
    for index, schema in enumerate(accepts):
        name = str(schema.get("_name_") or schema.get("title") or f"arg{index}")
        if index in filled:
            continue
        if index < len(params):
            checker.check(schema, params[index], name)
        elif schema.get("_required_"):
            checker.add(name, "is required")
    if len(params) > len(accepts):
        checker.add("(call)", f"takes at most {len(accepts)} parameter(s), got {len(params)}")
    return checker.problems
