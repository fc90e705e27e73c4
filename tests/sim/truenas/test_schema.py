"""The JSON-Schema validator against the shapes found in the descriptions."""

from __future__ import annotations

import pytest

from maas_dyn.sim.truenas.schema import apply_defaults, conform, validate, validate_params

OBJ = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5, "_required_": True},
        "size": {"type": "integer", "minimum": 1, "maximum": 10},
        "kind": {"enum": ["A", "B", None]},
        "tags": {"type": "array", "items": [{"type": "string"}], "minItems": 1, "maxItems": 2},
        "nested": {"type": "object", "properties": {"flag": {"type": "boolean"}},
                   "required": ["flag"]},
    },
    "required": ["name"],
}


def _messages(problems: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    return [(attr, msg) for attr, msg, _ in problems]


@pytest.mark.parametrize(("value", "expected"), [
    ({"name": "ab"}, []),
    ({}, [("data.name", "Field required")]),
    ({"name": 1}, [("data.name", "Input should be a valid string")]),
    ({"name": ""}, [("data.name", "String should have at least 1 character")]),
    ({"name": "abcdef"}, [("data.name", "String should have at most 5 characters")]),
    ({"name": "a", "size": 0}, [("data.size", "Input should be greater than or equal to 1")]),
    ({"name": "a", "size": 11}, [("data.size", "Input should be less than or equal to 10")]),
    ({"name": "a", "size": True}, [("data.size", "Input should be a valid integer")]),
    ({"name": "a", "kind": "C"}, [("data.kind", "Input should be 'A', 'B' or None")]),
    ({"name": "a", "kind": None}, []),
    ({"name": "a", "tags": []},
     [("data.tags", "List should have at least 1 item after validation, not 0")]),
    ({"name": "a", "tags": ["x", "y", "z"]},
     [("data.tags", "List should have at most 2 items after validation, not 3")]),
    ({"name": "a", "tags": ["x", 2]}, [("data.tags.1", "Input should be a valid string")]),
    ({"name": "a", "nested": {}}, [("data.nested.flag", "Field required")]),
    ({"name": "a", "nested": {"flag": "yes"}},
     [("data.nested.flag", "Input should be a valid boolean")]),
    ({"name": "a", "zzz": 1}, [("data.zzz", "Extra inputs are not permitted")]),
    ("text", [("data", "Input should be a valid dictionary")]),
    ({"name": 5, "size": "big", "extra": 1},
     [("data.name", "Input should be a valid string"),
      ("data.size", "Input should be a valid integer"),
      ("data.extra", "Extra inputs are not permitted")]),
])
def test_object_rules(value: object, expected: list[tuple[str, str]]) -> None:
    assert _messages(validate(OBJ, value, "data")) == expected


@pytest.mark.parametrize(("schema", "value", "expected"), [
    ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, None, []),
    ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "x",
     [("x", "Input should be a valid integer")]),
    ({"anyOf": [{"type": "string", "minLength": 8}, {"type": "null"}]}, "short",
     [("x", "String should have at least 8 characters")]),
    ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 1.5,
     [("x", "Input should be a valid integer")]),
    ({"const": "X"}, "Y", [("x", "Input should be 'X'")]),
    ({"const": True}, 1, [("x", "Input should be True")]),
    ({"type": "number", "exclusiveMinimum": 0}, 0, [("x", "Input should be greater than 0")]),
    ({"type": "number", "exclusiveMaximum": 1}, 1, [("x", "Input should be less than 1")]),
    ({"type": "float"}, 1, []),
    ({"type": ["string", "null"]}, None, []),
    ({"type": "string", "pattern": "^0x"}, "12", [("x", "String should match pattern '^0x'")]),
    ({"type": "array", "uniqueItems": True}, [1, 1], [("x", "List items should be unique")]),
    ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}, [1, 2],
     [("x.1", "Input should be a valid string")]),
    ({"type": "string", "nullable": True}, None, []),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, {"a": "b"},
     [("x.a", "Input should be a valid integer")]),
    ({"$defs": {"N": {"type": "integer"}}, "$ref": "#/$defs/N"}, "s",
     [("x", "Input should be a valid integer")]),
    ({}, object(), []),
])
def test_keywords(schema: dict[str, object], value: object,
                  expected: list[tuple[str, str]]) -> None:
    assert _messages(validate(schema, value, "x")) == expected


UNION = {
    "discriminator": {"propertyName": "mechanism",
                      "mapping": {"A": "#/$defs/First", "B": "#/$defs/Second"}},
    "oneOf": [
        {"title": "First", "type": "object", "additionalProperties": False,
         "properties": {"mechanism": {"const": "A"}, "a": {"type": "string"}},
         "required": ["mechanism", "a"]},
        {"title": "Second", "type": "object", "additionalProperties": False,
         "properties": {"mechanism": {"const": "B"}, "b": {"type": "integer", "default": 3}},
         "required": ["mechanism"]},
    ],
}


@pytest.mark.parametrize(("value", "expected"), [
    ({"mechanism": "A", "a": "x"}, []),
    ({"mechanism": "A"}, [("data.A.a", "Field required")]),
    ({"mechanism": "B", "b": "x"}, [("data.B.b", "Input should be a valid integer")]),
    ({}, [("data.mechanism", "Field required")]),
    ({"mechanism": "C"}, [("data", "Input tag 'C' found using 'mechanism' does not match any "
                                   "of the expected tags: 'A', 'B'")]),
    (5, [("data", "Input should be a valid dictionary or object to extract fields from")]),
])
def test_discriminated_union(value: object, expected: list[tuple[str, str]]) -> None:
    assert _messages(validate(UNION, value, "data")) == expected


def test_boolean_tags_map_by_python_spelling() -> None:
    schema = {"discriminator": {"propertyName": "gen", "mapping": {"True": "#/$defs/T"}},
              "oneOf": [{"title": "T", "type": "object", "properties": {"gen": {"const": True}}}]}
    assert validate(schema, {"gen": True}) == []
    assert validate(schema, {"gen": 2}) != []


def test_params_positional_rules_and_defaults() -> None:
    accepts = [{"_name_": "id", "type": "integer", "_required_": True},
               {"_name_": "opts", "type": "object", "_required_": False,
                "properties": {"flag": {"type": "boolean", "default": False}}},
               {"_name_": "names", "type": "array", "_required_": False},
               {"_name_": "note", "type": "string", "default": "n", "_required_": False}]
    assert validate_params(accepts, [1]) == ([1, {"flag": False}, [], "n"], [])
    assert validate_params(accepts, [])[1] == [("id", "Field required", 22)]
    assert validate_params(accepts, [1, 2, 3, 4, 5])[1] == [
        ("", "Too many arguments (expected 4, found 5)", 22)]
    _, problems = validate_params(accepts, ["x", {"flag": 1}])
    assert _messages(problems) == [("id", "Input should be a valid integer"),
                                   ("opts.flag", "Input should be a valid boolean")]


def test_defaults_follow_the_matching_branch() -> None:
    assert apply_defaults(UNION, {"mechanism": "B"}) == {"mechanism": "B", "b": 3}
    assert apply_defaults(UNION, {"mechanism": "Z"}) == {"mechanism": "Z"}
    assert apply_defaults(UNION, 7) == 7
    anyof = {"anyOf": [{"type": "null"},
                       {"type": "object", "properties": {"k": {"default": 1}}}]}
    assert apply_defaults(anyof, {}) == {"k": 1}
    assert apply_defaults(anyof, "nothing matches") == "nothing matches"
    listed = {"type": "array", "items": [{"type": "object", "properties": {"k": {"default": 2}}}]}
    assert apply_defaults(listed, [{}]) == [{"k": 2}]
    assert apply_defaults({"type": "array"}, [{}]) == [{}]
    assert apply_defaults("not a schema", 1) == 1  # type: ignore[arg-type]


def test_conform_trims_to_the_release_shape() -> None:
    closed = {"type": "object", "additionalProperties": False,
              "properties": {"a": {"type": "integer"},
                             "inner": {"anyOf": [
                                 {"type": "object", "additionalProperties": False,
                                  "properties": {}},
                                 {"type": "object", "additionalProperties": False,
                                  "properties": {"k": {"type": "string"}}}]},
                             "rows": {"type": "array", "items": [
                                 {"type": "object", "additionalProperties": False,
                                  "properties": {"x": {"type": "integer"}}}]}}}
    value = {"a": 1, "gone": 2, "inner": {"k": "v", "extra": 1}, "rows": [{"x": 1, "y": 2}]}
    assert conform(closed, value) == {"a": 1, "inner": {"k": "v"}, "rows": [{"x": 1}]}
    assert conform({"anyOf": [{"type": "integer"}]}, "no fit") == "no fit"
    assert conform({"type": "object", "properties": {"a": {}}}, {"b": 1}) == {"b": 1}
    assert conform("not a schema", 5) == 5  # type: ignore[arg-type]
