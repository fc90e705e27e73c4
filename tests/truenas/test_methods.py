"""Every get_methods fixture through the engine: namespaces, names, signatures, docstrings."""

from __future__ import annotations

import inspect
import keyword
import pydoc
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn._dynamic import python_identifier
from maas_dyn.truenas import Client, Methods
from maas_dyn.truenas.client import _RESERVED
from maas_dyn.truenas.docs import annotation, param_specs, summary, type_text
from maas_dyn.truenas.methods import CallableService, Service, build_tree
from tests.truenas.conftest import RELEASES


@pytest.fixture(scope="module", params=RELEASES)
def offline(request: pytest.FixtureRequest) -> Client:
    from maas_dyn._shipped import load_shipped

    return Client.from_methods(load_shipped("truenas", request.param))


def _by_attribute(client: Client, name: str) -> Any:
    target: Any = client
    for depth, part in enumerate(name.split(".")):
        target = getattr(target, python_identifier(part, _RESERVED if depth == 0 else ()))
    return target


def test_every_method_by_attribute_and_by_name_with_a_docstring(offline: Client) -> None:
    assert offline.methods is not None and len(offline.methods) > 700
    for name in offline.methods:
        by_attribute = _by_attribute(offline, name)
        by_name = offline[name]
        assert by_attribute == by_name, name
        assert callable(by_name), name
        doc = inspect.getdoc(by_name)
        assert doc and doc.strip(), name
        spec = offline.methods.get(name)
        assert spec is not None
        params = list(inspect.signature(by_name).parameters)
        assert len(params) == len(spec.accepts), name
        assert all(p.isidentifier() and not keyword.iskeyword(p) for p in params), name
        if spec.accepts:
            assert "Args:" in doc, name
        assert "Returns:" in doc and "Raises:" in doc, name


def test_names_that_are_method_and_namespace(offline: Client) -> None:
    scrub = offline.pool.scrub
    assert isinstance(scrub, CallableService)
    assert callable(scrub) and callable(scrub.run)
    assert offline["pool.scrub"] is scrub and offline["pool.scrub.run"] == scrub.run
    assert list(inspect.signature(scrub).parameters)[:1] in (["id"], ["name"])
    assert "also a namespace" in (inspect.getdoc(scrub) or "")
    assert "run" in dir(scrub)
    reboot = offline.system.reboot
    assert isinstance(reboot, CallableService) and inspect.signature(reboot).parameters is not None
    # On the class itself no signature is claimed; inspect falls back as usual.
    assert type(scrub).__signature__ is None
    text = pydoc.render_doc(scrub)
    assert "run" in text


def test_keyword_namespaces_are_mapped(offline: Client) -> None:
    config = offline.iscsi.global_.config
    assert config == offline["iscsi.global.config"]
    assert "global_" in dir(offline.iscsi)


def test_dash_and_keyword_parameters_are_mapped() -> None:
    specs = param_specs([
        {"_name_": "query-filters", "type": "array", "default": []},
        {"_name_": "global", "type": "object", "_required_": True},
        {"_name_": "class", "type": "string", "default": "x"},
        {"title": "untitled"},
        {},
    ])
    assert [(p.name, p.wire_name) for p in specs] == [
        ("query_filters", "query-filters"), ("global_", "global"), ("class_", "class"),
        ("untitled", "untitled"), ("arg4", "arg4")]
    # An optional parameter before a required one cannot have a default in Python.
    assert [p.required for p in specs] == [True, True, False, False, False]


def test_dash_parameters_in_the_fixtures(documents: dict[str, Any]) -> None:
    client = Client.from_methods(documents["25.10"])
    params = inspect.signature(client.vmware.get_datastores).parameters
    assert list(params) == ["vmware_creds"]
    assert "Sent as ``vmware-creds``" in (inspect.getdoc(client.vmware.get_datastores) or "")
    old = Client.from_methods(documents["25.04"])
    assert "query_filters" in inspect.signature(old.certificate.query).parameters


def test_signature_defaults_and_annotations(offline: Client) -> None:
    params = inspect.signature(offline.pool.dataset.query).parameters
    first, second = list(params.values())
    assert first.default == [] and second.default is not inspect.Parameter.empty
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_job_methods_are_documented_as_jobs(offline: Client) -> None:
    doc = inspect.getdoc(offline.pool.create) or ""
    assert "Job:" in doc and "JobFailed" in doc and "Roles:" in doc
    assert "truenas-dyn PROFILE pool create" in doc


def test_upload_and_download_notes(offline: Client) -> None:
    assert "client.upload('filesystem.put'" in (inspect.getdoc(offline.filesystem.put) or "")
    assert "client.download('config.save'" in (inspect.getdoc(offline.config.save) or "")


def test_namespace_docs_and_repr(offline: Client) -> None:
    doc = inspect.getdoc(offline.pool) or ""
    assert "Methods:" in doc and "Namespaces:" in doc and "dataset" in doc
    assert repr(offline.pool).startswith("<namespace pool: ")
    assert isinstance(offline.pool, Service)


def test_unknown_names_suggest(offline: Client) -> None:
    with pytest.raises(errors.UnknownMethodError, match="did you mean") as caught:
        offline["pool.datset.query"]
    assert "pool.dataset.query" in caught.value.suggestions
    with pytest.raises(errors.UnknownMethodError):
        offline.pol  # noqa: B018
    with pytest.raises(AttributeError):
        offline.pool.qery  # noqa: B018
    assert not hasattr(offline, "nonexistent_namespace")
    with pytest.raises(errors.UnknownMethodError):
        offline.operation("no.such")
    assert offline.operation("pool.query").wire_name == "pool.query"


def test_top_level_clashes_and_dotless_methods() -> None:
    document = {
        "call.run": {"accepts": []},  # "call" is a client method: the namespace is call_
        "hello": {"description": "A method without a dot.", "accepts": []},
        "a.b.import": {"accepts": [{"_name_": "x", "type": "string", "_required_": True}]},
    }
    calls: list[tuple[str, tuple[Any, ...]]] = []
    tree = build_tree(Methods(document), lambda op, a, k: calls.append((op.wire_name, a)),
                      {"call"})
    assert set(tree.top) == {"call_", "a", "hello"}
    tree.top["hello"]()
    tree.top["call_"].run()
    tree.by_name["a.b.import"]("v")
    assert calls == [("hello", ()), ("call.run", ()), ("a.b.import", ("v",))]
    assert hasattr(tree.top["a"].b, "import_")
    assert "(root)" in (inspect.getdoc(type(tree.by_name["hello"].__self__)) or "")


@pytest.mark.parametrize("document", [[], {"x": 1}, {"": {}}, {1: {}}])
def test_bad_documents(document: Any) -> None:
    with pytest.raises(errors.DescriptionError):
        Methods(document)


def test_methods_mapping_protocol(offline: Client) -> None:
    methods = offline.methods
    assert methods is not None
    assert "pool.query" in methods and "no.such" not in methods
    assert list(methods) == sorted(methods.specs)
    assert methods.get("no.such") is None


# -- docs helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("schema", "text"), [
    ({"type": "string"}, "string"),
    ({"type": ["integer", "null"]}, "integer or null"),
    ({"anyOf": [{"type": "array", "items": [{"type": "string"}]}, {"type": "null"}]},
     "array of string or null"),
    ({"type": "array", "items": [{}]}, "array"),
    ({"enum": ["A", "B"]}, "one of 'A', 'B'"),
    ({"const": "X"}, "'X'"),
    ({}, "any"),
    ({"oneOf": [{"type": "object"}, {"type": "object"}]}, "object"),
])
def test_type_text(schema: dict[str, Any], text: str) -> None:
    assert type_text(schema) == text


def test_annotation() -> None:
    assert annotation({"type": "string"}) is str
    assert annotation({"type": ["integer", "null"]}) == int | None
    assert annotation({"type": "weird"}) is Any
    assert annotation({}) is Any


def test_summary() -> None:
    assert summary({"cli_description": "", "description": "First.\n\nMore."}) == "First."
    assert summary({}) == ""


def test_long_examples_are_cut() -> None:
    document = {"x.y": {"accepts": [], "examples": {"websocket": ["a" * 5000], "cli": "b"},
                        "returns": [{"type": "null"}]}}
    doc = inspect.getdoc(Client.from_methods(document).x.y) or ""
    assert doc.count("a") < 2100 and "..." in doc
    assert "Returns:\n    null" in doc
