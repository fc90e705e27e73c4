"""Fuzz ``core.get_methods`` documents: broken schemas through build, rendering and validation.

A document is server data: whatever it holds, building the client, rendering every
signature and docstring (lazily, as ``help()`` does) and validating parameters against its
schemas may only fail with a documented error.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from maas_dyn._shipped import load_shipped
from maas_dyn.truenas import Client
from maas_dyn.truenas.schema import check_value, validate_params
from tests.reliability.fuzzing import fuzz_settings, json_values, only_typed_errors, record


def _small_document() -> dict[str, Any]:
    full = load_shipped("truenas", "25.10")
    wanted = ["pool.dataset.query", "pool.create", "pool.query", "user.create",
              "core.get_jobs", "system.info", "sharing.smb.create", "filesystem.put"]
    return {name: full[name] for name in wanted if name in full}


BASE = _small_document()

_clashing_names = st.sampled_from([
    "class", "import", "def.lambda", "call", "close", "methods", "endpoint", "jobs",
    "upload", "download", "pool", "pool.query.extra", "__init__", "1pool.x", "a-b.c-d",
    "é.ß", "x..y", ".lead", "trail.", "self", "kwargs", "pool.dataset", "None.True",
    "_", "__dict__.__class__", "subscribe", "refresh_methods",
])

_schemas: st.SearchStrategy[Any] = st.recursive(
    st.fixed_dictionaries({}, optional={
        "type": st.sampled_from(["string", "integer", "number", "object", "array", "null",
                                 "boolean", "weird", "", "any"])
        | st.lists(st.sampled_from(["string", "null", "mystery"]), max_size=3) | json_values,
        "_name_": st.sampled_from(["class", "self", "kwargs", "a-b", "", "x", "x", "1a"])
        | json_values,
        "_required_": json_values,
        "$ref": st.sampled_from(["#/definitions/a", "#", "#/nowhere", "", "http://x/y"]),
        "definitions": st.just({"a": {"$ref": "#/definitions/a"}}),
        "enum": json_values, "const": json_values, "default": json_values,
        "required": json_values, "pattern": st.sampled_from(["(", "[a-z]+", "*", "\\"])
        | json_values, "minLength": json_values, "maxLength": json_values,
        "minimum": json_values, "maximum": json_values, "items": json_values,
        "prefixItems": json_values, "uniqueItems": json_values,
        "additionalProperties": json_values, "discriminator": json_values,
    }) | json_values,
    lambda inner: st.fixed_dictionaries({}, optional={
        "properties": st.dictionaries(st.text(max_size=5), inner, max_size=3),
        "anyOf": st.lists(inner, max_size=3), "oneOf": st.lists(inner, max_size=3),
        "items": inner | st.lists(inner, max_size=2),
        "type": st.sampled_from(["object", "array"]),
        "additionalProperties": inner,
    }),
    max_leaves=8,
)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    document: dict[Any, Any] = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["accepts", "entry_key", "rename", "returns", "drop",
                                     "add", "whole_entry"]))
        name = draw(st.sampled_from(sorted(document, key=str)))
        entry = document[name]
        if kind == "accepts" and isinstance(entry, dict):
            entry["accepts"] = draw(st.lists(_schemas, max_size=4) | json_values)
        elif kind == "returns" and isinstance(entry, dict):
            entry["returns"] = draw(st.lists(_schemas, max_size=2) | json_values)
        elif kind == "entry_key" and isinstance(entry, dict):
            entry[draw(st.sampled_from(["description", "cli_description", "job", "examples",
                                        "roles", "uploadable", "downloadable", "filterable",
                                        "item_method"]))] = draw(json_values)
        elif kind == "rename":
            document[draw(_clashing_names)] = document.pop(name)
        elif kind == "drop" and len(document) > 1:
            del document[name]
        elif kind == "add":
            document[draw(_clashing_names)] = {"accepts": draw(st.lists(_schemas, max_size=3))}
        elif kind == "whole_entry":
            document[name] = draw(json_values)
    return document


def _render_and_validate(document: Any, params: list[Any]) -> None:
    client = Client.from_methods(document, cache=False)
    repr(client)
    dir(client)
    for target in [*client._tree.top.values(), *client._tree.by_name.values()]:
        str(target.__doc__)
        if callable(target):
            str(inspect.signature(target))
    assert client.methods is not None
    for spec in client.methods.specs.values():
        # The client validates with spec.accepts; check_value also gets the raw entries.
        validate_params(spec.accepts, params)
        accepts = spec.entry.get("accepts")
        for schema in accepts if isinstance(accepts, list) else []:
            if isinstance(schema, dict):
                check_value(schema, params[0] if params else None)


@fuzz_settings
@given(documents(), st.lists(json_values, max_size=3))
def test_broken_get_methods_documents_fail_typed(document: Any, params: list[Any]) -> None:
    record("truenas core.get_methods (mutated fixtures)")
    only_typed_errors(lambda: _render_and_validate(document, params))


@fuzz_settings
@given(json_values)
def test_arbitrary_json_documents_fail_typed(document: Any) -> None:
    record("truenas core.get_methods (arbitrary JSON)")
    only_typed_errors(lambda: _render_and_validate(document, []))


def test_real_fixture_still_builds() -> None:
    _render_and_validate(copy.deepcopy(BASE), [])
