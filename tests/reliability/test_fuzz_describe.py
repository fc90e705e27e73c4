"""Fuzz MAAS describe documents: mutated real fixtures through the whole client build.

A document that cannot be used must fail with :class:`~maas_dyn.errors.DescriptionError`
(or another documented error); one that builds must also render every signature and
docstring, because those are computed lazily on first use (``help()`` in a notebook).
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from maas_dyn._shipped import load_shipped
from maas_dyn.maas import Client
from maas_dyn.maas.describe import Description
from tests.reliability.fuzzing import fuzz_settings, json_values, only_typed_errors, record


def _small_document() -> dict[str, Any]:
    # A few real resources keep every example fast; the machine handler has the richest docs.
    full = load_shipped("maas", "3.7")
    wanted = {"AccountHandler", "MachineHandler", "MachinesHandler", "TagHandler",
              "VersionHandler", "FileHandler"}
    resources = [r for r in full["resources"] if r["name"] in wanted]
    return {"doc": full["doc"], "hash": full["hash"], "resources": resources}


BASE = _small_document()

_odd_params = st.sampled_from([
    ":param x: Required.", ":param: no name", ":param  spaced  name : text", ":type x:",
    ":param x-y: dashes", ":param class: keyword", ":param def: Optional.", ":param 1x: digit",
    ":param x:\n:param x: twice", ":param éß: non-ASCII", ":param x: " + "long " * 2000,
    ":type x: Int", ":param x[]: list", ":param self: clash", ":param *args: star",
    "\x00\ud7ff\u202e", ":param x: Optional.\n:type x: unknown type",
])


def _nodes(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, dict | list):
        out.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            _nodes(child, out)
    return out


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        nodes = _nodes(document, [])
        node = draw(st.sampled_from(nodes))
        kind = draw(st.sampled_from(
            ["drop", "retype", "dup_action", "doc", "name", "huge", "add_key"]))
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node, key=str)))
            if kind == "drop":
                del node[key]
            elif kind == "retype":
                node[key] = draw(json_values)
            elif kind == "doc":
                node["doc"] = "Summary\n\n" + "\n".join(draw(st.lists(_odd_params, max_size=4)))
            elif kind == "name":
                node["name"] = draw(st.sampled_from(
                    ["", "class", "import", "refresh", "__init__", "url", "1abc", "ä-ö",
                     "a b", "-", "_", "__dict__", "x" * 300, "None", "handlers"]))
            elif kind == "huge":
                node["doc"] = "Big\n\n" + (":param p: Optional. text\n" * 3000)
            elif kind == "add_key":
                node[draw(st.text(max_size=8))] = draw(json_values)
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            if kind == "dup_action":
                node.append(copy.deepcopy(node[index]))
            elif kind == "drop":
                del node[index]
            else:
                node[index] = draw(json_values)
    return document


def _render(client: Client) -> None:
    repr(client)
    dir(client)
    for name, spec in client.description.handlers.items():
        handler = getattr(client, name)
        repr(handler)
        str(handler.__doc__)
        for action in spec.actions:
            method = getattr(handler, action)
            str(inspect.signature(method))
            str(method.__doc__)


def _build_and_render(document: Any) -> None:
    Description(document)
    client = Client.from_description(document, cache=False)
    _render(client)


@fuzz_settings
@given(mutated_documents())
def test_mutated_describe_documents_fail_typed(document: Any) -> None:
    record("maas describe (mutated fixtures)")
    only_typed_errors(lambda: _build_and_render(document))


@fuzz_settings
@given(json_values)
def test_arbitrary_json_is_never_an_untyped_crash(document: Any) -> None:
    record("maas describe (arbitrary JSON)")
    only_typed_errors(lambda: _build_and_render(document))


@fuzz_settings
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | mutated_documents().map(lambda d: json.dumps(d).encode()[:-7]))
def test_raw_description_bytes_fail_typed(raw: bytes) -> None:
    record("maas describe (raw bytes)")
    only_typed_errors(lambda: _render(Client.from_description(raw, cache=False)))


def test_real_fixture_still_builds() -> None:
    # The mutation base itself must be valid, or every example above tests nothing.
    _build_and_render(copy.deepcopy(BASE))
