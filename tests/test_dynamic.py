"""Tests of the shared engine (maas_dyn/_dynamic.py)."""

from __future__ import annotations

import inspect
import pickle
import pydoc
from typing import Any

import pytest

from maas_dyn._dynamic import (
    KEYWORD,
    POSITIONAL,
    LazyDocstring,
    Namespace,
    Operation,
    OperationDetails,
    Param,
    bind_arguments,
    build_namespace_class,
    closest,
    lazy_namespace,
    python_identifier,
    render_docstring,
)
from maas_dyn.errors import InvalidParametersError, UnknownActionError


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("deploy", (), "deploy"),
        ("query-filters", (), "query_filters"),
        ("global", (), "global_"),
        ("import", (), "import_"),
        ("match", (), "match"),
        ("type", (), "type"),
        ("2fa", (), "_2fa"),
        ("pool.dataset", (), "pool_dataset"),
        ("refresh", ("refresh",), "refresh_"),
        ("", (), "_"),
    ],
)
def test_python_identifier(name: str, taken: tuple[str, ...], expected: str) -> None:
    result = python_identifier(name, taken)
    assert result == expected
    assert result.isidentifier()


def test_closest_prefers_similar_then_prefix() -> None:
    assert closest("deplo", ["deploy", "delete", "read"])[0] == "deploy"
    assert closest("re", ["read", "release", "zzz"]) == ["read", "release"]
    assert closest("xyz", ["read"]) == []


def _details() -> OperationDetails:
    return OperationDetails(
        summary="Deploy a machine",
        body="Deploys an OS.",
        params=(
            Param("system_id", "system_id", POSITIONAL, "str", str, "The id.", required=True),
            Param("distro_series", "distro_series", KEYWORD, "String", str, "Series."),
            Param("bond_mode", "bond-mode", KEYWORD, "String", str, "", required=True),
        ),
        accepts_extra=True,
        returns="The machine.",
        raises=(("ConflictError", "locked"),),
        notes=(("HTTP", "POST /x/?op=deploy"),),
    )


def _operation(calls: list[str] | None = None) -> Operation:
    def describe() -> OperationDetails:
        if calls is not None:
            calls.append("described")
        return _details()

    return Operation("deploy", "deploy", describe, payload="payload")


def test_operation_details_are_computed_once_and_lazily() -> None:
    calls: list[str] = []
    op = _operation(calls)
    assert calls == []
    assert op.details.summary == "Deploy a machine"
    assert op.details is op.details
    assert calls == ["described"]
    assert repr(op) == "<Operation deploy>"


def test_render_docstring_google_style() -> None:
    text = render_docstring(_details())
    assert text.startswith("Deploy a machine\n\nDeploys an OS.\n\nHTTP:\n    POST /x/?op=deploy")
    assert "Args:\n    system_id (str): The id." in text
    assert "distro_series (String, optional): Series." in text
    assert "bond_mode (String): Required. Not documented by the server. Sent as ``bond-mode``." in text
    assert "**kwargs" in text
    assert "Returns:\n    The machine." in text
    assert "Raises:\n    ConflictError: locked" in text


def test_render_docstring_minimal() -> None:
    assert render_docstring(OperationDetails(summary="")) == "Undocumented operation.\n"


def test_lazy_docstring_renders_on_first_use_only() -> None:
    calls: list[int] = []

    def render() -> str:
        calls.append(1)
        return "Summary line\n\n\tBody"

    doc = LazyDocstring(render)
    assert calls == []
    assert isinstance(doc, str)
    assert str(doc) == "Summary line\n\n\tBody"
    assert doc.expandtabs(4).endswith("    Body")
    assert doc.splitlines()[0] == "Summary line"
    assert "Body" in doc
    assert len(doc) == len("Summary line\n\n\tBody")
    assert doc == "Summary line\n\n\tBody"
    assert doc == LazyDocstring(lambda: "Summary line\n\n\tBody")
    assert doc != LazyDocstring(lambda: "other")
    assert doc[0:7] == "Summary"
    assert doc + "!" == "Summary line\n\n\tBody!"
    assert f"{doc:.7}" == "Summary"
    assert hash(doc) == hash("Summary line\n\n\tBody")
    assert repr(doc) == repr("Summary line\n\n\tBody")
    assert pickle.loads(pickle.dumps(doc)) == str(doc)
    assert inspect.cleandoc(doc) == "Summary line\n\nBody"
    assert calls == [1]


def _namespace() -> tuple[Any, list[tuple[Any, ...]]]:
    seen: list[tuple[Any, ...]] = []

    def invoke(op: Operation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        seen.append((op.name, args, kwargs))
        return "result"

    cls = build_namespace_class("MachineHandler", [_operation()], lambda: "Machines.",
                                module="tests.generated")
    return cls(invoke, "machine"), seen


def test_generated_class_has_real_methods() -> None:
    ns, seen = _namespace()
    cls = type(ns)
    assert cls.__name__ == cls.__qualname__ == "MachineHandler"
    assert cls.__module__ == "tests.generated"
    assert issubclass(cls, Namespace)
    assert inspect.isfunction(cls.deploy)
    assert cls.deploy.__name__ == "deploy"
    assert cls.deploy.__qualname__ == "MachineHandler.deploy"
    assert inspect.getdoc(ns.deploy).startswith("Deploy a machine")
    assert str(cls.__doc__) == "Machines."
    assert ns.deploy("abc", distro_series="jammy") == "result"
    assert seen == [("deploy", ("abc",), {"distro_series": "jammy"})]
    assert "deploy" in dir(ns)
    assert repr(ns) == "<namespace machine: deploy>"


def test_signature_of_function_and_bound_method() -> None:
    ns, _ = _namespace()
    unbound = inspect.signature(type(ns).deploy)
    assert list(unbound.parameters) == ["self", "system_id", "distro_series", "bond_mode", "kwargs"]
    bound = inspect.signature(ns.deploy)
    assert str(bound) == (
        "(system_id: str, *, distro_series: str | None = None, "
        "bond_mode: str | None = None, **kwargs: Any) -> Any"
    )
    assert bound.parameters["system_id"].default is inspect.Parameter.empty
    assert unbound.return_annotation is Any
    assert unbound.replace(return_annotation=int).return_annotation is int


def test_help_shows_generated_docs() -> None:
    ns, _ = _namespace()
    text = pydoc.render_doc(ns.deploy, renderer=pydoc.plaintext)
    assert "deploy(system_id: str, *, distro_series" in text
    assert "Deploys an OS." in text


def test_unknown_attribute_suggests() -> None:
    ns, _ = _namespace()
    with pytest.raises(UnknownActionError, match="did you mean deploy") as info:
        _ = ns.deplo
    assert info.value.suggestions == ("deploy",)
    assert not hasattr(ns, "nothing_like_it")
    with pytest.raises(AttributeError):
        _ = ns.__wrapped__


def test_bind_arguments_maps_names() -> None:
    bound = bind_arguments(_operation(), ("abc",), {"bond_mode": "x", "distro_series": None,
                                                    "extra": 1, "other": None})
    assert bound.positional == {"system_id": "abc"}
    assert bound.keywords == {"bond-mode": "x"}
    assert bound.extra == {"extra": 1}


def test_bind_arguments_positional_by_keyword_and_reserved() -> None:
    bound = bind_arguments(_operation(), (), {"system_id": "abc", "files": {"a": 1}},
                           reserved=("files",))
    assert bound.positional == {"system_id": "abc"}
    assert bound.extra == {"files": {"a": 1}}


def test_bind_arguments_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidParametersError) as info:
        bind_arguments(_operation(), ("a", "b"), {"system_id": "c"})
    assert set(info.value.errors) == {"*args", "system_id"}
    with pytest.raises(InvalidParametersError) as info:
        bind_arguments(_operation(), (), {})
    assert info.value.errors == {"system_id": ["missing required argument"]}


def test_bind_arguments_rejects_unknown_keyword_without_extras() -> None:
    strict = Operation("q", "pool.query", lambda: OperationDetails(
        summary="q", params=(Param("filters", "query-filters", KEYWORD),)))
    with pytest.raises(InvalidParametersError, match="did you mean filters"):
        bind_arguments(strict, (), {"filter": []})


def test_lazy_namespace_builds_its_class_on_first_use() -> None:
    built: list[str] = []

    def build() -> type[Namespace]:
        built.append("class")
        return build_namespace_class("MachineHandler", [_operation()], lambda: "Machines.",
                                     module="tests.generated")

    calls: list[Any] = []
    ns = lazy_namespace(build, lambda op, a, kw: calls.append((op.name, a)), "machine")
    assert built == []
    assert isinstance(ns, Namespace)
    assert "deploy" in dir(ns)
    assert built == ["class"]
    assert type(ns).__name__ == "MachineHandler"
    ns.deploy("abc")
    assert calls == [("deploy", ("abc",))]
    assert built == ["class"]


@pytest.mark.parametrize("touch", [repr, dir, lambda ns: ns.deploy, lambda ns: ns.__doc__,
                                   lambda ns: ns.__class__])
def test_any_touch_materialises(touch: Any) -> None:
    ns = lazy_namespace(lambda: build_namespace_class("H", [_operation()], lambda: "d",
                                                      module="m"),
                        lambda *a: None, "h")
    touch(ns)
    assert type(ns).__name__ == "H"


def test_concurrent_first_use_builds_once() -> None:
    import threading

    built: list[int] = []

    def build() -> type[Namespace]:
        built.append(1)
        return build_namespace_class("H", [_operation()], lambda: "d", module="m")

    ns = lazy_namespace(build, lambda *a: None, "h")
    threads = [threading.Thread(target=lambda: dir(ns)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert built == [1]
